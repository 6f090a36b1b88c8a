/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Services on kernels without BPF netfilter links (before Linux 6.4,
 * e.g. Debian 12's 6.1): the second look at a flow the host veth's
 * program flagged (svc.h) happens at tc where kube-proxy's translated
 * packet leaves: the backend's host veth (a local backend) or an uplink
 * (a remote one). There the packet goes from the client (or the address
 * kube-proxy masqueraded it to) to the backend. The kernel's conntrack
 * entry is found by its reply tuple (backend -> the packet's source) with
 * the conntrack kfunc, and its original tuple is the flow as the client's
 * veth saw it (client -> ClusterIP); the judge is svc_nat.h's. The
 * packet's way in (skb->skb_iif, "ingress_ifindex") is the client's host
 * veth, which keys the bulkhead conntrack entry.
 *
 * The kfuncs are those of net/netfilter/nf_conntrack_bpf.c, registered for
 * tc (BPF_PROG_TYPE_SCHED_CLS) since Linux 5.18, same names and
 * signatures in 6.1: bpf_skb_ct_lookup(ctx, tuple, tuple__sz, opts,
 * opts__sz) with opts__sz 12 (the only size 6.1 accepts; later kernels
 * accept it too), l4proto TCP or UDP only (SCTP Services are not put in
 * bh_svc_v1 with this hook), and opts->dir set to the direction the tuple
 * matched; bpf_ct_release(ct) drops the reference.
 */
#ifndef BH_BPF_SVC_CT_H
#define BH_BPF_SVC_CT_H

#include "svc_nat.h"

#define BH_TC_NEXT		(-1)	/* TC_ACT_UNSPEC, TCX_NEXT: the next program, or on */
#define BH_TC_SHOT		2
#define BH_CT_OPTS_SZ		12
#define BH_CT_DIR_REPLY		1
#define BH_ETH_P_IP		0x0800
#define BH_ETH_P_IPV6		0x86DD

struct bpf_ct_opts___bh {
	__s32 netns_id;		/* -1: the packet's netns */
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn___bh *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					     __u32 tuple__sz, struct bpf_ct_opts___bh *opts,
					     __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn___bh *ct) __ksym;

/* The packet's reply tuple (its addresses and ports swapped) and
 * protocol; nonzero for what has no such tuple (not TCP or UDP, a later
 * fragment, IPv6 extension headers) or a TCP packet that opens no flow:
 * the host veth's program flags a flow on its first packet, so only a
 * SYN can be a flagged flow's first packet here. */
static __always_inline int bh_svc_reply_tuple(struct __sk_buff *skb, struct bpf_sock_tuple *t,
					      __u8 *proto)
{
	__u8 l4[14];
	__u32 off;

	if (skb->protocol == bpf_htons(BH_ETH_P_IP)) {
		__u8 ip[20];

		if (bpf_skb_load_bytes_relative(skb, 0, ip, sizeof(ip), BPF_HDR_START_NET))
			return -1;
		if ((ip[6] & 0x1f) || ip[7])	/* a later fragment: no ports */
			return -1;
		*proto = ip[9];
		off = (__u32)(ip[0] & 0xf) * 4;
		__builtin_memcpy(&t->ipv4.saddr, &ip[16], 4);
		__builtin_memcpy(&t->ipv4.daddr, &ip[12], 4);
	} else if (skb->protocol == bpf_htons(BH_ETH_P_IPV6)) {
		__u8 ip6[40];

		if (bpf_skb_load_bytes_relative(skb, 0, ip6, sizeof(ip6), BPF_HDR_START_NET))
			return -1;
		*proto = ip6[6];
		off = 40;
		__builtin_memcpy(t->ipv6.saddr, &ip6[24], 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6[8], 16);
	} else {
		return -1;
	}
	if (*proto != BH_IPPROTO_TCP && *proto != BH_IPPROTO_UDP)
		return -1;
	if (off < 20 || off > 60 ||
	    bpf_skb_load_bytes_relative(skb, off, l4, sizeof(l4), BPF_HDR_START_NET))
		return -1;
	if (*proto == BH_IPPROTO_TCP && (l4[13] & 0x12) != 0x02)	/* SYN without ACK */
		return -1;
	if (skb->protocol == bpf_htons(BH_ETH_P_IP)) {
		__builtin_memcpy(&t->ipv4.sport, &l4[2], 2);
		__builtin_memcpy(&t->ipv4.dport, &l4[0], 2);
	} else {
		__builtin_memcpy(&t->ipv6.sport, &l4[2], 2);
		__builtin_memcpy(&t->ipv6.dport, &l4[0], 2);
	}
	return 0;
}

/* 0 and f filled if the packet is a destination-NATed flow's, going
 * from its initiator toward the backend; else nonzero. */
static __always_inline int bh_svc_flow_of_skb(struct __sk_buff *skb, struct bh_svc_flow *f)
{
	struct bpf_ct_opts___bh o = { .netns_id = -1 };
	struct bpf_sock_tuple t = { 0 };
	struct nf_conn___bh *ct;
	int err;

	if (bh_svc_reply_tuple(skb, &t, &o.l4proto))
		return -1;
	if (skb->protocol == bpf_htons(BH_ETH_P_IP))
		ct = bpf_skb_ct_lookup(skb, &t, sizeof(t.ipv4), &o, BH_CT_OPTS_SZ);
	else
		ct = bpf_skb_ct_lookup(skb, &t, sizeof(t.ipv6), &o, BH_CT_OPTS_SZ);
	if (!ct)
		return -1;
	/* unnat: only a TCP SYN or a UDP packet gets here (see above) */
	err = o.dir != BH_CT_DIR_REPLY || bh_svc_flow_read(ct, f, 1);
	bpf_ct_release(ct);
	return err;
}

#endif /* BH_BPF_SVC_CT_H */
