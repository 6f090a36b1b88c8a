// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Baselines: learning, loading, matching and export as policy YAML. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_config.h"
#include "baseline.h"
#include "baseline_schema.h"
#include "store.h"

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bh_label *)a)->key, ((const struct bh_label *)b)->key);
}

/* "k=v\nk=v" sorted by key, so equal label sets give equal strings. */
static int labels_str(int nr, const struct bh_label *labels, char *buf, size_t len)
{
	struct bh_label *sorted;
	size_t off = 0;

	buf[0] = '\0';
	if (!nr)
		return 0;
	sorted = malloc(sizeof(*sorted) * (size_t)nr);
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, labels, sizeof(*sorted) * (size_t)nr);
	qsort(sorted, (size_t)nr, sizeof(*sorted), label_cmp);
	for (int i = 0; i < nr; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%s", i ? "\n" : "", sorted[i].key,
				 sorted[i].value);

		if (n < 0 || (size_t)n >= len - off) {
			free(sorted);
			return -E2BIG;
		}
		off += (size_t)n;
	}
	free(sorted);
	return 0;
}

int bh_baseline_entry_from_flow(const struct bh_baseline_opts *o, const struct bh_flow_view *v,
				struct bh_baseline_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->dir = strcmp(v->dir, "egress") == 0 ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	e->proto = v->proto;
	e->port = v->dport;
	e->flows = 1;
	e->first_ms = v->first_ms;
	e->last_ms = v->last_ms;
	if (v->peer_wl) {
		e->peer_kind = BH_PEER_WORKLOAD;
		snprintf(e->peer_ns, sizeof(e->peer_ns), "%s", v->peer_wl->ns);
		snprintf(e->peer_name, sizeof(e->peer_name), "%s", v->peer_wl->name);
		return labels_str(v->peer_wl->nr_labels, v->peer_wl->labels, e->peer,
				  sizeof(e->peer));
	}
	{
		struct bh_cidr c;
		char buf[INET6_ADDRSTRLEN + 8];
		int plen = strchr(v->peer_addr, ':') ? o->cidr_prefix_v6 : o->cidr_prefix_v4;

		snprintf(buf, sizeof(buf), "%s/%d", v->peer_addr, plen);
		if (bh_cidr_parse_addr(buf, &c))
			return -EINVAL;
		e->peer_kind = BH_PEER_CIDR;
		if (c.addr.family == 4)
			inet_ntop(AF_INET, c.addr.addr + 12, buf, sizeof(buf));
		else
			inet_ntop(AF_INET6, c.addr.addr, buf, sizeof(buf));
		snprintf(e->peer, sizeof(e->peer), "%s/%d", buf, plen);
	}
	return 0;
}

int bh_baseline_learn(sqlite3 *db, const char *ns, const char *name,
		      const struct bh_baseline_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO baselines(ns, name, dir, peer_kind, peer_ns, peer, peer_name,"
		" proto, port, flows, first_ms, last_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
		" ON CONFLICT DO UPDATE SET flows = flows + excluded.flows,"
		" first_ms = MIN(first_ms, excluded.first_ms),"
		" last_ms = MAX(last_ms, excluded.last_ms)", -1, &st, NULL);
	if (rc == SQLITE_ERROR) {
		/* table missing (first use): create and retry once */
		if (bh_baseline_schema(db))
			return -EIO;
		return bh_baseline_learn(db, ns, name, e);
	}
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, bh_dir_name(e->dir), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->peer_kind == BH_PEER_WORKLOAD ? "workload" : "cidr", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->peer_ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->peer_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, e->proto);
	sqlite3_bind_int(st, 9, e->port);
	sqlite3_bind_int64(st, 10, e->flows);
	sqlite3_bind_int64(st, 11, e->first_ms);
	sqlite3_bind_int64(st, 12, e->last_ms);
	return bh_sql_run(st);
}

int bh_baseline_load(sqlite3 *db, const char *ns, const char *name, struct bh_baseline *out)
{
	sqlite3_stmt *st;
	int rc, cap = 0, ret = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->ns, sizeof(out->ns), "%s", ns);
	snprintf(out->name, sizeof(out->name), "%s", name);
	rc = sqlite3_prepare_v2(db,
		"SELECT dir, peer_kind, peer_ns, peer, peer_name, proto, port, flows, first_ms,"
		" last_ms FROM baselines WHERE ns=?1 AND name=?2"
		" ORDER BY dir, peer_kind, peer_ns, peer, proto, port", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return 0;	/* no table yet: empty baseline */
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bh_baseline_entry *e;
		char buf[16];

		if (out->nr == cap) {
			int ncap = cap ? cap * 2 : 16;
			void *p = realloc(out->entries, sizeof(*out->entries) * (size_t)ncap);

			if (!p) {
				ret = -ENOMEM;
				break;
			}
			out->entries = p;
			cap = ncap;
		}
		e = &out->entries[out->nr++];
		memset(e, 0, sizeof(*e));
		bh_sql_text(st, 0, buf, sizeof(buf));
		e->dir = strcmp(buf, "egress") == 0 ? BH_DIR_EGRESS : BH_DIR_INGRESS;
		bh_sql_text(st, 1, buf, sizeof(buf));
		e->peer_kind = strcmp(buf, "workload") == 0 ? BH_PEER_WORKLOAD : BH_PEER_CIDR;
		bh_sql_text(st, 2, e->peer_ns, sizeof(e->peer_ns));
		bh_sql_text(st, 3, e->peer, sizeof(e->peer));
		bh_sql_text(st, 4, e->peer_name, sizeof(e->peer_name));
		e->proto = sqlite3_column_int(st, 5);
		e->port = sqlite3_column_int(st, 6);
		e->flows = sqlite3_column_int64(st, 7);
		e->first_ms = sqlite3_column_int64(st, 8);
		e->last_ms = sqlite3_column_int64(st, 9);
		e->cidr_ok = e->peer_kind == BH_PEER_CIDR && !bh_cidr_parse_addr(e->peer, &e->cidr);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = bh_sql_errno(rc);
	sqlite3_finalize(st);
	if (!ret)
		ret = bh_baseline_load_procs(db, out->ns, out->name, &out->procs, &out->nr_procs);
	if (ret)
		bh_baseline_free(out);
	return ret;
}

void bh_baseline_free(struct bh_baseline *b)
{
	free(b->entries);
	b->entries = NULL;
	b->nr = 0;
	free(b->procs);
	b->procs = NULL;
	b->nr_procs = 0;
}

int bh_baseline_clear(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;

	if (bh_baseline_clear_procs(db, ns, name))
		return -EIO;
	if (sqlite3_prepare_v2(db, "DELETE FROM baselines WHERE ns=?1 AND name=?2", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return bh_sql_run(st);
}

/* Does the label set carry every "k=v" line of want? */
static bool labels_include(const char *want, int nr, const struct bh_label *labels)
{
	const char *p = want;

	while (*p) {
		const char *nl = strchr(p, '\n'), *eq;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool found = false;

		eq = memchr(p, '=', len);
		if (!eq)
			return false;
		for (int i = 0; i < nr && !found; i++) {
			size_t kl = (size_t)(eq - p), vl = len - kl - 1;

			found = strlen(labels[i].key) == kl && !memcmp(labels[i].key, p, kl) &&
				strlen(labels[i].value) == vl && !memcmp(labels[i].value, eq + 1, vl);
		}
		if (!found)
			return false;
		p += len + (nl ? 1 : 0);
	}
	return true;
}

bool bh_baseline_covers_peer(const struct bh_baseline *b, enum bh_dir dir, int proto, int port,
			     const struct bh_workload_info *peer_wl, const __u8 peer_addr[16])
{
	for (int i = 0; i < b->nr; i++) {
		const struct bh_baseline_entry *e = &b->entries[i];

		if (e->dir != dir || e->proto != proto || e->port != port)
			continue;
		if (e->peer_kind == BH_PEER_WORKLOAD) {
			if (peer_wl && !strcmp(peer_wl->ns, e->peer_ns) &&
			    labels_include(e->peer, peer_wl->nr_labels, peer_wl->labels))
				return true;
		} else if (!peer_wl && peer_addr) {
			struct bh_cidr c;
			const struct bh_cidr *cp = &e->cidr;

			/* entries built by hand (not loaded) are parsed here */
			if (!e->cidr_ok) {
				if (bh_cidr_parse_addr(e->peer, &c))
					continue;
				cp = &c;
			}
			if (bh_cidr_has_addr(cp, peer_addr))
				return true;
		}
	}
	return false;
}

bool bh_baseline_covers(const struct bh_baseline *b, const struct bh_flow_view *v)
{
	enum bh_dir dir = strcmp(v->dir, "egress") == 0 ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	struct bh_cidr c;
	bool have_addr = !bh_cidr_parse_addr(v->peer_addr, &c);

	return bh_baseline_covers_peer(b, dir, v->proto, v->dport, v->peer_wl,
				       have_addr ? c.addr.addr : NULL);
}

const char *bh_baseline_peer_str(const struct bh_baseline_entry *e, char *buf, size_t len)
{
	if (e->peer_kind == BH_PEER_CIDR) {
		snprintf(buf, len, "%s", e->peer);
	} else {
		char labels[BH_BASELINE_PEER_MAX];

		snprintf(labels, sizeof(labels), "%s", e->peer);
		for (char *p = labels; *p; p++)
			if (*p == '\n')
				*p = ',';
		snprintf(buf, len, "%s/{%s}", e->peer_ns, labels);
	}
	return buf;
}

/* ------------------------------------------------------------- export */

/* A YAML double-quoted scalar: escapes \ " and control characters, so a
 * label value cannot end the string or start a new key. */
static void yq(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void match_labels_lines(FILE *out, const char *lines, const char *indent)
{
	const char *p = lines;

	if (!*p) {
		fprintf(out, " {}\n");
		return;
	}
	fprintf(out, "\n%smatchLabels:\n", indent);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char kv[BH_BASELINE_PEER_MAX], *eq;

		snprintf(kv, sizeof(kv), "%.*s", (int)len, p);
		eq = strchr(kv, '=');
		if (eq) {
			*eq = '\0';
			fprintf(out, "%s  ", indent);
			yq(out, kv);
			fprintf(out, ": ");
			yq(out, eq + 1);
			fputc('\n', out);
		}
		p += len + (nl ? 1 : 0);
	}
}

static bool k8s_proto(int proto, const char **name)
{
	switch (proto) {
	case IPPROTO_TCP: *name = "TCP"; return true;
	case IPPROTO_UDP: *name = "UDP"; return true;
	case IPPROTO_SCTP: *name = "SCTP"; return true;
	default: return false;
	}
}

static bool same_peer(const struct bh_baseline_entry *a, const struct bh_baseline_entry *b)
{
	return a->dir == b->dir && a->peer_kind == b->peer_kind &&
	       !strcmp(a->peer_ns, b->peer_ns) && !strcmp(a->peer, b->peer);
}

static void peer_yaml(FILE *out, const struct bh_baseline_entry *e, const char *ind)
{
	if (e->peer_kind == BH_PEER_CIDR) {
		fprintf(out, "%s- ipBlock: {cidr: ", ind);
		yq(out, e->peer);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, "%s- namespaceSelector:\n%s    matchLabels:\n%s      ", ind, ind, ind);
	yq(out, "kubernetes.io/metadata.name");
	fprintf(out, ": ");
	yq(out, e->peer_ns);
	fprintf(out, "\n%s  podSelector:", ind);
	{
		char sub[64];

		snprintf(sub, sizeof(sub), "%s    ", ind);
		match_labels_lines(out, e->peer, sub);
	}
}

/* One rule per peer (entries are sorted by peer), its ports listed: the
 * rule allows exactly peer x ports, nothing more. */
static void rules_yaml(FILE *out, const struct bh_baseline *b, enum bh_dir dir,
		       enum bh_baseline_format fmt)
{
	const char *key = dir == BH_DIR_INGRESS ? "ingress" : "egress";
	const char *peers = dir == BH_DIR_INGRESS ? "from" : "to";
	int emitted = 0;

	for (int i = 0; i < b->nr;) {
		const struct bh_baseline_entry *e = &b->entries[i];
		int j, nports = 0, nicmp = 0;

		if (e->dir != dir) {
			i++;
			continue;
		}
		for (j = i; j < b->nr && same_peer(&b->entries[j], e); j++) {
			const char *pn;

			if (k8s_proto(b->entries[j].proto, &pn))
				nports++;
			else if (fmt == BH_BASELINE_NATIVE &&
				 (b->entries[j].proto == IPPROTO_ICMP ||
				  b->entries[j].proto == IPPROTO_ICMPV6))
				nicmp++;
			else {
				char ps[BH_BASELINE_PEER_MAX + BH_NAME_MAX + 8];

				fprintf(out, "  # not expressible in this format, left denied: %s"
					" %s proto %d port %d\n", key,
					bh_baseline_peer_str(&b->entries[j], ps, sizeof(ps)),
					b->entries[j].proto, b->entries[j].port);
			}
		}
		if (nports + nicmp) {
			if (!emitted++)
				fprintf(out, "  %s:\n", key);
			fprintf(out, "    - %s%s:\n", fmt == BH_BASELINE_NATIVE ? "action: allow\n      " : "",
				peers);
			peer_yaml(out, e, "        ");
			if (nports)
				fprintf(out, "      ports:\n");
			for (int k = i; k < j; k++) {
				const char *pn;

				if (k8s_proto(b->entries[k].proto, &pn))
					fprintf(out, "        - {protocol: %s, port: %d}\n", pn,
						b->entries[k].port);
			}
			if (nicmp)
				fprintf(out, "      icmp:\n");
			for (int k = i; nicmp && k < j; k++) {
				int p = b->entries[k].proto, port = b->entries[k].port;

				if (p == IPPROTO_ICMP || p == IPPROTO_ICMPV6)
					fprintf(out, "        - {protocol: %s, type: %d, code: %d}\n",
						p == IPPROTO_ICMP ? "ICMP" : "ICMPv6", port >> 8,
						port & 0xff);
			}
		}
		i = j;
	}
	if (emitted)
		return;
	if (fmt == BH_BASELINE_K8S) {
		/* listed in policyTypes with no rule: nothing is allowed */
		fprintf(out, "  %s: []\n", key);
	} else {
		/* a native policy isolates a direction only through an allow
		 * rule: allow a peer that never exists (0.0.0.0/32) */
		fprintf(out, "  # nothing learned: isolated, no traffic allowed\n"
			"  %s:\n    - action: allow\n      %s:\n"
			"        - ipBlock: {cidr: \"0.0.0.0/32\"}\n", key, peers);
	}
}

int bh_baseline_export(const struct bh_baseline *b, int nr_labels,
		       const struct bh_label *labels, enum bh_baseline_format fmt, FILE *out)
{
	char own[BH_BASELINE_PEER_MAX], name[BH_NAME_MAX + 1];
	int err = labels_str(nr_labels, labels, own, sizeof(own));

	if (err)
		return err;
	snprintf(name, sizeof(name), "baseline-%.*s", BH_NAME_MAX - 9, b->name);
	fprintf(out, "# Baseline of %s/%s: %d entries. Applied with the workload in\n"
		"# enforce mode, it allows exactly this traffic and denies the rest.\n",
		b->ns, b->name, b->nr);
	if (!nr_labels)
		fprintf(out, "# The workload has no labels: the selector below selects every\n"
			"# workload of namespace %s.\n", b->ns);
	if (fmt == BH_BASELINE_K8S)
		fprintf(out, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n");
	else
		fprintf(out, "apiVersion: bulkhead.io/v1\nkind: Policy\n");
	fprintf(out, "metadata:\n  name: ");
	yq(out, name);
	fprintf(out, "\n  namespace: ");
	yq(out, b->ns);
	fprintf(out, "\nspec:\n  %s:", fmt == BH_BASELINE_K8S ? "podSelector" : "selector");
	match_labels_lines(out, own, "    ");
	if (fmt == BH_BASELINE_K8S)
		fprintf(out, "  policyTypes: [Ingress, Egress]\n");
	rules_yaml(out, b, BH_DIR_INGRESS, fmt);
	rules_yaml(out, b, BH_DIR_EGRESS, fmt);
	return ferror(out) ? -EIO : 0;
}

bool bh_baseline_covers_proc(const struct bh_baseline *b, const char *exe)
{
	return bh_baseline_procs_cover(b->procs, b->nr_procs, exe);
}
