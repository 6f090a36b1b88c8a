// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `policy apply` and `policy delete`: store + compile + swap, or nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "sync.h"

const char *bh_policy_kind_name(enum bh_policy_kind k)
{
	switch (k) {
	case BH_POLICY_K8S: return "NetworkPolicy";
	case BH_POLICY_NATIVE: return "Policy";
	case BH_POLICY_NATIVE_CLUSTER: return "ClusterPolicy";
	default: return "unknown";
	}
}

void bh_apply_result_free(struct bh_apply_result *res)
{
	free(res->items);
	res->items = NULL;
	res->nr = 0;
}

static const char *qual(const char *ns, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", ns, ns[0] ? "/" : "", name);
	return buf;
}

/* Swap the maps to what the (uncommitted) store says, then commit. On
 * failure roll back; if maps were already touched, sync them back to the
 * committed state. */
static int finish(struct bh_ctx *ctx, struct bh_tx *tx)
{
	struct bh_sync_plan *plan;
	char msg[512];
	bool user;
	__s64 t0 = bh_ctx_sync_start();
	int err;

	err = bh_sync_prepare(ctx, &plan);
	if (err) {
		bh_ctx_sync_done(ctx, err, t0);
		bh_store_end(tx, false);	/* nothing swapped yet */
		return err;
	}
	err = bh_sync_commit(ctx, plan);
	bh_ctx_sync_done(ctx, err, t0);
	bh_sync_plan_free(plan);
	if (!err) {
		err = bh_store_end(tx, true);
		if (err)
			bh_ctx_set_error(ctx, err, false, "cannot commit the state store: %s",
					 sqlite3_errmsg(bh_ctx_db(ctx)));
	}
	if (err) {
		snprintf(msg, sizeof(msg), "%s", bh_ctx_error(ctx));
		user = bh_ctx_error_is_user(ctx);
		bh_store_end(tx, false);
		bh_policy_sync(ctx);
		bh_ctx_set_error(ctx, err, user, "%s", msg);
	}
	return err;
}

static int check_duplicates(struct bh_ctx *ctx, const struct bh_policy_set *set)
{
	char q[2 * BH_NAME_MAX + 2];

	for (int i = 0; i < set->nr; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(set->items[i].ns, set->items[j].ns) &&
			    !strcmp(set->items[i].name, set->items[j].name))
				return bh_ctx_set_error(ctx, -EINVAL, true,
							"%s:%d: metadata.name: policy %s defined twice"
							" (first at line %d)", set->items[i].file,
							set->items[i].line,
							qual(set->items[i].ns, set->items[i].name, q,
							     sizeof(q)),
							set->items[j].line);
	return 0;
}

static int store_all(struct bh_ctx *ctx, const struct bh_policy_set *set,
		     struct bh_apply_result *res)
{
	sqlite3 *db = bh_ctx_db(ctx);
	char q[2 * BH_NAME_MAX + 2];
	int err = 0;

	for (int i = 0; i < set->nr && !err; i++) {
		const struct bh_policy *p = &set->items[i];
		struct bh_apply_item *it = &res->items[i];
		const char *src = p->source ? p->source : "";
		char *old = NULL;

		snprintf(it->ns, sizeof(it->ns), "%s", p->ns);
		snprintf(it->name, sizeof(it->name), "%s", p->name);
		it->kind = p->kind;
		err = bh_store_policy_source(db, p->ns, p->name, &old);
		if (err == -ENOENT)
			it->change = BH_APPLY_CREATED;
		else if (!err)
			it->change = strcmp(old, src) ? BH_APPLY_CONFIGURED : BH_APPLY_UNCHANGED;
		free(old);
		if (err && err != -ENOENT)
			break;
		err = 0;
		if (it->change == BH_APPLY_UNCHANGED)
			continue;
		err = bh_store_policy_put(db, p->ns, p->name, p->kind, src, p->file);
		if (!err)
			err = bh_event_add(ctx, p->ns, "", "policy", "notice", "%s %s %s from %s",
					   it->change == BH_APPLY_CREATED ? "created" : "changed",
					   bh_policy_kind_name(p->kind), qual(p->ns, p->name, q, sizeof(q)),
					   p->file);
	}
	if (err && !bh_ctx_error(ctx)[0])
		bh_ctx_set_error(ctx, err, false, "cannot store policies: %s", sqlite3_errmsg(db));
	return err;
}

static int apply_set(struct bh_ctx *ctx, const char *path, struct bh_policy_set *set_,
		     struct bh_apply_result *res);

/* The parser's outcome err for the input called name, then the apply of
 * set. A file we cannot read is the user's (wrong path) unless the parser
 * says otherwise; its message names file and line. */
static int apply_parsed(struct bh_ctx *ctx, int err, const struct bh_policy_error *perr,
			const char *name, struct bh_policy_set *set, struct bh_apply_result *res)
{
	char msg[768];

	if (err)
		return bh_ctx_set_error(ctx, err, err != -ENOMEM, "%s",
					bh_policy_error_format(perr, msg, sizeof(msg)));
	return apply_set(ctx, name, set, res);
}

int bh_policy_apply_file(struct bh_ctx *ctx, const char *path, struct bh_apply_result *res)
{
	struct bh_policy_error perr = { 0 };
	struct bh_policy_set set = { 0 };
	int err;

	memset(res, 0, sizeof(*res));
	bh_ctx_set_error(ctx, 0, false, "%s", "");
	err = bh_policy_parse_file(path, &set, &perr);
	return apply_parsed(ctx, err, &perr, path, &set, res);
}

int bh_policy_apply_buf(struct bh_ctx *ctx, const char *name, const char *buf, size_t len,
			struct bh_apply_result *res)
{
	struct bh_policy_error perr = { 0 };
	struct bh_policy_set set = { 0 };
	int err;

	memset(res, 0, sizeof(*res));
	bh_ctx_set_error(ctx, 0, false, "%s", "");
	err = bh_policy_parse_buf(name, buf, len, &set, &perr);
	return apply_parsed(ctx, err, &perr, name, &set, res);
}

/* Takes set (freed here). */
static int apply_set(struct bh_ctx *ctx, const char *path, struct bh_policy_set *set_,
		     struct bh_apply_result *res)
{
	struct bh_policy_set set = *set_;
	struct bh_tx tx;
	int err;

	if (set.nr == 0) {
		bh_policy_set_free(&set);
		return bh_ctx_set_error(ctx, -EINVAL, true, "%s: no policy in the file",
					 strcmp(path, "-") ? path : "<stdin>");
	}
	err = check_duplicates(ctx, &set);
	if (err)
		goto out;
	if (!bh_ctx_db(ctx)) {
		err = bh_ctx_set_error(ctx, -ENOENT, false, "no state store");
		goto out;
	}
	res->items = calloc(set.nr, sizeof(*res->items));
	if (!res->items) {
		err = bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
		goto out;
	}
	res->nr = set.nr;
	err = bh_ctx_begin_change(ctx, &tx);
	if (err)
		goto out;
	err = store_all(ctx, &set, res);
	if (err)
		bh_store_end(&tx, false);
	else
		err = finish(ctx, &tx);
	bh_ctx_unlock(ctx);
out:
	if (err)
		bh_apply_result_free(res);
	bh_policy_set_free(&set);
	return err;
}

int bh_policy_delete(struct bh_ctx *ctx, const char *ns, const char *name)
{
	char q[2 * BH_NAME_MAX + 2];
	sqlite3 *db = bh_ctx_db(ctx);
	struct bh_tx tx;
	int err;

	qual(ns, name, q, sizeof(q));
	if (!db)
		return bh_ctx_set_error(ctx, -ENOENT, true, "no policy %s", q);
	err = bh_ctx_begin_change(ctx, &tx);
	if (err)
		return err;
	err = bh_store_policy_del(db, ns, name);
	if (err == -ENOENT)
		bh_ctx_set_error(ctx, err, true, "no policy %s", q);
	else if (err)
		bh_ctx_set_error(ctx, err, false, "cannot delete policy %s: %s", q, sqlite3_errmsg(db));
	if (!err)
		err = bh_event_add(ctx, ns, "", "policy", "notice", "deleted policy %s", q);
	if (err)
		bh_store_end(&tx, false);
	else
		err = finish(ctx, &tx);
	bh_ctx_unlock(ctx);
	return err;
}
