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
 *   bh_info_cmds   ctl/cmd_info.c   version, help, completion
 * and the help of each in ctl/help_table.c (ctl/help.h).
 * A command returns an exit status (BH_EXIT_*), having printed exactly one
 * message on failure (stderr, "bulkhead: ...").
 */
#ifndef BULKHEAD_CLI_H
#define BULKHEAD_CLI_H

#include <stdbool.h>

#include "bulkhead.h"

/* Output format (-o / --output; ctl/output.c). */
enum bh_output { BH_OUT_TEXT = 0, BH_OUT_WIDE, BH_OUT_JSON, BH_OUT_YAML };

struct bh_cli {
	/* Structured output: -o json|yaml (--json / -j is -o json). A
	 * command that prints text its own way checks this, and otherwise
	 * hands its value to bh_cli_print, which picks JSON or YAML. */
	bool json;
	const char *prog;	/* argv[0] for messages */
	enum bh_output output;
	bool no_headers;	/* --no-headers: tables without their header */
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
extern const struct bh_cli_cmd bh_info_cmds[];	/* version, help, completion */

/* Print "bulkhead: MSG" on stderr; returns status for `return bh_cli_fail(...)`. */
int bh_cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the instance context; on failure prints and returns non-zero status. */
int bh_cli_open(struct bh_cli *cli, bool read_only, struct bh_ctx **ctx);
/* Turn a libbulkhead failure into one message and an exit status. */
int bh_cli_ctx_fail(struct bh_ctx *ctx, int err, const char *what);
/* Split "NS/NAME"; returns BH_EXIT_USER with a message on bad input. */
int bh_cli_split_workload(const char *arg, char *ns, size_t nslen, char *name, size_t namelen);

/* ------------------------------------------------ additions (core)
 * One printing path for text, wide, JSON and YAML (ctl/output.c): a
 * command builds a json-c value and hands it over (ownership passes).
 * -o json|yaml print it as such; text and wide as:
 *   array of objects  -> a table (columns: cols, or the first row's keys;
 *                        wide: cols, then every other key of the rows)
 *   object            -> "key: value" lines; an array member becomes a
 *                        titled table, an object member an indented block
 * cols: NULL-terminated list of "key", "key:HEADER" or "key|alt:HEADER"
 * (the first of key, alt present and not null). */
struct json_object;
int bh_cli_print(struct bh_cli *cli, struct json_object *obj, const char *const *cols);
/* One item of a stream (flows --follow): a JSON line, or a YAML document
 * starting with "---". Does not take obj. 0 or -1 (stdout gone). */
int bh_cli_print_item(struct bh_cli *cli, struct json_object *obj);
/* "text", "wide", "json", "yaml" -> *out; -1 if none of them. */
int bh_cli_output_parse(const char *s, enum bh_output *out);
/* For mutations: -o json|yaml prints obj (or {"result": message} when
 * obj is NULL), text prints the message line. */
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
/* -l SELECTOR (kubectl syntax) into sel; prints the message on error. */
struct bh_selector;
int bh_cli_selector(const char *cmd, const char *arg, struct bh_selector *sel);

#endif /* BULKHEAD_CLI_H */
