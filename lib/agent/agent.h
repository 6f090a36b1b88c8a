/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bulkhead agent`: one long-running process per node. Consumes flow
 * records from the pinned ring buffer (epoll), aggregates them into flows,
 * stores them in batches, exports records and events (syslog, JSON lines),
 * learns baselines, reports deviations and applies the automatic
 * quarantine rules. docs/agent.md describes the behaviour and the config.
 */
#ifndef BULKHEAD_AGENT_H
#define BULKHEAD_AGENT_H

#include "agent_config.h"
#include "bulkhead.h"

/* What the front end gives the agent beyond its config. */
struct bh_agent_hooks {
	const char *version;		/* in build_info, CEF, the start line */
	/* the agent's log lines (lib/agent/agent_log.h); NULL: none */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

/* Runs until SIGINT/SIGTERM. Returns 0 on a clean stop, else a negative
 * errno with a message in msg. hooks may be NULL. */
int bh_agent_run(struct bh_ctx *ctx, const struct bh_agent_config *cfg,
		 const struct bh_agent_hooks *hooks, char *msg, size_t len);

#endif /* BULKHEAD_AGENT_H */
