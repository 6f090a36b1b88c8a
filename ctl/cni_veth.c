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

int cni_link_get_in_netns(const char *netns_path, const char *ifname, struct bh_link *out)
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
	ret = bh_link_get(0, ifname, -1, out);
	if (setns(self, CLONE_NEWNET) < 0)
		ret = -EIO;
out:
	close(target);
	close(self);
	return ret;
}

int cni_host_veth(const char *netns_path, const char *ifname, const struct cni_prev *prev,
		  struct bh_link *out, struct cni_error *e)
{
	struct bh_link peer;
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
	err = bh_link_get(peer.link, NULL, -1, out);
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
