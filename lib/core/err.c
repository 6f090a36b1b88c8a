// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The last error of an instance context, for the front end to print: every
 * core file reports through here, so it stands below them all. */
#include <stdarg.h>
#include <stdio.h>

#include "ctx_int.h"

int bh_ctx_set_error(struct bh_ctx *ctx, int err, bool user, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	ctx->err_user = user;
	return err;
}

/* The core's short name for the same function (ctx_int.h). */
int bh_err(struct bh_ctx *ctx, int err, bool user, const char *fmt, ...)
	__attribute__((alias("bh_ctx_set_error")));

const char *bh_ctx_error(const struct bh_ctx *ctx)
{
	return ctx ? ctx->err : "";
}

bool bh_ctx_error_is_user(const struct bh_ctx *ctx)
{
	return ctx && ctx->err_user;
}
