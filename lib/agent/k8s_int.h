/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by k8s.c, k8s_watch.c and k8s_sync.c. */
#ifndef BULKHEAD_AGENT_K8S_INT_H
#define BULKHEAD_AGENT_K8S_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "k8s.h"
#include "k8s_conn.h"

enum k8s_res_id {
	K8S_NAMESPACES,
	K8S_PODS,
	K8S_NETPOLS,
	K8S_BHPOLS,
	K8S_SERVICES,
	K8S_SLICES,
	K8S_NR,
};

struct k8s_res {
	const char *name;		/* "pods", for messages */
	const char *path;		/* "/api/v1/pods" */
	/* under k->mu */
	json_object *cache;		/* "NS/NAME" -> object (an object map) */
	bool synced;			/* listed at least once */
	char rv[64];			/* last resourceVersion seen */
	pthread_t thread;
	bool started;
	struct k8s *k;
};

struct k8s_sync;

struct k8s {
	char node[254];
	unsigned chunk_size;		/* list page size; 0: one page */
	char bpffs[4096], state_dir[4096];
	bh_k8s_log_fn log;
	void *log_arg;
	struct bh_k8s_conn conn;
	pthread_mutex_t mu;		/* everything below, and log calls */
	pthread_cond_t cond;		/* cache changed, or stop */
	bool stop;
	uint64_t gen;			/* bumped on every cache change */
	struct k8s_res res[K8S_NR];
	pthread_t sync_thread;
	bool sync_started;
	bool ready;			/* every watch listed + reconciled once */
	struct bh_k8s_stats stats;
	/* the pod lookup socket (k8s_podsock.c) */
	int podsock_fd;
	char podsock_path[108];
	pthread_t podsock_thread;
	bool podsock_started;
};

/* Log a formatted line through the caller's callback (takes k->mu unless
 * locked says it is held). */
void k8s_log(struct k8s *k, bool locked, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Wait on k->cond until stop or ms elapsed; k->mu held. */
void k8s_wait_ms(struct k8s *k, long ms);

/* One resource's list+watch loop (thread body). */
void *k8s_watch_main(void *res);
/* The reconcile loop (thread body). */
void *k8s_sync_main(void *k);

/* The object an Event is about (copied out of the cache). */
struct k8s_ref {
	const char *kind, *api_version;
	char ns[254], name[254], uid[128], rv[64];
};

/* POST a Warning Event about ref to the API; best effort, logged. */
int k8s_post_event(struct k8s *k, const struct k8s_ref *ref, const char *reason,
		   const char *message);

/* Serve pod lookups for the CNI plugin on STATE_DIR/agent.sock
 * (k8s_podsock.c, protocol in lib/core/pod_lookup.h); stop after k->stop. */
int k8s_podsock_start(struct k8s *k, char *msg, size_t len);
void k8s_podsock_stop(struct k8s *k);

/* A pod's named ports (k8s_ports.c): spec.containers[].ports[] that have
 * a valid name, sorted by name and protocol; at most max. */
struct bh_named_port;
int k8s_pod_ports(json_object *pod, struct bh_named_port *out, int max);
/* "name=port/PROTO\n"... (bh_peer_rec.ports); malloc'd, NULL if out of memory. */
char *k8s_ports_text(const struct bh_named_port *p, int nr);

#endif /* BULKHEAD_AGENT_K8S_INT_H */
