/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables translation of a compiled workload (pure): for one
 * direction, the verdict of every (peer address, protocol, port) as a
 * list of disjoint boxes, each with the verdict bh_eval gives, so an
 * nftables interval map built from it judges exactly as the data path's
 * policy lookup does. The core turns rulesets into tables
 * (lib/core/nft_table.h); this file knows nothing of netlink.
 *
 * nftables interval maps refuse overlapping elements, so the address
 * space is cut where ipcache prefixes begin and end, the (protocol, port)
 * space where policy entries do, and each box gets the verdict bh_eval
 * gives at its corner, with the outcome the data path records for it
 * (verdict, reason and rule: the per-rule counters and flow records).
 * Only boxes whose outcome differs from the ruleset's default are listed. ICMP ports are type << 8 | code, as the
 * compiler keys them.
 */
#ifndef BULKHEAD_POLICY_NFT_RULESET_H
#define BULKHEAD_POLICY_NFT_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* What the data path decides for a new flow (bh_judge_new_flow in
 * lib/bpf/datapath.h): the verdict and reason it records and the rule it
 * counts under. */
struct bh_nft_outcome {
	__u8 verdict;			/* enum bh_verdict: ALLOW, DENY, WOULD_DENY */
	__u8 reason;			/* enum bh_reason */
	__u32 rule_id;			/* 0: none */
};

/* One disjoint box of the verdict map. */
struct bh_nft_elem {
	__u8 family;			/* 4 or 6 */
	__u8 addr_lo[16], addr_hi[16];	/* IPv4: first 4 bytes, network order */
	__u8 proto_lo, proto_hi;
	__u16 port_lo, port_hi;		/* host order; ICMP: type << 8 | code */
	bool accept;			/* passes: out.verdict is not DENY */
	__u32 rule_id;			/* out.rule_id */
	struct bh_nft_outcome out;
};

struct bh_nft_ruleset {
	enum bh_dir dir;		/* INGRESS: peer is the source address */
	bool default_accept;		/* verdict of what no element matches */
	struct bh_nft_outcome dflt;	/* ... and its outcome (rule 0) */
	size_t nr;
	struct bh_nft_elem *elems;
};

/* The elements for workload w (one of out->workloads) and dir, judged in
 * mode as the data path judges (monitor and learn pass what policy
 * denies, as would-deny; an audit policy's deny is a would-deny too). */
int bh_nft_ruleset_build(const struct bh_compile_output *out,
			 const struct bh_compiled_workload *w, enum bh_dir dir,
			 enum bh_mode mode, struct bh_nft_ruleset *rs);
/* The quarantine for dir (out->quarantine, the deny-all map): default
 * drop, the forensics exception's boxes accept. */
int bh_nft_ruleset_build_quarantine(const struct bh_compile_output *out, enum bh_dir dir,
				    struct bh_nft_ruleset *rs);
void bh_nft_ruleset_free(struct bh_nft_ruleset *rs);

#endif /* BULKHEAD_POLICY_NFT_RULESET_H */
