// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Map writes for the sync and the workload registry (see maps.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"
#include "maps.h"

static int mfd(struct bh_ctx *ctx, enum bh_map_idx i)
{
	int err = bh_ctx_load(ctx);

	if (!err && ctx->map_fds[i] < 0)	/* only with backend = nftables */
		return bh_err(ctx, -EOPNOTSUPP, true, "this instance enforces through nftables"
			      " (backend = nftables in %s/config): it has no BPF map %s",
			      ctx->state_dir, bh_map_names[i]);
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
	int fd = mfd(ctx, BH_M_STATS), err;

	if (fd < 0)
		return fd;
	for (__u32 i = BH_STATS_INDEX(slot, 0, 0); i < BH_STATS_INDEX(slot + 1, 0, 0); i++) {
		err = bh_percpu_zero(fd, i, 2);
		if (err)
			return bh_err(ctx, err, false, "cannot clear stats of slot %u: %s", slot,
				      strerror(-err));
	}
	return 0;
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

static bool deny_rl_keep(const void *key, void *arg)
{
	return ((const struct bh_ct_key *)key)->ifindex != *(const __u32 *)arg;
}

static bool frag_keep(const void *key, void *arg)
{
	return ((const struct bh_frag_key *)key)->slot != *(const __u32 *)arg;
}

static int ct_purge(struct bh_ctx *ctx, __u32 slot, __u32 ifindex);

int bh_maps_flows_purge(struct bh_ctx *ctx, __u32 slot, __u32 ifindex)
{
	int err = ct_purge(ctx, slot, ifindex);

	if (!err)
		err = bh_maps_prune(ctx, bh_map_names[BH_M_DENY_RL], sizeof(struct bh_ct_key),
				    deny_rl_keep, &ifindex);
	if (!err)
		err = bh_maps_prune(ctx, bh_map_names[BH_M_FRAG], sizeof(struct bh_frag_key),
				    frag_keep, &slot);
	return err;
}

/* ------------------------------------------------------ incremental sync */
void bh_policy_digest_entry(__u64 digest, struct bh_policy_key *k, struct bh_policy_val *v)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->prefixlen = 8;
	k->dir = BH_DIR_DIGEST;
	v->rule_id = (__u32)digest;
	v->audit_rule_id = (__u32)(digest >> 32);
}

__u32 bh_maps_map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Id of the inner map in bh_policy_v1[slot], 0 if none. */
__u32 bh_maps_slot_map_id(struct bh_ctx *ctx, __u32 slot)
{
	int outer = mfd(ctx, BH_M_POLICY);
	__u32 id = 0;

	if (outer < 0 || bpf_map_lookup_elem(outer, &slot, &id))
		return 0;
	return id;
}

bool bh_maps_policy_is_quarantined(struct bh_ctx *ctx, __u32 slot)
{
	int deny = mfd(ctx, BH_M_DENY_ALL);
	__u32 id = bh_maps_slot_map_id(ctx, slot);

	return id && deny >= 0 && id == bh_maps_map_id(deny);
}

int bh_maps_policy_digest(struct bh_ctx *ctx, __u32 slot, __u64 *digest)
{
	struct bh_policy_key k;
	struct bh_policy_val v;
	__u32 id = bh_maps_slot_map_id(ctx, slot);
	int fd, err = 0;

	if (!id || bh_maps_policy_is_quarantined(ctx, slot))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -ENOENT;	/* swapped out and freed meanwhile */
	bh_policy_digest_entry(0, &k, &v);
	if (bpf_map_lookup_elem(fd, &k, &v))
		err = -ENOENT;
	else
		*digest = (__u64)v.audit_rule_id << 32 | v.rule_id;
	close(fd);
	return err;
}

int bh_maps_policy_swap_many(struct bh_ctx *ctx, size_t nr, const __u32 *slots, const int *fds)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	int outer = mfd(ctx, BH_M_POLICY);
	__u32 count = nr;

	if (outer < 0)
		return outer;
	if (!nr)
		return 0;
	if (!bpf_map_update_batch(outer, slots, fds, &count, &bo))
		return 0;
	if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP)
		return bh_err(ctx, -errno, false, "cannot install %zu policies: %m", nr);
	/* No batch update for map-in-map here: one slot at a time (the
	 * elements a failed batch already wrote are written again). */
	for (size_t i = 0; i < nr; i++) {
		int err = bh_maps_policy_swap(ctx, slots[i], fds[i]);

		if (err)
			return err;
	}
	return 0;
}

int bh_maps_dump(struct bh_ctx *ctx, const char *map, size_t key_size, size_t val_size,
		 void **keys_out, void **vals_out, size_t *nr_out)
{
	int fd = bh_map_fd(ctx, map);
	size_t cap = 64, nr = 0, steps = 0;
	__u8 *keys, *vals, *prev = NULL;
	int err = 0;

	*keys_out = *vals_out = NULL;
	*nr_out = 0;
	if (fd < 0)
		return fd;
	keys = malloc(cap * key_size);
	vals = malloc(cap * val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto fail;
	}
	for (;;) {
		/* Bounded: entries that vanish under an LRU or a deleted
		 * predecessor can make the walk start over. */
		if (++steps > (1u << 24)) {
			err = bh_err(ctx, -EAGAIN, false, "%s changes too fast to be read", map);
			goto fail;
		}
		if (nr == cap) {
			__u8 *k = realloc(keys, 2 * cap * key_size), *v;

			if (!k) {
				err = -ENOMEM;
				goto fail;
			}
			keys = k;
			v = realloc(vals, 2 * cap * val_size);
			if (!v) {
				err = -ENOMEM;
				goto fail;
			}
			vals = v;
			cap *= 2;
			prev = nr ? keys + (nr - 1) * key_size : NULL;
		}
		if (bpf_map_get_next_key(fd, prev, keys + nr * key_size))
			break;
		if (bpf_map_lookup_elem(fd, keys + nr * key_size, vals + nr * val_size)) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile (LRU): go on from prev */
			err = bh_err(ctx, -errno, false, "cannot read %s: %m", map);
			goto fail;
		}
		prev = keys + nr * key_size;
		nr++;
	}
	if (errno != ENOENT) {
		err = bh_err(ctx, -errno, false, "cannot walk %s: %m", map);
		goto fail;
	}
	*keys_out = keys;
	*vals_out = vals;
	*nr_out = nr;
	return 0;
fail:
	free(keys);
	free(vals);
	if (err == -ENOMEM)
		bh_err(ctx, err, false, "out of memory");
	return err;
}

static int ct_grow(void **keys, size_t ksz, struct bh_ct_val **vals, size_t *cap, size_t want)
{
	size_t n = *cap ? 2 * *cap : 1024;
	struct bh_ct_val *v;
	void *k;

	while (n < want)
		n *= 2;
	k = realloc(*keys, n * ksz);
	if (!k)
		return -ENOMEM;
	*keys = k;
	v = realloc(*vals, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*vals = v;
	*cap = n;
	return 0;
}

/* Conntrack can hold BH_CT_SIZE entries: read a map of it in batches (a
 * few syscalls) rather than two syscalls per entry. Keys are ksz bytes. */
static int ct_read_map(struct bh_ctx *ctx, enum bh_map_idx mi, size_t ksz, void **keys_out,
		       struct bh_ct_val **vals_out, size_t *nr_out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd = ctx->map_fds[mi];
	size_t cap = 0, nr = 0;
	void *keys = NULL;
	struct bh_ct_val *vals = NULL;
	__u64 token[8];		/* >= the batch cursor of a hash map */
	bool first = true;
	int err = 0;

	for (int round = 0; round < 1 << 16 && !err; round++) {
		__u32 count;

		if (cap - nr < 256 && (err = ct_grow(&keys, ksz, &vals, &cap, 0)))
			break;
		count = cap - nr;
		if (!bpf_map_lookup_batch(fd, first ? NULL : token, token, (char *)keys + nr * ksz,
					  vals + nr, &count, &bo)) {
			nr += count;
			first = false;
			continue;
		}
		if (errno == ENOENT) {
			*keys_out = keys;
			*vals_out = vals;
			*nr_out = nr + count;
			return 0;
		}
		if (errno == ENOSPC && count == 0) {
			err = ct_grow(&keys, ksz, &vals, &cap, 0);	/* a bucket larger than the room */
		} else if (first && (errno == EINVAL || errno == 524 || errno == EOPNOTSUPP)) {
			free(keys);
			free(vals);
			return bh_maps_dump(ctx, bh_map_names[mi], ksz, sizeof(*vals), keys_out,
					    (void **)vals_out, nr_out);
		} else {
			err = bh_err(ctx, -errno, false, "cannot read conntrack: %m");
		}
	}
	if (!err)
		err = bh_err(ctx, -EAGAIN, false, "conntrack changes too fast to be read");
	else if (err == -ENOMEM)
		bh_err(ctx, err, false, "out of memory");
	free(keys);
	free(vals);
	return err;
}

/* All of conntrack as bh_ct_key: bh_ct_v3 (IPv6), then the IPv4 flows of
 * bh_ct4_v2 with their addresses IPv4-mapped. */
static int ct_read_all(struct bh_ctx *ctx, struct bh_ct_key **keys_out,
		       struct bh_ct_val **vals_out, size_t *nr_out)
{
	struct bh_ct_val *vals, *vals4 = NULL;
	struct bh_ct4_key *keys4 = NULL;
	void *keys;
	size_t nr, nr4 = 0, cap;
	int err = bh_ctx_load(ctx);

	if (err)
		return err;
	err = ct_read_map(ctx, BH_M_CT, sizeof(struct bh_ct_key), &keys, &vals, &nr);
	if (err)
		return err;
	err = ct_read_map(ctx, BH_M_CT4, sizeof(*keys4), (void **)&keys4, &vals4, &nr4);
	cap = nr;
	if (!err && nr4 && (err = ct_grow(&keys, sizeof(struct bh_ct_key), &vals, &cap, nr + nr4)))
		bh_err(ctx, err, false, "out of memory");
	if (err) {
		free(keys);
		free(vals);
		free(keys4);
		free(vals4);
		return err;
	}
	for (size_t i = 0; i < nr4; i++) {
		bh_ct4_key_to((struct bh_ct_key *)keys + nr + i, &keys4[i]);
		vals[nr + i] = vals4[i];
	}
	free(keys4);
	free(vals4);
	*keys_out = keys;
	*vals_out = vals;
	*nr_out = nr + nr4;
	return 0;
}

int bh_maps_ct_count_live(struct bh_ctx *ctx, __u64 *live, size_t nr)
{
	const __u64 sec = 1000000000ULL, est = 12ULL * 3600 * sec, other = 60 * sec;
	static const struct { enum bh_map_idx mi; size_t ksz, proto_off; } m[2] = {
		{ BH_M_CT, sizeof(struct bh_ct_key), offsetof(struct bh_ct_key, proto) },
		{ BH_M_CT4, sizeof(struct bh_ct4_key), offsetof(struct bh_ct4_key, proto) },
	};
	struct timespec ts;
	__u64 now;
	int err = 0;

	/* the maps as pinned, without loading the context (see l2id.c) */
	if (bh_map_fd(ctx, bh_map_names[BH_M_CT]) < 0)
		return -ENOENT;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * sec + (__u64)ts.tv_nsec;
	for (int t = 0; t < 2 && !err; t++) {
		struct bh_ct_val *vals;
		__u8 *keys;
		size_t n;

		if (bh_map_fd(ctx, bh_map_names[m[t].mi]) < 0)
			return -ENOENT;
		err = ct_read_map(ctx, m[t].mi, m[t].ksz, (void **)&keys, &vals, &n);
		for (size_t i = 0; !err && i < n; i++) {
			const struct bh_ct_val *v = &vals[i];
			__u8 proto = keys[i * m[t].ksz + m[t].proto_off];
			__u64 ttl = (proto == 6 && v->tcp_state == BH_TCP_ESTABLISHED ? est : other) +
				    2 * sec;

			if (v->slot < nr && (now < v->last_ns || now - v->last_ns <= ttl))
				live[v->slot]++;
		}
		if (!err) {
			free(keys);
			free(vals);
		}
	}
	return err;
}

/* Delete a conntrack entry from the map that holds it. */
static int ct_delete(struct bh_ctx *ctx, const struct bh_ct_key *k)
{
	if (bh_ct_key_is_v4(k)) {
		struct bh_ct4_key k4;

		bh_ct4_key_from(&k4, k);
		return bpf_map_delete_elem(ctx->map_fds[BH_M_CT4], &k4) ? -errno : 0;
	}
	return bpf_map_delete_elem(ctx->map_fds[BH_M_CT], k) ? -errno : 0;
}

/*
 * Conntrack entries were deleted: the programs' flow caches (lib/bpf/
 * fcache.h) must stop serving them. A new generation makes every cached
 * entry stale. The clock makes the value differ from any a concurrent
 * writer stored (the store lock serialises most writers, not all).
 */
int bh_maps_ct_changed(struct bh_ctx *ctx)
{
	int fd = ctx->map_fds[BH_M_CTGEN];
	struct timespec ts;
	__u64 gen = 0, now;
	__u32 zero = 0;

	if (fd < 0)
		return 0;	/* nothing loaded: no cache to invalidate */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	if (bpf_map_lookup_elem(fd, &zero, &gen))
		return bh_err(ctx, -errno, false, "cannot read the conntrack generation: %m");
	gen = now > gen ? now : gen + 1;
	if (bpf_map_update_elem(fd, &zero, &gen, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot bump the conntrack generation: %m");
	return 0;
}

/*
 * Delete the conntrack entries match() picks, then bump the generation if
 * any went. *nr counts them; what names them in an error ("cannot WHAT of
 * slot N").
 */
static int ct_delete_matching(struct bh_ctx *ctx,
			      bool (*match)(const struct bh_ct_key *k, const struct bh_ct_val *v,
					    void *arg),
			      void *arg, const char *what, int *nr_deleted)
{
	struct bh_ct_key *keys;
	struct bh_ct_val *vals;
	size_t nr;
	int err, n = 0;

	err = ct_read_all(ctx, &keys, &vals, &nr);
	if (err)
		return err;
	for (size_t i = 0; i < nr && !err; i++) {
		int e;

		if (!match(&keys[i], &vals[i], arg))
			continue;
		e = ct_delete(ctx, &keys[i]);
		if (e && e != -ENOENT)
			err = bh_err(ctx, e, false, "cannot %s of slot %u: %s", what, vals[i].slot,
				     strerror(-e));
		else
			n++;
	}
	free(keys);
	free(vals);
	*nr_deleted = n;
	if (n) {
		int e = bh_maps_ct_changed(ctx);

		err = err ? err : e;
	}
	return err;
}

struct cut_filter {
	bool (*cut)(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg);
	void *arg;
};

static bool cut_match(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg)
{
	const struct cut_filter *a = arg;

	return (v->flags & BH_CT_F_WOULD_DENY) && a->cut(k, v, a->arg);
}

int bh_maps_flows_cut(struct bh_ctx *ctx,
		      bool (*cut)(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg),
		      void *arg, int *nr_cut)
{
	struct cut_filter a = { .cut = cut, .arg = arg };
	int n = 0, err = ct_delete_matching(ctx, cut_match, &a, "cut a flow", &n);

	if (nr_cut)
		*nr_cut = n;
	return err;
}

struct purge_arg {
	__u32 slot, ifindex;
};

static bool purge_match(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg)
{
	const struct purge_arg *a = arg;

	return v->slot == a->slot || k->ifindex == a->ifindex;
}

/* Conntrack entries of the slot (named in the value) or of the interface
 * (the key): a recreated veth, whose new ifindex an older interface may
 * have had, inherits nothing either. */
static int ct_purge(struct bh_ctx *ctx, __u32 slot, __u32 ifindex)
{
	struct purge_arg a = { .slot = slot, .ifindex = ifindex };
	int n;

	return ct_delete_matching(ctx, purge_match, &a, "delete a stale conntrack entry", &n);
}

/* Occupancy of conntrack for metrics: read only what is pinned, never
 * load or create anything (a scrape before the first attach counts 0). */
int bh_ct_count(struct bh_ctx *ctx, uint64_t *entries, uint64_t *capacity)
{
	static const enum bh_map_idx maps[] = { BH_M_CT, BH_M_CT4 };
	static const size_t ksz[] = { sizeof(struct bh_ct_key), sizeof(struct bh_ct4_key) };
	int err;

	*entries = *capacity = 0;
	if (!ctx->loaded && ctx->map_fds[BH_M_CT] < 0 && (err = bh_loader_open_pinned(ctx)))
		return err;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bh_ct_val *vals;
		void *keys;
		size_t nr;

		if (ctx->map_fds[maps[i]] < 0)
			continue;
		err = ct_read_map(ctx, maps[i], ksz[i], &keys, &vals, &nr);
		if (err)
			return err;
		free(keys);
		free(vals);
		*entries += nr;
		*capacity += BH_CT_SIZE;
	}
	return *capacity ? 0 : -ENOENT;
}
