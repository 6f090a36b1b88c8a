/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One RTM_GETLINK over a plain rtnetlink socket: what the core (a veth
 * peer's MAC at attach) and bulkhead-cni (the host side of a container's
 * veth) need to know of a link. Written against the kernel's UAPI rather
 * than libmnl so that bulkhead-cni, which links the core, links
 * statically: Debian ships libmnl as a shared library only.
 */
#ifndef BULKHEAD_RTLINK_H
#define BULKHEAD_RTLINK_H

#include <stdbool.h>

#include <linux/types.h>
#include <net/if.h>

struct bh_link {
	int ifindex;
	char name[IF_NAMESIZE];
	int link;		/* IFLA_LINK: a veth's peer ifindex, 0 if none */
	int link_nsid;		/* IFLA_LINK_NETNSID: the peer's namespace, -1: ours */
	char kind[32];		/* IFLA_INFO_KIND, "" if none */
	bool has_mac;
	__u8 mac[6];		/* IFLA_ADDRESS of an Ethernet link */
};

/* Look up a link by ifindex (name NULL) or by name, in the current network
 * namespace, or in the one nsid names (-1: the current one). -ENODEV if
 * there is none. */
int bh_link_get(int ifindex, const char *name, int nsid, struct bh_link *out);

#endif /* BULKHEAD_RTLINK_H */
