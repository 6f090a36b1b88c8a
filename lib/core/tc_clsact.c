// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* clsact attachment and the choice between tcx and clsact (tc_clsact.h). */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "config.h"
#include "ctx_int.h"
#include "tc_clsact.h"

bool bh_tcx_supported(void)
{
	__u32 ids[1], cnt = 1, flags = 0;

	/* ifindex 1 is the loopback device of every netns. Without tcx the
	 * attach type is unknown to BPF_PROG_QUERY: EINVAL. */
	if (!bpf_prog_query(1, BH_TCX_INGRESS, 0, &flags, ids, &cnt))
		return true;
	return errno != EINVAL;
}

/* The mode as configured, auto not resolved; a forced tcx on a kernel
 * without it is a system error naming the key. */
static int configured_mode(struct bh_ctx *ctx, enum bh_tc_attach *mode)
{
	const struct bh_config_entry *ent;
	const struct bh_config *cfg;
	int err;

	*mode = BH_TC_ATTACH_AUTO;
	err = bh_ctx_config(ctx, &cfg);
	if (err)
		return err;
	ent = bh_config_next(cfg, "tc_attach", NULL);
	if (ent)
		bh_tc_attach_parse(ent->value, mode);	/* checked by the parser */
	if (*mode == BH_TC_ATTACH_TCX && !bh_tcx_supported())
		return bh_err(ctx, -EOPNOTSUPP, false, "%s:%d: tc_attach: tcx is forced but this"
			      " kernel has no tcx (Linux >= 6.6); use clsact or auto", cfg->path,
			      ent->line);
	return 0;
}

int bh_tc_attach_mode(struct bh_ctx *ctx, enum bh_tc_attach *mode)
{
	int err = configured_mode(ctx, mode);

	if (!err && *mode == BH_TC_ATTACH_AUTO)
		*mode = bh_tcx_supported() ? BH_TC_ATTACH_TCX : BH_TC_ATTACH_CLSACT;
	return err;
}

int bh_tc_attach_birth_mode(struct bh_ctx *ctx, enum bh_tc_attach *mode, bool *or_tcx)
{
	int err = configured_mode(ctx, mode);

	*or_tcx = false;
	if (!err && *mode == BH_TC_ATTACH_AUTO) {
		*mode = BH_TC_ATTACH_CLSACT;
		*or_tcx = bh_tcx_supported();
	}
	return err;
}

static void fill_hook(struct bpf_tc_hook *h, __u32 ifindex, bool host_ingress)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = (int)ifindex;
	h->attach_point = host_ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

int bh_clsact_attach_at(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, int prog_fd,
			__u32 handle, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = handle, .priority = prio, .prog_fd = prog_fd);
	struct bpf_tc_hook h;
	int err;

	fill_hook(&h, ifindex, host_ingress);
	/* Creating the qdisc creates both hooks; it may be there already. */
	h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return bh_err(ctx, err, false, "cannot add a clsact qdisc to ifindex %u: %s",
			      ifindex, strerror(-err));
	fill_hook(&h, ifindex, host_ingress);
	/* Our handle and priority are ours alone: a filter already there is
	 * a program of ours (an earlier attach, or the one an upgrade
	 * replaces), so it is replaced, atomically, in both cases. */
	o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&h, &o);
	if (err)
		return bh_err(ctx, err, false, "cannot attach to clsact %s on ifindex %u: %s",
			      host_ingress ? "ingress" : "egress", ifindex, strerror(-err));
	return 0;
}

__u32 bh_clsact_prog_id_at(__u32 ifindex, bool host_ingress, __u32 handle, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = handle, .priority = prio);
	struct bpf_tc_hook h;

	fill_hook(&h, ifindex, host_ingress);
	if (bpf_tc_query(&h, &o))
		return 0;
	return o.prog_id;
}

int bh_clsact_detach_at(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, __u32 id,
			int *removed, __u32 handle, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = handle, .priority = prio);
	struct bpf_tc_hook h;
	__u32 cur = bh_clsact_prog_id_at(ifindex, host_ingress, handle, prio);
	int err;

	if (!cur || cur != id)
		return 0;
	fill_hook(&h, ifindex, host_ingress);
	err = bpf_tc_detach(&h, &o);
	if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
		return bh_err(ctx, err, false, "cannot detach from clsact on ifindex %u: %s",
			      ifindex, strerror(-err));
	if (!err)
		(*removed)++;
	return 0;
}

int bh_clsact_attach(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, int prog_fd)
{
	return bh_clsact_attach_at(ctx, ifindex, host_ingress, prog_fd, BH_CLSACT_HANDLE,
				   BH_CLSACT_PRIO);
}

__u32 bh_clsact_prog_id(__u32 ifindex, bool host_ingress)
{
	return bh_clsact_prog_id_at(ifindex, host_ingress, BH_CLSACT_HANDLE, BH_CLSACT_PRIO);
}

int bh_clsact_detach(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, __u32 id,
		     int *removed)
{
	return bh_clsact_detach_at(ctx, ifindex, host_ingress, id, removed, BH_CLSACT_HANDLE,
				   BH_CLSACT_PRIO);
}
