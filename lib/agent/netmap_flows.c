// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The network map's input: the state store's flows table, aggregated in
 * SQL into one row per (workload, direction, protocol, port, peer,
 * verdict). See netmap.h. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netmap_int.h"

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

		self = nm_workload_node(nm, col_text(st, 0), col_text(st, 1), &err);
		if (!self)
			break;
		peer = nm_peer_node(nm, col_text(st, 5), sqlite3_column_int64(st, 6), &err);
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
