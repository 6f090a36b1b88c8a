/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend (`backend = nftables` in STATE_DIR/config): the
 * sync (sync.h) builds the instance's whole table from the compile output
 * in prepare and sends it as one batch in commit (nft_table.h). This is
 * the whole interface the rest of the core calls, so a binary that cannot
 * link libnftnl/libmnl (bulkhead-cni is static, and Debian ships no
 * static libmnl) replaces it with a refusal (ctl/cni_nft_none.c).
 */
#ifndef BULKHEAD_NFT_SYNC_H
#define BULKHEAD_NFT_SYNC_H

#include <stdint.h>

#include "bulkhead.h"
#include "policy.h"

struct bh_nft_batch;

/* The batch that makes the kernel's table match workloads w (compiled,
 * in the same order, in out). Errors are in ctx. */
int bh_nft_sync_build(struct bh_ctx *ctx, const struct bh_workload_info *w, int nr_w,
		      const struct bh_compile_output *out, struct bh_nft_batch **batch);
/* Send it: the table is replaced whole, or nothing changes. */
int bh_nft_sync_send(struct bh_ctx *ctx, const struct bh_nft_batch *batch);
void bh_nft_sync_free(struct bh_nft_batch *batch);
/* The nfnetlink_log group this instance's table logs to (nft_log.h). */
uint16_t bh_nft_sync_log_group(const struct bh_ctx *ctx);
/* The per-rule counters of this instance's table (its rule chains,
 * nft_rulechain.h), summed over directions and verdicts: one call of fn
 * per rule that counted something, in rule id order. */
int bh_nft_sync_rule_stats(struct bh_ctx *ctx,
			   int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg);
/* Delete this instance's table if there is one (`bulkhead reset`). */
int bh_nft_sync_remove(struct bh_ctx *ctx);

#endif /* BULKHEAD_NFT_SYNC_H */
