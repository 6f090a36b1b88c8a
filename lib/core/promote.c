// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Moving pods' TC programs from clsact, where they go at birth, to tcx
 * (bulkhead.h: bh_workload_promote_hooks; attach.h: bh_attach_promote). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>

#include "attach.h"
#include "ctx_int.h"
#include "tc_clsact.h"

struct promote {
	struct bh_ctx *ctx;
	bool any;		/* a workload of ours sits on clsact */
	int moved, err;
};

/* Without the lock: a filter at our clsact handle and priority is ours
 * alone (tc_clsact.h), so this asks the kernel and nothing else. */
static int find_clsact(const struct bh_workload_info *w, void *arg)
{
	struct promote *p = arg;

	p->any = bh_clsact_prog_id(w->ifindex, false) ||
		 (w->hook == BH_HOOK_TC && bh_clsact_prog_id(w->ifindex, true));
	return p->any;		/* one is enough to take the lock */
}

static int promote_one(const struct bh_workload_info *w, void *arg)
{
	struct promote *p = arg;
	bool moved;
	int err = bh_attach_promote(p->ctx, w->ifindex, &moved);

	if (err && !p->err)
		p->err = err;	/* the others are still moved; the first error is said */
	p->moved += moved;
	return 0;
}

int bh_workload_promote_hooks(struct bh_ctx *ctx, int *moved)
{
	struct promote p = { .ctx = ctx };
	enum bh_tc_attach mode;
	char pin[PATH_MAX];
	int err;

	*moved = 0;
	if (!ctx->db)
		return 0;	/* no state: nothing attached */
	err = bh_tc_attach_mode(ctx, &mode);
	if (err || mode != BH_TC_ATTACH_TCX)
		return err;
	err = bh_workload_foreach(ctx, find_clsact, &p);
	if (err < 0 || !p.any)
		return err < 0 ? err : 0;
	if ((err = bh_ctx_lock(ctx)))
		return err;
	/* an instance reset meanwhile is not created again by the load */
	err = bh_pin_path(ctx, bh_map_names[BH_M_WORKLOADS], pin, sizeof(pin));
	if (!err && !access(pin, F_OK) && !(err = bh_ctx_load(ctx)))
		err = bh_workload_foreach(ctx, promote_one, &p);
	bh_ctx_unlock(ctx);
	*moved = p.moved;
	return err < 0 ? err : p.err;
}
