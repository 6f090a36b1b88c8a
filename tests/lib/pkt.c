// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "pkt.h"

struct wbuf {
	__u8 *p;
	size_t len, cap;
	int err;
};

static __u8 *put(struct wbuf *w, size_t n)
{
	__u8 *at;

	if (w->err || w->len + n > w->cap) {
		w->err = -ENOSPC;
		return NULL;
	}
	at = w->p + w->len;
	memset(at, 0, n);
	w->len += n;
	return at;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u16 csum16(const __u8 *p, size_t n)
{
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static void put_eth(struct wbuf *w, const struct pkt_opts *o, __u16 type)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	__u8 *e = put(w, 12);

	if (!e)
		return;
	memcpy(e, o->dmac ? o->dmac : dmac, 6);
	memcpy(e + 6, o->smac ? o->smac : smac, 6);
	if (o->vlan) {
		__u8 *t = put(w, 4);

		if (!t)
			return;
		put16(t, 0x8100);
		put16(t + 2, o->vlan & 0xfff);
	}
	e = put(w, 2);
	if (e)
		put16(e, o->ethertype ? o->ethertype : type);
}

#define PKT_ETH_HLEN 14

/* Bytes an ICMP error quotes: the inner IP header and 8 L4 bytes. */
static int quote_len(const struct pkt_opts *o)
{
	__u8 tmp[PKT_MAX];
	int len, l3;

	if (!o->inner || o->inner->inner)
		return 0;
	len = pkt_build(o->inner, tmp, sizeof(tmp));
	if (len < 0)
		return 0;
	l3 = o->inner->family == 4 ? 20 + 4 * o->inner->ip_opt_words : 40;
	return len - PKT_ETH_HLEN < l3 + 8 ? len - PKT_ETH_HLEN : l3 + 8;
}

/* ICMPv6 neighbour discovery (133-137): its fixed part, else 0. */
static size_t nd_len(const struct pkt_opts *o)
{
	if (o->family != 6 || o->proto != IPPROTO_ICMPV6 || o->icmp_type < 133 ||
	    o->icmp_type > 137)
		return 0;
	switch (o->icmp_type) {
	case 133: return 8;
	case 134: return 16;
	case 137: return 40;
	default: return 24;
	}
}

static size_t l4_len(const struct pkt_opts *o)
{
	if (o->frag_off)
		return 0;	/* later fragment: payload only */
	if (nd_len(o))
		return nd_len(o) + (o->lladdr ? 8 : 0) + 8 * (size_t)o->nd_extra;
	switch (o->proto) {
	case IPPROTO_TCP: return 20;
	case IPPROTO_UDP: return 8;
	case IPPROTO_SCTP: return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 8 + (size_t)quote_len(o);
	default: return 0;
	}
}

/* An ND message: target (NS, NA, redirect), link-layer address option
 * (type 1, source; 2 in an NA, target), then nd_extra nonce options. */
static void put_nd(struct wbuf *w, const struct pkt_opts *o, __u8 *h, size_t n)
{
	const char *target = o->nd_target ? o->nd_target : (o->icmp_type == 136 ? o->src : "::");
	size_t off = nd_len(o);
	struct in6_addr t;

	if (o->icmp_type >= 135) {
		if (inet_pton(AF_INET6, target, &t) != 1) {
			w->err = -EINVAL;
			return;
		}
		memcpy(h + 8, &t, 16);
	}
	if (o->lladdr) {
		h[off] = o->icmp_type == 136 ? 2 : 1;
		h[off + 1] = 1;
		memcpy(h + off + 2, o->lladdr, 6);
		off += 8;
	}
	for (; off + 8 <= n; off += 8) {
		h[off] = 14;	/* nonce (RFC 7527) */
		h[off + 1] = 1;
	}
}

static void put_l4(struct wbuf *w, const struct pkt_opts *o)
{
	size_t n = l4_len(o);
	__u8 *h;

	if (!n)
		return;
	h = put(w, n);
	if (!h)
		return;
	switch (o->proto) {
	case IPPROTO_TCP:
		put16(h, o->sport);
		put16(h + 2, o->dport);
		put32(h + 4, o->tcp_seq ? o->tcp_seq : 1000);
		put32(h + 8, o->tcp_ack);
		h[12] = 5 << 4;
		h[13] = o->tcp_flags;
		put16(h + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(h, o->sport);
		put16(h + 2, o->dport);
		put16(h + 4, 8 + o->payload);
		break;
	case IPPROTO_SCTP:
		put16(h, o->sport);
		put16(h + 2, o->dport);
		break;
	default:	/* ICMP, ICMPv6 */
		h[0] = o->icmp_type;
		h[1] = o->icmp_code;
		if (nd_len(o)) {
			put_nd(w, o, h, n);
			break;
		}
		put16(h + 4, o->icmp_id);
		put16(h + 6, 1);
		if (n > 8) {
			__u8 tmp[PKT_MAX];

			if (pkt_build(o->inner, tmp, sizeof(tmp)) < 0)
				w->err = -EINVAL;
			else
				memcpy(h + 8, tmp + PKT_ETH_HLEN, n - 8);
		}
		break;
	}
}

static void put_arp(struct wbuf *w, const struct pkt_opts *o)
{
	struct in_addr s, t;
	__u8 *a;

	if (inet_pton(AF_INET, o->src, &s) != 1 || inet_pton(AF_INET, o->dst, &t) != 1) {
		w->err = -EINVAL;
		return;
	}
	put_eth(w, o, 0x0806);
	a = put(w, 28);
	if (!a)
		return;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, o->arp_op ? o->arp_op : 1);
	memcpy(a + 8, o->lladdr ? o->lladdr : (o->smac ? o->smac : (const __u8 *)"\x02\0\0\0\0\x01"), 6);
	memcpy(a + 14, &s, 4);
	memcpy(a + 24, &t, 4);
	put(w, o->payload);	/* trailing bytes */
}

static void put_ipv4(struct wbuf *w, const struct pkt_opts *o)
{
	size_t hl = 20 + 4 * (size_t)o->ip_opt_words;
	struct in_addr s, d;
	__u16 frag;
	__u8 *ip;

	if (o->ip_opt_words > 10 || inet_pton(AF_INET, o->src, &s) != 1 ||
	    inet_pton(AF_INET, o->dst, &d) != 1) {
		w->err = -EINVAL;
		return;
	}
	put_eth(w, o, 0x0800);
	ip = put(w, hl);
	if (!ip)
		return;
	ip[0] = 0x40 | (hl / 4);
	put16(ip + 2, hl + l4_len(o) + o->payload);
	put16(ip + 4, o->frag_id & 0xffff);
	frag = (o->frag_off & 0x1fff) | (o->more_frags ? 0x2000 : 0);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = o->proto;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	memset(ip + 20, 1, hl - 20);	/* NOP options */
	put16(ip + 10, csum16(ip, hl));
	put_l4(w, o);
	put(w, o->payload);
}

static size_t ext6_len(__u8 type)
{
	return type == 44 ? 8 : (type == 51 ? 12 : 8);
}

static void put_ipv6(struct wbuf *w, const struct pkt_opts *o)
{
	struct in6_addr s, d;
	size_t ext = 0, i;
	__u8 *ip, *h;

	if (o->n_ext6 > PKT_EXT6_MAX || inet_pton(AF_INET6, o->src, &s) != 1 ||
	    inet_pton(AF_INET6, o->dst, &d) != 1) {
		w->err = -EINVAL;
		return;
	}
	for (i = 0; i < o->n_ext6; i++)
		ext += ext6_len(o->ext6[i]);
	put_eth(w, o, 0x86DD);
	ip = put(w, 40);
	if (!ip)
		return;
	ip[0] = 0x60;
	put16(ip + 4, ext + l4_len(o) + o->payload);
	ip[6] = o->n_ext6 ? o->ext6[0] : o->proto;
	ip[7] = o->hop_limit ? o->hop_limit : 64;
	memcpy(ip + 8, &s, 16);
	memcpy(ip + 24, &d, 16);
	for (i = 0; i < o->n_ext6; i++) {
		__u8 type = o->ext6[i];

		h = put(w, ext6_len(type));
		if (!h)
			return;
		h[0] = i + 1 < o->n_ext6 ? o->ext6[i + 1] : o->proto;
		if (type == 44) {
			put16(h + 2, (__u16)(o->frag_off << 3) | (o->more_frags ? 1 : 0));
			put32(h + 4, o->frag_id);
		} else if (type == 51) {
			h[1] = 1;	/* (1 + 2) * 4 = 12 bytes */
		} else {
			h[2] = 1;	/* PadN filling the 8 bytes */
			h[3] = 4;
		}
	}
	put_l4(w, o);
	put(w, o->payload);
}

int pkt_build(const struct pkt_opts *o, __u8 *buf, size_t cap)
{
	struct wbuf w = { .p = buf, .cap = cap };

	if (o->arp)
		put_arp(&w, o);
	else if (o->family == 4)
		put_ipv4(&w, o);
	else if (o->family == 6)
		put_ipv6(&w, o);
	else
		w.err = -EINVAL;
	return w.err ? w.err : (int)w.len;
}
