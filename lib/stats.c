// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading the per-CPU counters: summed over every possible CPU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
