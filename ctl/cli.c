// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The CLI's shared helpers: messages, opening the instance, argument
 * matching. The printing path is ctl/output.c. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "policy.h"
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

int bh_cli_selector(const char *cmd, const char *arg, struct bh_selector *sel)
{
	char err[256];
	int ret = bh_selector_parse_string(arg, sel, err, sizeof(err));

	if (ret == -ENOMEM)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	if (ret)
		return bh_cli_fail(BH_EXIT_USER, "%s: -l: %s", cmd, err);
	return BH_EXIT_OK;
}
