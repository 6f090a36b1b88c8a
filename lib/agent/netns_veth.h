/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The host side of a container's veth, found from the container's
 * process: its network namespace (/proc/PID/ns/net) lists the container
 * end, whose IFLA_LINK is the peer's ifindex in the host namespace. The
 * rtnetlink socket is opened inside the container's namespace (a socket
 * stays in the namespace it was made in) and the thread returns at once;
 * /sys would still show the host after setns.
 */
#ifndef BULKHEAD_NETNS_VETH_H
#define BULKHEAD_NETNS_VETH_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bh_host_veth {
	uint32_t ifindex;		/* host side */
	char ifname[IF_NAMESIZE];
	char master[IF_NAMESIZE];	/* its bridge, "" if none */
	char inner[IF_NAMESIZE];	/* container side, e.g. eth0 */
};

/* mac: the container interface's address (the one Docker reports for
 * the network), or NULL for the first veth in the namespace.
 * -ESRCH: no such process; -ENODEV: no matching veth; -EIO: could not
 * return to the caller's namespace (the caller must stop). */
int bh_netns_host_veth(pid_t pid, const uint8_t *mac, struct bh_host_veth *out);

/* Host veths enslaved to one of the bridges (ifindexes); *nr in/out:
 * capacity/count. */
int bh_bridge_ports(const uint32_t *bridges, int nr_bridges, uint32_t *ports, int *nr);

/* rtnetlink link notifications (RTNLGRP_LINK), non-blocking. */
struct bh_link_change {
	uint32_t ifindex, master;
	bool veth, deleted;
};
int bh_link_monitor_open(int *fd);
/* Calls fn for each waiting notification. -ENOBUFS: some were lost (the
 * caller rescans); 0 when drained. */
int bh_link_monitor_read(int fd, void (*fn)(const struct bh_link_change *c, void *arg),
			 void *arg);

#endif /* BULKHEAD_NETNS_VETH_H */
