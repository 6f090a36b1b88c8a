// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The objects every table of the nftables backend is made of
 * (nft_objects.h). */
#include <errno.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "nft_expr.h"
#include "nft_log.h"
#include "nft_objects.h"

int bh_nft_put_table(struct bh_nft_tctx *c, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, c->table);
	nlh = bh_nft_batch_msg(c->b, type, flags);
	if (nlh)
		nftnl_table_nlmsg_build_payload(nlh, t);
	bh_nft_batch_done(c->b, nlh);
	nftnl_table_free(t);
	return nlh ? 0 : -ENOMEM;
}

/* A base chain (hook >= 0, policy accept) or a regular one (hook < 0). */
int bh_nft_put_chain(struct bh_nft_tctx *c, const char *name, int hook)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!ch)
		return -ENOMEM;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, c->table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (hook >= 0) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = bh_nft_batch_msg(c->b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (nlh)
		nftnl_chain_nlmsg_build_payload(nlh, ch);
	bh_nft_batch_done(c->b, nlh);
	nftnl_chain_free(ch);
	return nlh ? 0 : -ENOMEM;
}

struct nftnl_set *bh_nft_set_new(struct bh_nft_tctx *c, const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, c->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

int bh_nft_put_if_map(struct bh_nft_tctx *c, const char *name, uint32_t id)
{
	struct nftnl_set *s = bh_nft_set_new(c, name, id);

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	return bh_nft_set_put(c, s, NFT_MSG_NEWSET);
}

/* Send set s (freed here) as a NEWSET or, with elements, a NEWSETELEM. */
int bh_nft_set_put(struct bh_nft_tctx *c, struct nftnl_set *s, int type)
{
	struct nlmsghdr *nlh = bh_nft_batch_msg(c->b, type, NLM_F_CREATE);

	if (nlh) {
		if (type == NFT_MSG_NEWSET)
			nftnl_set_nlmsg_build_payload(nlh, s);
		else
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
	}
	bh_nft_batch_done(c->b, nlh);
	nftnl_set_free(s);
	return nlh ? 0 : -ENOMEM;
}

int bh_nft_put_addr_set(struct bh_nft_tctx *c, const char *name, uint32_t id, int family,
			const struct bh_nft_workload *w)
{
	struct nftnl_set *s = bh_nft_set_new(c, name, id);
	int n = 0, err;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, family == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)bh_nft_addr_len(family));
	err = bh_nft_set_put(c, s, NFT_MSG_NEWSET);
	if (err)
		return err;
	s = bh_nft_set_new(c, name, id);
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < w->nr_ips; i++) {
		struct nftnl_set_elem *se;

		if (w->ips[i].family != family)
			continue;
		se = nftnl_set_elem_alloc();
		if (!se) {
			nftnl_set_free(s);
			return -ENOMEM;
		}
		/* IPv4 is stored IPv4-mapped: its last 4 bytes */
		nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY,
				   w->ips[i].addr + (family == 4 ? 12 : 0),
				   (uint32_t)bh_nft_addr_len(family));
		nftnl_set_elem_add(s, se);
		n++;
	}
	if (!n) {
		nftnl_set_free(s);
		return 0;
	}
	return bh_nft_set_put(c, s, NFT_MSG_NEWSETELEM);
}

/* Append `log group G prefix "bh1 ..."` (nft_log.h) to r: the flow
 * record the agent reads. No group (a table built without one, as the
 * unit tests do): nothing. */
bool bh_nft_ex_flow_log(const struct bh_nft_tctx *c, struct nftnl_rule *r, enum bh_dir dir,
			enum bh_verdict verdict, enum bh_reason reason, __u32 rule_id)
{
	struct bh_nft_log_tag tag = { dir, verdict, reason, rule_id };
	char prefix[BH_NFT_LOG_PREFIX_MAX];

	if (!c->t || !c->t->log_group)
		return true;
	bh_nft_log_prefix(&tag, prefix);
	return bh_nft_ex_log(r, c->t->log_group, prefix, BH_NFT_LOG_SNAPLEN);
}
