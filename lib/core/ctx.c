// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The instance context: where this instance's pins and state live, the
 * open store, and the start of every change. */
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "config.h"
#include "ctx_int.h"
#include "store.h"

/* libbpf and libxdp print warnings on their own; lib/ never prints, so
 * they stay quiet unless BULKHEAD_DEBUG asks for them. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (getenv("BULKHEAD_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (getenv("BULKHEAD_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static const char *pick(const char *opt, const char *env, const char *def)
{
	const char *e;

	if (opt && *opt)
		return opt;
	e = getenv(env);
	return e && *e ? e : def;
}

int bh_ctx_open(const struct bh_ctx_opts *opts, struct bh_ctx **out)
{
	struct bh_ctx_opts none = { 0 };
	char path[PATH_MAX + 16];
	struct bh_ctx *ctx;
	struct stat stbuf;
	int err;

	if (!opts)
		opts = &none;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->lock_fd = -1;
	for (int i = 0; i < BH_M_MAX; i++)
		ctx->map_fds[i] = -1;
	for (int i = 0; i < BH_P_MAX; i++)
		ctx->prog_fds[i] = -1;
	ctx->read_only = opts->read_only;
	libbpf_set_print(quiet_libbpf);
	libxdp_set_print(quiet_libxdp);

	if (snprintf(ctx->bpffs, sizeof(ctx->bpffs), "%s",
		     pick(opts->bpffs, "BULKHEAD_BPFFS", BH_DEFAULT_BPFFS)) >= (int)sizeof(ctx->bpffs) ||
	    snprintf(ctx->state_dir, sizeof(ctx->state_dir), "%s",
		     pick(opts->state_dir, "BULKHEAD_STATE_DIR", BH_DEFAULT_STATE_DIR))
		    >= (int)sizeof(ctx->state_dir)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	/* A read-only caller (a listing) must not create an instance as a
	 * side effect: an empty listing is fine without a state dir. Any
	 * other failure (a file in the way, no permission) is reported by
	 * the open below, not hidden behind an empty listing. */
	snprintf(path, sizeof(path), "%s/state.db", ctx->state_dir);
	if (ctx->read_only && stat(path, &stbuf) != 0 && errno == ENOENT) {
		*out = ctx;
		return 0;
	}
	err = mkdir_p(ctx->state_dir);
	if (err)
		goto fail;
	err = bh_store_open(path, &ctx->db);
	if (err)
		goto fail;
	*out = ctx;
	return 0;
fail:
	free(ctx);
	return err;
}

/* What this process counted goes to the store's counters, outside any
 * transaction (a rolled back sync is still counted). Best effort: the
 * command's own result does not depend on it. */
static void flush_counts(struct bh_ctx *ctx)
{
	if (ctx->read_only || !ctx->db || !sqlite3_get_autocommit(ctx->db))
		return;
	if (ctx->syncs_ok)
		bh_store_counter_add(ctx->db, "policy_sync.ok", (__s64)ctx->syncs_ok);
	if (ctx->syncs_err)
		bh_store_counter_add(ctx->db, "policy_sync.error", (__s64)ctx->syncs_err);
	if (ctx->syncs_ok || ctx->syncs_err) {
		bh_store_counter_set(ctx->db, "policy_sync.last_ms", ctx->sync_last_ms);
		bh_store_counter_set(ctx->db, "policy_sync.last_us", ctx->sync_last_us);
	}
}

void bh_ctx_close(struct bh_ctx *ctx)
{
	if (!ctx)
		return;
	flush_counts(ctx);
	bh_loader_close(ctx);
	bh_ctx_config_drop(ctx);
	if (ctx->db)
		bh_store_close(ctx->db);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	free(ctx);
}

const char *bh_ctx_bpffs(const struct bh_ctx *ctx)
{
	return ctx->bpffs;
}

const char *bh_ctx_state_dir(const struct bh_ctx *ctx)
{
	return ctx->state_dir;
}

struct sqlite3 *bh_ctx_db(struct bh_ctx *ctx)
{
	return ctx->db;
}

static __s64 clock_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__s64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

__s64 bh_ctx_sync_start(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

void bh_ctx_sync_done(struct bh_ctx *ctx, int err, __s64 t0)
{
	ctx->sync_last_us = clock_us(CLOCK_MONOTONIC) - t0;
	ctx->sync_last_ms = clock_us(CLOCK_REALTIME) / 1000;
	if (err)
		ctx->syncs_err++;
	else
		ctx->syncs_ok++;
}

/* With the nftables backend nothing BPF is loaded; an instance that
 * already enforces through pinned programs must be reset first, or both
 * would judge its workloads. */
int bh_ctx_load(struct bh_ctx *ctx)
{
	enum bh_backend be;
	char pin[PATH_MAX + 64];
	int err = bh_config_backend(ctx, &be);

	if (err || be == BH_BACKEND_BPF)
		return err ? err : bh_loader_ensure(ctx);
	err = bh_pin_path(ctx, BH_MAP_WORKLOADS, pin, sizeof(pin));
	if (!err && !access(pin, F_OK))
		return bh_err(ctx, -EEXIST, true, "backend = nftables, but %s holds this instance's"
			      " BPF maps: run `bulkhead reset` before switching backends",
			      ctx->bpffs);
	return 0;
}

int bh_ctx_begin_change(struct bh_ctx *ctx, struct bh_tx *tx)
{
	int err = bh_ctx_lock(ctx);

	if (err)
		return err;
	err = bh_ctx_load(ctx);
	if (!err && (err = bh_store_begin(ctx->db, tx)))
		bh_err(ctx, err, false, "cannot begin a store transaction: %s",
		       sqlite3_errmsg(ctx->db));
	if (err)
		bh_ctx_unlock(ctx);
	return err;
}
