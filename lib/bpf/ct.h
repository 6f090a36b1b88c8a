/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Conntrack: one LRU entry per workload veth and normalised tuple, shared
 * by the XDP and TC programs (and both directions) through the pinned map.
 *
 * Entries are not deleted by the data path: they expire by age on lookup
 * (an expired entry is a miss and the next new flow overwrites it) and the
 * LRU evicts the least recently used when the table is full.
 */
#ifndef BH_BPF_CT_H
#define BH_BPF_CT_H

#include "parse.h"
#include "share.h"

#define BH_SEC			1000000000ULL
#define BH_CT_TCP_EST_NS	(12ULL * 3600 * BH_SEC)
#define BH_CT_TCP_SHORT_NS	(60ULL * BH_SEC)	/* FIN_WAIT */
#define BH_CT_TCP_SYN_NS	(5ULL * BH_SEC)		/* SYN_SENT: unconfirmed */
#define BH_CT_TCP_CLOSED_NS	(10ULL * BH_SEC)	/* last ACKs after FIN/RST */
#define BH_CT_OTHER_NS		(60ULL * BH_SEC)	/* UDP, SCTP, others */
#define BH_CT_ICMP_NS		(30ULL * BH_SEC)

/*
 * Conntrack time: CLOCK_MONOTONIC in ns, at the resolution of a scheduler
 * tick (1-10 ms). Entries age in seconds and the deny record limit counts
 * in seconds, so a tick is plenty, and the clock is read on every packet:
 * bpf_ktime_get_ns() and the coarse clock are helper calls,
 * bpf_jiffies64() costs nothing (the verifier inlines it into one load).
 * Jiffies start at INITIAL_JIFFIES = (u32)(-300 * HZ) about when the
 * monotonic clock starts at 0, so (jiffies - INITIAL_JIFFIES) ticks is the
 * monotonic time give or take a fixed fraction of a second (the tick starts
 * after the clock; 0.25 s behind on this VM). Only differences of these
 * values matter (ages, the 1 s record limit); flow records, which userspace
 * compares with its clock, carry bpf_ktime_get_ns() (flow.h). HZ comes from the kernel config (libbpf reads it at
 * load time and the verifier drops the branches of the other values); an
 * HZ not listed, or no config to read, falls back to the coarse clock.
 */
extern unsigned int CONFIG_HZ __kconfig __weak;

#define BH_JIFFIES_NS(j, hz)	(((j) - (__u64)(__u32)(-300 * (hz))) * (1000000000ULL / (hz)))

static __always_inline __u64 bh_ct_now(void)
{
	__u64 j = bpf_jiffies64();

	switch (CONFIG_HZ) {
	case 100:
		return BH_JIFFIES_NS(j, 100);
	case 250:
		return BH_JIFFIES_NS(j, 250);
	case 300:
		return BH_JIFFIES_NS(j, 300);	/* 3333333 ns a tick: 0.00001 % slow */
	case 1000:
		return BH_JIFFIES_NS(j, 1000);
	default:
		return bpf_ktime_get_coarse_ns();
	}
}

/* Order (addr, port) endpoints; any total order works if it is the same
 * for both directions. Returns 1 if a < b. */
static __always_inline int bh_ep_less(const __u8 *a, __u16 pa, const __u8 *b, __u16 pb)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	int i;

	for (i = 0; i < 4; i++) {
		if (x[i] != y[i])
			return bpf_ntohl(x[i]) < bpf_ntohl(y[i]);
	}
	return bpf_ntohs(pa) < bpf_ntohs(pb);
}

/*
 * Build the key of the flow (saddr, sport) -> (daddr, dport); returns 1 if
 * saddr is endpoint a. An ICMP query (kind != 0, icmp.h) is ordered by
 * address only and keyed (id, kind), so request and reply meet and no
 * other kind of query, nor any other message, has the same key.
 */
static __always_inline int bh_ct_key_make(const __u8 *saddr, const __u8 *daddr, __be16 sport,
					  __be16 dport, __u8 proto, __u8 kind, __u32 ifindex,
					  struct bh_ct_key *k)
{
	__u16 sp = sport, dp = kind ? sport : dport;
	int src_first = bh_ep_less(saddr, sp, daddr, dp);

	if (src_first) {
		__builtin_memcpy(k->addr_a, saddr, 16);
		__builtin_memcpy(k->addr_b, daddr, 16);
		k->port_a = sp;
		k->port_b = dp;
	} else {
		__builtin_memcpy(k->addr_a, daddr, 16);
		__builtin_memcpy(k->addr_b, saddr, 16);
		k->port_a = dp;
		k->port_b = sp;
	}
	if (kind) {
		k->port_a = sport;
		k->port_b = bh_icmp_kind_port(kind);
	}
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->ifindex = ifindex;
	return src_first;
}

static __always_inline int bh_ct_key_of(const struct bh_pkt *pkt, __u32 ifindex, struct bh_ct_key *k)
{
	return bh_ct_key_make(pkt->saddr, pkt->daddr, pkt->sport, pkt->dport, pkt->proto,
			      pkt->icmp_kind, ifindex, k);
}

/* bh_ct_key_make for an IPv4 flow, into the bh_ct4_v2 key: the same
 * order and the same fields, without the 16-byte addresses. Addresses and
 * ports in network order. */
static __always_inline int bh_ct4_key_make(__u32 sa, __u32 da, __u16 sp, __u16 dport, __u8 proto,
					   __u8 kind, __u32 ifindex, struct bh_ct4_key *k)
{
	__u16 dp = kind ? sp : dport;
	int src_first = sa != da ? bpf_ntohl(sa) < bpf_ntohl(da) : bpf_ntohs(sp) < bpf_ntohs(dp);

	if (src_first) {
		k->addr_a = sa;
		k->addr_b = da;
		k->port_a = sp;
		k->port_b = dp;
	} else {
		k->addr_a = da;
		k->addr_b = sa;
		k->port_a = dp;
		k->port_b = sp;
	}
	if (kind) {
		k->port_a = sp;
		k->port_b = bh_icmp_kind_port(kind);
	}
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->ifindex = ifindex;
	return src_first;
}

static __always_inline int bh_ct4_key_of(const struct bh_pkt *pkt, __u32 ifindex,
					 struct bh_ct4_key *k)
{
	return bh_ct4_key_make(((const __u32 *)pkt->saddr)[3], ((const __u32 *)pkt->daddr)[3],
			       pkt->sport, pkt->dport, pkt->proto, pkt->icmp_kind, ifindex, k);
}

static __always_inline __u64 bh_ct_timeout(const struct bh_ct_val *v, __u8 proto)
{
	if (proto == BH_IPPROTO_TCP) {
		if (v->tcp_state == BH_TCP_ESTABLISHED)
			return BH_CT_TCP_EST_NS;
		if (v->tcp_state == BH_TCP_CLOSED)
			return BH_CT_TCP_CLOSED_NS;
		if (v->tcp_state == BH_TCP_SYN_SENT)
			return BH_CT_TCP_SYN_NS;
		return BH_CT_TCP_SHORT_NS;
	}
	if (proto == BH_IPPROTO_ICMP || proto == BH_IPPROTO_ICMPV6)
		return BH_CT_ICMP_NS;
	return BH_CT_OTHER_NS;
}

/* The entry if it is live for the packet, or NULL (none, expired, or a
 * SYN reusing a closed tuple: that is a new flow and goes to policy). */
static __always_inline struct bh_ct_val *bh_ct_live(struct bh_ct_val *v, __u8 proto, __u8 tcp_flags,
						    __u64 now)
{
	if (!v)
		return NULL;
	if (now > v->last_ns && now - v->last_ns > bh_ct_timeout(v, proto))
		return NULL;
	if (proto == BH_IPPROTO_TCP && v->tcp_state == BH_TCP_CLOSED &&
	    (tcp_flags & (BH_TCP_SYN | BH_TCP_ACK)) == BH_TCP_SYN)
		return NULL;
	return v;
}

/* The live entry of the flow (bh_ct_live), from the map of its family:
 * IPv4 (the addresses of k IPv4-mapped) in bh_ct4_v2, IPv6 in bh_ct_v3. */
static __always_inline struct bh_ct_val *bh_ct_lookup(const struct bh_ct_key *k, __u8 family,
						      __u8 tcp_flags, __u64 now)
{
	struct bh_ct_val *v;

	if (family == 4) {
		struct bh_ct4_key k4;

		bh_ct4_key_from(&k4, k);
		v = bpf_map_lookup_elem(&bh_ct4_v2, &k4);
	} else {
		v = bpf_map_lookup_elem(&bh_ct_v3, k);
	}
	return bh_ct_live(v, k->proto, tcp_flags, now);
}

/* Flow an ICMP error refers to (NULL if none or unreadable). The error
 * itself creates nothing and updates nothing. */
static __always_inline struct bh_ct_val *bh_ct_lookup_related(const struct bh_pkt *pkt, __u32 ifindex,
							      __u64 now)
{
	const struct bh_icmp_inner *in = &pkt->inner;
	struct bh_ct_key k;

	if (!in->valid)
		return NULL;
	/* An error goes back to the sender of the packet it quotes (as Linux
	 * conntrack requires): otherwise one open flow would let a workload
	 * relay error-shaped packets, with any payload, to any address. */
	if (!bh_addr_eq(in->saddr, pkt->daddr))
		return NULL;
	bh_ct_key_make(in->saddr, in->daddr, in->sport, in->dport, in->proto, in->icmp_kind,
		       ifindex, &k);
	return bh_ct_lookup(&k, pkt->family, 0, now);
}

/*
 * 1 if a live entry's packet may pass without the workload lookup and
 * the address checks: out of the container only from the endpoint that
 * was checked to be the workload's when the entry was made (a packet
 * reusing the reverse tuple comes from the other endpoint), into it only
 * to that endpoint (the ingress destination check, l2.h). Anything else
 * takes the full path, which checks the workload's addresses.
 */
static __always_inline int bh_ct_flags_source_ok(__u8 flags, __u8 dir, int src_first)
{
	int wl_first = dir == BH_DIR_EGRESS ? src_first : !src_first;

	return (flags & BH_CT_F_WL_OWNED) && !!(flags & BH_CT_F_WL_A) == !!wl_first;
}

static __always_inline int bh_ct_source_ok(const struct bh_ct_val *v, __u8 dir, int src_first)
{
	return bh_ct_flags_source_ok(v->flags, dir, src_first);
}

/* 1 if the packet came from the flow's initiator. */
static __always_inline int bh_ct_from_orig(const struct bh_ct_val *v, int src_first)
{
	return !!(v->flags & BH_CT_F_ORIG_FIRST) == !!src_first;
}

/* 1 if the live entry v is the packet's flow by kind too: an ICMP message
 * of its family meets an entry only if it is a query, a request from the
 * initiator or a reply from the responder (icmp.h). Anything else has
 * no entry, whatever its key finds. */
static __always_inline int bh_ct_kind_ok(const struct bh_ct_val *v, const struct bh_pkt *pkt,
					 int src_first)
{
	if ((pkt->proto != BH_IPPROTO_ICMP && pkt->proto != BH_IPPROTO_ICMPV6) || pkt->named_proto)
		return 1;
	return pkt->icmp_kind != BH_ICMP_KIND_NONE &&
	       (!pkt->icmp_reply) == bh_ct_from_orig(v, src_first);
}

/*
 * 1 if this packet, passing as a new flow, creates conntrack state:
 * - TCP only from a SYN (no ACK, RST or FIN): a bare ACK, a SYN|ACK or a
 *   flagless packet that policy allows passes alone and creates nothing,
 *   so a workload cannot fill the table with one-packet "connections". No
 *   mid-stream pickup: the maps are pinned and survive agent restarts and
 *   program reloads, so a live connection never needs one (docs/datapath.md);
 * - ICMP of its family only from a query request (icmp.h);
 * - every other protocol from any packet.
 */
static __always_inline int bh_ct_starts_flow(const struct bh_pkt *pkt)
{
	if (pkt->proto == BH_IPPROTO_TCP)
		return (pkt->tcp_flags & (BH_TCP_SYN | BH_TCP_ACK | BH_TCP_RST | BH_TCP_FIN)) ==
		       BH_TCP_SYN;
	if ((pkt->proto == BH_IPPROTO_ICMP || pkt->proto == BH_IPPROTO_ICMPV6) && !pkt->named_proto)
		return pkt->icmp_kind != BH_ICMP_KIND_NONE && !pkt->icmp_reply;
	return 1;
}

/*
 * Account a packet of a known flow and advance the TCP state (seg: the
 * TCP segment, tcp.h). Returns 1 if this packet closed the flow (a RST
 * with a plausible sequence number, or the second FIN); a RST that is not
 * plausible passes and changes nothing. A closed entry keeps its last_ns,
 * so it ages out 10 s after the close however many late ACKs follow.
 */
static __always_inline int bh_ct_update(struct bh_ct_val *v, __u8 proto, __u8 f, int src_first,
					__u32 len, __u64 now, const struct bh_tcp_seg *seg)
{
	int orig = bh_ct_from_orig(v, src_first);

	if (orig) {
		__sync_fetch_and_add(&v->packets[0], 1);
		__sync_fetch_and_add(&v->bytes[0], len);
	} else {
		__sync_fetch_and_add(&v->packets[1], 1);
		__sync_fetch_and_add(&v->bytes[1], len);
	}
	if (v->tcp_state == BH_TCP_CLOSED)
		return 0;
	if (proto == BH_IPPROTO_TCP && (f & BH_TCP_RST) && seg &&
	    !bh_tcp_rst_plausible(v, seg, f, !orig))
		return 0;	/* blind: neither closes nor keeps the flow alive */
	v->last_ns = now;
	if (proto != BH_IPPROTO_TCP)
		return 0;
	v->tcp_flags |= f;
	if (seg)	/* else the caller tracks (bh_fc_quick) */
		bh_tcp_track(v, seg, f, !orig);
	if (f & BH_TCP_RST) {
		v->tcp_state = BH_TCP_CLOSED;
		return 1;
	}
	if (f & BH_TCP_FIN) {
		v->flags |= orig ? BH_CT_F_FIN_ORIG : BH_CT_F_FIN_REPLY;
		if ((v->flags & (BH_CT_F_FIN_ORIG | BH_CT_F_FIN_REPLY)) ==
		    (BH_CT_F_FIN_ORIG | BH_CT_F_FIN_REPLY)) {
			v->tcp_state = BH_TCP_CLOSED;
			return 1;
		}
		v->tcp_state = BH_TCP_FIN_WAIT;
		return 0;
	}
	/* confirmed by the responder's SYN|ACK only: until then the entry
	 * ages out in BH_CT_TCP_SYN_NS */
	if (v->tcp_state == BH_TCP_SYN_SENT && !orig &&
	    (f & (BH_TCP_SYN | BH_TCP_ACK)) == (BH_TCP_SYN | BH_TCP_ACK))
		v->tcp_state = BH_TCP_ESTABLISHED;
	return 0;
}

/*
 * Create the entry of a new flow that passes and starts a flow
 * (bh_ct_starts_flow, checked by the caller). LRU: a full table evicts
 * the least recently used entry; a failed insert is counted (the flow is
 * then judged by policy packet by packet).
 */
/* The new entry is built here, one per CPU, not on the stack: the judge
 * function's stack and its program's must fit 512 bytes together, and
 * the entry is 88 bytes. Private to each object, not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_ct_val);
} bh_ct_scratch SEC(".maps");

static __always_inline void bh_ct_create(const struct bh_ct_key *k, const struct bh_pkt *pkt,
					 const struct bh_meta *m, int src_first)
{
	__u32 zero = 0;
	struct bh_ct_val *nv = bpf_map_lookup_elem(&bh_ct_scratch, &zero);
	__u8 f = pkt->tcp_flags;
	long err;

	if (!nv) {		/* never: a one-entry array */
		bh_count(BH_C_CT_FULL);
		return;
	}
	__builtin_memset(nv, 0, sizeof(*nv));
	nv->first_ns = m->now;
	nv->last_ns = m->now;
	nv->packets[0] = 1;
	nv->bytes[0] = m->len;
	nv->rule_id = m->rule_id;
	nv->peer_identity = m->peer_identity;
	nv->dir = m->dir;
	nv->flags = m->ct_flags | m->ct_wl | (src_first ? BH_CT_F_ORIG_FIRST : 0);
	nv->reason = m->reason;
	nv->verdict = m->verdict;
	nv->slot = m->slot;
	if (pkt->proto == BH_IPPROTO_TCP) {
		nv->tcp_flags = f;
		nv->tcp_state = BH_TCP_SYN_SENT;	/* only a SYN gets here */
		bh_tcp_track(nv, &pkt->tcp, f, 0);
	}
	if (pkt->family == 4) {
		struct bh_ct4_key k4;

		bh_ct4_key_from(&k4, k);
		err = bpf_map_update_elem(&bh_ct4_v2, &k4, nv, BPF_ANY);
	} else {
		err = bpf_map_update_elem(&bh_ct_v3, k, nv, BPF_ANY);
	}
	if (err) {
		bh_count(BH_C_CT_FULL);
	} else {
		bh_count(BH_C_CT_CREATE);
		bh_share_ct_inserted(m->slot);	/* the workload's count (share.h) */
	}
}

#endif /* BH_BPF_CT_H */
