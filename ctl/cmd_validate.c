// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead policy validate -f FILE|-`: every document of FILE (or of
 * stdin) parsed exactly as `policy apply` parses it, nothing stored,
 * nothing loaded, no state needed. Exit 0 when apply would accept the
 * file, 1 with apply's "FILE:LINE:COL: FIELD: message" when it would not.
 * For CI pipelines and editors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmd_deliver.h"
#include "policy.h"
#include "sync.h"

#define STDIN_MAX (64u << 20)	/* the parser's own file limit */

static int read_stdin(char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *grown;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= STDIN_MAX) {
				free(buf);
				return -E2BIG;
			}
			cap *= 2;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int bh_cmd_policy_validate(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = { { "file", required_argument, 0, 'f' },
					    { "help", no_argument, 0, 'h' }, { 0 } };
	struct bh_policy_error perr = { 0 };
	struct bh_policy_set set = { 0 };
	const char *file = NULL, *name;
	char msg[768];
	struct json_object *arr;
	int c, err;

	while ((c = bh_cli_getopt(argc, argv, "f:h", lo, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: bulkhead policy validate -f FILE|-\n\n"
			       "Parse every document of FILE (- for stdin) as `policy apply` does;\n"
			       "change nothing. Exit 0 if apply would accept it, 1 with\n"
			       "FILE:LINE:COL: FIELD: message if not.\n");
			return BH_EXIT_OK;
		}
		if (c != 'f')
			return bh_cli_fail(BH_EXIT_USER, "policy validate: unknown option '%s'"
					   " (usage: bulkhead policy validate -f FILE|-)",
					   argv[optind - 2]);
		file = optarg;
	}
	if (!file && optind - 1 < argc)
		file = argv[optind++ - 1];
	if (!file)
		return bh_cli_fail(BH_EXIT_USER, "policy validate: -f FILE is required (- for stdin)");
	if (optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "policy validate: unexpected argument '%s'",
				   argv[optind - 1]);
	if (!strcmp(file, "-")) {
		char *buf = NULL;
		size_t len = 0;

		name = "<stdin>";
		err = read_stdin(&buf, &len);
		if (err)
			return bh_cli_fail(err == -E2BIG ? BH_EXIT_USER : BH_EXIT_SYSTEM,
					   "policy validate: cannot read stdin: %s",
					   err == -E2BIG ? "larger than 64 MiB" : strerror(-err));
		err = bh_policy_parse_buf(name, buf, len, &set, &perr);
		free(buf);
	} else {
		name = file;
		err = bh_policy_parse_file(file, &set, &perr);
	}
	if (err)
		return bh_cli_fail(err == -ENOMEM ? BH_EXIT_SYSTEM : BH_EXIT_USER, "%s",
				   bh_policy_error_format(&perr, msg, sizeof(msg)));
	if (set.nr == 0) {
		bh_policy_set_free(&set);
		return bh_cli_fail(BH_EXIT_USER, "%s: no policy in the file", name);
	}
	arr = json_object_new_array();
	for (int i = 0; i < set.nr; i++) {
		const struct bh_policy *p = &set.items[i];
		struct json_object *row = json_object_new_object();

		json_object_object_add(row, "namespace", json_object_new_string(p->ns));
		json_object_object_add(row, "name", json_object_new_string(p->name));
		json_object_object_add(row, "kind",
				       json_object_new_string(bh_policy_kind_name(p->kind)));
		json_object_object_add(row, "line", json_object_new_int(p->line));
		json_object_array_add(arr, row);
		if (!cli->json)
			printf("%s %s%s%s valid (%s:%d)\n", bh_policy_kind_name(p->kind), p->ns,
			       p->ns[0] ? "/" : "", p->name, name, p->line);
	}
	bh_policy_set_free(&set);
	if (cli->json)
		return bh_cli_print(cli, arr, NULL);
	json_object_put(arr);
	return BH_EXIT_OK;
}
