/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The `bulkhead` command line: `bulkhead OBJECT COMMAND [ARGS]` (or a
 * single verb such as `attach`). Commands live in tables, one per file of
 * concern, and ctl/bulkhead.c dispatches over all of them:
 *   bh_core_cmds   ctl/cmd_core.c   attach, detach, namespace, workload,
 *                                   policy apply/delete/list, mode,
 *                                   quarantine, release, stats, reset
 *   bh_agent_cmds  ctl/cmd_agent.c  agent, flows, baseline, timeline,
 *                                   capture, map, policy test
 * A command returns an exit status (BH_EXIT_*), having printed exactly one
 * message on failure (stderr, "bulkhead: ...").
 */
#ifndef BULKHEAD_CLI_H
#define BULKHEAD_CLI_H

#include <stdbool.h>

#include "bulkhead.h"

struct bh_cli {
	bool json;		/* --json / -j anywhere on the line */
	const char *prog;	/* argv[0] for messages */
};

struct bh_cli_cmd {
	const char *object;	/* "policy", or NULL for a single verb */
	const char *command;	/* "apply", or the verb ("attach") */
	int (*run)(struct bh_cli *cli, int argc, char **argv);	/* argv after the command */
	const char *usage;
};

extern const struct bh_cli_cmd bh_core_cmds[];	/* terminated by {0} */
extern const struct bh_cli_cmd bh_agent_cmds[];	/* terminated by {0} */

/* Print "bulkhead: MSG" on stderr; returns status for `return bh_cli_fail(...)`. */
int bh_cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the instance context; on failure prints and returns non-zero status. */
int bh_cli_open(struct bh_cli *cli, bool read_only, struct bh_ctx **ctx);
/* Turn a libbulkhead failure into one message and an exit status. */
int bh_cli_ctx_fail(struct bh_ctx *ctx, int err, const char *what);
/* Split "NS/NAME"; returns BH_EXIT_USER with a message on bad input. */
int bh_cli_split_workload(const char *arg, char *ns, size_t nslen, char *name, size_t namelen);

#endif /* BULKHEAD_CLI_H */
