/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ctx layer: the few things the data path needs from its hook, so one
 * code path serves XDP and TC. The program file defines BH_CTX_XDP or
 * BH_CTX_TC before including any lib/bpf header.
 *
 * Headers are copied into stack buffers by bh_ctx_load(). At a constant
 * offset (Ethernet, the IP header, and the L4 header after an IPv4 header
 * without options or an IPv6 header without extensions: what an ordinary
 * packet has), bytes in the linear part (data..data_end) are copied with
 * plain word loads. Anything else goes through the load_bytes helper: a
 * variable offset, a non-linear skb, a header past data_end. A helper call
 * costs more than the rest of the parse (bench/bench_helpers.sh measures
 * it), hence the direct copies; variable offsets stay with the helper because a packet
 * pointer at a variable offset makes the verifier follow every offset
 * separately (XDP object: 273k instructions processed instead of 154k,
 * 0.8 s more to load, for no gain on ordinary packets). Either way the
 * parser sees a copy on the stack. A failed load is a truncated packet.
 */
#ifndef BH_BPF_CTX_H
#define BH_BPF_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#if defined(BH_CTX_XDP) == defined(BH_CTX_TC)
#error "define exactly one of BH_CTX_XDP and BH_CTX_TC"
#endif


/* i & 63, done where the verifier sees it (clang would drop the mask it
 * can prove useless, and the verifier cannot prove it): an index into a
 * 64-byte option buffer. */
static __always_inline __u32 bh_idx63(__u32 i)
{
#ifdef __bpf__
	asm volatile("%0 &= 63" : "+r"(i));
#else
	i &= 63;	/* a userspace build (tests/fuzz/fuzz_packet_parse.c) */
#endif
	return i;
}

/*
 * Copy len bytes (a constant: 2 or a multiple of 4) from the packet at
 * from to the stack at to, which must be 4-byte aligned (the verifier
 * requires aligned stack access). Unaligned packet loads are fine on the
 * JITs that run this (x86-64, arm64).
 */
static __always_inline void bh_ctx_copy(void *to, const void *from, __u32 len)
{
	__u32 *d = to;
	const __u32 *s = from;
	__u32 i;

	if (len == 2) {
		*(__u16 *)to = *(const __u16 *)from;
		return;
	}
#pragma clang loop unroll(full)
	for (i = 0; i < len / 4; i++)
		d[i] = s[i];
}

/* The bytes [off, off + len) in the linear part, or NULL: not there, or
 * off is not a compile-time constant after inlining (see above; at -O0
 * everything goes through the helper, which is correct, only slower). */
#define BH_CTX_DIRECT(ctx, off, len)                                             \
	({                                                                       \
		void *_d = (void *)(long)(ctx)->data;                            \
		void *_e = (void *)(long)(ctx)->data_end;                        \
		(__builtin_constant_p(off) && _d + (off) + (len) <= _e) ?        \
			_d + (off) : NULL;                                       \
	})

#ifdef BH_CTX_XDP
typedef struct xdp_md bh_ctx_t;

#define BH_CTX_PASS	XDP_PASS
#define BH_CTX_DROP	XDP_DROP

static __always_inline int bh_ctx_load(bh_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
	void *p = BH_CTX_DIRECT(ctx, off, len);

	if (p) {
		bh_ctx_copy(to, p, len);
		return 0;
	}
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

/* The program is loaded without BPF_F_XDP_HAS_FRAGS (section "xdp", not
 * "xdp.frags"), so the kernel only ever hands it single-buffer frames: the
 * linear part is the whole frame. Saves the bpf_xdp_get_buff_len() call.
 * A program made frags-aware must go back to that helper. */
static __always_inline __u32 bh_ctx_len(bh_ctx_t *ctx)
{
	return (__u32)(ctx->data_end - ctx->data);
}

static __always_inline __u32 bh_ctx_ifindex(bh_ctx_t *ctx)
{
	return ctx->ingress_ifindex;
}

/* XDP sees the frame as it is on the wire: a tag is in the payload. */
static __always_inline int bh_ctx_vlan_offloaded(bh_ctx_t *ctx)
{
	(void)ctx;
	return 0;
}

/* A frame of a single-buffer program is linear (bh_ctx_len). */
static __always_inline void bh_ctx_linearize(bh_ctx_t *ctx)
{
	(void)ctx;
}
#else
typedef struct __sk_buff bh_ctx_t;

/* Equal to TCX_PASS / TCX_DROP, so the same program works on tcx. */
#define BH_CTX_PASS	TC_ACT_OK
#define BH_CTX_DROP	TC_ACT_SHOT

static __always_inline int bh_ctx_load(bh_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
	void *p = BH_CTX_DIRECT(ctx, off, len);

	if (p) {
		bh_ctx_copy(to, p, len);
		return 0;
	}
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline __u32 bh_ctx_len(bh_ctx_t *ctx)
{
	return ctx->len;
}

/* Ingress: the receiving device; egress: the transmitting one. Either way
 * the host-side veth the program is attached to. */
static __always_inline __u32 bh_ctx_ifindex(bh_ctx_t *ctx)
{
	return ctx->ifindex;
}

/* A tag the driver or stack moved into skb metadata. */
static __always_inline int bh_ctx_vlan_offloaded(bh_ctx_t *ctx)
{
	return ctx->vlan_present != 0;
}

/*
 * An skb whose headers are not all in its linear part (a packet socket's
 * zero-copy send puts only the Ethernet header there, for one) would take
 * the load_bytes helper for every header and miss the flow cache, which
 * reads the linear part only: on such traffic every packet paid the whole
 * parser and the judge function (bench/veth_path.sh's trafgen UDP, about
 * 0.3 us a packet). Pull the headers into the linear part once, before
 * anything reads the packet; the stack pulls them anyway right after
 * (ip_rcv, the forwarding path), so this only does that work earlier.
 *
 * The headers only, never payload: TCP sends its payload in page
 * fragments behind a linear part that ends with the TCP header, and its
 * skbs are clones (the retransmit queue keeps the data), so pulling even
 * one byte of payload copies the header into a new buffer
 * (pskb_expand_head) on every data segment: about a tenth of what
 * bulkhead's programs spend on a short TCP connection (bench/veth_path.sh
 * with WHERE=1). For
 * IPv4 that is Ethernet, the IP header with its options and a TCP
 * header without options (the fast path reads ports and flags; options
 * are read through bh_ctx_load); anything else gets BH_CTX_PULL_LEN
 * (Ethernet, IPv6, TCP). A packet shorter than that is pulled whole. An
 * skb already linear that far pays two comparisons; a failed pull leaves
 * the packet as it was, judged through load_bytes.
 */
#define BH_CTX_PULL_LEN	74
#define BH_CTX_ETH_LEN	14
#define BH_CTX_L4_LEN	20

static __always_inline void bh_ctx_linearize(bh_ctx_t *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	__u32 want = BH_CTX_PULL_LEN;

	/* IPv4 (ethertype 0x0800) with its version/IHL byte linear */
	if (data + BH_CTX_ETH_LEN + 1 <= end && data[12] == 0x08 && data[13] == 0x00)
		want = BH_CTX_ETH_LEN + (data[BH_CTX_ETH_LEN] & 0x0f) * 4 + BH_CTX_L4_LEN;
	if (want > ctx->len)
		want = ctx->len;
	if ((long)data + want > (long)end)
		bpf_skb_pull_data(ctx, want);
}
#endif

#endif /* BH_BPF_CTX_H */
