// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness, differential: lib/bpf/parse.h compiled for userspace
 * (XDP flavour, the helpers replaced by a bounds-checked copy and a small
 * fragment table) against tests/fuzz/pkt_oracle.h. For any frame the two
 * must agree: what parses, its addresses, protocol, ports, fragment kind,
 * ND and ICMP-error quote; and every parse failure must be a drop reason
 * for something the model also rejects. The input's first byte says
 * whether a second frame follows (to exercise later fragments): byte0
 * bit 0 set -> byte1..2 = length of frame 1, frame 2 is the rest.
 * Built by `make fuzz`; see README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/bpf.h>

/* ---- the BPF environment, for userspace (instead of bpf_helpers.h) ---- */
#define __BPF_HELPERS__
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define SEC(name)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
enum { LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME };

static void *bpf_map_lookup_elem(void *map, const void *key);
static long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags);
static long bpf_xdp_load_bytes(struct xdp_md *ctx, __u32 off, void *to, __u32 len);
static long bpf_loop(__u32 nr, void *fn, void *ctx, __u64 flags);

#define BH_CTX_XDP
#include "lib/bpf/parse.h"
#include "pkt_oracle.h"

/* The frame being parsed (one harness, one thread). */
static const uint8_t *cur;
static size_t cur_len;

static long bpf_xdp_load_bytes(struct xdp_md *ctx, __u32 off, void *to, __u32 len)
{
	(void)ctx;
	if ((size_t)off + len > cur_len)
		return -EFAULT;
	memcpy(to, cur + off, len);
	return 0;
}

#define FRAGS 8
static struct { struct bh_frag_key k; struct bh_frag_val v; int used; } frags[FRAGS];
static __u64 scratch[32];	/* the largest scratch value: the TCP option walk */

static long bpf_loop(__u32 nr, void *fn, void *ctx, __u64 flags)
{
	long (*step)(__u32, void *) = fn;
	__u32 i;

	(void)flags;
	for (i = 0; i < nr; i++)
		if (step(i, ctx))
			return i + 1;
	return nr;
}

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	int i;

	if (map != (void *)&bh_frag_v1)
		return scratch;		/* counters and stats: somewhere to count */
	for (i = 0; i < FRAGS; i++)
		if (frags[i].used && !memcmp(&frags[i].k, key, sizeof(frags[i].k)))
			return &frags[i].v;
	return NULL;
}

static long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags)
{
	static int next;
	struct bh_frag_val *v;
	int i;

	(void)flags;
	if (map != (void *)&bh_frag_v1)
		return 0;
	v = bpf_map_lookup_elem(map, key);
	if (!v) {
		i = next++ % FRAGS;
		memcpy(&frags[i].k, key, sizeof(frags[i].k));
		frags[i].used = 1;
		v = &frags[i].v;
	}
	memcpy(v, value, sizeof(*v));
	return 0;
}

/* ------------------------------------------------------------ comparing */
static void mismatch(const char *what, const uint8_t *f, size_t len)
{
	size_t i;

	fprintf(stderr, "parse.h and the model disagree: %s\nframe (%zu bytes):", what, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n", f[i]);
	fprintf(stderr, "\n");
	abort();
}

static void mapped(const struct or_addr *a, __u8 out[16])
{
	memcpy(out, a->a, 16);
	if (a->family == 4)
		out[10] = out[11] = 0xff;
}

static void compare(const uint8_t *f, size_t len)
{
	struct xdp_md ctx = { 0 };
	struct bh_pkt pkt = { 0 };
	struct or_pkt op;
	__u8 a[16];
	int err, reason;

	cur = f;
	cur_len = len;
	err = bh_parse(&ctx, &pkt, (__u32)len);
	or_parse(f, len, &op);
	if (err) {
		reason = BH_ERR_REASON(err);
		if (reason == BH_R_FRAGMENT) {
			if (op.kind != OR_IP || op.frag != OR_FRAG_LATER)
				mismatch("fragment drop of a frame the model does not call a later "
					 "fragment", f, len);
			return;
		}
		if (reason != BH_R_MALFORMED && reason != BH_R_IPV6_EXT && reason != BH_R_VLAN &&
		    reason != BH_R_L3_UNKNOWN)
			mismatch("parse failed with a reason that is no parse reason", f, len);
		/* an IPv4-mapped IPv6 address: parse.h calls it malformed, the
		 * model refuses it a step later (OR_NO_MAPPED); both drop it */
		if (op.kind == OR_IP && (or_is_mapped(&op.src) || or_is_mapped(&op.dst)))
			return;
		if (op.kind == OR_IP || op.kind == OR_ARP)
			mismatch("parse.h rejects a frame the model accepts", f, len);
		return;
	}
	if (op.kind != OR_IP && op.kind != OR_ARP)
		mismatch(op.why ? op.why : "parse.h accepts a frame the model rejects", f, len);
	if ((op.kind == OR_ARP) != !!pkt.arp)
		mismatch("arp", f, len);
	if (memcmp(op.dmac, pkt.eth, 6) || memcmp(op.smac, pkt.eth + 6, 6))
		mismatch("ethernet addresses", f, len);
	if (op.has_lladdr != !!(pkt.l2_flags & BH_PKT_L2_LLADDR) ||
	    (op.has_lladdr && memcmp(op.lladdr, pkt.lladdr, 6)))
		mismatch("arp sender / nd link-layer address", f, len);
	if (op.na && (pkt.nd_type != 136 || memcmp(op.na_target.a, pkt.nd_target, 16)))
		mismatch("neighbour advertisement target", f, len);
	mapped(&op.src, a);
	if (memcmp(a, pkt.saddr, 16))
		mismatch("source address", f, len);
	mapped(&op.dst, a);
	if (memcmp(a, pkt.daddr, 16))
		mismatch("destination address", f, len);
	if (op.kind == OR_ARP)
		return;
	if (op.src.family != pkt.family || op.proto != pkt.proto)
		mismatch("family or protocol", f, len);
	if ((int)op.frag != pkt.frag)
		mismatch("fragment kind", f, len);
	if (op.frag == OR_FRAG_LATER)
		return;		/* ports come from the fragment table */
	if (op.has_ports && (op.sport != bpf_ntohs(pkt.sport) || op.dport != bpf_ntohs(pkt.dport) ||
			     op.dport != pkt.pport))
		mismatch("ports", f, len);
	if (op.proto == 6 && op.has_ports && op.tcp_flags != pkt.tcp_flags)
		mismatch("tcp flags", f, len);
	if (op.icmp && pkt.pport != (op.icmp_type << 8 | op.icmp_code))
		mismatch("icmp type/code", f, len);
	if (op.nd != !!pkt.nd)
		mismatch("neighbour discovery", f, len);
	if (op.icmp && (op.icmp_kind != pkt.icmp_kind || op.icmp_reply != !!pkt.icmp_reply ||
			(op.icmp_kind && op.icmp_id != bpf_ntohs(pkt.sport))))
		mismatch("icmp query kind, half or identifier", f, len);
	if (op.named != !!pkt.named_proto)
		mismatch("named protocol", f, len);
	if (op.quote.valid != !!pkt.inner.valid)
		mismatch("icmp error quote readable", f, len);
	if (op.quote.valid) {
		mapped(&op.quote.src, a);
		if (memcmp(a, pkt.inner.saddr, 16))
			mismatch("quote source", f, len);
		mapped(&op.quote.dst, a);
		if (memcmp(a, pkt.inner.daddr, 16) || op.quote.proto != pkt.inner.proto)
			mismatch("quote destination or protocol", f, len);
		if (op.quote.has_ports && (op.quote.sport != bpf_ntohs(pkt.inner.sport) ||
					   op.quote.dport != bpf_ntohs(pkt.inner.dport)))
			mismatch("quote ports", f, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t first;

	memset(frags, 0, sizeof(frags));
	if (size < 1 || size > 4096)
		return 0;
	if (data[0] & 1 && size >= 3) {
		first = (size_t)(data[1] << 8 | data[2]);
		if (first > size - 3)
			first = size - 3;
		compare(data + 3, first);
		compare(data + 3 + first, size - 3 - first);
		return 0;
	}
	compare(data + 1, size - 1);
	return 0;
}
