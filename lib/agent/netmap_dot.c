// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The network map rendered as Graphviz DOT. Every string from a
 * container or the store goes through sb_dot. See netmap.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmap_int.h"
#include "strbuf.h"

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* Text inside a DOT double-quoted string: " and \ escaped; control bytes
 * (newline included) and invalid UTF-8 become '?', so the text can neither
 * leave the string nor draw an extra line. */
static void sb_dot(struct bh_sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_len(p);

		if (*p == '"' || *p == '\\') {
			bh_sb_putn(b, "\\", 1);
			bh_sb_putn(b, (const char *)p, 1);
			n = 1;
		} else if (n == 0 || *p < 0x20 || *p == 0x7f) {
			bh_sb_putn(b, "?", 1);
			n = 1;
		} else {
			bh_sb_putn(b, (const char *)p, n);
		}
		p += n;
	}
}

static void sb_bytes(struct bh_sbuf *b, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		bh_sb_printf(b, "%llu B", (unsigned long long)v);
	else
		bh_sb_printf(b, "%.1f %s", d, unit[u]);
}

static const char *proto_name(int proto)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default: return NULL;
	}
}

static void sb_port(struct bh_sbuf *b, const struct edge *e)
{
	const char *pn = proto_name(e->proto);

	if (e->proto == 1 || e->proto == 58) {
		bool echo = (e->proto == 1 && e->port == 8) || (e->proto == 58 && e->port == 128);

		if (echo)
			bh_sb_printf(b, "%s/echo", pn);
		else
			bh_sb_printf(b, "%s/type-%u", pn, e->port);
	} else if (pn && (e->proto == 6 || e->proto == 17 || e->proto == 132)) {
		bh_sb_printf(b, "%s/%u", pn, e->port);
	} else if (pn) {
		bh_sb_printf(b, "%s", pn);
	} else {
		bh_sb_printf(b, "proto-%u", e->proto);
	}
}

static void render_workload(struct bh_sbuf *b, const struct node *n)
{
	bh_sb_printf(b, "    n%d [label=\"", n->idx);
	sb_dot(b, n->name);
	if (n->quarantined)
		bh_sb_printf(b, "\\nQUARANTINED\", color=\"#c62828\", fontcolor=\"#c62828\","
			     " fillcolor=\"#fdecea\", peripheries=2, penwidth=2, tooltip=\"");
	else if (n->gone)
		bh_sb_printf(b, "\\n(detached)\", style=\"rounded,dashed\", fontcolor=\"#777777\","
			     " tooltip=\"");
	else if (!n->in_filter)
		bh_sb_printf(b, "\\n%s\", color=\"#9e9e9e\", fillcolor=\"#f2f2f2\","
			     " fontcolor=\"#616161\", tooltip=\"", bh_mode_name(n->mode));
	else
		bh_sb_printf(b, "\\n%s\", tooltip=\"", bh_mode_name(n->mode));
	sb_dot(b, n->ns);
	bh_sb_putn(b, "/", 1);
	sb_dot(b, n->name);
	if (n->quarantined && n->reason[0]) {
		bh_sb_printf(b, " quarantined: ");
		sb_dot(b, n->reason);
	}
	bh_sb_printf(b, "\"];\n");
}

static int node_ns_cmp(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static void render_nodes(struct bh_netmap *nm, struct bh_sbuf *b)
{
	struct node **w = calloc(nm->nr_nodes ? nm->nr_nodes : 1, sizeof(*w));
	int i, n = 0, cluster = 0, outside = 0;

	if (!w) {
		b->err = -ENOMEM;
		return;
	}
	for (i = 0; i < nm->nr_nodes; i++)
		if (nm->nodes[i]->kind == N_WORKLOAD && nm->nodes[i]->drawn)
			w[n++] = nm->nodes[i];
	qsort(w, n, sizeof(*w), node_ns_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(w[i]->ns, w[i - 1]->ns)) {
			if (i)
				bh_sb_printf(b, "  }\n");
			bh_sb_printf(b, "  subgraph cluster_ns%d {\n    label=\"namespace ", cluster++);
			sb_dot(b, w[i]->ns);
			bh_sb_printf(b, "\";\n    style=\"rounded,filled\"; fillcolor=\"#f7f9fc\";"
				     " color=\"#8aa1c1\";\n");
		}
		render_workload(b, w[i]);
	}
	if (n)
		bh_sb_printf(b, "  }\n");
	free(w);

	for (i = 0; i < nm->nr_nodes; i++) {
		const struct node *p = nm->nodes[i];

		if (p->kind == N_WORKLOAD || !p->drawn)
			continue;
		if (!outside++)
			bh_sb_printf(b, "  subgraph cluster_outside {\n    label=\"outside\";"
				     " style=\"rounded,dashed\"; color=\"#9e9e9e\";\n");
		if (p->kind == N_FOLD) {
			bh_sb_printf(b, "    n%d [label=\"%d other peers\", shape=note,"
				     " fillcolor=\"#eeeeee\"];\n", p->idx, p->folded);
			continue;
		}
		bh_sb_printf(b, "    n%d [label=\"", p->idx);
		sb_dot(b, p->name);
		bh_sb_printf(b, "\", shape=ellipse, fillcolor=\"#fff8e1\"];\n");
	}
	if (outside)
		bh_sb_printf(b, "  }\n");
}

static void render_edge(struct bh_sbuf *b, const struct edge *e)
{
	static const char *const style[] = {
		[VC_ALLOW] = "color=\"#2e7d32\", fontcolor=\"#2e7d32\", style=solid",
		[VC_WOULD_DENY] = "color=\"#ef6c00\", fontcolor=\"#ef6c00\", style=dashed",
		[VC_DENY] = "color=\"#c62828\", fontcolor=\"#c62828\", style=bold, penwidth=2",
	};
	static const char *const vname[] = {
		[VC_ALLOW] = "allowed", [VC_WOULD_DENY] = "would-deny", [VC_DENY] = "denied",
	};
	int s = e->flows[1] >= e->flows[0] ? 1 : 0;
	uint64_t flows = nm_edge_flows(e);

	bh_sb_printf(b, "  n%d -> n%d [label=\"", e->src, e->dst);
	if (e->more_ports && e->mixed_proto)
		bh_sb_printf(b, "%d more ports", e->more_ports);
	else if (e->more_ports)
		bh_sb_printf(b, "%s: %d more ports", proto_name(e->proto) ? proto_name(e->proto)
								    : "other", e->more_ports);
	else
		sb_port(b, e);
	bh_sb_printf(b, " (%llu flow%s)\", %s, tooltip=\"%s: %llu packets, ",
		  (unsigned long long)flows, flows == 1 ? "" : "s", style[e->vclass],
		  vname[e->vclass], (unsigned long long)e->packets[s]);
	sb_bytes(b, e->bytes[s]);
	bh_sb_printf(b, "\"];\n");
}

int bh_netmap_dot(const struct bh_netmap *cnm, char **buf, size_t *len)
{
	struct bh_netmap *nm = (struct bh_netmap *)cnm;
	struct bh_sbuf b = { 0 };
	size_t i;
	int err;

	/* Building is idempotent: the const API renders what was loaded. */
	err = nm_build(nm);
	if (err)
		return err;
	bh_sb_printf(&b, "digraph bulkhead {\n"
		      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.35,"
		      " ranksep=1.1, labelloc=t, label=<<b>bulkhead network map</b>");
	bh_sb_printf(&b, "<br/><font point-size=\"10\"><font color=\"#2e7d32\">&#9472;"
		      " allowed</font>   <font color=\"#ef6c00\">- - would-deny</font>   "
		      "<font color=\"#c62828\"><b>&#9473; denied</b></font></font>>];\n"
		      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e3f2fd\","
		      " color=\"#1e88e5\", fontname=\"Helvetica\", fontsize=11];\n"
		      "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n");
	render_nodes(nm, &b);
	for (i = 0; i < nm->nr_edges; i++)
		render_edge(&b, &nm->edges[i]);
	bh_sb_printf(&b, "}\n");
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}
