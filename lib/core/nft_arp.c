// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ARP anti-spoofing for the nftables backend: the inet family never sees
 * ARP, so the instance has a second table of the same name in family arp,
 * replaced in the same batch as the inet one:
 *
 *   table arp NAME {
 *     set wS_arp4 { ipv4_addr }                   the workload's addresses
 *     map arp_from_wl { ifname : verdict }        iifname VETH : jump wS_arp
 *     map arp_to_wl { ifname : verdict }          oifname VETH : jump wS_arp_in
 *     chain arp_in { hook input priority 0; policy accept;
 *                    iifname vmap @arp_from_wl }
 *     chain arp_out { hook output priority 0; policy accept;
 *                     oifname vmap @arp_to_wl }
 *     chain wS_arp {                               from the workload
 *       @nh,0,48 != Ethernet/IPv4 ARP  log; drop  (what the data path
 *                                                    cannot parse drops too)
 *       arp saddr ip 0.0.0.0 return                address conflict probes
 *       arp saddr ip != @wS_arp4  log; drop
 *     }
 *     chain wS_arp_in {                            to the workload
 *       arp operation reply arp daddr ip != @wS_arp4  log; drop
 *     }
 *   }
 *
 * The same checks as the BPF data path's: the sender of what a container
 * sends (lib/bpf/spoof.h), and on the way in an answer must be about the
 * workload's own address (lib/bpf/l2.h, "not ours": the host's answer to
 * a probe from 0.0.0.0 is not, and drops there too). The data path tells
 * a broadcast request from a unicast one by the Ethernet destination,
 * which the arp family's output hook does not show: here every request
 * passes. The arp family has input and output hooks only: it judges the
 * ARP between a workload and the host (the routed setups), not ARP
 * bridged between two veths.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter_arp.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "nft_expr.h"
#include "nft_arp.h"
#include "nft_objects.h"

#define NAME_LEN	32
/* Set ids of this table: apart from the inet table's in the same batch. */
#define ARP_IF_ID(dir)	(0x40000000u + (uint32_t)(dir))
#define ARP_ADDR_ID(i)	(0x40000002u + (uint32_t)(i))

static const char *const IF_MAP[2] = { "arp_to_wl", "arp_from_wl" };	/* by enum bh_dir */

static void arp_chain(const struct bh_nft_workload *w, enum bh_dir dir, char buf[NAME_LEN])
{
	snprintf(buf, NAME_LEN, "w%u_arp%s", w->slot, dir == BH_DIR_INGRESS ? "_in" : "");
}

static int put_if_map(struct bh_nft_tctx *c, enum bh_dir dir)
{
	struct nftnl_set *s;
	int err = bh_nft_put_if_map(c, IF_MAP[dir], ARP_IF_ID(dir));

	if (err || !c->t->nr)
		return err;
	s = bh_nft_set_new(c, IF_MAP[dir], ARP_IF_ID(dir));
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < c->t->nr; i++) {
		struct nftnl_set_elem *se = nftnl_set_elem_alloc();
		char ifname[IFNAMSIZ] = { 0 }, chain[NAME_LEN];

		if (!se) {
			nftnl_set_free(s);
			return -ENOMEM;
		}
		strncpy(ifname, c->t->w[i].ifname, sizeof(ifname) - 1);
		arp_chain(&c->t->w[i], dir, chain);
		nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, ifname, sizeof(ifname));
		nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(se, NFTNL_SET_ELEM_CHAIN, chain);
		nftnl_set_elem_add(s, se);
	}
	return bh_nft_set_put(c, s, NFT_MSG_NEWSETELEM);
}

/* The ARP header's fixed part for Ethernet and IPv4: htype 1, ptype
 * 0x0800, hlen 6, plen 4. */
static const __u8 ETH_IPV4[6] = { 0, 1, 8, 0, 6, 4 };
#define ARP_OP_OFF	6
#define ARP_SPA_OFF	14
#define ARP_TPA_OFF	24

static int put_workload_rules(struct bh_nft_tctx *c, int i)
{
	const struct bh_nft_workload *w = &c->t->w[i];
	char chain[NAME_LEN], set[NAME_LEN];
	struct nftnl_rule *r;
	__u32 any = 0;
	int err;

	arp_chain(w, BH_DIR_EGRESS, chain);
	snprintf(set, sizeof(set), "w%u_arp4", w->slot);
	r = bh_nft_rule_new(NFPROTO_ARP, c->table, chain);
	err = r ? bh_nft_batch_rule(c->b, r,
				    bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 0, 6,
						      NFT_REG_1) &&
				    bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_NEQ, ETH_IPV4, 6) &&
				    bh_nft_ex_flow_log(c, r, BH_DIR_EGRESS, BH_V_DROP,
						       BH_R_MALFORMED, 0) &&
				    bh_nft_ex_verdict(r, NF_DROP, NULL))
		: -ENOMEM;
	if (err)
		return err;
	r = bh_nft_rule_new(NFPROTO_ARP, c->table, chain);
	err = r ? bh_nft_batch_rule(c->b, r,
				    bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, ARP_SPA_OFF, 4,
						      NFT_REG_1) &&
				    bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, &any, 4) &&
				    bh_nft_ex_verdict(r, NFT_RETURN, NULL))
		: -ENOMEM;
	if (err)
		return err;
	r = bh_nft_rule_new(NFPROTO_ARP, c->table, chain);
	return r ? bh_nft_batch_rule(c->b, r,
				     bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, ARP_SPA_OFF, 4,
						       NFT_REG_1) &&
				     bh_nft_ex_lookup(r, NFT_REG_1, set, ARP_ADDR_ID(i), false,
						      true) &&
				     bh_nft_ex_flow_log(c, r, BH_DIR_EGRESS, BH_V_SPOOF,
							BH_R_SPOOF_ARP, 0) &&
				     bh_nft_ex_verdict(r, NF_DROP, NULL))
		 : -ENOMEM;
}

/* To the workload: an answer (operation 2) about an address not its own
 * drops. */
static int put_workload_in_rule(struct bh_nft_tctx *c, int i)
{
	const struct bh_nft_workload *w = &c->t->w[i];
	char chain[NAME_LEN], set[NAME_LEN];
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_ARP, c->table, "");
	const __u8 reply[2] = { 0, 2 };	/* network order */

	if (!r)
		return -ENOMEM;
	arp_chain(w, BH_DIR_INGRESS, chain);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	snprintf(set, sizeof(set), "w%u_arp4", w->slot);
	return bh_nft_batch_rule(c->b, r,
				 bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, ARP_OP_OFF, 2,
						   NFT_REG_1) &&
				 bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, reply, 2) &&
				 bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, ARP_TPA_OFF, 4,
						   NFT_REG_1) &&
				 bh_nft_ex_lookup(r, NFT_REG_1, set, ARP_ADDR_ID(i), false, true) &&
				 bh_nft_ex_flow_log(c, r, BH_DIR_INGRESS, BH_V_DROP, BH_R_NOT_OURS,
						    0) &&
				 bh_nft_ex_verdict(r, NF_DROP, NULL));
}

/* In the batch's current position: create-if-absent, delete, create, as
 * the inet table. */
int bh_nft_put_arp_table(struct bh_nft_tctx *c)
{
	int family = c->b->family, err;
	char name[NAME_LEN];

	c->b->family = NFPROTO_ARP;
	err = bh_nft_put_table(c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = bh_nft_put_table(c, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = bh_nft_put_table(c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = bh_nft_put_chain(c, "arp_in", NF_ARP_IN);
	if (!err)
		err = bh_nft_put_chain(c, "arp_out", NF_ARP_OUT);
	for (int i = 0; !err && i < c->t->nr; i++)
		for (int d = 0; !err && d < 2; d++) {
			arp_chain(&c->t->w[i], (enum bh_dir)d, name);
			err = bh_nft_put_chain(c, name, -1);
		}
	for (int i = 0; !err && i < c->t->nr; i++) {
		snprintf(name, sizeof(name), "w%u_arp4", c->t->w[i].slot);
		err = bh_nft_put_addr_set(c, name, ARP_ADDR_ID(i), 4, &c->t->w[i]);
	}
	for (int d = 0; !err && d < 2; d++)
		err = put_if_map(c, (enum bh_dir)d);
	for (int d = 0; !err && d < 2; d++) {
		struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_ARP, c->table,
						       d == BH_DIR_EGRESS ? "arp_in" : "arp_out");

		err = r ? bh_nft_batch_rule(c->b, r,
					    bh_nft_ex_meta(r, d == BH_DIR_EGRESS ? NFT_META_IIFNAME
										 : NFT_META_OIFNAME,
							   NFT_REG_1) &&
					    bh_nft_ex_lookup(r, NFT_REG_1, IF_MAP[d],
							     ARP_IF_ID(d), true, false))
			: -ENOMEM;
	}
	for (int i = 0; !err && i < c->t->nr; i++)
		err = put_workload_rules(c, i);
	for (int i = 0; !err && i < c->t->nr; i++)
		err = put_workload_in_rule(c, i);
	c->b->family = family;
	return err;
}
