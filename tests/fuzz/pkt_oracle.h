/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A reference model of what bulkhead may let through, written from the
 * RFCs and docs/datapath.md rather than from lib/bpf/parse.h, so the two
 * can disagree. Used by tests/bpf/test_fuzz_packets.c (against the real
 * programs) and tests/fuzz/fuzz_packet_parse.c (against a userspace build
 * of the parser).
 *
 * or_parse() reads a frame the strict way; or_may_pass() answers "is a
 * pass of this frame explainable?": the one allowed flow, ARP from the
 * right sender, neighbour discovery, or a packet belonging to a flow the
 * model saw pass (same tuple either way, a later fragment of a datagram
 * whose first fragment it saw pass, an ICMP error about the flow sent back
 * to the quoted packet's source). Everything is host-order, header-only
 * and allocation-free.
 *
 * The classes of docs/security.md it models on its own terms:
 * - ICMP kinds (RFC 792, RFC 4443, RFC 4620): only a query request opens a
 *   flow, and only its reply, of the same kind and identifier, from the
 *   other end, belongs to it; no other message has state;
 * - TCP handshake (RFC 9293): only a SYN without ACK, RST or FIN opens a
 *   flow;
 * - encapsulation: a protocol other than TCP, UDP, SCTP and the family's
 *   ICMP never passes by an allow that does not name it;
 * - source routes (RFC 791 LSRR/SSRR, RFC 8200/8754 routing headers) are
 *   refused, as are malformed IPv4 option lists.
 *
 * Layer 2 (docs/datapath.md, docs/security.md): the workload has a MAC
 * (or none bound) and may be a router. From the container the Ethernet
 * source is its MAC, the ARP sender and ND link-layer options are the
 * frame's source, an NA advertises only its own addresses (or its EUI-64
 * link-local), RA and redirects (ICMPv6 134, 137; ICMP 5) come only from a
 * router, and ARP/ND are no longer than they need (ARP frame <= 60
 * bytes; RS/NS/NA at most two options, no extension headers, nothing
 * after the message beyond the Ethernet minimum; MLD reports at most 16
 * records; ND and MLD never fragmented, RFC 6980). To the container a
 * frame is for its MAC or a group address and for one of its addresses,
 * a multicast or broadcast address (ND: its link-local).
 */
#ifndef BH_PKT_ORACLE_H
#define BH_PKT_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bulkhead_abi.h"

enum or_kind {
	OR_MALFORMED = 0,	/* truncated or inconsistent */
	OR_UNKNOWN,		/* not IPv4/IPv6/ARP (VLAN tags included) */
	OR_ARP,
	OR_IP,
};

enum or_frag { OR_FRAG_NONE = 0, OR_FRAG_FIRST, OR_FRAG_LATER };

struct or_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t a[16];		/* IPv4 in a[12..15], rest zero */
};

struct or_quote {		/* the packet an ICMP error quotes */
	bool valid;
	struct or_addr src, dst;
	uint8_t proto;
	bool has_ports;
	uint16_t sport, dport;
	uint8_t icmp_kind;	/* a quoted query: its kind, id in sport */
};

struct or_pkt {
	enum or_kind kind;
	const char *why;	/* for OR_MALFORMED / OR_UNKNOWN */
	struct or_addr src, dst;	/* IP, or ARP sender/target (family 4) */
	uint8_t proto;		/* L4; later fragment: the fragment's next header */
	enum or_frag frag;
	uint32_t frag_id;
	uint8_t frag_proto;
	bool has_ports;		/* TCP/UDP/SCTP */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	bool icmp;		/* ICMP of its own family, header read */
	uint8_t icmp_type, icmp_code;
	bool nd;		/* ICMPv6 neighbour discovery / MLD type */
	bool icmp_error;
	uint8_t icmp_kind;	/* query: the request's type; 0: not a query */
	bool icmp_reply;
	uint16_t icmp_id;
	bool named;		/* not TCP/UDP/SCTP/ICMP of its family */
	struct or_quote quote;
	/* layer 2 */
	uint8_t dmac[6], smac[6];
	bool has_lladdr;	/* ARP sender MAC, or an ND link-layer address option */
	uint8_t lladdr[6];
	bool na;		/* a neighbour advertisement: na_target is what it claims */
	struct or_addr na_target;
	bool l2_oversize;	/* longer than ARP/ND need */
};

#define OR_ARP_FRAME_MAX	60
#define OR_ND_OPTS_MAX		2
#define OR_MLD_RECORDS_MAX	16

#define OR_EXT_MAX	BH_IPV6_EXT_MAX

static inline uint16_t or_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t or_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void or_addr4(struct or_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(&a->a[12], p, 4);
}

static inline void or_addr6(struct or_addr *a, const uint8_t *p)
{
	a->family = 6;
	memcpy(a->a, p, 16);
}

static inline bool or_addr_eq(const struct or_addr *x, const struct or_addr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, 16);
}

static inline int or_bad(struct or_pkt *o, enum or_kind k, const char *why)
{
	o->kind = k;
	o->why = why;
	return -1;
}

static inline bool or_is_ext6(uint8_t nh)
{
	/* hop-by-hop, routing, fragment, AH, destination options */
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

/* The query pairs: request type -> reply type, per family. */
static inline uint8_t or_icmp_kind(int family, uint8_t t, bool *reply)
{
	static const uint8_t req4[] = { 8, 13, 15, 17 }, rep4[] = { 0, 14, 16, 18 };
	static const uint8_t req6[] = { 128, 139 }, rep6[] = { 129, 140 };
	const uint8_t *rq = family == 4 ? req4 : req6, *rp = family == 4 ? rep4 : rep6;
	size_t i, n = family == 4 ? sizeof(req4) : sizeof(req6);

	*reply = false;
	for (i = 0; i < n; i++) {
		if (t == rq[i])
			return rq[i];
		if (t == rp[i]) {
			*reply = true;
			return rq[i];
		}
	}
	return 0;
}

static inline bool or_icmp_error_type(int family, uint8_t t)
{
	if (family == 4)
		return t == 3 || t == 4 || t == 11 || t == 12;
	return t >= 1 && t <= 4;
}

/* The quoted datagram: its IP header and 8 bytes. Bounded by the frame
 * (what the data path reads), not by the outer datagram. */
static inline void or_parse_quote(const uint8_t *f, size_t len, size_t off, int family,
				  struct or_quote *q)
{
	size_t l4;

	memset(q, 0, sizeof(*q));
	if (family == 4) {
		if (off + 20 > len || f[off] >> 4 != 4 || (f[off] & 0xf) < 5 ||
		    (or_get16(f + off + 6) & 0x1fff))
			return;
		or_addr4(&q->src, f + off + 12);
		or_addr4(&q->dst, f + off + 16);
		q->proto = f[off + 9];
		l4 = off + (size_t)(f[off] & 0xf) * 4;
	} else {
		if (off + 40 > len || f[off] >> 4 != 6)
			return;
		or_addr6(&q->src, f + off + 8);
		or_addr6(&q->dst, f + off + 24);
		q->proto = f[off + 6];
		l4 = off + 40;
	}
	if (l4 + 8 > len)
		return;
	if (q->proto == 6 || q->proto == 17 || q->proto == 132) {
		q->has_ports = true;
		q->sport = or_get16(f + l4);
		q->dport = or_get16(f + l4 + 2);
	} else if (q->proto == 1 || q->proto == 58) {
		/* only a quoted query names a flow; other ICMP quotes name none */
		bool reply;

		if ((q->proto == 1) != (family == 4))
			return;
		q->icmp_kind = or_icmp_kind(family, f[l4], &reply);
		if (!q->icmp_kind)
			return;
		q->sport = or_get16(f + l4 + 4);
	}
	q->valid = true;
}

/* RFC 4861 section 4: fixed part by type; options of 8-byte units, none
 * of length 0; the Ethernet link-layer address options are 8 bytes. */
static inline int or_parse_nd(const uint8_t *h, size_t l4len, struct or_pkt *o)
{
	static const uint8_t fixed[] = { 8, 16, 24, 24, 40 };	/* 133..137 */
	size_t off;
	int n = 0;

	if (h[0] == 143) {
		o->l2_oversize = l4len > 8 + 20 * OR_MLD_RECORDS_MAX;
		return 0;
	}
	if (l4len < fixed[h[0] - 133])
		return or_bad(o, OR_MALFORMED, "nd shorter than its fixed part");
	if (h[0] == 136) {
		o->na = true;
		or_addr6(&o->na_target, h + 8);
	}
	if (h[0] == 134 || h[0] == 137)
		return 0;	/* router messages: only the router flag matters */
	/* options past the first OR_ND_OPTS_MAX are not read: the message is
	 * too long for a container to send; to a container, its own stack
	 * judges them */
	for (off = fixed[h[0] - 133]; off < l4len; n++) {
		if (n == OR_ND_OPTS_MAX) {
			o->l2_oversize = true;
			return 0;
		}
		if (off + 8 > l4len || h[off + 1] == 0)
			return or_bad(o, OR_MALFORMED, "nd option");
		if (h[off] == 1 || h[off] == 2) {
			if (h[off + 1] != 1 || o->has_lladdr)
				return or_bad(o, OR_MALFORMED, "nd link-layer option");
			o->has_lladdr = true;
			memcpy(o->lladdr, h + off + 2, 6);
		}
		off += (size_t)h[off + 1] * 8;
	}
	if (off > l4len)
		return or_bad(o, OR_MALFORMED, "nd option beyond message");
	return 0;
}

static inline int or_parse_l4(const uint8_t *f, size_t len, size_t off, size_t l4len,
			      struct or_pkt *o)
{
	const uint8_t *h = f + off;

	switch (o->proto) {
	case 6:
		if (l4len < 20)
			return or_bad(o, OR_MALFORMED, "tcp header beyond datagram");
		if (h[12] >> 4 < 5 || (size_t)(h[12] >> 4) * 4 > l4len)
			return or_bad(o, OR_MALFORMED, "tcp data offset");
		o->tcp_flags = h[13];
		break;
	case 17:
		if (l4len < 8)
			return or_bad(o, OR_MALFORMED, "udp header beyond datagram");
		break;
	case 132:
		if (l4len < 12)
			return or_bad(o, OR_MALFORMED, "sctp header beyond datagram");
		break;
	case 1:
	case 58:
		if ((o->proto == 1) != (o->src.family == 4)) {
			o->named = true;	/* the other family's ICMP: opaque */
			return 0;
		}
		if (l4len < 8)
			return or_bad(o, OR_MALFORMED, "icmp header beyond datagram");
		o->icmp = true;
		o->icmp_type = h[0];
		o->icmp_code = h[1];
		o->nd = o->proto == 58 && ((h[0] >= 133 && h[0] <= 137) || h[0] == 143);
		if (o->nd && o->frag != OR_FRAG_NONE)
			return or_bad(o, OR_MALFORMED, "fragmented nd/mld");
		if (o->nd && or_parse_nd(h, l4len, o))
			return -1;
		o->icmp_error = or_icmp_error_type(o->src.family, h[0]);
		o->icmp_kind = or_icmp_kind(o->src.family, h[0], &o->icmp_reply);
		o->icmp_id = or_get16(h + 4);
		if (o->icmp_error && o->frag == OR_FRAG_NONE)
			or_parse_quote(f, len, off + 8, o->src.family, &o->quote);
		return 0;
	default:
		o->named = true;
		return 0;
	}
	o->has_ports = true;
	o->sport = or_get16(h);
	o->dport = or_get16(h + 2);
	return 0;
}

static inline int or_parse_ipv4(const uint8_t *f, size_t len, struct or_pkt *o)
{
	const uint8_t *ip = f + 14;
	size_t hl, tot;
	uint16_t fo;

	if (len < 14 + 20)
		return or_bad(o, OR_MALFORMED, "ipv4 header truncated");
	hl = (size_t)(ip[0] & 0xf) * 4;
	tot = or_get16(ip + 2);
	if (ip[0] >> 4 != 4)
		return or_bad(o, OR_MALFORMED, "ipv4 version");
	if (hl < 20)
		return or_bad(o, OR_MALFORMED, "ipv4 ihl < 5");
	if (tot < hl)
		return or_bad(o, OR_MALFORMED, "ipv4 total length < header");
	if (14 + tot > len)
		return or_bad(o, OR_MALFORMED, "ipv4 total length beyond frame");
	/* options (RFC 791 3.1): EOL ends the list, NOP is one byte, any
	 * other is type, length (>= 2, inside the header), data */
	for (size_t j = 20; j < hl;) {
		uint8_t t = ip[j];

		if (t == 0)
			break;
		if (t == 1) {
			j++;
			continue;
		}
		if (t == 131 || t == 137)
			return or_bad(o, OR_MALFORMED, "ipv4 source route");
		if (j + 1 >= hl || ip[j + 1] < 2 || j + ip[j + 1] > hl)
			return or_bad(o, OR_MALFORMED, "ipv4 option length");
		j += ip[j + 1];
	}
	o->kind = OR_IP;
	or_addr4(&o->src, ip + 12);
	or_addr4(&o->dst, ip + 16);
	o->proto = o->frag_proto = ip[9];
	o->frag_id = or_get16(ip + 4);
	fo = or_get16(ip + 6);
	if (fo & 0x1fff) {
		o->frag = OR_FRAG_LATER;
		return 0;
	}
	if (fo & 0x2000)
		o->frag = OR_FRAG_FIRST;
	return or_parse_l4(f, len, 14 + hl, tot - hl, o);
}

static inline int or_parse_ipv6(const uint8_t *f, size_t len, struct or_pkt *o)
{
	const uint8_t *ip = f + 14;
	size_t off = 14 + 40, end;
	uint8_t nh;
	int n;

	if (len < 14 + 40)
		return or_bad(o, OR_MALFORMED, "ipv6 header truncated");
	if (ip[0] >> 4 != 6)
		return or_bad(o, OR_MALFORMED, "ipv6 version");
	end = off + or_get16(ip + 4);
	if (end > len)
		return or_bad(o, OR_MALFORMED, "ipv6 payload length beyond frame");
	o->kind = OR_IP;
	or_addr6(&o->src, ip + 8);
	or_addr6(&o->dst, ip + 24);
	nh = ip[6];
	for (n = 0; or_is_ext6(nh); n++) {
		const uint8_t *h = f + off;

		if (n == OR_EXT_MAX)
			return or_bad(o, OR_MALFORMED, "ipv6 extension chain too long");
		if (nh == 43)
			return or_bad(o, OR_MALFORMED, "ipv6 routing header");
		if (off + 8 > end)
			return or_bad(o, OR_MALFORMED, "ipv6 extension header truncated");
		if (nh == 44) {
			uint16_t fo = or_get16(h + 2);

			o->frag_proto = h[0];
			o->frag_id = or_get32(h + 4);
			if (fo >> 3) {
				o->frag = OR_FRAG_LATER;
				o->proto = h[0];
				return 0;
			}
			if (fo & 1)
				o->frag = OR_FRAG_FIRST;
			off += 8;
		} else if (nh == 51) {
			off += ((size_t)h[1] + 2) * 4;
		} else {
			off += ((size_t)h[1] + 1) * 8;
		}
		nh = h[0];
	}
	if (off > end)
		return or_bad(o, OR_MALFORMED, "ipv6 extension header beyond payload");
	o->proto = nh;
	if (or_parse_l4(f, len, off, end - off, o))
		return -1;
	/* ND without extension headers, MLD with at most its 8-byte
	 * hop-by-hop header, and no bytes after the datagram beyond 60 */
	if (o->nd && o->icmp_type != 143 && off != 14 + 40)
		o->l2_oversize = true;
	if (o->nd && o->icmp_type == 143 && off > 14 + 40 + 8)
		o->l2_oversize = true;
	if (o->nd && len > end && len > OR_ARP_FRAME_MAX)
		o->l2_oversize = true;
	return 0;
}

static inline int or_parse_arp(const uint8_t *f, size_t len, struct or_pkt *o)
{
	const uint8_t *a = f + 14;

	if (len < 14 + 28)
		return or_bad(o, OR_MALFORMED, "arp truncated");
	if (or_get16(a) != 1 || or_get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
		return or_bad(o, OR_MALFORMED, "arp not ethernet/ipv4");
	if (or_get16(a + 6) != 1 && or_get16(a + 6) != 2)
		return or_bad(o, OR_MALFORMED, "arp operation");
	o->kind = OR_ARP;
	or_addr4(&o->src, a + 14);
	or_addr4(&o->dst, a + 24);
	o->has_lladdr = true;
	memcpy(o->lladdr, a + 8, 6);
	o->l2_oversize = len > OR_ARP_FRAME_MAX;
	return 0;
}

/* 0 and o->kind OR_IP/OR_ARP, or -1 and OR_MALFORMED/OR_UNKNOWN. */
static inline int or_parse(const uint8_t *f, size_t len, struct or_pkt *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 14)
		return or_bad(o, OR_MALFORMED, "shorter than ethernet");
	memcpy(o->dmac, f, 6);
	memcpy(o->smac, f + 6, 6);
	switch (or_get16(f + 12)) {
	case 0x0800:
		return or_parse_ipv4(f, len, o);
	case 0x86dd:
		return or_parse_ipv6(f, len, o);
	case 0x0806:
		return or_parse_arp(f, len, o);
	default:
		return or_bad(o, OR_UNKNOWN, "ethertype");
	}
}

/* ------------------------------------------------------------ the model */
#define OR_MAX_FLOWS	4096
#define OR_MAX_FRAGS	4096

struct or_flow {		/* an L4 tuple, stored as sent by the initiator */
	struct or_addr src, dst;
	uint8_t proto;
	uint16_t sport, dport;	/* ICMP query: id, kind */
	uint8_t icmp_kind;	/* an ICMP query flow */
};

struct or_frag_rec {
	struct or_addr src, dst;
	uint32_t id;
	uint8_t proto;
	uint16_t sport, dport;
	bool has_ports;
};

struct or_model {
	/* the workload and its one allowed flow (egress TCP to peer:port) */
	int nr_own;
	struct or_addr own[4];
	struct or_addr peer4, peer6;
	uint16_t allowed_port;
	/* a second peer that any TCP, UDP, SCTP and ICMP may reach (a rule
	 * without ports), and nothing else; family 0: none */
	struct or_addr any4, any6;
	/* layer 2 identity */
	bool mac_bound, router;
	uint8_t mac[6];
	/* what the model saw pass */
	int nr_flows;
	struct or_flow flows[OR_MAX_FLOWS];
	int nr_frags, next_frag;	/* one record per datagram key, ring when full */
	struct or_frag_rec frags[OR_MAX_FRAGS];
};

enum or_why {
	OR_OK_ALLOWED = 0,	/* the allowed flow, new */
	OR_OK_ARP,
	OR_OK_ND,
	OR_OK_FLOW,		/* packet of a known flow */
	OR_OK_FRAG,		/* later fragment of a known flow's datagram */
	OR_OK_RELATED,		/* ICMP error about a known flow, to its sender */
	OR_NO_MALFORMED,	/* (c) */
	OR_NO_UNKNOWN,
	OR_NO_SPOOF,		/* (a) */
	OR_NO_ICMP_ELSEWHERE,	/* (b): error about a known flow, sent to a third party */
	OR_NO_MAPPED,		/* (b): IPv6 with an IPv4-mapped address */
	OR_NO_POLICY,		/* (b) */
	OR_NO_NAMED,		/* (b): a tunnel/other protocol through an any-protocol allow */
	OR_NO_ICMP_KIND,	/* (b): ICMP that is not the reply of its flow's request */
	OR_NO_STATE,		/* (e): conntrack state from a packet that opens no flow */
	OR_NO_L2_SPOOF,		/* MAC, ARP sender, ND option or NA target not the workload's */
	OR_NO_L2_SIZE,		/* ARP/ND longer than they need */
	OR_NO_ROUTER,		/* RA/redirect from a workload that is no router */
	OR_NO_NOT_OURS,		/* to the container but not for it */
	OR_WHY_NR,
};

static inline bool or_why_ok(enum or_why w)
{
	return w <= OR_OK_RELATED;
}


static inline const char *or_why_name(enum or_why w)
{
	static const char *const n[] = {
		"allowed flow", "arp", "nd", "known flow", "known fragment",
		"related icmp error", "MALFORMED", "NOT IP/ARP", "SPOOFED SOURCE",
		"ICMP ERROR TO A THIRD PARTY", "IPV4-MAPPED IPV6 ADDRESS", "NOT ALLOWED BY POLICY",
		"NAMED PROTOCOL WITHOUT A RULE NAMING IT", "ICMP OF ANOTHER KIND THAN ITS FLOW",
		"STATE WITHOUT A HANDSHAKE OR QUERY",
		"L2 IDENTITY NOT THE WORKLOAD'S", "ARP/ND OVERSIZED", "ROUTER MESSAGE FROM A HOST",
		"NOT FOR THE WORKLOAD",
	};
	return w < OR_WHY_NR ? n[w] : "?";
}

static inline bool or_owns(const struct or_model *m, const struct or_addr *a)
{
	int i;

	for (i = 0; i < m->nr_own; i++)
		if (or_addr_eq(&m->own[i], a))
			return true;
	return false;
}

static inline bool or_is_zero(const struct or_addr *a)
{
	static const uint8_t z[16];

	return !memcmp(a->a, z, 16);
}

static inline bool or_flow_match(const struct or_flow *f, const struct or_addr *s,
				 const struct or_addr *d, uint8_t proto, uint16_t sp, uint16_t dp)
{
	if (f->proto != proto)
		return false;
	if (or_addr_eq(&f->src, s) && or_addr_eq(&f->dst, d) && f->sport == sp && f->dport == dp)
		return true;
	return or_addr_eq(&f->src, d) && or_addr_eq(&f->dst, s) && f->sport == dp && f->dport == sp;
}

static inline bool or_flow_known(const struct or_model *m, const struct or_addr *s,
				 const struct or_addr *d, uint8_t proto, uint16_t sp, uint16_t dp)
{
	int i;

	for (i = 0; i < m->nr_flows; i++)
		if (!m->flows[i].icmp_kind && or_flow_match(&m->flows[i], s, d, proto, sp, dp))
			return true;
	return false;
}

/* An ICMP query flow: the request from its initiator, the reply from the
 * other end (dir 1: request, 0: reply, -1: either, for quotes). */
static inline bool or_icmp_flow_known(const struct or_model *m, const struct or_addr *s,
				      const struct or_addr *d, uint8_t proto, uint8_t kind,
				      uint16_t id, int request)
{
	int i;

	for (i = 0; i < m->nr_flows; i++) {
		const struct or_flow *f = &m->flows[i];
		bool fwd, rev;

		if (f->icmp_kind != kind || f->proto != proto || f->sport != id)
			continue;
		fwd = or_addr_eq(&f->src, s) && or_addr_eq(&f->dst, d);
		rev = or_addr_eq(&f->src, d) && or_addr_eq(&f->dst, s);
		if ((request != 0 && fwd) || (request != 1 && rev))
			return true;
	}
	return false;
}

static inline struct or_frag_rec *or_frag_find(const struct or_model *m, const struct or_pkt *p)
{
	int i;

	for (i = 0; i < m->nr_frags; i++) {
		const struct or_frag_rec *r = &m->frags[i];

		if (r->id == p->frag_id && r->proto == p->frag_proto &&
		    or_addr_eq(&r->src, &p->src) && or_addr_eq(&r->dst, &p->dst))
			return (struct or_frag_rec *)r;
	}
	return NULL;
}

/* A frame passed: a first fragment teaches the model its ports (the data
 * path remembers them only once the fragment passed policy). */
static inline void or_observe(struct or_model *m, const struct or_pkt *p)
{
	struct or_frag_rec *r;

	if (p->kind != OR_IP || p->frag != OR_FRAG_FIRST)
		return;
	/* a datagram id reused replaces the older ports, as in the data path */
	r = or_frag_find(m, p);
	if (!r && m->nr_frags < OR_MAX_FRAGS)
		r = &m->frags[m->nr_frags++];
	else if (!r)
		r = &m->frags[m->next_frag++ % OR_MAX_FRAGS];
	r->src = p->src;
	r->dst = p->dst;
	r->id = p->frag_id;
	r->proto = p->frag_proto;
	r->has_ports = p->has_ports;
	r->sport = p->sport;
	r->dport = p->dport;
}

/* ::ffff:0:0/96 must not appear on the wire (RFC 4291 2.5.5.2) */
static inline bool or_is_mapped(const struct or_addr *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return a->family == 6 && !memcmp(a->a, pfx, 12);
}

/* To the any-protocol peer, by a rule that names no protocol. */
static inline bool or_to_any_peer(const struct or_model *m, const struct or_pkt *p, int dir)
{
	const struct or_addr *any = p->src.family == 4 ? &m->any4 : &m->any6;

	return dir == BH_DIR_EGRESS && p->kind == OR_IP && any->family && or_owns(m, &p->src) &&
	       or_addr_eq(&p->dst, any);
}

static inline bool or_is_allowed_flow(const struct or_model *m, const struct or_pkt *p, int dir)
{
	const struct or_addr *peer = p->src.family == 4 ? &m->peer4 : &m->peer6;

	/* Kubernetes semantics: no ports is TCP, UDP, SCTP and ICMP */
	if (or_to_any_peer(m, p, dir) && !p->named && p->frag != OR_FRAG_LATER)
		return true;

	return dir == BH_DIR_EGRESS && p->kind == OR_IP && p->proto == 6 && p->has_ports &&
	       p->frag != OR_FRAG_LATER && or_owns(m, &p->src) && or_addr_eq(&p->dst, peer) &&
	       p->dport == m->allowed_port;
}

static inline bool or_is_ll(const struct or_addr *a)
{
	return a->family == 6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

/* The workload's link-local address: any while no MAC is bound, else the
 * modified EUI-64 of its MAC (RFC 4291 appendix A) in fe80::/64. */
static inline bool or_owns_ll(const struct or_model *m, const struct or_addr *a)
{
	uint8_t want[16] = { 0xfe, 0x80 };

	if (!or_is_ll(a))
		return false;
	if (!m->mac_bound)
		return true;
	want[8] = m->mac[0] ^ 0x02;
	want[9] = m->mac[1];
	want[10] = m->mac[2];
	want[11] = 0xff;
	want[12] = 0xfe;
	want[13] = m->mac[3];
	want[14] = m->mac[4];
	want[15] = m->mac[5];
	return !memcmp(a->a, want, 16);
}

static inline bool or_is_group(const struct or_addr *a)
{
	if (a->family == 6)
		return a->a[0] == 0xff;
	return (a->a[12] & 0xf0) == 0xe0 ||
	       (a->a[12] == 0xff && a->a[13] == 0xff && a->a[14] == 0xff && a->a[15] == 0xff);
}

/* Layer 2 rules (see the top); OR_OK_ALLOWED when they have nothing to say. */
static inline enum or_why or_l2_verdict(const struct or_model *m, const struct or_pkt *p, bool egress)
{
	if (!egress) {
		if (m->mac_bound && !(p->dmac[0] & 1) && memcmp(p->dmac, m->mac, 6))
			return OR_NO_NOT_OURS;
		if (p->kind == OR_ARP)
			return (p->dmac[0] & 1) || or_owns(m, &p->dst) ? OR_OK_ALLOWED
								       : OR_NO_NOT_OURS;
		if (or_owns(m, &p->dst) || or_is_group(&p->dst) ||
		    (p->nd && or_owns_ll(m, &p->dst)))
			return OR_OK_ALLOWED;
		return OR_NO_NOT_OURS;
	}
	if (m->mac_bound && memcmp(p->smac, m->mac, 6))
		return OR_NO_L2_SPOOF;
	if (p->has_lladdr && !(p->nd && p->icmp_type == 137) && memcmp(p->lladdr, p->smac, 6))
		return OR_NO_L2_SPOOF;
	if (p->l2_oversize)
		return OR_NO_L2_SIZE;
	if (p->kind == OR_ARP)
		return OR_OK_ALLOWED;
	if (!m->router && p->icmp && p->frag != OR_FRAG_LATER &&
	    ((p->proto == 58 && (p->icmp_type == 134 || p->icmp_type == 137)) ||
	     (p->proto == 1 && p->icmp_type == 5)))
		return OR_NO_ROUTER;
	if (p->na && !or_owns(m, &p->na_target) && !or_owns_ll(m, &p->na_target))
		return OR_NO_L2_SPOOF;
	if (p->nd && or_is_ll(&p->src) && !or_owns_ll(m, &p->src))
		return OR_NO_SPOOF;
	return OR_OK_ALLOWED;
}

/* May bulkhead pass this frame in direction dir? */
static inline enum or_why or_may_pass(const struct or_model *m, const struct or_pkt *p, int dir)
{
	bool egress = dir == BH_DIR_EGRESS;
	enum or_why l2;

	if (p->kind == OR_MALFORMED)
		return OR_NO_MALFORMED;
	if (p->kind == OR_UNKNOWN)
		return OR_NO_UNKNOWN;
	if (p->kind == OR_ARP && egress && !or_owns(m, &p->src) && !or_is_zero(&p->src))
		return OR_NO_SPOOF;
	l2 = or_l2_verdict(m, p, egress);
	if (l2 != OR_OK_ALLOWED)
		return l2;
	if (p->kind == OR_ARP) {
		if (egress && !or_owns(m, &p->src) && !or_is_zero(&p->src))
			return OR_NO_SPOOF;
		return OR_OK_ARP;
	}
	if (egress && !or_owns(m, &p->src)) {
		bool ll = p->src.family == 6 && p->src.a[0] == 0xfe && (p->src.a[1] & 0xc0) == 0x80;

		if (p->nd && (ll || or_is_zero(&p->src)))
			return OR_OK_ND;
		return OR_NO_SPOOF;
	}
	if (p->nd)
		return OR_OK_ND;
	if (p->frag == OR_FRAG_LATER) {
		const struct or_frag_rec *r = or_frag_find(m, p);

		if (r && r->has_ports &&
		    or_flow_known(m, &p->src, &p->dst, p->proto, r->sport, r->dport))
			return OR_OK_FRAG;
		return OR_NO_POLICY;
	}
	if (p->has_ports && or_flow_known(m, &p->src, &p->dst, p->proto, p->sport, p->dport))
		return OR_OK_FLOW;
	if (p->icmp && p->icmp_kind &&
	    or_icmp_flow_known(m, &p->src, &p->dst, p->proto, p->icmp_kind, p->icmp_id,
			       !p->icmp_reply))
		return OR_OK_FLOW;
	if (p->icmp_error && p->quote.valid && p->quote.icmp_kind &&
	    or_addr_eq(&p->dst, &p->quote.src) &&
	    or_icmp_flow_known(m, &p->quote.src, &p->quote.dst, p->quote.proto,
			       p->quote.icmp_kind, p->quote.sport, -1))
		return OR_OK_RELATED;
	/* an error goes back to whoever sent the packet it quotes */
	if (p->icmp_error && p->quote.valid && p->quote.has_ports &&
	    or_addr_eq(&p->dst, &p->quote.src) &&
	    or_flow_known(m, &p->quote.src, &p->quote.dst, p->quote.proto, p->quote.sport,
			  p->quote.dport))
		return OR_OK_RELATED;
	if (or_is_allowed_flow(m, p, dir))
		return OR_OK_ALLOWED;
	/* name the two known ways a pass can be wrong, for the report */
	if (p->icmp_error && p->quote.valid && p->quote.has_ports &&
	    or_flow_known(m, &p->quote.src, &p->quote.dst, p->quote.proto, p->quote.sport,
			  p->quote.dport))
		return OR_NO_ICMP_ELSEWHERE;
	if (or_is_mapped(&p->src) || or_is_mapped(&p->dst))
		return OR_NO_MAPPED;
	if (or_to_any_peer(m, p, dir) && p->named)
		return OR_NO_NAMED;
	if (p->icmp && p->icmp_kind &&
	    (or_icmp_flow_known(m, &p->src, &p->dst, p->proto, p->icmp_kind, p->icmp_id, -1)))
		return OR_NO_ICMP_KIND;
	return OR_NO_POLICY;
}

/* Does this packet, passing as a new flow, open one (state)? TCP only by
 * a SYN without ACK, RST or FIN; ICMP of its family only by a query
 * request; UDP and SCTP by any packet; other protocols by any packet. */
static inline bool or_opens_flow(const struct or_pkt *p)
{
	if (p->kind != OR_IP)
		return false;
	if (p->proto == 6)
		return (p->tcp_flags & 0x17) == 0x02;
	if (p->icmp)
		return p->icmp_kind && !p->icmp_reply;
	return true;
}

/*
 * The frame passed as a new flow (w OR_OK_ALLOWED, or new_flow: the data
 * path says it opened one, so that a wrong pass is reported once and not
 * again for each later packet of the flow it opened). Only a packet that
 * opens a flow (or_opens_flow) records one.
 */
static inline void or_passed(struct or_model *m, const struct or_pkt *p, enum or_why w,
			     bool new_flow)
{
	struct or_flow *f;

	if ((w != OR_OK_ALLOWED && !new_flow) || !or_opens_flow(p) ||
	    (!p->has_ports && !p->icmp) || p->frag == OR_FRAG_LATER ||
	    m->nr_flows >= OR_MAX_FLOWS)
		return;
	if (p->icmp) {
		if (or_icmp_flow_known(m, &p->src, &p->dst, p->proto, p->icmp_kind, p->icmp_id, 1))
			return;
	} else if (or_flow_known(m, &p->src, &p->dst, p->proto, p->sport, p->dport)) {
		return;
	}
	f = &m->flows[m->nr_flows++];
	memset(f, 0, sizeof(*f));
	f->src = p->src;
	f->dst = p->dst;
	f->proto = p->proto;
	if (p->icmp) {
		f->icmp_kind = p->icmp_kind;
		f->sport = p->icmp_id;
		f->dport = p->icmp_kind;
	} else {
		f->sport = p->sport;
		f->dport = p->dport;
	}
}

#endif /* BH_PKT_ORACLE_H */
