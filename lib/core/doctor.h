/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bulkhead doctor`: what this node's kernel and host offer bulkhead, and
 * what is missing. Each check asks the kernel itself (a probe program
 * loaded, a hook attached in a private network namespace that disappears
 * with the probe), never a kernel version table: distribution kernels
 * backport and configure features differently.
 *
 * A check is needed (the agent, the CLI or the CNI plugin cannot enforce
 * without it) or optional (one way of working needs it, e.g. XDP for
 * `--hook xdp`). The node is usable when every needed check passed.
 */
#ifndef BULKHEAD_DOCTOR_H
#define BULKHEAD_DOCTOR_H

#include <stdbool.h>

#include "tc_clsact.h"

#define BH_DOCTOR_MAX 16

enum bh_doctor_state {
	BH_DOC_OK,		/* present */
	BH_DOC_MISSING,		/* absent */
	BH_DOC_INFO,		/* a fact, neither present nor absent */
};

struct bh_doctor_check {
	char name[24];			/* "bpffs", "tcx", ... (stable: JSON keys, docs) */
	enum bh_doctor_state state;
	bool needed;			/* missing + needed = the node cannot run bulkhead */
	char detail[320];
};

struct bh_doctor_opts {
	const char *bpffs;		/* pin dir of the instance */
	enum bh_tc_attach tc_attach;	/* as configured (auto, tcx, clsact) */
	bool xdp_needed;		/* the instance's hook is xdp */
	const char *cni_conf_dir;	/* NULL: /etc/cni/net.d */
	const char *cni_bin_dir;	/* NULL: /opt/cni/bin */
};

struct bh_doctor_report {
	int nr;
	struct bh_doctor_check checks[BH_DOCTOR_MAX];
	bool usable;			/* every needed check is ok */
};

/* Run every check; the report is filled even when a probe fails (the
 * failure is the check's detail). Returns 0, or -ENOMEM. */
int bh_doctor_run(const struct bh_doctor_opts *opts, struct bh_doctor_report *r);
const char *bh_doctor_state_name(enum bh_doctor_state s);
/* The same for an instance: what its config ($BULKHEAD_STATE_DIR/config)
 * needs, plus a "config" finding when that file does not parse.
 * cni_*_dir: NULL for the defaults. */
struct bh_ctx;
int bh_doctor_run_ctx(struct bh_ctx *ctx, const char *cni_conf_dir, const char *cni_bin_dir,
		      struct bh_doctor_report *r);

/* doctor_probe.c: the kernel probes, each run in a child process inside a
 * fresh network namespace so no interface of the host is touched. 0 when
 * the hook took a program; negative errno otherwise. */
int bh_probe_tcx(void);
int bh_probe_clsact(void);
int bh_probe_xdp(void);
/* Load bulkhead's own programs (not pinned, maps shrunk): the verifier of
 * this kernel accepts them. msg gets libbpf's reason on failure. */
int bh_probe_programs(char *msg, size_t len);

#endif /* BULKHEAD_DOCTOR_H */
