/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: finding the host side of the container's veth. The
 * container interface's IFLA_LINK (read inside CNI_NETNS over netlink:
 * /sys keeps showing the host after setns) is the peer's ifindex on the
 * host; that interface must be a veth and, when prevResult lists
 * interfaces, one of them without a sandbox. Matching names alone would
 * trust prevResult too much: the bridge itself also has no sandbox.
 */
#ifndef BULKHEAD_CNI_VETH_H
#define BULKHEAD_CNI_VETH_H

#include <net/if.h>

#include "cni_conf.h"
#include "rtlink.h"

/* IFNAME's link inside the namespace at NETNS_PATH; back in the caller's
 * namespace on return (-EIO if that ever fails: the caller must stop). */
int cni_link_get_in_netns(const char *netns_path, const char *ifname, struct bh_link *out);

/* The host veth of (NETNS, IFNAME), checked against prevResult. */
int cni_host_veth(const char *netns_path, const char *ifname, const struct cni_prev *prev,
		  struct bh_link *out, struct cni_error *e);

#endif /* BULKHEAD_CNI_VETH_H */
