// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One nftables batch (nft_batch.h): the buffer, and the socket that
 * sends it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft_batch.h"

#define MSG_ROOM	65536	/* room kept free for the next message */

static int room(struct bh_nft_batch *b)
{
	size_t cap;
	char *n;

	if (b->cap - b->len >= MSG_ROOM)
		return 0;
	cap = b->cap ? 2 * b->cap : 4 * MSG_ROOM;
	n = realloc(b->buf, cap);
	if (!n) {
		b->oom = true;
		return -ENOMEM;
	}
	memset(n + b->len, 0, cap - b->len);
	b->buf = n;
	b->cap = cap;
	return 0;
}

int bh_nft_batch_begin(struct bh_nft_batch *b, int family)
{
	memset(b, 0, sizeof(*b));
	b->family = family;
	b->seq = (uint32_t)time(NULL);
	b->next_set_id = 1;
	if (room(b))
		return -ENOMEM;
	b->len += NLMSG_ALIGN(nftnl_batch_begin(b->buf, b->seq++)->nlmsg_len);
	return 0;
}

struct nlmsghdr *bh_nft_batch_msg(struct bh_nft_batch *b, int type, int flags)
{
	if (b->oom || room(b))
		return NULL;
	b->last_seq = b->seq;
	b->last_off = b->len;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, (uint16_t)type, (uint16_t)b->family,
				     (uint16_t)flags, b->seq++);
}

void bh_nft_batch_done(struct bh_nft_batch *b, struct nlmsghdr *nlh)
{
	if (nlh)
		b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

int bh_nft_batch_end(struct bh_nft_batch *b)
{
	if (b->oom || !b->last_off || room(b))
		return -ENOMEM;
	/* the last real message asks for an ack: bh_nft_batch_send waits for it */
	((struct nlmsghdr *)(b->buf + b->last_off))->nlmsg_flags |= NLM_F_ACK;
	b->len += NLMSG_ALIGN(nftnl_batch_end(b->buf + b->len, b->seq++)->nlmsg_len);
	return 0;
}

void bh_nft_batch_free(struct bh_nft_batch *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

int bh_nft_batch_rule(struct bh_nft_batch *b, struct nftnl_rule *r, bool ok)
{
	struct nlmsghdr *nlh = ok ? bh_nft_batch_msg(b, NFT_MSG_NEWRULE,
						     NLM_F_CREATE | NLM_F_APPEND) : NULL;

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		bh_nft_batch_done(b, nlh);
	} else {
		b->oom = true;
	}
	nftnl_rule_free(r);
	return nlh ? 0 : -ENOMEM;
}

int bh_nft_batch_send(const struct bh_nft_batch *b)
{
	struct mnl_socket *nl;
	char *rbuf;
	size_t rlen = MNL_SOCKET_BUFFER_SIZE * 4;
	int err = 0, sndbuf = (int)b->len + MNL_SOCKET_BUFFER_SIZE;
	bool acked = false;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	rbuf = malloc(rlen);
	if (!rbuf) {
		mnl_socket_close(nl);
		return -ENOMEM;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	/* a big batch goes in one sendmsg: make room (root may force it) */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0) {
		err = -errno;
		goto out;
	}
	/* errors come back for any message; the ack for the last one */
	while (!err && !acked) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		ssize_t got;
		int n;

		if (poll(&p, 1, 5000) <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		got = mnl_socket_recvfrom(nl, rbuf, rlen);
		if (got < 0) {
			err = -errno;
			break;
		}
		n = (int)got;
		for (struct nlmsghdr *h = (void *)rbuf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(h);
			if (e->error) {
				err = e->error;
				break;
			}
			if (h->nlmsg_seq == b->last_seq)
				acked = true;
		}
	}
out:
	free(rbuf);
	mnl_socket_close(nl);
	return err;
}
