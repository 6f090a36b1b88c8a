// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Attach/detach/query on tcx and XDP; see attach.h for the choices. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "ctx_int.h"
#include "services.h"
#include "tc_clsact.h"

static bool is_ours(const struct bh_ctx *ctx, __u32 id)
{
	for (int i = 0; i < BH_P_MAX; i++)
		if (id && ctx->prog_ids[i] == id)
			return true;
	return false;
}

static void prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	buf[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

static int tcx_query(__u32 ifindex, int type, __u32 *ids, __u32 *cnt)
{
	__u32 flags = 0;

	if (bpf_prog_query(ifindex, type, 0, &flags, ids, cnt)) {
		if (errno == ENODEV)
			return -ENODEV;
		/* No tcx entry yet on this device reads as "none". */
		if (errno == ENOENT) {
			*cnt = 0;
			return 0;
		}
		return -errno;
	}
	return 0;
}

static int tcx_attach(struct bh_ctx *ctx, __u32 ifindex, int type, int prog)
{
	if (bpf_prog_attach(ctx->prog_fds[prog], ifindex, type, 0)) {
		int err = -errno;

		if (err == -EINVAL)
			return bh_err(ctx, err, false, "cannot attach to tcx on ifindex %u: %s"
				      " (tcx needs Linux >= 6.6; try --hook xdp)", ifindex,
				      strerror(-err));
		return bh_err(ctx, err, false, "cannot attach %s to tcx on ifindex %u: %s",
			      bh_prog_pins[prog], ifindex, strerror(-err));
	}
	return 0;
}

/* Remove every program of ours from one tcx hook. */
static int tcx_detach_ours(struct bh_ctx *ctx, __u32 ifindex, int type, int *removed)
{
	__u32 ids[64], cnt = 64;
	int err = tcx_query(ifindex, type, ids, &cnt);

	if (err == -ENODEV)
		return 0;
	if (err)
		return bh_err(ctx, err, false, "cannot query tcx on ifindex %u: %s", ifindex,
			      strerror(-err));
	for (__u32 i = 0; i < cnt; i++) {
		int p;

		if (!is_ours(ctx, ids[i]))
			continue;
		for (p = 0; p < BH_P_MAX && ctx->prog_ids[p] != ids[i]; p++)
			;
		if (bpf_prog_detach2(ctx->prog_fds[p], ifindex, type) && errno != ENOENT &&
		    errno != ENODEV)
			return bh_err(ctx, -errno, false, "cannot detach from tcx on ifindex %u: %m",
				      ifindex);
		(*removed)++;
	}
	return 0;
}

static int xdp_attach(struct bh_ctx *ctx, __u32 ifindex)
{
	struct xdp_program *p = xdp_program__from_fd(ctx->prog_fds[BH_P_XDP]);
	int err;

	err = libxdp_get_error(p);
	if (err)
		return bh_err(ctx, err, false, "libxdp cannot use the XDP program: %s",
			      strerror(-err));
	/* Native mode: generic XDP would run after the skb is built and cost
	 * the same as tc. libxdp tries its dispatcher first and falls back to
	 * attaching this program alone when the dispatcher cannot load. */
	err = xdp_program__attach(p, ifindex, XDP_MODE_NATIVE, 0);
	xdp_program__close(p);
	if (err)
		return bh_err(ctx, err, false, "cannot attach XDP on ifindex %u: %s", ifindex,
			      strerror(-err));
	return 0;
}

/* Our program on XDP, attached alone or inside a libxdp dispatcher? */
static int xdp_find(struct bh_ctx *ctx, __u32 ifindex, bool *present, bool *multi)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err;

	*present = *multi = false;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT || err == -ENODEV || (!err && !mp))
		return 0;
	if (err)
		return bh_err(ctx, err, false, "cannot query XDP on ifindex %u: %s", ifindex,
			      strerror(-err));
	*multi = !xdp_multiprog__is_legacy(mp);
	if (!*multi) {
		p = xdp_multiprog__main_prog(mp);
		*present = p && is_ours(ctx, xdp_program__id(p));
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (is_ours(ctx, xdp_program__id(p)))
				*present = true;
	}
	xdp_multiprog__close(mp);
	return 0;
}

static int xdp_detach_ours(struct bh_ctx *ctx, __u32 ifindex, int *removed)
{
	struct xdp_program *p;
	bool present, multi;
	int err;

	err = xdp_find(ctx, ifindex, &present, &multi);
	if (err || !present)
		return err;
	p = xdp_program__from_fd(ctx->prog_fds[BH_P_XDP]);
	err = libxdp_get_error(p);
	if (!err) {
		err = xdp_program__detach(p, ifindex, XDP_MODE_NATIVE, 0);
		xdp_program__close(p);
	}
	if (err && !multi) {
		/* Fall back to the kernel call, replacing exactly our program
		 * so nothing another tool attached meanwhile is removed. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = ctx->prog_fds[BH_P_XDP]);

		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &ao);
	}
	if (err)
		return bh_err(ctx, err, false, "cannot detach XDP from ifindex %u: %s", ifindex,
			      strerror(-err));
	(*removed)++;
	return 0;
}

/* Our programs on the clsact filters of ifindex (either mode may have put
 * them there: the config can change between attach and detach). */
static int clsact_detach_ours(struct bh_ctx *ctx, __u32 ifindex, int *removed)
{
	int err = 0;

	for (int p = 0; p < BH_P_MAX && !err; p++) {
		if (!ctx->prog_ids[p])
			continue;
		err = bh_clsact_detach(ctx, ifindex, true, ctx->prog_ids[p], removed);
		if (!err)
			err = bh_clsact_detach(ctx, ifindex, false, ctx->prog_ids[p], removed);
	}
	return err;
}

int bh_detach_hooks(struct bh_ctx *ctx, __u32 ifindex, int *removed)
{
	int n = 0, err;

	err = tcx_detach_ours(ctx, ifindex, BH_TCX_INGRESS, &n);
	if (!err)
		err = tcx_detach_ours(ctx, ifindex, BH_TCX_EGRESS, &n);
	if (!err)
		err = clsact_detach_ours(ctx, ifindex, &n);
	if (!err)
		err = xdp_detach_ours(ctx, ifindex, &n);
	if (!err)
		err = bh_svc_tc_detach_dev(ctx, ifindex, &n);
	if (removed)
		*removed = n;
	return err;
}

/* One TC program onto one direction, through tcx or clsact. */
static int tc_attach(struct bh_ctx *ctx, __u32 ifindex, int type, int prog,
		     enum bh_tc_attach mode)
{
	if (mode == BH_TC_ATTACH_CLSACT)
		return bh_clsact_attach(ctx, ifindex, type == BH_TCX_INGRESS, ctx->prog_fds[prog]);
	return tcx_attach(ctx, ifindex, type, prog);
}

int bh_attach_hooks(struct bh_ctx *ctx, __u32 ifindex, enum bh_hook hook, bool birth)
{
	enum bh_tc_attach mode;
	bool or_tcx = false;
	int err;

	err = birth ? bh_tc_attach_birth_mode(ctx, &mode, &or_tcx) : bh_tc_attach_mode(ctx, &mode);
	if (err)
		return err;
	/* Ingress first (traffic to the container), so that the moment
	 * egress is filtered its replies are already seen by conntrack. */
	err = tc_attach(ctx, ifindex, BH_TCX_EGRESS, BH_P_TC_INGRESS, mode);
	if (err && or_tcx) {
		mode = BH_TC_ATTACH_TCX;	/* no clsact here: tcx at once */
		err = tc_attach(ctx, ifindex, BH_TCX_EGRESS, BH_P_TC_INGRESS, mode);
	}
	if (err)
		return err;
	/* with the Services tc hook, a flow of another workload through a
	 * Service to this one is judged on this egress first (services.h) */
	err = bh_svc_tc_attach_dev(ctx, ifindex);
	if (!err && hook == BH_HOOK_XDP)
		err = xdp_attach(ctx, ifindex);
	else if (!err)
		err = tc_attach(ctx, ifindex, BH_TCX_INGRESS, BH_P_TC_EGRESS, mode);
	if (err) {
		char msg[sizeof(ctx->err)];

		memcpy(msg, ctx->err, sizeof(msg));
		bh_detach_hooks(ctx, ifindex, NULL);
		memcpy(ctx->err, msg, sizeof(msg));
		ctx->err_user = false;
	}
	return err;
}

/* Our program on one TC direction, through tcx or clsact. */
static bool tcx_has(struct bh_ctx *ctx, __u32 ifindex, int type, int prog)
{
	__u32 ids[64], cnt = 64;

	if (ctx->prog_ids[prog] &&
	    bh_clsact_prog_id(ifindex, type == BH_TCX_INGRESS) == ctx->prog_ids[prog])
		return true;
	if (tcx_query(ifindex, type, ids, &cnt))
		return false;
	for (__u32 i = 0; i < cnt; i++)
		if (ids[i] == ctx->prog_ids[prog])
			return true;
	return false;
}

int bh_hooks_check(struct bh_ctx *ctx, __u32 ifindex, enum bh_hook hook)
{
	bool present = false, multi;

	if (!tcx_has(ctx, ifindex, BH_TCX_EGRESS, BH_P_TC_INGRESS))
		return -ENOENT;
	if (hook == BH_HOOK_XDP) {
		if (xdp_find(ctx, ifindex, &present, &multi) || !present)
			return -ENOENT;
		return 0;
	}
	return tcx_has(ctx, ifindex, BH_TCX_INGRESS, BH_P_TC_EGRESS) ? 0 : -ENOENT;
}

static void fill_tcx(struct bh_ctx *ctx, __u32 ifindex, int type, struct bh_hook_prog *out,
		     int max, int *nr)
{
	__u32 ids[64], cnt = 64;

	*nr = 0;
	if (tcx_query(ifindex, type, ids, &cnt))
		return;
	for (__u32 i = 0; i < cnt && *nr < max; i++) {
		struct bh_hook_prog *hp = &out[(*nr)++];

		hp->id = ids[i];
		hp->ours = is_ours(ctx, ids[i]);
		prog_name(ids[i], hp->name, sizeof(hp->name));
	}
}

static void fill_clsact(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress,
			struct bh_hook_prog *out, int *nr)
{
	__u32 id = bh_clsact_prog_id(ifindex, host_ingress);

	*nr = 0;
	if (!id)
		return;
	out->id = id;
	out->ours = is_ours(ctx, id);
	prog_name(id, out->name, sizeof(out->name));
	*nr = 1;
}

int bh_hooks_query(struct bh_ctx *ctx, __u32 ifindex, struct bh_hook_info *out)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char name[IF_NAMESIZE];
	int err;

	memset(out, 0, sizeof(*out));
	if (!if_indextoname(ifindex, name))
		return bh_err(ctx, -ENODEV, true, "no interface with index %u", ifindex);
	bh_loader_open_pinned(ctx);
	fill_tcx(ctx, ifindex, BH_TCX_INGRESS, out->tcx_ingress, 16, &out->nr_tcx_ingress);
	fill_tcx(ctx, ifindex, BH_TCX_EGRESS, out->tcx_egress, 16, &out->nr_tcx_egress);
	fill_clsact(ctx, ifindex, true, out->clsact_ingress, &out->nr_clsact_ingress);
	fill_clsact(ctx, ifindex, false, out->clsact_egress, &out->nr_clsact_egress);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err || !mp)
		return 0;
	out->xdp_multiprog = !xdp_multiprog__is_legacy(mp);
	if (!out->xdp_multiprog) {
		p = xdp_multiprog__main_prog(mp);
		if (p) {
			out->xdp[0].id = xdp_program__id(p);
			out->xdp[0].ours = is_ours(ctx, out->xdp[0].id);
			snprintf(out->xdp[0].name, sizeof(out->xdp[0].name), "%s",
				 xdp_program__name(p));
			out->nr_xdp = 1;
		}
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && out->nr_xdp < 4;
		     p = xdp_multiprog__next_prog(p, mp)) {
			struct bh_hook_prog *hp = &out->xdp[out->nr_xdp++];

			hp->id = xdp_program__id(p);
			hp->ours = is_ours(ctx, hp->id);
			snprintf(hp->name, sizeof(hp->name), "%s", xdp_program__name(p));
		}
	}
	xdp_multiprog__close(mp);
	return 0;
}

/* One direction from clsact to tcx: tcx first, where the program decides
 * before clsact is consulted (a verdict other than TCX_NEXT skips it), then
 * the clsact filter goes; no packet is judged by neither. */
static int promote_dir(struct bh_ctx *ctx, __u32 ifindex, int type, int prog, bool *moved)
{
	bool host_ingress = type == BH_TCX_INGRESS;
	__u32 id = ctx->prog_ids[prog];
	__u32 ids[64], cnt = 64;
	bool on_tcx = false;
	int removed = 0, err;

	if (!id || bh_clsact_prog_id(ifindex, host_ingress) != id)
		return 0;
	err = tcx_query(ifindex, type, ids, &cnt);
	if (err == -ENODEV)
		return 0;	/* the veth went meanwhile */
	if (err)
		return bh_err(ctx, err, false, "cannot query tcx on ifindex %u: %s", ifindex,
			      strerror(-err));
	for (__u32 i = 0; i < cnt; i++)
		on_tcx |= ids[i] == id;
	if (!on_tcx && (err = tcx_attach(ctx, ifindex, type, prog)))
		return err;
	err = bh_clsact_detach(ctx, ifindex, host_ingress, id, &removed);
	if (!err)
		*moved = true;
	return err;
}

int bh_attach_promote(struct bh_ctx *ctx, __u32 ifindex, bool *moved)
{
	enum bh_tc_attach mode;
	int err;

	*moved = false;
	err = bh_tc_attach_mode(ctx, &mode);
	if (err || mode != BH_TC_ATTACH_TCX)
		return err;
	/* the container's ingress first, as at attach */
	err = promote_dir(ctx, ifindex, BH_TCX_EGRESS, BH_P_TC_INGRESS, moved);
	if (!err)
		err = promote_dir(ctx, ifindex, BH_TCX_INGRESS, BH_P_TC_EGRESS, moved);
	return err;
}
