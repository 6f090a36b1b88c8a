// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bulkhead-cni: counting each invocation and its outcome; see cni_count.h. */
#include <stdio.h>
#include <string.h>

#include "bulkhead.h"
#include "cni_count.h"
#include "store.h"

const char *cni_count_command(const char *command)
{
	static const char *const known[] = { "ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION" };

	for (size_t i = 0; command && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(command, known[i]))
			return known[i];
	return "other";
}

static void count_in(sqlite3 *db, const struct cni_run *run, int err)
{
	const char *cmd = cni_count_command(run->env.command);
	char name[64];

	snprintf(name, sizeof(name), "cni.%s.%s", cmd, err ? "error" : "ok");
	bh_store_counter_add(db, name, 1);
	if (err) {
		snprintf(name, sizeof(name), "cni_error.%s.%d", cmd, run->err.code);
		bh_store_counter_add(db, name, 1);
	}
}

void cni_count_into(struct bh_ctx *ctx, struct cni_run *run, int err)
{
	if (!ctx || !bh_ctx_db(ctx) || (err && !run->err.code))
		return;
	count_in(bh_ctx_db(ctx), run, err);
	run->counted = true;
}

void cni_count(const struct cni_run *run, int err)
{
	/* Read-only: a missing store stays missing (a failed call must not
	 * create an instance); an existing one is written as usual. */
	struct bh_ctx_opts opts = {
		.bpffs = run->conf.bpffs[0] ? run->conf.bpffs : NULL,
		.state_dir = run->conf.state_dir[0] ? run->conf.state_dir : NULL,
		.read_only = true,
	};
	struct bh_ctx *ctx = NULL;

	if (run->counted || bh_ctx_open(&opts, &ctx))
		return;
	if (bh_ctx_db(ctx))
		count_in(bh_ctx_db(ctx), run, err);
	bh_ctx_close(ctx);
}
