/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend: one workload's compiled policy for one direction
 * as an nftables table (family inet), for comparison with the BPF data
 * path and for hosts that want it. Same model, same semantics: the
 * elements are computed with bh_eval/bh_eval_identity, so the table gives
 * exactly the verdicts the data path gives (enforced verdicts only; audit
 * policies, monitor and learn modes pass everything).
 *
 *   table inet NAME {
 *     map wl4 { type ipv4_addr . inet_proto . inet_service : verdict
 *               flags interval }                   (and wl6 for IPv6)
 *     chain forward { type filter hook forward priority 0; policy accept;
 *                     oifname IFNAME jump wl }      (iifname for egress)
 *     chain wl {
 *       ct state established,related accept
 *       meta nfproto ipv4 meta l4proto icmp
 *            ip saddr . meta l4proto . @th,0,16 vmap @wl4   (type . code)
 *       meta nfproto ipv4 meta l4proto != icmp
 *            ip saddr . meta l4proto . th dport vmap @wl4
 *       (the same two for ipv6 / icmpv6)
 *       DEFAULT                                 drop when isolated
 *     }
 *   }
 * The map's elements are disjoint boxes (address range x protocol range x
 * port range): nftables interval maps refuse overlaps, so the address
 * space is cut where ipcache prefixes begin and end, the (protocol, port)
 * space where policy entries do, and each box gets the verdict bh_eval
 * gives at its corner. Only boxes whose verdict differs from DEFAULT are
 * emitted.
 *
 * Building the netlink batch is apart from sending it, so the messages are
 * unit-tested without root (tests/unit/test_nft.c).
 */
#ifndef BULKHEAD_POLICY_NFT_H
#define BULKHEAD_POLICY_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* One disjoint box of the verdict map. */
struct bh_nft_elem {
	__u8 family;			/* 4 or 6 */
	__u8 addr_lo[16], addr_hi[16];	/* IPv4: first 4 bytes, network order */
	__u8 proto_lo, proto_hi;
	__u16 port_lo, port_hi;		/* host order; ICMP: type << 8 | code */
	bool accept;
};

struct bh_nft_ruleset {
	enum bh_dir dir;		/* INGRESS: peer is the source address */
	bool default_accept;		/* verdict of what no element matches */
	size_t nr;
	struct bh_nft_elem *elems;
};

/* Compute the elements for workload w (one of out->workloads) and dir.
 * mode != BH_MODE_ENFORCE gives an empty, accepting ruleset. */
int bh_nft_ruleset_build(const struct bh_compile_output *out,
			 const struct bh_compiled_workload *w, enum bh_dir dir,
			 enum bh_mode mode, struct bh_nft_ruleset *rs);
void bh_nft_ruleset_free(struct bh_nft_ruleset *rs);

/* A netlink batch (NFNL_MSG_BATCH_BEGIN ... END) in one buffer. */
struct bh_nft_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq;			/* next sequence number */
	uint32_t last_seq;		/* of the message that asks for the ack */
	size_t last_off;		/* where that message starts in buf */
};

struct bh_nft_target {
	const char *table;		/* table name, family inet */
	const char *ifname;		/* the workload's host-side veth */
};

/* Replace (create or atomically redefine) the table with the ruleset. */
int bh_nft_build_install(const struct bh_nft_ruleset *rs, const struct bh_nft_target *t,
			 struct bh_nft_batch *b);
/* Delete the table (fails with -ENOENT at send time if it is absent). */
int bh_nft_build_delete(const char *table, struct bh_nft_batch *b);
void bh_nft_batch_free(struct bh_nft_batch *b);

/* Send a batch on a NETLINK_NETFILTER socket and wait for the kernel's
 * answer (bounded: a few seconds). Needs CAP_NET_ADMIN. */
int bh_nft_send(const struct bh_nft_batch *b);

#endif /* BULKHEAD_POLICY_NFT_H */
