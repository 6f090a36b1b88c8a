// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bulkhead-cni is linked statically, and Debian ships no static libmnl,
 * which the core's nftables backend needs (lib/core/nft_sync.h). Linked
 * before the core's archive, these definitions keep nft_sync.o out of the
 * plugin: with `backend = nftables` the plugin refuses, the instance's
 * state is left as it was, and the message says what to use instead.
 */
#include <errno.h>

#include "nft_sync.h"

int bh_nft_sync_build(struct bh_ctx *ctx, const struct bh_workload_info *w, int nr_w,
		      const struct bh_compile_output *out, struct bh_nft_batch **batch)
{
	(void)w;
	(void)nr_w;
	(void)out;
	*batch = NULL;
	return bh_ctx_set_error(ctx, -EOPNOTSUPP, true,
				"bulkhead-cni cannot enforce with backend = nftables (it is"
				" linked without libmnl); attach the workload with"
				" `bulkhead attach` instead");
}

int bh_nft_sync_send(struct bh_ctx *ctx, const struct bh_nft_batch *batch)
{
	(void)batch;
	return bh_ctx_set_error(ctx, -EOPNOTSUPP, true,
				"bulkhead-cni cannot enforce with backend = nftables");
}

void bh_nft_sync_free(struct bh_nft_batch *batch)
{
	(void)batch;
}

/* The plugin never made a table, and `bulkhead reset` is not its job. */
int bh_nft_sync_remove(struct bh_ctx *ctx)
{
	(void)ctx;
	return 0;
}

uint16_t bh_nft_sync_log_group(const struct bh_ctx *ctx)
{
	(void)ctx;
	return 0;
}

/* No table, so no counters. */
int bh_nft_sync_rule_stats(struct bh_ctx *ctx,
			   int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg)
{
	(void)ctx;
	(void)fn;
	(void)arg;
	return 0;
}
