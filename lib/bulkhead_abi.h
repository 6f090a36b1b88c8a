/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead ABI: everything the BPF programs and userspace must agree on.
 *
 * Map keys and values, the flow record, verdicts, reasons and limits live
 * here and nowhere else. A layout change MUST bump the map name suffix
 * (_v1 -> _v2): libbpf reuses a pinned map after a shallow check, so a
 * silent layout change would let new code read old bytes.
 *
 * Included by BPF code (clang -target bpf) and by userspace C, so only
 * <linux/types.h> types are used.
 */
#ifndef BULKHEAD_ABI_H
#define BULKHEAD_ABI_H

#include <linux/types.h>

/* ---------------------------------------------------------------- limits */
#ifndef BH_MAX_WORKLOADS
#define BH_MAX_WORKLOADS	1024	/* slots in the policy outer map */
#endif
#define BH_MAX_WORKLOAD_IPS	4	/* addresses per workload (anti-spoofing) */
#ifndef BH_IPCACHE_SIZE
#define BH_IPCACHE_SIZE		262144	/* prefixes: workload IPs + CIDR blocks */
#endif
#ifndef BH_POLICY_TEMPLATE_SIZE
#define BH_POLICY_TEMPLATE_SIZE	1024	/* inner maps are sized per workload */
#endif
#ifndef BH_CT_SIZE
#define BH_CT_SIZE		262144	/* LRU: oldest entry evicted when full */
#endif
#ifndef BH_FRAG_SIZE
#define BH_FRAG_SIZE		8192	/* LRU: IP fragment id -> L4 ports */
#endif
#ifndef BH_DENY_RL_SIZE
#define BH_DENY_RL_SIZE		65536	/* LRU: per-flow deny record rate limit */
#endif
#ifndef BH_RINGBUF_SIZE
#define BH_RINGBUF_SIZE		(4 << 20)
#endif
#ifndef BH_RULE_STATS_SLOTS
#define BH_RULE_STATS_SLOTS	65536	/* per-rule counters by id (bh_rule_stats_v2) */
#endif
#define BH_RULE_STATS_OVERFLOW	0	/* v2 slot of every rule id >= the map size */
#define BH_IPV6_EXT_MAX		8	/* longer extension chains are dropped */
#define BH_DENY_RECORD_INTERVAL_NS	1000000000ULL	/* 1 deny record/s/flow */

/* ------------------------------------------------------------ identities
 * A peer address maps to an identity through the ipcache (LPM trie).
 * Workload identities are BH_ID_WORKLOAD_BASE + slot; CIDR identities are
 * allocated by the state store and stay stable across applies.
 */
#define BH_ID_NONE		0u
#define BH_ID_WORLD		1u	/* ipcache miss */
#define BH_ID_WORKLOAD_BASE	0x100u
#define BH_ID_CIDR_BASE		0x10000u
#define BH_ID_ANY		0xffffffffu	/* wildcard peer in policy keys */

/* ------------------------------------------------------------ directions
 * Seen from the workload: INGRESS is traffic to the container (host veth
 * TC egress), EGRESS traffic from it (host veth XDP or TC ingress).
 */
enum bh_dir {
	BH_DIR_INGRESS = 0,
	BH_DIR_EGRESS = 1,
	/* added to a direction (2, 3): the keys that let a "named" protocol
	 * (not TCP/UDP/SCTP/ICMP of its family) pass, see bh_policy_key */
	BH_DIR_NAMED = 2,
	BH_DIR_META = 0xff,	/* quarantine marker key, see bh_policy_key */
	BH_DIR_DIGEST = 0xfe,	/* userspace's content digest key, see bh_policy_key */
};

/* ------------------------------------------------------------------ modes */
enum bh_mode {
	BH_MODE_LEARN = 0,	/* pass all, record flows for the baseline */
	BH_MODE_MONITOR = 1,	/* pass all, record would-deny */
	BH_MODE_ENFORCE = 2,	/* drop what policy denies */
};

enum bh_hook {
	BH_HOOK_TC = 0,		/* container egress on tcx ingress */
	BH_HOOK_XDP = 1,	/* container egress on XDP */
};

/* -------------------------------------------------------------- ipcache
 * Key data is an IPv6 address; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
 * with prefixlen + 96, so one trie serves both families.
 */
struct bh_ipcache_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct bh_ipcache_val {
	__u32 identity;
	__u32 flags;		/* reserved, 0 */
};

/* ---------------------------------------------------------------- policy
 * Per-workload inner map (LPM trie, BPF_F_NO_PREALLOC). Key data, in
 * prefix order: dir (8 bits) | identity (32, big endian) | proto (8) |
 * port (16, big endian). prefixlen:
 *   8      direction default (isolation) entry
 *   40     identity, any protocol and port
 *   48     identity + protocol, any port
 *   48+n   identity + protocol + first n bits of the port (ranges are
 *          split into aligned power-of-two blocks)
 * For ICMP/ICMPv6 the "port" is (type << 8 | code); prefix 56 = type only.
 *
 * The data path does two lookups for a new flow: the peer identity and
 * BH_ID_ANY, and combines them (see lib/bpf/policy.h):
 *   an explicit DENY in either wins; else an ALLOW in either; else a
 *   DEFAULT_DENY in either denies; else (no entry: workload not isolated
 *   for this direction) allow.
 * The compiler resolves conflicts inside one identity chain (a deny
 * covering a longer allow turns it into a deny) and copies inherited
 * values down so that a longer entry never hides a shorter one's verdict.
 *
 * A packet of a named protocol (IP-in-IP, GRE, ESP, any protocol number
 * but TCP, UDP, SCTP and the family's ICMP) passes an ALLOW only if the
 * same two lookups under dir + BH_DIR_NAMED, port 0, also give ALLOW: the
 * compiler puts there the allow rules that name the protocol. An allow
 * for "any protocol" (prefix 40) does not reach it (lib/bpf/encap.h).
 *
 * The quarantine (deny-all) map holds {prefixlen 8, dir BH_DIR_META}; the
 * data path looks it up to know the workload is quarantined.
 *
 * Every inner map userspace builds also holds {prefixlen 8, dir
 * BH_DIR_DIGEST}: a 64-bit digest of the map's other entries (low half in
 * rule_id, high half in audit_rule_id, verdicts NONE). The data path never
 * looks it up (no packet key starts with that dir byte); the sync compares
 * it with the newly compiled entries and swaps only maps that changed.
 */
struct bh_policy_key {
	__u32 prefixlen;
	__u8 dir;
	__u8 identity[4];	/* big endian, byte array keeps it packed */
	__u8 proto;
	__u8 port[2];		/* big endian */
} __attribute__((packed));

enum bh_pverdict {
	BH_PV_NONE = 0,		/* no opinion (variant has no entry here) */
	BH_PV_ALLOW = 1,
	BH_PV_DENY = 2,		/* explicit deny rule */
	BH_PV_DEFAULT_DENY = 3,	/* isolated, nothing allowed this */
	BH_PV_QUARANTINE = 4,	/* deny-all map */
};

struct bh_policy_val {
	__u32 rule_id;		/* rule behind verdict (0: none) */
	__u32 audit_rule_id;	/* rule behind audit_verdict */
	__u8 verdict;		/* enum bh_pverdict, enforced policies only */
	__u8 audit_verdict;	/* enum bh_pverdict, incl. audit policies */
	__u8 flags;		/* BH_PF_* */
	__u8 pad;
};

#define BH_PF_FORENSICS	0x1	/* quarantine exception entry */

/* ------------------------------------------------------------ workloads
 * Keyed by the host-side veth ifindex.
 */
struct bh_ip {
	__u8 family;		/* 4 or 6, 0 = unused slot */
	__u8 pad[3];
	__u8 addr[16];		/* IPv4 is IPv4-mapped */
};

struct bh_workload {
	__u32 slot;
	__u32 identity;
	__u8 mode;		/* enum bh_mode */
	__u8 hook;		/* enum bh_hook */
	__u8 nr_ips;
	__u8 flags;		/* reserved */
	struct bh_ip ips[BH_MAX_WORKLOAD_IPS];
};

/* ------------------------------------------------------------ conntrack
 * Per workload interface (the host veth's ifindex, which the packet's
 * context carries, so an established packet costs this one lookup):
 * east-west traffic between two local workloads creates one entry on each
 * veth (sender's egress, receiver's ingress), so both policies are
 * checked. The tuple is normalised: the lower (addr, port) endpoint first;
 * BH_CT_F_ORIG_FIRST tells whether the initiator is the first endpoint.
 * The value names the workload slot and which endpoint is the workload's
 * (BH_CT_F_WL_A), and whether that endpoint is one of its addresses
 * (BH_CT_F_WL_OWNED): an established container-egress packet passes
 * without the workload lookup only if it comes from that endpoint.
 * Layout v2 (bh_ct_v2, bh_deny_rl_v2): v1 keyed by slot. Value layout v3
 * (bh_ct_v3, bh_ct4_v2): struct bh_ct_val gained the TCP sequence
 * tracking (td_*), 64 -> 88 bytes.
 */
struct bh_ct_key {
	__u8 addr_a[16];
	__u8 addr_b[16];
	__u16 port_a;		/* network order; ICMP echo: id */
	__u16 port_b;		/* network order; ICMP echo: 0 */
	__u8 proto;
	__u8 pad[3];
	__u32 ifindex;		/* host-side veth */
};

/*
 * IPv4 flows live in bh_ct4_v2 under this 20-byte key (the same fields,
 * addresses as their last 4 bytes in network order): hashing and comparing
 * it is what an established packet costs. The value is struct bh_ct_val.
 * IPv6 flows stay in bh_ct_v3. Userspace sees one conntrack of bh_ct_key
 * (IPv4-mapped), see bh_ct4_key_from/bh_ct4_key_to.
 */
struct bh_ct4_key {
	__u32 addr_a;		/* network order */
	__u32 addr_b;
	__u16 port_a;
	__u16 port_b;
	__u8 proto;
	__u8 pad[3];
	__u32 ifindex;
};

/*
 * The flow cache's set of an IPv4 flow (lib/bpf/fcache.h): one of
 * BH_FC_SETS per CPU, by a hash of the whole key. Here, not in the BPF
 * header, so that a unit test (tests/unit/test_fc_hash.c) checks how
 * flows that differ in one field only spread over the sets.
 *
 * Every bit of the key must reach the low bits the set is taken from,
 * hence the finalizer (MurmurHash3's fmix32) after the fields are folded
 * in: a port is in network order, so the low byte of a port, the one that
 * differs between a client's connections, is in the high bits of its word,
 * and a multiply carries bits only upwards. With a single multiply after
 * the ports, the flows of a client on 1024 consecutive ports, seen on two
 * veths, land in 80 of the sets, 32 in the fullest, and evict each other
 * on nearly every packet.
 */
#define BH_FC_SETS	2048	/* per CPU, a power of two */

static inline __attribute__((always_inline)) __u32 bh_fc_set_index(const struct bh_ct4_key *k)
{
	__u32 h = k->addr_a * 0x9e3779b1u;

	h ^= k->addr_b;
	h *= 0x85ebca6bu;
	h ^= ((__u32)k->port_a << 16 | k->port_b) ^ ((__u32)k->proto << 24) ^ k->ifindex;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & (BH_FC_SETS - 1);
}

/* 1 if both addresses are IPv4-mapped: the flow belongs in bh_ct4_v2 (the
 * parser maps every IPv4 address and refuses IPv4-mapped IPv6 ones). */
static inline __attribute__((always_inline)) int bh_ct_key_is_v4(const struct bh_ct_key *k)
{
	const __u32 *a = (const __u32 *)k->addr_a, *b = (const __u32 *)k->addr_b;
	const __u8 *m = (const __u8 *)&a[2], *n = (const __u8 *)&b[2];

	return !a[0] && !a[1] && !b[0] && !b[1] && !m[0] && !m[1] && m[2] == 0xff &&
	       m[3] == 0xff && !n[0] && !n[1] && n[2] == 0xff && n[3] == 0xff;
}

static inline __attribute__((always_inline)) void bh_ct4_key_from(struct bh_ct4_key *k4,
								   const struct bh_ct_key *k)
{
	k4->addr_a = ((const __u32 *)k->addr_a)[3];
	k4->addr_b = ((const __u32 *)k->addr_b)[3];
	k4->port_a = k->port_a;
	k4->port_b = k->port_b;
	k4->proto = k->proto;
	k4->pad[0] = k4->pad[1] = k4->pad[2] = 0;
	k4->ifindex = k->ifindex;
}

static inline __attribute__((always_inline)) void bh_ct4_key_to(struct bh_ct_key *k,
								 const struct bh_ct4_key *k4)
{
	__u32 *a = (__u32 *)k->addr_a, *b = (__u32 *)k->addr_b;

	a[0] = a[1] = b[0] = b[1] = 0;
	((__u8 *)&a[2])[0] = ((__u8 *)&a[2])[1] = 0;
	((__u8 *)&a[2])[2] = ((__u8 *)&a[2])[3] = 0xff;
	b[2] = a[2];
	a[3] = k4->addr_a;
	b[3] = k4->addr_b;
	k->port_a = k4->port_a;
	k->port_b = k4->port_b;
	k->proto = k4->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->ifindex = k4->ifindex;
}

enum bh_tcp_state {
	BH_TCP_NONE = 0,
	BH_TCP_SYN_SENT,
	BH_TCP_ESTABLISHED,
	BH_TCP_FIN_WAIT,	/* one side sent FIN */
	BH_TCP_CLOSED,		/* both FIN or RST: entry is being removed */
};

struct bh_ct_val {
	__u64 first_ns;
	__u64 last_ns;
	__u64 packets[2];	/* [0] initiator -> responder, [1] reply */
	__u64 bytes[2];
	__u32 rule_id;
	__u32 peer_identity;
	__u8 dir;		/* enum bh_dir of the initiating packet */
	__u8 tcp_state;		/* enum bh_tcp_state */
	__u8 tcp_flags;		/* OR of flags seen */
	__u8 flags;		/* BH_CT_F_* */
	__u8 reason;		/* enum bh_reason of the verdict that created it */
	__u8 verdict;		/* enum bh_verdict that created it */
	__u16 slot;		/* workload slot (stats, quarantine, purge) */
	/* TCP sequence tracking, [0] initiator, [1] responder (lib/bpf/tcp.h):
	 * whether a RST's sequence number is plausible */
	__u32 td_end[2];	/* highest seq + length sent */
	__u32 td_maxwin[2];	/* largest window advertised, scaled */
	__u8 td_wscale[2];	/* window scale of its SYN + 1; 0: none */
	__u8 td_seen;		/* bit i: td_end[i] is set */
	__u8 td_pad[5];
};

#define BH_CT_F_ORIG_FIRST	0x1	/* initiator is endpoint a */
#define BH_CT_F_FORENSICS	0x2	/* allowed by the quarantine exception */
#define BH_CT_F_WOULD_DENY	0x4	/* passed only because of mode/audit */
#define BH_CT_F_FIN_ORIG	0x8	/* initiator sent FIN */
#define BH_CT_F_FIN_REPLY	0x10	/* responder sent FIN */
#define BH_CT_F_WL_A		0x20	/* the workload's endpoint is endpoint a */
#define BH_CT_F_WL_OWNED	0x40	/* ... and is one of its addresses */
#define BH_CT_F_SVC		0x80	/* to a Service frontend, not judged yet:
					 * the post-NAT hook judges it (svc.h) */

/* Fragments: first fragment records its ports for the later ones. */
struct bh_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;		/* IPv4 id or IPv6 fragment identification */
	__u8 proto;
	__u8 pad[3];
	__u32 slot;
};

struct bh_frag_val {
	__u16 sport;
	__u16 dport;
	__u32 pad;
};

/* --------------------------------------------------------------- verdicts */
enum bh_verdict {
	BH_V_ALLOW = 0,
	BH_V_DENY = 1,
	BH_V_WOULD_DENY = 2,	/* monitor/learn mode or audit policy */
	BH_V_QUARANTINE = 3,
	BH_V_SPOOF = 4,
	BH_V_DROP = 5,		/* malformed or unsupported packet */
	BH_V_MAX,
};

/* Why a verdict was reached; counted per workload in bh_stats. */
enum bh_reason {
	BH_R_POLICY_ALLOW = 0,	/* an allow rule (rule_id set) */
	BH_R_NOT_ISOLATED,	/* no policy selects workload for direction */
	BH_R_ESTABLISHED,	/* conntrack: reply or later packet */
	BH_R_LEARN,		/* learn mode passes all */
	BH_R_POLICY_DENY,	/* explicit deny rule (rule_id set) */
	BH_R_DEFAULT_DENY,	/* isolated and nothing allowed it */
	BH_R_QUARANTINE,
	BH_R_FORENSICS,		/* quarantine exception allowed it */
	BH_R_SPOOF_IP,
	BH_R_SPOOF_ARP,
	BH_R_MALFORMED,		/* truncated/invalid header */
	BH_R_FRAGMENT,		/* non-first fragment without a known datagram */
	BH_R_IPV6_EXT,		/* extension chain too long or unsupported */
	BH_R_VLAN,		/* tagged frame on a container veth */
	BH_R_L3_UNKNOWN,	/* ethertype neither IPv4, IPv6 nor ARP */
	BH_R_ARP,		/* ARP passed (after spoof check) */
	BH_R_ND,		/* IPv6 neighbour discovery passed */
	BH_R_NO_WORKLOAD,	/* interface not registered: drop (fail closed), counted
				 * only in BH_C_NO_WORKLOAD (no slot to count under) */
	/* layer 2 identity and fair shares (lib/bpf/l2.h, lib/bpf/share.h) */
	BH_R_SPOOF_MAC,		/* Ethernet source or ND link-layer option not the workload's */
	BH_R_ROUTER_MSG,	/* RA, redirect from a workload not marked as a router */
	BH_R_NOT_OURS,		/* to the container, but not to its address or MAC */
	BH_R_CT_SHARE,		/* new flow: the workload's conntrack share is used up */
	BH_R_MAX,
};

/* The reason a policy verdict (enum bh_pverdict) is reported with. One
 * mapping for the BPF programs and the nftables backend, whose verdicts
 * and reasons must agree. */
static inline __attribute__((always_inline)) __u8 bh_pv_reason(__u8 v)
{
	switch (v) {
	case BH_PV_ALLOW:
		return BH_R_POLICY_ALLOW;
	case BH_PV_DENY:
		return BH_R_POLICY_DENY;
	case BH_PV_DEFAULT_DENY:
		return BH_R_DEFAULT_DENY;
	default:
		return BH_R_NOT_ISOLATED;
	}
}

/* ---------------------------------------------------------------- stats
 * bh_stats_v3: PERCPU_ARRAY of struct bh_stat, indexed by
 *   BH_STATS_INDEX(slot, dir, reason) = (slot * 2 + dir) * BH_R_MAX + reason
 *   (dir: BH_DIR_INGRESS 0 or BH_DIR_EGRESS 1), BH_MAX_WORKLOADS * 2 *
 *   BH_R_MAX entries: a workload's ingress reasons, then its egress ones.
 *   Layout history, for migrating pinned maps across upgrades:
 *     v1: index slot * BH_R_MAX + reason, with the 18 reasons up to
 *         BH_R_NO_WORKLOAD (BH_MAX_WORKLOADS * 18 entries);
 *     v2: index slot * BH_R_MAX + reason, BH_R_MAX = 22 (up to
 *         BH_R_CT_SHARE; BH_MAX_WORKLOADS * 22 entries), no direction;
 *     v3: as above, per direction. A v2 count cannot be split by
 *         direction: a converter either starts v3 at zero (a counter
 *         reset, which Prometheus' rate() absorbs) or must choose one
 *         direction for it; the value type (struct bh_stat) is unchanged.
 * bh_counters: PERCPU_ARRAY of global counters (enum bh_counter).
 * bh_rule_stats_v2: PERCPU_ARRAY indexed by rule id -> struct bh_stat,
 *   BH_RULE_STATS_SLOTS entries; counts the packets a rule decided
 *   (new-flow allow/deny, audit would-deny, forensics exception), not the
 *   packets conntrack passed later. Rule ids
 *   come from the store (AUTOINCREMENT: sequential from 1, never reused),
 *   so an id indexes its own slot. Ids at or beyond the map size are all
 *   counted in slot BH_RULE_STATS_OVERFLOW (rule id 0 decides nothing, so
 *   the slot is free). An array rather than an LRU: no insert on a rule's
 *   first packet, nothing evicted.
 */
struct bh_stat {
	__u64 packets;
	__u64 bytes;
};

/* Index of bh_stats_v3; dir must be BH_DIR_INGRESS or BH_DIR_EGRESS. */
#define BH_STATS_INDEX(slot, dir, reason) \
	(((__u32)(slot) * 2 + (__u32)(dir)) * BH_R_MAX + (__u32)(reason))
#define BH_STATS_ENTRIES	(BH_MAX_WORKLOADS * 2 * BH_R_MAX)

enum bh_counter {
	BH_C_RECORDS = 0,	/* flow records written */
	BH_C_RECORDS_LOST,	/* ring buffer full */
	BH_C_CT_CREATE,
	BH_C_CT_FULL,		/* conntrack insert failed */
	BH_C_NO_WORKLOAD,	/* packet on an unregistered interface: dropped */
	BH_C_MAX,
};

/* ----------------------------------------------------------- flow record */
enum bh_event {
	BH_E_NEW = 0,		/* first packet of a flow (any verdict) */
	BH_E_DENY = 1,		/* denied packet, at most 1/s per flow */
	BH_E_END = 2,		/* TCP FIN/RST closed the flow */
};

struct bh_flow_record {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 packets;		/* flow totals so far, both directions */
	__u64 bytes;
	__u32 slot;
	__u32 ifindex;
	__u32 rule_id;
	__u32 peer_identity;
	__u8 saddr[16];		/* as on the wire; IPv4 is IPv4-mapped */
	__u8 daddr[16];
	__u16 sport;		/* host order */
	__u16 dport;		/* host order; ICMP: type << 8 | code */
	__u8 family;		/* 4 or 6 (0 for ARP) */
	__u8 proto;
	__u8 dir;		/* enum bh_dir */
	__u8 verdict;		/* enum bh_verdict */
	__u8 reason;		/* enum bh_reason */
	__u8 event;		/* enum bh_event */
	__u8 tcp_flags;		/* OR of flags seen on the flow */
	__u8 mode;		/* workload mode at the time */
};

/* ------------------------------------------------- layer 2 identity
 * bh_l2_v1: ARRAY indexed by workload slot (an array: its lookup is
 * inlined, so the established fast path checks the Ethernet header for
 * the cost of a load). Written at attach; a slot without BH_L2_F_BOUND
 * has no MAC to check (the interface had no readable peer and none was
 * given). See lib/bpf/l2.h.
 */
struct bh_l2 {
	__u8 mac[6];		/* the container interface's MAC */
	__u8 flags;		/* BH_L2_F_* */
	__u8 pad;
};

#define BH_L2_F_BOUND	0x1	/* mac is set: frames are checked against it */
#define BH_L2_F_ROUTER	0x2	/* may send RA, ICMP/ICMPv6 redirects */

/* ------------------------------------------------------- fair shares
 * bh_share_v1: ARRAY indexed by slot, written by the data path only
 * (lib/bpf/share.h). bh_ct_base_v1: ARRAY indexed by slot of __s64,
 * written by userspace only: the workload's conntrack entries counted at
 * the last recount minus ct_created at that moment, so that
 * ct_created + base bounds the entries the workload holds from above.
 */
#ifndef BH_CT_SHARE
#define BH_CT_SHARE		(BH_CT_SIZE / 4)	/* entries per workload */
#endif
#define BH_SHARE_REC_NS		1000000ULL	/* 1000 records/s per workload ... */
#define BH_SHARE_REC_BURST	4096		/* ... after a burst of this many */
/* Once the ring is three quarters full: 62.5 records/s after a burst of 64
 * (the same rec_tat, each record costing 16 times as much) */
#define BH_SHARE_REC_TIGHT_NS		16000000ULL
#define BH_SHARE_REC_TIGHT_BURST	64
#define BH_SHARE_FRAG_NS	1000000ULL	/* 1000 first fragments/s per workload */
#define BH_SHARE_FRAG_BURST	1024

struct bh_share {
	__u64 ct_created;	/* conntrack entries inserted (atomic adds) */
	__u64 rec_tat;		/* record budget: theoretical arrival time (GCRA) */
	__u64 frag_tat;		/* first-fragment budget, the same way */
	__u64 ct_refused;	/* new flows dropped: share used up */
	__u64 records_limited;	/* records not written: over budget */
	__u64 frags_limited;	/* first fragments not remembered: over budget */
};

#ifndef __bpf__
_Static_assert(sizeof(struct bh_stat) == 16, "stat layout");
_Static_assert(sizeof(struct bh_l2) == 8, "l2 layout");
_Static_assert(sizeof(struct bh_share) == 48, "share layout");
_Static_assert(sizeof(struct bh_ipcache_key) == 20, "ipcache key layout");
_Static_assert(sizeof(struct bh_policy_key) == 12, "policy key layout");
_Static_assert(sizeof(struct bh_policy_val) == 12, "policy val layout");
_Static_assert(sizeof(struct bh_workload) == 12 + 20 * BH_MAX_WORKLOAD_IPS, "workload layout");
_Static_assert(sizeof(struct bh_ct_key) == 44, "ct key layout");
_Static_assert(sizeof(struct bh_ct4_key) == 20, "ct4 key layout");
_Static_assert(sizeof(struct bh_ct_val) == 88, "ct val layout");
_Static_assert(BH_MAX_WORKLOADS <= 65535, "slot fits bh_ct_val.slot");
_Static_assert(sizeof(struct bh_flow_record) == 88, "flow record layout");
#endif

/* Pinned names (under $BULKHEAD_BPFFS), the one list of them. Programs
 * share maps by name; a map's name carries its layout version and changes
 * with the layout (libbpf reuses a pinned map after a shallow check). The
 * BPF objects define the maps under these names (lib/bpf/maps.h); the
 * loader refuses to run when one of them is not pinned after a load. */
/* --------------------------------------------------------- socket side
 * bh_sockproc_v1 (ring buffer, BH_SOCKPROC_RING_BYTES, not pinned: the
 * agent that loads the socket-side program owns it): one struct
 * bh_sockproc_rec per TCP connection started (or accepted from a
 * listener older than the program), per TCP listener (peer zero; again
 * now and then while it accepts) and per UDP socket (and
 * peer) that sent or received: the process that owned it
 * (lib/bpf/sockproc.h). A full ring drops records and counts them.
 */
#ifndef BH_SOCKPROC_RING_BYTES
#define BH_SOCKPROC_RING_BYTES	(1 << 20)
#endif
/* what the process did: TCP connect/accept, UDP send/receive */
enum { BH_SOCKPROC_CONNECT = 1, BH_SOCKPROC_ACCEPT = 2, BH_SOCKPROC_SEND = 3,
       BH_SOCKPROC_RECV = 4 };

struct bh_sockproc_key {
	__u32 netns;		/* network namespace inode */
	__u16 lport, rport;	/* host order; local = the container's side */
	__u8 laddr[16], raddr[16];	/* IPv4-mapped for IPv4 */
	__u8 proto;
	__u8 pad[3];
};

struct bh_sockproc_val {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 cgroup_id;	/* cgroup v2 id (bpf_get_current_cgroup_id) */
	__u32 tgid, pid;
	char comm[16];
	char exe[32];		/* executable's file name, truncated */
	__u8 dir;		/* BH_SOCKPROC_* */
	__u8 pad[7];
};
struct bh_sockproc_rec {
	struct bh_sockproc_key key;
	__u32 pad;
	struct bh_sockproc_val val;
};
_Static_assert(sizeof(struct bh_sockproc_rec) == 128, "bh_sockproc_rec layout");
_Static_assert(sizeof(struct bh_sockproc_key) == 44, "bh_sockproc_key layout");
_Static_assert(sizeof(struct bh_sockproc_val) == 80, "bh_sockproc_val layout");

#define BH_MAP_SOCKPROC		"bh_sockproc_v1"
#define BH_MAP_WORKLOADS	"bh_workloads_v1"
#define BH_MAP_IPCACHE		"bh_ipcache_v1"
#define BH_MAP_POLICY		"bh_policy_v1"
#define BH_MAP_CT		"bh_ct_v3"
#define BH_MAP_CT4		"bh_ct4_v2"
#define BH_MAP_CTGEN		"bh_ctgen_v1"
#define BH_MAP_FRAG		"bh_frag_v1"
#define BH_MAP_DENY_RL		"bh_deny_rl_v2"
#define BH_MAP_FLOWS		"bh_flows_v1"
#define BH_MAP_STATS		"bh_stats_v3"	/* v2: no direction; v1: fewer reasons */
#define BH_MAP_COUNTERS		"bh_counters_v1"
#define BH_MAP_RULE_STATS	"bh_rule_stats_v2"
#define BH_MAP_L2		"bh_l2_v1"
#define BH_MAP_SHARE		"bh_share_v1"
#define BH_MAP_CT_BASE		"bh_ct_base_v1"
#define BH_PIN_PROG_XDP		"prog_xdp_egress"
#define BH_PIN_PROG_TC_EGRESS	"prog_tc_from_container"
#define BH_PIN_PROG_TC_INGRESS	"prog_tc_to_container"
#define BH_PIN_DENY_ALL		"bh_deny_all_v1"

/* ------------------------------------------------------------- Services
 * A Service frontend (ClusterIP, port, protocol) whose new flows from a
 * workload are judged after kube-proxy's DNAT, on the backend it chose
 * (docs/architecture.md, "Services"). The agent fills the map from the
 * Services it watches, and only while the post-NAT hook is attached: a
 * frontend without the hook would be a flow nobody judges. */
#ifndef BH_SVC_SIZE
#define BH_SVC_SIZE		65536
#endif
struct bh_svc_key {
	__u8 addr[16];		/* IPv6, or IPv4-mapped */
	__u16 port;		/* network order */
	__u8 proto;
	__u8 pad;
};
struct bh_svc_val {
	__u32 flags;		/* reserved */
};
#ifndef __bpf__
_Static_assert(sizeof(struct bh_svc_key) == 20, "svc key layout");
#endif
#define BH_MAP_SVC		"bh_svc_v1"
/* the post-NAT hook's netfilter links, one per family */
#define BH_PIN_SVC_LINK4	"link_svc_nat4"
#define BH_PIN_SVC_LINK6	"link_svc_nat6"
/* or, without BPF netfilter links, its tc program (services.h) */
#define BH_PIN_SVC_TC		"prog_svc_tc"

#endif /* BULKHEAD_ABI_H */
