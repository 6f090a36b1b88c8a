// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Loading: programs are loaded once per instance and pinned (BH_PIN_PROG_*)
 * so that every later process, and the kernel after every process died,
 * uses the same programs and maps. Maps are pinned by name through the
 * skeletons' pin_root_path: the second object (and every later load)
 * reuses them. The shared deny-all inner map is created here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "config.h"
#include "ctx_int.h"
#include "bulkhead_xdp.skel.h"
#include "bulkhead_tc.skel.h"

const char *const bh_map_names[BH_M_MAX] = {
	[BH_M_WORKLOADS] = BH_MAP_WORKLOADS,
	[BH_M_IPCACHE] = BH_MAP_IPCACHE,
	[BH_M_POLICY] = BH_MAP_POLICY,
	[BH_M_CT] = BH_MAP_CT,
	[BH_M_FRAG] = BH_MAP_FRAG,
	[BH_M_DENY_RL] = BH_MAP_DENY_RL,
	[BH_M_FLOWS] = BH_MAP_FLOWS,
	[BH_M_STATS] = BH_MAP_STATS,
	[BH_M_COUNTERS] = BH_MAP_COUNTERS,
	[BH_M_DENY_ALL] = BH_PIN_DENY_ALL,
	[BH_M_RULE_STATS] = BH_MAP_RULE_STATS,
	[BH_M_CT4] = BH_MAP_CT4,
	[BH_M_CTGEN] = BH_MAP_CTGEN,
	[BH_M_L2] = BH_MAP_L2,
	[BH_M_SHARE] = BH_MAP_SHARE,
	[BH_M_CT_BASE] = BH_MAP_CT_BASE,
};

const char *const bh_prog_pins[BH_P_MAX] = {
	[BH_P_XDP] = BH_PIN_PROG_XDP,
	[BH_P_TC_EGRESS] = BH_PIN_PROG_TC_EGRESS,
	[BH_P_TC_INGRESS] = BH_PIN_PROG_TC_INGRESS,
};

int bh_pin_path(const struct bh_ctx *ctx, const char *name, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/%s", ctx->bpffs, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int bh_pin_get(const struct bh_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (bh_pin_path(ctx, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int fd_id(int fd, __u32 *id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* The pin dir must be on a bpffs; mount one on /sys/fs/bpf if the host
 * has none (a fresh VM or container without systemd). */
static int ensure_bpffs(struct bh_ctx *ctx)
{
	char buf[PATH_MAX];
	struct statfs sfs;
	size_t n;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type != BPF_FS_MAGIC &&
	    strncmp(ctx->bpffs, "/sys/fs/bpf/", 12) == 0) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return bh_err(ctx, -errno, false, "cannot mount bpffs on /sys/fs/bpf: %m");
	}
	n = snprintf(buf, sizeof(buf), "%s", ctx->bpffs);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];

		buf[i] = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return bh_err(ctx, -errno, false, "cannot create %s: %m", buf);
		buf[i] = c;
	}
	if (statfs(ctx->bpffs, &sfs) || sfs.f_type != BPF_FS_MAGIC)
		return bh_err(ctx, -ENOTSUP, false, "%s is not on a bpf filesystem", ctx->bpffs);
	return 0;
}

static int pin_prog(struct bh_ctx *ctx, struct bpf_program *prog, const char *pin,
		    const char *suffix)
{
	char path[PATH_MAX], name[128];
	int err;

	snprintf(name, sizeof(name), "%s%s", pin, suffix);
	err = bh_pin_path(ctx, name, path, sizeof(path));
	if (err)
		return err;
	unlink(path);	/* a stale pin of a half-finished earlier load */
	err = bpf_program__pin(prog, path);
	if (err)
		return bh_err(ctx, err, false, "cannot pin program %s: %s", path, strerror(-err));
	return 0;
}

/* The config's flow_cache, read once and only when a program is loaded
 * (*v: -1 not read yet, else 0/1): a bad config then stops the load. */
static int flow_cache_wanted(struct bh_ctx *ctx, int *v)
{
	bool on;
	int err;

	if (*v >= 0)
		return 0;
	err = bh_config_flow_cache(ctx, &on);
	if (!err)
		*v = on;
	return err;
}

static int load_xdp(struct bh_ctx *ctx, int flow_cache, const char *suffix)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = ctx->bpffs);
	struct bulkhead_xdp *skel;
	int err;

	skel = bulkhead_xdp__open_opts(&oo);
	if (!skel)
		return bh_err(ctx, -errno, false, "cannot open the XDP object: %m");
	skel->rodata->bh_cfg_flow_cache = flow_cache;
	err = bulkhead_xdp__load(skel);
	if (err)
		err = bh_err(ctx, err, false, "cannot load the XDP program: %s", strerror(-err));
	else
		err = pin_prog(ctx, skel->progs.bh_xdp_from_container, BH_PIN_PROG_XDP, suffix);
	bulkhead_xdp__destroy(skel);
	return err;
}

static int load_tc(struct bh_ctx *ctx, int flow_cache, const char *suffix)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = ctx->bpffs);
	struct bulkhead_tc *skel;
	int err;

	skel = bulkhead_tc__open_opts(&oo);
	if (!skel)
		return bh_err(ctx, -errno, false, "cannot open the TC object: %m");
	skel->rodata->bh_cfg_flow_cache = flow_cache;
	err = bulkhead_tc__load(skel);
	if (err)
		err = bh_err(ctx, err, false, "cannot load the TC programs: %s", strerror(-err));
	if (!err)
		err = pin_prog(ctx, skel->progs.bh_tc_from_container, BH_PIN_PROG_TC_EGRESS, suffix);
	if (!err)
		err = pin_prog(ctx, skel->progs.bh_tc_to_container, BH_PIN_PROG_TC_INGRESS, suffix);
	bulkhead_tc__destroy(skel);
	return err;
}

/* The shared quarantine map: {prefixlen 8, dir META} marks "quarantined";
 * sync adds the forensics exception entries from the compiler. */
static int create_deny_all(struct bh_ctx *ctx)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct bh_policy_key k = { .prefixlen = 8, .dir = BH_DIR_META };
	struct bh_policy_val v = { .verdict = BH_PV_QUARANTINE, .audit_verdict = BH_PV_QUARANTINE };
	char path[PATH_MAX];
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, BH_PIN_DENY_ALL, sizeof(k), sizeof(v),
			    BH_POLICY_TEMPLATE_SIZE, &mo);
	if (fd < 0)
		return bh_err(ctx, -errno, false, "cannot create the deny-all map: %m");
	err = bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
	if (!err)
		err = bh_pin_path(ctx, BH_PIN_DENY_ALL, path, sizeof(path));
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (err) {
		close(fd);
		return bh_err(ctx, err, false, "cannot set up the deny-all map: %s", strerror(-err));
	}
	return fd;
}

static void close_fds(struct bh_ctx *ctx)
{
	for (int i = 0; i < BH_M_MAX; i++) {
		if (ctx->map_fds[i] >= 0)
			close(ctx->map_fds[i]);
		ctx->map_fds[i] = -1;
	}
	for (int i = 0; i < BH_P_MAX; i++) {
		if (ctx->prog_fds[i] >= 0)
			close(ctx->prog_fds[i]);
		ctx->prog_fds[i] = -1;
		ctx->prog_ids[i] = 0;
	}
	ctx->loaded = false;
}

int bh_loader_load_staged(struct bh_ctx *ctx, const char *suffix)
{
	int flow_cache = -1, err;

	err = flow_cache_wanted(ctx, &flow_cache);
	if (!err)
		err = load_xdp(ctx, flow_cache, suffix);
	if (!err)
		err = load_tc(ctx, flow_cache, suffix);
	return err;
}

int bh_loader_open_pinned(struct bh_ctx *ctx)
{
	for (int i = 0; i < BH_M_MAX; i++)
		if (ctx->map_fds[i] < 0)
			ctx->map_fds[i] = bh_pin_get(ctx, bh_map_names[i]);
	for (int i = 0; i < BH_P_MAX; i++) {
		if (ctx->prog_fds[i] < 0)
			ctx->prog_fds[i] = bh_pin_get(ctx, bh_prog_pins[i]);
		if (ctx->prog_fds[i] >= 0 && fd_id(ctx->prog_fds[i], &ctx->prog_ids[i]))
			ctx->prog_ids[i] = 0;
	}
	/* obj_get returned -errno; keep "not open" as -1 */
	for (int i = 0; i < BH_M_MAX; i++)
		if (ctx->map_fds[i] < 0)
			ctx->map_fds[i] = -1;
	for (int i = 0; i < BH_P_MAX; i++)
		if (ctx->prog_fds[i] < 0)
			ctx->prog_fds[i] = -1;
	return 0;
}

int bh_loader_ensure(struct bh_ctx *ctx)
{
	int fd, err, flow_cache = -1;

	if (ctx->loaded)
		return 0;
	if (ctx->read_only)
		return bh_err(ctx, -EPERM, false, "internal: load from a read-only context");
	err = bh_ctx_lock(ctx);
	if (err)
		return err;
	err = ensure_bpffs(ctx);
	if (err)
		goto out;
	close_fds(ctx);
	fd = bh_pin_get(ctx, BH_PIN_PROG_XDP);
	if (fd >= 0)
		close(fd);
	else if ((err = flow_cache_wanted(ctx, &flow_cache)) || (err = load_xdp(ctx, flow_cache, "")))
		goto out;
	fd = bh_pin_get(ctx, BH_PIN_PROG_TC_EGRESS);
	if (fd >= 0)
		close(fd);
	fd = fd >= 0 ? bh_pin_get(ctx, BH_PIN_PROG_TC_INGRESS) : -1;
	if (fd >= 0)
		close(fd);
	else if ((err = flow_cache_wanted(ctx, &flow_cache)) || (err = load_tc(ctx, flow_cache, "")))
		goto out;
	fd = bh_pin_get(ctx, BH_PIN_DENY_ALL);
	if (fd < 0) {
		fd = create_deny_all(ctx);
		if (fd < 0) {
			err = fd;
			goto out;
		}
	}
	ctx->map_fds[BH_M_DENY_ALL] = fd;
	bh_loader_open_pinned(ctx);
	for (int i = 0; i < BH_M_MAX; i++) {
		if (ctx->map_fds[i] < 0) {
			err = bh_err(ctx, -ENOENT, false, "map %s is not pinned in %s",
				     bh_map_names[i], ctx->bpffs);
			goto out;
		}
	}
	for (int i = 0; i < BH_P_MAX; i++) {
		if (ctx->prog_fds[i] < 0 || !ctx->prog_ids[i]) {
			err = bh_err(ctx, -ENOENT, false, "program %s is not pinned in %s",
				     bh_prog_pins[i], ctx->bpffs);
			goto out;
		}
	}
	ctx->loaded = true;
out:
	if (err)
		close_fds(ctx);
	bh_ctx_unlock(ctx);
	return err;
}

void bh_loader_close(struct bh_ctx *ctx)
{
	close_fds(ctx);
}

int bh_map_fd(struct bh_ctx *ctx, const char *name)
{
	for (int i = 0; i < BH_M_MAX; i++) {
		if (strcmp(name, bh_map_names[i]) != 0)
			continue;
		if (ctx->map_fds[i] < 0) {
			int fd = bh_pin_get(ctx, name);

			if (fd < 0)
				return bh_err(ctx, fd, false, "map %s is not pinned in %s: %s",
					      name, ctx->bpffs, strerror(-fd));
			ctx->map_fds[i] = fd;
		}
		return ctx->map_fds[i];
	}
	return bh_err(ctx, -ENOENT, false, "no map named %s", name);
}
