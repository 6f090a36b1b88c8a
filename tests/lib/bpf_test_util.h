/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers for BPF_PROG_TEST_RUN tests: a private bpffs directory for the
 * pins of one run, per-CPU map sums, map clearing and a test run.
 * Functions return 0 or a negative errno.
 */
#ifndef BH_BPF_TEST_UTIL_H
#define BH_BPF_TEST_UTIL_H

#include <stddef.h>
#include <linux/types.h>

#include "maps.h"

/* Create a unique directory under /sys/fs/bpf (mounting bpffs there if
 * it is not mounted) named after tag. */
int bt_bpffs_dir(const char *tag, char *path, size_t len);
/* Unlink every pin in path, then the directory itself. */
int bt_bpffs_remove(const char *path);

/* Per-CPU sums: bh_percpu_sum and bh_percpu_fold of lib/core/maps.h. */

/* Delete every entry of a hash-like map. */
int bt_map_clear(int map_fd, size_t key_size);

/* Run prog once on an Ethernet frame; *retval is the program's return. */
int bt_run(int prog_fd, const void *frame, size_t len, __u32 *retval);
/* Same, repeat times in the kernel (for cheap floods). */
int bt_run_repeat(int prog_fd, const void *frame, size_t len, int repeat, __u32 *retval);

/* CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns(). */
__u64 bt_now_ns(void);

#endif /* BH_BPF_TEST_UTIL_H */
