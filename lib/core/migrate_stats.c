// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-workload verdict counters from bh_stats_v1 (slot * 18 + reason) and
 * bh_stats_v2 (slot * 22 + reason) into this build's stats map. Older
 * reasons keep their numbers (later reasons were appended), so each old
 * row adds into the row of the same slot and reason. Run once, after the
 * switch: the old programs count until their last hook switched, and
 * nothing writes the old map later.
 *
 * Neither layout knew the direction: an old count cannot be split, so it
 * is carried whole under BH_DIR_INGRESS (docs/operations.md says so);
 * `bulkhead stats`, which sums the directions, shows the same totals
 * before and after.
 *
 * stats_row() is the one place that knows this build's stats index: a
 * later layout (another dimension in the index) changes it, and the rows
 * of every older layout land where it says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"
#include "maps.h"
#include "migrate.h"

#define STATS_V1_REASONS 18	/* BH_R_MAX of layout v1 */
#define STATS_V2_REASONS 22	/* BH_R_MAX of layout v2 */
#define STAT_U64 (sizeof(struct bh_stat) / sizeof(__u64))

_Static_assert(BH_R_MAX >= STATS_V2_REASONS, "v2's reasons are a prefix of this build's");

/* This build's stats row of an undirected (slot, reason). */
static __u32 stats_row(__u32 slot, __u32 reason)
{
	return BH_STATS_INDEX(slot, BH_DIR_INGRESS, reason);
}

/* Add sum into CPU 0's value of the row (the per-CPU values are summed
 * when read, so where the carried count sits does not matter). */
static int add_row(int fd, __u32 row, const __u64 *sum, __u64 *vals)
{
	if (bpf_map_lookup_elem(fd, &row, vals))
		return -errno;
	for (unsigned int j = 0; j < STAT_U64; j++)
		vals[j] += sum[j];
	return bpf_map_update_elem(fd, &row, vals, BPF_EXIST) ? -errno : 0;
}

static int carry(struct bh_ctx *ctx, int from, int to, __u32 nr_reasons,
		 struct bh_migrate_count *c)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int err = 0;

	if (ncpu < 1)
		return bh_err(ctx, ncpu ? ncpu : -EINVAL, false, "cannot count the CPUs");
	vals = calloc((size_t)ncpu, sizeof(struct bh_stat));
	if (!vals)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (__u32 s = 0; s < BH_MAX_WORKLOADS && !err; s++) {
		for (__u32 r = 0; r < nr_reasons && !err; r++) {
			__u64 sum[STAT_U64];

			err = bh_percpu_sum(from, s * nr_reasons + r, STAT_U64, sum);
			if (err == -ENOENT) {
				err = 0;	/* a build with fewer slots */
				break;
			}
			if (err || (!sum[0] && !sum[1]))
				continue;
			err = add_row(to, stats_row(s, r), sum, vals);
			if (!err)
				c->copied++;
		}
	}
	free(vals);
	if (err)
		return bh_err(ctx, err, false, "cannot carry the stats: %s", strerror(-err));
	return 0;
}

int bh_migrate_stats_v1(struct bh_ctx *ctx, int from, int to, enum bh_migrate_phase phase,
			struct bh_migrate_count *c)
{
	(void)phase;
	return carry(ctx, from, to, STATS_V1_REASONS, c);
}

int bh_migrate_stats_v2(struct bh_ctx *ctx, int from, int to, enum bh_migrate_phase phase,
			struct bh_migrate_count *c)
{
	(void)phase;
	return carry(ctx, from, to, STATS_V2_REASONS, c);
}
