/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend's table: every workload of an instance in one
 * table of family inet, replaced whole by one batch (nft_batch.h), so
 * attach, apply, mode, quarantine and release are each one atomic change.
 *
 *   table inet NAME {
 *     map from_wl { ifname : verdict }   iifname VETH : jump wS_out
 *     map to_wl   { ifname : verdict }   oifname VETH : jump wS_in
 *     chain forward { hook forward priority 0; policy accept;
 *                     iifname vmap @from_wl; oifname vmap @to_wl }
 *     chain input   { hook input ...;   iifname vmap @from_wl }
 *     chain output  { hook output ...;  oifname vmap @to_wl }
 *     chain wS_out {                                 (S: the workload's slot)
 *       icmpv6 type 133-137 return                   neighbour discovery
 *       ip saddr != @wS_a4 drop; ip6 saddr != @wS_a6 drop   anti-spoofing
 *       -- quarantined:
 *       ct mark & FORENSICS != 0 return               forensics flows
 *       (lookups in @q_e4 / @q_e6: the exception: goto forensics)
 *       drop
 *       -- otherwise (enforce with a policy that selects it):
 *       ct state established,related return
 *       ip daddr . meta l4proto . th dport vmap @wS_e4    (ICMP: type . code)
 *       (the same for ipv6)
 *       log; drop                                     isolated, enforced
 *       log; return                                   otherwise
 *     }
 *     chain wS_in { the same, peer = source address, no anti-spoofing }
 *     chain forensics { ct mark set ct mark | FORENSICS }  (then returns)
 *     chain r12_0_0_i { counter; log }               boxes go to the chain
 *     chain r13_1_4_e { counter; log; drop }         of their outcome
 *                                                    (nft_rulechain.h)
 *   }
 * The defaults (the direction's default outcome, quarantine, spoofing)
 * log too: the flow records of nft_log.h.
 * A workload's chain never accepts: an allowed packet returns, so a
 * packet between two workloads meets the sender's egress and then the
 * receiver's ingress in the same base chain, as on the BPF data path.
 * The policy maps hold the boxes of nft_ruleset.h, each a goto to the
 * chain of its outcome.
 */
#ifndef BULKHEAD_NFT_TABLE_H
#define BULKHEAD_NFT_TABLE_H

#include <stdbool.h>

#include "nft_batch.h"
#include "nft_rulechain.h"
#include "nft_ruleset.h"

/* The conntrack mark bit that says "passed as forensics" */
#define BH_NFT_CT_FORENSICS	0x00400000u

struct bh_nft_workload {
	const char *ifname;		/* the host-side veth */
	__u32 slot;			/* names the chains and maps */
	bool quarantined;
	int nr_ips;
	const struct bh_ip *ips;
	const struct bh_nft_ruleset *rs[2];	/* by enum bh_dir */
};

struct bh_nft_table {
	const char *name;		/* table inet NAME */
	int nr;
	const struct bh_nft_workload *w;
	const struct bh_nft_ruleset *quarantine[2];	/* by enum bh_dir */
	/* the counters a rule chain starts with (the replaced table's),
	 * sorted by bh_nft_rulechain_cmp */
	const struct bh_nft_counter *seed;
	size_t nr_seed;
	__u16 log_group;		/* nfnetlink_log group of the flow logs */
};

/* One batch that creates or atomically replaces the table, and the arp
 * table of the same name that checks ARP senders (nft_arp.c). */
int bh_nft_build_table(const struct bh_nft_table *t, struct bh_nft_batch *b);
/* One batch that deletes the table and its arp twin (the kernel answers
 * -ENOENT if the inet table is absent). */
int bh_nft_build_delete(const char *name, struct bh_nft_batch *b);

#endif /* BULKHEAD_NFT_TABLE_H */
