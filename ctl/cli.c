// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The CLI's shared helpers: messages, opening the instance, argument
 * matching, and the one printing path for text and --json. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "sync.h"

int bh_cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("bulkhead: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int bh_cli_open(struct bh_cli *cli, bool read_only, struct bh_ctx **ctx)
{
	struct bh_ctx_opts opts = { .read_only = read_only };
	int err;

	(void)cli;
	err = bh_ctx_open(&opts, ctx);
	if (err)
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot open the bulkhead state (%s): %s",
				   getenv("BULKHEAD_STATE_DIR") ? getenv("BULKHEAD_STATE_DIR")
								 : BH_DEFAULT_STATE_DIR,
				   strerror(-err));
	return BH_EXIT_OK;
}

int bh_cli_ctx_fail(struct bh_ctx *ctx, int err, const char *what)
{
	const char *msg = bh_ctx_error(ctx);
	int status = bh_ctx_error_is_user(ctx) ? BH_EXIT_USER : BH_EXIT_SYSTEM;

	if (msg && msg[0])
		return bh_cli_fail(status, "%s", msg);
	return bh_cli_fail(BH_EXIT_SYSTEM, "%s: %s", what, strerror(err < 0 ? -err : err));
}

int bh_cli_split_workload(const char *arg, char *ns, size_t nslen, char *name, size_t namelen)
{
	const char *slash = arg ? strchr(arg, '/') : NULL;

	if (!slash || slash == arg || !slash[1] || strchr(slash + 1, '/'))
		return bh_cli_fail(BH_EXIT_USER, "expected NAMESPACE/NAME, got '%s'",
				   arg ? arg : "");
	if ((size_t)(slash - arg) >= nslen || strlen(slash + 1) >= namelen)
		return bh_cli_fail(BH_EXIT_USER, "name too long: '%s'", arg);
	memcpy(ns, arg, slash - arg);
	ns[slash - arg] = '\0';
	strcpy(name, slash + 1);
	return BH_EXIT_OK;
}

int bh_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  int *optidx)
{
	/* The dispatcher hands argv after the command word, so argv[-1] (the
	 * command) serves as getopt's argv[0]; optind - 1 then indexes the
	 * command's own argv. opterr=0: we print the one message. */
	opterr = 0;
	return getopt_long(argc + 1, argv - 1, shortopts, longopts, optidx);
}

int bh_cli_match(const char *word, const char *const *choices)
{
	size_t n = strlen(word);
	int found = -1;

	for (int i = 0; choices[i]; i++)
		if (!strcmp(word, choices[i]))
			return i;
	for (int i = 0; n && choices[i]; i++) {
		if (strncmp(word, choices[i], n))
			continue;
		if (found >= 0)
			return -2;
		found = i;
	}
	return found;
}

/* ---------------------------------------------------------------- output */
static void scalar_text(struct json_object *v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	switch (json_object_get_type(v)) {
	case json_type_null:
		snprintf(buf, len, "-");
		break;
	case json_type_string:
		snprintf(buf, len, "%s", json_object_get_string(v));
		break;
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_boolean(v) ? "yes" : "no");
		break;
	case json_type_array:
		/* a list of scalars: comma separated */
		for (size_t i = 0; i < json_object_array_length(v) && off < len; i++) {
			char item[256];

			scalar_text(json_object_array_get_idx(v, i), item, sizeof(item));
			off += snprintf(buf + off, len - off, "%s%s", i ? "," : "", item);
		}
		if (!json_object_array_length(v))
			snprintf(buf, len, "-");
		break;
	case json_type_object: {
		/* labels and the like: k=v,k=v */
		json_object_object_foreach(v, k, val) {
			char item[256];

			if (off >= len)
				break;
			scalar_text(val, item, sizeof(item));
			off += snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "", k, item);
		}
		if (!off)
			snprintf(buf, len, "-");
		break;
	}
	default:
		snprintf(buf, len, "%s", json_object_get_string(v));
	}
}

static int ncols(const char *const *cols)
{
	int n = 0;

	while (cols && cols[n])
		n++;
	return n;
}

static void col_key(const char *col, char *key, size_t len)
{
	const char *c = strchr(col, ':');
	size_t n = c ? (size_t)(c - col) : strlen(col);

	snprintf(key, len, "%.*s", (int)n, col);
}

static void col_header(const char *col, char *hdr, size_t len)
{
	const char *c = strchr(col, ':');

	if (c) {
		snprintf(hdr, len, "%s", c + 1);
		return;
	}
	snprintf(hdr, len, "%s", col);
	for (char *p = hdr; *p; p++)
		*p = *p == '_' ? ' ' : toupper((unsigned char)*p);
}

#define MAX_COLS 24

static void print_table(struct json_object *arr, const char *const *cols, const char *indent)
{
	const char *auto_cols[MAX_COLS + 1] = { 0 };
	size_t rows = json_object_array_length(arr);
	int nc, width[MAX_COLS] = { 0 };
	char key[64], hdr[64], cell[512];

	if (!cols) {
		struct json_object *first = rows ? json_object_array_get_idx(arr, 0) : NULL;
		int n = 0;

		if (first && json_object_is_type(first, json_type_object)) {
			json_object_object_foreach(first, k, v) {
				(void)v;
				if (n < MAX_COLS)
					auto_cols[n++] = k;
			}
		}
		cols = auto_cols;
	}
	nc = ncols(cols);
	if (nc > MAX_COLS)
		nc = MAX_COLS;
	if (!rows) {
		printf("%s(none)\n", indent);
		return;
	}
	for (int c = 0; c < nc; c++) {
		col_header(cols[c], hdr, sizeof(hdr));
		width[c] = strlen(hdr);
		col_key(cols[c], key, sizeof(key));
		for (size_t r = 0; r < rows; r++) {
			struct json_object *v = NULL;

			json_object_object_get_ex(json_object_array_get_idx(arr, r), key, &v);
			scalar_text(v, cell, sizeof(cell));
			if ((int)strlen(cell) > width[c])
				width[c] = strlen(cell);
		}
	}
	fputs(indent, stdout);
	for (int c = 0; c < nc; c++) {
		col_header(cols[c], hdr, sizeof(hdr));
		printf("%-*s%s", c == nc - 1 ? 0 : width[c], hdr, c == nc - 1 ? "\n" : "  ");
	}
	for (size_t r = 0; r < rows; r++) {
		fputs(indent, stdout);
		for (int c = 0; c < nc; c++) {
			struct json_object *v = NULL;

			col_key(cols[c], key, sizeof(key));
			json_object_object_get_ex(json_object_array_get_idx(arr, r), key, &v);
			scalar_text(v, cell, sizeof(cell));
			printf("%-*s%s", c == nc - 1 ? 0 : width[c], cell, c == nc - 1 ? "\n" : "  ");
		}
	}
}

static bool is_table(struct json_object *v)
{
	return json_object_is_type(v, json_type_array) &&
	       (json_object_array_length(v) == 0 ||
		json_object_is_type(json_object_array_get_idx(v, 0), json_type_object));
}

static void print_object(struct json_object *obj, const char *const *cols, int depth)
{
	char cell[1024], indent[16];
	bool first = true;

	snprintf(indent, sizeof(indent), "%*s", depth * 2, "");
	json_object_object_foreach(obj, k, v) {
		if (is_table(v)) {
			printf("%s%s%s:\n", first ? "" : "\n", indent, k);
			print_table(v, cols, indent);
		} else if (json_object_is_type(v, json_type_object) && depth < 3) {
			printf("%s%s:\n", indent, k);
			print_object(v, NULL, depth + 1);
		} else {
			scalar_text(v, cell, sizeof(cell));
			printf("%s%s: %s\n", indent, k, cell);
		}
		first = false;
	}
}

int bh_cli_print(struct bh_cli *cli, struct json_object *obj, const char *const *cols)
{
	if (!obj)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (is_table(obj))
		print_table(obj, cols, "");
	else if (json_object_is_type(obj, json_type_object))
		print_object(obj, cols, 0);
	else
		printf("%s\n", json_object_get_string(obj));
	json_object_put(obj);
	return fflush(stdout) == 0 ? BH_EXIT_OK : BH_EXIT_SYSTEM;
}

int bh_cli_done(struct bh_cli *cli, struct json_object *obj, const char *fmt, ...)
{
	va_list ap;

	if (cli->json)
		return bh_cli_print(cli, obj, NULL);
	json_object_put(obj);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return fflush(stdout) == 0 ? BH_EXIT_OK : BH_EXIT_SYSTEM;
}
