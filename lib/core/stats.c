// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading the per-CPU counters: summed over every possible CPU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"
#include "config.h"
#include "maps.h"
#include "nft_sync.h"

int bh_stats_workload(struct bh_ctx *ctx, __u32 slot, struct bh_workload_stats *out)
{
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (slot >= BH_MAX_WORKLOADS)
		return bh_err(ctx, -EINVAL, true, "bad slot %u", slot);
	fd = bh_map_fd(ctx, bh_map_names[BH_M_STATS]);
	if (fd < 0)
		return fd;
	for (__u32 d = 0; d < 2; d++) {
		for (__u32 r = 0; r < BH_R_MAX; r++) {
			struct bh_stat *s = &out->dir[d][r];

			err = bh_percpu_sum(fd, BH_STATS_INDEX(slot, d, r), 2, &s->packets);
			if (err)
				return bh_err(ctx, err, false, "cannot read stats: %s",
					      strerror(-err));
			out->reason[r].packets += s->packets;
			out->reason[r].bytes += s->bytes;
		}
	}
	return 0;
}

int bh_stats_counters(struct bh_ctx *ctx, __u64 out[BH_C_MAX])
{
	int fd, err;

	memset(out, 0, sizeof(__u64) * BH_C_MAX);
	fd = bh_map_fd(ctx, bh_map_names[BH_M_COUNTERS]);
	if (fd < 0)
		return fd;
	for (__u32 k = 0; k < BH_C_MAX; k++) {
		err = bh_percpu_sum(fd, k, 1, &out[k]);
		if (err)
			return bh_err(ctx, err, false, "cannot read counters: %s", strerror(-err));
	}
	return 0;
}

/* Slots read per batch: 1024 * ncpu * 16 bytes of values. */
#define RULES_BATCH 1024

/*
 * bh_rule_stats_v2 (array by rule id): read in batches, in id order, and
 * report the slots that counted something. Slot 0 is the overflow slot
 * (BH_RULE_STATS_OVERFLOW) and comes first as rule id 0.
 */
static int rules_v2(struct bh_ctx *ctx, int fd, int ncpu,
		    int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 keys[RULES_BATCH], token = 0, count;
	struct bh_stat *vals;
	bool first = true, done = false;
	int err = 0;

	vals = calloc((size_t)RULES_BATCH * ncpu, sizeof(*vals));
	if (!vals)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	while (!done && !err) {
		count = RULES_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					 &bo)) {
			if (errno != ENOENT) {
				err = -errno;
				bh_err(ctx, err, false, "cannot read rule stats: %s", strerror(-err));
				break;
			}
			done = true;	/* the last (possibly partial) batch */
		}
		first = false;
		for (__u32 i = 0; i < count && !err; i++) {
			struct bh_rule_stat r = { .rule_id = keys[i] };

			bh_percpu_fold(&vals[(size_t)i * ncpu].packets, ncpu, 2, &r.stat.packets);
			if (r.stat.packets)
				err = fn(&r, arg);
		}
	}
	free(vals);
	return err;
}

int bh_stats_rules_foreach(struct bh_ctx *ctx,
			   int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg)
{
	int fd, ncpu = libbpf_num_possible_cpus();
	enum bh_backend be;
	int err = bh_config_backend(ctx, &be);

	if (err)
		return err;
	if (be == BH_BACKEND_NFTABLES)	/* the table's rule chains */
		return bh_nft_sync_rule_stats(ctx, fn, arg);
	if (ncpu < 1)
		return bh_err(ctx, ncpu, false, "cannot count CPUs");
	fd = bh_map_fd(ctx, bh_map_names[BH_M_RULE_STATS]);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;	/* nothing loaded yet */
	return rules_v2(ctx, fd, ncpu, fn, arg);
}
