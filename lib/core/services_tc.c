// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Services hook at tc (services.h, lib/bpf/svc_ct.h): the program,
 * pinned, on the egress of every host veth (before bulkhead's own program
 * there: a lower clsact priority, or the front of the tcx list) and of the
 * node's uplinks, where kube-proxy's translated packets leave toward a
 * local or a remote backend.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctx_int.h"
#include "services.h"
#include "tc_clsact.h"
#include "bulkhead_svc_tc.skel.h"

#define BH_TCX_EGRESS_TYPE	47
#define BH_F_BEFORE		(1U << 3)	/* tcx: at the front (no relative) */

static int pinned_fd(struct bh_ctx *ctx)
{
	char path[PATH_MAX];
	int fd;

	if (bh_pin_path(ctx, BH_PIN_SVC_TC, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

bool bh_svc_tc_pinned(struct bh_ctx *ctx)
{
	int fd = pinned_fd(ctx);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int attach_fd(struct bh_ctx *ctx, int fd, __u32 ifindex)
{
	enum bh_tc_attach mode;
	int err = bh_tc_attach_mode(ctx, &mode);

	if (err)
		return err;
	if (mode == BH_TC_ATTACH_CLSACT)
		return bh_clsact_attach_at(ctx, ifindex, false, fd, BH_CLSACT_SVC_HANDLE,
					   BH_CLSACT_SVC_PRIO);
	if (bpf_prog_attach(fd, (int)ifindex, BH_TCX_EGRESS_TYPE, BH_F_BEFORE) &&
	    errno != EEXIST)
		return bh_err(ctx, -errno, false, "cannot attach the Services tc program to tcx"
			      " egress of ifindex %u: %m", ifindex);
	return 0;
}

int bh_svc_tc_attach_dev(struct bh_ctx *ctx, __u32 ifindex)
{
	int fd = pinned_fd(ctx), err;

	if (fd < 0)
		return 0;	/* no tc hook in this instance */
	err = attach_fd(ctx, fd, ifindex);
	close(fd);
	return err;
}

static __u32 fd_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int bh_svc_tc_detach_dev(struct bh_ctx *ctx, __u32 ifindex, int *removed)
{
	__u32 ids[64], cnt = 64, flags = 0, id;
	int fd = pinned_fd(ctx), err = 0;

	if (fd < 0)
		return 0;
	id = fd_id(fd);
	if (id && !bpf_prog_query((int)ifindex, BH_TCX_EGRESS_TYPE, 0, &flags, ids, &cnt)) {
		for (__u32 i = 0; i < cnt; i++) {
			if (ids[i] != id)
				continue;
			if (bpf_prog_detach2(fd, (int)ifindex, BH_TCX_EGRESS_TYPE) &&
			    errno != ENOENT && errno != ENODEV)
				err = bh_err(ctx, -errno, false, "cannot detach the Services tc"
					     " program from ifindex %u: %m", ifindex);
			else
				(*removed)++;
		}
	}
	if (!err && id)
		err = bh_clsact_detach_at(ctx, ifindex, false, id, removed, BH_CLSACT_SVC_HANDLE,
					  BH_CLSACT_SVC_PRIO);
	close(fd);
	return err;
}

static int load_and_pin(struct bh_ctx *ctx)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = ctx->bpffs);
	struct bulkhead_svc_tc *skel;
	char path[PATH_MAX];
	int err;

	skel = bulkhead_svc_tc__open_opts(&oo);
	if (!skel)
		return bh_err(ctx, -errno, false, "cannot open the Services tc object: %m");
	err = bulkhead_svc_tc__load(skel);
	if (err) {
		err = bh_err(ctx, err, false, "cannot load the Services tc program (it needs the"
			     " conntrack kfuncs: nf_conntrack loaded, Linux 5.18+ with BTF): %s",
			     strerror(-err));
		goto out;
	}
	err = bh_pin_path(ctx, BH_PIN_SVC_TC, path, sizeof(path));
	if (!err) {
		unlink(path);	/* a half-finished earlier attach */
		if (bpf_program__pin(skel->progs.bh_svc_at_egress, path))
			err = bh_err(ctx, -errno, false, "cannot pin %s: %m", path);
	}
out:
	bulkhead_svc_tc__destroy(skel);
	return err;
}

int bh_svc_tc_ensure(struct bh_ctx *ctx)
{
	__u32 up[BH_SVC_MAX_UPLINKS], key, *prev = NULL;
	int fd = -1, err, nr_up = 0;

	err = bh_svc_uplinks(ctx, up, &nr_up);
	if (!err && !bh_svc_tc_pinned(ctx))
		err = load_and_pin(ctx);
	if (!err && (fd = pinned_fd(ctx)) < 0)
		err = bh_err(ctx, fd, false, "the Services tc program is not pinned: %s",
			     strerror(-fd));
	/* every host veth: a local backend's packets leave there (one gone
	 * meanwhile is not an error: its workload goes with it) */
	while (!err && !bpf_map_get_next_key(ctx->map_fds[BH_M_WORKLOADS], prev, &key)) {
		err = attach_fd(ctx, fd, key);
		if (err == -ENODEV)
			err = 0;
		prev = &key;
	}
	for (int i = 0; !err && i < nr_up; i++)
		err = attach_fd(ctx, fd, up[i]);
	if (fd >= 0)
		close(fd);
	return err;
}

/* Is the program (id) on ifindex's egress, through tcx or clsact? */
static bool on_dev(__u32 id, __u32 ifindex)
{
	__u32 ids[64], cnt = 64, flags = 0;

	if (bh_clsact_prog_id_at(ifindex, false, BH_CLSACT_SVC_HANDLE, BH_CLSACT_SVC_PRIO) == id)
		return true;
	if (bpf_prog_query((int)ifindex, BH_TCX_EGRESS_TYPE, 0, &flags, ids, &cnt))
		return false;
	for (__u32 i = 0; i < cnt; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static int map_fd(struct bh_ctx *ctx, const char *name)
{
	char path[PATH_MAX];

	if (bh_pin_path(ctx, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	return bpf_obj_get(path);
}

void bh_svc_tc_status(struct bh_ctx *ctx, struct bh_svc_status *st)
{
	int fd = pinned_fd(ctx), wl;
	__u32 id, key, *prev = NULL;
	struct if_nameindex *ifs;

	if (fd < 0)
		return;
	st->tc = true;
	id = fd_id(fd);
	close(fd);
	wl = map_fd(ctx, BH_MAP_WORKLOADS);
	while (wl >= 0 && !bpf_map_get_next_key(wl, prev, &key)) {
		st->veths++;
		if (!on_dev(id, key) && !st->veths_without++ && !if_indextoname(key, st->without))
			snprintf(st->without, sizeof(st->without), "ifindex %u", key);
		prev = &key;
	}
	ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		if (wl >= 0 && !bpf_map_lookup_elem(wl, &i->if_index, &(struct bh_workload){ 0 }))
			continue;	/* a host veth, counted above */
		if (on_dev(id, i->if_index) && st->nr_uplinks < BH_SVC_STATUS_UPLINKS)
			snprintf(st->uplinks[st->nr_uplinks++], IF_NAMESIZE, "%s", i->if_name);
	}
	if_freenameindex(ifs);
	if (wl >= 0)
		close(wl);
}

/* One site of the old program: replaced in one kernel call (tcx
 * BPF_F_REPLACE of the old program, or the clsact filter at our handle
 * and priority), so no packet meets neither. */
static int replace_on(struct bh_ctx *ctx, __u32 ifindex, __u32 old_id, int old_fd, int new_fd,
		      int *sites)
{
	__u32 ids[64], cnt = 64, flags = 0;
	int err = 0;

	if (bh_clsact_prog_id_at(ifindex, false, BH_CLSACT_SVC_HANDLE, BH_CLSACT_SVC_PRIO) ==
	    old_id) {
		err = bh_clsact_attach_at(ctx, ifindex, false, new_fd, BH_CLSACT_SVC_HANDLE,
					  BH_CLSACT_SVC_PRIO);
		*sites += !err;
	}
	if (err || bpf_prog_query((int)ifindex, BH_TCX_EGRESS_TYPE, 0, &flags, ids, &cnt))
		return err;
	for (__u32 i = 0; i < cnt; i++) {
		LIBBPF_OPTS(bpf_prog_attach_opts, o, .flags = BPF_F_REPLACE,
			    .replace_prog_fd = old_fd);

		if (ids[i] != old_id)
			continue;
		if (bpf_prog_attach_opts(new_fd, (int)ifindex, BH_TCX_EGRESS_TYPE, &o))
			return bh_err(ctx, -errno, false, "cannot replace the Services tc program on"
				      " ifindex %u: %m", ifindex);
		(*sites)++;
	}
	return 0;
}

int bh_svc_tc_replace(struct bh_ctx *ctx, int *sites)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = ctx->bpffs);
	struct bulkhead_svc_tc *skel = NULL;
	int old_fd = pinned_fd(ctx), new_fd, err = 0;
	char staged[PATH_MAX], path[PATH_MAX];
	struct if_nameindex *ifs = NULL;
	__u32 old_id;

	*sites = 0;
	if (old_fd < 0)
		return 0;
	old_id = fd_id(old_fd);
	skel = bulkhead_svc_tc__open_opts(&oo);
	if (!skel || bulkhead_svc_tc__load(skel)) {
		err = bh_err(ctx, -errno, false, "cannot load this build's Services tc program: %m");
		goto out;
	}
	new_fd = bpf_program__fd(skel->progs.bh_svc_at_egress);
	ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; !err && i && i->if_index; i++)
		err = replace_on(ctx, i->if_index, old_id, old_fd, new_fd, sites);
	/* the pin names the program that runs: the staged pin renamed over
	 * the old one (the switched sites run the new one even on failure) */
	if (bh_pin_path(ctx, BH_PIN_SVC_TC "_new", staged, sizeof(staged)) ||
	    bh_pin_path(ctx, BH_PIN_SVC_TC, path, sizeof(path))) {
		err = err ? err : bh_err(ctx, -ENAMETOOLONG, false, "pin path too long");
		goto out;
	}
	unlink(staged);
	if (bpf_program__pin(skel->progs.bh_svc_at_egress, staged) || rename(staged, path)) {
		if (!err)
			err = bh_err(ctx, -errno, false, "cannot pin %s: %m", path);
		unlink(staged);
	}
out:
	if (ifs)
		if_freenameindex(ifs);
	bulkhead_svc_tc__destroy(skel);
	close(old_fd);
	return err;
}
