// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reset: take this instance's programs off every interface, unpin
 * everything under BULKHEAD_BPFFS, delete the nftables backend's table and
 * the state database. Programs
 * are found two ways: through the store's workloads, and by scanning every
 * interface for our pinned program ids (a workload whose store row was
 * lost must not keep a program behind).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "ctx_int.h"
#include "nft_sync.h"
#include "store.h"

static int detach_workload(const struct bh_workload_info *w, void *arg)
{
	bh_detach_hooks(arg, w->ifindex, NULL);
	return 0;
}

static int unpin_all(struct bh_ctx *ctx)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(ctx->bpffs);
	if (!d)
		return errno == ENOENT ? 0 : bh_err(ctx, -errno, false, "cannot open %s: %m",
						    ctx->bpffs);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", ctx->bpffs, de->d_name);
		if (unlink(path) && errno != ENOENT && !err)
			err = bh_err(ctx, -errno, false, "cannot unpin %s: %m", path);
	}
	closedir(d);
	if (!err && rmdir(ctx->bpffs) && errno != ENOENT)
		err = bh_err(ctx, -errno, false, "cannot remove %s: %m", ctx->bpffs);
	return err;
}

/* The store and the lock are ours; the directory goes too when nothing
 * else is left in it (an operator's config, another tool's files stay). */
static int remove_state(struct bh_ctx *ctx)
{
	static const char *const files[] = { "state.db", "state.db-wal", "state.db-shm", "lock" };
	char path[PATH_MAX + 16];

	if (ctx->db) {
		bh_store_close(ctx->db);
		ctx->db = NULL;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, files[i]);
		if (unlink(path) && errno != ENOENT)
			return bh_err(ctx, -errno, false, "cannot remove %s: %m", path);
	}
	/* The lock fd stays open (and locked) until the context closes: a
	 * waiter wakes on the unlinked file and finds no state. */
	if (rmdir(ctx->state_dir) && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		return bh_err(ctx, -errno, false, "cannot remove %s: %m", ctx->state_dir);
	return 0;
}

int bh_reset(struct bh_ctx *ctx)
{
	struct if_nameindex *ifs;
	int err;

	err = bh_ctx_lock(ctx);
	if (err)
		return err;
	bh_loader_open_pinned(ctx);
	if (ctx->db)
		bh_store_workload_foreach(ctx->db, detach_workload, ctx);
	ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		err = bh_detach_hooks(ctx, i->if_index, NULL);
		if (err)
			break;
	}
	if_freenameindex(ifs);
	bh_loader_close(ctx);
	if (!err)
		err = unpin_all(ctx);
	/* the nftables backend's table, if this instance made one */
	if (!err)
		err = bh_nft_sync_remove(ctx);
	if (!err)
		err = remove_state(ctx);
	bh_ctx_unlock(ctx);
	return err;
}
