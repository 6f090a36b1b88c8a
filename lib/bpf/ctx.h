/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ctx layer: the few things the data path needs from its hook, so one
 * code path serves XDP and TC. The program file defines BH_CTX_XDP or
 * BH_CTX_TC before including any lib/bpf header.
 *
 * Headers are copied with the load_bytes helpers rather than read through
 * data/data_end: the helpers handle non-linear skbs and multi-buffer XDP,
 * and variable offsets (IPv6 extension chains, IPv4 options) need no
 * verifier-friendly pointer arithmetic. A failed load is a truncated packet.
 */
#ifndef BH_BPF_CTX_H
#define BH_BPF_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#if defined(BH_CTX_XDP) == defined(BH_CTX_TC)
#error "define exactly one of BH_CTX_XDP and BH_CTX_TC"
#endif

#ifdef BH_CTX_XDP
typedef struct xdp_md bh_ctx_t;

#define BH_CTX_PASS	XDP_PASS
#define BH_CTX_DROP	XDP_DROP

static __always_inline int bh_ctx_load(bh_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

static __always_inline __u32 bh_ctx_len(bh_ctx_t *ctx)
{
	return (__u32)bpf_xdp_get_buff_len(ctx);
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
#else
typedef struct __sk_buff bh_ctx_t;

/* Equal to TCX_PASS / TCX_DROP, so the same program works on tcx. */
#define BH_CTX_PASS	TC_ACT_OK
#define BH_CTX_DROP	TC_ACT_SHOT

static __always_inline int bh_ctx_load(bh_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
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
#endif

#endif /* BH_BPF_CTX_H */
