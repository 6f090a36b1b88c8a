// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Replacing the running programs in place (upgrade.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "attach.h"
#include "l2id.h"
#include "migrate.h"
#include "services.h"
#include "store.h"
#include "ctx_int.h"
#include "sync.h"
#include "tc_clsact.h"
#include "upgrade.h"

#define STAGED "_new"	/* bpffs refuses names with a dot */

/* One hook of one interface, as found before the switch. */
struct hook_site {
	__u32 ifindex;
	enum { SITE_TCX, SITE_CLSACT, SITE_XDP } kind;
	int tcx_type;		/* BH_TCX_INGRESS/EGRESS */
	bool host_ingress;	/* clsact direction */
	int prog;		/* BH_P_* */
};

static int tcx_has(__u32 ifindex, int type, __u32 id)
{
	__u32 ids[64], cnt = 64, flags = 0;

	if (bpf_prog_query(ifindex, type, 0, &flags, ids, &cnt))
		return 0;
	for (__u32 i = 0; i < cnt; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static __u32 xdp_id(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query((int)ifindex, 0, &q))
		return 0;
	return q.prog_id;
}

/* Every hook on every interface that runs one of the old programs. */
static int find_sites(struct bh_ctx *ctx, struct hook_site *s, int max, int *nr)
{
	struct if_nameindex *ifs = if_nameindex(), *i;

	*nr = 0;
	if (!ifs)
		return bh_err(ctx, -errno, false, "cannot list interfaces: %m");
	for (i = ifs; i->if_index && *nr < max - 4; i++) {
		__u32 ix = i->if_index;
		__u32 eg = ctx->prog_ids[BH_P_TC_EGRESS], in = ctx->prog_ids[BH_P_TC_INGRESS];

		if (tcx_has(ix, BH_TCX_INGRESS, eg))
			s[(*nr)++] = (struct hook_site){ ix, SITE_TCX, BH_TCX_INGRESS, true,
							 BH_P_TC_EGRESS };
		if (tcx_has(ix, BH_TCX_EGRESS, in))
			s[(*nr)++] = (struct hook_site){ ix, SITE_TCX, BH_TCX_EGRESS, false,
							 BH_P_TC_INGRESS };
		if (eg && bh_clsact_prog_id(ix, true) == eg)
			s[(*nr)++] = (struct hook_site){ ix, SITE_CLSACT, 0, true, BH_P_TC_EGRESS };
		if (in && bh_clsact_prog_id(ix, false) == in)
			s[(*nr)++] = (struct hook_site){ ix, SITE_CLSACT, 0, false, BH_P_TC_INGRESS };
		if (ctx->prog_ids[BH_P_XDP] && xdp_id(ix) == ctx->prog_ids[BH_P_XDP])
			s[(*nr)++] = (struct hook_site){ ix, SITE_XDP, 0, true, BH_P_XDP };
	}
	if_freenameindex(ifs);
	return 0;
}

/* One kernel call per hook: from_fd's program is replaced by to_fd's. */
static int switch_site(struct bh_ctx *ctx, const struct hook_site *s, int from_fd, int to_fd)
{
	int err;

	switch (s->kind) {
	case SITE_TCX: {
		LIBBPF_OPTS(bpf_prog_attach_opts, o, .flags = BPF_F_REPLACE,
			    .replace_prog_fd = from_fd);

		err = bpf_prog_attach_opts(to_fd, (int)s->ifindex, s->tcx_type, &o) ? -errno : 0;
		break;
	}
	case SITE_CLSACT:
		err = bh_clsact_attach(ctx, s->ifindex, s->host_ingress, to_fd);
		break;
	default: {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = from_fd);

		err = bpf_xdp_attach((int)s->ifindex, to_fd,
				     XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &o);
		break;
	}
	}
	if (err)
		return bh_err(ctx, err, false, "cannot replace the program on ifindex %u: %s",
			      s->ifindex, strerror(-err));
	return 0;
}

static int open_pin(struct bh_ctx *ctx, const char *name, const char *suffix, __u32 *id)
{
	char n[128], path[PATH_MAX];
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	snprintf(n, sizeof(n), "%s%s", name, suffix);
	if (bh_pin_path(ctx, n, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -errno;
	}
	*id = info.id;
	return fd;
}

static void unpin_staged(struct bh_ctx *ctx)
{
	char n[128], path[PATH_MAX];

	for (int p = 0; p < BH_P_MAX; p++) {
		snprintf(n, sizeof(n), "%s%s", bh_prog_pins[p], STAGED);
		if (!bh_pin_path(ctx, n, path, sizeof(path)))
			unlink(path);
	}
}

static bool pinned(struct bh_ctx *ctx, const char *name)
{
	char path[PATH_MAX];

	return !bh_pin_path(ctx, name, path, sizeof(path)) && access(path, F_OK) == 0;
}

/* The running programs, without asking for this build's maps: an older
 * release pinned other names, which the staged load adds. Nothing
 * running: the first load (nothing to switch). */
static int open_running(struct bh_ctx *ctx)
{
	bool all = true;

	for (int p = 0; p < BH_P_MAX; p++)
		all &= pinned(ctx, bh_prog_pins[p]);
	if (!all)
		return bh_ctx_load(ctx);
	bh_loader_open_pinned(ctx);
	for (int p = 0; p < BH_P_MAX; p++)
		if (ctx->prog_fds[p] < 0 || !ctx->prog_ids[p])
			return bh_err(ctx, -ENOENT, false, "cannot open the running program %s",
				      bh_prog_pins[p]);
	return 0;
}

/* A layer 2 identity map new to this build: bind each workload the
 * store knows to its veth peer's MAC, as attach would have. */
static int l2_bind(const struct bh_workload_info *w, void *arg)
{
	struct bh_ctx *ctx = arg;
	__u8 mac[6];
	int err = bh_l2_peer_mac(w->ifindex, mac);

	if (err && err != -ENOENT)
		return bh_err(ctx, err, false, "cannot read the MAC behind %s: %s", w->ifname,
			      strerror(-err));
	return bh_l2_slot_set(ctx, w->slot, err ? NULL : mac, false);
}

int bh_upgrade(struct bh_ctx *ctx, struct bh_upgrade_result *res)
{
	struct hook_site sites[1024];
	int new_fds[BH_P_MAX] = { -1, -1, -1 };
	int nr = 0, done = 0, err;
	bool l2_new;

	memset(res, 0, sizeof(*res));
	err = bh_ctx_lock(ctx);
	if (err)
		return err;
	err = open_running(ctx);
	if (err)
		goto out;
	for (int p = 0; p < BH_P_MAX; p++)
		res->old_ids[p] = ctx->prog_ids[p];
	l2_new = !pinned(ctx, BH_MAP_L2);
	err = bh_loader_load_staged(ctx, STAGED);
	if (err)
		goto out;
	/* every map of this build is pinned now: the old programs' and the
	 * staged ones' (new layouts, empty) */
	bh_loader_close(ctx);
	err = bh_ctx_load(ctx);
	for (int p = 0; p < BH_P_MAX && !err; p++) {
		new_fds[p] = open_pin(ctx, bh_prog_pins[p], STAGED, &res->new_ids[p]);
		if (new_fds[p] < 0)
			err = bh_err(ctx, new_fds[p], false, "cannot open the new program %s: %s",
				     bh_prog_pins[p], strerror(-new_fds[p]));
	}
	/* Maps that are new to this build are empty: fill them from the
	 * store, and carry what the store does not hold (conntrack) from the
	 * old layouts, before any interface runs the programs that read them. */
	if (!err)
		err = bh_policy_sync(ctx);
	if (!err && l2_new && bh_ctx_db(ctx))
		err = bh_store_workload_foreach(bh_ctx_db(ctx), l2_bind, ctx);
	if (!err)
		err = find_sites(ctx, sites, (int)(sizeof(sites) / sizeof(sites[0])), &nr);
	if (!err)
		err = bh_migrate_run(ctx, BH_MIGRATE_BEFORE, &res->migrate);
	for (done = 0; !err && done < nr; done++)
		err = switch_site(ctx, &sites[done], ctx->prog_fds[sites[done].prog],
				  new_fds[sites[done].prog]);
	if (err) {
		/* back to the old programs where the switch happened */
		char msg[sizeof(ctx->err)];

		memcpy(msg, ctx->err, sizeof(msg));
		for (int i = 0; i < done - 1; i++)
			switch_site(ctx, &sites[i], new_fds[sites[i].prog],
				    ctx->prog_fds[sites[i].prog]);
		memcpy(ctx->err, msg, sizeof(msg));
		goto out;
	}
	/* The old programs judge nothing now: what they wrote since the
	 * first pass is merged; a failure here is reported, but the pins
	 * must name the programs that run, so they move regardless. */
	err = bh_migrate_run(ctx, BH_MIGRATE_AFTER, &res->migrate);
	/* The new programs take the pinned names: rename(2) replaces the
	 * old pin in one step, so every later process finds the new ones. */
	for (int p = 0; p < BH_P_MAX; p++) {
		char from[PATH_MAX], to[PATH_MAX], n[128];

		snprintf(n, sizeof(n), "%s%s", bh_prog_pins[p], STAGED);
		bh_pin_path(ctx, n, from, sizeof(from));
		bh_pin_path(ctx, bh_prog_pins[p], to, sizeof(to));
		if (rename(from, to) && !err)
			err = bh_err(ctx, -errno, false, "cannot pin %s: %m", to);
	}
	/* the Services hook reads the same maps: this build's program too,
	 * before the old maps' pins go */
	if (!err)
		err = bh_svc_hook_upgrade(ctx, &res->svc_sites);
	if (!err)
		err = bh_migrate_unpin_old(ctx, &res->migrate);
	res->hooks = nr;
	for (int i = 0; i < nr; i++) {
		int j;

		for (j = 0; j < i && sites[j].ifindex != sites[i].ifindex; j++)
			;
		if (j == i)
			res->interfaces++;
	}
	bh_loader_close(ctx);	/* the next use opens the new pins */
out:
	for (int p = 0; p < BH_P_MAX; p++)
		if (new_fds[p] >= 0)
			close(new_fds[p]);
	if (err)
		unpin_staged(ctx);
	bh_ctx_unlock(ctx);
	return err;
}
