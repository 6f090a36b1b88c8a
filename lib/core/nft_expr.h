/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nftables rule expressions, one libnftnl call each. Each appends one
 * expression to rule r and returns false when out of memory, so a rule
 * reads as a chain of &&: bh_nft_batch_rule() then refuses the rule.
 */
#ifndef BULKHEAD_NFT_EXPR_H
#define BULKHEAD_NFT_EXPR_H

#include <stdbool.h>
#include <stdint.h>

struct nftnl_rule;

struct nftnl_rule *bh_nft_rule_new(int family, const char *table, const char *chain);

bool bh_nft_ex_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
bool bh_nft_ex_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data,
		   uint32_t len);
bool bh_nft_ex_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		       uint32_t dreg);
/* verdict: NF_ACCEPT, NF_DROP, NFT_RETURN, NFT_JUMP/NFT_GOTO with chain */
bool bh_nft_ex_verdict(struct nftnl_rule *r, int verdict, const char *chain);
/* reg1 = ct state & mask; true if any bit of mask is set */
bool bh_nft_ex_ct_state_any(struct nftnl_rule *r, uint32_t mask);
/* reg1 = ct mark & mask; compare != 0 */
bool bh_nft_ex_ct_mark_any(struct nftnl_rule *r, uint32_t mask);
/* ct mark |= bits */
bool bh_nft_ex_ct_mark_or(struct nftnl_rule *r, uint32_t bits);
/* Look sreg up in set (name, id for a set made in the same batch). A map
 * (dreg NFT_REG_VERDICT) gives its verdict; a plain set (dreg 0) matches,
 * or with invert matches what it lacks. */
bool bh_nft_ex_lookup(struct nftnl_rule *r, uint32_t sreg, const char *set, uint32_t set_id,
		      bool verdict_map, bool invert);
/* counter, starting at packets and bytes (a replaced table's counts) */
bool bh_nft_ex_counter(struct nftnl_rule *r, uint64_t packets, uint64_t bytes);
/* log group G prefix P: the packet's first snaplen bytes go to
 * nfnetlink_log group G (to whoever listens; nobody: nothing is sent) */
bool bh_nft_ex_log(struct nftnl_rule *r, uint16_t group, const char *prefix, uint32_t snaplen);

#endif /* BULKHEAD_NFT_EXPR_H */
