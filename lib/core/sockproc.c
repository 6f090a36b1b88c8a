// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Loading the socket-side program; see sockproc.h. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bulkhead_sock.skel.h"
#include "sockproc.h"

struct bh_sockproc {
	struct bulkhead_sock *skel;
	struct bpf_link *tcp, *send, *recv;
};

static int attach(struct bpf_program *prog, struct bpf_link **out)
{
	*out = bpf_program__attach(prog);
	return *out ? 0 : -errno;
}

int bh_cgroup2_root_fd(void)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "re");
	int fd = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			fd = open(m->mnt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
			break;
		}
	endmntent(f);
	return fd;
}

int bh_sockproc_select(struct bpf_object *obj)
{
	struct btf *btf = btf__load_vmlinux_btf();
	struct bpf_program *p;
	bool udp;

	if (!btf)
		return -errno ? -errno : -ENOENT;
	udp = btf__find_by_name_kind(btf, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) >= 0 &&
	      btf__find_by_name_kind(btf, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) >= 0;
	btf__free(btf);
	bpf_object__for_each_program(p, obj)
		if (!strcmp(bpf_program__name(p), "bh_sock_send") ||
		    !strcmp(bpf_program__name(p), "bh_sock_recv"))
			bpf_program__set_autoload(p, udp);
	return 0;
}

/* TCP: the socket operations program on the root of the cgroup v2
 * hierarchy (it runs for every socket below). */
static int attach_tcp(struct bh_sockproc *sp)
{
	int fd = bh_cgroup2_root_fd(), err = 0;

	if (fd < 0)
		return fd;
	sp->tcp = bpf_program__attach_cgroup(sp->skel->progs.bh_sock_ops, fd);
	if (!sp->tcp)
		err = -errno;
	close(fd);
	return err;
}

int bh_sockproc_open(struct bh_sockproc **out)
{
	struct bh_sockproc *sp = calloc(1, sizeof(*sp));
	int err;

	if (!sp)
		return -ENOMEM;
	sp->skel = bulkhead_sock__open();
	if (!sp->skel) {
		err = -errno;
		goto fail;
	}
	err = bh_sockproc_select(sp->skel->obj);
	if (err)
		goto fail;
	err = bulkhead_sock__load(sp->skel);
	if (err)
		goto fail;
	err = attach_tcp(sp);
	if (err)
		goto fail;
	/* UDP is best effort: kernels before 6.4 lack the tracepoints */
	if (bpf_program__autoload(sp->skel->progs.bh_sock_send) &&
	    (attach(sp->skel->progs.bh_sock_send, &sp->send) ||
	     attach(sp->skel->progs.bh_sock_recv, &sp->recv))) {
		bpf_link__destroy(sp->send);
		sp->send = NULL;
	}
	*out = sp;
	return 0;
fail:
	bh_sockproc_close(sp);
	return err < 0 ? err : -EINVAL;
}

void bh_sockproc_close(struct bh_sockproc *sp)
{
	if (!sp)
		return;
	bpf_link__destroy(sp->recv);
	bpf_link__destroy(sp->send);
	bpf_link__destroy(sp->tcp);
	bulkhead_sock__destroy(sp->skel);
	free(sp);
}

int bh_sockproc_ring_fd(const struct bh_sockproc *sp)
{
	return bpf_map__fd(sp->skel->maps.bh_sockproc_v1);
}

bool bh_sockproc_udp(const struct bh_sockproc *sp)
{
	return sp->send && sp->recv;
}

__u64 bh_sockproc_lost(const struct bh_sockproc *sp)
{
	return sp->skel->bss->bh_sockproc_lost;
}

int bh_netns_nsid(int nsfd)
{
	struct {
		struct nlmsghdr nlh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		__u32 fd;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
			 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
		.a = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = NETNSA_FD },
		.fd = (__u32)nsfd,
	};
	char buf[256];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int s, n, nsid = -ENOENT;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	if (send(s, &req, sizeof(req), 0) < 0 || (n = (int)recv(s, buf, sizeof(buf), 0)) < 0) {
		nsid = -errno;
		close(s);
		return nsid;
	}
	close(s);
	if (!NLMSG_OK(nlh, (unsigned)n))
		return -EPROTO;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		return e->error ? e->error : -EPROTO;
	}
	{
		const struct rtgenmsg *g = NLMSG_DATA(nlh);
		const struct rtattr *a = (const struct rtattr *)((const char *)g +
								 NLMSG_ALIGN(sizeof(*g)));
		int left = (int)nlh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));

		for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
			if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) == sizeof(__s32)) {
				__s32 id = *(const __s32 *)RTA_DATA(a);

				nsid = id < 0 ? -ENOENT : id;
			}
	}
	return nsid;
}
