// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Policy maps of unread slots, filled and emptied in place (policy_slot.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "ctx_int.h"
#include "maps.h"
#include "policy_slot.h"

/* Slots given a map per batch update: as many fds open at once. */
#define SPARE_BATCH	256

int bh_slot_unread(struct bh_ctx *ctx, __u32 slot, bool *unread)
{
	struct bh_workload *vals;
	void *keys;
	size_t nr;
	int err;

	*unread = false;
	err = bh_maps_dump(ctx, BH_MAP_WORKLOADS, sizeof(__u32), sizeof(*vals), &keys,
			   (void **)&vals, &nr);
	if (err)
		return err;
	*unread = true;
	for (size_t i = 0; i < nr; i++)
		if (vals[i].slot == slot)
			*unread = false;
	free(keys);
	free(vals);
	return 0;
}

/* An fd of the slot's own inner map and its room; -ENOENT when the slot
 * has no map or has the shared deny-all map (quarantine). */
static int own_map(struct bh_ctx *ctx, __u32 slot, __u32 *room)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), id = bh_maps_slot_map_id(ctx, slot);
	int fd, err;

	if (!id || bh_maps_policy_is_quarantined(ctx, slot))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return bh_err(ctx, err, false, "cannot read the policy map of slot %u: %s", slot,
			      strerror(-err));
	}
	*room = info.max_entries;
	return fd;
}

/* Delete every entry, first key first: a delete restarts an LPM trie's
 * walk, and this needs no copy of the keys. Bounded by the map's room. */
static int empty_map(struct bh_ctx *ctx, int fd, __u32 room)
{
	struct bh_policy_key k;

	for (__u64 n = 0; n <= room; n++) {
		if (bpf_map_get_next_key(fd, NULL, &k))
			return errno == ENOENT ? 0
			       : bh_err(ctx, -errno, false, "cannot walk a policy map: %m");
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			return bh_err(ctx, -errno, false, "cannot empty a policy map: %m");
	}
	return bh_err(ctx, -EAGAIN, false, "a policy map does not empty");
}

int bh_slot_fill(struct bh_ctx *ctx, __u32 slot, const struct bh_policy_entry *e, size_t nr,
		 __u64 digest, bool *done)
{
	struct bh_policy_key dk;
	struct bh_policy_val dv;
	bool unread;
	__u32 room;
	int fd, err;

	*done = false;
	err = bh_slot_unread(ctx, slot, &unread);
	if (err || !unread)
		return err;
	if (!bh_maps_slot_map_id(ctx, slot) && (err = bh_slot_spares(ctx)))
		return err;
	fd = own_map(ctx, slot, &room);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (nr + 1 > room) {
		close(fd);
		return 0;
	}
	/* the digest entry goes with the rest and comes back last: a fill
	 * cut short never looks complete to the next sync */
	err = empty_map(ctx, fd, room);
	for (size_t i = 0; i < nr && !err; i++)
		err = bh_maps_inner_put(ctx, fd, &e[i].key, &e[i].val);
	bh_policy_digest_entry(digest, &dk, &dv);
	if (!err)
		err = bh_maps_inner_put(ctx, fd, &dk, &dv);
	close(fd);
	*done = !err;
	return err;
}

/* bh_policy_v1[slots[i]] = fds[i], then the fds closed (the outer map
 * holds the maps). */
static int install(struct bh_ctx *ctx, size_t n, const __u32 *slots, int *fds)
{
	int err = bh_maps_policy_swap_many(ctx, n, slots, fds);

	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return err;
}

int bh_slot_spares(struct bh_ctx *ctx)
{
	__u32 slots[SPARE_BATCH];
	int fds[SPARE_BATCH];
	size_t n = 0;
	int err = 0;

	for (__u32 s = 0; s < BH_MAX_WORKLOADS && !err; s++) {
		if (bh_maps_slot_map_id(ctx, s))
			continue;
		err = bh_maps_inner_create(ctx, BH_SLOT_SPARE_SIZE, &fds[n]);
		if (err)
			break;
		slots[n++] = s;
		if (n == SPARE_BATCH) {
			err = install(ctx, n, slots, fds);
			n = 0;
		}
	}
	if (err) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		return err;
	}
	return install(ctx, n, slots, fds);
}

int bh_slot_release(struct bh_ctx *ctx, __u32 slot)
{
	bool unread;
	__u32 room;
	int fd, err;

	err = bh_slot_unread(ctx, slot, &unread);
	if (err)
		return err;
	if (unread && !bh_maps_slot_map_id(ctx, slot))
		return 0;	/* nothing to empty; the next fill gives it a map */
	fd = unread ? own_map(ctx, slot, &room) : -ENOENT;
	if (fd >= 0) {
		err = empty_map(ctx, fd, room);
		close(fd);
		return err;
	}
	if (fd != -ENOENT)
		return fd;
	/* read, or the deny-all map: an empty map of its own, in one swap */
	err = bh_maps_inner_create(ctx, BH_SLOT_SPARE_SIZE, &fd);
	if (err)
		return err;
	err = bh_maps_policy_swap(ctx, slot, fd);
	close(fd);
	return err;
}
