// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Layer 2 identity and shares of a workload slot; see l2id.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "ctx_int.h"
#include "l2id.h"
#include "maps.h"
#include "rtlink.h"

int bh_mac_parse(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char end;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
			 &b[5], &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

void bh_mac_format(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

int bh_l2_peer_mac(__u32 ifindex, __u8 mac[6])
{
	struct bh_link host, peer;
	int err;

	err = bh_link_get((int)ifindex, NULL, -1, &host);
	if (!err && (strcmp(host.kind, "veth") || host.link <= 0))
		err = -ENOENT;
	if (!err)
		err = bh_link_get(host.link, NULL, host.link_nsid, &peer);
	if (!err && !peer.has_mac)
		err = -ENOENT;
	if (!err)
		memcpy(mac, peer.mac, 6);
	else if (err == -ENODEV || err == -EINVAL || err == -EOPNOTSUPP)
		err = -ENOENT;	/* the peer cannot be read: no MAC to bind */
	return err;
}

/* The map's fd (opened as pinned if need be), or a negative errno with
 * the context's message. Owned by the context: valid until it is loaded
 * again (bh_ctx_load reopens every map). */
static int map_fd(struct bh_ctx *ctx, const char *name)
{
	return bh_map_fd(ctx, name);
}

int bh_l2_slot_set(struct bh_ctx *ctx, __u32 slot, const __u8 *mac, bool router)
{
	struct bh_l2 l2 = { .flags = router ? BH_L2_F_ROUTER : 0 };
	struct bh_share share = { 0 };
	__s64 base = 0;
	int fl = map_fd(ctx, BH_MAP_L2), fs = map_fd(ctx, BH_MAP_SHARE),
	    fb = map_fd(ctx, BH_MAP_CT_BASE);

	if (fl < 0 || fs < 0 || fb < 0)
		return fl < 0 ? fl : fs < 0 ? fs : fb;
	if (mac) {
		memcpy(l2.mac, mac, 6);
		l2.flags |= BH_L2_F_BOUND;
	}
	/* shares first: the identity is what the next packet is judged by */
	if (bpf_map_update_elem(fs, &slot, &share, BPF_ANY) ||
	    bpf_map_update_elem(fb, &slot, &base, BPF_ANY) ||
	    bpf_map_update_elem(fl, &slot, &l2, BPF_ANY))
		return bh_err(ctx, -errno, false, "cannot write the layer 2 identity of slot %u: %m",
			      slot);
	return 0;
}

int bh_l2_slot_get(struct bh_ctx *ctx, __u32 slot, __u8 mac[6], bool *bound, bool *router)
{
	struct bh_l2 l2 = { 0 };
	int fd = map_fd(ctx, BH_MAP_L2);

	*bound = *router = false;
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &slot, &l2))
		return bh_err(ctx, -errno, false, "cannot read the layer 2 identity of slot %u: %m",
			      slot);
	memcpy(mac, l2.mac, 6);
	*bound = l2.flags & BH_L2_F_BOUND;
	*router = l2.flags & BH_L2_F_ROUTER;
	return 0;
}

int bh_ct_share_recount(struct bh_ctx *ctx)
{
	__u64 *created = NULL, *live = NULL;
	int fs, fb, err;

	/* Never loads: the agent must not pin an instance again after a
	 * reset. The maps are opened as pinned, and nothing here loads the
	 * context (which would reopen them under other fd numbers). */
	err = 0;
	fs = map_fd(ctx, BH_MAP_SHARE);
	fb = map_fd(ctx, BH_MAP_CT_BASE);
	if (fs < 0 || fb < 0)
		return fs < 0 ? fs : fb;	/* not pinned (reset): nothing to count */
	created = calloc(BH_MAX_WORKLOADS, sizeof(*created));
	live = calloc(BH_MAX_WORKLOADS, sizeof(*live));
	if (!created || !live) {
		err = bh_err(ctx, -ENOMEM, false, "out of memory");
		goto out;
	}
	/* inserts first, the walk after: an entry inserted meanwhile is
	 * counted twice (safe: the share only errs on the full side) */
	for (__u32 s = 0; s < BH_MAX_WORKLOADS && !err; s++) {
		struct bh_share v;

		if (bpf_map_lookup_elem(fs, &s, &v))
			err = bh_err(ctx, -errno, false, "cannot read the share of slot %u: %m", s);
		else
			created[s] = v.ct_created;
	}
	if (!err)
		err = bh_maps_ct_count_live(ctx, live, BH_MAX_WORKLOADS);
	for (__u32 s = 0; s < BH_MAX_WORKLOADS && !err; s++) {
		__s64 base = (__s64)live[s] - (__s64)created[s];

		if (bpf_map_update_elem(fb, &s, &base, BPF_ANY))
			err = bh_err(ctx, -errno, false, "cannot write the share of slot %u: %m", s);
	}
out:
	free(created);
	free(live);
	return err;
}
