// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Map writes for the sync and the workload registry (see maps.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"
#include "maps.h"

static int mfd(struct bh_ctx *ctx, enum bh_map_idx i)
{
	int err = bh_ctx_load(ctx);

	return err ? err : ctx->map_fds[i];
}

int bh_maps_inner_create(struct bh_ctx *ctx, size_t nr, int *fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	/* Sized per workload: no preallocation, so a generous floor costs
	 * nothing and spares a rebuild for small policies. */
	size_t max = nr < 16 ? 16 : nr;

	if (max > 1u << 24)
		return bh_err(ctx, -E2BIG, false, "policy of %zu entries is too large", nr);
	*fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bh_pol", sizeof(struct bh_policy_key),
			     sizeof(struct bh_policy_val), max, &mo);
	if (*fd < 0)
		return bh_err(ctx, -errno, false, "cannot create a policy map of %zu entries: %m",
			      max);
	return 0;
}

int bh_maps_inner_put(struct bh_ctx *ctx, int fd, const struct bh_policy_key *k,
		      const struct bh_policy_val *v)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot write a policy map entry: %m");
	return 0;
}

int bh_maps_policy_swap(struct bh_ctx *ctx, __u32 slot, int fd)
{
	int outer = mfd(ctx, BH_M_POLICY);

	if (outer < 0)
		return outer;
	if (bpf_map_update_elem(outer, &slot, &fd, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot install the policy of slot %u: %m", slot);
	return 0;
}

int bh_maps_policy_quarantine(struct bh_ctx *ctx, __u32 slot)
{
	int fd = mfd(ctx, BH_M_DENY_ALL);

	return fd < 0 ? fd : bh_maps_policy_swap(ctx, slot, fd);
}

int bh_maps_policy_clear(struct bh_ctx *ctx, __u32 slot)
{
	int outer = mfd(ctx, BH_M_POLICY);

	if (outer < 0)
		return outer;
	if (bpf_map_delete_elem(outer, &slot) && errno != ENOENT)
		return bh_err(ctx, -errno, false, "cannot clear the policy of slot %u: %m", slot);
	return 0;
}

int bh_maps_deny_all_put(struct bh_ctx *ctx, const struct bh_policy_key *k,
			 const struct bh_policy_val *v)
{
	int fd = mfd(ctx, BH_M_DENY_ALL);

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, k, v, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot write the deny-all map: %m");
	return 0;
}

int bh_maps_ipcache_put(struct bh_ctx *ctx, const struct bh_ipcache_key *k,
			const struct bh_ipcache_val *v)
{
	int fd = mfd(ctx, BH_M_IPCACHE);

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, k, v, BPF_ANY)) {
		if (errno == ENOSPC)
			return bh_err(ctx, -ENOSPC, true, "the ipcache is full (%d prefixes)",
				      BH_IPCACHE_SIZE);
		return bh_err(ctx, -errno, false, "cannot write the ipcache: %m");
	}
	return 0;
}

int bh_maps_prune(struct bh_ctx *ctx, const char *map, size_t key_size,
		  bool (*keep)(const void *key, void *arg), void *arg)
{
	int fd = bh_map_fd(ctx, map);
	size_t cap = 256, nr = 0;
	__u8 *keys, *cur, *next;
	int err = 0;

	if (fd < 0)
		return fd;
	/* Collect first, delete after: deleting while walking an LPM trie
	 * with get_next_key restarts the walk. */
	keys = malloc(cap * key_size);
	cur = calloc(2, key_size);
	if (!keys || !cur) {
		err = -ENOMEM;
		goto out;
	}
	next = cur + key_size;
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, next) == 0; prev = cur) {
		memcpy(cur, next, key_size);
		if (keep(cur, arg))
			continue;
		if (nr == cap) {
			__u8 *k = realloc(keys, 2 * cap * key_size);

			if (!k) {
				err = -ENOMEM;
				goto out;
			}
			keys = k;
			cap *= 2;
		}
		memcpy(keys + nr++ * key_size, cur, key_size);
	}
	for (size_t i = 0; i < nr; i++) {
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT) {
			err = bh_err(ctx, -errno, false, "cannot delete a stale %s entry: %m", map);
			break;
		}
	}
out:
	free(keys);
	free(cur);
	if (err == -ENOMEM)
		bh_err(ctx, err, false, "out of memory");
	return err;
}

int bh_maps_workload_put(struct bh_ctx *ctx, __u32 ifindex, const struct bh_workload *w)
{
	int fd = mfd(ctx, BH_M_WORKLOADS);

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &ifindex, w, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot write the workload of ifindex %u: %m",
			      ifindex);
	return 0;
}

int bh_maps_workload_del(struct bh_ctx *ctx, __u32 ifindex)
{
	int fd = mfd(ctx, BH_M_WORKLOADS);

	if (fd < 0)
		return fd;
	if (bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT)
		return bh_err(ctx, -errno, false, "cannot delete the workload of ifindex %u: %m",
			      ifindex);
	return 0;
}

int bh_maps_stats_clear(struct bh_ctx *ctx, __u32 slot)
{
	int fd = mfd(ctx, BH_M_STATS), ncpu = libbpf_num_possible_cpus();
	struct bh_stat *zero;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ncpu < 1)
		return bh_err(ctx, ncpu, false, "cannot count CPUs");
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (__u32 r = 0; r < BH_R_MAX && !err; r++) {
		__u32 key = slot * BH_R_MAX + r;

		if (bpf_map_update_elem(fd, &key, zero, BPF_ANY))
			err = bh_err(ctx, -errno, false, "cannot clear stats of slot %u: %m", slot);
	}
	free(zero);
	return err;
}

void bh_workload_entry(const struct bh_workload_info *w, struct bh_workload *out)
{
	memset(out, 0, sizeof(*out));
	out->slot = w->slot;
	out->identity = w->identity;
	out->mode = w->mode;
	out->hook = w->hook;
	out->nr_ips = w->nr_ips < BH_MAX_WORKLOAD_IPS ? w->nr_ips : BH_MAX_WORKLOAD_IPS;
	memcpy(out->ips, w->ips, out->nr_ips * sizeof(out->ips[0]));
}

static bool ct_keep(const void *key, void *arg)
{
	return ((const struct bh_ct_key *)key)->slot != *(const __u32 *)arg;
}

static bool frag_keep(const void *key, void *arg)
{
	return ((const struct bh_frag_key *)key)->slot != *(const __u32 *)arg;
}

int bh_maps_flows_purge(struct bh_ctx *ctx, __u32 slot)
{
	int err = bh_maps_prune(ctx, bh_map_names[BH_M_CT], sizeof(struct bh_ct_key),
				ct_keep, &slot);

	if (!err)
		err = bh_maps_prune(ctx, bh_map_names[BH_M_DENY_RL], sizeof(struct bh_ct_key),
				    ct_keep, &slot);
	if (!err)
		err = bh_maps_prune(ctx, bh_map_names[BH_M_FRAG], sizeof(struct bh_frag_key),
				    frag_keep, &slot);
	return err;
}
