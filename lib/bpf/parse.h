/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing: Ethernet, ARP, IPv4 (options, fragments), IPv6 (bounded
 * extension chain, fragments), TCP, UDP, SCTP, ICMP, ICMPv6.
 *
 * Anything truncated or inconsistent is BH_R_MALFORMED: a packet is passed
 * only when every header the verdict depends on was read and checked.
 * Addresses are kept as 16 bytes, IPv4 IPv4-mapped, like every map key.
 */
#ifndef BH_BPF_PARSE_H
#define BH_BPF_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "ctx.h"
#include "maps.h"
#include "verdict.h"
#include "icmp.h"
#include "encap.h"
#include "tcp.h"

#define BH_ETH_HLEN	14
#define BH_ETH_P_IP	0x0800
#define BH_ETH_P_ARP	0x0806
#define BH_ETH_P_IPV6	0x86DD
#define BH_ETH_P_8021Q	0x8100
#define BH_ETH_P_8021AD	0x88A8
#define BH_ETH_P_QINQ1	0x9100	/* pre-standard QinQ, still seen */

#define BH_IPPROTO_ICMP		1
#define BH_IPPROTO_TCP		6
#define BH_IPPROTO_UDP		17
#define BH_IPPROTO_ICMPV6	58
#define BH_IPPROTO_SCTP		132

/* IPv6 extension headers walked by the parser */
#define BH_NEXTHDR_HOP		0
#define BH_NEXTHDR_ROUTING	43
#define BH_NEXTHDR_FRAGMENT	44
#define BH_NEXTHDR_AUTH		51
#define BH_NEXTHDR_DEST		60

#define BH_TCP_FIN	0x01
#define BH_TCP_SYN	0x02
#define BH_TCP_RST	0x04
#define BH_TCP_ACK	0x10

enum bh_frag_kind {
	BH_FRAG_NONE = 0,
	BH_FRAG_FIRST,		/* offset 0, more fragments follow */
	BH_FRAG_LATER,		/* offset > 0: no L4 header in this packet */
};

/* The packet an ICMP error quotes: the flow the error belongs to. */
struct bh_icmp_inner {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 icmp_kind;		/* quoted ICMP query: its kind (icmp.h) */
	__u8 valid;		/* an error with a quoted tuple we could read */
	__u8 pad;
};

struct bh_pkt {
	struct bh_icmp_inner inner;
	struct bh_tcp_seg tcp;	/* TCP: what sequence tracking needs (tcp.h) */
	__u8 saddr[16];		/* IPv4-mapped for IPv4 and ARP sender */
	__u8 daddr[16];		/* IPv4-mapped for IPv4 and ARP target */
	__u32 frag_id;
	__be16 sport;		/* wire order; ICMP query: identifier, other ICMP: 0 */
	__be16 dport;		/* wire order; ICMP: type/code */
	__u16 pport;		/* host order, the port policy judges */
	__u8 family;		/* 4 or 6; 0 for ARP */
	__u8 proto;		/* L4 protocol (0 for ARP) */
	__u8 tcp_flags;
	__u8 frag;		/* enum bh_frag_kind */
	__u8 frag_proto;	/* protocol field of the fragment key */
	__u8 icmp_kind;		/* ICMP query: its kind, ct keyed on it (icmp.h) */
	__u8 nd;		/* ICMPv6 neighbour discovery or MLD report */
	__u8 hop_limit;		/* IPv6 only: ND must arrive with 255, MLD with 1 */
	__u8 arp;
	__u8 icmp_reply;	/* the reply half of a query */
	__u8 named_proto;	/* not TCP/UDP/SCTP/ICMP of its family (encap.h) */
	/* layer 2 (lib/bpf/l2.h): what the identity checks read */
	__u8 nd_type;		/* ICMPv6 type 133-137 (ND-shaped, any hop limit), else 0 */
	__u8 l2_flags;		/* BH_PKT_L2_* */
	__u8 pad[1];
	__u8 eth[12];		/* destination MAC, source MAC */
	__u8 nd_target[16];	/* NA: the address it advertises */
	__u8 lladdr[6];		/* ARP sender MAC, or the ND link-layer address option */
	__u8 pad2[2];
};

#define BH_PKT_L2_OVERSIZE	0x1	/* ARP or ND frame longer than its kind allows */
#define BH_PKT_L2_LLADDR	0x2	/* lladdr holds a link-layer address option */

/* ND: an RS, NS or NA of a host carries at most a link-layer address and
 * a nonce option (RFC 4861, 3971 §5.3.2 is SEND, not for containers);
 * MLDv2 reports (143) of a container list a few groups. Anything longer
 * is no neighbour discovery and is dropped (a quarantined workload could
 * otherwise talk to its neighbours through them). */
#define BH_ND_OPTS_MAX		2
#define BH_MLD_RECORDS_MAX	16
#define BH_ARP_FRAME_MAX	60	/* 42 bytes, padded to the Ethernet minimum */

static __always_inline void bh_addr_map4(__u8 *dst, __be32 v4)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = v4;
}

/* ARP: only Ethernet/IPv4 ARP is meaningful on a container veth. */
struct bh_arp_eth_ipv4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
} __attribute__((packed));

static __always_inline int bh_parse_arp(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 pktlen)
{
	struct bh_arp_eth_ipv4 arp __attribute__((aligned(4)));	/* bh_ctx_load */
	__be32 ip;

	if (bh_ctx_load(ctx, BH_ETH_HLEN, &arp, sizeof(arp)) < 0)
		return BH_ERR(BH_R_MALFORMED);
	if (arp.hrd != bpf_htons(1) || arp.pro != bpf_htons(BH_ETH_P_IP) ||
	    arp.hln != 6 || arp.pln != 4 ||
	    (arp.op != bpf_htons(1) && arp.op != bpf_htons(2)))
		return BH_ERR(BH_R_MALFORMED);
	__builtin_memcpy(pkt->lladdr, arp.sha, 6);
	pkt->l2_flags |= BH_PKT_L2_LLADDR;
	if (pktlen > BH_ARP_FRAME_MAX)
		pkt->l2_flags |= BH_PKT_L2_OVERSIZE;
	__builtin_memcpy(&ip, arp.sip, 4);
	bh_addr_map4(pkt->saddr, ip);
	__builtin_memcpy(&ip, arp.tip, 4);
	bh_addr_map4(pkt->daddr, ip);
	pkt->arp = 1;
	return 0;
}

struct bh_ipv4_hdr {
	__u8 vihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct bh_ipv6_hdr {
	__be32 vtcfl;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline int bh_icmp_is_error(__u8 family, __u8 type)
{
	if (family == 4)	/* unreachable, source quench, time exceeded, parameter */
		return type == 3 || type == 4 || type == 11 || type == 12;
	return type >= 1 && type <= 4;	/* unreachable, too big, time exceeded, parameter */
}

/*
 * An ICMP error quotes the IP header and the first 8 L4 bytes of the
 * packet that caused it; its tuple finds the flow in conntrack, so that
 * e.g. "fragmentation needed" reaches an allowed connection (path MTU
 * discovery). A quote we cannot read only leaves inner.valid unset: the
 * error is then judged by policy as any ICMP message.
 */
static __always_inline void bh_parse_icmp_inner(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 off)
{
	struct bh_icmp_inner *in = &pkt->inner;
	__u8 h[8] __attribute__((aligned(4)));

	if (pkt->family == 4) {
		struct bh_ipv4_hdr ip;

		if (bh_ctx_load(ctx, off, &ip, sizeof(ip)) < 0 || (ip.vihl >> 4) != 4 ||
		    (ip.vihl & 0xf) < 5 || (bpf_ntohs(ip.frag_off) & 0x1fff))
			return;
		bh_addr_map4(in->saddr, ip.saddr);
		bh_addr_map4(in->daddr, ip.daddr);
		in->proto = ip.protocol;
		off += (ip.vihl & 0xf) * 4;
	} else {
		struct bh_ipv6_hdr ip;

		if (bh_ctx_load(ctx, off, &ip, sizeof(ip)) < 0 ||
		    (bpf_ntohl(ip.vtcfl) >> 28) != 6)
			return;
		__builtin_memcpy(in->saddr, ip.saddr, 16);
		__builtin_memcpy(in->daddr, ip.daddr, 16);
		in->proto = ip.nexthdr;	/* quoted extension chains are not walked */
		off += sizeof(ip);
	}
	if (bh_ctx_load(ctx, off, h, 8) < 0)
		return;
	switch (in->proto) {
	case BH_IPPROTO_TCP:
	case BH_IPPROTO_UDP:
	case BH_IPPROTO_SCTP:
		__builtin_memcpy(&in->sport, &h[0], 2);
		__builtin_memcpy(&in->dport, &h[2], 2);
		break;
	case BH_IPPROTO_ICMP:
	case BH_IPPROTO_ICMPV6:
	{
		__u8 reply;

		/* only a query has a flow of its own */
		if ((in->proto == BH_IPPROTO_ICMP) != (pkt->family == 4))
			return;
		in->icmp_kind = bh_icmp_kind(pkt->family, h[0], &reply);
		if (in->icmp_kind == BH_ICMP_KIND_NONE)
			return;
		__builtin_memcpy(&in->sport, &h[4], 2);
		in->dport = 0;
		break;
	}
	default:
		break;
	}
	in->valid = 1;
}

/* The L4 header: ports for policy and conntrack, TCP flags, ICMP type. */
static __always_inline int bh_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

static __always_inline int bh_addr_is_v4mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

/*
 * Neighbour discovery (RFC 4861) arrives with hop limit 255 and MLD
 * (RFC 3810) with 1, and an ND message goes to a link-local or multicast
 * address, or is a solicitation/advertisement to the on-link host. Anything
 * else shaped like ND is judged as ordinary ICMPv6, so ND cannot carry data
 * past the policy to a remote address.
 */
static __always_inline int bh_is_nd(const struct bh_pkt *pkt, __u8 type)
{
	const __u8 *d = pkt->daddr;
	int local = (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) || d[0] == 0xff;

	if (type == 143)
		return pkt->hop_limit == 1 && local;
	if (type < 133 || type > 137 || pkt->hop_limit != 255)
		return 0;
	return local || type == 135 || type == 136;
}

/* The fixed part of an ND message (RFC 4861 section 4), options follow. */
static __always_inline __u32 bh_nd_fixed_len(__u8 type)
{
	switch (type) {
	case 133: return 8;	/* router solicitation */
	case 134: return 16;	/* router advertisement */
	case 137: return 40;	/* redirect */
	default: return 24;	/* neighbour solicitation, advertisement */
	}
}

/*
 * ICMPv6 133-137, whatever the hop limit: the NA's target, the link-layer
 * address option and whether the message is longer than ND needs. RA and
 * redirect are not walked: only a router may send them (l2.h). Options of
 * length 0 (RFC 4861 4.6) or past the message are malformed.
 */
/* A global function: the verifier checks it once, not once per way the
 * parser reached it (ND is rare; the call costs 8-11 ns, see datapath.h).
 * 0 or -1 (malformed). */
__attribute__((noinline)) int bh_parse_nd(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 off,
					  __u32 l4len, __u32 type)
{
	__u32 o, end = off + l4len, fixed = bh_nd_fixed_len(type);
	__u8 h[8] __attribute__((aligned(4)));
	int i;

	if (!ctx || !pkt)	/* never: the verifier wants it said */
		return -1;
	pkt->nd_type = type;
	if (l4len < fixed)
		return BH_ERR(BH_R_MALFORMED);
	if (type == 136 && bh_ctx_load(ctx, off + 8, pkt->nd_target, 16) < 0)
		return BH_ERR(BH_R_MALFORMED);
	if (type == 134 || type == 137)
		return 0;
	o = off + fixed;
	for (i = 0; i < BH_ND_OPTS_MAX; i++) {
		if (o >= end)
			break;
		if (o + 8 > end || bh_ctx_load(ctx, o, h, 8) < 0 || h[1] == 0)
			return BH_ERR(BH_R_MALFORMED);
		if (h[0] == 1 || h[0] == 2) {
			/* source / target link-layer address: 8 bytes on
			 * Ethernet, one per message */
			if (h[1] != 1 || (pkt->l2_flags & BH_PKT_L2_LLADDR))
				return BH_ERR(BH_R_MALFORMED);
			__builtin_memcpy(pkt->lladdr, &h[2], 6);
			pkt->l2_flags |= BH_PKT_L2_LLADDR;
		}
		o += (__u32)h[1] * 8;
	}
	if (o > end)
		return BH_ERR(BH_R_MALFORMED);
	if (o < end)
		pkt->l2_flags |= BH_PKT_L2_OVERSIZE;
	return 0;
}

static __always_inline int bh_parse_l4(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 off, __u32 l4len)
{
	__u8 h[20] __attribute__((aligned(4)));	/* bh_ctx_load copies words */
	__u8 type, code;

	switch (pkt->proto) {
	case BH_IPPROTO_TCP:
		if (l4len < 20 || bh_ctx_load(ctx, off, h, 20) < 0)
			return BH_ERR(BH_R_MALFORMED);
		/* data offset below 5 words or past the datagram: invalid */
		if ((h[12] >> 4) < 5 || (__u32)(h[12] >> 4) * 4 > l4len)
			return BH_ERR(BH_R_MALFORMED);
		pkt->tcp_flags = h[13];
		/* h is 4-byte aligned: whole words, one byte swap each */
		pkt->tcp.seq = bpf_ntohl(*(const __u32 *)&h[4]);
		pkt->tcp.ack = bpf_ntohl(*(const __u32 *)&h[8]);
		pkt->tcp.win = bpf_ntohs(*(const __u16 *)&h[14]);
		pkt->tcp.len = (__u16)(l4len - (__u32)(h[12] >> 4) * 4);
		/* only a SYN announces the window scale */
		if ((h[13] & BH_TCP_SYN) && (h[12] >> 4) > 5)
			pkt->tcp.wscale = (__u8)bh_tcp_wscale(ctx, off + 20,
							      (__u32)(h[12] >> 4) * 4 - 20);
		break;
	case BH_IPPROTO_UDP:
		if (l4len < 8 || bh_ctx_load(ctx, off, h, 8) < 0)
			return BH_ERR(BH_R_MALFORMED);
		break;
	case BH_IPPROTO_SCTP:
		if (l4len < 12 || bh_ctx_load(ctx, off, h, 12) < 0)
			return BH_ERR(BH_R_MALFORMED);
		break;
	case BH_IPPROTO_ICMP:
	case BH_IPPROTO_ICMPV6:
		/* ICMP belongs to its own family; ICMPv6 in IPv4 is "other" */
		if ((pkt->proto == BH_IPPROTO_ICMP) != (pkt->family == 4)) {
			pkt->named_proto = 1;
			return 0;
		}
		if (l4len < 8 || bh_ctx_load(ctx, off, h, 8) < 0)
			return BH_ERR(BH_R_MALFORMED);
		type = h[0];
		code = h[1];
		pkt->pport = (__u16)type << 8 | code;
		pkt->dport = bpf_htons(pkt->pport);
		pkt->icmp_kind = bh_icmp_kind(pkt->family, type, &pkt->icmp_reply);
		if (pkt->icmp_kind != BH_ICMP_KIND_NONE)
			__builtin_memcpy(&pkt->sport, &h[4], 2);
		if (pkt->family == 6 && bh_is_nd(pkt, type))
			pkt->nd = 1;
		/* ND and MLD are never fragmented (RFC 6980) */
		if (pkt->family == 6 && ((type >= 133 && type <= 137) || type == 143) &&
		    pkt->frag != BH_FRAG_NONE)
			return BH_ERR(BH_R_MALFORMED);
		if (pkt->family == 6 && type >= 133 && type <= 137 &&
		    bh_parse_nd(ctx, pkt, off, l4len, type))
			return BH_ERR(BH_R_MALFORMED);
		if (pkt->family == 6 && type == 143 && l4len > 8 + 20 * BH_MLD_RECORDS_MAX)
			pkt->l2_flags |= BH_PKT_L2_OVERSIZE;
		if (pkt->frag == BH_FRAG_NONE && bh_icmp_is_error(pkt->family, type))
			bh_parse_icmp_inner(ctx, pkt, off + 8);
		return 0;
	default:
		/* judged with port 0, and only by a rule naming the protocol */
		pkt->named_proto = 1;
		return 0;
	}
	__builtin_memcpy(&pkt->sport, &h[0], 2);
	__builtin_memcpy(&pkt->dport, &h[2], 2);
	pkt->pport = bpf_ntohs(pkt->dport);
	return 0;
}

/*
 * Fragments. The first one carries the ports: remember them per datagram.
 * A later one has none: take them from the first, or drop. Whether a
 * later fragment may pass is then decided by conntrack (the first
 * fragment's flow must exist), never by a policy lookup on guessed ports.
 */
static __always_inline void bh_frag_key_of(const struct bh_pkt *pkt, __u32 slot, struct bh_frag_key *k)
{
	__builtin_memcpy(k->saddr, pkt->saddr, 16);
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
	k->id = pkt->frag_id;
	k->proto = pkt->frag_proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->slot = slot;
}

static __always_inline void bh_frag_remember(const struct bh_pkt *pkt, __u32 slot)
{
	struct bh_frag_key k;
	struct bh_frag_val v = { .sport = pkt->sport, .dport = pkt->dport };

	bh_frag_key_of(pkt, slot, &k);
	/* LRU: a full table evicts the oldest datagram, whose later
	 * fragments are then dropped as BH_R_FRAGMENT */
	bpf_map_update_elem(&bh_frag_v1, &k, &v, BPF_ANY);
}

static __always_inline int bh_frag_recall(struct bh_pkt *pkt, __u32 slot)
{
	struct bh_frag_key k;
	struct bh_frag_val *v;

	bh_frag_key_of(pkt, slot, &k);
	v = bpf_map_lookup_elem(&bh_frag_v1, &k);
	if (!v)
		return BH_ERR(BH_R_FRAGMENT);
	pkt->sport = v->sport;
	pkt->dport = v->dport;
	pkt->pport = bpf_ntohs(v->dport);
	if (pkt->proto == BH_IPPROTO_ICMP || pkt->proto == BH_IPPROTO_ICMPV6) {
		/* stored as (query id or 0, type/code): the kind follows from
		 * the type, as in bh_parse_l4 */
		if ((pkt->proto == BH_IPPROTO_ICMP) == (pkt->family == 4))
			pkt->icmp_kind = bh_icmp_kind(pkt->family, pkt->pport >> 8,
						      &pkt->icmp_reply);
		else
			pkt->named_proto = 1;
	} else if (pkt->proto != BH_IPPROTO_TCP && pkt->proto != BH_IPPROTO_UDP &&
		   pkt->proto != BH_IPPROTO_SCTP) {
		pkt->named_proto = 1;
	}
	return 0;
}

/*
 * Once the workload slot is known a later fragment takes the first one's
 * ports (or the packet is dropped); the first fragment remembers them
 * only once it passed (bh_frag_passed, share.h). Parsing does
 * not need the slot, so an established packet is parsed before any
 * lookup and a fragment takes the full path.
 */
static __always_inline int bh_frag_track(struct bh_pkt *pkt, __u32 slot)
{
	/* a first fragment is remembered only once it passed (share.h) */
	if (pkt->frag == BH_FRAG_LATER)
		return bh_frag_recall(pkt, slot);
	return 0;
}

static __always_inline int bh_parse_ipv4(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 pktlen)
{
	struct bh_ipv4_hdr ip;
	__u32 hlen, tot, frag;
	int err;

	if (bh_ctx_load(ctx, BH_ETH_HLEN, &ip, sizeof(ip)) < 0)
		return BH_ERR(BH_R_MALFORMED);
	hlen = (ip.vihl & 0xf) * 4;
	tot = bpf_ntohs(ip.tot_len);
	/* options are allowed (ihl > 5); the lengths must be consistent
	 * and the datagram present (trailing padding is fine) */
	if ((ip.vihl >> 4) != 4 || hlen < 20 || tot < hlen || tot > pktlen - BH_ETH_HLEN)
		return BH_ERR(BH_R_MALFORMED);
	/* source routes are refused, other options skipped (encap.h) */
	if (hlen > 20) {
		err = bh_ipv4_options_check(ctx, BH_ETH_HLEN + 20, hlen);
		if (err)
			return err;
	}
	pkt->family = 4;
	pkt->proto = ip.protocol;
	pkt->frag_proto = ip.protocol;
	bh_addr_map4(pkt->saddr, ip.saddr);
	bh_addr_map4(pkt->daddr, ip.daddr);

	frag = bpf_ntohs(ip.frag_off);
	pkt->frag_id = ip.id;
	if (frag & 0x1fff) {
		pkt->frag = BH_FRAG_LATER;	/* ports: bh_frag_track() */
		return 0;
	}
	if (frag & 0x2000)
		pkt->frag = BH_FRAG_FIRST;
	/* Without options (nearly always) the L4 offset is a constant, so
	 * its header is copied directly (ctx.h); the same code then serves
	 * any offset through the helper. */
	if (hlen == 20)
		err = bh_parse_l4(ctx, pkt, BH_ETH_HLEN + 20, tot - 20);
	else
		err = bh_parse_l4(ctx, pkt, BH_ETH_HLEN + hlen, tot - hlen);
	if (err)
		return BH_ERR(BH_R_MALFORMED);
	return 0;
}

static __always_inline int bh_ipv6_is_ext(__u8 nh)
{
	return nh == BH_NEXTHDR_HOP || nh == BH_NEXTHDR_ROUTING ||
	       nh == BH_NEXTHDR_FRAGMENT || nh == BH_NEXTHDR_AUTH ||
	       nh == BH_NEXTHDR_DEST;
}

static __always_inline int bh_parse_ipv6(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 pktlen)
{
	struct bh_ipv6_hdr ip;
	__u32 off = BH_ETH_HLEN + sizeof(ip), end;
	__u8 nh, h[8] __attribute__((aligned(4)));
	int i;

	if (bh_ctx_load(ctx, BH_ETH_HLEN, &ip, sizeof(ip)) < 0)
		return BH_ERR(BH_R_MALFORMED);
	end = off + bpf_ntohs(ip.payload_len);
	if ((bpf_ntohl(ip.vtcfl) >> 28) != 6 || end > pktlen)
		return BH_ERR(BH_R_MALFORMED);
	/* An IPv4-mapped address on the wire would be judged as the IPv4
	 * address it maps (ipcache, conntrack): no legitimate IPv6 packet
	 * carries one, so it is malformed. */
	if (bh_addr_is_v4mapped(ip.saddr) || bh_addr_is_v4mapped(ip.daddr))
		return BH_ERR(BH_R_MALFORMED);
	pkt->family = 6;
	pkt->hop_limit = ip.hop_limit;
	__builtin_memcpy(pkt->saddr, ip.saddr, 16);
	__builtin_memcpy(pkt->daddr, ip.daddr, 16);
	nh = ip.nexthdr;

	/* One more round than the limit: the last one only checks that the
	 * chain really ended. */
	for (i = 0; i <= BH_IPV6_EXT_MAX; i++) {
		if (!bh_ipv6_is_ext(nh))
			break;
		/* a routing header forwards past the judged destination */
		if (i == BH_IPV6_EXT_MAX || nh == BH_NEXTHDR_ROUTING)
			return BH_ERR(BH_R_IPV6_EXT);
		if (off + 8 > end || bh_ctx_load(ctx, off, h, 8) < 0)
			return BH_ERR(BH_R_MALFORMED);
		if (nh == BH_NEXTHDR_FRAGMENT) {
			__u16 fo = (__u16)h[2] << 8 | h[3];

			pkt->frag_proto = h[0];
			__builtin_memcpy(&pkt->frag_id, &h[4], 4);
			if (fo & 0xfff8) {
				/* the rest is fragment payload, not headers */
				pkt->frag = BH_FRAG_LATER;
				pkt->proto = h[0];
				return 0;	/* ports: bh_frag_track() */
			}
			if (fo & 1)
				pkt->frag = BH_FRAG_FIRST;
			off += 8;
		} else if (nh == BH_NEXTHDR_AUTH) {
			off += ((__u32)h[1] + 2) * 4;
		} else {
			off += ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
	}
	if (off > end)
		return BH_ERR(BH_R_MALFORMED);
	pkt->proto = nh;
	/* no extension headers: a constant offset, as for IPv4 above */
	if (off == BH_ETH_HLEN + sizeof(ip))
		i = bh_parse_l4(ctx, pkt, BH_ETH_HLEN + sizeof(ip), end - off);
	else
		i = bh_parse_l4(ctx, pkt, off, end - off);
	if (i)
		return BH_ERR(BH_R_MALFORMED);
	/* ND has no extension headers and MLD only its hop-by-hop router
	 * alert (8 bytes); neither carries bytes after the datagram beyond
	 * the Ethernet minimum */
	if ((pkt->nd_type && off != BH_ETH_HLEN + sizeof(ip)) ||
	    (pkt->nd && !pkt->nd_type && off > BH_ETH_HLEN + sizeof(ip) + 8) ||
	    ((pkt->nd || pkt->nd_type) && pktlen > end && pktlen > BH_ARP_FRAME_MAX))
		pkt->l2_flags |= BH_PKT_L2_OVERSIZE;
	return 0;
}

/*
 * Parse the frame. 0: IP or ARP packet described in *pkt; else
 * BH_ERR(reason) with a drop reason.
 */
static __always_inline int bh_parse(bh_ctx_t *ctx, struct bh_pkt *pkt, __u32 pktlen)
{
	__be16 proto;

	if (bh_ctx_vlan_offloaded(ctx))
		return BH_ERR(BH_R_VLAN);
	if (bh_ctx_load(ctx, 0, pkt->eth, 12) < 0 || bh_ctx_load(ctx, 12, &proto, 2) < 0)
		return BH_ERR(BH_R_MALFORMED);
	switch (bpf_ntohs(proto)) {
	case BH_ETH_P_IP:
		return bh_parse_ipv4(ctx, pkt, pktlen);
	case BH_ETH_P_IPV6:
		return bh_parse_ipv6(ctx, pkt, pktlen);
	case BH_ETH_P_ARP:
		return bh_parse_arp(ctx, pkt, pktlen);
	case BH_ETH_P_8021Q:
	case BH_ETH_P_8021AD:
	case BH_ETH_P_QINQ1:
		/* containers have no business tagging: a tag could hop VLANs */
		return BH_ERR(BH_R_VLAN);
	default:
		return BH_ERR(BH_R_L3_UNKNOWN);
	}
}

#endif /* BH_BPF_PARSE_H */
