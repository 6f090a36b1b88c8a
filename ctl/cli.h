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
/* doctor, policy validate, webhook, upgrade (ctl/cmd_doctor.c and others) */
extern const struct bh_cli_cmd bh_deliver_cmds[];

/* Print "bulkhead: MSG" on stderr; returns status for `return bh_cli_fail(...)`. */
int bh_cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the instance context; on failure prints and returns non-zero status. */
int bh_cli_open(struct bh_cli *cli, bool read_only, struct bh_ctx **ctx);
/* Turn a libbulkhead failure into one message and an exit status. */
int bh_cli_ctx_fail(struct bh_ctx *ctx, int err, const char *what);
/* Split "NS/NAME"; returns BH_EXIT_USER with a message on bad input. */
int bh_cli_split_workload(const char *arg, char *ns, size_t nslen, char *name, size_t namelen);

/* ------------------------------------------------ additions (core)
 * One printing path for text and --json: a command builds a json-c value
 * and hands it over (ownership passes). With --json it is printed as
 * JSON; otherwise as text:
 *   array of objects  -> a table (columns: cols, or the first row's keys)
 *   object            -> "key: value" lines; an array member becomes a
 *                        titled table, an object member an indented block
 * cols: NULL-terminated list of "key" or "key:HEADER". */
struct json_object;
int bh_cli_print(struct bh_cli *cli, struct json_object *obj, const char *const *cols);
/* For mutations: --json prints obj, text prints the message line. */
int bh_cli_done(struct bh_cli *cli, struct json_object *obj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* getopt_long over a command's argv (argv[0] is the first argument). */
struct option;
int bh_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  int *optidx);
/* Index of word among choices (exact, else unique prefix); -1 none,
 * -2 ambiguous. */
int bh_cli_match(const char *word, const char *const *choices);

/* Print `bulkhead doctor`'s findings for ctx's instance on f: what a
 * front end that cannot load shows before it gives up. */
#include <stdio.h>
void bh_cli_doctor_explain(struct bh_ctx *ctx, FILE *f);

#endif /* BULKHEAD_CLI_H */
