// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Live flows and their process; see procflow.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "procflow.h"
#include "rtlink.h"

struct pf_nsid {
	__u32 ifindex;
	int nsid;		/* -1: none (yet) */
	int64_t checked_ms;
};

struct pf_pending {
	struct bh_flow_record rec;
	int64_t until_ms;
};

struct bh_procflow {
	struct bh_procjoin *pj;
	struct pf_nsid ns[BH_MAX_WORKLOADS];	/* by slot */
	struct pf_pending *pend;
	uint32_t head, n;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bh_procflow_open(struct bh_procflow **out)
{
	struct bh_procflow *pf = calloc(1, sizeof(*pf));
	int err;

	if (!pf)
		return -ENOMEM;
	pf->pend = calloc(BH_PROCFLOW_PENDING, sizeof(*pf->pend));
	if (!pf->pend) {
		free(pf);
		return -ENOMEM;
	}
	err = bh_procjoin_open(NULL, &pf->pj);
	if (err) {
		bh_procflow_close(pf);
		return err;
	}
	*out = pf;
	return 0;
}

void bh_procflow_close(struct bh_procflow *pf)
{
	if (!pf)
		return;
	bh_procjoin_close(pf->pj);
	free(pf->pend);
	free(pf);
}

int bh_procflow_fd(const struct bh_procflow *pf)
{
	return bh_procjoin_fd(pf->pj);
}

bool bh_procflow_udp(const struct bh_procflow *pf)
{
	return bh_procjoin_udp(pf->pj);
}

/* The workload's namespace as the host names it; a veth that is not
 * there yet (or whose peer is in the host's namespace) is asked again
 * after a second. */
static int slot_nsid(struct bh_procflow *pf, __u32 slot, const struct bh_workload_info *wl)
{
	struct pf_nsid *c = &pf->ns[slot];
	int64_t now = mono_ms();

	if (c->ifindex != wl->ifindex || (c->nsid < 0 && now - c->checked_ms >= 1000)) {
		struct bh_link l;

		c->ifindex = wl->ifindex;
		c->checked_ms = now;
		c->nsid = bh_link_get((int)wl->ifindex, NULL, -1, &l) ? -1 : l.link_nsid;
	}
	return c->nsid;
}

bool bh_procflow_join(struct bh_procflow *pf, struct bh_flow *f,
		      const struct bh_workload_info *wl)
{
	bool egress = f->dir == BH_DIR_EGRESS;	/* the container initiated */
	struct bh_proc_info *p;
	int nsid;

	if (f->proc)
		return true;
	if ((f->proto != 6 && f->proto != 17) || !wl || f->slot >= BH_MAX_WORKLOADS)
		return false;
	nsid = slot_nsid(pf, f->slot, wl);
	if (nsid < 0)
		return false;
	p = bh_procjoin_find(pf->pj, nsid, f->proto, egress ? f->src : f->dst,
			     egress ? f->sport : f->dport, egress ? f->dst : f->src,
			     egress ? f->dport : f->sport);
	if (!p)
		return false;
	bh_proc_ref(p);
	f->proc = p;
	return true;
}

void bh_procflow_defer(struct bh_procflow *pf, const struct bh_flow_record *rec)
{
	struct pf_pending *p;

	if (pf->n == BH_PROCFLOW_PENDING) {
		pf->head = (pf->head + 1) % BH_PROCFLOW_PENDING;	/* the oldest goes */
		pf->n--;
	}
	p = &pf->pend[(pf->head + pf->n++) % BH_PROCFLOW_PENDING];
	p->rec = *rec;
	p->until_ms = mono_ms() + BH_PROCFLOW_WAIT_MS;
}

void bh_procflow_read(struct bh_procflow *pf)
{
	bh_procjoin_poll(pf->pj);
}

void bh_procflow_poll(struct bh_procflow *pf, struct bh_flowagg *agg,
		      const struct bh_workload_info *(*workload)(__u32 slot, void *arg),
		      void (*joined)(struct bh_flow *f, void *arg), void *arg)
{
	int64_t now = mono_ms();
	uint32_t kept = 0;

	if (bh_procjoin_poll(pf->pj) <= 0 && !pf->n)
		return;
	for (uint32_t i = 0; i < pf->n; i++) {
		struct pf_pending *p = &pf->pend[(pf->head + i) % BH_PROCFLOW_PENDING];
		struct bh_flow *f = bh_flowagg_find(agg, &p->rec);

		if (!f || f->proc)
			continue;	/* gone, or joined meanwhile */
		if (bh_procflow_join(pf, f, workload(f->slot, arg))) {
			bh_flowagg_mark_dirty(agg, f);
			joined(f, arg);
			continue;
		}
		if (now < p->until_ms)	/* compacted in place: kept <= i */
			pf->pend[(pf->head + kept++) % BH_PROCFLOW_PENDING] = *p;
	}
	pf->n = kept;
}

void bh_procflow_get_stats(const struct bh_procflow *pf, struct bh_procjoin_stats *st)
{
	bh_procjoin_get_stats(pf->pj, st);
}
