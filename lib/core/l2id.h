/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A workload's layer 2 identity (its MAC, whether it is a router) and its
 * share of the data path's shared tables, kept per workload slot in
 * bh_l2_v1, bh_share_v1 and bh_ct_base_v1 (lib/bpf/l2.h, lib/bpf/share.h).
 */
#ifndef BULKHEAD_L2ID_H
#define BULKHEAD_L2ID_H

#include <stdbool.h>
#include "bulkhead.h"

/* "aa:bb:cc:dd:ee:ff" -> mac. -EINVAL: not a MAC, or a group or all-zero
 * address (no interface has one). */
int bh_mac_parse(const char *s, __u8 mac[6]);
void bh_mac_format(const __u8 mac[6], char *buf, size_t len);

/* The MAC of the other end of the veth ifindex (in whatever network
 * namespace it is), over rtnetlink. -ENOENT: ifindex is not a veth or its
 * peer cannot be read (then there is no MAC to bind). */
int bh_l2_peer_mac(__u32 ifindex, __u8 mac[6]);

/* Write the slot's layer 2 identity (mac NULL: none bound) and start its
 * shares afresh (the slot's conntrack entries were purged). Programs from
 * an older build have no such maps: then nothing is written. */
int bh_l2_slot_set(struct bh_ctx *ctx, __u32 slot, const __u8 *mac, bool router);

/* Read the slot's layer 2 identity: *bound 0 when no MAC is bound. */
int bh_l2_slot_get(struct bh_ctx *ctx, __u32 slot, __u8 mac[6], bool *bound, bool *router);

/* Count every workload's live conntrack entries and write the counts'
 * bases (lib/bpf/share.h), so that entries gone since the last recount
 * are no longer held against a workload's share. */
int bh_ct_share_recount(struct bh_ctx *ctx);

#endif /* BULKHEAD_L2ID_H */
