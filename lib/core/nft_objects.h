/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inside the nftables backend's table builders (nft_table.c, nft_arp.c):
 * the objects every table is made of, each added to the batch in the
 * batch's current family (b->family: the kernel takes a message's family
 * from its header, so one batch may carry tables of several families).
 */
#ifndef BULKHEAD_NFT_OBJECTS_H
#define BULKHEAD_NFT_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "nft_table.h"

struct nftnl_rule;
struct nftnl_set;

/* nft's datatype ids (for `nft list`; the kernel ignores them) */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_TYPE_IFNAME		41

/* Bytes of an address of family (4 or 6) in a set key. */
static inline int bh_nft_addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

struct bh_nft_tctx {
	struct bh_nft_batch *b;
	const char *table;
	const struct bh_nft_table *t;
};

int bh_nft_put_table(struct bh_nft_tctx *c, int type, int flags);
/* A base chain (hook >= 0, filter, priority 0, policy accept) or a
 * regular one (hook < 0). */
int bh_nft_put_chain(struct bh_nft_tctx *c, const char *name, int hook);
struct nftnl_set *bh_nft_set_new(struct bh_nft_tctx *c, const char *name, uint32_t id);
/* Declare the map name (ifname -> verdict) of the table, no elements. */
int bh_nft_put_if_map(struct bh_nft_tctx *c, const char *name, uint32_t id);
/* Send set s (freed here) as a NEWSET or, with elements, a NEWSETELEM. */
int bh_nft_set_put(struct bh_nft_tctx *c, struct nftnl_set *s, int type);
/* The set of w's addresses of family (4 or 6). */
int bh_nft_put_addr_set(struct bh_nft_tctx *c, const char *name, uint32_t id, int family,
			const struct bh_nft_workload *w);
/* Append the flow log of nft_log.h (nothing without a log group). */
bool bh_nft_ex_flow_log(const struct bh_nft_tctx *c, struct nftnl_rule *r, enum bh_dir dir,
			enum bh_verdict verdict, enum bh_reason reason, __u32 rule_id);

#endif /* BULKHEAD_NFT_OBJECTS_H */
