/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records of the nftables backend: where the BPF data path writes a
 * record into its ring buffer, the table logs the packet to nfnetlink_log
 * the instance's group with a prefix that says what was decided:
 *
 *   "bh1 DIR VERDICT REASON RULE"   e.g. "bh1 e 0 0 12": egress, allow,
 *                                   policy-allow, rule 12
 *
 * DIR is e or i, VERDICT an enum bh_verdict, REASON an enum bh_reason,
 * RULE a rule id (0: none). The workload is the packet's interface (in
 * for egress, out for ingress), which nfnetlink_log reports. The agent
 * reads the group (lib/agent/nflog.h) and turns each packet into the same
 * struct bh_flow_record the ring buffer gives.
 *
 * Where the table logs: a new flow's first packet, in the chain of its
 * outcome (nft_rulechain.h: allowed, denied, would-deny) or at the
 * direction's default; every packet a quarantine drops; every spoofed
 * packet and ARP the arp table drops (nft_arp.c). Established and related
 * packets are not logged: conntrack passed them before the lookup.
 */
#ifndef BULKHEAD_NFT_LOG_H
#define BULKHEAD_NFT_LOG_H

#include <stddef.h>

#include "bulkhead_abi.h"

/* Each instance logs to its own group (bh_nft_sync_log_group, from the
 * same hash of the state directory as its table's name), in the upper
 * half of the group numbers, so two instances' agents never bind the
 * same group (nfnetlink_log gives a group to one listener). */
#define BH_NFT_LOG_GROUP_BASE	0x8000
/* Bytes of each packet logged: IPv6 and the TCP header's flags fit. */
#define BH_NFT_LOG_SNAPLEN	96

#define BH_NFT_LOG_PREFIX_MAX	32

struct bh_nft_log_tag {
	enum bh_dir dir;
	enum bh_verdict verdict;
	enum bh_reason reason;
	__u32 rule_id;
};

void bh_nft_log_prefix(const struct bh_nft_log_tag *t, char buf[BH_NFT_LOG_PREFIX_MAX]);
/* -EINVAL: not a bulkhead prefix (another table's log in the group). */
int bh_nft_log_parse(const char *prefix, size_t len, struct bh_nft_log_tag *t);

#endif /* BULKHEAD_NFT_LOG_H */
