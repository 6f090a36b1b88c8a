/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Help of every command, in one table (ctl/help_table.c): usage, a summary,
 * options and an example per command. `bulkhead help [OBJECT [COMMAND]]`,
 * `bulkhead CMD --help`, `bulkhead help -o json`, the bash and zsh
 * completion (`bulkhead completion bash|zsh`) and the man page
 * (`bulkhead completion man`, installed as bulkhead(8)) are all printed
 * from it, so a command added with its help entry shows up everywhere.
 *
 * Adding a command: one line in its bh_cli_cmd table (the code) and one
 * entry in bh_help_table (the words). tests/netns/test_cli_help.sh fails
 * when a command has no help entry or an entry names no command.
 */
#ifndef BULKHEAD_HELP_H
#define BULKHEAD_HELP_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

struct bh_help_opt {
	/* "-f, --file FILE", "--ip IP", "-w, --follow": dashes are option
	 * names (for completion), a following word is the argument */
	const char *flags;
	const char *text;
};

#define BH_HELP_MAX_OPTS 24

struct bh_help {
	const char *object;	/* "policy", or NULL for a verb */
	const char *command;	/* "apply", or the verb */
	const char *args;	/* after the command words: "-f FILE|-" */
	const char *summary;	/* one line, no final period */
	struct bh_help_opt opts[BH_HELP_MAX_OPTS];	/* until .flags == NULL */
	const char *example;	/* one or more lines, without "$ " */
	const char *details;	/* optional paragraph(s) */
	bool hidden;		/* not listed (debug commands) */
};

extern const struct bh_help bh_help_table[];	/* terminated by { 0 } */
/* Options every command takes, printed once by `bulkhead --help`. */
extern const struct bh_help_opt bh_help_global_opts[];

const struct bh_help *bh_help_find(const char *object, const char *command);
/* `bulkhead help ...` / `--help`: words after "help" (already resolved
 * to full names by the dispatcher). */
void bh_help_print_usage(FILE *f);
void bh_help_print_object(FILE *f, const char *object);
void bh_help_print_command(FILE *f, const struct bh_help *h);
/* The table as one JSON value (for `help -o json|yaml`). */
struct json_object *bh_help_json(void);

/* ctl/completion.c: `bulkhead completion bash|zsh|man`. */
int bh_cmd_completion(struct bh_cli *cli, int argc, char **argv);

#endif /* BULKHEAD_HELP_H */
