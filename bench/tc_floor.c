// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The veth path's floor (bench/veth_path.sh, mode tcempty): an empty TC
 * program (return TC_ACT_OK) on both tcx hooks of a host veth, attached
 * the way bulkhead attaches its own (bpf_prog_attach, no link), so that
 * what bulkhead's programs cost on the path can be told from what any TC
 * program on that hook costs.
 *
 *   tc_floor attach IFNAME...   both hooks of each interface
 *   tc_floor detach IFNAME...   every program named bh_tc_floor on them
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define TCX_INGRESS	46
#define TCX_EGRESS	47
#define FLOOR_NAME	"bh_tc_floor"

static int load_floor(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, FLOOR_NAME, "GPL", insns, 2, NULL);

	return fd < 0 ? -errno : fd;
}

static int detach(unsigned int ifindex, int type)
{
	__u32 ids[64], cnt = 64;

	if (bpf_prog_query((int)ifindex, type, 0, NULL, ids, &cnt))
		return errno == ENODEV || errno == ENOENT ? 0 : -errno;
	for (__u32 i = 0; i < cnt; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, FLOOR_NAME) &&
		    bpf_prog_detach2(fd, ifindex, type)) {
			int err = -errno;

			close(fd);
			return err;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int attach, fd = -1, err = 0;

	if (argc < 3 || (strcmp(argv[1], "attach") && strcmp(argv[1], "detach"))) {
		fprintf(stderr, "usage: %s attach|detach IFNAME...\n", argv[0]);
		return 1;
	}
	attach = !strcmp(argv[1], "attach");
	if (attach) {
		fd = load_floor();
		if (fd < 0) {
			fprintf(stderr, "tc_floor: cannot load the empty program: %s\n", strerror(-fd));
			return 2;
		}
	}
	for (int i = 2; i < argc && !err; i++) {
		unsigned int ifindex = if_nametoindex(argv[i]);

		if (!ifindex) {
			fprintf(stderr, "tc_floor: no interface %s\n", argv[i]);
			err = -ENODEV;
			break;
		}
		if (attach) {
			if (bpf_prog_attach(fd, ifindex, TCX_INGRESS, 0) ||
			    bpf_prog_attach(fd, ifindex, TCX_EGRESS, 0))
				err = -errno;
		} else {
			err = detach(ifindex, TCX_INGRESS) ?: detach(ifindex, TCX_EGRESS);
		}
		if (err)
			fprintf(stderr, "tc_floor: cannot %s on %s: %s\n", argv[1], argv[i],
				strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err ? 2 : 0;
}
