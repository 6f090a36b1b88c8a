// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The network map: workloads and aggregated flows rendered as Graphviz
 * DOT; SVG (or any format) through the `dot` program. See netmap.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead.h"
#include "netmap.h"

#define DEFAULT_MAX_PEERS	24
#define DEFAULT_MAX_PORTS	6

enum node_kind { N_WORKLOAD, N_PEER, N_FOLD };
/* Verdict classes, in the order edges are drawn. */
enum vclass { VC_ALLOW, VC_WOULD_DENY, VC_DENY };

struct node {
	enum node_kind kind;
	int idx;
	char ns[BH_NAME_MAX + 1];	/* workload */
	char name[BH_NAME_MAX + 1];	/* workload; peer address */
	char reason[256];
	__u32 slot;
	enum bh_mode mode;
	bool quarantined;
	bool gone;			/* flows of a workload no longer registered */
	bool in_filter;
	bool drawn;
	uint64_t flows;			/* peers: for choosing the busiest */
	int folded;			/* N_FOLD: peers folded into it */
	int fold_to;			/* N_PEER not drawn: index of the fold node */
};

/* Index entry: string key -> node (tsearch trees). */
struct key {
	char *s;
	struct node *n;
};

struct row {
	int src, dst;
	__u8 proto;
	__u8 vclass;
	__u8 egress;		/* 1: counted on the initiator's side */
	__u16 port;		/* ICMP: type only */
	uint64_t flows, packets, bytes;
};

struct edge {
	int src, dst;
	__u8 proto, vclass;
	__u16 port;
	int more_ports;		/* > 0: a fold of this many port edges */
	bool mixed_proto;
	uint64_t flows[2], packets[2], bytes[2];	/* [0] ingress side, [1] egress side */
};

struct bh_netmap {
	struct bh_netmap_opts o;
	char *ns_filter;
	struct node **nodes;
	int nr_nodes, cap_nodes;
	void *by_name;		/* "ns/name" -> workload */
	void *by_ip;		/* address text -> workload */
	void *by_peer;		/* address text -> outside peer */
	struct node *by_slot[BH_MAX_WORKLOADS];
	struct row *rows;
	size_t nr_rows, cap_rows;
	struct edge *edges;
	size_t nr_edges;
	uint64_t flows;
	bool built;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->s, ((const struct key *)b)->s);
}

static void key_free(void *p)
{
	struct key *k = p;

	free(k->s);
	free(k);
}

static struct node *index_find(void *root, const char *s)
{
	struct key k = { .s = (char *)s };
	struct key **found = tfind(&k, &root, key_cmp);

	return found ? (*found)->n : NULL;
}

/* Insert s -> n unless s is there already (first one wins). */
static int index_add(void **root, const char *s, struct node *n)
{
	struct key *k = calloc(1, sizeof(*k)), **slot;

	if (!k || !(k->s = strdup(s))) {
		free(k);
		return -ENOMEM;
	}
	k->n = n;
	slot = tsearch(k, root, key_cmp);
	if (!slot) {
		key_free(k);
		return -ENOMEM;
	}
	if (*slot != k)
		key_free(k);
	return 0;
}

int bh_netmap_new(const struct bh_netmap_opts *opts, struct bh_netmap **out)
{
	struct bh_netmap *nm = calloc(1, sizeof(*nm));

	if (!nm)
		return -ENOMEM;
	if (opts)
		nm->o = *opts;
	if (nm->o.max_peers <= 0)
		nm->o.max_peers = DEFAULT_MAX_PEERS;
	if (nm->o.max_ports_per_pair <= 0)
		nm->o.max_ports_per_pair = DEFAULT_MAX_PORTS;
	if (nm->o.ns && !(nm->ns_filter = strdup(nm->o.ns))) {
		free(nm);
		return -ENOMEM;
	}
	nm->o.ns = nm->ns_filter;
	*out = nm;
	return 0;
}

void bh_netmap_free(struct bh_netmap *nm)
{
	int i;

	if (!nm)
		return;
	tdestroy(nm->by_name, key_free);
	tdestroy(nm->by_ip, key_free);
	tdestroy(nm->by_peer, key_free);
	for (i = 0; i < nm->nr_nodes; i++)
		free(nm->nodes[i]);
	free(nm->nodes);
	free(nm->rows);
	free(nm->edges);
	free(nm->ns_filter);
	free(nm);
}

static struct node *node_new(struct bh_netmap *nm, enum node_kind kind)
{
	struct node *n;

	if (nm->nr_nodes == nm->cap_nodes) {
		int cap = nm->cap_nodes ? nm->cap_nodes * 2 : 64;
		struct node **p = realloc(nm->nodes, cap * sizeof(*p));

		if (!p)
			return NULL;
		nm->nodes = p;
		nm->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->idx = nm->nr_nodes;
	n->fold_to = -1;
	nm->nodes[nm->nr_nodes++] = n;
	return n;
}

static struct node *workload_node(struct bh_netmap *nm, const char *ns, const char *name,
				  int *err)
{
	char key[2 * BH_NAME_MAX + 2];
	struct node *n;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	n = index_find(nm->by_name, key);
	if (n)
		return n;
	n = node_new(nm, N_WORKLOAD);
	if (!n || index_add(&nm->by_name, key, n)) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(n->ns, sizeof(n->ns), "%s", ns);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->slot = BH_MAX_WORKLOADS;
	n->gone = true;		/* until bh_netmap_add_workload says otherwise */
	n->in_filter = !nm->o.ns || !strcmp(ns, nm->o.ns);
	return n;
}

int bh_netmap_add_workload(struct bh_netmap *nm, const struct bh_workload_info *w)
{
	struct node *n;
	int i, err = 0;

	if (nm->built)
		return -EBUSY;
	n = workload_node(nm, w->ns, w->name, &err);
	if (!n)
		return err;
	n->gone = false;
	n->slot = w->slot;
	n->mode = w->mode;
	n->quarantined = w->quarantined;
	snprintf(n->reason, sizeof(n->reason), "%s", w->quarantine_reason);
	if (w->slot < BH_MAX_WORKLOADS)
		nm->by_slot[w->slot] = n;
	for (i = 0; i < w->nr_ips && i < BH_MAX_WORKLOAD_IPS; i++) {
		char ip[INET6_ADDRSTRLEN];

		if (!w->ips[i].family)
			continue;
		if (!bh_ip_format(&w->ips[i], ip, sizeof(ip)))
			continue;
		err = index_add(&nm->by_ip, ip, n);
		if (err)
			return err;
	}
	return 0;
}

/* ----------------------------------------------------------- flows */
static bool col_is_text(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_TEXT;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

static int row_vclass(sqlite3_stmt *st, int i)
{
	int v;

	if (col_is_text(st, i)) {
		const char *s = col_text(st, i);

		if (!strcasecmp(s, "allow"))
			return VC_ALLOW;
		if (!strcasecmp(s, "would-deny") || !strcasecmp(s, "would_deny"))
			return VC_WOULD_DENY;
		return VC_DENY;
	}
	v = sqlite3_column_int(st, i);
	return v == BH_V_ALLOW ? VC_ALLOW : v == BH_V_WOULD_DENY ? VC_WOULD_DENY : VC_DENY;
}

static bool row_egress(sqlite3_stmt *st, int i)
{
	if (col_is_text(st, i))
		return !strcasecmp(col_text(st, i), "egress");
	return sqlite3_column_int(st, i) == BH_DIR_EGRESS;
}

static int row_proto(sqlite3_stmt *st, int i)
{
	if (col_is_text(st, i)) {
		const char *s = col_text(st, i);

		if (!strcasecmp(s, "tcp"))
			return 6;
		if (!strcasecmp(s, "udp"))
			return 17;
		if (!strcasecmp(s, "icmp"))
			return 1;
		if (!strcasecmp(s, "icmpv6") || !strcasecmp(s, "icmp6"))
			return 58;
		if (!strcasecmp(s, "sctp"))
			return 132;
		return atoi(s) & 0xff;
	}
	return sqlite3_column_int(st, i) & 0xff;
}

/* The peer as a node: a registered workload (by identity, "ns/name" or
 * address) or an outside peer keyed by its text. */
static struct node *peer_node(struct bh_netmap *nm, const char *peer, int64_t identity,
			      int *err)
{
	struct node *n = NULL;

	if (identity >= BH_ID_WORKLOAD_BASE && identity < BH_ID_CIDR_BASE &&
	    identity - BH_ID_WORKLOAD_BASE < BH_MAX_WORKLOADS)
		n = nm->by_slot[identity - BH_ID_WORKLOAD_BASE];
	if (!n)
		n = index_find(nm->by_name, peer);
	if (!n)
		n = index_find(nm->by_ip, peer);
	if (!n)
		n = index_find(nm->by_peer, peer);
	if (n)
		return n;
	n = node_new(nm, N_PEER);
	if (!n || index_add(&nm->by_peer, peer, n)) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(n->name, sizeof(n->name), "%s", *peer ? peer : "unknown");
	return n;
}

static int row_add(struct bh_netmap *nm, const struct row *r)
{
	if (nm->nr_rows == nm->cap_rows) {
		size_t cap = nm->cap_rows ? nm->cap_rows * 2 : 256;
		struct row *p = realloc(nm->rows, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		nm->rows = p;
		nm->cap_rows = cap;
	}
	nm->rows[nm->nr_rows++] = *r;
	return 0;
}

static int table_has(sqlite3 *db, const char *table, const char *column, bool *has)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	*has = false;
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!column || !strcmp(col_text(st, 1), column)) {
			*has = true;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int bh_netmap_load_flows(struct bh_netmap *nm, struct sqlite3 *db)
{
	char sql[768];
	sqlite3_stmt *st;
	bool has_table, has_ident;
	int rc, err;

	if (nm->built)
		return -EBUSY;
	err = table_has(db, "flows", NULL, &has_table);
	if (err || !has_table)
		return err;
	err = table_has(db, "flows", "peer_identity", &has_ident);
	if (err)
		return err;
	/* Aggregate in SQL: one row per distinct (workload, direction,
	 * protocol, port, peer, verdict), however many flows it covers. */
	snprintf(sql, sizeof(sql),
		 "SELECT ns, name, dir, proto, dport, peer, %s, verdict, COUNT(*),"
		 " SUM(packets), SUM(bytes) FROM flows"
		 " WHERE (?1 IS NULL OR ns = ?1) AND COALESCE(last_ms, 0) >= ?2"
		 " GROUP BY ns, name, dir, proto, dport, peer, %s, verdict",
		 has_ident ? "peer_identity" : "0", has_ident ? "peer_identity" : "0");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (nm->o.ns)
		sqlite3_bind_text(st, 1, nm->o.ns, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, nm->o.since_ms);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct node *self, *peer;
		struct row r = { 0 };

		self = workload_node(nm, col_text(st, 0), col_text(st, 1), &err);
		if (!self)
			break;
		peer = peer_node(nm, col_text(st, 5), sqlite3_column_int64(st, 6), &err);
		if (!peer)
			break;
		r.egress = row_egress(st, 2);
		r.src = r.egress ? self->idx : peer->idx;
		r.dst = r.egress ? peer->idx : self->idx;
		r.proto = row_proto(st, 3);
		r.port = sqlite3_column_int(st, 4) & 0xffff;
		if (r.proto == 1 || r.proto == 58)
			r.port >>= 8;	/* type << 8 | code: one edge per type */
		r.vclass = row_vclass(st, 7);
		r.flows = sqlite3_column_int64(st, 8);
		r.packets = sqlite3_column_int64(st, 9);
		r.bytes = sqlite3_column_int64(st, 10);
		if (peer->kind == N_PEER)
			peer->flows += r.flows;
		nm->flows += r.flows;
		err = row_add(nm, &r);
		if (err)
			break;
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int add_workload_cb(const struct bh_workload_info *w, void *arg)
{
	return bh_netmap_add_workload(arg, w) ? 1 : 0;
}

int bh_netmap_load(struct bh_ctx *ctx, struct bh_netmap *nm)
{
	int err = bh_workload_foreach(ctx, add_workload_cb, nm);

	if (err > 0)
		return -ENOMEM;
	if (err < 0)
		return err;
	return bh_netmap_load_flows(nm, bh_ctx_db(ctx));
}

/* ------------------------------------------------------------ build */
static int peer_by_flows(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep the max_peers busiest outside peers; fold the rest into one node. */
static int fold_peers(struct bh_netmap *nm)
{
	struct node **peers, *fold = NULL;
	int i, n = 0, nr = nm->nr_nodes;

	peers = calloc(nr ? nr : 1, sizeof(*peers));
	if (!peers)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		if (nm->nodes[i]->kind == N_PEER)
			peers[n++] = nm->nodes[i];
	if (n)
		qsort(peers, n, sizeof(*peers), peer_by_flows);
	for (i = 0; i < n; i++) {
		if (i < nm->o.max_peers) {
			peers[i]->drawn = true;
			continue;
		}
		if (!fold) {
			fold = node_new(nm, N_FOLD);
			if (!fold) {
				free(peers);
				return -ENOMEM;
			}
			fold->drawn = true;
		}
		fold->folded++;
		fold->flows += peers[i]->flows;
		peers[i]->fold_to = fold->idx;
	}
	free(peers);
	for (size_t r = 0; r < nm->nr_rows; r++) {
		struct row *row = &nm->rows[r];

		if (nm->nodes[row->src]->fold_to >= 0)
			row->src = nm->nodes[row->src]->fold_to;
		if (nm->nodes[row->dst]->fold_to >= 0)
			row->dst = nm->nodes[row->dst]->fold_to;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	if (x->vclass != y->vclass)
		return x->vclass < y->vclass ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

static uint64_t edge_flows(const struct edge *e)
{
	return e->flows[0] > e->flows[1] ? e->flows[0] : e->flows[1];
}

static int edge_by_flows(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	uint64_t fx = edge_flows(x), fy = edge_flows(y);

	if (fx != fy)
		return fx > fy ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* Within one (src, dst, verdict class) group of edges [lo, hi): keep the
 * busiest max_ports, fold the rest into the last kept slot. Returns the
 * new number of edges in the group. */
static size_t fold_ports(struct bh_netmap *nm, struct edge *g, size_t n)
{
	size_t keep = nm->o.max_ports_per_pair, i;
	struct edge f;

	if (n <= keep + 1)
		return n;
	qsort(g, n, sizeof(*g), edge_by_flows);
	f = g[keep];
	f.more_ports = n - keep;
	for (i = keep + 1; i < n; i++) {
		int s;

		if (g[i].proto != f.proto)
			f.mixed_proto = true;
		for (s = 0; s < 2; s++) {
			f.flows[s] += g[i].flows[s];
			f.packets[s] += g[i].packets[s];
			f.bytes[s] += g[i].bytes[s];
		}
	}
	g[keep] = f;
	return keep + 1;
}

static int build(struct bh_netmap *nm)
{
	size_t i, j, out = 0;
	int err, s;

	if (nm->built)
		return 0;
	err = fold_peers(nm);
	if (err)
		return err;
	if (nm->nr_rows)
		qsort(nm->rows, nm->nr_rows, sizeof(*nm->rows), row_cmp);
	nm->edges = calloc(nm->nr_rows ? nm->nr_rows : 1, sizeof(*nm->edges));
	if (!nm->edges)
		return -ENOMEM;
	/* Merge equal keys; the two sides of a connection stay apart. */
	for (i = 0; i < nm->nr_rows; i = j) {
		struct edge *e = &nm->edges[out++];
		const struct row *r = &nm->rows[i];

		e->src = r->src;
		e->dst = r->dst;
		e->proto = r->proto;
		e->port = r->port;
		e->vclass = r->vclass;
		for (j = i; j < nm->nr_rows && !row_cmp(&nm->rows[j], r); j++) {
			s = nm->rows[j].egress;
			e->flows[s] += nm->rows[j].flows;
			e->packets[s] += nm->rows[j].packets;
			e->bytes[s] += nm->rows[j].bytes;
		}
	}
	/* Fold ports per (src, dst, class): edges are sorted by that prefix. */
	nm->nr_edges = 0;
	for (i = 0; i < out; i = j) {
		size_t n;

		for (j = i; j < out && nm->edges[j].src == nm->edges[i].src &&
			    nm->edges[j].dst == nm->edges[i].dst &&
			    nm->edges[j].vclass == nm->edges[i].vclass; j++)
			;
		n = fold_ports(nm, &nm->edges[i], j - i);
		memmove(&nm->edges[nm->nr_edges], &nm->edges[i], n * sizeof(*nm->edges));
		nm->nr_edges += n;
	}
	for (i = 0; i < nm->nr_edges; i++) {
		nm->nodes[nm->edges[i].src]->drawn = true;
		nm->nodes[nm->edges[i].dst]->drawn = true;
	}
	for (s = 0; s < nm->nr_nodes; s++)
		if (nm->nodes[s]->kind == N_WORKLOAD && nm->nodes[s]->in_filter)
			nm->nodes[s]->drawn = true;
	nm->built = true;
	return 0;
}

void bh_netmap_get_stats(const struct bh_netmap *nm, struct bh_netmap_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	build((struct bh_netmap *)nm);
	for (i = 0; i < nm->nr_nodes; i++) {
		if (!nm->nodes[i]->drawn)
			continue;
		if (nm->nodes[i]->kind == N_WORKLOAD)
			st->workloads++;
		else
			st->peers++;
	}
	st->edges = nm->nr_edges;
	st->flows = nm->flows;
}

/* ------------------------------------------------------------ render */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		sb_putn(b, tmp, n);
		return;
	}
	big = malloc(n + 1);
	if (!big) {
		b->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	sb_putn(b, big, n);
	free(big);
}

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
static void sb_dot(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_len(p);

		if (*p == '"' || *p == '\\') {
			sb_putn(b, "\\", 1);
			sb_putn(b, (const char *)p, 1);
			n = 1;
		} else if (n == 0 || *p < 0x20 || *p == 0x7f) {
			sb_putn(b, "?", 1);
			n = 1;
		} else {
			sb_putn(b, (const char *)p, n);
		}
		p += n;
	}
}

static void sb_bytes(struct sbuf *b, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		sb_printf(b, "%llu B", (unsigned long long)v);
	else
		sb_printf(b, "%.1f %s", d, unit[u]);
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

static void sb_port(struct sbuf *b, const struct edge *e)
{
	const char *pn = proto_name(e->proto);

	if (e->proto == 1 || e->proto == 58) {
		bool echo = (e->proto == 1 && e->port == 8) || (e->proto == 58 && e->port == 128);

		if (echo)
			sb_printf(b, "%s/echo", pn);
		else
			sb_printf(b, "%s/type-%u", pn, e->port);
	} else if (pn && (e->proto == 6 || e->proto == 17 || e->proto == 132)) {
		sb_printf(b, "%s/%u", pn, e->port);
	} else if (pn) {
		sb_printf(b, "%s", pn);
	} else {
		sb_printf(b, "proto-%u", e->proto);
	}
}

static void render_workload(struct sbuf *b, const struct node *n)
{
	sb_printf(b, "    n%d [label=\"", n->idx);
	sb_dot(b, n->name);
	if (n->quarantined)
		sb_printf(b, "\\nQUARANTINED\", color=\"#c62828\", fontcolor=\"#c62828\","
			     " fillcolor=\"#fdecea\", peripheries=2, penwidth=2, tooltip=\"");
	else if (n->gone)
		sb_printf(b, "\\n(detached)\", style=\"rounded,dashed\", fontcolor=\"#777777\","
			     " tooltip=\"");
	else if (!n->in_filter)
		sb_printf(b, "\\n%s\", color=\"#9e9e9e\", fillcolor=\"#f2f2f2\","
			     " fontcolor=\"#616161\", tooltip=\"", bh_mode_name(n->mode));
	else
		sb_printf(b, "\\n%s\", tooltip=\"", bh_mode_name(n->mode));
	sb_dot(b, n->ns);
	sb_putn(b, "/", 1);
	sb_dot(b, n->name);
	if (n->quarantined && n->reason[0]) {
		sb_printf(b, " quarantined: ");
		sb_dot(b, n->reason);
	}
	sb_printf(b, "\"];\n");
}

static int node_ns_cmp(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static void render_nodes(struct bh_netmap *nm, struct sbuf *b)
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
				sb_printf(b, "  }\n");
			sb_printf(b, "  subgraph cluster_ns%d {\n    label=\"namespace ", cluster++);
			sb_dot(b, w[i]->ns);
			sb_printf(b, "\";\n    style=\"rounded,filled\"; fillcolor=\"#f7f9fc\";"
				     " color=\"#8aa1c1\";\n");
		}
		render_workload(b, w[i]);
	}
	if (n)
		sb_printf(b, "  }\n");
	free(w);

	for (i = 0; i < nm->nr_nodes; i++) {
		const struct node *p = nm->nodes[i];

		if (p->kind == N_WORKLOAD || !p->drawn)
			continue;
		if (!outside++)
			sb_printf(b, "  subgraph cluster_outside {\n    label=\"outside\";"
				     " style=\"rounded,dashed\"; color=\"#9e9e9e\";\n");
		if (p->kind == N_FOLD) {
			sb_printf(b, "    n%d [label=\"%d other peers\", shape=note,"
				     " fillcolor=\"#eeeeee\"];\n", p->idx, p->folded);
			continue;
		}
		sb_printf(b, "    n%d [label=\"", p->idx);
		sb_dot(b, p->name);
		sb_printf(b, "\", shape=ellipse, fillcolor=\"#fff8e1\"];\n");
	}
	if (outside)
		sb_printf(b, "  }\n");
}

static void render_edge(struct sbuf *b, const struct edge *e)
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
	uint64_t flows = edge_flows(e);

	sb_printf(b, "  n%d -> n%d [label=\"", e->src, e->dst);
	if (e->more_ports && e->mixed_proto)
		sb_printf(b, "%d more ports", e->more_ports);
	else if (e->more_ports)
		sb_printf(b, "%s: %d more ports", proto_name(e->proto) ? proto_name(e->proto)
								    : "other", e->more_ports);
	else
		sb_port(b, e);
	sb_printf(b, " (%llu flow%s)\", %s, tooltip=\"%s: %llu packets, ",
		  (unsigned long long)flows, flows == 1 ? "" : "s", style[e->vclass],
		  vname[e->vclass], (unsigned long long)e->packets[s]);
	sb_bytes(b, e->bytes[s]);
	sb_printf(b, "\"];\n");
}

int bh_netmap_dot(const struct bh_netmap *cnm, char **buf, size_t *len)
{
	struct bh_netmap *nm = (struct bh_netmap *)cnm;
	struct sbuf b = { 0 };
	size_t i;
	int err;

	/* Building is idempotent: the const API renders what was loaded. */
	err = build(nm);
	if (err)
		return err;
	sb_printf(&b, "digraph bulkhead {\n"
		      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.35,"
		      " ranksep=1.1, labelloc=t, label=<<b>bulkhead network map</b>");
	sb_printf(&b, "<br/><font point-size=\"10\"><font color=\"#2e7d32\">&#9472;"
		      " allowed</font>   <font color=\"#ef6c00\">- - would-deny</font>   "
		      "<font color=\"#c62828\"><b>&#9473; denied</b></font></font>>];\n"
		      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e3f2fd\","
		      " color=\"#1e88e5\", fontname=\"Helvetica\", fontsize=11];\n"
		      "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n");
	render_nodes(nm, &b);
	for (i = 0; i < nm->nr_edges; i++)
		render_edge(&b, &nm->edges[i]);
	sb_printf(&b, "}\n");
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

/* ---------------------------------------------------------- graphviz */
static int memfd_with(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		off += n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int bh_netmap_graphviz(const char *dot, size_t len, const char *format, int out_fd,
		       char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char targ[24];
	char *argv[] = { "dot", targ, NULL };
	extern char **environ;
	int in_fd, err_fd, status, rc;
	const char *p;
	pid_t pid;

	if (errlen)
		err[0] = '\0';
	if (!format || !*format || strlen(format) > 16 || out_fd < 1 || out_fd == 2)
		return -EINVAL;
	for (p = format; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return -EINVAL;
	snprintf(targ, sizeof(targ), "-T%s", format);

	/* The DOT text and dot's complaints go through memory files: no pipe,
	 * so no deadlock on a large graph and no SIGPIPE if dot dies. */
	in_fd = memfd_with("bh-netmap-dot", dot, len);
	if (in_fd < 0)
		return in_fd;
	err_fd = memfd_create("bh-netmap-err", MFD_CLOEXEC);
	if (err_fd < 0) {
		rc = -errno;
		close(in_fd);
		return rc;
	}
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (!rc)
		rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in_fd);
	if (rc) {
		close(err_fd);
		if (rc == ENOENT)
			snprintf(err, errlen, "Graphviz 'dot' not found in PATH"
				 " (install graphviz, or use --format dot)");
		return -rc;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = -errno;
			close(err_fd);
			return rc;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close(err_fd);
		return 0;
	}
	if (errlen) {
		ssize_t n = pread(err_fd, err, errlen - 1, 0);
		char *nl;

		err[n > 0 ? n : 0] = '\0';
		nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		if (!err[0])
			snprintf(err, errlen, "dot %s %d", WIFEXITED(status) ? "exited" : "killed by signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	close(err_fd);
	return -EIO;
}
