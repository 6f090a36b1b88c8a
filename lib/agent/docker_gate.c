// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The Docker gate (see docker_gate.h): libnftnl messages, one libmnl
 * batch per change. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "docker_gate.h"

#define SET_PENDING	"pending"
#define ID_PENDING	1
/* nft's datatype number (for `nft list` only; the kernel ignores it) */
#define NFT_TYPE_IFINDEX	20
/* linux/netfilter_bridge.h clashes with net/if.h: its three values */
#define BR_HOOK_PRE_ROUTING	0
#define BR_HOOK_POST_ROUTING	4
#define BR_PRI_FIRST		(-2147483647 - 1)
#define MAX_MEMBERS	4096		/* bridges + ports in one sync */

struct batch {
	char *buf;
	size_t len, cap;
	uint32_t seq, last_seq;
	bool oom;
};

void bh_docker_gate_name(const char *state_dir, char out[BH_GATE_TABLE_LEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = state_dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, BH_GATE_TABLE_LEN, "bulkhead_gate_%08x", h);
}

static struct nlmsghdr *hdr(struct batch *b, int type, int flags)
{
	struct nlmsghdr *nlh;

	if (b->oom || b->cap - b->len < 8192) {
		b->oom = true;
		return NULL;
	}
	b->last_seq = b->seq;
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, (uint16_t)type, NFPROTO_BRIDGE,
				    (uint16_t)(flags | NLM_F_ACK), b->seq++);
	return nlh;
}

static void done(struct batch *b, struct nlmsghdr *nlh)
{
	if (nlh)
		b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int batch_init(struct batch *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = calloc(1, cap);
	if (!b->buf)
		return -ENOMEM;
	b->cap = cap;
	b->seq = (uint32_t)time(NULL);
	b->len += NLMSG_ALIGN(nftnl_batch_begin(b->buf, b->seq++)->nlmsg_len);
	return 0;
}

static void batch_end(struct batch *b)
{
	if (b->cap - b->len < 64) {
		b->oom = true;
		return;
	}
	b->len += NLMSG_ALIGN(nftnl_batch_end(b->buf + b->len, b->seq++)->nlmsg_len);
}

static void put_table(struct batch *b, const char *name, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->oom = true;
		return;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_BRIDGE);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = hdr(b, type, flags);
	if (nlh)
		nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	nftnl_table_free(t);
}

static void put_chain(struct batch *b, const char *table, const char *name, int hook)
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
	nlh = hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (nlh)
		nftnl_chain_nlmsg_build_payload(nlh, c);
	done(b, nlh);
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

static void put_set(struct batch *b, const char *table, const char *name)
{
	struct nftnl_set *s = set_new(table, name);
	struct nlmsghdr *nlh;

	if (!s) {
		b->oom = true;
		return;
	}
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (nlh)
		nftnl_set_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	nftnl_set_free(s);
}

/* Add or delete members; with n == 0 and type DELSETELEM, flush the set. */
static void put_elems(struct batch *b, const char *table, const char *name, int type,
		      int n, const void *keys, size_t key_len)
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
	nlh = hdr(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	if (nlh)
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	nftnl_set_free(s);
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
static void put_rule(struct batch *b, const char *table, const char *chain, bool in)
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
	nlh = ok ? hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) : NULL;
	if (nlh)
		nftnl_rule_nlmsg_build_payload(nlh, r);
	else
		b->oom = true;
	done(b, nlh);
	if (r)
		nftnl_rule_free(r);
}

/* Flush a chain's rules (DELRULE naming only table and chain). */
static void flush_chain(struct batch *b, const char *table, const char *chain)
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
	nlh = hdr(b, NFT_MSG_DELRULE, 0);
	if (nlh)
		nftnl_rule_nlmsg_build_payload(nlh, r);
	done(b, nlh);
	nftnl_rule_free(r);
}

static int send_batch(struct batch *b)
{
	struct mnl_socket *nl;
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	bool acked = false;
	int err = 0;

	batch_end(b);
	if (b->oom)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, b->buf, b->len) < 0) {
		err = -errno;
		goto out;
	}
	/* an error names the failing message (the batch is then undone);
	 * the last message's ack means all of it applied */
	while (!err && !acked) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		ssize_t got;
		int n;

		if (poll(&p, 1, 5000) <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		got = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
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
	mnl_socket_close(nl);
	return err;
}

static void put_skeleton(struct batch *b, const char *table)
{
	put_table(b, table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_set(b, table, SET_PENDING);
	put_chain(b, table, "prerouting", BR_HOOK_PRE_ROUTING);
	put_chain(b, table, "postrouting", BR_HOOK_POST_ROUTING);
}

int bh_docker_gate_sync(const char *table, int nr, const uint32_t *pending)
{
	struct batch b;
	int err;

	if (nr < 0 || nr > MAX_MEMBERS)
		return -E2BIG;
	err = batch_init(&b, 65536 + (size_t)nr * 64);
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
	free(b.buf);
	return err;
}

int bh_docker_gate_ensure(const char *table)
{
	struct batch b;
	int err = batch_init(&b, 65536);

	if (err)
		return err;
	put_skeleton(&b, table);
	/* the rules only if the chain is new: flush and re-add is atomic */
	flush_chain(&b, table, "prerouting");
	flush_chain(&b, table, "postrouting");
	put_rule(&b, table, "prerouting", true);
	put_rule(&b, table, "postrouting", false);
	err = send_batch(&b);
	free(b.buf);
	return err;
}

int bh_docker_gate_port(const char *table, uint32_t ifindex, bool block)
{
	struct batch b;
	int err = batch_init(&b, 65536);

	if (err)
		return err;
	put_elems(&b, table, SET_PENDING, block ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, 1,
		  &ifindex, sizeof(ifindex));
	err = send_batch(&b);
	free(b.buf);
	return !block && err == -ENOENT ? 0 : err;
}

int bh_docker_gate_delete(const char *table)
{
	struct batch b;
	int err = batch_init(&b, 65536);

	if (err)
		return err;
	put_table(&b, table, NFT_MSG_DELTABLE, 0);
	err = send_batch(&b);
	free(b.buf);
	/* no table, or no nf_tables at all: there is no gate to remove */
	if (err == -ENOENT || err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT ||
	    err == -EOPNOTSUPP)
		return 0;
	return err;
}
