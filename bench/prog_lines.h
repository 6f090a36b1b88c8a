// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A loaded program's source lines by JIT address, for a profiler that
 * wants to say which call of a helper or map operation took the time
 * (bench/perf_where.py --lines): a sample inside a kernel function has the
 * program's return address one frame up, and that address falls in the
 * JIT code of one source line. The kernel keeps the line info (from the
 * object's BTF) with the JIT address of each record; bpftool here cannot
 * print it (no libbfd), so it is read with BPF_OBJ_GET_INFO_BY_FD.
 *
 * One line per record, address order as the kernel gives it:
 *   <JIT address, hex> <file>:<line> <source text>
 * Addresses are absolute: the table is only good while this load of the
 * program lives, which is what a profile of it sees.
 */
#ifndef BH_BENCH_PROG_LINES_H
#define BH_BENCH_PROG_LINES_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

static void bh_lines_print(FILE *f, struct btf *btf, const __u64 *addr,
			   const struct bpf_line_info *li, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *src = btf__name_by_offset(btf, li[i].line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		fprintf(f, "%llx %s:%u %s\n", (unsigned long long)addr[i],
			base ? base + 1 : file ? file : "?", BPF_LINE_INFO_LINE_NUM(li[i].line_col),
			src ? src : "");
	}
}

/* Write prog_fd's line table to path; 0 or -errno, with a message. */
static int bh_lines_write(int prog_fd, const char *path)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), n;
	struct bpf_line_info *li = NULL;
	struct btf *btf = NULL;
	__u64 *addr = NULL;
	FILE *f = NULL;
	int err;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return fprintf(stderr, "prog_lines: program info: %m\n"), -errno;
	n = info.nr_line_info < info.nr_jited_line_info ? info.nr_line_info : info.nr_jited_line_info;
	if (!n || !info.btf_id) {
		fprintf(stderr, "prog_lines: the program has no JIT line info\n");
		return -ENOENT;
	}
	li = calloc(n, sizeof(*li));
	addr = calloc(n, sizeof(*addr));
	err = li && addr ? 0 : -ENOMEM;
	if (!err) {
		memset(&info, 0, sizeof(info));
		info.nr_line_info = n;
		info.line_info_rec_size = sizeof(*li);
		info.line_info = (__u64)(unsigned long)li;
		info.nr_jited_line_info = n;
		info.jited_line_info_rec_size = sizeof(*addr);
		info.jited_line_info = (__u64)(unsigned long)addr;
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
			err = -errno;
	}
	if (!err) {
		btf = btf__load_from_kernel_by_id(info.btf_id);
		if (!btf)
			err = -errno;
	}
	if (!err && !(f = fopen(path, "w")))
		err = -errno;
	if (!err) {
		bh_lines_print(f, btf, addr, li, n);
		if (fclose(f))
			err = -errno;
	}
	if (err)
		fprintf(stderr, "prog_lines: %s: %s\n", path, strerror(-err));
	btf__free(btf);
	free(addr);
	free(li);
	return err;
}

#endif /* BH_BENCH_PROG_LINES_H */
