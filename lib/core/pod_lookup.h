/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pods closed at birth: the CNI ADD asks the node's agent, which serves
 * its Kubernetes watch cache on a unix socket, for the pod's labels and
 * named ports. The socket is STATE_DIR/agent.sock, mode 0600 (root).
 *
 * The protocol, one request per connection, lines of text:
 *   request   "POD NS/NAME\n"
 *   answer    "KNOWN\n" then "LABEL K=V\n"... "PORT NAME=PORT/PROTO\n"... "END\n"
 *          or "UNKNOWN\n"   (no such pod in the cache, or not listed yet)
 * Labels and ports are checked on both sides: a line that does not parse
 * fails the lookup, never half-fills it.
 */
#ifndef BULKHEAD_POD_LOOKUP_H
#define BULKHEAD_POD_LOOKUP_H

#include <stddef.h>

#include "bulkhead.h"

#define BH_AGENT_SOCKET		"agent.sock"
#define BH_POD_LOOKUP_TIMEOUT_MS	1000

struct bh_pod_identity {
	int nr_labels;
	struct bh_label labels[BH_MAX_LABELS];
	int nr_ports;
	struct bh_named_port ports[BH_MAX_NAMED_PORTS];
};

/* The socket path of the instance whose state dir is state_dir (NULL or
 * "": $BULKHEAD_STATE_DIR, else the default), as the agent binds it. */
int bh_agent_socket_path(const char *state_dir, char *buf, size_t len);

/* Ask the agent of ctx's instance about pod ns/name (bounded by
 * BH_POD_LOOKUP_TIMEOUT_MS). 0: known, *out filled. -ENOENT: the agent
 * does not know the pod. -EHOSTDOWN: no agent answers (none runs, or it
 * has no Kubernetes watch). -EPROTO: a malformed answer. */
int bh_pod_lookup(struct bh_ctx *ctx, const char *ns, const char *name,
		  struct bh_pod_identity *out);

/* The posture when the agent does not know a pod: config.h,
 * bh_config_unknown_pod_deny. */

#endif /* BULKHEAD_POD_LOOKUP_H */
