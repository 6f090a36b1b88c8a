/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Anti-spoofing, container egress only: a workload may send from its own
 * addresses (struct bh_workload.ips) and nothing else. IPv6 neighbour
 * discovery before an address is configured uses the link-local or the
 * unspecified address, so those are accepted for ND and MLD only.
 */
#ifndef BH_BPF_SPOOF_H
#define BH_BPF_SPOOF_H

#include "parse.h"

/* 1 if addr (IPv4-mapped for family 4) is one of the workload's. */
static __always_inline int bh_workload_owns(const struct bh_workload *wl, __u8 family, const __u8 *addr)
{
	int i;

	for (i = 0; i < BH_MAX_WORKLOAD_IPS; i++) {
		if (i >= wl->nr_ips)
			break;
		if (wl->ips[i].family == family && bh_addr_eq(wl->ips[i].addr, addr))
			return 1;
	}
	return 0;
}

static __always_inline int bh_addr_is_v4_any(const __u8 *a)
{
	return ((const __u32 *)a)[3] == 0;	/* mapped 0.0.0.0 */
}

static __always_inline int bh_addr_is_nd_source(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)	/* fe80::/10 */
		return 1;
	return (w[0] | w[1] | w[2] | w[3]) == 0;	/* :: */
}

/*
 * Container egress. 0: the source is legitimate; else BH_ERR(reason).
 * The ARP sender may also be 0.0.0.0 (address conflict probes).
 */
static __always_inline int bh_check_source(const struct bh_workload *wl, const struct bh_pkt *pkt)
{
	if (pkt->arp) {
		if (bh_addr_is_v4_any(pkt->saddr) || bh_workload_owns(wl, 4, pkt->saddr))
			return 0;
		return BH_ERR(BH_R_SPOOF_ARP);
	}
	if (bh_workload_owns(wl, pkt->family, pkt->saddr))
		return 0;
	if (pkt->nd && bh_addr_is_nd_source(pkt->saddr))
		return 0;
	return BH_ERR(BH_R_SPOOF_IP);
}

#endif /* BH_BPF_SPOOF_H */
