/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Giving live flows (flowagg.h) their process (procjoin.h).
 *
 * A TCP client's socket record is written in connect(), before its SYN
 * reaches the veth, and a listener's at listen(): the socket records are
 * read before a flow's first record, which then names its process. The
 * two sides can still report in the other order: a UDP socket is
 * recorded after its send, and a connection accepted from a listener
 * older than the agent on its first read or write. A new TCP or UDP flow that finds no process at once is retried each
 * time socket records arrive, for at most BH_PROCFLOW_WAIT_MS; a flow
 * that gets its process late is marked dirty (the store row gets it at
 * the next flush) and handed to the caller's callback (deviation check,
 * learning). At most BH_PROCFLOW_PENDING flows wait; the oldest goes.
 *
 * A workload's network namespace is its host veth's peer namespace
 * (IFLA_LINK_NETNSID), looked up once per interface and cached.
 */
#ifndef BULKHEAD_PROCFLOW_H
#define BULKHEAD_PROCFLOW_H

#include <stdbool.h>

#include "bulkhead.h"
#include "flowagg.h"
#include "procjoin.h"

#define BH_PROCFLOW_WAIT_MS	2000
#define BH_PROCFLOW_PENDING	4096

struct bh_procflow;

int bh_procflow_open(struct bh_procflow **out);
void bh_procflow_close(struct bh_procflow *pf);
/* epoll: readable when socket records wait */
int bh_procflow_fd(const struct bh_procflow *pf);
bool bh_procflow_udp(const struct bh_procflow *pf);
/* Give f its process if known (true if f has one now). wl: the flow's
 * workload. */
bool bh_procflow_join(struct bh_procflow *pf, struct bh_flow *f,
		      const struct bh_workload_info *wl);
/* Retry f (given by the record that made it) when socket records come. */
void bh_procflow_defer(struct bh_procflow *pf, const struct bh_flow_record *rec);
/* Read the socket records waiting (cheap when none wait). */
void bh_procflow_read(struct bh_procflow *pf);
/* Read the socket records waiting, then retry the deferred flows. For
 * each flow that got its process: mark it dirty, then joined(f, arg).
 * workload(slot, arg) names a slot's workload (NULL: none). */
void bh_procflow_poll(struct bh_procflow *pf, struct bh_flowagg *agg,
		      const struct bh_workload_info *(*workload)(__u32 slot, void *arg),
		      void (*joined)(struct bh_flow *f, void *arg), void *arg);
void bh_procflow_get_stats(const struct bh_procflow *pf, struct bh_procjoin_stats *st);

#endif /* BULKHEAD_PROCFLOW_H */
