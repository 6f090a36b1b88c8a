// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_test_util.h"

#define BT_BPFFS "/sys/fs/bpf"

static int bt_ensure_bpffs(void)
{
	struct statfs st;

	if (statfs(BT_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BT_BPFFS, "bpf", 0, NULL))
		return -errno;
	return 0;
}

int bt_bpffs_dir(const char *tag, char *path, size_t len)
{
	int err = bt_ensure_bpffs();
	int n;

	if (err)
		return err;
	n = snprintf(path, len, BT_BPFFS "/bhtest_%s_%d_XXXXXX", tag, (int)getpid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!mkdtemp(path))
		return -errno;
	return 0;
}

int bt_bpffs_remove(const char *path)
{
	char p[512];
	struct dirent *de;
	DIR *d = opendir(path);
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (unlink(p) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(path) && !err)
		err = -errno;
	return err;
}

int bt_map_clear(int map_fd, size_t key_size)
{
	__u8 key[256], next[256];
	int guard;

	if (key_size > sizeof(key))
		return -EINVAL;
	/* Always delete the first key: deleting while walking may skip. */
	for (guard = 0; guard < 10000000; guard++) {
		if (bpf_map_get_next_key(map_fd, NULL, next))
			return errno == ENOENT ? 0 : -errno;
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(map_fd, key) && errno != ENOENT)
			return -errno;
	}
	return -E2BIG;
}

int bt_run_repeat(int prog_fd, const void *frame, size_t len, int repeat, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = (__u32)len,
		.repeat = repeat,
	);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

int bt_run(int prog_fd, const void *frame, size_t len, __u32 *retval)
{
	return bt_run_repeat(prog_fd, frame, len, 1, retval);
}

__u64 bt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}
