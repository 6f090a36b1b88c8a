// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading the per-CPU counters: summed over every possible CPU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"

int bh_stats_workload(struct bh_ctx *ctx, __u32 slot, struct bh_workload_stats *out)
{
	int fd, ncpu = libbpf_num_possible_cpus();
	struct bh_stat *vals;

	memset(out, 0, sizeof(*out));
	if (slot >= BH_MAX_WORKLOADS)
		return bh_err(ctx, -EINVAL, true, "bad slot %u", slot);
	fd = bh_map_fd(ctx, bh_map_names[BH_M_STATS]);
	if (fd < 0)
		return fd;
	if (ncpu < 1)
		return bh_err(ctx, ncpu, false, "cannot count CPUs");
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (__u32 r = 0; r < BH_R_MAX; r++) {
		__u32 key = slot * BH_R_MAX + r;

		if (bpf_map_lookup_elem(fd, &key, vals)) {
			int err = -errno;

			free(vals);
			return bh_err(ctx, err, false, "cannot read stats: %s", strerror(-err));
		}
		for (int c = 0; c < ncpu; c++) {
			out->reason[r].packets += vals[c].packets;
			out->reason[r].bytes += vals[c].bytes;
		}
	}
	free(vals);
	return 0;
}

int bh_stats_counters(struct bh_ctx *ctx, __u64 out[BH_C_MAX])
{
	int fd, ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	memset(out, 0, sizeof(__u64) * BH_C_MAX);
	fd = bh_map_fd(ctx, bh_map_names[BH_M_COUNTERS]);
	if (fd < 0)
		return fd;
	if (ncpu < 1)
		return bh_err(ctx, ncpu, false, "cannot count CPUs");
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (__u32 k = 0; k < BH_C_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;

			free(vals);
			return bh_err(ctx, err, false, "cannot read counters: %s", strerror(-err));
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

static int cmp_rule(const void *a, const void *b)
{
	__u32 x = ((const struct bh_rule_stat *)a)->rule_id;
	__u32 y = ((const struct bh_rule_stat *)b)->rule_id;

	return x < y ? -1 : x > y;
}

/* bh_rule_stats_v1 (LRU hash, pinned by an older build): walk its keys. */
static int rules_v1(struct bh_ctx *ctx, int fd, int ncpu,
		    int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg)
{
	struct bh_rule_stat *rs = NULL;
	size_t nr = 0, cap = 0, steps = 0;
	struct bh_stat *vals;
	__u32 key, *prev = NULL;
	int err = 0;

	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	/* bounded: an LRU that evicts under us can restart the walk */
	while (!bpf_map_get_next_key(fd, prev, &key) && ++steps <= 4 * BH_RULE_STATS_SIZE) {
		struct bh_rule_stat *r;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* evicted meanwhile */
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			r = realloc(rs, cap * sizeof(*rs));
			if (!r) {
				err = bh_err(ctx, -ENOMEM, false, "out of memory");
				break;
			}
			rs = r;
		}
		r = &rs[nr++];
		memset(r, 0, sizeof(*r));
		r->rule_id = key;
		for (int c = 0; c < ncpu; c++) {
			r->stat.packets += vals[c].packets;
			r->stat.bytes += vals[c].bytes;
		}
	}
	free(vals);
	if (!err) {
		qsort(rs, nr, sizeof(*rs), cmp_rule);
		/* a restarted walk may have seen a key twice: keep the first */
		for (size_t i = 0; i < nr && !err; i++)
			if (!i || rs[i].rule_id != rs[i - 1].rule_id)
				err = fn(&rs[i], arg);
	}
	free(rs);
	return err;
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

			for (int c = 0; c < ncpu; c++) {
				r.stat.packets += vals[(size_t)i * ncpu + c].packets;
				r.stat.bytes += vals[(size_t)i * ncpu + c].bytes;
			}
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
	int fd, ncpu = libbpf_num_possible_cpus(), err;
	char path[PATH_MAX + 32];

	if (ncpu < 1)
		return bh_err(ctx, ncpu, false, "cannot count CPUs");
	fd = bh_map_fd(ctx, bh_map_names[BH_M_RULE_STATS]);
	if (fd >= 0)
		return rules_v2(ctx, fd, ncpu, fn, arg);
	if (fd != -ENOENT)
		return fd;
	/* programs pinned by an older build count in the v1 LRU hash */
	snprintf(path, sizeof(path), "%s/bh_rule_stats_v1", ctx->bpffs);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : bh_err(ctx, -errno, false, "cannot open %s: %s",
						    path, strerror(errno));
	err = rules_v1(ctx, fd, ncpu, fn, arg);
	close(fd);
	return err;
}
