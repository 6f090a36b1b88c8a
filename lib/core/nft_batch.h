/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One nftables netlink batch (NFNL_MSG_BATCH_BEGIN ... END) in one
 * buffer, built with libnftnl and sent with libmnl: the kernel applies
 * the whole batch or none of it, so a change made of one batch is atomic
 * and a failed one changes nothing. Building is apart from sending, so
 * the messages are checked without root (tests/unit/test_nft.c). Used by
 * the nftables backend (nft_table.h) and the agent's Docker gate.
 */
#ifndef BULKHEAD_NFT_BATCH_H
#define BULKHEAD_NFT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct nftnl_rule;

struct bh_nft_batch {
	char *buf;
	size_t len, cap;
	int family;			/* NFPROTO_* of every message */
	uint32_t seq;			/* next sequence number */
	uint32_t last_seq;		/* of the message that asks for the ack */
	size_t last_off;		/* where that message starts in buf */
	uint32_t next_set_id;		/* sets created in this batch */
	bool oom;			/* a message did not fit: the batch is void */
};

/* Start a batch of messages for one family. */
int bh_nft_batch_begin(struct bh_nft_batch *b, int family);
/* Room for one message of type (NFT_MSG_*) with flags; NULL (and b->oom)
 * when out of memory. bh_nft_batch_done counts it in. */
struct nlmsghdr *bh_nft_batch_msg(struct bh_nft_batch *b, int type, int flags);
void bh_nft_batch_done(struct bh_nft_batch *b, struct nlmsghdr *nlh);
/* Close the batch; the last message asks for the ack the sender awaits.
 * -ENOMEM if any message did not fit. */
int bh_nft_batch_end(struct bh_nft_batch *b);
void bh_nft_batch_free(struct bh_nft_batch *b);

/* Append rule r (freed here) to its chain; ok false (an expression that
 * could not be allocated) gives -ENOMEM and sends nothing. */
int bh_nft_batch_rule(struct bh_nft_batch *b, struct nftnl_rule *r, bool ok);

/* Send the batch on a NETLINK_NETFILTER socket and wait for the kernel's
 * answer (bounded: a few seconds). The first error the kernel reports is
 * returned (negative errno). Needs CAP_NET_ADMIN. */
int bh_nft_batch_send(const struct bh_nft_batch *b);

#endif /* BULKHEAD_NFT_BATCH_H */
