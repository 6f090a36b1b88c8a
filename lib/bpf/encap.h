/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Encapsulation and source routing (docs/security.md).
 *
 * A packet that names where it goes next, besides its destination, can
 * carry traffic past the policy the destination was judged by:
 * - IPv4 loose and strict source routes (LSRR 131, SSRR 137) and IPv6
 *   routing headers (type 0, segment routing type 4, any other) make the
 *   destination forward the packet to an address policy never saw. Both
 *   are refused in either direction: no workload needs them, and Linux
 *   itself refuses source routes by default (accept_source_route = 0).
 * - IP-in-IP (4), IPv6-in-IPv4 (41), GRE (47) and every other protocol
 *   but TCP, UDP, SCTP and ICMP of the packet's family carry a packet of
 *   their own when the peer decapsulates. They are "named" protocols: an
 *   allow that does not name the protocol (a rule with no ports, or any
 *   Kubernetes rule) does not let them pass (policy.h, bh_policy_named).
 * UDP tunnels (VXLAN, Geneve) are ordinary UDP and stay so; see
 * docs/security.md for that residual risk.
 */
#ifndef BH_BPF_ENCAP_H
#define BH_BPF_ENCAP_H

#include "ctx.h"
#include "verdict.h"

#define BH_IPOPT_EOL	0
#define BH_IPOPT_NOP	1
#define BH_IPOPT_LSRR	131
#define BH_IPOPT_SSRR	137
#define BH_IPOPT_MAX	40	/* option bytes an IPv4 header can hold */

/* The walk over an option list, one option per bpf_loop round. */
struct bh_opt_walk {
	__u8 o[64];		/* the options; 64: indexed under a mask */
	__u32 n;		/* option bytes */
	__u32 j;		/* next option */
	int err;
};

static long bh_opt_step(__u32 round, void *data)
{
	struct bh_opt_walk *w = data;
	__u32 j = w->j;
	__u8 t, l;

	(void)round;
	if (j >= w->n)
		return 1;
	t = w->o[bh_idx63(j)];
	if (t == BH_IPOPT_EOL)
		return 1;
	if (t == BH_IPOPT_NOP) {
		w->j = j + 1;
		return 0;
	}
	if (t == BH_IPOPT_LSRR || t == BH_IPOPT_SSRR || j + 1 >= w->n) {
		w->err = 1;
		return 1;
	}
	l = w->o[bh_idx63(j + 1)];
	if (l < 2 || j + l > w->n) {
		w->err = 1;
		return 1;
	}
	w->j = j + l;
	return 0;
}

/*
 * The options of an IPv4 header of hlen bytes (> 20), at off. 0 if they
 * are well formed and name no source route; else BH_ERR(BH_R_MALFORMED):
 * a malformed option list is dropped by the receiving stack anyway
 * (ip_options_compile), and a source route is refused (above).
 *
 * A global function and a bpf_loop: the verifier checks one step of the
 * walk once (an open-coded walk of up to 40 bytes passed the verifier's
 * 10^6 instruction limit, every option length giving a new state), and
 * only packets with options pay the call.
 */
__attribute__((noinline)) int bh_ipv4_options_check(bh_ctx_t *ctx, __u32 off, __u32 hlen)
{
	struct bh_opt_walk w = {};
	__u32 i;

	if (!ctx || hlen <= 20 || hlen > 60)
		return BH_ERR(BH_R_MALFORMED);
	w.n = hlen - 20;
#pragma clang loop unroll(full)
	for (i = 0; i < BH_IPOPT_MAX / 4; i++) {
		if (i * 4 >= w.n)
			break;
		if (bh_ctx_load(ctx, off + i * 4, &w.o[i * 4], 4) < 0)
			return BH_ERR(BH_R_MALFORMED);
	}
	bpf_loop(BH_IPOPT_MAX, bh_opt_step, &w, 0);
	return w.err ? BH_ERR(BH_R_MALFORMED) : 0;
}

#endif /* BH_BPF_ENCAP_H */
