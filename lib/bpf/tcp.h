/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP sequence tracking, so that a blind RST cannot close a flow.
 *
 * As Linux conntrack does (nf_conntrack_proto_tcp.c, after Rooij's "Real
 * stateful TCP packet filtering in IP Filter"), each conntrack entry keeps
 * per direction the highest sequence number sent plus the segment's length
 * (td_end) and the largest window advertised, scaled by the window scale
 * both SYNs announced (td_maxwin). A RST closes the flow only if its
 * sequence number lies within the receiver's window around what its
 * sender has sent: seq in [td_end - W, td_end + W], W = the receiver's
 * largest window, at least 64 KiB, at most 1 GiB. A RST answering the SYN
 * (the responder has sent nothing yet) must acknowledge the SYN exactly.
 * A RST that fails the check passes (the receiving stack applies RFC 5961
 * to it) but changes nothing: the flow stays open. A blind attacker who
 * does not see the flow must guess a 32-bit number; each RST it sends hits
 * with a chance of 2W / 2^32 (2^-15 for a 64 KiB window).
 *
 * Cost, bounded: a few compares and stores per TCP packet on the conntrack
 * paths; none in the flow cache (fcache.h), whose hits do not touch
 * conntrack. td_end is therefore at most BH_FC_REFRESH_NS (10 ms) of a
 * flow's packets behind per CPU; the window W absorbs that. The window
 * scale option is read only from SYN segments, through one global function
 * (bh_tcp_wscale).
 */
#ifndef BH_BPF_TCP_H
#define BH_BPF_TCP_H

#include <bpf/bpf_endian.h>
#include "ctx.h"
#include "maps.h"

/* What tracking needs of a TCP segment, host order. */
struct bh_tcp_seg {
	__u32 seq;
	__u32 ack;
	__u16 win;		/* raw window field */
	__u16 len;		/* payload bytes */
	__u8 wscale;		/* SYN only: window scale option + 1; 0: none */
	__u8 pad[3];
};

#define BH_TCP_WIN_MIN		65535u
#define BH_TCP_WIN_MAX		(1u << 30)
#define BH_TCPOPT_EOL		0
#define BH_TCPOPT_NOP		1
#define BH_TCPOPT_WSCALE	3

/* The walk over a SYN's options, one option per bpf_loop round. */
struct bh_tcpopt_walk {
	__u8 o[64];		/* the options; 64: indexed under a mask */
	__u32 n;		/* option bytes */
	__u32 j;		/* next option */
	__u8 wscale;		/* found: value + 1 */
};

/* The walk's state, one per CPU (the programs of a CPU do not nest): off
 * the stack, which the program calling this has nearly used up. Private
 * to each object, not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_tcpopt_walk);
} bh_tcpopt_scratch SEC(".maps");

/* bpf_loop's context must be on the stack: it carries the map value. */
struct bh_tcpopt_ref {
	struct bh_tcpopt_walk *w;
};

static long bh_tcpopt_step(__u32 round, void *data)
{
	struct bh_tcpopt_walk *w = ((struct bh_tcpopt_ref *)data)->w;
	__u32 j;

	if (!w)
		return 1;
	j = w->j;
	__u8 t, l;

	(void)round;
	if (j >= w->n)
		return 1;
	t = w->o[bh_idx63(j)];
	if (t == BH_TCPOPT_EOL)
		return 1;
	if (t == BH_TCPOPT_NOP) {
		w->j = j + 1;
		return 0;
	}
	if (j + 1 >= w->n)
		return 1;
	l = w->o[bh_idx63(j + 1)];
	if (l < 2 || j + l > w->n)
		return 1;	/* malformed: no scale, as the stack does */
	if (t == BH_TCPOPT_WSCALE && l == 3) {
		__u8 s = w->o[bh_idx63(j + 2)];

		w->wscale = (s > 14 ? 14 : s) + 1;	/* RFC 7323: at most 14 */
		return 1;
	}
	w->j = j + l;
	return 0;
}

/*
 * The window scale option of a SYN whose optlen option bytes start at
 * off: its value + 1, or 0 if it has none. A global function (verified
 * once), called only for SYN segments with options.
 */
__attribute__((noinline)) int bh_tcp_wscale(bh_ctx_t *ctx, __u32 off, __u32 optlen)
{
	struct bh_tcpopt_ref ref;
	struct bh_tcpopt_walk *w;
	__u32 i, zero = 0;

	if (!ctx || optlen == 0 || optlen > 40)
		return 0;
	w = bpf_map_lookup_elem(&bh_tcpopt_scratch, &zero);
	if (!w)
		return 0;
	w->n = optlen;
	w->j = 0;
	w->wscale = 0;
#pragma clang loop unroll(full)
	for (i = 0; i < 10; i++) {
		if (i * 4 >= optlen)
			break;
		if (bh_ctx_load(ctx, off + i * 4, &w->o[i * 4], 4) < 0)
			return 0;
	}
	ref.w = w;
	bpf_loop(40, bh_tcpopt_step, &ref, 0);
	return w->wscale;
}

/* Account a segment (seq, payload len, raw window, window scale option),
 * sent by side d (0 initiator, 1 responder) of the flow v with flags f,
 * in the sequence tracking. Scalars, so that the flow cache's path keeps
 * them in registers (its program's stack is nearly full). */
static __always_inline void bh_tcp_track_seg(struct bh_ct_val *v, __u32 seq, __u32 len,
					     __u32 rwin, __u8 wscale, __u8 f, int d)
{
	__u32 end = seq + len + !!(f & 0x02) + !!(f & 0x01), win;
	__u8 seen = 1 << (d & 1), sc;

	d &= 1;
	if (!(v->td_seen & seen) || (__s32)(end - v->td_end[d]) > 0) {
		v->td_end[d] = end;
		v->td_seen |= seen;
	}
	if (f & 0x02) {
		/* a SYN's window is never scaled (RFC 7323 2.2) */
		v->td_wscale[d] = wscale;
		win = rwin;
	} else {
		/* scaling holds only if both SYNs announced it */
		sc = v->td_wscale[0] && v->td_wscale[1] ? v->td_wscale[d] - 1 : 0;
		win = rwin << (sc & 15);
	}
	if (win > v->td_maxwin[d])
		v->td_maxwin[d] = win;
}

static __always_inline void bh_tcp_track(struct bh_ct_val *v, const struct bh_tcp_seg *s,
					 __u8 f, int d)
{
	bh_tcp_track_seg(v, s->seq, s->len, s->win, s->wscale, f, d);
}

/* 1 if a RST from side d with segment s may close the flow v (above). */
static __always_inline int bh_tcp_rst_plausible(const struct bh_ct_val *v,
						const struct bh_tcp_seg *s, __u8 f, int d)
{
	__u32 w;

	d &= 1;
	if (!(v->td_seen & (1 << d)))
		return (f & 0x10) && (v->td_seen & (1 << !d)) && s->ack == v->td_end[!d];
	w = v->td_maxwin[!d];
	if (w < BH_TCP_WIN_MIN)
		w = BH_TCP_WIN_MIN;
	if (w > BH_TCP_WIN_MAX)
		w = BH_TCP_WIN_MAX;
	return s->seq - (v->td_end[d] - w) <= 2 * w;
}

#endif /* BH_BPF_TCP_H */
