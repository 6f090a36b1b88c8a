/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Automatic quarantine rules, evaluated by the agent on every new flow.
 *
 *   denied_flows   N flows the policy denies (deny) or would deny
 *                  (would-deny) in T seconds
 *   scan           K distinct destination ports, or K distinct peers, in
 *                  T seconds, among the flows that are not explained:
 *                  denied / would-deny by policy, or (monitor and enforce
 *                  mode) outside the workload's baseline
 *   deny_cidrs     any flow towards an address in a listed CIDR
 *
 * Only flows the workload initiated (egress) count: the workload that
 * receives a scan is the victim, not the suspect. A flow that policy
 * allows and the baseline contains never counts. In learn mode every flow
 * policy allows is being learned, so only (would-)denied flows and
 * deny-listed destinations count there.
 *
 * Each rule has an action, alert or quarantine. A rule that fires with
 * action quarantine quarantines the workload only in enforce mode and
 * without dry_run; in learn or monitor mode, or with dry_run, the same
 * decision is a would-quarantine and nothing is done. Every decision
 * carries the flows that counted (oldest first, and why each counted) so
 * it can explain itself.
 *
 * Decisions are rate-limited by latches, so one attack is one decision:
 *   quarantine        the slot stops counting until bh_detect_forget
 *                     (release, detach).
 *   would-quarantine  quarantine-action rules stay silent for this
 *                     workload while flows keep counting towards them; they
 *                     re-arm after `hold` (the longest window of those rules,
 *                     at least 10 s) without a counted flow.
 *   alert             that rule stays silent while flows keep counting
 *                     towards it; it re-arms after its window (deny_cidrs:
 *                     10 s) without one.
 *
 * A workload matching an exempt pattern (a glob on "ns/name" such as
 * kube-system/ followed by a star) is never counted. Detection is pure (no
 * clock, no store): the caller passes each flow with its time and whether
 * its baseline covers it, and acts on the returned decisions, so the rules
 * are unit-tested without root. State is bounded: per workload slot, at
 * most `count` denied flows and `distinct_*` distinct keys, each with the
 * flow that last counted for it (56 bytes).
 */
#ifndef BULKHEAD_DETECT_H
#define BULKHEAD_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead.h"
#include "policy.h"

#define BH_DETECT_MAX_CIDRS	64
#define BH_DETECT_MAX_EXEMPT	64
#define BH_DETECT_MAX_DISTINCT	4096	/* upper bound for distinct_* */
#define BH_DETECT_MAX_COUNT	100000	/* upper bound for denied_flows.count */
#define BH_DETECT_CIDR_HOLD_MS	10000	/* deny_cidrs' quiet period after an alert */
#define BH_DETECT_MIN_HOLD_MS	10000	/* shortest would-quarantine latch */

/* What a rule does when it fires. 0 picks the rule's default:
 * quarantine for denied_flows and deny_cidrs, alert for scan. */
enum bh_detect_action {
	BH_DETECT_ACTION_DEFAULT = 0,
	BH_DETECT_ACTION_ALERT = 1,
	BH_DETECT_ACTION_QUARANTINE = 2,
};

struct bh_detect_opts {
	uint32_t denied_count;		/* 0: rule off */
	uint32_t denied_seconds;
	enum bh_detect_action denied_action;
	uint32_t scan_ports;		/* 0: off */
	uint32_t scan_peers;		/* 0: off */
	uint32_t scan_seconds;
	enum bh_detect_action scan_action;
	int nr_deny_cidrs;
	struct bh_cidr deny_cidrs[BH_DETECT_MAX_CIDRS];
	enum bh_detect_action cidr_action;
	/* per CIDR (an item {cidr, action}); DEFAULT: cidr_action */
	enum bh_detect_action deny_cidr_actions[BH_DETECT_MAX_CIDRS];
	bool dry_run;			/* never quarantine: would-quarantine */
	int nr_exempt;
	char exempt[BH_DETECT_MAX_EXEMPT][2 * BH_NAME_MAX + 2];
};

/* One new flow as detection sees it (initiator -> responder). */
struct bh_detect_flow {
	uint32_t slot;
	const char *ns, *name;
	uint64_t ts_ms;			/* any monotonic clock, ms */
	enum bh_dir dir;
	enum bh_verdict verdict;
	enum bh_mode mode;		/* the workload's mode when the flow started */
	bool outside_baseline;		/* no baseline entry covers it (the caller
					 * checks in monitor/enforce mode only) */
	__u8 family, proto;
	__u16 sport, dport;
	__u8 src[16];			/* the workload's address; IPv4-mapped */
	__u8 peer[16];			/* destination; IPv4-mapped for IPv4 */
};

enum bh_detect_rule {
	BH_DETECT_NONE = 0,
	BH_DETECT_DENIED,
	BH_DETECT_SCAN_PORTS,
	BH_DETECT_SCAN_PEERS,
	BH_DETECT_DENY_CIDR,
	BH_DETECT_RULES,		/* number of rules + 1 */
};

enum bh_detect_outcome {
	BH_DETECT_QUARANTINE = 1,	/* act now */
	BH_DETECT_WOULD_QUARANTINE,	/* learn/monitor mode or dry_run */
	BH_DETECT_ALERT,		/* the rule's action is alert */
	BH_DETECT_OUTCOMES,
};

/* Why a flow counted (bits). */
#define BH_DETECT_WHY_DENIED	0x1	/* policy denies or would deny it */
#define BH_DETECT_WHY_BASELINE	0x2	/* outside the baseline */
#define BH_DETECT_WHY_LISTED	0x4	/* towards a deny-listed CIDR */

/* A flow that counted towards a decision. */
struct bh_detect_counted {
	uint64_t ts_ms;
	__u8 src[16], dst[16];
	__u16 sport, dport;
	__u8 family, proto, verdict, why;
	__u8 mode, pad[7];
};

struct bh_detect_result {
	enum bh_detect_rule rule;
	enum bh_detect_outcome outcome;
	enum bh_mode mode;		/* of the deciding flow */
	bool dry_run;			/* a would-quarantine because of dry_run */
	uint32_t threshold;		/* N or K; 1 for deny_cidrs */
	uint32_t window_s;		/* 0 for deny_cidrs */
	char reason[256];		/* "auto: 20 denied flows in 10s" */
	/* the flows that counted, oldest first; the last one crossed the
	 * threshold. Valid until the next bh_detect_flow/forget/free. */
	const struct bh_detect_counted *counted;
	uint32_t nr_counted;
	uint32_t nr_denied, nr_baseline, nr_listed;	/* by why (a flow may be both) */
};

struct bh_detect;

int bh_detect_new(const struct bh_detect_opts *opts, struct bh_detect **out);
void bh_detect_free(struct bh_detect *d);
/* Feed one new flow. Fills res[0..n-1] with the decisions it caused, at
 * most one per rule, and returns n (0 if none); negative errno on
 * failure. After a quarantine decision the slot is ignored until
 * bh_detect_forget. */
int bh_detect_flow(struct bh_detect *d, const struct bh_detect_flow *f,
		   struct bh_detect_result res[BH_DETECT_RULES]);
/* Drop a slot's state (workload detached or released). */
void bh_detect_forget(struct bh_detect *d, uint32_t slot);
/* Is "ns/name" exempt? */
bool bh_detect_exempt(const struct bh_detect_opts *opts, const char *ns, const char *name);
/* Is any rule on? (the caller can skip its baseline lookups if not) */
bool bh_detect_enabled(const struct bh_detect_opts *o);
/* The action in force for a rule (defaults resolved). */
enum bh_detect_action bh_detect_rule_action(const struct bh_detect_opts *o,
					    enum bh_detect_rule r);

/* "denied-flows", "port-scan", "host-scan", "deny-cidr" */
const char *bh_detect_rule_name(enum bh_detect_rule r);
/* the configuration key: "quarantine.scan.distinct_ports" */
const char *bh_detect_rule_key(enum bh_detect_rule r);
/* "quarantine", "would-quarantine", "alert": also the event kind */
const char *bh_detect_outcome_name(enum bh_detect_outcome o);
int bh_detect_action_parse(const char *s, enum bh_detect_action *out);
/* "denied", "outside-baseline", "deny-listed", joined by '+' */
const char *bh_detect_why_str(__u8 why, char *buf, size_t len);

/* ------------------------------------------------------ explanations */
/* The sentence a decision explains itself with, in the timeline, syslog
 * and JSON lines: the rule and its window, the action and why it was (or
 * was not) taken, how many flows counted and why, the first and the last
 * (the one that crossed the threshold) with their wall-clock times
 * (wall_offset_ms: add to ts_ms). Returns buf. */
const char *bh_detect_explain(const struct bh_detect_result *r, int64_t wall_offset_ms,
			      char *buf, size_t len);
/* The mark a counted flow carries in `flows`: "port-scan:denied". */
const char *bh_detect_mark(const struct bh_detect_result *r, const struct bh_detect_counted *c,
			   char *buf, size_t len);

#endif /* BULKHEAD_DETECT_H */
