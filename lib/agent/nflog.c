// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nfnetlink_log reader for the nftables backend's flow records (nflog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "nflog.h"
#include "nft_log.h"

#define RCVBUF		(4 << 20)	/* bytes of log messages the socket holds */
#define READS_PER_CALL	256		/* datagrams; then the agent's other work */

struct bh_nflog {
	struct mnl_socket *nl;
	uint16_t group;
	uint64_t lost;
	char buf[65536];
};

/* The kernel's answer to our request seq: its error, 0 for an ack. Log
 * messages of the group may come first (the bind is done before the ack
 * is sent): they are skipped, as anything logged before the agent is
 * ready may be. Bounded: a few seconds. */
static int await_ack(struct bh_nflog *l, uint32_t seq)
{
	for (;;) {
		struct pollfd p = { .fd = mnl_socket_get_fd(l->nl), .events = POLLIN };
		ssize_t got;
		int n;

		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		got = mnl_socket_recvfrom(l->nl, l->buf, sizeof(l->buf));
		if (got < 0) {
			if (errno == ENOBUFS)
				continue;
			return -errno;
		}
		n = (int)got;
		for (struct nlmsghdr *h = (void *)l->buf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq)
				return e->error;
		}
	}
}

/* One NFULNL_MSG_CONFIG message: bind the group and copy the first
 * BH_NFT_LOG_SNAPLEN bytes of each packet. -EBUSY: another socket has
 * the group. */
static int bind_group(struct bh_nflog *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(BH_NFT_LOG_SNAPLEN),
					       .copy_mode = NFULNL_COPY_PACKET };
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(l->group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return await_ack(l, nlh->nlmsg_seq);
}

int bh_nflog_open(uint16_t group, struct bh_nflog **out)
{
	struct bh_nflog *l = calloc(1, sizeof(*l));
	int err, rcvbuf = RCVBUF;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->group = group;
	l->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!l->nl) {
		free(l);
		return -errno;
	}
	/* room for a burst while the agent is busy (root may force it) */
	if (setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	err = mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	if (!err)
		err = bind_group(l);
	if (err) {
		mnl_socket_close(l->nl);
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void bh_nflog_close(struct bh_nflog *l)
{
	if (!l)
		return;
	/* unbinding is the kernel's when the socket closes */
	mnl_socket_close(l->nl);
	free(l);
}

int bh_nflog_fd(const struct bh_nflog *l)
{
	return mnl_socket_get_fd(l->nl);
}

uint64_t bh_nflog_lost(const struct bh_nflog *l)
{
	return l->lost;
}

/* The IP header and the ports (ICMP: type << 8 | code) of payload p. */
static int parse_packet(const uint8_t *p, size_t len, struct bh_flow_record *r)
{
	size_t l4;

	if (len >= 20 && p[0] >> 4 == 4) {
		l4 = (size_t)(p[0] & 0xf) * 4;
		r->family = 4;
		r->proto = p[9];
		r->bytes = (uint64_t)(p[2] << 8 | p[3]);
		r->saddr[10] = r->saddr[11] = r->daddr[10] = r->daddr[11] = 0xff;
		memcpy(r->saddr + 12, p + 12, 4);
		memcpy(r->daddr + 12, p + 16, 4);
		if ((p[6] & 0x1f) || p[7])	/* a later fragment: no ports */
			return 0;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		/* extension headers are not walked: the table's own lookup
		 * takes the transport header nftables found, which the log
		 * does not give; the common case has none */
		l4 = 40;
		r->family = 6;
		r->proto = p[6];
		r->bytes = (uint64_t)(p[4] << 8 | p[5]) + 40;
		memcpy(r->saddr, p + 8, 16);
		memcpy(r->daddr, p + 24, 16);
	} else {
		return -EINVAL;
	}
	if ((r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6) && len >= l4 + 2) {
		r->dport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
	} else if ((r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP ||
		    r->proto == IPPROTO_SCTP) && len >= l4 + 4) {
		r->sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		r->dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
		if (r->proto == IPPROTO_TCP && len >= l4 + 14)
			r->tcp_flags = p[l4 + 13];
	}
	return 0;
}

/* An Ethernet/IPv4 ARP header (the only kind the table lets through
 * its checks): sender and target protocol addresses, IPv4-mapped; family
 * 0, as the data path records ARP. */
static int parse_arp(const uint8_t *p, size_t len, struct bh_flow_record *r)
{
	static const uint8_t eth_ipv4[6] = { 0, 1, 8, 0, 6, 4 };

	/* in the arp output hook the packet starts at its Ethernet header
	 * (the host built it), in the input hook at the ARP header */
	if (len >= 14 + 28 && memcmp(p, eth_ipv4, 6) && p[12] == 0x08 && p[13] == 0x06) {
		p += 14;
		len -= 14;
	}
	if (len < 28 || memcmp(p, eth_ipv4, 6))
		return -EINVAL;
	r->saddr[10] = r->saddr[11] = r->daddr[10] = r->daddr[11] = 0xff;
	memcpy(r->saddr + 12, p + 14, 4);
	memcpy(r->daddr + 12, p + 24, 4);
	r->bytes = len;
	return 0;
}

struct read_arg {
	int (*fn)(struct bh_flow_record *r, void *arg);
	void *arg;
	int err;
};

static int on_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Logged by the arp table (nft_arp.c): the packet header says ARP. */
static bool is_arp(const struct nlattr *const *tb)
{
	const struct nfulnl_msg_packet_hdr *h;

	if (!tb[NFULA_PACKET_HDR] || mnl_attr_get_payload_len(tb[NFULA_PACKET_HDR]) < sizeof(*h))
		return false;
	h = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
	return ntohs(h->hw_protocol) == ETH_P_ARP;
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	struct read_arg *ra = data;
	struct bh_nft_log_tag tag;
	struct bh_flow_record r = { .slot = BH_MAX_WORKLOADS, .packets = 1 };
	const struct nlattr *dev;
	struct timespec ts;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_attr, tb);
	if (!tb[NFULA_PREFIX] || !tb[NFULA_PAYLOAD] ||
	    bh_nft_log_parse(mnl_attr_get_str(tb[NFULA_PREFIX]),
			     strnlen(mnl_attr_get_str(tb[NFULA_PREFIX]),
				     mnl_attr_get_payload_len(tb[NFULA_PREFIX])), &tag))
		return MNL_CB_OK;	/* not one of ours */
	/* the workload's interface: the packet came in on it (egress) or
	 * leaves on it (ingress) */
	dev = tb[tag.dir == BH_DIR_EGRESS ? NFULA_IFINDEX_INDEV : NFULA_IFINDEX_OUTDEV];
	if (!dev || (is_arp(tb) ? parse_arp : parse_packet)(
			    mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &r))
		return MNL_CB_OK;
	r.ifindex = ntohl(mnl_attr_get_u32(dev));
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the ring's clock */
	r.ts_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	r.rule_id = tag.rule_id;
	r.dir = (__u8)tag.dir;
	r.verdict = (__u8)tag.verdict;
	r.reason = (__u8)tag.reason;
	/* what passes is a new flow (would-deny too), what drops a denied
	 * packet, as the data path's records */
	r.event = tag.verdict == BH_V_ALLOW || tag.verdict == BH_V_WOULD_DENY ? BH_E_NEW
									      : BH_E_DENY;
	ra->err = ra->fn(&r, ra->arg);
	return ra->err ? MNL_CB_ERROR : MNL_CB_OK;
}

int bh_nflog_read(struct bh_nflog *l, int (*fn)(struct bh_flow_record *r, void *arg), void *arg)
{
	struct read_arg ra = { .fn = fn, .arg = arg };

	/* bounded: under a flood the socket stays readable and the agent's
	 * loop comes back, after its other work */
	for (int i = 0; i < READS_PER_CALL; i++) {
		ssize_t n = recv(mnl_socket_get_fd(l->nl), l->buf, sizeof(l->buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {	/* the kernel dropped some */
				l->lost++;
				continue;
			}
			return -errno;
		}
		if (mnl_cb_run(l->buf, (size_t)n, 0, 0, on_msg, &ra) < 0 && ra.err)
			return ra.err;
	}
	return 0;
}
