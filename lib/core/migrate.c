// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The table of older map layouts and the runner over it (migrate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "ctx_int.h"
#include "migrate.h"

/*
 * Every older pinned name a release used, newest layouts first. A layout
 * change adds its row here: the name it retires, the map of this build
 * that succeeds it, and the converter.
 */
static const struct bh_map_migration table[] = {
	/* conntrack value 64 -> 88 bytes (TCP sequence tracking), same keys */
	{ "bh_ct_v2", BH_MAP_CT, BH_MIGRATE_BEFORE | BH_MIGRATE_AFTER, bh_migrate_ct_v2, true },
	{ "bh_ct4_v1", BH_MAP_CT4, BH_MIGRATE_BEFORE | BH_MIGRATE_AFTER, bh_migrate_ct_v2, true },
	/* 22 (v2) or 18 (v1) reasons per slot, no direction -> this build's
	 * rows: counters added once, after the old programs stopped counting */
	{ "bh_stats_v2", BH_MAP_STATS, BH_MIGRATE_AFTER, bh_migrate_stats_v2, false },
	{ "bh_stats_v1", BH_MAP_STATS, BH_MIGRATE_AFTER, bh_migrate_stats_v1, false },
	/* keyed by workload slot: no interface to key the entries by, so
	 * connections of such a release are not carried (they are judged
	 * again as new flows, and a mid-stream TCP packet is dropped) */
	{ "bh_ct_v1", BH_MAP_CT, 0, NULL, true },
	{ "bh_deny_rl_v1", BH_MAP_DENY_RL, 0, NULL, false },	/* rate-limit state: refills */
	{ "bh_rule_stats_v1", BH_MAP_RULE_STATS, 0, NULL, false },	/* other rule ids */
};

/* Migrated conntrack entries count toward their workload's share: the
 * new programs count only what they insert (bh_share_v1.ct_created), the
 * base adds what was there before (l2id.c recounts it later). */
static int add_ct_base(struct bh_ctx *ctx, const __u32 *slot_entries)
{
	int fd = bh_map_fd(ctx, BH_MAP_CT_BASE);

	if (fd < 0)
		return fd;
	for (__u32 s = 0; s < BH_MAX_WORKLOADS; s++) {
		__s64 base = 0;

		if (!slot_entries[s])
			continue;
		if (bpf_map_lookup_elem(fd, &s, &base))
			base = 0;
		base += slot_entries[s];
		if (bpf_map_update_elem(fd, &s, &base, BPF_ANY))
			return bh_err(ctx, -errno, false,
				      "cannot count migrated conntrack entries of slot %u: %m", s);
	}
	return 0;
}

static void note_name(struct bh_migrate_result *res, const struct bh_map_migration *m)
{
	size_t n = strlen(res->names);

	snprintf(res->names + n, sizeof(res->names) - n, "%s%s->%s%s", n ? ", " : "", m->from,
		 m->to, m->convert ? "" : " (not carried)");
}

int bh_migrate_run(struct bh_ctx *ctx, enum bh_migrate_phase phase,
		   struct bh_migrate_result *res)
{
	struct bh_migrate_count *c = calloc(1, sizeof(*c));
	int err = 0;

	if (!c)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && !err; i++) {
		const struct bh_map_migration *m = &table[i];
		int from, to;

		if (!strcmp(m->from, m->to))
			continue;	/* a row this build's names caught up with */
		from = bh_pin_get(ctx, m->from);
		if (from < 0)
			continue;	/* that release's map is not here */
		if (phase == BH_MIGRATE_BEFORE) {
			res->maps++;
			note_name(res, m);
		}
		if (!m->convert || !(m->phases & phase)) {
			close(from);
			continue;
		}
		to = bh_map_fd(ctx, m->to);	/* owned by the context */
		if (to < 0) {
			close(from);
			err = to;
			break;
		}
		memset(c, 0, sizeof(*c));
		err = m->convert(ctx, from, to, phase, c);
		close(from);
		if (err) {
			char why[sizeof(ctx->err)];

			snprintf(why, sizeof(why), "%s", ctx->err[0] ? ctx->err : strerror(-err));
			bh_err(ctx, err, false, "cannot carry %s into %s: %s", m->from, m->to, why);
			break;
		}
		if (phase == BH_MIGRATE_BEFORE || !(m->phases & BH_MIGRATE_BEFORE))
			res->carried++;
		if (m->is_ct) {
			res->ct_copied += c->copied;
			res->ct_merged += c->merged;
			res->ct_skipped += c->skipped;
			err = add_ct_base(ctx, c->slot_entries);
		} else {
			res->stats_carried += c->copied;
		}
	}
	free(c);
	return err;
}

int bh_migrate_unpin_old(struct bh_ctx *ctx, struct bh_migrate_result *res)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char path[PATH_MAX];

		if (!strcmp(table[i].from, table[i].to) ||
		    bh_pin_path(ctx, table[i].from, path, sizeof(path)))
			continue;
		if (unlink(path) == 0)
			res->unpinned++;
		else if (errno != ENOENT)
			return bh_err(ctx, -errno, false, "cannot remove the old pin %s: %m", path);
	}
	return 0;
}
