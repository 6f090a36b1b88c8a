// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel probes for `bulkhead doctor` (doctor.h). Hook probes attach a
 * two-instruction program to the loopback device of a network namespace
 * made for the probe in a child process: the host's interfaces never see
 * it, and everything goes away when the child exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "attach.h"
#include "doctor.h"
#include "bulkhead_xdp.skel.h"
#include "bulkhead_tc.skel.h"

#ifdef __BULKHEAD_XDP_BPF_SKEL_H__
#define XDP_SKEL bulkhead_xdp_bpf
#else
#define XDP_SKEL bulkhead_xdp
#endif
#ifdef __BULKHEAD_TC_BPF_SKEL_H__
#define TC_SKEL bulkhead_tc_bpf
#else
#define TC_SKEL bulkhead_tc
#endif
#define SKEL_CAT2(a, b) a##__##b
#define SKEL_CAT(a, b) SKEL_CAT2(a, b)
#define SKEL_FN(skel, fn) SKEL_CAT(skel, fn)

enum probe_kind { PROBE_TCX, PROBE_CLSACT, PROBE_XDP };

/* r0 = 0 (TC_ACT_OK is 0; XDP_ABORTED is 0 too, never run here); exit */
static int trivial_prog(enum bpf_prog_type type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, "bh_probe", "GPL", insns, 2, NULL);
}

static int probe_in_child(enum probe_kind kind)
{
	int fd, err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = trivial_prog(kind == PROBE_XDP ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS);
	if (fd < 0)
		return -errno;
	switch (kind) {
	case PROBE_TCX:
		err = bpf_prog_attach(fd, 1, BH_TCX_INGRESS, 0) ? -errno : 0;
		break;
	case PROBE_CLSACT: {
		LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = fd, .handle = 1, .priority = 1);

		err = bpf_tc_hook_create(&h);
		if (!err)
			err = bpf_tc_attach(&h, &o);
		break;
	}
	default:
		/* Generic mode: the loopback device has no native XDP; the
		 * veths bulkhead attaches to have it on every kernel with XDP. */
		err = bpf_xdp_attach(1, fd, XDP_FLAGS_SKB_MODE, NULL);
		break;
	}
	close(fd);
	return err;
}

static int probe(enum probe_kind kind)
{
	int st, pfd[2], err = -EIO;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		int r = probe_in_child(kind);

		/* write(2) of 4 bytes to a pipe is atomic */
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &err, sizeof(err)) != sizeof(err))
		err = -EIO;
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return err;
}

int bh_probe_tcx(void)
{
	return probe(PROBE_TCX);
}

int bh_probe_clsact(void)
{
	return probe(PROBE_CLSACT);
}

int bh_probe_xdp(void)
{
	return probe(PROBE_XDP);
}

/* Maps shrunk to 64 entries: the probe asks the verifier, it does not
 * need room (the ring buffer keeps its size: a power-of-2 page count). */
static void shrink_maps(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		bpf_map__set_pin_path(m, NULL);
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF && bpf_map__max_entries(m) > 64 &&
		    bpf_map__type(m) != BPF_MAP_TYPE_ARRAY &&
		    bpf_map__type(m) != BPF_MAP_TYPE_PERCPU_ARRAY &&
		    bpf_map__type(m) != BPF_MAP_TYPE_ARRAY_OF_MAPS)
			bpf_map__set_max_entries(m, 64);
	}
}

int bh_probe_programs(char *msg, size_t len)
{
	struct XDP_SKEL *x;
	struct TC_SKEL *t;
	int err;

	msg[0] = '\0';
	x = SKEL_FN(XDP_SKEL, open)();
	if (!x) {
		err = -errno;
		snprintf(msg, len, "cannot open the XDP object: %s", strerror(-err));
		return err;
	}
	shrink_maps(x->obj);
	err = SKEL_FN(XDP_SKEL, load)(x);
	SKEL_FN(XDP_SKEL, destroy)(x);
	if (err) {
		snprintf(msg, len, "the kernel refused the XDP program: %s", strerror(-err));
		return err;
	}
	t = SKEL_FN(TC_SKEL, open)();
	if (!t) {
		err = -errno;
		snprintf(msg, len, "cannot open the TC object: %s", strerror(-err));
		return err;
	}
	shrink_maps(t->obj);
	err = SKEL_FN(TC_SKEL, load)(t);
	SKEL_FN(TC_SKEL, destroy)(t);
	if (err)
		snprintf(msg, len, "the kernel refused the TC programs: %s", strerror(-err));
	return err;
}
