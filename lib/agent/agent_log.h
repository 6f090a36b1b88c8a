/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's own log: one line per event in logfmt (time=... level=...
 * msg=... key=value ...), handed to the front end's write callback
 * (`bulkhead agent` writes it to stderr: lib/ never prints). journald,
 * docker logs and log shippers take logfmt as is and a line never spans
 * two: values with a space, a quote, an "=" or nothing in them are quoted;
 * quotes and backslashes are escaped and control characters written as
 * \n, \t or \xHH, so a name chosen in a container cannot start a line of
 * its own. Lines below the configured level (log.level, --log-level) are
 * not made at all.
 */
#ifndef BULKHEAD_AGENT_LOG_H
#define BULKHEAD_AGENT_LOG_H

#include "agent_config.h"

#define BH_ALOG_LINE_MAX 4096	/* longer lines are cut, still one line */

struct bh_agent_log {
	enum bh_log_level level;
	/* one line, without its newline; NULL: no log */
	void (*write)(void *arg, const char *line);
	void *arg;
};

/* msg, then key/value pairs (strings), ending with NULL. */
void bh_alog(const struct bh_agent_log *l, enum bh_log_level lvl, const char *msg, ...)
	__attribute__((sentinel));
const char *bh_log_level_name(enum bh_log_level l);

#endif /* BULKHEAD_AGENT_LOG_H */
