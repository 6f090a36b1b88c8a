/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP kinds: which ICMP and ICMPv6 messages have conntrack state, and of
 * which kind.
 *
 * Only queries make a flow, as in Linux conntrack (nf_conntrack_proto_icmp,
 * icmpv6): a request creates the entry, its reply matches it. A query's key
 * carries the query's identifier AND its kind (the request's type), so an
 * echo flow and a timestamp flow with the same identifier are different
 * flows, and neither can be opened or met by a message of another type:
 *
 *   kind (key)   request          reply
 *   IPv4 8       echo 8           echo reply 0
 *   IPv4 13      timestamp 13     timestamp reply 14
 *   IPv4 15      information 15   information reply 16
 *   IPv4 17      address mask 17  address mask reply 18
 *   IPv6 128     echo 128         echo reply 129
 *   IPv6 139     node info 139    node info reply 140
 *
 * The identifier is the 16 bits after the checksum (for node information:
 * the query type, as Linux uses them). A request must come from the flow's
 * initiator and a reply from its responder (bh_icmp_ct_ok): a request sent
 * back the other way is a new flow for policy, not the reply of the first.
 *
 * Every other ICMP message (errors, redirects, router and neighbour
 * messages, source quench, ...) has no state: it never creates an entry,
 * never matches one, and is judged by policy on every packet (an error
 * about a known flow may also pass as related, ct.h). A reply that finds
 * no request is judged by policy the same way and creates nothing.
 */
#ifndef BH_BPF_ICMP_H
#define BH_BPF_ICMP_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

#define BH_ICMP_KIND_NONE	0	/* not a query: no conntrack state */

/* The kind of a query message of the family (4 or 6), 0 if none; *reply
 * is set for the reply half. */
static __always_inline __u8 bh_icmp_kind(__u8 family, __u8 type, __u8 *reply)
{
	*reply = 0;
	if (family == 4) {
		switch (type) {
		case 8: case 13: case 15: case 17:
			return type;
		case 0:
			*reply = 1;
			return 8;
		case 14: case 16: case 18:
			*reply = 1;
			return type - 1;
		default:
			return BH_ICMP_KIND_NONE;
		}
	}
	switch (type) {
	case 128: case 139:
		return type;
	case 129: case 140:
		*reply = 1;
		return type - 1;
	default:
		return BH_ICMP_KIND_NONE;
	}
}

/* The conntrack port field that names the kind: never 0 for a query, so
 * no key of a query can equal a key a non-query message ever made. */
static __always_inline __u16 bh_icmp_kind_port(__u8 kind)
{
	return bpf_htons((__u16)0x0100 | kind);
}

#endif /* BH_BPF_ICMP_H */
