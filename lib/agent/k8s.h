/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes API watch (docs/kubernetes.md). The agent starts it when
 * its config has a `kubernetes:` key. One thread per watched resource
 * lists, then watches from the list's resourceVersion (with bookmarks),
 * keeps an in-memory cache of the objects, relists only on 410 Gone and
 * reconnects with backoff and jitter otherwise. One more thread turns the
 * cache into bulkhead's state (k8s_sync.c): namespace labels, the labels
 * of this node's workloads, the NetworkPolicies and BulkheadPolicies, the
 * identities of every pod IP in the cluster. It runs on every change and
 * once a second (a workload attached meanwhile gets its labels then).
 *
 * Connection (k8s_conn.c): a kubeconfig (server, CA, bearer token, client
 * certificate and key, file or data, of the current context) or, with no
 * kubeconfig, the in-cluster service account (KUBERNETES_SERVICE_HOST/
 * _PORT, token re-read for every request, so a rotated token is used).
 */
#ifndef BULKHEAD_AGENT_K8S_H
#define BULKHEAD_AGENT_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead.h"

struct bh_k8s;

/* Called from the watch threads (serialised by the caller's own means is
 * not needed: the module holds a lock around every call). */
typedef void (*bh_k8s_log_fn)(void *arg, const char *msg);

struct bh_k8s_opts {
	const char *kubeconfig;		/* NULL or "": in-cluster */
	const char *node;		/* NULL or "": $NODE_NAME, then hostname */
	unsigned chunk_size;		/* items per list page (limit); 0: one page */
	const char *bpffs, *state_dir;	/* the instance (its own bh_ctx) */
	bh_k8s_log_fn log;
	void *log_arg;
};

/* Read the connection settings (errors name the file and the field, in
 * msg) and start the threads. */
int bh_k8s_start(const struct bh_k8s_opts *opts, struct bh_k8s **out, char *msg, size_t len);
/* Stop the threads (each in-flight request is aborted) and free. */
void bh_k8s_stop(struct bh_k8s *k);

/* Readiness: every watch has listed once and the first reconcile of
 * bulkhead's state from that list is done ("API watches synced"). */
bool bh_k8s_synced(const struct bh_k8s *k);

struct bh_k8s_stats {
	uint64_t lists;			/* list requests (first pages: at start, after 410) */
	uint64_t watches;		/* watch requests (reconnects included) */
	uint64_t events;		/* watch events applied to the cache */
	uint64_t reconciles;		/* passes that changed bulkhead state */
};
void bh_k8s_get_stats(const struct bh_k8s *k, struct bh_k8s_stats *out);

#endif /* BULKHEAD_AGENT_K8S_H */
