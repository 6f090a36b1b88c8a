// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rule chains' names and counters (nft_rulechain.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft_rulechain.h"

void bh_nft_rulechain_name(const struct bh_nft_rulechain *rc, char buf[BH_NFT_RULECHAIN_NAME])
{
	snprintf(buf, BH_NFT_RULECHAIN_NAME, "r%u_%u_%u_%c", rc->rule_id, (unsigned)rc->verdict,
		 (unsigned)rc->reason, rc->dir == BH_DIR_EGRESS ? 'e' : 'i');
}

int bh_nft_rulechain_parse(const char *name, struct bh_nft_rulechain *rc)
{
	unsigned long id;
	unsigned v, r;
	char d, tail;

	if (name[0] != 'r' || name[1] < '0' || name[1] > '9')
		return -EINVAL;
	id = strtoul(name + 1, NULL, 10);
	if (id > UINT32_MAX ||
	    sscanf(name + 1, "%*u_%u_%u_%c%c", &v, &r, &d, &tail) != 3 ||
	    v >= BH_V_MAX || r >= BH_R_MAX || (d != 'e' && d != 'i'))
		return -EINVAL;
	rc->rule_id = (__u32)id;
	rc->verdict = (__u8)v;
	rc->reason = (__u8)r;
	rc->dir = d == 'e' ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	return 0;
}

int bh_nft_rulechain_cmp(const void *a, const void *b)
{
	const struct bh_nft_rulechain *x = a, *y = b;

	if (x->rule_id != y->rule_id)
		return x->rule_id < y->rule_id ? -1 : 1;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	return (int)x->dir - (int)y->dir;
}

struct dump {
	struct bh_nft_counter *v;
	size_t nr, cap;
	int err;
};

static int add_counter(struct dump *d, const struct bh_nft_counter *c)
{
	if (d->nr == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct bh_nft_counter *n = realloc(d->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->v = n;
		d->cap = cap;
	}
	d->v[d->nr++] = *c;
	return 0;
}

/* One rule of the dump: a rule chain's rule holds its counter. */
static int on_rule(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct bh_nft_counter c = { 0 };
	struct nftnl_expr *e;
	bool found = false;

	if (!r) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    bh_nft_rulechain_parse(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), &c.rc)) {
		nftnl_rule_free(r);
		return MNL_CB_OK;	/* not a rule chain's */
	}
	it = nftnl_expr_iter_create(r);
	for (e = it ? nftnl_expr_iter_next(it) : NULL; e; e = nftnl_expr_iter_next(it)) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter"))
			continue;
		c.packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		found = true;
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	if (found && (d->err = add_counter(d, &c)))
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* Dump the table's rules (a GETRULE dump filtered by table) into d. */
static int dump_rules(struct mnl_socket *nl, const char *table, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	if (!r)
		return -ENOMEM;
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, on_rule, d);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		return d->err ? d->err : -errno;
	return 0;
}

/* One dump on a socket of its own (what an interrupted dump left unread
 * goes with it). */
static int dump_once(const char *table, struct dump *d)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int err;

	if (!nl)
		return errno == EPROTONOSUPPORT ? 0 : -errno;	/* no nf_tables: no table */
	err = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	if (!err)
		err = dump_rules(nl, table, d);
	mnl_socket_close(nl);
	return err == -ENOENT ? 0 : err;	/* ENOENT: no such table */
}

/* A dump is interrupted (EINTR) when any table of the network namespace
 * changes during it, another instance's too: try again, a few times. */
#define DUMP_TRIES	10

int bh_nft_counters_read(const char *table, struct bh_nft_counter **out, size_t *nr)
{
	struct dump d = { 0 };
	int err = -EINTR;

	*out = NULL;
	*nr = 0;
	for (int i = 0; err == -EINTR && i < DUMP_TRIES; i++) {
		d.nr = 0;
		d.err = 0;
		err = dump_once(table, &d);
	}
	if (err) {
		free(d.v);
		return err;
	}
	qsort(d.v, d.nr, sizeof(*d.v), bh_nft_rulechain_cmp);
	*out = d.v;
	*nr = d.nr;
	return 0;
}
