/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The nftables backend's table of family arp (nft_arp.c). */
#ifndef BULKHEAD_NFT_ARP_H
#define BULKHEAD_NFT_ARP_H

#include "nft_objects.h"

/* The table of family arp: the ARP sender check. */
int bh_nft_put_arp_table(struct bh_nft_tctx *c);

#endif /* BULKHEAD_NFT_ARP_H */
