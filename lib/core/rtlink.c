// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One RTM_GETLINK over rtnetlink; see rtlink.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rtlink.h"

/* A string attribute: NUL-terminated inside its payload. */
static void attr_str(const struct rtattr *a, char *buf, size_t len)
{
	const char *s = RTA_DATA(a);
	size_t n = RTA_PAYLOAD(a);

	if (n && memchr(s, '\0', n))
		snprintf(buf, len, "%s", s);
}

static void parse_linkinfo(const struct rtattr *nest, struct bh_link *l)
{
	const struct rtattr *a = RTA_DATA(nest);
	int left = (int)RTA_PAYLOAD(nest);

	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == IFLA_INFO_KIND)
			attr_str(a, l->kind, sizeof(l->kind));
}

static void parse_link(const struct nlmsghdr *nlh, struct bh_link *l)
{
	const struct ifinfomsg *ifm = NLMSG_DATA(nlh);
	const struct rtattr *a = IFLA_RTA(ifm);
	int left = (int)IFLA_PAYLOAD(nlh);

	l->ifindex = ifm->ifi_index;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case IFLA_IFNAME:
			attr_str(a, l->name, sizeof(l->name));
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) == sizeof(__u32))
				l->link = (int)*(const __u32 *)RTA_DATA(a);
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(a) == sizeof(__s32))
				l->link_nsid = *(const __s32 *)RTA_DATA(a);
			break;
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(a) == 6) {
				memcpy(l->mac, RTA_DATA(a), 6);
				l->has_mac = true;
			}
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, l);
			break;
		}
	}
}

int bh_link_get(int ifindex, const char *name, int nsid, struct bh_link *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifm;
		char attrs[RTA_SPACE(IF_NAMESIZE) + RTA_SPACE(sizeof(__s32))];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* one RTM_NEWLINK of one interface: well under 16 KiB */
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	unsigned int seq = (unsigned int)time(NULL);
	struct nlmsghdr *nlh;
	ssize_t n;
	int fd, ret = -ENODEV;

	memset(out, 0, sizeof(*out));
	out->link_nsid = -1;
	if ((!name && ifindex <= 0) || (name && strlen(name) >= IF_NAMESIZE))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifm));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = seq;
	req.ifm.ifi_family = AF_UNSPEC;
	req.ifm.ifi_index = name ? 0 : ifindex;
	if (name) {
		struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));

		a->rta_type = IFLA_IFNAME;
		a->rta_len = RTA_LENGTH(strlen(name) + 1);
		memcpy(RTA_DATA(a), name, strlen(name) + 1);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	}
	if (nsid >= 0) {
		struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		__s32 id = nsid;

		a->rta_type = IFLA_TARGET_NETNSID;
		a->rta_len = RTA_LENGTH(sizeof(id));
		memcpy(RTA_DATA(a), &id, sizeof(id));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	}

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n); nlh = NLMSG_NEXT(nlh, n)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				ret = e->error;
			break;
		}
		if (nlh->nlmsg_type == RTM_NEWLINK &&
		    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
			parse_link(nlh, out);
			ret = out->ifindex ? 0 : -ENODEV;
			break;
		}
	}
out:
	close(fd);
	return ret;
}

