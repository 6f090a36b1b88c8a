// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Conntrack from value layout v2 (bh_ct_v2, bh_ct4_v1: 64 bytes) into
 * this build's (bh_ct_v3, bh_ct4_v2: 88 bytes). The keys did not change;
 * the first 64 bytes of the value did not either. The TCP sequence
 * tracking the new layout adds starts unset (td_seen 0): the new programs
 * learn each direction's sequence from its next segment, and the window
 * scale, which only the SYNs carry, stays unknown, so a RST is judged
 * against the unscaled window (at least 64 KiB, lib/bpf/tcp.h) -- a
 * narrower window, never a wider one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "ctx_int.h"
#include "migrate.h"

#define CT_V2_VAL	64
#define CT_KEY_MAX	64

_Static_assert(offsetof(struct bh_ct_val, td_end) == CT_V2_VAL,
	       "the v2 value is the prefix of this build's");

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* Write the old entry into the new map: absent -> copied; present (the
 * new programs, or an earlier pass, wrote it) -> refreshed only if the
 * old programs saw the flow later than the new one's last packet, and
 * then with the new entry's sequence tracking kept. */
static int carry_one(int to, const void *key, const struct bh_ct_val *old,
		     struct bh_migrate_count *c)
{
	struct bh_ct_val cur;

	if (!bpf_map_update_elem(to, key, old, BPF_NOEXIST)) {
		c->copied++;
		if (old->slot < BH_MAX_WORKLOADS)
			c->slot_entries[old->slot]++;
		return 0;
	}
	if (errno != EEXIST)
		return -errno;
	if (bpf_map_lookup_elem(to, key, &cur))
		return errno == ENOENT ? 0 : -errno;	/* evicted meanwhile */
	if (old->last_ns <= cur.last_ns && old->tcp_state <= cur.tcp_state)
		return 0;
	{
		struct bh_ct_val v = *old;

		if (v.tcp_state < cur.tcp_state)
			v.tcp_state = cur.tcp_state;
		v.tcp_flags |= cur.tcp_flags;
		v.flags |= cur.flags;
		memcpy(v.td_end, cur.td_end, sizeof(v.td_end));
		memcpy(v.td_maxwin, cur.td_maxwin, sizeof(v.td_maxwin));
		memcpy(v.td_wscale, cur.td_wscale, sizeof(v.td_wscale));
		v.td_seen = cur.td_seen;
		if (bpf_map_update_elem(to, key, &v, BPF_EXIST))
			return errno == ENOENT ? 0 : -errno;
	}
	c->merged++;
	return 0;
}

int bh_migrate_ct_v2(struct bh_ctx *ctx, int from, int to, enum bh_migrate_phase phase,
		     struct bh_migrate_count *c)
{
	struct bpf_map_info fi, ti;
	__u8 key[CT_KEY_MAX], next[CT_KEY_MAX];
	__u64 rounds = 0, max_rounds;
	bool first = true;
	int err;

	(void)phase;	/* both phases do the same: copy what is new, refresh what advanced */
	err = map_info(from, &fi);
	if (!err)
		err = map_info(to, &ti);
	if (err)
		return bh_err(ctx, err, false, "cannot read the conntrack maps' layout: %s",
			      strerror(-err));
	if (fi.value_size != CT_V2_VAL || ti.value_size != sizeof(struct bh_ct_val) ||
	    fi.key_size != ti.key_size || fi.key_size > CT_KEY_MAX)
		return bh_err(ctx, -EINVAL, false,
			      "conntrack layouts differ from what this build converts "
			      "(old key %u value %u, new key %u value %u)",
			      fi.key_size, fi.value_size, ti.key_size, ti.value_size);
	/* the old programs still insert and evict: a deleted cursor restarts
	 * the walk, so it is bounded */
	max_rounds = 4ULL * fi.max_entries + 16;
	while (rounds++ < max_rounds) {
		struct bh_ct_val v = { 0 };

		if (bpf_map_get_next_key(from, first ? NULL : key, next)) {
			if (errno == ENOENT)
				return 0;
			return bh_err(ctx, -errno, false, "cannot walk the old conntrack: %m");
		}
		first = false;
		memcpy(key, next, fi.key_size);
		if (bpf_map_lookup_elem(from, key, &v)) {
			if (errno == ENOENT)
				continue;	/* expired meanwhile */
			return bh_err(ctx, -errno, false, "cannot read the old conntrack: %m");
		}
		memset((__u8 *)&v + CT_V2_VAL, 0, sizeof(v) - CT_V2_VAL);
		err = carry_one(to, key, &v, c);
		if (err == -E2BIG || err == -ENOMEM) {
			c->skipped++;
			continue;
		}
		if (err)
			return bh_err(ctx, err, false, "cannot write conntrack: %s", strerror(-err));
	}
	return bh_err(ctx, -EAGAIN, false, "the old conntrack kept changing under the walk");
}
