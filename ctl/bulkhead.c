// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead OBJECT COMMAND [ARGS]` or `bulkhead VERB [ARGS]`: finds the
 * command in bh_core_cmds and bh_agent_cmds (exact name or unique
 * prefix, like iproute2) and runs it. --json / -j may appear anywhere.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct bh_cli_cmd *const tables[] = { bh_core_cmds, bh_agent_cmds,
						      bh_deliver_cmds };
#define NR_TABLES (sizeof(tables) / sizeof(tables[0]))
#define MAX_WORDS 64

static void usage(FILE *f, const char *object)
{
	fprintf(f, "usage: bulkhead [--json] OBJECT COMMAND [ARGS]\n\n");
	for (size_t t = 0; t < NR_TABLES; t++)
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++)
			if (c->usage && (!object || (c->object && !strcmp(c->object, object))))
				fprintf(f, "  bulkhead %s\n", c->usage);
	if (!object)
		fprintf(f, "\nEvery listing takes --json. Exit status: 0 ok, 1 bad input,"
			   " 2 system error.\nEnvironment: BULKHEAD_BPFFS, BULKHEAD_STATE_DIR,"
			   " BULKHEAD_HOOK. See docs/cli.md.\n");
}

/* Distinct first words: objects and single verbs, in table order. */
static int first_words(const char **words)
{
	int n = 0;

	for (size_t t = 0; t < NR_TABLES; t++) {
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++) {
			const char *w = c->object ? c->object : c->command;
			int i;

			for (i = 0; i < n && strcmp(words[i], w); i++)
				;
			if (i == n && n < MAX_WORDS)
				words[n++] = w;
		}
	}
	words[n] = NULL;
	return n;
}

static const struct bh_cli_cmd *find_verb(const char *w)
{
	for (size_t t = 0; t < NR_TABLES; t++)
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++)
			if (!c->object && !strcmp(c->command, w))
				return c;
	return NULL;
}

static const struct bh_cli_cmd *find_command(const char *object, const char *word, int *status)
{
	const struct bh_cli_cmd *cands[MAX_WORDS];
	const char *names[MAX_WORDS + 1];
	int n = 0, i;

	for (size_t t = 0; t < NR_TABLES; t++)
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++)
			if (c->object && !strcmp(c->object, object) && n < MAX_WORDS) {
				cands[n] = c;
				names[n++] = c->command;
			}
	names[n] = NULL;
	i = bh_cli_match(word, names);
	if (i == -2)
		*status = bh_cli_fail(BH_EXIT_USER, "'%s %s' is ambiguous", object, word);
	else if (i < 0)
		*status = bh_cli_fail(BH_EXIT_USER, "unknown command '%s %s' (see bulkhead help %s)",
				      object, word, object);
	return i >= 0 ? cands[i] : NULL;
}

int main(int argc, char **argv)
{
	const char *words[MAX_WORDS + 1];
	const struct bh_cli_cmd *cmd;
	struct bh_cli cli = { .prog = argv[0] };
	int n = 0, i, status = BH_EXIT_USER;

	/* Strip --json/-j anywhere (before a "--"), keeping the order. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				argv[++n] = argv[i++];
			n--;
			break;
		}
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			cli.json = true;
		else
			argv[++n] = argv[i];
	}
	argc = n + 1;
	argv[argc] = NULL;

	/* A missing word is a user error like any other: one line on
	 * stderr; the usage goes to stdout when asked for. */
	if (argc < 2)
		return bh_cli_fail(BH_EXIT_USER, "missing command: bulkhead [--json] OBJECT COMMAND"
				   " [ARGS] (bulkhead help lists the commands)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout, NULL);
		return BH_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		usage(stdout, argc > 2 ? argv[2] : NULL);
		return BH_EXIT_OK;
	}
	first_words(words);
	i = bh_cli_match(argv[1], words);
	if (i == -2)
		return bh_cli_fail(BH_EXIT_USER, "'%s' is ambiguous (see bulkhead help)", argv[1]);
	if (i < 0)
		return bh_cli_fail(BH_EXIT_USER, "unknown command '%s' (see bulkhead help)", argv[1]);

	cmd = find_verb(words[i]);
	if (cmd)
		return cmd->run(&cli, argc - 2, argv + 2);
	if (argc < 3)
		return bh_cli_fail(BH_EXIT_USER, "%s: missing command (bulkhead help %s lists them)",
				   words[i], words[i]);
	if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "help")) {
		usage(stdout, words[i]);
		return BH_EXIT_OK;
	}
	cmd = find_command(words[i], argv[2], &status);
	if (!cmd)
		return status;
	return cmd->run(&cli, argc - 3, argv + 3);
}
