// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Host veth of a container interface (see netns_veth.h), over rtnetlink
 * with libmnl. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netns_veth.h"

struct link {
	int ifindex, link, master;
	char name[IF_NAMESIZE], kind[16];
	uint8_t mac[6];
	bool has_mac;
};

struct dump {
	const uint8_t *want_mac;	/* NULL: first veth */
	int want_ifindex;		/* >0: this ifindex */
	/* ports mode: every veth whose master is one of these */
	const uint32_t *masters;
	int nr_masters;
	uint32_t *ports;
	int nr_ports, cap_ports;
	struct link found;
	bool hit;
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct link *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && !mnl_attr_validate(a, MNL_TYPE_STRING))
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	struct link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (!mnl_attr_validate(a, MNL_TYPE_STRING))
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
		break;
	case IFLA_LINK:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			l->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_MASTER:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
			l->has_mac = true;
		}
		break;
	case IFLA_LINKINFO:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			mnl_attr_parse_nested(a, linkinfo_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link l = { .ifindex = ifm->ifi_index };

	if (d->hit || nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, &l);
	if (d->masters) {
		for (int i = 0; i < d->nr_masters; i++)
			if (l.master && (uint32_t)l.master == d->masters[i] &&
			    !strcmp(l.kind, "veth") && d->nr_ports < d->cap_ports)
				d->ports[d->nr_ports++] = (uint32_t)l.ifindex;
		return MNL_CB_OK;
	}
	if (d->want_ifindex > 0) {
		if (l.ifindex != d->want_ifindex)
			return MNL_CB_OK;
	} else {
		if (strcmp(l.kind, "veth") || !l.link)
			return MNL_CB_OK;
		if (d->want_mac && (!l.has_mac || memcmp(l.mac, d->want_mac, 6)))
			return MNL_CB_OK;
	}
	d->found = l;
	d->hit = true;
	return MNL_CB_OK;
}

/* Dump the links of the namespace the socket lives in. */
static int dump_links(struct mnl_socket *nl, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned int seq = (unsigned int)time(NULL), portid = mnl_socket_get_portid(nl);
	int ret;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)ret, seq, portid, msg_cb, d);
		if (ret <= 0)
			break;
	}
	if (ret < 0)
		return -errno;
	return d->hit || d->masters ? 0 : -ENODEV;
}

static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* A netlink socket in the namespace of pid. */
static int nl_open_in(pid_t pid, struct mnl_socket **out)
{
	char path[64];
	int self, target, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		close(target);
		return err;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		err = -errno;
		goto out;
	}
	*out = nl_open();
	if (!*out)
		err = -errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		if (*out)
			mnl_socket_close(*out);
		*out = NULL;
		err = -EIO;
	}
out:
	close(self);
	close(target);
	return err;
}

int bh_netns_host_veth(pid_t pid, const uint8_t *mac, struct bh_host_veth *out)
{
	struct dump inner = { .want_mac = mac }, host = { 0 };
	struct mnl_socket *nl = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if (pid <= 0)
		return -ESRCH;
	err = nl_open_in(pid, &nl);
	if (err)
		return err;
	err = dump_links(nl, &inner);
	mnl_socket_close(nl);
	if (err)
		return err;
	nl = nl_open();
	if (!nl)
		return -errno;
	host.want_ifindex = inner.found.link;
	err = dump_links(nl, &host);
	if (!err && strcmp(host.found.kind, "veth"))
		err = -ENODEV;
	if (!err) {
		out->ifindex = (uint32_t)host.found.ifindex;
		memcpy(out->ifname, host.found.name, IF_NAMESIZE);
		memcpy(out->inner, inner.found.name, IF_NAMESIZE);
		if (host.found.master) {
			struct dump br = { .want_ifindex = host.found.master };

			if (!dump_links(nl, &br))
				memcpy(out->master, br.found.name, IF_NAMESIZE);
		}
	}
	mnl_socket_close(nl);
	return err;
}

int bh_bridge_ports(const uint32_t *bridges, int nr_bridges, uint32_t *ports, int *nr)
{
	struct dump d = { .masters = bridges, .nr_masters = nr_bridges, .ports = ports,
			  .cap_ports = *nr };
	struct mnl_socket *nl = nl_open();
	int err;

	*nr = 0;
	if (!nl)
		return -errno;
	err = dump_links(nl, &d);
	mnl_socket_close(nl);
	if (!err)
		*nr = d.nr_ports;
	return err;
}

int bh_link_monitor_open(int *fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

int bh_link_monitor_read(int fd, void (*fn)(const struct bh_link_change *c, void *arg),
			 void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int len;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		len = (int)n;
		for (struct nlmsghdr *h = (void *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			struct ifinfomsg *ifm;
			struct link l = { 0 };
			struct bh_link_change c;

			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			ifm = mnl_nlmsg_get_payload(h);
			l.ifindex = ifm->ifi_index;
			mnl_attr_parse(h, sizeof(*ifm), attr_cb, &l);
			c.ifindex = (uint32_t)l.ifindex;
			c.master = (uint32_t)l.master;
			c.veth = !strcmp(l.kind, "veth");
			c.deleted = h->nlmsg_type == RTM_DELLINK;
			fn(&c, arg);
		}
	}
}
