// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The Docker gate (see docker_gate.h): libnftnl messages, one batch per
 * change (the core's nft_batch.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "docker_gate.h"
#include "nft_batch.h"

#define SET_PENDING	"pending"
#define ID_PENDING	1
/* nft's datatype number (for `nft list` only; the kernel ignores it) */
#define NFT_TYPE_IFINDEX	20
/* linux/netfilter_bridge.h clashes with net/if.h: its three values */
#define BR_HOOK_PRE_ROUTING	0
#define BR_HOOK_POST_ROUTING	4
#define BR_PRI_FIRST		(-2147483647 - 1)
#define MAX_MEMBERS	4096		/* bridges + ports in one sync */

void bh_docker_gate_name(const char *state_dir, char out[BH_GATE_TABLE_LEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = state_dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, BH_GATE_TABLE_LEN, "bulkhead_gate_%08x", h);
}

static void put_table(struct bh_nft_batch *b, const char *name, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->oom = true;
		return;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_BRIDGE);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = bh_nft_batch_msg(b, type, flags);
	if (nlh)
		nftnl_table_nlmsg_build_payload(nlh, t);
	bh_nft_batch_done(b, nlh);
	nftnl_table_free(t);
}

static void put_chain(struct bh_nft_batch *b, const char *table, const char *name, int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c) {
		b->oom = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_BRIDGE);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
	/* before anything else on the bridge */
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, BR_PRI_FIRST + 1);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = bh_nft_batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (nlh)
		nftnl_chain_nlmsg_build_payload(nlh, c);
	bh_nft_batch_done(b, nlh);
	nftnl_chain_free(c);
}

static struct nftnl_set *set_new(const char *table, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_BRIDGE);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ID_PENDING);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IFINDEX);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint32_t));
	return s;
}

static void put_set(struct bh_nft_batch *b, const char *table, const char *name)
{
	struct nftnl_set *s = set_new(table, name);
	struct nlmsghdr *nlh;

	if (!s) {
		b->oom = true;
		return;
	}
	nlh = bh_nft_batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (nlh)
		nftnl_set_nlmsg_build_payload(nlh, s);
	bh_nft_batch_done(b, nlh);
	nftnl_set_free(s);
}

/* Add or delete members; with n == 0 and type DELSETELEM, flush the set.
 * Members go in messages of at most ELEMS_PER_MSG, each well within the
 * room the batch keeps free for one message (nft_batch.h). */
#define ELEMS_PER_MSG	512

static void put_elems_msg(struct bh_nft_batch *b, const char *table, const char *name,
			  int type, int n, const void *keys, size_t key_len)
{
	struct nftnl_set *s = set_new(table, name);
	struct nlmsghdr *nlh;

	if (!s) {
		b->oom = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		if (!e) {
			b->oom = true;
			nftnl_set_free(s);
			return;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, (const char *)keys + i * key_len,
				   (uint32_t)key_len);
		nftnl_set_elem_add(s, e);
	}
	nlh = bh_nft_batch_msg(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	if (nlh)
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
	bh_nft_batch_done(b, nlh);
	nftnl_set_free(s);
}

static void put_elems(struct bh_nft_batch *b, const char *table, const char *name, int type,
		      int n, const void *keys, size_t key_len)
{
	int i = 0;

	do {
		int m = n - i > ELEMS_PER_MSG ? ELEMS_PER_MSG : n - i;

		put_elems_msg(b, table, name, type, m, (const char *)keys + (size_t)i * key_len,
			      key_len);
		i += m;
	} while (i < n);
}

static struct nftnl_expr *ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

/* meta xIF @pending  counter  drop (core meta keys only: this kernel
 * family may lack nft_meta_bridge, so no bridge-name match) */
static void put_rule(struct bh_nft_batch *b, const char *table, const char *chain, bool in)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	struct nlmsghdr *nlh;
	bool ok = r != NULL;

	if (ok) {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_BRIDGE);
	}
	if (ok && (ok = (e = ex(r, "meta")))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, in ? NFT_META_IIF : NFT_META_OIF);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	if (ok && (ok = (e = ex(r, "lookup")))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, SET_PENDING);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, ID_PENDING);
	}
	if (ok)
		ok = ex(r, "counter") != NULL;
	if (ok && (ok = (e = ex(r, "immediate")))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	}
	nlh = ok ? bh_nft_batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) : NULL;
	if (nlh)
		nftnl_rule_nlmsg_build_payload(nlh, r);
	else
		b->oom = true;
	bh_nft_batch_done(b, nlh);
	if (r)
		nftnl_rule_free(r);
}

/* Flush a chain's rules (DELRULE naming only table and chain). */
static void flush_chain(struct bh_nft_batch *b, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r) {
		b->oom = true;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_BRIDGE);
	nlh = bh_nft_batch_msg(b, NFT_MSG_DELRULE, 0);
	if (nlh)
		nftnl_rule_nlmsg_build_payload(nlh, r);
	bh_nft_batch_done(b, nlh);
	nftnl_rule_free(r);
}

/* Close and send: the kernel applies all of it or none. */
static int send_batch(struct bh_nft_batch *b)
{
	int err = bh_nft_batch_end(b);

	if (!err)
		err = bh_nft_batch_send(b);
	bh_nft_batch_free(b);
	return err;
}

static void put_skeleton(struct bh_nft_batch *b, const char *table)
{
	put_table(b, table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_set(b, table, SET_PENDING);
	put_chain(b, table, "prerouting", BR_HOOK_PRE_ROUTING);
	put_chain(b, table, "postrouting", BR_HOOK_POST_ROUTING);
}

int bh_docker_gate_sync(const char *table, int nr, const uint32_t *pending)
{
	struct bh_nft_batch b;
	int err;

	if (nr < 0 || nr > MAX_MEMBERS)
		return -E2BIG;
	err = bh_nft_batch_begin(&b, NFPROTO_BRIDGE);
	if (err)
		return err;
	put_skeleton(&b, table);
	/* rules and members replaced whole, in the same batch: a packet
	 * sees either the old gate or the new one */
	flush_chain(&b, table, "prerouting");
	flush_chain(&b, table, "postrouting");
	put_elems(&b, table, SET_PENDING, NFT_MSG_DELSETELEM, 0, NULL, 0);
	if (nr)
		put_elems(&b, table, SET_PENDING, NFT_MSG_NEWSETELEM, nr, pending,
			  sizeof(uint32_t));
	put_rule(&b, table, "prerouting", true);
	put_rule(&b, table, "postrouting", false);
	err = send_batch(&b);
	return err;
}

int bh_docker_gate_ensure(const char *table)
{
	struct bh_nft_batch b;
	int err = bh_nft_batch_begin(&b, NFPROTO_BRIDGE);

	if (err)
		return err;
	put_skeleton(&b, table);
	/* the rules only if the chain is new: flush and re-add is atomic */
	flush_chain(&b, table, "prerouting");
	flush_chain(&b, table, "postrouting");
	put_rule(&b, table, "prerouting", true);
	put_rule(&b, table, "postrouting", false);
	err = send_batch(&b);
	return err;
}

int bh_docker_gate_port(const char *table, uint32_t ifindex, bool block)
{
	struct bh_nft_batch b;
	int err = bh_nft_batch_begin(&b, NFPROTO_BRIDGE);

	if (err)
		return err;
	put_elems(&b, table, SET_PENDING, block ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, 1,
		  &ifindex, sizeof(ifindex));
	err = send_batch(&b);
	return !block && err == -ENOENT ? 0 : err;
}

int bh_docker_gate_delete(const char *table)
{
	struct bh_nft_batch b;
	int err = bh_nft_batch_begin(&b, NFPROTO_BRIDGE);

	if (err)
		return err;
	put_table(&b, table, NFT_MSG_DELTABLE, 0);
	err = send_batch(&b);
	/* no table, or no nf_tables at all: there is no gate to remove */
	if (err == -ENOENT || err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT ||
	    err == -EOPNOTSUPP)
		return 0;
	return err;
}
