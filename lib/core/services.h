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
 *
 * Kernels without BPF netfilter links (before 6.4) get the same judge at
 * tc instead (services_tc.c, lib/bpf/svc_ct.h): a pinned program on the
 * egress of every host veth and of the node's uplinks. `service_hook =
 * auto | netfilter | tc` in the instance config picks; auto takes
 * netfilter when the kernel has it.
 */
#ifndef BULKHEAD_SERVICES_H
#define BULKHEAD_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bulkhead.h"

struct bh_svc_frontend {
	char addr[64];			/* the ClusterIP, text */
	uint16_t port;			/* host order */
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _SCTP */
};

/* Attach the Services hook the config's service_hook asks for, unless the
 * netfilter links are pinned already: the post-NAT program (IPv4 and IPv6
 * links, pinned in the instance's bpffs), or (tc, or auto on a kernel
 * without BPF netfilter links) the tc program, pinned, onto every host
 * veth and uplink it is not on yet. -EOPNOTSUPP (message in ctx) for
 * service_hook = netfilter on a kernel without those links; an error
 * leaves no frontend settable, and egress to a ClusterIP stays judged on
 * the ClusterIP. */
int bh_svc_hook_ensure(struct bh_ctx *ctx);

/* 1 if the post-NAT hook's links or the tc program are pinned in this
 * instance. */
int bh_svc_hook_attached(struct bh_ctx *ctx);

/* services_tc.c. Whether the tc program is pinned; put it on (attach.c,
 * after bulkhead's own programs) or take it off one device's egress; each
 * does nothing when it is not pinned. */
bool bh_svc_tc_pinned(struct bh_ctx *ctx);
int bh_svc_tc_attach_dev(struct bh_ctx *ctx, __u32 ifindex);
int bh_svc_tc_detach_dev(struct bh_ctx *ctx, __u32 ifindex, int *removed);
/* Load and pin it unless pinned, attach it to every host veth (the
 * workloads map) and uplink (`service_uplink`, else the devices of the
 * default routes). Called under the instance lock. */
int bh_svc_tc_ensure(struct bh_ctx *ctx);

/* services_uplinks.c. The uplinks' ifindexes (at most BH_SVC_MAX_UPLINKS):
 * the config's service_uplink names (one without an interface is a user
 * error naming it), else the devices of the default routes, IPv4 and
 * IPv6 (docs/architecture.md, "Services", says why). */
#define BH_SVC_MAX_UPLINKS 16
int bh_svc_uplinks(struct bh_ctx *ctx, __u32 *out, int *nr);

/* Make bh_svc_v1 hold exactly fe[0..nr) (duplicates allowed). Refused
 * (-ENOLINK) while the hook is not attached. A bad address is a user
 * error naming it; nothing is changed then. *changed: entries added or
 * removed. */
int bh_svc_frontends_set(struct bh_ctx *ctx, int nr, const struct bh_svc_frontend *fe,
			 int *changed);

/* `bulkhead upgrade` (under the instance lock, this build's maps pinned):
 * this build's Services program replaces the running one, wherever it
 * runs. The tc program: each site in one kernel call, then the pin. The
 * netfilter hook: new links, then their pins over the old ones. *sites:
 * tc sites or links switched; 0 and no error without a hook. */
int bh_svc_hook_upgrade(struct bh_ctx *ctx, int *sites);
int bh_svc_tc_replace(struct bh_ctx *ctx, int *sites);	/* its tc part */

/* What `bulkhead doctor` reports of the Services hook. */
#define BH_SVC_STATUS_UPLINKS 4
struct bh_svc_status {
	int frontends;			/* entries in bh_svc_v1 */
	bool netfilter;			/* the post-NAT links are pinned */
	bool tc;			/* the tc program is pinned */
	int veths, veths_without;	/* host veths; those without it on egress */
	char without[16];		/* the first of those */
	int nr_uplinks;			/* other interfaces with it (the first few) */
	char uplinks[BH_SVC_STATUS_UPLINKS][16];
};
void bh_svc_hook_status(struct bh_ctx *ctx, struct bh_svc_status *st);
void bh_svc_tc_status(struct bh_ctx *ctx, struct bh_svc_status *st);	/* its tc part */

#endif /* BULKHEAD_SERVICES_H */
