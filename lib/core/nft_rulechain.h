/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend's outcome chains: every verdict-map box (nft_ruleset.h)
 * goes to the chain of its outcome, what the data path would record for a
 * new flow there (the rule, verdict and reason) and the direction, instead
 * of straight to return or drop:
 *
 *   chain r12_0_0_i { counter; log group G prefix "bh1 i 0 0 12" }   (returns)
 *   chain r13_1_4_e { counter; log ...; drop }
 *
 * (rule 12, allow (0), policy-allow (0), ingress; rule 13, deny, policy-
 * deny, egress; the numbers are enum bh_verdict and enum bh_reason). The
 * counter of a rule's chains is the rule's packet and byte count (what
 * bh_rule_stats_v2 counts on the BPF data path: only the packets a rule
 * decided, as conntrack's established,related are passed before the
 * lookup), and the log is the flow record the agent reads (nft_log.h).
 * Rule 0 (boxes no rule decides, e.g. a would-deny by default) has chains
 * too, for their log; stats skips it. A box is reached by goto from the
 * workload's chain: the outcome chain's end returns to the base chain, as
 * the workload chain's return would. Every workload shares the chain of a
 * rule, as the BPF array does.
 *
 * The table is replaced whole at every change, so the counters are read
 * just before and written into the new table's counters (seeded): a
 * packet counted between the read and the commit is the only loss.
 */
#ifndef BULKHEAD_NFT_RULECHAIN_H
#define BULKHEAD_NFT_RULECHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define BH_NFT_RULECHAIN_NAME	32

struct bh_nft_rulechain {
	__u32 rule_id;
	__u8 verdict;			/* enum bh_verdict */
	__u8 reason;			/* enum bh_reason */
	enum bh_dir dir;
};

/* "r<id>_<verdict>_<reason>_<e|i>" */
void bh_nft_rulechain_name(const struct bh_nft_rulechain *rc, char buf[BH_NFT_RULECHAIN_NAME]);
/* The inverse; -EINVAL for a name that is not a rule chain's. */
int bh_nft_rulechain_parse(const char *name, struct bh_nft_rulechain *rc);
/* Order for sorting and bsearch. */
int bh_nft_rulechain_cmp(const void *a, const void *b);

struct bh_nft_counter {
	struct bh_nft_rulechain rc;
	__u64 packets, bytes;
};

/* The counters of every rule chain of table inet `table`, sorted by
 * bh_nft_rulechain_cmp (*out to free). No table: none, 0. A dump that
 * a change of any table interrupts is tried again (up to 10 times). Needs
 * CAP_NET_ADMIN. */
int bh_nft_counters_read(const char *table, struct bh_nft_counter **out, size_t *nr);

#endif /* BULKHEAD_NFT_RULECHAIN_H */
