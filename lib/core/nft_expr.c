// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nftables rule expressions (nft_expr.h). */
#include <stdio.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>

#include "nft_expr.h"

struct nftnl_rule *bh_nft_rule_new(int family, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
	return r;
}

static struct nftnl_expr *add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

bool bh_nft_ex_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "meta");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return true;
}

bool bh_nft_ex_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data,
		   uint32_t len)
{
	struct nftnl_expr *e = add(r, "cmp");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return true;
}

bool bh_nft_ex_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		       uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "payload");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return true;
}

bool bh_nft_ex_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = add(r, "immediate");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	return true;
}

static bool ex_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = add(r, "ct");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	return true;
}

/* reg1 = (reg1 & mask) ^ xor */
static bool ex_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = add(r, "bitwise");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	return true;
}

static bool masked_nonzero(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
	uint32_t zero = 0;

	return ex_ct(r, key) && ex_bitwise(r, mask, 0) &&
	       bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof(zero));
}

bool bh_nft_ex_ct_state_any(struct nftnl_rule *r, uint32_t mask)
{
	return masked_nonzero(r, NFT_CT_STATE, mask);
}

bool bh_nft_ex_ct_mark_any(struct nftnl_rule *r, uint32_t mask)
{
	return masked_nonzero(r, NFT_CT_MARK, mask);
}

bool bh_nft_ex_ct_mark_or(struct nftnl_rule *r, uint32_t bits)
{
	struct nftnl_expr *e;

	/* (mark & ~bits) ^ bits == mark | bits; the kernel's bitwise
	 * works on the register's bytes as stored, so both words are in
	 * host order like the mark itself */
	if (!ex_ct(r, NFT_CT_MARK) || !ex_bitwise(r, ~bits, bits))
		return false;
	e = add(r, "ct");
	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	return true;
}

bool bh_nft_ex_lookup(struct nftnl_rule *r, uint32_t sreg, const char *set, uint32_t set_id,
		      bool verdict_map, bool invert)
{
	struct nftnl_expr *e = add(r, "lookup");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (verdict_map)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	return true;
}

bool bh_nft_ex_counter(struct nftnl_rule *r, uint64_t packets, uint64_t bytes)
{
	struct nftnl_expr *e = add(r, "counter");

	if (!e)
		return false;
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, packets);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
	return true;
}

bool bh_nft_ex_log(struct nftnl_rule *r, uint16_t group, const char *prefix, uint32_t snaplen)
{
	struct nftnl_expr *e = add(r, "log");

	if (!e)
		return false;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, snaplen);
	return true;
}
