/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Services: egress to a ClusterIP judged on the backend kube-proxy chose
 * (docs/architecture.md, "Services"). Two parts in the kernel: the host
 * veth's program leaves new flows to a Service frontend (bh_svc_v1)
 * unjudged, and a netfilter program at PREROUTING right after NAT judges
 * them on the translated destination. This module attaches that program
 * (BPF netfilter links, pinned, so enforcement outlives every bulkhead
 * process like the veth programs) in the calling thread's network
 * namespace, and keeps the frontend map equal to the Services.
 */
#ifndef BULKHEAD_SERVICES_H
#define BULKHEAD_SERVICES_H

#include <stdint.h>

#include "bulkhead.h"

struct bh_svc_frontend {
	char addr[64];			/* the ClusterIP, text */
	uint16_t port;			/* host order */
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _SCTP */
};

/* Load and attach the post-NAT program (IPv4 and IPv6 links, pinned in
 * the instance's bpffs) unless its links are pinned already. -EOPNOTSUPP
 * (message in ctx) when the kernel has no BPF netfilter links (before
 * 6.4): then no frontend may be set, and egress to a ClusterIP stays
 * judged on the ClusterIP. */
int bh_svc_hook_ensure(struct bh_ctx *ctx);

/* 1 if the post-NAT hook's links are pinned in this instance. */
int bh_svc_hook_attached(struct bh_ctx *ctx);

/* Make bh_svc_v1 hold exactly fe[0..nr) (duplicates allowed). Refused
 * (-ENOLINK) while the hook is not attached. A bad address is a user
 * error naming it; nothing is changed then. *changed: entries added or
 * removed. */
int bh_svc_frontends_set(struct bh_ctx *ctx, int nr, const struct bh_svc_frontend *fe,
			 int *changed);

#endif /* BULKHEAD_SERVICES_H */
