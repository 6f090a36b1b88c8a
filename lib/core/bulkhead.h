/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libbulkhead: the userspace API shared by the CLI, the CNI plugin and the
 * agent. Every function returns 0 or a negative errno; none prints. A
 * human-readable reason for the last failure is kept in the context
 * (bh_ctx_error) so the front end prints exactly one message.
 *
 * Instances are isolated by BULKHEAD_BPFFS (pins, default
 * /sys/fs/bpf/bulkhead) and BULKHEAD_STATE_DIR (SQLite store and lock,
 * default /var/lib/bulkhead).
 */
#ifndef BULKHEAD_H
#define BULKHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bulkhead_abi.h"
#include "labels.h"

#define BH_DEFAULT_BPFFS	"/sys/fs/bpf/bulkhead"
#define BH_DEFAULT_STATE_DIR	"/var/lib/bulkhead"

/* Exit statuses of the front ends (docs/cli.md). */
#define BH_EXIT_OK	0
#define BH_EXIT_USER	1	/* bad input */
#define BH_EXIT_SYSTEM	2	/* kernel, store or I/O failure */

struct bh_ctx;

struct bh_ctx_opts {
	const char *bpffs;	/* NULL: $BULKHEAD_BPFFS or default */
	const char *state_dir;	/* NULL: $BULKHEAD_STATE_DIR or default */
	bool read_only;		/* listings: no bpffs mount, no map creation */
};

int bh_ctx_open(const struct bh_ctx_opts *opts, struct bh_ctx **out);
void bh_ctx_close(struct bh_ctx *ctx);
/* Message describing the last failure, "" if none. */
const char *bh_ctx_error(const struct bh_ctx *ctx);
/* True if the last failure was the user's input (exit 1), not the system's. */
bool bh_ctx_error_is_user(const struct bh_ctx *ctx);
const char *bh_ctx_bpffs(const struct bh_ctx *ctx);
const char *bh_ctx_state_dir(const struct bh_ctx *ctx);
/* The open SQLite store (WAL). The core's tables are versioned (store.h);
 * the controller's and the CNI plugin's modules create their own. */
struct sqlite3 *bh_ctx_db(struct bh_ctx *ctx);

/* Serialise mutations across CLI, CNI and agent processes (flock on
 * STATE_DIR/lock). The rule: every function of the core that changes the
 * store or the maps takes the lock itself, and the lock nests within a
 * process, so a caller never has to. A caller takes it only to make
 * several calls one change no other process sees half of. */
int bh_ctx_lock(struct bh_ctx *ctx);
void bh_ctx_unlock(struct bh_ctx *ctx);

/* ------------------------------------------------------------ addresses */
/* Parse "10.0.0.1", "fd00::1" into an IPv4-mapped bh_ip. */
int bh_ip_parse(const char *s, struct bh_ip *ip);
/* Format without the IPv4-mapped prefix. buf >= INET6_ADDRSTRLEN. */
const char *bh_ip_format(const struct bh_ip *ip, char *buf, size_t len);
const char *bh_addr_format(const __u8 addr[16], char *buf, size_t len);

/* ------------------------------------------------------------ workloads */
struct bh_workload_info {
	char ns[BH_NAME_MAX + 1];
	char name[BH_NAME_MAX + 1];
	char ifname[16];
	__u32 ifindex;
	__u32 slot;
	__u32 identity;
	enum bh_mode mode;
	enum bh_hook hook;
	bool quarantined;
	char quarantine_reason[256];
	int nr_ips;
	struct bh_ip ips[BH_MAX_WORKLOAD_IPS];
	int nr_labels;
	struct bh_label labels[BH_MAX_LABELS];
	int nr_ports;				/* named ports, by name */
	struct bh_named_port ports[BH_MAX_NAMED_PORTS];
	bool pending;				/* identity not arrived: unknown_pod posture */
};

struct bh_attach_opts {
	const char *ifname;		/* host-side veth */
	const char *ns;
	const char *name;
	int nr_ips;
	struct bh_ip ips[BH_MAX_WORKLOAD_IPS];
	int nr_labels;
	struct bh_label labels[BH_MAX_LABELS];
	enum bh_hook hook;
	enum bh_mode mode;
	/* layer 2 identity (lib/l2id.h): the container interface's MAC, else
	 * learned from the veth peer; a router may send RA and redirects */
	bool has_mac;
	__u8 mac[6];
	bool router;
	/* named ports (`port: NAME` in rules resolves through them) */
	int nr_ports;
	struct bh_named_port ports[BH_MAX_NAMED_PORTS];
	/* the pod's identity has not arrived (unknown_pod: deny): attach
	 * closed, DNS to kube-dns open, until bh_workload_identity_arrived */
	bool pending;
	/* a pod being created (CNI ADD): with tc_attach = auto its TC
	 * programs go on clsact, to tcx later (bh_workload_promote_hooks) */
	bool birth;
};

/* Register the workload, compile its policy, then attach the programs, so
 * it is enforced from its first packet. All-or-nothing. */
int bh_workload_attach(struct bh_ctx *ctx, const struct bh_attach_opts *opts);
/* Move the TC programs of workloads attached at birth from clsact to tcx
 * (tc_attach = auto on a kernel with tcx); *moved counts the workloads
 * moved. Takes the lock only when one of them is on clsact, and never
 * creates an instance that is not there (after a reset it does nothing). */
int bh_workload_promote_hooks(struct bh_ctx *ctx, int *moved);
/* Detach programs from IFNAME and unregister its workload. -ENOENT if
 * IFNAME carries no workload of this instance. */
int bh_workload_detach(struct bh_ctx *ctx, const char *ifname);
/* As above by ifindex, only if the stored veth name matches (CNI DEL). */
int bh_workload_detach_ifindex(struct bh_ctx *ctx, __u32 ifindex, const char *ifname);
int bh_workload_get(struct bh_ctx *ctx, const char *ns, const char *name,
		    struct bh_workload_info *out);
int bh_workload_get_slot(struct bh_ctx *ctx, __u32 slot, struct bh_workload_info *out);
/* Calls fn for each workload, ordered by ns/name; stops on non-zero. */
int bh_workload_foreach(struct bh_ctx *ctx,
			int (*fn)(const struct bh_workload_info *w, void *arg), void *arg);
int bh_workload_set_mode(struct bh_ctx *ctx, const char *ns, const char *name,
			 enum bh_mode mode);
/* Swap the workload's policy slot to the shared deny-all map (one map
 * update) and record the reason; established connections die too. */
int bh_workload_quarantine(struct bh_ctx *ctx, const char *ns, const char *name,
			   const char *reason);
/* The same; the timeline event says `explanation` (which should begin
 * with the reason) instead of the bare reason: a decision of the agent's
 * rules, with the flows behind it. */
int bh_workload_quarantine_explained(struct bh_ctx *ctx, const char *ns, const char *name,
				     const char *reason, const char *explanation);
int bh_workload_release(struct bh_ctx *ctx, const char *ns, const char *name);
/* Is the programs' attachment on ifindex in place? (CNI CHECK) */
int bh_workload_check_attached(struct bh_ctx *ctx, __u32 ifindex);

/* --------------------------------------------------------------- events
 * The timeline: attach, detach, policy, mode, quarantine, release,
 * deviation... Stored in the state store, ordered by id.
 */
struct bh_event_rec {
	__s64 id;
	__s64 ts_ms;		/* wall clock, ms since epoch */
	char ns[BH_NAME_MAX + 1];
	char name[BH_NAME_MAX + 1];
	char kind[32];		/* "attach", "quarantine", "deviation", ... */
	char severity[16];	/* "info", "notice", "warning", "alert" */
	char detail[1024];
};

int bh_event_add(struct bh_ctx *ctx, const char *ns, const char *name,
		 const char *kind, const char *severity, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* ns/name NULL: all workloads. after_id: only events with id > after_id. */
int bh_event_foreach(struct bh_ctx *ctx, const char *ns, const char *name, __s64 after_id,
		     int (*fn)(const struct bh_event_rec *e, void *arg), void *arg);

/* ----------------------------------------------------------------- rules
 * Rule ids in flow records and stats resolve to "ns/policy#N (dir)".
 */
int bh_rule_describe(struct bh_ctx *ctx, __u32 rule_id, char *buf, size_t len);
const char *bh_verdict_name(enum bh_verdict v);
const char *bh_reason_name(enum bh_reason r);
const char *bh_mode_name(enum bh_mode m);
int bh_mode_parse(const char *s, enum bh_mode *out);
const char *bh_dir_name(enum bh_dir d);

/* ---------------------------------------------------------------- stats */
struct bh_workload_stats {
	struct bh_stat dir[2][BH_R_MAX];	/* [BH_DIR_INGRESS / _EGRESS][reason] */
	struct bh_stat reason[BH_R_MAX];	/* both directions */
};
int bh_stats_workload(struct bh_ctx *ctx, __u32 slot, struct bh_workload_stats *out);
int bh_stats_counters(struct bh_ctx *ctx, __u64 out[BH_C_MAX]);

/* ---------------------------------------------------------------- maps
 * Pinned map fds for the agent and tools (owned by ctx, do not close).
 */
int bh_map_fd(struct bh_ctx *ctx, const char *name);

/* Detach every program of this instance, unpin everything, clear state. */
int bh_reset(struct bh_ctx *ctx);

/* ---------------------------------------------- context, parsers, hooks */
/* A policy sync: count and time it (bh_policy_sync, policy apply). */
__s64 bh_ctx_sync_start(void);
void bh_ctx_sync_done(struct bh_ctx *ctx, int err, __s64 start);
/* Record a failure message for the front end; returns err. */
int bh_ctx_set_error(struct bh_ctx *ctx, int err, bool user, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Make sure programs and maps are loaded/pinned (mutating callers). */
int bh_ctx_load(struct bh_ctx *ctx);

/* Parse "K=V" into a label; -EINVAL on a bad key or value. */
int bh_label_parse(const char *s, struct bh_label *out);
/* A kubectl-style label selector string ("app=web,tier!=db,env in
 * (a,b),!canary") into a selector for bh_selector_match. -EINVAL with a
 * message in err. Free with bh_selector_free. */
struct bh_selector;
int bh_selector_parse_string(const char *s, struct bh_selector *out, char *err, size_t errlen);
int bh_hook_parse(const char *s, enum bh_hook *out);
const char *bh_hook_name(enum bh_hook h);
const char *bh_counter_name(enum bh_counter c);

/* Attached programs on an interface, per hook (debug hooks, tests). */
struct bh_hook_prog {
	__u32 id;
	char name[16];
	bool ours;		/* one of this instance's pinned programs */
};
struct bh_hook_info {
	int nr_xdp, nr_tcx_ingress, nr_tcx_egress, nr_clsact_ingress, nr_clsact_egress;
	struct bh_hook_prog xdp[4], tcx_ingress[16], tcx_egress[16];
	/* the filter at bulkhead's clsact handle/priority (tc_clsact.h) */
	struct bh_hook_prog clsact_ingress[1], clsact_egress[1];
	bool xdp_multiprog;	/* a libxdp dispatcher is attached */
};
int bh_hooks_query(struct bh_ctx *ctx, __u32 ifindex, struct bh_hook_info *out);

/* Namespace labels as stored (the automatic kubernetes.io/metadata.name
 * included); nr in/out: capacity/count. */
int bh_namespace_get_labels(struct bh_ctx *ctx, const char *ns, int *nr,
			    struct bh_label *labels);

/* (core) Replace a workload's named ports (the Kubernetes watch keeps
 * them equal to the pod's container ports); maps follow. */
int bh_workload_set_ports(struct bh_ctx *ctx, const char *ns, const char *name, int nr,
			  const struct bh_named_port *ports);
/* (core) A pending workload's identity arrived (its labels and ports
 * are set): leave the unknown_pod posture, its policy applies. */
int bh_workload_identity_arrived(struct bh_ctx *ctx, const char *ns, const char *name);

/* (core) Per-rule counters (bh_rule_stats_v2): packets and bytes each
 * rule decided, summed over CPUs, in rule id order, rules that counted nothing left out. Rule id 0
 * (BH_RULE_STATS_OVERFLOW) sums the rules whose id is beyond the map.
 * Resolve ids with bh_rule_describe. 0 with no call if the map does not
 * exist. */
struct bh_rule_stat {
	__u32 rule_id;
	struct bh_stat stat;
};
int bh_stats_rules_foreach(struct bh_ctx *ctx,
			   int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg);

/* (core) Change a workload's or a namespace's labels: set[] added or
 * replaced, then remove[] keys deleted (absent keys are not an error);
 * maps follow (sync). kubernetes.io/metadata.name cannot be changed. */
int bh_workload_label(struct bh_ctx *ctx, const char *ns, const char *name, int nr_set,
		      const struct bh_label *set, int nr_remove, const char *const *remove);
int bh_namespace_relabel(struct bh_ctx *ctx, const char *ns, int nr_set,
			 const struct bh_label *set, int nr_remove, const char *const *remove);

#endif /* BULKHEAD_H */
