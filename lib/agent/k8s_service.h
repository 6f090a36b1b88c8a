/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Services from the watch cache into the kernel: the post-NAT hook is
 * attached once (lib/core/services.h) and the frontend map follows the
 * Services' ClusterIPs and ports, so egress to a ClusterIP is judged on
 * the backend kube-proxy chose (docs/kubernetes.md, "Services").
 */
#ifndef BULKHEAD_AGENT_K8S_SERVICE_H
#define BULKHEAD_AGENT_K8S_SERVICE_H

#include <stdbool.h>

#include "k8s_int.h"

struct k8s_svc_state {
	bool hook_ok;			/* the post-NAT hook is attached */
	bool hook_failed;		/* logged once: the kernel cannot */
	int last_nr;			/* frontends in the map */
};

/* One pass of the reconcile thread (k->mu not held). */
void k8s_services_sync(struct k8s *k, struct bh_ctx *ctx, struct k8s_svc_state *st);

#endif /* BULKHEAD_AGENT_K8S_SERVICE_H */
