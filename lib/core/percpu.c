// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-CPU map elements: one value per possible CPU, each a row of __u64
 * counters (struct bh_stat is two). The one place they are summed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

void bh_percpu_fold(const __u64 *vals, int ncpu, unsigned int nr_u64, __u64 *sum)
{
	for (int c = 0; c < ncpu; c++)
		for (unsigned int j = 0; j < nr_u64; j++)
			sum[j] += vals[(size_t)c * nr_u64 + j];
}

static int percpu_alloc(unsigned int nr_u64, int *ncpu, __u64 **vals)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu < 1)
		return *ncpu ? *ncpu : -EINVAL;
	*vals = calloc((size_t)*ncpu * nr_u64, sizeof(__u64));
	return *vals ? 0 : -ENOMEM;
}

int bh_percpu_sum(int fd, __u32 key, unsigned int nr_u64, __u64 *sum)
{
	__u64 *vals;
	int ncpu, err = percpu_alloc(nr_u64, &ncpu, &vals);

	if (err)
		return err;
	memset(sum, 0, nr_u64 * sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	else
		bh_percpu_fold(vals, ncpu, nr_u64, sum);
	free(vals);
	return err;
}

int bh_percpu_zero(int fd, __u32 key, unsigned int nr_u64)
{
	__u64 *vals;
	int ncpu, err = percpu_alloc(nr_u64, &ncpu, &vals);

	if (err)
		return err;
	if (bpf_map_update_elem(fd, &key, vals, BPF_ANY))
		err = -errno;
	free(vals);
	return err;
}
