// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Services: the post-NAT hook (netfilter, or tc in services_tc.c) and the
 * frontend map (services.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "ctx_int.h"
#include "services.h"
#include "bulkhead_svc.skel.h"

/* Kernel ABI values newer than this system's headers (Linux 6.4). */
#define BH_PROG_TYPE_NETFILTER	32
#define BH_ATTACH_NETFILTER	45
#define BH_NFPROTO_IPV4		2
#define BH_NFPROTO_IPV6		10
#define BH_NF_INET_PRE_ROUTING	0
/* Right after NAT's destination hook (NF_IP_PRI_NAT_DST, -100), where
 * iptables' and nftables' nat chains run: the backend is chosen, and the
 * packet is not routed yet. */
#define BH_SVC_PRIORITY		(-100 + 1)
/* The kernel refuses two BPF netfilter hooks at one priority (EBUSY): an
 * upgrade's new links take the other of these two while the old ones
 * still run. Nothing else hooks in between. */
#define BH_SVC_PRIORITY_ALT	(-100 + 2)

/* The head of union bpf_attr's link_create with its netfilter member. */
struct bh_nf_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u32 pf;
	__u32 hooknum;
	__s32 priority;
	__u32 nf_flags;
};

static int nf_link_create_at(int prog_fd, __u32 pf, __s32 priority)
{
	union bpf_attr attr;
	struct bh_nf_link_attr a = { .prog_fd = (__u32)prog_fd, .attach_type = BH_ATTACH_NETFILTER,
				     .pf = pf, .hooknum = BH_NF_INET_PRE_ROUTING,
				     .priority = priority };
	int fd;

	_Static_assert(sizeof(a) <= sizeof(attr), "link_create fits bpf_attr");
	memset(&attr, 0, sizeof(attr));
	memcpy(&attr, &a, sizeof(a));
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int nf_link_create(int prog_fd, __u32 pf)
{
	int fd = nf_link_create_at(prog_fd, pf, BH_SVC_PRIORITY);

	return fd == -EBUSY ? nf_link_create_at(prog_fd, pf, BH_SVC_PRIORITY_ALT) : fd;
}

static int pinned(struct bh_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (bh_pin_path(ctx, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static bool nf_hook_attached(struct bh_ctx *ctx)
{
	return !pinned(ctx, BH_PIN_SVC_LINK4) && !pinned(ctx, BH_PIN_SVC_LINK6);
}

int bh_svc_hook_attached(struct bh_ctx *ctx)
{
	return nf_hook_attached(ctx) || bh_svc_tc_pinned(ctx);
}

static int pin_link(struct bh_ctx *ctx, int fd, const char *name)
{
	char path[PATH_MAX];
	int err = bh_pin_path(ctx, name, path, sizeof(path));

	if (err)
		return err;
	unlink(path);	/* a half-finished earlier attach */
	if (bpf_obj_pin(fd, path))
		return bh_err(ctx, -errno, false, "cannot pin %s: %m", path);
	return 0;
}

/* The netfilter program, loaded and linked at PREROUTING after NAT for
 * both families, its links pinned. -EOPNOTSUPP: no BPF netfilter links. */
static int nf_hook_attach(struct bh_ctx *ctx)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bulkhead_svc *skel = NULL;
	int err, fd4 = -1, fd6 = -1;

	oo.pin_root_path = ctx->bpffs;
	skel = bulkhead_svc__open_opts(&oo);
	if (!skel)
		return bh_err(ctx, -errno, false, "cannot open the Services object: %m");
	bpf_program__set_type(skel->progs.bh_svc_after_nat, BH_PROG_TYPE_NETFILTER);
	bpf_program__set_expected_attach_type(skel->progs.bh_svc_after_nat, BH_ATTACH_NETFILTER);
	err = bulkhead_svc__load(skel);
	if (err) {
		err = bh_err(ctx, err == -EINVAL ? -EOPNOTSUPP : err, false,
			     "cannot load the Services post-NAT program (BPF netfilter programs"
			     " need Linux 6.4): %s", strerror(-err));
		goto out;
	}
	fd4 = nf_link_create(bpf_program__fd(skel->progs.bh_svc_after_nat), BH_NFPROTO_IPV4);
	fd6 = fd4 < 0 ? fd4 : nf_link_create(bpf_program__fd(skel->progs.bh_svc_after_nat),
					     BH_NFPROTO_IPV6);
	if (fd4 < 0 || fd6 < 0) {
		int e = fd4 < 0 ? fd4 : fd6;

		err = bh_err(ctx, e == -EINVAL ? -EOPNOTSUPP : e, false,
			     "cannot attach the Services post-NAT program to netfilter (BPF"
			     " netfilter links need Linux 6.4 and nf_conntrack): %s", strerror(-e));
		goto out;
	}
	err = pin_link(ctx, fd4, BH_PIN_SVC_LINK4);
	if (!err)
		err = pin_link(ctx, fd6, BH_PIN_SVC_LINK6);
	if (err) {
		char path[PATH_MAX];

		if (!bh_pin_path(ctx, BH_PIN_SVC_LINK4, path, sizeof(path)))
			unlink(path);
	}
out:
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	bulkhead_svc__destroy(skel);
	return err;
}

int bh_svc_hook_ensure(struct bh_ctx *ctx)
{
	enum bh_svc_hook want;
	int err;

	err = bh_config_service_hook(ctx, &want);
	if (!err)
		err = bh_loader_ensure(ctx);	/* the maps the hook shares */
	if (!err)
		err = bh_ctx_lock(ctx);
	if (err)
		return err;
	if (nf_hook_attached(ctx))
		goto out;
	/* auto: netfilter when the kernel has its BPF links, else tc */
	if (want != BH_SVC_HOOK_TC && !bh_svc_tc_pinned(ctx)) {
		err = nf_hook_attach(ctx);
		if (!err || want == BH_SVC_HOOK_NETFILTER || err != -EOPNOTSUPP)
			goto out;
	}
	/* again each time: it attaches to what it missed (idempotent) */
	err = bh_svc_tc_ensure(ctx);
out:
	bh_ctx_unlock(ctx);
	return err;
}

static int drop_sctp(struct bh_svc_key *v, int nr)
{
	int n = 0;

	for (int i = 0; i < nr; i++)
		if (v[i].proto != IPPROTO_SCTP)
			v[n++] = v[i];
	return n;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bh_svc_key));
}

static int key_in(const struct bh_svc_key *k, const struct bh_svc_key *v, int nr)
{
	return bsearch(k, v, (size_t)nr, sizeof(*v), key_cmp) != NULL;
}

int bh_svc_frontends_set(struct bh_ctx *ctx, int nr, const struct bh_svc_frontend *fe,
			 int *changed)
{
	struct bh_svc_key *want = calloc((size_t)nr + 1, sizeof(*want)), *have = NULL;
	struct bh_svc_key k, next, *prev = NULL;
	struct bh_svc_val v = { 0 };
	char path[PATH_MAX];
	int fd = -1, err = 0, nr_have = 0, cap = 0;

	*changed = 0;
	if (!want)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	for (int i = 0; i < nr; i++) {
		struct bh_ip ip;

		if (bh_ip_parse(fe[i].addr, &ip)) {
			free(want);
			return bh_err(ctx, -EINVAL, true, "Service frontend: %s is not an address",
				      fe[i].addr);
		}
		memcpy(want[i].addr, ip.addr, 16);
		want[i].port = htons(fe[i].port);
		want[i].proto = fe[i].proto;
	}
	qsort(want, (size_t)nr, sizeof(*want), key_cmp);
	err = bh_ctx_lock(ctx);
	if (err) {
		free(want);
		return err;
	}
	if (nr && !bh_svc_hook_attached(ctx)) {
		err = bh_err(ctx, -ENOLINK, false, "the Services post-NAT hook is not attached");
		goto out;
	}
	/* the conntrack kfunc the tc hook asks knows TCP and UDP only: an
	 * SCTP frontend stays judged on the ClusterIP there */
	if (!nf_hook_attached(ctx))
		nr = drop_sctp(want, nr);
	err = bh_pin_path(ctx, BH_MAP_SVC, path, sizeof(path));
	if (!err && (fd = bpf_obj_get(path)) < 0)
		err = nr ? bh_err(ctx, -errno, false, "map %s is not pinned: %m", path) : 0;
	if (err || fd < 0)
		goto out;
	/* read what is there first: deleting while walking skips keys */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (nr_have == cap) {
			void *n = realloc(have, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*have));

			if (!n) {
				err = bh_err(ctx, -ENOMEM, false, "out of memory");
				goto out;
			}
			have = n;
		}
		have[nr_have++] = next;
		k = next;
		prev = &k;
	}
	qsort(have, (size_t)nr_have, sizeof(*have), key_cmp);
	/* add before remove: a Service moving ports is never unjudged */
	for (int i = 0; i < nr; i++) {
		if ((i && !key_cmp(&want[i], &want[i - 1])) || key_in(&want[i], have, nr_have))
			continue;
		if (bpf_map_update_elem(fd, &want[i], &v, BPF_ANY)) {
			err = bh_err(ctx, -errno, false, "cannot add a Service frontend: %m");
			goto out;
		}
		(*changed)++;
	}
	for (int i = 0; i < nr_have; i++) {
		if (key_in(&have[i], want, nr))
			continue;
		if (bpf_map_delete_elem(fd, &have[i]) && errno != ENOENT) {
			err = bh_err(ctx, -errno, false, "cannot remove a Service frontend: %m");
			goto out;
		}
		(*changed)++;
	}
out:
	if (fd >= 0)
		close(fd);
	bh_ctx_unlock(ctx);
	free(want);
	free(have);
	return err;
}

void bh_svc_hook_status(struct bh_ctx *ctx, struct bh_svc_status *st)
{
	struct bh_svc_key k, *prev = NULL;
	char path[PATH_MAX];
	int fd;

	memset(st, 0, sizeof(*st));
	st->netfilter = nf_hook_attached(ctx);
	bh_svc_tc_status(ctx, st);
	if (bh_pin_path(ctx, BH_MAP_SVC, path, sizeof(path)) || (fd = bpf_obj_get(path)) < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		st->frontends++;
		prev = &k;
	}
	close(fd);
}

int bh_svc_hook_upgrade(struct bh_ctx *ctx, int *sites)
{
	int err;

	*sites = 0;
	if (!nf_hook_attached(ctx))
		return bh_svc_tc_replace(ctx, sites);
	/* netfilter links cannot change program: new links first (both
	 * judge meanwhile; the first one clears the flag), then their pins
	 * replace the old ones, whose links go with them */
	err = nf_hook_attach(ctx);
	if (!err)
		*sites = 2;
	return err;
}
