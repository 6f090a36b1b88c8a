/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet builder for BPF_PROG_TEST_RUN tests and benchmarks: an Ethernet
 * frame described by data (struct pkt_opts), written into a buffer.
 * Checksums are not computed beyond the IPv4 header: the data path under
 * test does not look at them.
 */
#ifndef BH_TEST_PKT_H
#define BH_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX		1600
#define PKT_EXT6_MAX	12

struct pkt_opts {
	int family;		/* 4 or 6; 0 with arp = true */
	bool arp;		/* ARP: src = sender IP, dst = target IP */
	__u16 arp_op;		/* 1 request (default), 2 reply */
	const char *src;	/* numeric addresses */
	const char *dst;
	__u8 proto;		/* IPPROTO_* */
	__u16 sport, dport;	/* host order */
	__u8 tcp_flags;
	__u32 tcp_seq;		/* 0: 1000 */
	__u32 tcp_ack;
	__u8 icmp_type, icmp_code;
	__u16 icmp_id;
	__u16 payload;		/* bytes after the L4 header */
	__u8 ip_opt_words;	/* IPv4 options, in 4-byte words (<= 10) */
	__u16 frag_off;		/* fragment offset, 8-byte units */
	bool more_frags;
	__u32 frag_id;		/* IPv4 id / IPv6 fragment identification */
	__u8 ext6[PKT_EXT6_MAX];	/* IPv6 extension chain (44 = fragment) */
	__u8 n_ext6;
	__u16 vlan;		/* 802.1Q tag (VID) before L3; 0: none */
	__u16 ethertype;	/* override; 0: from family */
	__u8 hop_limit;		/* IPv6 hop limit; 0: 64 */
	/* ICMP error: the quoted packet (its IP header + 8 bytes follow the
	 * ICMP header) */
	const struct pkt_opts *inner;
	/* layer 2: MACs (NULL: 02:00:00:00:00:02 <- 02:00:00:00:00:01), the
	 * ARP sender MAC (NULL: the source MAC) or ND link-layer address
	 * option (NULL: none); ICMPv6 133-137 get their fixed part (RFC 4861),
	 * the NS/NA/redirect target (NULL: NA the source, others ::) and
	 * nd_extra more 8-byte options. ARP: payload adds trailing bytes. */
	const __u8 *smac, *dmac, *lladdr;
	const char *nd_target;
	__u8 nd_extra;
};

/* Build the frame into buf. Returns its length or a negative errno. */
int pkt_build(const struct pkt_opts *o, __u8 *buf, size_t cap);

#endif /* BH_TEST_PKT_H */
