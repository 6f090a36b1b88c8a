/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layer 2 identity: a workload is bound to its MAC as it is to its
 * addresses. On a bridge, neighbours learn who is where from the frames a
 * container sends (the bridge's forwarding table, ARP and neighbour
 * caches), so from the container (egress):
 * - the Ethernet source must be the workload's MAC, on every frame
 *   (the established fast paths check it too: bh_l2_frame_ok);
 * - the ARP sender MAC and an ND link-layer address option must be the
 *   frame's (so the workload's) MAC;
 * - an NA may only advertise one of the workload's addresses, or its
 *   link-local address (EUI-64 of its MAC once the MAC is bound), and ND
 *   from a link-local source must come from that address;
 * - router advertisements, ICMPv6 and ICMP redirects only from a workload
 *   marked as a router (`attach --router`);
 * - ARP and ND frames no longer than ARP and ND need (parse.h).
 * To the container (ingress), a frame must be for it: the destination MAC
 * is its MAC or a group address, and the destination address is one of
 * its addresses, a multicast or the limited broadcast address (ND also its
 * link-local address). Anything else is dropped as BH_R_NOT_OURS: on a
 * bridge a neighbour could otherwise send a frame to this workload's MAC
 * with a destination address its own policy allowed (another peer's).
 *
 * A slot without BH_L2_F_BOUND (no MAC learned or given) skips the checks
 * that need the MAC; the others stay.
 */
#ifndef BH_BPF_L2_H
#define BH_BPF_L2_H

#include "parse.h"
#include "spoof.h"

static __always_inline const struct bh_l2 *bh_l2_of(__u32 slot)
{
	return bpf_map_lookup_elem(&bh_l2_v1, &slot);
}

/* MACs compared as three 16-bit words: every MAC here starts at an even
 * offset (map value, packet copy, Ethernet header). */
static __always_inline int bh_mac_eq(const __u8 *a, const __u8 *b)
{
	const __u16 *x = (const __u16 *)a, *y = (const __u16 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

static __always_inline int bh_l2_bound(const struct bh_l2 *l2)
{
	return l2 && (l2->flags & BH_L2_F_BOUND);
}

/*
 * The Ethernet header (destination, source: 12 bytes) against the
 * workload's MAC: from the container the source is its MAC; to it the
 * destination is its MAC or a group address. 1 if it fits.
 */
static __always_inline int bh_l2_frame_ok(const struct bh_l2 *l2, __u8 dir, const __u8 *eth)
{
	if (!bh_l2_bound(l2))
		return 1;
	if (dir == BH_DIR_EGRESS)
		return bh_mac_eq(eth + 6, l2->mac);
	return (eth[0] & 1) || bh_mac_eq(eth, l2->mac);
}

static __always_inline int bh_addr_is_ll(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* addr is the workload's link-local address: fe80::/10 while no MAC is
 * bound, else the EUI-64 address of its MAC (RFC 4291 appendix A; what
 * Linux configures by default). */
static __always_inline int bh_l2_owns_ll(const struct bh_l2 *l2, const __u8 *a)
{
	if (!bh_addr_is_ll(a))
		return 0;
	if (!bh_l2_bound(l2))
		return 1;
	return a[1] == 0x80 && !(a[2] | a[3] | a[4] | a[5] | a[6] | a[7]) &&
	       a[8] == (l2->mac[0] ^ 2) && a[9] == l2->mac[1] && a[10] == l2->mac[2] &&
	       a[11] == 0xff && a[12] == 0xfe && a[13] == l2->mac[3] &&
	       a[14] == l2->mac[4] && a[15] == l2->mac[5];
}

/* Router advertisement, ICMPv6 redirect, ICMP redirect. */
static __always_inline int bh_is_router_msg(const struct bh_pkt *pkt)
{
	__u8 type = pkt->pport >> 8;

	if (pkt->frag == BH_FRAG_LATER)
		return 0;	/* its first fragment was judged */
	if (pkt->family == 6 && pkt->proto == BH_IPPROTO_ICMPV6)
		return type == 134 || type == 137;
	return pkt->family == 4 && pkt->proto == BH_IPPROTO_ICMP && type == 5;
}

/* Container egress, after the address checks (spoof.h). 0 or BH_ERR. */
static __always_inline int bh_l2_check_egress(const struct bh_l2 *l2, const struct bh_workload *wl,
					      const struct bh_pkt *pkt)
{
	if (!bh_l2_frame_ok(l2, BH_DIR_EGRESS, pkt->eth))
		return BH_ERR(BH_R_SPOOF_MAC);
	if (pkt->l2_flags & BH_PKT_L2_OVERSIZE)
		return BH_ERR(BH_R_MALFORMED);
	/* what neighbours learn must be the frame's, hence the workload's, MAC */
	if ((pkt->l2_flags & BH_PKT_L2_LLADDR) && pkt->nd_type != 137 &&
	    !bh_mac_eq(pkt->lladdr, pkt->eth + 6))
		return BH_ERR(pkt->arp ? BH_R_SPOOF_ARP : BH_R_SPOOF_MAC);
	if (pkt->arp)
		return 0;
	if (bh_is_router_msg(pkt) && !(l2 && (l2->flags & BH_L2_F_ROUTER)))
		return BH_ERR(BH_R_ROUTER_MSG);
	if (pkt->nd_type == 136 && !bh_workload_owns(wl, 6, pkt->nd_target) &&
	    !bh_l2_owns_ll(l2, pkt->nd_target))
		return BH_ERR(BH_R_SPOOF_IP);
	if (pkt->nd && bh_addr_is_ll(pkt->saddr) && !bh_l2_owns_ll(l2, pkt->saddr))
		return BH_ERR(BH_R_SPOOF_IP);
	return 0;
}

static __always_inline int bh_addr_is_group(__u8 family, const __u8 *a)
{
	if (family == 6)
		return a[0] == 0xff;
	/* 224.0.0.0/4 and 255.255.255.255 (IPv4-mapped) */
	return (a[12] & 0xf0) == 0xe0 || ((const __u32 *)a)[3] == 0xffffffff;
}

/* Container ingress: the frame must be for the workload. 0 or BH_ERR. */
static __always_inline int bh_l2_check_ingress(const struct bh_l2 *l2, const struct bh_workload *wl,
					       const struct bh_pkt *pkt)
{
	if (!bh_l2_frame_ok(l2, BH_DIR_INGRESS, pkt->eth))
		return BH_ERR(BH_R_NOT_OURS);
	if (pkt->arp) {
		/* requests are broadcast to the whole link; a unicast ARP
		 * asks or answers for the workload's own address */
		if ((pkt->eth[0] & 1) || bh_workload_owns(wl, 4, pkt->daddr))
			return 0;
		return BH_ERR(BH_R_NOT_OURS);
	}
	if (bh_workload_owns(wl, pkt->family, pkt->daddr) || bh_addr_is_group(pkt->family, pkt->daddr))
		return 0;
	if (pkt->nd && bh_l2_owns_ll(l2, pkt->daddr))
		return 0;
	return BH_ERR(BH_R_NOT_OURS);
}

/*
 * ARP and ND of a quarantined workload, either way: neighbour resolution
 * goes on (the forensics exception's connections need it), nothing else
 * of layer 2 does. ARP, RS, NS and NA of their own size pass; router
 * messages and MLD are dropped.
 */
static __always_inline int bh_l2_quarantine_ok(const struct bh_pkt *pkt)
{
	if (pkt->arp)
		return 1;
	return pkt->nd_type == 133 || pkt->nd_type == 135 || pkt->nd_type == 136;
}

#endif /* BH_BPF_L2_H */
