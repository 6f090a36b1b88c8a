/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nftables backend's flow records: the instance's table logs each
 * decision to its nfnetlink_log group (lib/core/nft_log.h); this reads the
 * group over libmnl and turns each logged packet into the struct
 * bh_flow_record the BPF ring buffer gives, so the rest of the agent
 * (aggregation, store, flows, JSONL, syslog, baselines) is the same.
 *
 * What a logged packet cannot say: the peer's identity (peer_identity is
 * 0, so a peer shows as its address) and the flow's later packets and end
 * (only new flows and denied packets are logged). The socket is
 * non-blocking; when the agent falls behind, the kernel drops log
 * messages (ENOBUFS), counted in bh_nflog_lost().
 */
#ifndef BULKHEAD_NFLOG_H
#define BULKHEAD_NFLOG_H

#include <stdint.h>

#include "bulkhead_abi.h"

struct bh_nflog;

/* Bind nfnetlink_log group `group`, copying BH_NFT_LOG_SNAPLEN bytes of
 * each packet. -EBUSY: another process has the group. The socket holds
 * 4 MiB of messages. */
int bh_nflog_open(uint16_t group, struct bh_nflog **out);
void bh_nflog_close(struct bh_nflog *l);
int bh_nflog_fd(const struct bh_nflog *l);
/* Read what waits, up to 256 datagrams (never blocks; call again while
 * the fd is readable); fn gets one record per bulkhead log
 * message, with slot unset (BH_MAX_WORKLOADS) and ifindex the workload's
 * interface: the caller knows which workload that is. Other messages are
 * skipped. */
int bh_nflog_read(struct bh_nflog *l, int (*fn)(struct bh_flow_record *r, void *arg), void *arg);
/* Times the kernel dropped messages because the socket was full (each
 * time one or more). */
uint64_t bh_nflog_lost(const struct bh_nflog *l);

#endif /* BULKHEAD_NFLOG_H */
