/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Data-path fixtures: each case is data, {description, map setup, packet
 * steps with expected verdict, reason and flow record}. Used by
 * tests/bpf/test_verdicts.c and reusable by the per-packet benchmark
 * (every step's packet is a struct pkt_opts for tests/lib/pkt.h).
 *
 * Common setup (fx_* constants): one workload on ifindex 1 (lo: what
 * BPF_PROG_TEST_RUN reports by default) in slot FX_SLOT owning FX_WL4 and
 * FX_WL6; the ipcache maps FX_PEER4/6 to FX_ID_PEER and 10.1.0.0/16 to
 * FX_ID_CIDR; anything else is the world. rules[] go into a fresh inner
 * policy map; a quarantined workload gets a deny-all map holding the
 * quarantine marker and qrules[] (forensics exceptions).
 *
 * Egress steps run once through XDP and once through TC (from_container);
 * ingress steps through TC (to_container).
 */
#ifndef BH_TEST_FIXTURES_H
#define BH_TEST_FIXTURES_H

#include <stdbool.h>
#include <netinet/in.h>
#include "bulkhead_abi.h"
#include "pkt.h"

#define FX_IFINDEX	1u
#define FX_SLOT		7u
#define FX_ID_PEER	(BH_ID_WORKLOAD_BASE + 1)
#define FX_ID_CIDR	BH_ID_CIDR_BASE

#define FX_WL4		"10.0.0.1"
#define FX_WL6		"fd00::1"
#define FX_PEER4	"10.0.0.2"
#define FX_PEER6	"fd00::2"
#define FX_CIDR4	"10.1.2.3"	/* in 10.1.0.0/16 */
#define FX_WORLD4	"192.0.2.9"
#define FX_WORLD6	"2001:db8::9"

/* layer 2: the workload's MAC is the builder's default source MAC */
#define FX_MAC		((const __u8 *)"\x02\0\0\0\0\x01")
#define FX_OTHER_MAC	((const __u8 *)"\x02\0\0\0\0\x09")
#define FX_BCAST_MAC	((const __u8 *)"\xff\xff\xff\xff\xff\xff")
#define FX_LL6		"fe80::ff:fe00:1"	/* EUI-64 link-local of FX_MAC */

#define FX_FIN	0x01
#define FX_SYN	0x02
#define FX_RST	0x04
#define FX_ACK	0x10

enum fx_prog { FX_END = 0, FX_EGRESS, FX_INGRESS };
enum fx_mode { FX_ENFORCE = 0, FX_MONITOR, FX_LEARN };
/* done before a step */
enum fx_act {
	FX_ACT_NONE = 0,
	FX_ACT_AGE_CT,		/* every CT entry last seen long ago: expired */
	FX_ACT_RL_FUTURE,	/* deny records just sent: rate limit holds */
	FX_ACT_RL_PAST,		/* deny records long ago: rate limit open */
	FX_ACT_QUARANTINE,	/* swap in the deny-all map (qrules) */
	FX_ACT_CUT_CT,		/* delete every CT entry, bump the generation */
	FX_ACT_AGE_CT_SECS,	/* every CT entry last seen 8 s ago (fixtures_sec.h) */
};
/* flow record expected from a step */
enum fx_rec { FX_REC_ANY = 0, FX_REC_NONE, FX_REC_NEW, FX_REC_DENY, FX_REC_END };

#define FX_NO_REASON	0xff	/* no workload: nothing counted per reason */
#define FX_MAX_RULES	8
#define FX_MAX_STEPS	6

struct fx_rule {
	__u32 plen;		/* 0 ends the list */
	__u8 dir;
	__u32 identity;
	__u8 proto;
	__u16 port;
	__u8 verdict;
	__u32 rule_id;
	__u8 audit_verdict;
	__u32 audit_rule_id;
	__u8 flags;
};

struct fx_step {
	enum fx_act before;
	enum fx_prog prog;	/* FX_END ends the list */
	struct pkt_opts pkt;
	__u16 trunc;		/* cut the frame to this length (0: no) */
	__u16 poke_off[2];	/* then overwrite these bytes */
	__u8 poke_val[2];
	__u8 npoke;
	bool pass;
	__u8 reason;		/* enum bh_reason counted for the packet */
	enum fx_rec rec;
	__u8 rec_verdict;
	__u32 rec_rule;		/* 0: not checked */
	__u8 counter;		/* bh_counters index + 1 that grows by 1 (0: none) */
	__u8 ct_packets;	/* packets in conntrack after the step (0: not checked) */
};

struct fixture {
	const char *desc;
	enum fx_mode mode;
	bool no_workload;
	bool no_policy_map;
	bool quarantined;
	/* BPF_PROG_TEST_RUN refuses skbs whose L3 header is shorter than its
	 * minimum (-EINVAL), so such frames are only run through XDP */
	bool xdp_only;
	bool l2_bound;		/* the workload's MAC is FX_MAC (bh_l2_v1) */
	bool router;		/* marked as a router */
	struct fx_rule rules[FX_MAX_RULES];
	struct fx_rule qrules[FX_MAX_RULES];
	struct fx_step steps[FX_MAX_STEPS];
};

/* ---------------------------------------------------------- shorthands
 * Without audit policies the compiler gives every entry an audit verdict
 * equal to its verdict; RULE() does the same. */
#define RULE(pl, d, id, pr, p, v, r) \
	{ .plen = (pl), .dir = (d), .identity = (id), .proto = (pr), .port = (p), \
	  .verdict = (v), .rule_id = (r), .audit_verdict = (v), .audit_rule_id = (r) }
#define ALLOW_PORT(d, id, pr, p, r)	RULE(64, d, id, pr, p, BH_PV_ALLOW, r)
#define DENY_PORT(d, id, pr, p, r)	RULE(64, d, id, pr, p, BH_PV_DENY, r)
#define ISOLATED(d) \
	{ .plen = 8, .dir = (d), .verdict = BH_PV_DEFAULT_DENY, \
	  .audit_verdict = BH_PV_DEFAULT_DENY }
#define EG	BH_DIR_EGRESS
#define IN	BH_DIR_INGRESS

#define TCP4(s, d, sp, dp, fl) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_TCP, \
	  .sport = (sp), .dport = (dp), .tcp_flags = (fl) }
#define TCP6(s, d, sp, dp, fl) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_TCP, \
	  .sport = (sp), .dport = (dp), .tcp_flags = (fl) }
#define UDP4(s, d, sp, dp) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, \
	  .sport = (sp), .dport = (dp), .payload = 16 }
#define UDP6(s, d, sp, dp) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_UDP, \
	  .sport = (sp), .dport = (dp), .payload = 16 }
#define SCTP4(s, d, sp, dp) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_SCTP, \
	  .sport = (sp), .dport = (dp) }
#define ICMP4(s, d, t, id) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_ICMP, \
	  .icmp_type = (t), .icmp_id = (id) }
#define ICMP6(s, d, t, id) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, \
	  .icmp_type = (t), .icmp_id = (id) }
/* neighbour discovery arrives with hop limit 255, MLD with 1 */
#define ND6(s, d, t) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, \
	  .icmp_type = (t), .hop_limit = 255 }
#define MLD6(s, d) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, \
	  .icmp_type = 143, .hop_limit = 1 }
#define ARP(s, d) { .arp = true, .src = (s), .dst = (d) }

#define PASS(r)	.pass = true, .reason = (r)
#define DROP(r)	.pass = false, .reason = (r)
#define REC(e, v)	.rec = (e), .rec_verdict = (v)
#define NOREC		.rec = FX_REC_NONE
#define OUT	.prog = FX_EGRESS
#define INTO	.prog = FX_INGRESS

/* the usual egress-TCP-80 policy: port 80 to the peer, isolated both ways */
#define WEB_POLICY \
	ISOLATED(EG), ISOLATED(IN), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 80, 11)

static const struct fixture fixtures[] = {
/* ------------------------------------------------------------- policy */
{ .desc = "tcp egress allowed by port rule",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 11,
	       .counter = BH_C_CT_CREATE + 1 } } },
{ .desc = "tcp egress to another port default-denied",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 81, FX_SYN),
	       DROP(BH_R_DEFAULT_DENY), REC(FX_REC_NEW, BH_V_DENY) } } },
{ .desc = "tcp6 egress allowed by port rule",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 11 } } },
{ .desc = "tcp ingress allowed by port rule from peer",
  .rules = { ISOLATED(IN), ALLOW_PORT(IN, FX_ID_PEER, IPPROTO_TCP, 8080, 12) },
  .steps = { { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 50000, 8080, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 12 } } },
{ .desc = "tcp ingress from world default-denied",
  .rules = { ISOLATED(IN), ALLOW_PORT(IN, FX_ID_PEER, IPPROTO_TCP, 8080, 12) },
  .steps = { { INTO, .pkt = TCP4(FX_WORLD4, FX_WL4, 50000, 8080, FX_SYN),
	       DROP(BH_R_DEFAULT_DENY), REC(FX_REC_NEW, BH_V_DENY) } } },
{ .desc = "udp egress allowed",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_UDP, 53, 13) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 5353, 53),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 13 } } },
{ .desc = "udp egress to a tcp-only port denied",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 53, 13) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 5353, 53), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "udp6 ingress default-denied",
  .rules = { ISOLATED(IN) },
  .steps = { { INTO, .pkt = UDP6(FX_PEER6, FX_WL6, 5000, 53), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "sctp egress allowed",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_SCTP, 9999, 14) },
  .steps = { { OUT, .pkt = SCTP4(FX_WL4, FX_PEER4, 4000, 9999),
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 14, REC(FX_REC_NEW, BH_V_ALLOW) } } },
{ .desc = "sctp egress to another port denied",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_SCTP, 9999, 14) },
  .steps = { { OUT, .pkt = SCTP4(FX_WL4, FX_PEER4, 4000, 9998), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmp echo request allowed by type (prefix 56)",
  .rules = { ISOLATED(EG), RULE(56, EG, BH_ID_ANY, IPPROTO_ICMP, 8 << 8, BH_PV_ALLOW, 15) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 8, 77),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 15 } } },
{ .desc = "icmp timestamp denied when only echo allowed",
  .rules = { ISOLATED(EG), RULE(56, EG, BH_ID_ANY, IPPROTO_ICMP, 8 << 8, BH_PV_ALLOW, 15) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 13, 77), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmpv6 echo request allowed",
  .rules = { ISOLATED(EG), RULE(56, EG, BH_ID_ANY, IPPROTO_ICMPV6, 128 << 8, BH_PV_ALLOW, 16) },
  .steps = { { OUT, .pkt = ICMP6(FX_WL6, FX_PEER6, 128, 5),
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 16 } } },
{ .desc = "port range 8000-8007 (prefix 61) allows 8005",
  .rules = { ISOLATED(EG), RULE(61, EG, FX_ID_PEER, IPPROTO_TCP, 8000, BH_PV_ALLOW, 17) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 8005, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 17 } } },
{ .desc = "port range 8000-8007 excludes 8008",
  .rules = { ISOLATED(EG), RULE(61, EG, FX_ID_PEER, IPPROTO_TCP, 8000, BH_PV_ALLOW, 17) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 8008, FX_SYN),
	       DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "protocol rule (prefix 48) allows any port",
  .rules = { ISOLATED(EG), RULE(48, EG, FX_ID_PEER, IPPROTO_UDP, 0, BH_PV_ALLOW, 18) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1000, 31337), PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "identity rule (prefix 40) allows any protocol",
  .rules = { ISOLATED(EG), RULE(40, EG, FX_ID_PEER, 0, 0, BH_PV_ALLOW, 19) },
  .steps = { { OUT, .pkt = SCTP4(FX_WL4, FX_PEER4, 1, 2), PASS(BH_R_POLICY_ALLOW), .rec_rule = 19 } } },
{ .desc = "identity wildcard rule allows the world",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, BH_ID_ANY, IPPROTO_TCP, 443, 20) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 40000, 443, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 20 } } },
{ .desc = "peer rule does not match another identity",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_CIDR4, 40000, 80, FX_SYN), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "cidr identity from the ipcache",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_CIDR, IPPROTO_TCP, 80, 21) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_CIDR4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 21 } } },
{ .desc = "explicit wildcard deny beats peer allow",
  .rules = { ISOLATED(EG), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 80, 11),
	     DENY_PORT(EG, BH_ID_ANY, IPPROTO_TCP, 80, 22) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       DROP(BH_R_POLICY_DENY), REC(FX_REC_NEW, BH_V_DENY), .rec_rule = 22 } } },
{ .desc = "explicit peer deny beats wildcard allow",
  .rules = { ALLOW_PORT(EG, BH_ID_ANY, IPPROTO_TCP, 80, 11),
	     DENY_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 80, 23) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       DROP(BH_R_POLICY_DENY), .rec_rule = 23 } } },
{ .desc = "not isolated: no entry allows",
  .rules = { ISOLATED(IN) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 40000, 25, FX_SYN),
	       PASS(BH_R_NOT_ISOLATED), REC(FX_REC_NEW, BH_V_ALLOW) } } },
{ .desc = "no policy map in the slot: not isolated",
  .no_policy_map = true,
  .steps = { { INTO, .pkt = UDP4(FX_WORLD4, FX_WL4, 1, 2), PASS(BH_R_NOT_ISOLATED) } } },
{ .desc = "other protocol (GRE) judged with port 0, by a rule naming it",
  .rules = { ISOLATED(EG), RULE(48, EG, BH_ID_ANY, 47, 0, BH_PV_ALLOW, 24),
	     RULE(48, EG + BH_DIR_NAMED, BH_ID_ANY, 47, 0, BH_PV_ALLOW, 24) },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_WORLD4, .proto = 47,
			     .payload = 8 },
	       PASS(BH_R_POLICY_ALLOW), .rec_rule = 24 } } },

/* ---------------------------------------------------------- conntrack */
{ .desc = "reply passes after an allowed SYN",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "reply denied without the SYN",
  .rules = { WEB_POLICY },
  .steps = { { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK),
	       DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "RST ends the flow with an END record; late ACK passes, new SYN is judged",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_RST),
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW), .rec_rule = 11 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW) } } },
{ .desc = "FIN from both sides ends the flow with one END record",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_FIN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_FIN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "an expired entry is a miss",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { .before = FX_ACT_AGE_CT, INTO,
	       .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "udp reply passes",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_UDP, 53, 13) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 5353, 53), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 53, 5353), PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 53, 5354), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmp echo reply matches the request id",
  .rules = { ISOLATED(EG), ISOLATED(IN),
	     RULE(56, EG, BH_ID_ANY, IPPROTO_ICMP, 8 << 8, BH_PV_ALLOW, 15) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 8, 77), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 77), PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 78), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmpv6 echo reply matches the request id",
  .rules = { ISOLATED(EG), ISOLATED(IN),
	     RULE(56, EG, BH_ID_ANY, IPPROTO_ICMPV6, 128 << 8, BH_PV_ALLOW, 16) },
  .steps = { { OUT, .pkt = ICMP6(FX_WL6, FX_PEER6, 128, 9), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP6(FX_PEER6, FX_WL6, 129, 9), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmp frag-needed about an allowed flow passes (path MTU)",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = { .family = 4, .src = FX_WORLD4, .dst = FX_WL4, .proto = IPPROTO_ICMP,
			      .icmp_type = 3, .icmp_code = 4,
			      .inner = &(const struct pkt_opts)TCP4(FX_WL4, FX_PEER4, 40000, 80,
								   FX_SYN) },
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmp error about an unknown flow is judged by policy",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = { .family = 4, .src = FX_WORLD4, .dst = FX_WL4, .proto = IPPROTO_ICMP,
			      .icmp_type = 3, .icmp_code = 4,
			      .inner = &(const struct pkt_opts)TCP4(FX_WL4, FX_PEER4, 40001, 80,
								   FX_SYN) },
	       DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmpv6 packet-too-big about an allowed flow passes",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = { .family = 6, .src = FX_WORLD6, .dst = FX_WL6, .proto = IPPROTO_ICMPV6,
			      .icmp_type = 2,
			      .inner = &(const struct pkt_opts)TCP6(FX_WL6, FX_PEER6, 40000, 80,
								   FX_ACK) },
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmp error about a flow cut by quarantine is dropped",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { .before = FX_ACT_QUARANTINE, INTO,
	       .pkt = { .family = 4, .src = FX_WORLD4, .dst = FX_WL4, .proto = IPPROTO_ICMP,
			.icmp_type = 11,
			.inner = &(const struct pkt_opts)TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN) },
	       DROP(BH_R_QUARANTINE) } } },

/* -------------------------------------------------------- flow cache
 * An established TCP/UDP IPv4 packet of a flow this CPU passed before is
 * judged from the per-CPU flow cache (lib/bpf/fcache.h) without touching
 * conntrack; the suite runs on one CPU so the cache is hit. Each object
 * (XDP, TC) has its own cache: the spoof step finds the flow cached in
 * both runs. */
{ .desc = "flow cache: cached packets reach conntrack's counts when the flow ends",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED),
	       NOREC, .ct_packets = 3 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED),
	       NOREC, .ct_packets = 3 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED),
	       NOREC, .ct_packets = 3 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_RST | FX_ACK),
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW), .ct_packets = 6 } } },
{ .desc = "flow cache: a malformed packet of a cached flow is still malformed",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED) },
	     /* TCP header cut short */
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), .trunc = 14 + 20 + 12,
	       DROP(BH_R_MALFORMED) },
	     /* IP total length beyond the frame */
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), .npoke = 1,
	       .poke_off = { 16 }, .poke_val = { 0x7f }, DROP(BH_R_MALFORMED) },
	     /* TCP data offset below 5 words */
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), .npoke = 1,
	       .poke_off = { 14 + 20 + 12 }, .poke_val = { 0x40 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "flow cache: quarantine cuts a cached flow",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED),
	       .ct_packets = 3 },
	     { .before = FX_ACT_QUARANTINE, OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK),
	       DROP(BH_R_QUARANTINE) } } },
{ .desc = "flow cache: a flow cut from conntrack is judged again",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_UDP, 53, 13) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 5353, 53), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 53, 5353), PASS(BH_R_ESTABLISHED) },
	     { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 53, 5353), PASS(BH_R_ESTABLISHED),
	       .ct_packets = 2 },
	     { .before = FX_ACT_CUT_CT, INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 53, 5353),
	       DROP(BH_R_DEFAULT_DENY), REC(FX_REC_NEW, BH_V_DENY) } } },
{ .desc = "flow cache: the reverse tuple sent from the container is a spoof",
  .rules = { ISOLATED(IN), ALLOW_PORT(IN, FX_ID_PEER, IPPROTO_UDP, 53, 12) },
  .steps = { { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 5353, 53), PASS(BH_R_POLICY_ALLOW) },
	     { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 53, 5353), PASS(BH_R_ESTABLISHED),
	       .ct_packets = 2 },
	     { INTO, .pkt = UDP4(FX_PEER4, FX_WL4, 5353, 53), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 53, 5353), PASS(BH_R_ESTABLISHED) },
	     { OUT, .pkt = UDP4(FX_PEER4, FX_WL4, 5353, 53), DROP(BH_R_SPOOF_IP) } } },

/* ------------------------------------------------------------- modes */
{ .desc = "monitor passes a denied flow as would-deny, reply passes",
  .mode = FX_MONITOR, .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 81, FX_SYN),
	       PASS(BH_R_DEFAULT_DENY), REC(FX_REC_NEW, BH_V_WOULD_DENY) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 81, 40000, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "monitor keeps the allow verdict of allowed flows",
  .mode = FX_MONITOR, .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW) } } },
{ .desc = "learn passes an explicit deny with reason learn",
  .mode = FX_LEARN,
  .rules = { ISOLATED(EG), DENY_PORT(EG, BH_ID_ANY, IPPROTO_TCP, 23, 25) },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 40000, 23, FX_SYN),
	       PASS(BH_R_LEARN), REC(FX_REC_NEW, BH_V_WOULD_DENY), .rec_rule = 25 } } },
{ .desc = "learn keeps the allow reason",
  .mode = FX_LEARN, .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_ALLOW), REC(FX_REC_NEW, BH_V_ALLOW) } } },
{ .desc = "audit deny on an enforced allow: passes as would-deny with the audit rule",
  .rules = { ISOLATED(EG),
	     { .plen = 64, .dir = EG, .identity = FX_ID_PEER, .proto = IPPROTO_TCP, .port = 80,
	       .verdict = BH_PV_ALLOW, .rule_id = 11,
	       .audit_verdict = BH_PV_DENY, .audit_rule_id = 31 } },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       PASS(BH_R_POLICY_DENY), REC(FX_REC_NEW, BH_V_WOULD_DENY), .rec_rule = 31 } } },
{ .desc = "audit allow does not override an enforced deny",
  .rules = { { .plen = 8, .dir = EG, .verdict = BH_PV_DEFAULT_DENY,
	       .audit_verdict = BH_PV_ALLOW, .audit_rule_id = 32 } },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), DROP(BH_R_DEFAULT_DENY) } } },

/* -------------------------------------------------------- quarantine */
{ .desc = "quarantine drops a new flow",
  .quarantined = true, .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN),
	       DROP(BH_R_QUARANTINE), REC(FX_REC_NEW, BH_V_QUARANTINE) } } },
{ .desc = "quarantine drops in learn mode too",
  .mode = FX_LEARN, .quarantined = true,
  .steps = { { INTO, .pkt = UDP4(FX_WORLD4, FX_WL4, 1, 53), DROP(BH_R_QUARANTINE) } } },
{ .desc = "quarantine cuts an established flow",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK), PASS(BH_R_ESTABLISHED) },
	     { .before = FX_ACT_QUARANTINE, OUT,
	       .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK),
	       DROP(BH_R_QUARANTINE), REC(FX_REC_NEW, BH_V_QUARANTINE) } } },
{ .desc = "forensics exception passes in quarantine, its reply too",
  .quarantined = true,
  .qrules = { { .plen = 64, .dir = IN, .identity = BH_ID_ANY, .proto = IPPROTO_TCP, .port = 22,
		.verdict = BH_PV_ALLOW, .rule_id = 99, .flags = BH_PF_FORENSICS } },
  .steps = { { INTO, .pkt = TCP4(FX_WORLD4, FX_WL4, 50000, 22, FX_SYN),
	       PASS(BH_R_FORENSICS), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 99 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 22, 50000, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "forensics exception passes beside the deny-all map's quarantine defaults",
  /* shaped like the compiler's deny-all map: a QUARANTINE default per
   * direction (prefix 8) under the forensics allow */
  .quarantined = true,
  .qrules = { { .plen = 8, .dir = IN, .verdict = BH_PV_QUARANTINE },
	      { .plen = 8, .dir = EG, .verdict = BH_PV_QUARANTINE },
	      { .plen = 64, .dir = IN, .identity = BH_ID_ANY, .proto = IPPROTO_TCP, .port = 22,
		.verdict = BH_PV_ALLOW, .rule_id = 99, .flags = BH_PF_FORENSICS } },
  .steps = { { INTO, .pkt = TCP4(FX_WORLD4, FX_WL4, 50000, 22, FX_SYN),
	       PASS(BH_R_FORENSICS), REC(FX_REC_NEW, BH_V_ALLOW), .rec_rule = 99 },
	     { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 22, 50000, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = TCP4(FX_WORLD4, FX_WL4, 50001, 80, FX_SYN), DROP(BH_R_QUARANTINE) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_WORLD4, 40000, 22, FX_SYN), DROP(BH_R_QUARANTINE) } } },
{ .desc = "forensics exception covers nothing else",
  .quarantined = true,
  .qrules = { { .plen = 64, .dir = IN, .identity = BH_ID_ANY, .proto = IPPROTO_TCP, .port = 22,
		.verdict = BH_PV_ALLOW, .rule_id = 99, .flags = BH_PF_FORENSICS } },
  .steps = { { INTO, .pkt = TCP4(FX_WORLD4, FX_WL4, 50000, 23, FX_SYN), DROP(BH_R_QUARANTINE) } } },

/* ------------------------------------------------------ anti-spoofing */
{ .desc = "spoofed IPv4 source dropped",
  .steps = { { OUT, .pkt = TCP4("10.0.0.99", FX_PEER4, 40000, 80, FX_SYN),
	       DROP(BH_R_SPOOF_IP), REC(FX_REC_NEW, BH_V_SPOOF) } } },
{ .desc = "spoofed IPv6 source dropped",
  .steps = { { OUT, .pkt = UDP6("fd00::99", FX_PEER6, 1, 53),
	       DROP(BH_R_SPOOF_IP), REC(FX_REC_NEW, BH_V_SPOOF) } } },
{ .desc = "ingress source is not spoof-checked",
  .steps = { { INTO, .pkt = UDP4("10.0.0.99", FX_WL4, 1, 53), PASS(BH_R_NOT_ISOLATED) } } },
{ .desc = "neighbour solicitation from link-local passes",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ND6("fe80::1", "ff02::1:ff00:2", 135), PASS(BH_R_ND) } } },
{ .desc = "neighbour solicitation from unspecified passes (DAD)",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ND6("::", "ff02::1:ff00:1", 135), PASS(BH_R_ND) } } },
{ .desc = "MLD report from link-local passes",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = MLD6("fe80::1", "ff02::16"), PASS(BH_R_ND) } } },
{ .desc = "ND-shaped packet with hop limit 64 is not ND: link-local source spoofed",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ICMP6("fe80::1", "ff02::1:ff00:2", 135, 0), DROP(BH_R_SPOOF_IP) } } },
{ .desc = "router solicitation to a remote unicast address is not ND: policy judges it",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ND6(FX_WL6, FX_PEER6, 133), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "MLD report with hop limit 255 is not MLD",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ND6("fe80::1", "ff02::16", 143), DROP(BH_R_SPOOF_IP) } } },
{ .desc = "echo from link-local is spoofed",
  .steps = { { OUT, .pkt = ICMP6("fe80::1", FX_PEER6, 128, 1), DROP(BH_R_SPOOF_IP) } } },
{ .desc = "neighbour advertisement to the container passes",
  .rules = { ISOLATED(IN) },
  .steps = { { INTO, .pkt = ND6("fe80::2", FX_WL6, 136), PASS(BH_R_ND) } } },
{ .desc = "ARP from the workload's address passes",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = ARP(FX_WL4, FX_PEER4), PASS(BH_R_ARP) } } },
{ .desc = "ARP probe from 0.0.0.0 passes",
  .steps = { { OUT, .pkt = ARP("0.0.0.0", FX_WL4), PASS(BH_R_ARP) } } },
{ .desc = "spoofed ARP sender dropped",
  .steps = { { OUT, .pkt = ARP(FX_PEER4, FX_WL4), DROP(BH_R_SPOOF_ARP),
	       REC(FX_REC_NEW, BH_V_SPOOF) } } },
/* conntrack keeps the workload's endpoint: an established flow never
 * lends its other endpoint to the container as a source */
{ .desc = "reverse tuple of an egress flow sent from the container is spoofed",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_SYN), PASS(BH_R_NOT_ISOLATED) },
	     { OUT, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 40000, FX_SYN | FX_ACK),
	       DROP(BH_R_SPOOF_IP), REC(FX_REC_NEW, BH_V_SPOOF) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 80, FX_ACK), PASS(BH_R_ESTABLISHED),
	       NOREC } } },
{ .desc = "ingress flow to another address is not the workload's; it cannot answer from it",
  .steps = { { INTO, .pkt = UDP4(FX_PEER4, "10.0.0.99", 53, 5353), DROP(BH_R_NOT_OURS), NOREC },
	     { OUT, .pkt = UDP4("10.0.0.99", FX_PEER4, 5353, 53), DROP(BH_R_SPOOF_IP) },
	     { INTO, .pkt = UDP4(FX_PEER4, "10.0.0.99", 53, 5353), DROP(BH_R_NOT_OURS),
	       NOREC } } },
{ .desc = "ingress flow to the workload: its reply is established",
  .rules = { ISOLATED(EG) },
  .steps = { { INTO, .pkt = UDP6(FX_PEER6, FX_WL6, 5353, 53), PASS(BH_R_NOT_ISOLATED) },
	     { OUT, .pkt = UDP6(FX_WL6, FX_PEER6, 53, 5353), PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = UDP6("fd00::99", FX_PEER6, 53, 5353), DROP(BH_R_SPOOF_IP) } } },
{ .desc = "ARP to the container passes",
  .rules = { ISOLATED(IN) },
  .steps = { { INTO, .pkt = ARP(FX_PEER4, FX_WL4), PASS(BH_R_ARP) } } },

/* --------------------------------------------------- malformed frames */
{ .desc = "ethernet without IPv4 header (14 bytes)",
  .xdp_only = true,
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN), .trunc = 14,
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "truncated IPv4 header",
  .xdp_only = true,
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN), .trunc = 30,
	       DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv4 ihl below 5",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 14 }, .poke_val = { 0x44 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv4 wrong version",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 14 }, .poke_val = { 0x65 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv4 total length beyond the frame",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 16 }, .poke_val = { 0x05 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv4 total length shorter than ihl",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 2, .poke_off = { 16, 17 }, .poke_val = { 0, 16 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "TCP header cut short inside the datagram",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 2, .poke_off = { 16, 17 }, .poke_val = { 0, 30 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "TCP data offset below 5",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 46 }, .poke_val = { 0x40 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "TCP data offset beyond the datagram",
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 46 }, .poke_val = { 0xf0 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "truncated UDP header",
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53),
	       .npoke = 2, .poke_off = { 16, 17 }, .poke_val = { 0, 24 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "truncated IPv6 header",
  .xdp_only = true,
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 1, 80, FX_SYN), .trunc = 40,
	       DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv6 payload length beyond the frame",
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 18 }, .poke_val = { 0x05 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv6 wrong version",
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 1, 80, FX_SYN),
	       .npoke = 1, .poke_off = { 14 }, .poke_val = { 0x40 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv6 TCP header cut short",
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 1, 80, FX_SYN),
	       .npoke = 2, .poke_off = { 18, 19 }, .poke_val = { 0, 12 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "truncated ICMPv6 header",
  .steps = { { OUT, .pkt = ICMP6(FX_WL6, FX_PEER6, 128, 1),
	       .npoke = 2, .poke_off = { 18, 19 }, .poke_val = { 0, 4 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "truncated ARP",
  .steps = { { OUT, .pkt = ARP(FX_WL4, FX_PEER4), .trunc = 30, DROP(BH_R_MALFORMED) } } },
{ .desc = "ARP for another protocol",
  .steps = { { OUT, .pkt = ARP(FX_WL4, FX_PEER4),
	       .npoke = 1, .poke_off = { 16 }, .poke_val = { 0x86 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv4 with options: allowed port",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN, .ip_opt_words = 3 },
	       PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "IPv4 with options: port read past the options",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 80, .dport = 81, .tcp_flags = FX_SYN, .ip_opt_words = 10 },
	       DROP(BH_R_DEFAULT_DENY) } } },

/* ---------------------------------------------------------- fragments */
{ .desc = "IPv4 first fragment allowed, later fragment follows it",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN, .payload = 64,
			     .more_frags = true, .frag_id = 0x1234 },
	       PASS(BH_R_POLICY_ALLOW) },
	     { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .payload = 64, .frag_off = 11, .frag_id = 0x1234 },
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "IPv4 later fragment without its first dropped",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .payload = 64, .frag_off = 11, .frag_id = 0x4321 },
	       DROP(BH_R_FRAGMENT), NOREC } } },
{ .desc = "IPv4 later fragment of a denied first dropped",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 9, .payload = 64,
			     .more_frags = true, .frag_id = 0x55 },
	       DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .payload = 64, .frag_off = 9, .frag_id = 0x55 },
	       DROP(BH_R_FRAGMENT) } } },
{ .desc = "IPv4 later fragment not allowed in by another datagram's entry",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_ACK, .payload = 64,
			     .more_frags = true, .frag_id = 0x1234 },
	       PASS(BH_R_POLICY_ALLOW) },
	     { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .payload = 64, .frag_off = 11, .frag_id = 0x1235 },
	       DROP(BH_R_FRAGMENT) } } },
{ .desc = "IPv4 first fragment with a cut TCP header",
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 1, .dport = 80, .more_frags = true, .frag_id = 7 },
	       .npoke = 2, .poke_off = { 16, 17 }, .poke_val = { 0, 28 }, DROP(BH_R_MALFORMED) } } },
{ .desc = "IPv6 first fragment allowed, later fragment follows it",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN, .payload = 64,
			     .ext6 = { 44 }, .n_ext6 = 1, .more_frags = true, .frag_id = 0xabcdef },
	       PASS(BH_R_POLICY_ALLOW) },
	     { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .payload = 64, .ext6 = { 44 }, .n_ext6 = 1, .frag_off = 11,
			     .frag_id = 0xabcdef },
	       PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "IPv6 later fragment without its first dropped",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .payload = 64, .ext6 = { 44 }, .n_ext6 = 1, .frag_off = 11,
			     .frag_id = 0xabcdee },
	       DROP(BH_R_FRAGMENT) } } },
{ .desc = "later fragment in quarantine dropped: its first, dropped, was not remembered",
  .quarantined = true,
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .payload = 64,
			     .more_frags = true, .frag_id = 0x99 },
	       DROP(BH_R_QUARANTINE) },
	     { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_TCP,
			     .payload = 64, .frag_off = 11, .frag_id = 0x99 },
	       DROP(BH_R_FRAGMENT) } } },

/* ------------------------------------------------ IPv6 extension chain */
{ .desc = "IPv6 hop-by-hop + destination options, port judged",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN,
			     .ext6 = { 0, 60 }, .n_ext6 = 2 },
	       PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "IPv6 chain with AH, port judged",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 81, .tcp_flags = FX_SYN,
			     .ext6 = { 0, 60, 51, 60 }, .n_ext6 = 4 },
	       DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "IPv6 chain of exactly the limit (8) passes",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN,
			     .ext6 = { 0, 60, 60, 60, 60, 60, 60, 60 }, .n_ext6 = 8 },
	       PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "IPv6 chain over the limit (9) dropped",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN,
			     .ext6 = { 0, 60, 60, 60, 60, 60, 60, 60, 60 }, .n_ext6 = 9 },
	       DROP(BH_R_IPV6_EXT), NOREC } } },
{ .desc = "IPv6 extension header cut short",
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 40000, .dport = 80, .tcp_flags = FX_SYN,
			     .ext6 = { 0, 60 }, .n_ext6 = 2 },
	       .npoke = 1, .poke_off = { 63 }, .poke_val = { 200 }, DROP(BH_R_MALFORMED) } } },

/* -------------------------------------------------------------- L2 */
{ .desc = "802.1Q tagged frame dropped",
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .vlan = 5 },
	       DROP(BH_R_VLAN), NOREC } } },
{ .desc = "802.1ad tagged frame dropped",
  .steps = { { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_UDP,
			      .sport = 1, .dport = 53, .ethertype = 0x88a8 },
	       DROP(BH_R_VLAN) } } },
{ .desc = "unknown ethertype dropped",
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ethertype = 0x88cc },
	       DROP(BH_R_L3_UNKNOWN), NOREC } } },

/* ------------------------------------------- layer 2 identity (l2.h) */
#define UDP4M(s, d, sp, dp, sm, dm) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, \
	  .sport = (sp), .dport = (dp), .payload = 16, .smac = (sm), .dmac = (dm) }
#define ND6X(s, d, t, tgt, ll, extra) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, \
	  .icmp_type = (t), .hop_limit = 255, .nd_target = (tgt), .lladdr = (ll), \
	  .nd_extra = (extra) }
{ .desc = "L2: Ethernet source not the workload's MAC dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = UDP4M(FX_WL4, FX_PEER4, 1, 53, FX_OTHER_MAC, NULL),
	       DROP(BH_R_SPOOF_MAC), REC(FX_REC_NEW, BH_V_SPOOF) } } },
{ .desc = "L2: Ethernet source forged on an established flow dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53), PASS(BH_R_NOT_ISOLATED) },
	     { OUT, .pkt = UDP4M(FX_WL4, FX_PEER4, 1, 53, FX_OTHER_MAC, NULL),
	       DROP(BH_R_SPOOF_MAC) },
	     { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53), PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = UDP4M(FX_WL4, FX_PEER4, 1, 53, FX_OTHER_MAC, NULL),
	       DROP(BH_R_SPOOF_MAC) } } },
{ .desc = "L2: ARP sender MAC not the frame's dropped (no MAC bound)",
  .steps = { { OUT, .pkt = { .arp = true, .src = FX_WL4, .dst = FX_PEER4,
			     .lladdr = FX_OTHER_MAC },
	       DROP(BH_R_SPOOF_ARP), REC(FX_REC_NEW, BH_V_SPOOF) } } },
{ .desc = "L2: ARP with a neighbour's MAC as frame and sender MAC dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = { .arp = true, .src = FX_WL4, .dst = FX_PEER4,
			     .smac = FX_OTHER_MAC, .arp_op = 2 },
	       DROP(BH_R_SPOOF_MAC) } } },
{ .desc = "L2: ARP of the workload's MAC and address passes, padded to 60 bytes too",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ARP(FX_WL4, FX_PEER4), PASS(BH_R_ARP) },
	     { OUT, .pkt = { .arp = true, .src = FX_WL4, .dst = FX_PEER4, .payload = 18 },
	       PASS(BH_R_ARP) } } },
{ .desc = "L2: oversized ARP dropped",
  .steps = { { OUT, .pkt = { .arp = true, .src = FX_WL4, .dst = FX_PEER4, .payload = 19 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2: router advertisement from a container dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_LL6, "ff02::1", 134, NULL, NULL, 0),
	       DROP(BH_R_ROUTER_MSG), REC(FX_REC_NEW, BH_V_SPOOF) } } },
{ .desc = "L2: router advertisement with hop limit 64 dropped too",
  .steps = { { OUT, .pkt = ICMP6(FX_WL6, "ff02::1", 134, 0), DROP(BH_R_ROUTER_MSG) } } },
{ .desc = "L2: router advertisement from a workload marked as a router passes",
  .l2_bound = true, .router = true,
  .steps = { { OUT, .pkt = ND6X(FX_LL6, "ff02::1", 134, NULL, NULL, 0), PASS(BH_R_ND) } } },
{ .desc = "L2: ICMPv6 redirect dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, FX_PEER6, 137, FX_PEER6, NULL, 0),
	       DROP(BH_R_ROUTER_MSG) } } },
{ .desc = "L2: ICMP redirect dropped, allowed from a router",
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 5, 0), DROP(BH_R_ROUTER_MSG) } } },
{ .desc = "L2: ICMP redirect from a router judged by policy",
  .router = true,
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 5, 0), PASS(BH_R_NOT_ISOLATED) } } },
{ .desc = "L2: NA for a neighbour's address dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1", 136, FX_PEER6, FX_MAC, 0),
	       DROP(BH_R_SPOOF_IP) } } },
{ .desc = "L2: NA for its own address and link-local, with its MAC, passes",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1", 136, FX_WL6, FX_MAC, 0), PASS(BH_R_ND) },
	     { OUT, .pkt = ND6X(FX_LL6, "ff02::1", 136, FX_LL6, FX_MAC, 0), PASS(BH_R_ND) } } },
{ .desc = "L2: NA for another link-local address dropped (MAC bound)",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1", 136, "fe80::1", FX_MAC, 0),
	       DROP(BH_R_SPOOF_IP) } } },
{ .desc = "L2: NA with a neighbour's MAC as target link-layer address dropped",
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1", 136, FX_WL6, FX_OTHER_MAC, 0),
	       DROP(BH_R_SPOOF_MAC) } } },
{ .desc = "L2: NS with a forged source link-layer address dropped",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1:ff00:2", 135, FX_PEER6, FX_OTHER_MAC, 0),
	       DROP(BH_R_SPOOF_MAC) } } },
{ .desc = "L2: NS from another link-local address dropped, from its own passes",
  .l2_bound = true,
  .steps = { { OUT, .pkt = ND6X("fe80::1", "ff02::1:ff00:2", 135, FX_PEER6, FX_MAC, 0),
	       DROP(BH_R_SPOOF_IP) },
	     { OUT, .pkt = ND6X(FX_LL6, "ff02::1:ff00:2", 135, FX_PEER6, FX_MAC, 1),
	       PASS(BH_R_ND) } } },
{ .desc = "L2: NS longer than ND needs dropped",
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1:ff00:2", 135, FX_PEER6, FX_MAC, 2),
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2: NS with a destination options header dropped",
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = "ff02::1:ff00:2",
			     .proto = IPPROTO_ICMPV6, .icmp_type = 135, .hop_limit = 255,
			     .nd_target = FX_PEER6, .ext6 = { 60 }, .n_ext6 = 1 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2: NS with data after its options dropped",
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = "ff02::1:ff00:2",
			     .proto = IPPROTO_ICMPV6, .icmp_type = 135, .hop_limit = 255,
			     .nd_target = FX_PEER6, .lladdr = FX_MAC, .payload = 64 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2: ND option of length 0 is malformed",
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1:ff00:2", 135, FX_PEER6, FX_MAC, 0),
	       .poke_off = { 14 + 40 + 24 + 1 }, .poke_val = { 0 }, .npoke = 1,
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2: oversized MLD report dropped",
  .steps = { { OUT, .pkt = { .family = 6, .src = "fe80::1", .dst = "ff02::16",
			     .proto = IPPROTO_ICMPV6, .icmp_type = 143, .hop_limit = 1,
			     .payload = 8 + 20 * 16 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2 quarantine: neighbour resolution passes, MLD and router messages do not",
  .quarantined = true, .l2_bound = true, .router = true,
  .steps = { { OUT, .pkt = ND6X(FX_WL6, "ff02::1:ff00:2", 135, FX_PEER6, FX_MAC, 0),
	       PASS(BH_R_ND) },
	     { OUT, .pkt = ARP(FX_WL4, FX_PEER4), PASS(BH_R_ARP) },
	     { OUT, .pkt = MLD6(FX_LL6, "ff02::16"), DROP(BH_R_QUARANTINE) },
	     { OUT, .pkt = ND6X(FX_LL6, "ff02::1", 134, NULL, NULL, 0), DROP(BH_R_QUARANTINE) } } },
{ .desc = "L2 quarantine: to the workload, oversized ARP and router advertisements dropped",
  .quarantined = true, .l2_bound = true,
  .steps = { { INTO, .pkt = { .arp = true, .src = FX_PEER4, .dst = FX_WL4, .dmac = FX_MAC,
			      .payload = 100 },
	       DROP(BH_R_MALFORMED), NOREC },
	     { INTO, .pkt = { .family = 6, .src = "fe80::2", .dst = "ff02::1",
			      .proto = IPPROTO_ICMPV6, .icmp_type = 134, .hop_limit = 255,
			      .dmac = (const __u8 *)"\x33\x33\0\0\0\x01" },
	       DROP(BH_R_QUARANTINE) },
	     { INTO, .pkt = { .arp = true, .src = FX_PEER4, .dst = FX_WL4, .dmac = FX_MAC },
	       PASS(BH_R_ARP) } } },
{ .desc = "L2 quarantine: oversized ARP dropped",
  .quarantined = true, .l2_bound = true,
  .steps = { { OUT, .pkt = { .arp = true, .src = FX_WL4, .dst = FX_PEER4, .payload = 100 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "L2 ingress: to the workload's MAC with another destination address dropped",
  .l2_bound = true,
  .steps = { { INTO, .pkt = UDP4M(FX_PEER4, FX_CIDR4, 53, 5353, NULL, FX_MAC),
	       DROP(BH_R_NOT_OURS), NOREC } } },
{ .desc = "L2 ingress: to another MAC dropped",
  .l2_bound = true,
  .steps = { { INTO, .pkt = UDP4M(FX_PEER4, FX_WL4, 53, 5353, NULL, FX_OTHER_MAC),
	       DROP(BH_R_NOT_OURS), NOREC } } },
{ .desc = "L2 ingress: its MAC and address, broadcast and multicast pass",
  .l2_bound = true,
  .steps = { { INTO, .pkt = UDP4M(FX_PEER4, FX_WL4, 53, 5353, NULL, FX_MAC),
	       PASS(BH_R_NOT_ISOLATED) },
	     { INTO, .pkt = UDP4M(FX_PEER4, "255.255.255.255", 67, 68, NULL, FX_BCAST_MAC),
	       PASS(BH_R_NOT_ISOLATED) },
	     { INTO, .pkt = UDP4M(FX_PEER4, "224.0.0.251", 5353, 5353, NULL,
				  (const __u8 *)"\x01\0\x5e\0\0\xfb"),
	       PASS(BH_R_NOT_ISOLATED) },
	     { INTO, .pkt = { .family = 6, .src = FX_PEER6, .dst = "ff02::fb",
			      .proto = IPPROTO_UDP, .sport = 5353, .dport = 5353,
			      .dmac = (const __u8 *)"\x33\x33\0\0\0\xfb" },
	       PASS(BH_R_NOT_ISOLATED) } } },
{ .desc = "L2 ingress: a reply to another MAC dropped on an established flow",
  .l2_bound = true,
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53), PASS(BH_R_NOT_ISOLATED) },
	     { INTO, .pkt = UDP4M(FX_PEER4, FX_WL4, 53, 1, NULL, FX_OTHER_MAC),
	       DROP(BH_R_NOT_OURS) },
	     { INTO, .pkt = UDP4M(FX_PEER4, FX_WL4, 53, 1, NULL, FX_MAC),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = UDP4M(FX_PEER4, FX_WL4, 53, 1, NULL, FX_OTHER_MAC),
	       DROP(BH_R_NOT_OURS) } } },
{ .desc = "L2 ingress: unicast ARP for another address dropped, a broadcast request passes",
  .l2_bound = true,
  .steps = { { INTO, .pkt = { .arp = true, .src = FX_PEER4, .dst = "10.0.0.99",
			      .dmac = FX_MAC, .smac = FX_OTHER_MAC },
	       DROP(BH_R_NOT_OURS) },
	     { INTO, .pkt = { .arp = true, .src = FX_PEER4, .dst = "10.0.0.99",
			      .dmac = FX_BCAST_MAC, .smac = FX_OTHER_MAC },
	       PASS(BH_R_ARP) } } },
{ .desc = "L2 ingress: ND to its link-local passes, to another link-local dropped",
  .l2_bound = true,
  .steps = { { INTO, .pkt = { .family = 6, .src = "fe80::2", .dst = FX_LL6,
			      .proto = IPPROTO_ICMPV6, .icmp_type = 136, .hop_limit = 255,
			      .dmac = FX_MAC },
	       PASS(BH_R_ND) },
	     { INTO, .pkt = { .family = 6, .src = "fe80::2", .dst = "fe80::1",
			      .proto = IPPROTO_ICMPV6, .icmp_type = 136, .hop_limit = 255,
			      .dmac = FX_MAC },
	       DROP(BH_R_NOT_OURS) } } },

/* ------------------------------------------------- workload, records */
{ .desc = "no workload on the interface: dropped and counted",
  .no_workload = true,
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53), .pass = false, .reason = FX_NO_REASON,
	       .counter = BH_C_NO_WORKLOAD + 1, NOREC } } },
{ .desc = "denied flow: NEW record, then at most one DENY record per interval",
  .rules = { ISOLATED(EG) },
  .steps = { { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53),
	       DROP(BH_R_DEFAULT_DENY), REC(FX_REC_NEW, BH_V_DENY) },
	     { .before = FX_ACT_RL_FUTURE, OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53),
	       DROP(BH_R_DEFAULT_DENY), NOREC },
	     { .before = FX_ACT_RL_PAST, OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 1, 53),
	       DROP(BH_R_DEFAULT_DENY), REC(FX_REC_DENY, BH_V_DENY) } } },
};

#define FX_COUNT (sizeof(fixtures) / sizeof(fixtures[0]))

#endif /* BH_TEST_FIXTURES_H */
