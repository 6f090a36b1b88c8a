// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nftables backend (see nft.h): the netlink batch builder (libnftnl)
 * and, apart, the socket that sends it (libmnl). The element computation
 * is in nft_elems.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include "nft.h"

#define ELEMS_PER_MSG	256		/* keeps each netlink message small */

#define MSG_ROOM	65536	/* room kept free for the next message */

static int room(struct bh_nft_batch *b)
{
	if (b->cap - b->len >= MSG_ROOM)
		return 0;
	size_t cap = b->cap ? 2 * b->cap : 4 * MSG_ROOM;
	char *n = realloc(b->buf, cap);

	if (!n)
		return -ENOMEM;
	memset(n + b->len, 0, cap - b->len);
	b->buf = n;
	b->cap = cap;
	return 0;
}

static struct nlmsghdr *hdr(struct bh_nft_batch *b, int type, int flags)
{
	if (room(b))
		return NULL;
	b->last_seq = b->seq;
	b->last_off = b->len;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, (uint16_t)type, NFPROTO_INET,
				     (uint16_t)flags, b->seq++);
}

static void done(struct bh_nft_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int batch_begin(struct bh_nft_batch *b)
{
	int err = room(b);

	if (err)
		return err;
	if (!b->seq)
		b->seq = (uint32_t)time(NULL);
	b->len += NLMSG_ALIGN(nftnl_batch_begin(b->buf + b->len, b->seq++)->nlmsg_len);
	return 0;
}

static int batch_end(struct bh_nft_batch *b)
{
	int err = room(b);

	if (err)
		return err;
	/* the last real message asks for an ack: bh_nft_send waits for it */
	((struct nlmsghdr *)(b->buf + b->last_off))->nlmsg_flags |= NLM_F_ACK;
	b->len += NLMSG_ALIGN(nftnl_batch_end(b->buf + b->len, b->seq++)->nlmsg_len);
	return 0;
}

static int put_table(struct bh_nft_batch *b, const char *name, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = hdr(b, type, flags);
	if (!nlh) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	nftnl_table_free(t);
	return 0;
}

/* Field layout of the concatenated key: each field starts on 4 bytes. */
struct key_layout {
	int family, addr_len, key_len;
};

static void key_layout(int family, struct key_layout *l)
{
	l->family = family;
	l->addr_len = family == 4 ? 4 : 16;
	l->key_len = l->addr_len + 4 + 4;
}

static const char *set_name(int family)
{
	return family == 4 ? "wl4" : "wl6";
}

/* nft's datatype ids, concatenated as nft does (6 bits per field) */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_TYPE_INET_PROTO	12
#define NFT_TYPE_INET_SERVICE	13

static int put_set(struct bh_nft_batch *b, const char *table, int family)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct key_layout l;
	__u8 fields[4];
	struct nlmsghdr *nlh;
	__u32 kt;

	if (!s)
		return -ENOMEM;
	key_layout(family, &l);
	fields[0] = (__u8)l.addr_len;
	fields[1] = 1;
	fields[2] = 2;
	fields[3] = 0;
	kt = ((family == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR) << 12) |
	     (NFT_TYPE_INET_PROTO << 6) | NFT_TYPE_INET_SERVICE;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(family));
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)family);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, kt);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)l.key_len);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 3);
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (!nlh) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	nftnl_set_free(s);
	return 0;
}

static void elem_key(const struct key_layout *l, const __u8 *addr, __u8 proto, __u16 port,
		     __u8 *key)
{
	__u16 p = htons(port);

	memset(key, 0, (size_t)l->key_len);
	memcpy(key, addr, (size_t)l->addr_len);
	key[l->addr_len] = proto;
	memcpy(key + l->addr_len + 4, &p, 2);
}

static int put_elems(struct bh_nft_batch *b, const char *table, const struct bh_nft_ruleset *rs,
		     int family)
{
	struct key_layout l;
	size_t i = 0;

	key_layout(family, &l);
	while (i < rs->nr) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		int n = 0;

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(family));
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)family);
		for (; i < rs->nr && n < ELEMS_PER_MSG; i++) {
			const struct bh_nft_elem *e = &rs->elems[i];
			struct nftnl_set_elem *se;
			__u8 k[24], ke[24];

			if (e->family != family)
				continue;
			se = nftnl_set_elem_alloc();
			if (!se) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			elem_key(&l, e->addr_lo, e->proto_lo, e->port_lo, k);
			elem_key(&l, e->addr_hi, e->proto_hi, e->port_hi, ke);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, k, (uint32_t)l.key_len);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY_END, ke, (uint32_t)l.key_len);
			nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT,
					       e->accept ? NF_ACCEPT : NF_DROP);
			nftnl_set_elem_add(s, se);
			n++;
		}
		if (n) {
			nlh = hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
			if (!nlh) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			done(b, nlh);
		}
		nftnl_set_free(s);
	}
	return 0;
}

static int put_chain(struct bh_nft_batch *b, const char *table, const char *name, bool base)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (!nlh) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	done(b, nlh);
	nftnl_chain_free(c);
	return 0;
}

/* --- expressions: each returns false when out of memory */
static bool ex_meta(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_ct_est(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct"), *bw = nftnl_expr_alloc("bitwise");
	__u32 mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	__u32 zero = 0;

	if (!ct || !bw) {
		nftnl_expr_free(ct);
		nftnl_expr_free(bw);
		return false;
	}
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, ct);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, bw);
	return ex_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static bool ex_lookup(struct nftnl_rule *r, int family)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set_name(family));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)family);
	nftnl_rule_add_expr(r, e);
	return true;
}

static struct nftnl_rule *rule_new(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static int rule_put(struct bh_nft_batch *b, struct nftnl_rule *r, bool ok)
{
	struct nlmsghdr *nlh = ok ? hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) : NULL;

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		done(b, nlh);
	}
	nftnl_rule_free(r);
	return nlh ? 0 : -ENOMEM;
}

/* The lookup rule for one family: ICMP keys on type . code, every other
 * protocol on the destination port (0..65535 boxes cover portless ones). */
static int put_lookup_rule(struct bh_nft_batch *b, const char *table, int family, bool icmp,
			   enum bh_dir dir)
{
	struct nftnl_rule *r = rule_new(table, "wl");
	struct key_layout l;
	__u8 nfproto = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	__u8 icmp_proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	/* the peer: source address of traffic to the workload, else dest */
	__u32 addr_off = family == 4 ? (dir == BH_DIR_INGRESS ? 12 : 16)
				     : (dir == BH_DIR_INGRESS ? 8 : 24);
	__u32 proto_reg, port_reg;
	bool ok;

	if (!r)
		return -ENOMEM;
	key_layout(family, &l);
	proto_reg = NFT_REG32_00 + (__u32)l.addr_len / 4;
	port_reg = proto_reg + 1;
	ok = ex_meta(r, NFT_META_NFPROTO, NFT_REG_1) &&
	     ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, &nfproto, 1) &&
	     ex_meta(r, NFT_META_L4PROTO, NFT_REG_1) &&
	     ex_cmp(r, NFT_REG_1, icmp ? NFT_CMP_EQ : NFT_CMP_NEQ, &icmp_proto, 1) &&
	     ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off, (__u32)l.addr_len, NFT_REG32_00) &&
	     ex_meta(r, NFT_META_L4PROTO, proto_reg) &&
	     ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, icmp ? 0 : 2, 2, port_reg) &&
	     ex_lookup(r, family);
	return rule_put(b, r, ok);
}

static int put_rules(struct bh_nft_batch *b, const struct bh_nft_ruleset *rs,
		     const struct bh_nft_target *t)
{
	char ifname[IFNAMSIZ] = { 0 };
	struct nftnl_rule *r;
	int err;

	strncpy(ifname, t->ifname, sizeof(ifname) - 1);
	r = rule_new(t->table, "forward");
	if (!r)
		return -ENOMEM;
	err = rule_put(b, r,
		       ex_meta(r, rs->dir == BH_DIR_INGRESS ? NFT_META_OIFNAME : NFT_META_IIFNAME,
			       NFT_REG_1) &&
		       ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, ifname, sizeof(ifname)) &&
		       ex_verdict(r, NFT_JUMP, "wl"));
	if (err)
		return err;
	r = rule_new(t->table, "wl");
	if (!r)
		return -ENOMEM;
	err = rule_put(b, r, ex_ct_est(r) && ex_verdict(r, NF_ACCEPT, NULL));
	for (int f = 4; !err && f <= 6; f += 2) {
		err = put_lookup_rule(b, t->table, f, true, rs->dir);
		if (!err)
			err = put_lookup_rule(b, t->table, f, false, rs->dir);
	}
	if (err || rs->default_accept)
		return err;
	r = rule_new(t->table, "wl");
	if (!r)
		return -ENOMEM;
	return rule_put(b, r, ex_verdict(r, NF_DROP, NULL));
}

int bh_nft_build_install(const struct bh_nft_ruleset *rs, const struct bh_nft_target *t,
			 struct bh_nft_batch *b)
{
	int err;

	if (!t->table || !*t->table || strlen(t->table) > 255 || !t->ifname || !*t->ifname ||
	    strlen(t->ifname) >= IFNAMSIZ)
		return -EINVAL;
	err = batch_begin(b);
	/* create-if-absent, delete, create: an atomic replace in one batch */
	if (!err)
		err = put_table(b, t->table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = put_table(b, t->table, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = put_table(b, t->table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (int f = 4; !err && f <= 6; f += 2) {
		err = put_set(b, t->table, f);
		if (!err)
			err = put_elems(b, t->table, rs, f);
	}
	if (!err)
		err = put_chain(b, t->table, "forward", true);
	if (!err)
		err = put_chain(b, t->table, "wl", false);
	if (!err)
		err = put_rules(b, rs, t);
	if (!err)
		err = batch_end(b);
	return err;
}

int bh_nft_build_delete(const char *table, struct bh_nft_batch *b)
{
	int err;

	if (!table || !*table)
		return -EINVAL;
	err = batch_begin(b);
	if (!err)
		err = put_table(b, table, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = batch_end(b);
	return err;
}

void bh_nft_batch_free(struct bh_nft_batch *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* --------------------------------------------------------------- socket */
int bh_nft_send(const struct bh_nft_batch *b)
{
	struct mnl_socket *nl;
	char *rbuf;
	size_t rlen = MNL_SOCKET_BUFFER_SIZE * 4;
	int err = 0, sndbuf = (int)b->len + MNL_SOCKET_BUFFER_SIZE;
	bool acked = false;

	nl = mnl_socket_open(NETLINK_NETFILTER);
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
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

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

