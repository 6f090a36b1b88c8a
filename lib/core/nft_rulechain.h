/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend's rule chains: a verdict-map box that a policy
 * rule decides (nft_ruleset.h, rule_id set) goes to the chain of that
 * rule, verdict and direction instead of straight to return or drop:
 *
 *   chain r12_a_e { counter [log group G prefix "bh1 e 0 0 12"] }   (returns)
 *   chain r12_d_i { counter [log ...] drop }
 *
 * so the chain's counter is the rule's packet and byte count (what
 * bh_rule_stats_v2 counts on the BPF data path: only the packets a rule
 * decided, as conntrack's established,related are passed before the
 * lookup), and its log is the flow record the agent reads (nft_log.h).
 * A box is reached by goto from the workload's chain: the rule chain's
 * end returns to the base chain, as the workload chain's return would.
 * Every workload shares the chain of a rule, as the BPF array does.
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
	bool accept;
	enum bh_dir dir;
};

/* "r<id>_<a|d>_<e|i>" */
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
 * bh_nft_rulechain_cmp (*out to free). No table: none, 0. Needs
 * CAP_NET_ADMIN. */
int bh_nft_counters_read(const char *table, struct bh_nft_counter **out, size_t *nr);

#endif /* BULKHEAD_NFT_RULECHAIN_H */
