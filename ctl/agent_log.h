/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's own log: one line per event on stderr, in logfmt
 * (time=... level=... msg=... key=value ...), so journald, docker logs and
 * log shippers take it as is and a line never spans two. Values with a
 * space, a quote, an "=" or nothing in them are quoted; quotes and
 * backslashes are escaped and control characters written as \n, \t or
 * \xHH, so a name chosen in a container cannot start a line of its own.
 * Lines below the configured level (log.level, --log-level) are skipped.
 */
#ifndef BULKHEAD_AGENT_LOG_H
#define BULKHEAD_AGENT_LOG_H

#include <stdio.h>

#include "agent_config.h"

struct bh_agent_log {
	enum bh_log_level level;
	FILE *f;			/* stderr */
};

/* msg, then key/value pairs (strings), ending with NULL. */
void bh_alog(const struct bh_agent_log *l, enum bh_log_level lvl, const char *msg, ...)
	__attribute__((sentinel));
const char *bh_log_level_name(enum bh_log_level l);

#endif /* BULKHEAD_AGENT_LOG_H */
