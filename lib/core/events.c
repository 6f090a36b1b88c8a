// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The timeline: what happened to a workload, in order. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctx_int.h"
#include "store.h"

int bh_event_add(struct bh_ctx *ctx, const char *ns, const char *name,
		 const char *kind, const char *severity, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	int err;

	if (!ctx->db)
		return bh_err(ctx, -ENOENT, false, "no state store in %s", ctx->state_dir);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	err = bh_store_event_add(ctx->db, ns, name, kind, severity, detail);
	if (err)
		return bh_err(ctx, err, false, "cannot record event: %s", sqlite3_errmsg(ctx->db));
	return 0;
}

int bh_event_foreach(struct bh_ctx *ctx, const char *ns, const char *name, __s64 after_id,
		     int (*fn)(const struct bh_event_rec *e, void *arg), void *arg)
{
	if (!ctx->db)
		return 0;	/* read-only context of an instance never created */
	return bh_store_event_foreach(ctx->db, ns, name, after_id, fn, arg);
}

int bh_rule_describe(struct bh_ctx *ctx, __u32 rule_id, char *buf, size_t len)
{
	if (!ctx->db)
		return -ENOENT;
	return bh_store_rule_describe(ctx->db, rule_id, buf, len);
}
