/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The conntrack shares' recount (lib/core/l2id.h: bh_ct_share_recount) on
 * a thread of its own, every period. It reads the whole conntrack table,
 * up to 262 144 entries per family, which takes tens of milliseconds, and
 * more on a busy node; on the agent's loop the records waiting for it
 * waited that long too, a detection decision among them. The thread has
 * its own context (no state shared with the loop); a recount that fails
 * leaves the counts high until the next one, as before.
 */
#ifndef BULKHEAD_AGENT_RECOUNT_H
#define BULKHEAD_AGENT_RECOUNT_H

#include <stddef.h>

struct bh_recount;

/* Open a context on bpffs/state_dir and start the thread. On error *out
 * is NULL and msg says why. */
int bh_recount_start(const char *bpffs, const char *state_dir, unsigned period_ms,
		     struct bh_recount **out, char *msg, size_t len);
/* Stop the thread (it ends within its current recount) and free. */
void bh_recount_stop(struct bh_recount *r);

#endif /* BULKHEAD_AGENT_RECOUNT_H */
