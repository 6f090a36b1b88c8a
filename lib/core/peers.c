// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The peers table (peers.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "store.h"
#include "sync.h"

/* The stored rows, to diff against. */
struct row {
	char *ns, *name, *ips, *labels, *ports;
	bool keep;
};

struct rows {
	int nr, cap;
	struct row *v;
};

static int add_row(const struct bh_peer_rec *p, void *arg)
{
	struct rows *r = arg;

	if (r->nr == r->cap) {
		int cap = r->cap ? r->cap * 2 : 256;
		struct row *n = realloc(r->v, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->v = n;
		r->cap = cap;
	}
	r->v[r->nr] = (struct row){ strdup(p->ns), strdup(p->name), strdup(p->ips),
				    strdup(p->labels), strdup(p->ports ? p->ports : ""), false };
	if (!r->v[r->nr].ns || !r->v[r->nr].name || !r->v[r->nr].ips || !r->v[r->nr].labels ||
	    !r->v[r->nr].ports)
		return -ENOMEM;
	r->nr++;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static void rows_free(struct rows *r)
{
	for (int i = 0; i < r->nr; i++) {
		free(r->v[i].ns);
		free(r->v[i].name);
		free(r->v[i].ips);
		free(r->v[i].labels);
		free(r->v[i].ports);
	}
	free(r->v);
}

static int check(struct bh_ctx *ctx, const struct bh_peer_rec *p)
{
	char buf[BH_NAME_MAX + 80];
	const char *s;

	for (s = p->ips; *s;) {
		size_t n = strcspn(s, " ");
		struct bh_ip ip;

		if (n >= 64)
			n = 64 - 1;
		snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
		if (bh_ip_parse(buf, &ip))
			return bh_ctx_set_error(ctx, -EINVAL, true, "peer %s/%s: bad address '%s'",
						p->ns, p->name, buf);
		s += n;
		s += strspn(s, " ");
	}
	for (s = p->labels; *s;) {
		size_t n = strcspn(s, "\n");
		struct bh_label l;

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), s);
		if (bh_label_parse(buf, &l))
			return bh_ctx_set_error(ctx, -EINVAL, true, "peer %s/%s: bad label '%s'",
						p->ns, p->name, buf);
		s += n;
		s += strspn(s, "\n");
	}
	for (s = p->ports ? p->ports : ""; *s;) {
		size_t n = strcspn(s, "\n");
		struct bh_named_port np;
		char why[128];

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), s);
		if (bh_named_port_parse(buf, &np, why, sizeof(why)))
			return bh_ctx_set_error(ctx, -EINVAL, true, "peer %s/%s: %s", p->ns,
						p->name, why);
		s += n;
		s += strspn(s, "\n");
	}
	return 0;
}

static int put(sqlite3 *db, const struct bh_peer_rec *p)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO peers(ns, name, ips, labels,"
			       " ports) VALUES(?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, p->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->ips, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->ports ? p->ports : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int del(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "DELETE FROM peers WHERE ns = ? AND name = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int bh_peers_replace(struct bh_ctx *ctx, int nr, const struct bh_peer_rec *recs, int *changed)
{
	sqlite3 *db = bh_ctx_db(ctx);
	struct rows have = { 0 };
	struct bh_tx tx;
	int err, n = 0;

	*changed = 0;
	bh_ctx_set_error(ctx, 0, false, "%s", "");
	if (!db)
		return bh_ctx_set_error(ctx, -ENOENT, false, "no state store");
	for (int i = 0; i < nr; i++) {
		err = check(ctx, &recs[i]);
		if (err)
			return err;
	}
	err = bh_ctx_begin_change(ctx, &tx);
	if (err)
		return err;
	err = bh_store_peer_foreach(db, add_row, &have);
	if (!err)
		qsort(have.v, (size_t)have.nr, sizeof(*have.v), cmp_row);
	for (int i = 0; i < nr && !err; i++) {
		struct row key = { .ns = (char *)recs[i].ns, .name = (char *)recs[i].name };
		struct row *r = bsearch(&key, have.v, (size_t)have.nr, sizeof(*have.v), cmp_row);

		if (r) {
			r->keep = true;
			if (!strcmp(r->ips, recs[i].ips) && !strcmp(r->labels, recs[i].labels) &&
			    !strcmp(r->ports, recs[i].ports ? recs[i].ports : ""))
				continue;
		}
		err = put(db, &recs[i]);
		n++;
	}
	for (int i = 0; i < have.nr && !err; i++) {
		if (have.v[i].keep)
			continue;
		err = del(db, have.v[i].ns, have.v[i].name);
		n++;
	}
	if (err && !bh_ctx_error(ctx)[0])
		bh_ctx_set_error(ctx, err, false, "cannot store peers: %s", sqlite3_errmsg(db));
	if (!err && n)
		err = bh_policy_sync(ctx);
	if (err) {
		bh_store_end(&tx, false);
		if (n)
			bh_policy_sync(ctx);	/* maps back to the committed state */
	} else {
		err = bh_store_end(&tx, true);
		if (err)
			bh_ctx_set_error(ctx, err, false, "cannot commit peers: %s",
					 sqlite3_errmsg(db));
	}
	bh_ctx_unlock(ctx);
	rows_free(&have);
	if (!err)
		*changed = n;
	return err;
}
