/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent follows Docker Engine (no CNI): containers on Docker bridge
 * networks are attached when they start and detached when they die, with
 * their IPs and Docker labels. docs/docker.md describes the behaviour.
 *
 *   start            inspect -> pid -> netns -> host veth -> attach,
 *                    then the veth is let through the gate
 *   die, destroy     the veth leaves the gate, then detach
 *   network create,  the network's bridge joins the gate before any
 *   connect          container on it runs
 *   stream (re)open  list networks and running containers; attach what is
 *                    missing, detach what is gone (events missed while the
 *                    agent was down or the stream was broken)
 *
 * What the watcher attached is remembered in the state store (table
 * docker_attachments), so a restarted agent knows what to detach.
 */
#ifndef BULKHEAD_DOCKER_WATCH_H
#define BULKHEAD_DOCKER_WATCH_H

#include "bulkhead.h"

struct bh_docker_watch;

/* A timeline + syslog event (the agent's agent_event). */
typedef void (*bh_docker_log_fn)(void *arg, const char *ns, const char *name,
				 const char *kind, const char *severity, const char *detail);

struct bh_docker_watch_opts {
	const char *socket;		/* Docker's API socket */
	const char *ns;			/* namespace of containers that name none */
	enum bh_mode mode;		/* mode of each new attachment */
	bh_docker_log_fn log;
	void *log_arg;
};

/* The workload label: its value NS/NAME names the workload. */
#define BH_DOCKER_WORKLOAD_LABEL	"bulkhead.io/workload"
/* At most this many containers attached by one agent. */
#define BH_DOCKER_MAX_CONTAINERS	BH_MAX_WORKLOADS

int bh_docker_watch_open(struct bh_ctx *ctx, const struct bh_docker_watch_opts *o,
			 struct bh_docker_watch **out, char *msg, size_t len);
/* Readable when events wait; then call bh_docker_watch_handle. */
int bh_docker_watch_fd(const struct bh_docker_watch *w);
void bh_docker_watch_handle(struct bh_docker_watch *w);
void bh_docker_watch_close(struct bh_docker_watch *w);

#endif /* BULKHEAD_DOCKER_WATCH_H */
