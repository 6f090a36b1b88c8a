// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Serialises mutations across processes: an flock on STATE_DIR/lock. The
 * store alone is not enough: a mutation changes SQLite and kernel maps
 * together, and two interleaved syncs could leave the maps behind the
 * store. The lock nests within a process (depth counter). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "ctx_int.h"

int bh_ctx_lock(struct bh_ctx *ctx)
{
	char path[PATH_MAX + 8];

	if (ctx->lock_depth > 0) {
		ctx->lock_depth++;
		return 0;
	}
	if (ctx->lock_fd < 0) {
		snprintf(path, sizeof(path), "%s/lock", ctx->state_dir);
		ctx->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (ctx->lock_fd < 0)
			return bh_err(ctx, -errno, false, "cannot open %s: %m", path);
	}
	while (flock(ctx->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR)
			return bh_err(ctx, -errno, false, "cannot lock %s/lock: %m", ctx->state_dir);
	}
	ctx->lock_depth = 1;
	return 0;
}

void bh_ctx_unlock(struct bh_ctx *ctx)
{
	if (ctx->lock_depth <= 0)
		return;
	if (--ctx->lock_depth == 0)
		flock(ctx->lock_fd, LOCK_UN);
}
