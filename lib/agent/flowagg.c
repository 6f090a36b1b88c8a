// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow aggregation: chained hash table + LRU list + dirty list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowagg.h"
#include "procjoin.h"

#define EVICT_SCAN	64	/* LRU entries examined for a clean victim */

struct agg_key {
	__u8 a[16], b[16];	/* lower (addr, port) endpoint first */
	__u16 pa, pb;
	__u32 slot;
	__u8 proto;
	__u8 pad[3];
};

struct agg_node {
	struct bh_flow flow;		/* first: a flow pointer is a node pointer */
	struct agg_key key;
	uint32_t hash;
	struct agg_node *hnext;		/* hash chain */
	struct agg_node *lprev, *lnext;	/* LRU: head = most recent */
	struct agg_node *dnext;		/* dirty queue (singly linked) */
};

struct bh_flowagg {
	struct bh_flowagg_opts opts;
	struct agg_node **buckets;
	uint32_t mask;
	struct agg_node *lru_head, *lru_tail;
	/* first dirty first: a bounded flush never leaves a flow behind
	 * the ones that changed after it */
	struct agg_node *dirty_head, *dirty_tail;
	struct bh_flowagg_stats st;
};

int bh_verdict_rank(enum bh_verdict v)
{
	switch (v) {
	case BH_V_ALLOW: return 0;
	case BH_V_WOULD_DENY: return 1;
	case BH_V_DENY: return 2;
	case BH_V_SPOOF: return 3;
	case BH_V_DROP: return 3;
	case BH_V_QUARANTINE: return 4;
	default: return 0;
	}
}

int bh_flowagg_new(const struct bh_flowagg_opts *opts, struct bh_flowagg **out)
{
	struct bh_flowagg *a = calloc(1, sizeof(*a));
	uint32_t n = 1024;

	if (!a)
		return -ENOMEM;
	a->opts = *opts;
	if (!a->opts.max_flows)
		a->opts.max_flows = 262144;
	if (!a->opts.idle_ns)
		a->opts.idle_ns = 120ULL * 1000000000ULL;
	while (n < a->opts.max_flows && n < (1u << 26))
		n <<= 1;
	a->buckets = calloc(n, sizeof(*a->buckets));
	if (!a->buckets) {
		free(a);
		return -ENOMEM;
	}
	a->mask = n - 1;
	*out = a;
	return 0;
}

void bh_flowagg_free(struct bh_flowagg *a)
{
	struct agg_node *n, *next;

	if (!a)
		return;
	for (n = a->lru_head; n; n = next) {
		next = n->lnext;
		bh_proc_unref(n->flow.proc);
		free(n);
	}
	free(a->buckets);
	free(a);
}

static int endpoint_cmp(const __u8 *a1, __u16 p1, const __u8 *a2, __u16 p2)
{
	int c = memcmp(a1, a2, 16);

	return c ? c : (int)p1 - (int)p2;
}

static void make_key(const struct bh_flow_record *r, struct agg_key *k)
{
	memset(k, 0, sizeof(*k));
	k->slot = r->slot;
	k->proto = r->proto;
	if (endpoint_cmp(r->saddr, r->sport, r->daddr, r->dport) <= 0) {
		memcpy(k->a, r->saddr, 16);
		memcpy(k->b, r->daddr, 16);
		k->pa = r->sport;
		k->pb = r->dport;
	} else {
		memcpy(k->a, r->daddr, 16);
		memcpy(k->b, r->saddr, 16);
		k->pa = r->dport;
		k->pb = r->sport;
	}
}

/* FNV-1a over the key: keys are fixed-size and packed, no padding left
 * uninitialised (make_key zeroes it). */
static uint32_t key_hash(const struct agg_key *k)
{
	const __u8 *p = (const __u8 *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 16);
}

static void lru_unlink(struct bh_flowagg *a, struct agg_node *n)
{
	if (n->lprev)
		n->lprev->lnext = n->lnext;
	else
		a->lru_head = n->lnext;
	if (n->lnext)
		n->lnext->lprev = n->lprev;
	else
		a->lru_tail = n->lprev;
	n->lprev = n->lnext = NULL;
}

static void lru_push(struct bh_flowagg *a, struct agg_node *n)
{
	n->lprev = NULL;
	n->lnext = a->lru_head;
	if (a->lru_head)
		a->lru_head->lprev = n;
	a->lru_head = n;
	if (!a->lru_tail)
		a->lru_tail = n;
}

static struct agg_node *lookup(struct bh_flowagg *a, const struct agg_key *k, uint32_t h)
{
	struct agg_node *n;

	for (n = a->buckets[h & a->mask]; n; n = n->hnext)
		if (n->hash == h && !memcmp(&n->key, k, sizeof(*k)))
			return n;
	return NULL;
}

/* Remove a clean node from every structure and free it. */
static void node_free(struct bh_flowagg *a, struct agg_node *n)
{
	struct agg_node **pp = &a->buckets[n->hash & a->mask];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	lru_unlink(a, n);
	a->st.live--;
	bh_proc_unref(n->flow.proc);
	free(n);
}

static void mark_dirty(struct bh_flowagg *a, struct agg_node *n)
{
	if (n->flow.dirty)
		return;
	n->flow.dirty = true;
	n->dnext = NULL;
	if (a->dirty_tail)
		a->dirty_tail->dnext = n;
	else
		a->dirty_head = n;
	a->dirty_tail = n;
	a->st.dirty++;
}

void bh_flowagg_mark_dirty(struct bh_flowagg *a, struct bh_flow *f)
{
	mark_dirty(a, (struct agg_node *)f);
}

static int make_room(struct bh_flowagg *a)
{
	struct agg_node *n = a->lru_tail;

	for (int i = 0; n && i < EVICT_SCAN; i++, n = n->lprev) {
		if (!n->flow.dirty) {
			node_free(a, n);
			a->st.evicted++;
			return 0;
		}
	}
	return -ENOSPC;
}

/* A record of a dropped packet (no conntrack entry behind it): it holds
 * that one packet, not a total. */
static bool is_drop_record(const struct bh_flow_record *r)
{
	return r->event != BH_E_END &&
	       (r->verdict == BH_V_DENY || r->verdict == BH_V_SPOOF ||
		r->verdict == BH_V_QUARANTINE || r->verdict == BH_V_DROP);
}

static void count_record(struct bh_flow *f, const struct bh_flow_record *r)
{
	__u64 pass_p = f->packets - f->drop_packets, pass_b = f->bytes - f->drop_bytes;

	if (is_drop_record(r)) {
		f->drop_packets += r->packets;
		f->drop_bytes += r->bytes;
	} else {
		if (r->packets > pass_p)
			pass_p = r->packets;
		if (r->bytes > pass_b)
			pass_b = r->bytes;
	}
	f->packets = pass_p + f->drop_packets;
	f->bytes = pass_b + f->drop_bytes;
}

static void flow_init(struct bh_flow *f, const struct bh_flow_record *r)
{
	memset(f, 0, sizeof(*f));
	f->slot = r->slot;
	f->family = r->family;
	f->proto = r->proto;
	f->dir = r->dir;
	memcpy(f->src, r->saddr, 16);
	memcpy(f->dst, r->daddr, 16);
	f->sport = r->sport;
	f->dport = r->dport;
	f->peer_identity = r->peer_identity;
	f->verdict = r->verdict;
	f->reason = r->reason;
	f->rule_id = r->rule_id;
	f->tcp_flags = r->tcp_flags;
	f->mode = r->mode;
	count_record(f, r);
	f->first_ns = f->last_ns = r->ts_ns;
	f->ended = r->event == BH_E_END;
}

static int flow_merge(struct bh_flow *f, const struct bh_flow_record *r)
{
	int changed = 0;

	count_record(f, r);
	f->tcp_flags |= r->tcp_flags;
	f->mode = r->mode;
	if (!f->peer_identity)
		f->peer_identity = r->peer_identity;
	if (bh_verdict_rank(r->verdict) > bh_verdict_rank(f->verdict)) {
		f->verdict = r->verdict;
		f->reason = r->reason;
		f->rule_id = r->rule_id;
		changed |= BH_AGG_VERDICT;
	} else if (r->verdict == f->verdict && r->rule_id && !f->rule_id) {
		f->rule_id = r->rule_id;
	}
	if (r->ts_ns < f->first_ns)
		f->first_ns = r->ts_ns;
	if (r->ts_ns > f->last_ns)
		f->last_ns = r->ts_ns;
	if (r->event == BH_E_END && !f->ended) {
		f->ended = true;
		changed |= BH_AGG_ENDED;
	}
	return changed;
}

struct bh_flow *bh_flowagg_find(struct bh_flowagg *a, const struct bh_flow_record *rec)
{
	struct agg_key k;
	struct agg_node *n;

	make_key(rec, &k);
	n = lookup(a, &k, key_hash(&k));
	return n ? &n->flow : NULL;
}

int bh_flowagg_add(struct bh_flowagg *a, const struct bh_flow_record *rec,
		   struct bh_flow **flow)
{
	struct agg_key k;
	struct agg_node *n;
	uint32_t h;
	int changed;

	make_key(rec, &k);
	h = key_hash(&k);
	n = lookup(a, &k, h);
	if (n && n->flow.ended && rec->event == BH_E_NEW) {
		/* the 5-tuple was reused after the flow closed: a new flow */
		if (n->flow.dirty)
			return -ENOSPC;
		node_free(a, n);
		n = NULL;
	}
	if (n) {
		changed = flow_merge(&n->flow, rec);
		lru_unlink(a, n);
	} else {
		if (a->st.live >= a->opts.max_flows) {
			int err = make_room(a);

			if (err)
				return err;
		}
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->key = k;
		n->hash = h;
		n->hnext = a->buckets[h & a->mask];
		a->buckets[h & a->mask] = n;
		flow_init(&n->flow, rec);
		a->st.live++;
		a->st.created++;
		changed = BH_AGG_NEW | (n->flow.ended ? BH_AGG_ENDED : 0);
	}
	lru_push(a, n);
	mark_dirty(a, n);
	*flow = &n->flow;
	return changed;
}

int bh_flowagg_flush(struct bh_flowagg *a, uint32_t max,
		     int (*fn)(struct bh_flow *f, void *arg), void *arg)
{
	int count = 0;

	while (a->dirty_head && (uint32_t)count < max) {
		struct agg_node *n = a->dirty_head;
		int err = fn(&n->flow, arg);

		if (err)
			return err;
		a->dirty_head = n->dnext;
		if (!a->dirty_head)
			a->dirty_tail = NULL;
		n->dnext = NULL;
		n->flow.dirty = false;
		a->st.dirty--;
		count++;
		if (n->flow.ended)
			node_free(a, n);
	}
	return count;
}

int bh_flowagg_expire(struct bh_flowagg *a, uint64_t now_ns)
{
	struct agg_node *n = a->lru_tail, *prev;
	int count = 0;

	/* the LRU tail is the least recently seen: stop at the first fresh one */
	for (; n; n = prev) {
		prev = n->lprev;
		if (now_ns < n->flow.last_ns || now_ns - n->flow.last_ns < a->opts.idle_ns)
			break;
		if (n->flow.dirty)
			continue;
		node_free(a, n);
		a->st.expired++;
		count++;
	}
	return count;
}

uint32_t bh_flowagg_dirty(const struct bh_flowagg *a)
{
	return (uint32_t)a->st.dirty;
}

void bh_flowagg_get_stats(const struct bh_flowagg *a, struct bh_flowagg_stats *st)
{
	*st = a->st;
}

const __u8 *bh_flow_peer_addr(const struct bh_flow *f)
{
	return f->dir == BH_DIR_EGRESS ? f->dst : f->src;
}
