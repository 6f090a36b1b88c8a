/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Automatic quarantine rules, evaluated by the agent on every new flow.
 *
 *   denied burst   N flows denied by policy (verdict deny) in T seconds
 *   scan           K distinct destination ports, or K distinct peers, in
 *                  T seconds (new egress flows, any verdict)
 *   deny-listed    any egress flow whose destination lies in a listed CIDR
 *
 * Only flows the workload initiated (egress) count: the workload that
 * receives a scan is the victim, not the suspect. A workload matching an
 * exempt pattern (a glob on "ns/name" such as kube-system/ followed by a star) is never
 * quarantined. Detection is pure (no clock, no store): the caller passes
 * each flow with its time, and acts on the returned decision, so the rules
 * are unit-tested without root. State is bounded: per workload slot, at most
 * `count` denial times and `distinct_*` (value, time) pairs.
 */
#ifndef BULKHEAD_DETECT_H
#define BULKHEAD_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead.h"
#include "policy.h"

#define BH_DETECT_MAX_CIDRS	64
#define BH_DETECT_MAX_EXEMPT	64
#define BH_DETECT_MAX_DISTINCT	4096	/* upper bound for distinct_* */
#define BH_DETECT_MAX_COUNT	100000	/* upper bound for denied_flows.count */

struct bh_detect_opts {
	uint32_t denied_count;		/* 0: rule off */
	uint32_t denied_seconds;
	uint32_t scan_ports;		/* 0: off */
	uint32_t scan_peers;		/* 0: off */
	uint32_t scan_seconds;
	int nr_deny_cidrs;
	struct bh_cidr deny_cidrs[BH_DETECT_MAX_CIDRS];
	int nr_exempt;
	char exempt[BH_DETECT_MAX_EXEMPT][2 * BH_NAME_MAX + 2];
};

/* One new flow as detection sees it. */
struct bh_detect_flow {
	uint32_t slot;
	const char *ns, *name;
	uint64_t ts_ms;			/* any monotonic clock, ms */
	enum bh_dir dir;
	enum bh_verdict verdict;
	__u8 proto;
	__u16 dport;
	__u8 peer[16];			/* IPv4-mapped for IPv4 */
};

enum bh_detect_rule {
	BH_DETECT_NONE = 0,
	BH_DETECT_DENIED,
	BH_DETECT_SCAN_PORTS,
	BH_DETECT_SCAN_PEERS,
	BH_DETECT_DENY_CIDR,
};

struct bh_detect_result {
	enum bh_detect_rule rule;
	char reason[256];		/* "auto: 20 denied flows in 10s" */
};

struct bh_detect;

int bh_detect_new(const struct bh_detect_opts *opts, struct bh_detect **out);
void bh_detect_free(struct bh_detect *d);
/* Feed one new flow. Returns 1 and fills res when the workload must be
 * quarantined now (once: the slot is then marked and ignored until
 * bh_detect_forget), 0 otherwise, negative errno on failure. */
int bh_detect_flow(struct bh_detect *d, const struct bh_detect_flow *f,
		   struct bh_detect_result *res);
/* Drop a slot's state (workload detached or released). */
void bh_detect_forget(struct bh_detect *d, uint32_t slot);
/* Is "ns/name" exempt? */
bool bh_detect_exempt(const struct bh_detect_opts *opts, const char *ns, const char *name);
const char *bh_detect_rule_name(enum bh_detect_rule r);

#endif /* BULKHEAD_DETECT_H */
