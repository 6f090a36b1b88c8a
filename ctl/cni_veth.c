/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bulkhead-cni: host veth discovery over rtnetlink. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "cni_veth.h"

/* One RTM_GETLINK over a plain rtnetlink socket. Written against the
 * kernel's UAPI rather than libmnl so that bulkhead-cni links statically:
 * Debian ships libmnl as a shared library only (no libmnl.a). */

/* A string attribute: NUL-terminated inside its payload. */
static void attr_str(const struct rtattr *a, char *buf, size_t len)
{
	const char *s = RTA_DATA(a);
	size_t n = RTA_PAYLOAD(a);

	if (n && memchr(s, '\0', n))
		snprintf(buf, len, "%s", s);
}

static void parse_linkinfo(const struct rtattr *nest, struct cni_link *l)
{
	const struct rtattr *a = RTA_DATA(nest);
	int left = (int)RTA_PAYLOAD(nest);

	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == IFLA_INFO_KIND)
			attr_str(a, l->kind, sizeof(l->kind));
}

static void parse_link(const struct nlmsghdr *nlh, struct cni_link *l)
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
		case IFLA_LINKINFO:
			parse_linkinfo(a, l);
			break;
		}
	}
}

int cni_link_get(int ifindex, const char *name, struct cni_link *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifm;
		char attrs[RTA_SPACE(IF_NAMESIZE)];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* one RTM_NEWLINK of one interface: well under 16 KiB */
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	unsigned int seq = (unsigned int)time(NULL);
	struct nlmsghdr *nlh;
	ssize_t n;
	int fd, ret = -ENODEV;

	memset(out, 0, sizeof(*out));
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

int cni_link_get_in_netns(const char *netns_path, const char *ifname, struct cni_link *out)
{
	int self, target, ret;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	target = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		ret = -errno;
		close(self);
		return ret;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = -errno;
		goto out;
	}
	/* The netlink socket belongs to the namespace it is opened in. */
	ret = cni_link_get(0, ifname, out);
	if (setns(self, CLONE_NEWNET) < 0)
		ret = -EIO;
out:
	close(target);
	close(self);
	return ret;
}

int cni_host_veth(const char *netns_path, const char *ifname, const struct cni_prev *prev,
		  struct cni_link *out, struct cni_error *e)
{
	struct cni_link peer;
	int err;

	err = cni_link_get_in_netns(netns_path, ifname, &peer);
	if (err == -EIO)
		return cni_fail(e, err, CNI_E_IO, "cannot return to the host network namespace",
				"setns back from %s failed", netns_path);
	if (err)
		return cni_fail(e, err, CNI_E_VETH, "container interface not found",
				"%s in %s: %s", ifname, netns_path, strerror(-err));
	if (!peer.link || peer.link == peer.ifindex)
		return cni_fail(e, EINVAL, CNI_E_VETH, "container interface has no peer",
				"%s in %s (kind \"%s\") is not one end of a veth pair", ifname,
				netns_path, peer.kind);
	err = cni_link_get(peer.link, NULL, out);
	if (err)
		return cni_fail(e, err, CNI_E_VETH, "host side of the container veth not found",
				"ifindex %d (peer of %s): %s", peer.link, ifname, strerror(-err));
	if (strcmp(out->kind, "veth"))
		return cni_fail(e, EINVAL, CNI_E_VETH, "host side is not a veth",
				"%s (ifindex %d) is of kind \"%s\"", out->name, out->ifindex,
				out->kind);
	if (prev->nr_ifaces == 0)
		return 0;
	for (int i = 0; i < prev->nr_ifaces; i++)
		if (!prev->ifaces[i].sandbox && !strcmp(prev->ifaces[i].name, out->name))
			return 0;
	return cni_fail(e, EINVAL, CNI_E_VETH, "host veth not in prevResult",
			"the peer of %s is %s (ifindex %d), which prevResult does not list as a "
			"host interface", ifname, out->name, out->ifindex);
}
