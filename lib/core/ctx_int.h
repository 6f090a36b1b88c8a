/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inside libbulkhead: the context struct and the helpers the lib/ C files
 * modules share. Not part of the public API (lib/core/bulkhead.h).
 */
#ifndef BULKHEAD_CTX_INT_H
#define BULKHEAD_CTX_INT_H

#include <limits.h>
#include <stdarg.h>

#include "bulkhead.h"

/* Map fds by pinned name, opened lazily (bh_map_fd). */
enum bh_map_idx {
	BH_M_WORKLOADS, BH_M_IPCACHE, BH_M_POLICY, BH_M_CT, BH_M_FRAG, BH_M_DENY_RL,
	BH_M_FLOWS, BH_M_STATS, BH_M_COUNTERS, BH_M_DENY_ALL,
	BH_M_RULE_STATS, BH_M_CT4, BH_M_CTGEN,
	BH_M_L2, BH_M_SHARE, BH_M_CT_BASE,	/* layer 2 identity, shares (l2id.h) */
	BH_M_MAX,
};
extern const char *const bh_map_names[BH_M_MAX];

enum bh_prog_idx { BH_P_XDP, BH_P_TC_EGRESS, BH_P_TC_INGRESS, BH_P_MAX };
extern const char *const bh_prog_pins[BH_P_MAX];

struct bh_ctx {
	char bpffs[PATH_MAX];
	char state_dir[PATH_MAX];
	bool read_only;
	struct sqlite3 *db;
	int lock_fd;
	int lock_depth;		/* bh_ctx_lock nests */
	struct bh_ctx_config *config;	/* STATE_DIR/config (settings.c) */
	bool loaded;		/* maps and programs loaded or reused */
	int map_fds[BH_M_MAX];
	int prog_fds[BH_P_MAX];
	__u32 prog_ids[BH_P_MAX];
	/* counted here, added to the store's counters at close */
	uint64_t syncs_ok, syncs_err;
	__s64 sync_last_ms, sync_last_us;
	bool err_user;
	char err[512];
};

/* Record the failure's message; returns err (negative errno) so callers
 * can `return bh_err(ctx, -EINVAL, true, "...")`. */
int bh_err(struct bh_ctx *ctx, int err, bool user, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* loader.c: mount bpffs, load or reuse the programs and pinned maps,
 * create the deny-all map. Idempotent; takes the lock (it nests). */
int bh_loader_ensure(struct bh_ctx *ctx);
/* The embedded programs loaded again, reusing every pinned map whose
 * name they share, and pinned as PIN+suffix (`bulkhead upgrade`). */
int bh_loader_load_staged(struct bh_ctx *ctx, const char *suffix);
/* Open pinned maps/programs that exist, without creating anything. */
int bh_loader_open_pinned(struct bh_ctx *ctx);
void bh_loader_close(struct bh_ctx *ctx);
/* settings.c: forget the parsed STATE_DIR/config (bh_ctx_close). */
void bh_ctx_config_drop(struct bh_ctx *ctx);
int bh_pin_path(const struct bh_ctx *ctx, const char *name, char *buf, size_t len);
/* A pinned map or program of the instance opened by name, or -errno. */
int bh_pin_get(const struct bh_ctx *ctx, const char *name);

#endif /* BULKHEAD_CTX_INT_H */
