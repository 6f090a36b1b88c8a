/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Data-path security fixtures (docs/security.md): ICMP kinds, TCP state
 * only from a handshake, encapsulation and source routing. Same shape and
 * shorthands as fixtures.h, which must be included first; run by
 * tests/bpf/test_verdicts.c after the fixtures there.
 */
#ifndef BH_TEST_FIXTURES_SEC_H
#define BH_TEST_FIXTURES_SEC_H

#include "fixtures.h"

#define ICMP4C(s, d, t, c) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_ICMP, \
	  .icmp_type = (t), .icmp_code = (c) }
#define ICMP6C(s, d, t, c) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, \
	  .icmp_type = (t), .icmp_code = (c) }
#define ALLOW_ICMP(d, pr, type, r)	RULE(56, d, BH_ID_ANY, pr, (type) << 8, BH_PV_ALLOW, r)
#define ALLOW_ANY(d, r)			RULE(40, d, BH_ID_ANY, 0, 0, BH_PV_ALLOW, r)
#define IP4P(s, d, p)	{ .family = 4, .src = (s), .dst = (d), .proto = (p), .payload = 20 }
#define IP6P(s, d, p)	{ .family = 6, .src = (s), .dst = (d), .proto = (p), .payload = 40 }

static const struct fixture fixtures_sec[] = {
/* ------------------------------------------------------------ ICMP kinds */
{ .desc = "icmp: a timestamp flow does not admit echo with the same id bytes",
  /* the old key: timestamp (type 13 code 0) as (0, 0x0d00), echo as (id, 0) */
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMP, 13, 31) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 13, 0x0d00), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 8, 0x0d00), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 0x0d00), DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 0, 0x0d00), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 14, 0x0d00), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmp: an echo flow admits only the echo reply",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMP, 8, 32) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 8, 0x1234), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 14, 0x1234), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 18, 0x1234), DROP(BH_R_DEFAULT_DENY) },
	     /* a request the other way is a new flow, not the reply */
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 8, 0x1234), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 0x1234), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmp: a non-query message creates no state",
  /* router solicitation: a redirect (5) is a router message, l2.h */
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMP, 10, 33) },
  .steps = { { OUT, .pkt = ICMP4C(FX_WL4, FX_PEER4, 10, 0), PASS(BH_R_POLICY_ALLOW) },
	     /* the old key of (0, 0x0a00), met by echo with id 0x0a00 */
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 0x0a00), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 8, 0x0a00), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4C(FX_PEER4, FX_WL4, 10, 0), DROP(BH_R_DEFAULT_DENY) },
	     /* judged by policy again: a rule allows it every time */
	     { OUT, .pkt = ICMP4C(FX_WL4, FX_PEER4, 10, 0), PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "icmp: an echo reply without a request creates no state",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMP, 0, 34) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 0, 0x4242), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 8, 0x4242), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP4(FX_PEER4, FX_WL4, 0, 0x4242), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmpv6: an echo flow admits only the echo reply",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMPV6, 128, 35) },
  .steps = { { OUT, .pkt = ICMP6(FX_WL6, FX_PEER6, 128, 0x8000), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP6(FX_PEER6, FX_WL6, 140, 0x8000), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP6(FX_PEER6, FX_WL6, 128, 0x8000), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP6(FX_PEER6, FX_WL6, 129, 0x8000), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "icmpv6: a non-query message creates no state",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMPV6, 1, 36) },
  .steps = { { OUT, .pkt = ICMP6C(FX_WL6, FX_PEER6, 1, 0), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = ICMP6(FX_PEER6, FX_WL6, 129, 0x0100), DROP(BH_R_DEFAULT_DENY) },
	     { INTO, .pkt = ICMP6C(FX_PEER6, FX_WL6, 1, 0), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "icmp: an error about an echo flow passes as related, to its sender",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_ICMP(EG, IPPROTO_ICMP, 8, 37) },
  .steps = { { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 8, 77), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = { .family = 4, .src = FX_WORLD4, .dst = FX_WL4, .proto = IPPROTO_ICMP,
			      .icmp_type = 11,
			      .inner = &(const struct pkt_opts)ICMP4(FX_WL4, FX_PEER4, 8, 77) },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     /* quoting a timestamp request with the same id: no such flow */
	     { INTO, .pkt = { .family = 4, .src = FX_WORLD4, .dst = FX_WL4, .proto = IPPROTO_ICMP,
			      .icmp_type = 11,
			      .inner = &(const struct pkt_opts)ICMP4(FX_WL4, FX_PEER4, 13, 77) },
	       DROP(BH_R_DEFAULT_DENY) } } },

/* ------------------------------------------------------------ TCP state */
{ .desc = "tcp: a bare ACK that policy allows creates no state",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41000, 80, FX_ACK), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41000, FX_ACK), DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41000, 80, FX_ACK), PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "tcp: a SYN|ACK from the initiator creates no state",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41001, 80, FX_SYN | FX_ACK),
	       PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41001, FX_ACK), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "tcp6: a flagless packet creates no state",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_PORT(EG, BH_ID_ANY, IPPROTO_TCP, 80, 38) },
  .steps = { { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 41002, 80, 0), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP6(FX_PEER6, FX_WL6, 80, 41002, FX_ACK), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "tcp: an unconfirmed SYN ages out in seconds",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41003, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { .before = FX_ACT_AGE_CT_SECS, INTO,
	       .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41003, FX_SYN | FX_ACK), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "tcp: a confirmed flow outlives the SYN timeout",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41004, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41004, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { .before = FX_ACT_AGE_CT_SECS, INTO,
	       .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41004, FX_ACK), PASS(BH_R_ESTABLISHED), NOREC } } },
{ .desc = "tcp: only the responder's SYN|ACK confirms",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41005, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41005, FX_ACK), PASS(BH_R_ESTABLISHED),
	       NOREC },
	     /* still unconfirmed: gone after the SYN timeout */
	     { .before = FX_ACT_AGE_CT_SECS, INTO,
	       .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41005, FX_ACK), DROP(BH_R_DEFAULT_DENY) } } },

{ .desc = "tcp: a blind RST (sequence far off) passes but does not close the flow",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41006, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 41006, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41006, .tcp_flags = FX_RST,
			      .tcp_seq = 1000 + (1u << 20) },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41006, .tcp_flags = FX_RST,
			      .tcp_seq = 1000 - (1u << 20) },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     /* one inside the window closes it, with the flow's end record */
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41006, .tcp_flags = FX_RST,
			      .tcp_seq = 1001 },
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW) } } },
{ .desc = "tcp6: a blind RST from the container's side does not close either",
  .rules = { ISOLATED(EG), ISOLATED(IN), ALLOW_PORT(IN, BH_ID_ANY, IPPROTO_TCP, 80, 39) },
  .steps = { { INTO, .pkt = TCP6(FX_PEER6, FX_WL6, 41007, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { OUT, .pkt = TCP6(FX_WL6, FX_PEER6, 80, 41007, FX_SYN | FX_ACK),
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 80, .dport = 41007, .tcp_flags = FX_RST | FX_ACK,
			     .tcp_seq = 0x80000000u },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_TCP,
			     .sport = 80, .dport = 41007, .tcp_flags = FX_RST | FX_ACK,
			     .tcp_seq = 1001 },
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW) } } },
{ .desc = "tcp: a RST answering the SYN closes only if it acknowledges the SYN",
  .rules = { WEB_POLICY },
  .steps = { { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 41008, 80, FX_SYN), PASS(BH_R_POLICY_ALLOW) },
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41008, .tcp_flags = FX_RST | FX_ACK,
			      .tcp_seq = 1, .tcp_ack = 5555 },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41008, .tcp_flags = FX_RST,
			      .tcp_seq = 1, .tcp_ack = 1001 },
	       PASS(BH_R_ESTABLISHED), NOREC },
	     { INTO, .pkt = { .family = 4, .src = FX_PEER4, .dst = FX_WL4, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 41008, .tcp_flags = FX_RST | FX_ACK,
			      .tcp_seq = 1, .tcp_ack = 1001 },
	       PASS(BH_R_ESTABLISHED), REC(FX_REC_END, BH_V_ALLOW) } } },

/* ------------------------------------------- encapsulation, source routes */
{ .desc = "encap: IP-in-IP does not pass an any-protocol allow",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 40) },
  .steps = { { OUT, .pkt = IP4P(FX_WL4, FX_PEER4, 4), DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 5000, 53), PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "encap: IPv6-in-IPv4 and GRE do not pass an any-protocol allow",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 41) },
  .steps = { { OUT, .pkt = IP4P(FX_WL4, FX_PEER4, 41), DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = IP4P(FX_WL4, FX_PEER4, 47), DROP(BH_R_DEFAULT_DENY) },
	     { OUT, .pkt = IP6P(FX_WL6, FX_PEER6, 47), DROP(BH_R_DEFAULT_DENY) },
	     /* ICMPv6 in IPv4 is no ICMP: a named protocol too */
	     { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4,
			     .proto = IPPROTO_ICMPV6, .payload = 8 }, DROP(BH_R_DEFAULT_DENY) },
	     /* ICMP of its family still does (Kubernetes: all traffic) */
	     { OUT, .pkt = ICMP4(FX_WL4, FX_PEER4, 8, 3), PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "encap: GRE into the container needs a rule naming it",
  .rules = { ISOLATED(IN), ALLOW_ANY(IN, 42) },
  .steps = { { INTO, .pkt = IP4P(FX_PEER4, FX_WL4, 47), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "encap: a rule naming IP-in-IP lets it pass",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 43),
	     RULE(48, EG, FX_ID_PEER, 4, 0, BH_PV_ALLOW, 44),
	     RULE(48, EG + BH_DIR_NAMED, FX_ID_PEER, 4, 0, BH_PV_ALLOW, 44) },
  .steps = { { OUT, .pkt = IP4P(FX_WL4, FX_PEER4, 4), PASS(BH_R_POLICY_ALLOW), .rec_rule = 44 },
	     /* to the peer the rule names only */
	     { OUT, .pkt = IP4P(FX_WL4, FX_WORLD4, 4), DROP(BH_R_DEFAULT_DENY) } } },
{ .desc = "encap: a direction that is not isolated passes every protocol",
  .rules = { ISOLATED(IN) },
  .steps = { { OUT, .pkt = IP4P(FX_WL4, FX_PEER4, 47), PASS(BH_R_NOT_ISOLATED) } } },
{ .desc = "source route: an IPv6 routing header (type 0) is refused",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 45) },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ext6 = { 43 }, .n_ext6 = 1 },
	       DROP(BH_R_IPV6_EXT), NOREC } } },
{ .desc = "source route: an IPv6 segment routing header (type 4) is refused",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 46) },
  .steps = { { OUT, .pkt = { .family = 6, .src = FX_WL6, .dst = FX_PEER6, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ext6 = { 60, 43 }, .n_ext6 = 2 },
	       /* the routing header follows 8 bytes of destination options */
	       .npoke = 1, .poke_off = { 14 + 40 + 8 + 2 }, .poke_val = { 4 },
	       DROP(BH_R_IPV6_EXT), NOREC } } },
{ .desc = "source route: a routing header into the container is refused",
  .steps = { { INTO, .pkt = { .family = 6, .src = FX_PEER6, .dst = FX_WL6, .proto = IPPROTO_UDP,
			      .sport = 1, .dport = 53, .ext6 = { 43 }, .n_ext6 = 1 },
	       DROP(BH_R_IPV6_EXT), NOREC } } },
{ .desc = "source route: IPv4 loose source route (LSRR) is refused",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 47) },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ip_opt_words = 2 },
	       .npoke = 2, .poke_off = { 34, 35 }, .poke_val = { 131, 7 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "source route: IPv4 strict source route (SSRR) after a NOP is refused",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 48) },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ip_opt_words = 3 },
	       .npoke = 2, .poke_off = { 35, 36 }, .poke_val = { 137, 7 },
	       DROP(BH_R_MALFORMED), NOREC } } },
{ .desc = "IPv4 record-route option passes, judged by its ports",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 49) },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ip_opt_words = 2 },
	       .npoke = 2, .poke_off = { 34, 35 }, .poke_val = { 7, 7 },
	       PASS(BH_R_POLICY_ALLOW) } } },
{ .desc = "IPv4 option with a length past the header is malformed",
  .rules = { ISOLATED(EG), ALLOW_ANY(EG, 50) },
  .steps = { { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4, .proto = IPPROTO_UDP,
			     .sport = 1, .dport = 53, .ip_opt_words = 2 },
	       .npoke = 2, .poke_off = { 34, 35 }, .poke_val = { 7, 9 },
	       DROP(BH_R_MALFORMED), NOREC } } },
};

#define FX_SEC_COUNT (sizeof(fixtures_sec) / sizeof(fixtures_sec[0]))

#endif /* BH_TEST_FIXTURES_SEC_H */
