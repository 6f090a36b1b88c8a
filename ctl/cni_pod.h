/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A Kubernetes pod's identity at ADD (cni_pod.c). */
#ifndef BULKHEAD_CNI_POD_H
#define BULKHEAD_CNI_POD_H

#include "bulkhead.h"

/* Fill o's labels and named ports from the node agent's watch cache.
 * When the agent does not know the pod (or does not answer), the
 * instance's unknown_pod posture decides: deny (default) attaches it
 * pending (closed, DNS to kube-dns open) until the agent applies its
 * identity; allow attaches it with the labels it has. Labels from the
 * network config and CNI_ARGS stay; the API's win on the same key.
 * *known: the agent knew the pod. Fails only on a bad config file. */
int cni_pod_identity(struct bh_ctx *ctx, struct bh_attach_opts *o, bool *known);

#endif /* BULKHEAD_CNI_POD_H */
