/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bulkhead-cni: host veth discovery over rtnetlink (libmnl). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "cni_veth.h"

static int attr_linkinfo_cb(const struct nlattr *a, void *data)
{
	struct cni_link *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && !mnl_attr_validate(a, MNL_TYPE_STRING))
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int attr_link_cb(const struct nlattr *a, void *data)
{
	struct cni_link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (!mnl_attr_validate(a, MNL_TYPE_STRING))
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
		break;
	case IFLA_LINK:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			l->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			mnl_attr_parse_nested(a, attr_linkinfo_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cni_link *l = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	l->ifindex = ifm->ifi_index;
	return mnl_attr_parse(nlh, sizeof(*ifm), attr_link_cb, l);
}

int cni_link_get(int ifindex, const char *name, struct cni_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	unsigned int seq = (unsigned int)time(NULL), portid;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((!name && ifindex <= 0) || (name && strlen(name) >= IF_NAMESIZE))
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = name ? 0 : ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_cb_run(buf, ret, seq, portid, link_msg_cb, out);
	ret = ret < 0 ? (errno == ENODEV ? -ENODEV : -errno) : 0;
	if (!ret && !out->ifindex)
		ret = -ENODEV;
out:
	mnl_socket_close(nl);
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
