// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead OBJECT COMMAND [ARGS]` or `bulkhead VERB [ARGS]`: finds the
 * command in the command tables (exact name or unique prefix, like
 * iproute2, except for the commands that destroy state: those need their
 * full name) and runs it. Options every command takes may appear anywhere
 * before "--": -o/--output, --json/-j, --no-headers, --state-dir, --bpffs,
 * -h/--help, --version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "help.h"

static const struct bh_cli_cmd *const tables[] = { bh_core_cmds, bh_agent_cmds, bh_deliver_cmds,
						      bh_info_cmds };
#define NR_TABLES (sizeof(tables) / sizeof(tables[0]))
#define MAX_WORDS 64

/* Never run on a prefix: `bulkhead res` must not reset. */
static const char *const full_name_only[] = { "reset", "delete", "quarantine", "clear", NULL };

static bool needs_full_name(const char *w)
{
	for (int i = 0; full_name_only[i]; i++)
		if (!strcmp(w, full_name_only[i]))
			return true;
	return false;
}

/* Distinct first words (objects and verbs) or the commands of an object. */
static int collect(const char *object, const char **words, const struct bh_cli_cmd **cmds)
{
	int n = 0;

	for (size_t t = 0; t < NR_TABLES; t++) {
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++) {
			const char *w;
			int i;

			if (object && (!c->object || strcmp(c->object, object)))
				continue;
			w = object ? c->command : c->object ? c->object : c->command;
			for (i = 0; i < n && strcmp(words[i], w); i++)
				;
			if (i == n && n < MAX_WORDS) {
				if (cmds)
					cmds[n] = c;
				words[n++] = w;
			}
		}
	}
	words[n] = NULL;
	return n;
}

/* Exact or unique prefix; a destructive word only in full. Returns the
 * index or prints one message and returns -1. */
static int resolve(const char *word, const char *const *words, const char *object)
{
	char what[128];
	int i = bh_cli_match(word, words);

	snprintf(what, sizeof(what), "%s%s%s", object ? object : "", object ? " " : "", word);
	if (i >= 0 && strcmp(word, words[i]) && needs_full_name(words[i])) {
		bh_cli_fail(BH_EXIT_USER, "'%s': %s changes state and takes its full name only"
			    " (bulkhead %s%s%s)", what, words[i], object ? object : "",
			    object ? " " : "", words[i]);
		return -1;
	}
	if (i == -2)
		bh_cli_fail(BH_EXIT_USER, "'%s' is ambiguous (see bulkhead help%s%s)", what,
			    object ? " " : "", object ? object : "");
	else if (i < 0)
		bh_cli_fail(BH_EXIT_USER, "unknown command '%s' (see bulkhead help%s%s)", what,
			    object ? " " : "", object ? object : "");
	return i;
}

static const struct bh_cli_cmd *find_verb(const char *w)
{
	for (size_t t = 0; t < NR_TABLES; t++)
		for (const struct bh_cli_cmd *c = tables[t]; c->command; c++)
			if (!c->object && !strcmp(c->command, w))
				return c;
	return NULL;
}

/* `bulkhead help [WORDS]`: resolved like a command line, an unknown
 * topic is an error. */
static int help(struct bh_cli *cli, int argc, char **argv)
{
	const char *words[MAX_WORDS + 1], *object;
	const struct bh_help *h;
	int i;

	if (argc == 0) {
		if (cli->json) {
			/* commands of the tables without a help entry: a test
			 * (tests/netns/test_cli_help.sh) wants this empty */
			struct json_object *j = bh_help_json(), *u = json_object_new_array();

			for (size_t t = 0; t < NR_TABLES; t++)
				for (const struct bh_cli_cmd *c = tables[t]; c->command; c++)
					if (!bh_help_find(c->object, c->command))
						json_object_array_add(u, json_object_new_string(
							c->object ? c->object : c->command));
			json_object_object_add(j, "undocumented", u);
			return bh_cli_print(cli, j, NULL);
		}
		bh_help_print_usage(stdout);
		return BH_EXIT_OK;
	}
	if (argc > 2)
		return bh_cli_fail(BH_EXIT_USER, "help: too many words (bulkhead help [OBJECT"
				   " [COMMAND]])");
	collect(NULL, words, NULL);
	/* help names the command, it does not run it: prefixes are fine */
	i = bh_cli_match(argv[0], words);
	if (i < 0)
		return bh_cli_fail(BH_EXIT_USER, "help: no such command '%s'%s (bulkhead help lists"
				   " them)", argv[0], i == -2 ? " (ambiguous)" : "");
	object = words[i];
	if (find_verb(object)) {
		if (argc > 1)
			return bh_cli_fail(BH_EXIT_USER, "help: %s takes no sub-command, got '%s'",
					   object, argv[1]);
		h = bh_help_find(NULL, object);
	} else if (argc == 1) {
		bh_help_print_object(stdout, object);
		return BH_EXIT_OK;
	} else {
		collect(object, words, NULL);
		i = bh_cli_match(argv[1], words);
		if (i < 0)
			return bh_cli_fail(BH_EXIT_USER, "help: no such command '%s %s'%s", object,
					   argv[1], i == -2 ? " (ambiguous)" : "");
		h = bh_help_find(object, words[i]);
	}
	if (!h)
		return bh_cli_fail(BH_EXIT_SYSTEM, "help: no help entry for '%s'", argv[0]);
	bh_help_print_command(stdout, h);
	return BH_EXIT_OK;
}

/* Value of a global option: "--opt VALUE", "--opt=VALUE" or "-oVALUE". */
static int global_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
			const char **val)
{
	size_t n = strlen(lng);
	const char *a = argv[*i];

	if (!strncmp(a, lng, n) && a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (shrt && !strncmp(a, shrt, 2) && a[2]) {
		*val = a + 2;
		return 1;
	}
	if (strcmp(a, lng) && (!shrt || strcmp(a, shrt)))
		return 0;
	if (*i + 1 >= argc) {
		bh_cli_fail(BH_EXIT_USER, "%s needs a value", lng);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	const char *words[MAX_WORDS + 1], *val;
	const struct bh_cli_cmd *cmds[MAX_WORDS], *cmd;
	struct bh_cli cli = { .prog = argv[0] };
	bool want_help = false, want_version = false;
	int n = 0, i, r;

	/* Take the global options out, anywhere before "--", keeping the
	 * order of the rest. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[++n] = argv[i++];
			break;
		}
		if (!strcmp(a, "--json") || !strcmp(a, "-j")) {
			cli.output = BH_OUT_JSON;
		} else if (!strcmp(a, "--no-headers")) {
			cli.no_headers = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			want_help = true;
		} else if (!strcmp(a, "--version")) {
			want_version = true;
		} else if ((r = global_value(argc, argv, &i, "--output", "-o", &val))) {
			if (r < 0)
				return BH_EXIT_USER;
			if (bh_cli_output_parse(val, &cli.output))
				return bh_cli_fail(BH_EXIT_USER, "-o: expected text, wide, json or"
						   " yaml, got '%s'", val);
		} else if ((r = global_value(argc, argv, &i, "--state-dir", NULL, &val))) {
			if (r < 0 || !*val)
				return r < 0 ? BH_EXIT_USER
					     : bh_cli_fail(BH_EXIT_USER, "--state-dir: empty path");
			setenv("BULKHEAD_STATE_DIR", val, 1);
		} else if ((r = global_value(argc, argv, &i, "--bpffs", NULL, &val))) {
			if (r < 0 || !*val)
				return r < 0 ? BH_EXIT_USER
					     : bh_cli_fail(BH_EXIT_USER, "--bpffs: empty path");
			setenv("BULKHEAD_BPFFS", val, 1);
		} else {
			argv[++n] = argv[i];
		}
	}
	argc = n + 1;
	argv[argc] = NULL;
	cli.json = cli.output == BH_OUT_JSON || cli.output == BH_OUT_YAML;

	if (want_version && argc < 2)
		return find_verb("version")->run(&cli, 0, argv + argc);
	/* A missing word is a user error like any other: one line on
	 * stderr; the usage goes to stdout when asked for. */
	if (argc < 2) {
		if (want_help)
			return help(&cli, 0, argv + argc);
		return bh_cli_fail(BH_EXIT_USER, "missing command: bulkhead [OPTIONS] OBJECT COMMAND"
				   " [ARGS] (bulkhead help lists the commands)");
	}
	if (!strcmp(argv[1], "help")) {
		if (want_help) {	/* bulkhead help --help */
			bh_help_print_command(stdout, bh_help_find(NULL, "help"));
			return BH_EXIT_OK;
		}
		return help(&cli, argc - 2, argv + 2);
	}

	collect(NULL, words, NULL);
	i = resolve(argv[1], words, NULL);
	if (i < 0)
		return BH_EXIT_USER;
	if (!strcmp(words[i], "help") && !want_help)
		return help(&cli, argc - 2, argv + 2);
	cmd = find_verb(words[i]);
	if (cmd) {
		if (want_help) {
			const struct bh_help *h = bh_help_find(NULL, cmd->command);

			if (!h)
				return bh_cli_fail(BH_EXIT_SYSTEM, "no help entry for '%s'",
						   cmd->command);
			bh_help_print_command(stdout, h);
			return BH_EXIT_OK;
		}
		return cmd->run(&cli, argc - 2, argv + 2);
	}
	{
		const char *object = words[i];

		if (argc < 3 || want_help) {
			if (argc < 3 && !want_help)
				return bh_cli_fail(BH_EXIT_USER, "%s: missing command (bulkhead help %s"
						   " lists them)", object, object);
			if (argc < 3) {
				bh_help_print_object(stdout, object);
				return BH_EXIT_OK;
			}
		}
		collect(object, words, cmds);
		i = resolve(argv[2], words, object);
		if (i < 0)
			return BH_EXIT_USER;
		cmd = cmds[i];
		if (want_help) {
			const struct bh_help *h = bh_help_find(object, cmd->command);

			if (!h)
				return bh_cli_fail(BH_EXIT_SYSTEM, "no help entry for '%s %s'", object,
						   cmd->command);
			bh_help_print_command(stdout, h);
			return BH_EXIT_OK;
		}
		return cmd->run(&cli, argc - 3, argv + 3);
	}
}
