/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The programs of a baseline. In learn mode the agent records which
 * programs (executables) made a workload's flows:
 *
 *   baseline_procs(ns, name, exe, comm, flows, first_ms, last_ms)
 *
 * In monitor and enforce mode, a flow made by a program not among them
 * is a deviation ("new process"), as long as the workload learned at
 * least one program. Programs do not go into exported policies.
 */
#ifndef BULKHEAD_BASELINE_PROCS_H
#define BULKHEAD_BASELINE_PROCS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* A program the workload was seen talking with. */
struct bh_baseline_proc {
	char exe[256];			/* executable path (or file name) */
	char comm[16];			/* command name last seen */
	int64_t flows;
	int64_t first_ms, last_ms;
};

int bh_baseline_learn_proc(sqlite3 *db, const char *ns, const char *name, const char *exe,
			   const char *comm, int64_t now_ms);
/* The workload's programs, appended to *procs (realloc'd; *nr counts
 * them); no table: none. */
int bh_baseline_load_procs(sqlite3 *db, const char *ns, const char *name,
			   struct bh_baseline_proc **procs, int *nr);
int bh_baseline_clear_procs(sqlite3 *db, const char *ns, const char *name);
/* Is exe among procs[0..nr)? A file name alone (the process was gone
 * before its path was read) matches a path by its last component. */
bool bh_baseline_procs_cover(const struct bh_baseline_proc *procs, int nr, const char *exe);

#endif /* BULKHEAD_BASELINE_PROCS_H */
