// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The nftables translation (nft_ruleset.h): the compiled workload in, the
 * disjoint (address, protocol, port) boxes and their verdicts out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nft_ruleset.h"

typedef unsigned __int128 u128;

#define PP_MAX		0xffffffu	/* (proto << 16 | port) space */
#define CLASS_ANY	BH_ID_NONE	/* peers without entries of their own */

static u128 a2u(const __u8 a[16])
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void u2a(u128 v, __u8 a[16])
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		a[i] = (__u8)v;
}

static const u128 V4_LO = (u128)0xffff << 32;
static const u128 V4_HI = (u128)0xffff << 32 | 0xffffffffu;

struct u128v {
	size_t nr, cap;
	u128 *v;
};

static int push128(struct u128v *v, u128 x)
{
	if (v->nr == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		u128 *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->nr++] = x;
	return 0;
}

static int cmp128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

static void sort_unique(struct u128v *v)
{
	size_t j = 0;

	qsort(v->v, v->nr, sizeof(*v->v), cmp128);
	for (size_t i = 0; i < v->nr; i++)
		if (!j || v->v[i] != v->v[j - 1])
			v->v[j++] = v->v[i];
	v->nr = j;
}

static __u32 key_identity(const struct bh_policy_key *k)
{
	return (__u32)k->identity[0] << 24 | (__u32)k->identity[1] << 16 |
	       (__u32)k->identity[2] << 8 | k->identity[3];
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static bool same_outcome(const struct bh_nft_outcome *a, const struct bh_nft_outcome *b)
{
	return a->verdict == b->verdict && a->reason == b->reason && a->rule_id == b->rule_id;
}

static bool pv_denies(enum bh_pverdict v)
{
	return v == BH_PV_DENY || v == BH_PV_DEFAULT_DENY || v == BH_PV_QUARANTINE;
}

/* The data path's judgement of a new flow (bh_judge_new_flow): enforce
 * drops what policy denies, monitor passes it as would-deny, learn as
 * would-deny with reason learn; an allow that an audit policy denies
 * passes as would-deny under the audit rule. */
static void judge(enum bh_mode mode, const struct bh_eval_result *r, struct bh_nft_outcome *o)
{
	o->rule_id = r->rule_id;
	if (pv_denies(r->verdict)) {
		o->verdict = mode == BH_MODE_MONITOR || mode == BH_MODE_LEARN ? BH_V_WOULD_DENY
									    : BH_V_DENY;
		o->reason = mode == BH_MODE_LEARN ? BH_R_LEARN : bh_pv_reason(r->verdict);
	} else if (pv_denies(r->audit_verdict)) {
		o->rule_id = r->audit_rule_id;
		o->verdict = BH_V_WOULD_DENY;
		o->reason = mode == BH_MODE_LEARN ? BH_R_LEARN : bh_pv_reason(r->audit_verdict);
	} else {
		/* bh_eval gives the data path's "no opinion" (not isolated,
		 * BH_PV_NONE) as an allow without a rule */
		o->verdict = BH_V_ALLOW;
		o->reason = r->rule_id ? bh_pv_reason(r->verdict) : BH_R_NOT_ISOLATED;
	}
}

/* The quarantine's boxes: the forensics exception passes, the rest drops;
 * no rule (the exception's boxes go to the forensics chain). */
static void judge_quarantine(const struct bh_eval_result *r, struct bh_nft_outcome *o)
{
	bool pass = r->verdict == BH_PV_ALLOW;

	o->verdict = pass ? BH_V_ALLOW : BH_V_QUARANTINE;
	o->reason = pass ? BH_R_FORENSICS : BH_R_QUARANTINE;
	o->rule_id = 0;
}

struct build {
	const struct bh_compile_output *out;
	const struct bh_compiled_workload *w;
	enum bh_dir dir;
	enum bh_mode mode;
	bool quarantine;	/* the deny-all map: judge_quarantine */
	struct bh_nft_ruleset *rs;
	size_t cap;
	__u32 *ids;		/* identities with entries of their own, sorted */
	size_t nr_ids;
	struct u128v any_pp;	/* cached intervals of CLASS_ANY: starts */
	struct bh_nft_outcome *any_acc;
	/* bh_eval looks at every entry it is given: each class is judged
	 * against the entries any peer meets (no identity of their own, or
	 * BH_ID_ANY) plus its own, which are all an LPM lookup keyed by its
	 * identity can match */
	struct bh_policy_entry *shared, *own, *view;
	size_t nr_shared, nr_own;
};

static bool own_entry(const struct bh_policy_key *k)
{
	return k->prefixlen >= 40 && key_identity(k) != BH_ID_ANY;
}

static int cmp_entry_identity(const void *a, const void *b)
{
	__u32 x = key_identity(&((const struct bh_policy_entry *)a)->key);
	__u32 y = key_identity(&((const struct bh_policy_entry *)b)->key);

	return x < y ? -1 : x > y;
}

static int split_entries(struct build *b)
{
	const struct bh_compiled_workload *w = b->w;
	size_t n = w->nr ? w->nr : 1;

	b->shared = malloc(n * sizeof(*b->shared));
	b->own = malloc(n * sizeof(*b->own));
	b->view = malloc(n * sizeof(*b->view));
	if (!b->shared || !b->own || !b->view)
		return -ENOMEM;
	for (size_t i = 0; i < w->nr; i++) {
		if (own_entry(&w->entries[i].key))
			b->own[b->nr_own++] = w->entries[i];
		else
			b->shared[b->nr_shared++] = w->entries[i];
	}
	qsort(b->own, b->nr_own, sizeof(*b->own), cmp_entry_identity);
	return 0;
}

/* The entries class id can meet, as a workload bh_eval takes. */
static void class_view(const struct build *b, __u32 id, struct bh_compiled_workload *v)
{
	size_t lo = 0, hi = b->nr_own, n = b->nr_shared;

	while (lo < hi) {	/* the first own entry of id */
		size_t mid = lo + (hi - lo) / 2;

		if (key_identity(&b->own[mid].key) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	memcpy(b->view, b->shared, b->nr_shared * sizeof(*b->view));
	for (; lo < b->nr_own && key_identity(&b->own[lo].key) == id; lo++)
		b->view[n++] = b->own[lo];
	v->slot = b->w->slot;
	v->nr = n;
	v->entries = b->view;
}

static bool has_entries(const struct build *b, __u32 id)
{
	return bsearch(&id, b->ids, b->nr_ids, sizeof(id), cmp_u32) != NULL;
}

static int push_elem(struct build *b, const struct bh_nft_elem *e)
{
	struct bh_nft_ruleset *rs = b->rs;

	if (rs->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct bh_nft_elem *n = realloc(rs->elems, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		rs->elems = n;
		b->cap = cap;
	}
	rs->elems[rs->nr++] = *e;
	return 0;
}

/* Cut the 24-bit (proto, port) interval [a, z] into protocol x port boxes. */
static int emit_pp(struct build *b, struct bh_nft_elem *e, __u32 a, __u32 z)
{
	int pa = (int)(a >> 16), pz = (int)(z >> 16), err = 0;

	if (pa == pz) {
		e->proto_lo = e->proto_hi = (__u8)pa;
		e->port_lo = a & 0xffff;
		e->port_hi = z & 0xffff;
		return push_elem(b, e);
	}
	if (a & 0xffff) {	/* partial first protocol */
		e->proto_lo = e->proto_hi = (__u8)pa;
		e->port_lo = a & 0xffff;
		e->port_hi = 0xffff;
		err = push_elem(b, e);
		pa++;
	}
	if (!err && (z & 0xffff) != 0xffff) {	/* partial last protocol */
		e->proto_lo = e->proto_hi = (__u8)pz;
		e->port_lo = 0;
		e->port_hi = z & 0xffff;
		err = push_elem(b, e);
		pz--;
	}
	if (!err && pa <= pz) {		/* whole protocols in between */
		e->proto_lo = (__u8)pa;
		e->proto_hi = (__u8)pz;
		e->port_lo = 0;
		e->port_hi = 0xffff;
		err = push_elem(b, e);
	}
	return err;
}

/* Interval starts in (proto, port) space where the verdict for peer class
 * id may change, and the verdict of each interval. */
static int pp_intervals(const struct build *b, __u32 id, struct u128v *starts,
			struct bh_nft_outcome **acc)
{
	struct bh_compiled_workload view;
	const struct bh_compiled_workload *w = &view;
	int err = push128(starts, 0);

	class_view(b, id, &view);
	/* a protocol bh_eval judges on its own (TCP, UDP, SCTP, ICMP,
	 * ICMPv6; the others are "named", lib/bulkhead_abi.h) never shares
	 * an interval with another: the verdict at an interval's start must
	 * hold for all of it */
	for (unsigned p = 0; !err && p < 256; p++)
		if (!bh_proto_is_named((__u8)p)) {
			err = push128(starts, p << 16);
			if (!err && p < 255)
				err = push128(starts, (p + 1) << 16);
		}
	for (size_t i = 0; !err && i < w->nr; i++) {
		const struct bh_policy_key *k = &w->entries[i].key;
		__u32 eid = key_identity(k), bits, v, mask, lo, hi;

		if (k->dir != b->dir || k->prefixlen <= 40)
			continue;
		if (eid != BH_ID_ANY && eid != id)
			continue;
		bits = k->prefixlen - 40 > 24 ? 24 : k->prefixlen - 40;
		v = (__u32)k->proto << 16 | k->port[0] << 8 | k->port[1];
		mask = PP_MAX & ~((1u << (24 - bits)) - 1);
		lo = v & mask;
		hi = lo | (~mask & PP_MAX);
		err = push128(starts, lo);
		if (!err && hi < PP_MAX)
			err = push128(starts, hi + 1);
	}
	if (err)
		return err;
	sort_unique(starts);
	*acc = calloc(starts->nr, sizeof(**acc));
	if (!*acc)
		return -ENOMEM;
	for (size_t i = 0; i < starts->nr; i++) {
		struct bh_eval_result r;
		__u32 s = (__u32)starts->v[i];

		bh_eval(w, b->dir, id, s >> 16, s & 0xffff, &r);
		if (b->quarantine)
			judge_quarantine(&r, &(*acc)[i]);
		else
			judge(b->mode, &r, &(*acc)[i]);
	}
	return 0;
}

/* Emit the boxes of one address range [lo, hi] of class id. */
static int emit_range(struct build *b, int family, u128 lo, u128 hi, __u32 id)
{
	struct u128v own = { 0 };
	struct bh_nft_outcome *own_acc = NULL;
	struct u128v *st = &b->any_pp;
	struct bh_nft_outcome *acc = b->any_acc;
	struct bh_nft_elem e = { .family = (__u8)family };
	int err = 0;

	if (id != CLASS_ANY) {
		err = pp_intervals(b, id, &own, &own_acc);
		if (err)
			goto out;
		st = &own;
		acc = own_acc;
	}
	if (family == 4) {
		__u8 t[16];

		u2a(lo, t);
		memcpy(e.addr_lo, t + 12, 4);
		u2a(hi, t);
		memcpy(e.addr_hi, t + 12, 4);
	} else {
		u2a(lo, e.addr_lo);
		u2a(hi, e.addr_hi);
	}
	for (size_t i = 0; !err && i < st->nr; i++) {
		size_t j = i;

		/* merge neighbours with the same verdict and rule */
		while (j + 1 < st->nr && same_outcome(&acc[j + 1], &acc[i]))
			j++;
		if (!same_outcome(&acc[i], &b->rs->dflt)) {
			e.out = acc[i];
			e.accept = acc[i].verdict != BH_V_DENY && acc[i].verdict != BH_V_QUARANTINE;
			e.rule_id = acc[i].rule_id;
			err = emit_pp(b, &e, (__u32)st->v[i],
				      j + 1 < st->nr ? (__u32)st->v[j + 1] - 1 : PP_MAX);
		}
		i = j;
	}
out:
	free(own.v);
	free(own_acc);
	return err;
}

/* The ipcache as nested address ranges, for the identity of each range
 * between breakpoints in one ascending sweep: prefixes are nested or
 * disjoint, so the ranges containing a point form a stack whose top is
 * the longest prefix, the one bh_eval_identity picks. */
struct pfx {
	u128 lo, hi;
	__u32 plen, id;
	size_t idx;
};

static int cmp_pfx(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	/* an equal prefix: the first in the ipcache ends on top */
	return x->idx > y->idx ? -1 : x->idx < y->idx;
}

struct sweep {
	struct pfx *p;
	size_t nr, next;
	size_t *stack;
	size_t depth;
};

static int sweep_init(const struct bh_compile_output *out, struct sweep *s)
{
	memset(s, 0, sizeof(*s));
	s->p = calloc(out->nr_ipcache ? out->nr_ipcache : 1, sizeof(*s->p));
	s->stack = calloc(out->nr_ipcache ? out->nr_ipcache : 1, sizeof(*s->stack));
	if (!s->p || !s->stack)
		return -ENOMEM;
	for (size_t i = 0; i < out->nr_ipcache; i++) {
		const struct bh_ipcache_key *k = &out->ipcache[i].key;
		__u32 plen = k->prefixlen > 128 ? 128 : k->prefixlen;
		u128 mask = plen ? ~(u128)0 << (128 - plen) : 0;

		s->p[i].lo = a2u(k->addr) & mask;
		s->p[i].hi = s->p[i].lo | ~mask;
		s->p[i].plen = plen;
		s->p[i].id = out->ipcache[i].val.identity;
		s->p[i].idx = i;
	}
	s->nr = out->nr_ipcache;
	qsort(s->p, s->nr, sizeof(*s->p), cmp_pfx);
	return 0;
}

static void sweep_free(struct sweep *s)
{
	free(s->p);
	free(s->stack);
}

/* The identity of address x; calls come with x ascending. */
static __u32 sweep_identity(struct sweep *s, u128 x)
{
	for (; s->next < s->nr && s->p[s->next].lo <= x; s->next++) {
		while (s->depth && s->p[s->stack[s->depth - 1]].hi < s->p[s->next].lo)
			s->depth--;
		s->stack[s->depth++] = s->next;
	}
	while (s->depth && s->p[s->stack[s->depth - 1]].hi < x)
		s->depth--;
	return s->depth ? s->p[s->stack[s->depth - 1]].id : BH_ID_WORLD;
}

/* The address universe [ulo, uhi] of one family: IPv4 is the IPv4-mapped
 * block, IPv6 each side of it (mapped addresses are the IPv4 map's). */
static int build_universe(struct build *b, int family, u128 ulo, u128 uhi)
{
	struct u128v bp = { 0 };
	struct sweep sw;
	__u32 *ids = NULL;
	int err = sweep_init(b->out, &sw);

	if (!err)
		err = push128(&bp, ulo);
	for (size_t i = 0; !err && i < b->out->nr_ipcache; i++) {
		const struct bh_ipcache_key *k = &b->out->ipcache[i].key;
		u128 a = a2u(k->addr), mask, lo, hi;
		__u32 plen = k->prefixlen > 128 ? 128 : k->prefixlen;

		mask = plen ? ~(u128)0 << (128 - plen) : 0;
		lo = a & mask;
		hi = lo | ~mask;
		if (hi < ulo || lo > uhi)
			continue;
		if (lo > ulo)
			err = push128(&bp, lo);
		if (!err && hi < uhi)
			err = push128(&bp, hi + 1);
	}
	if (err)
		goto out;
	sort_unique(&bp);
	ids = malloc(bp.nr * sizeof(*ids));
	if (!ids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < bp.nr; i++)
		ids[i] = sweep_identity(&sw, bp.v[i]);
	for (size_t i = 0; !err && i < bp.nr; i++) {
		u128 lo = bp.v[i], hi;
		__u32 cls = has_entries(b, ids[i]) ? ids[i] : CLASS_ANY;
		/* merge following ranges of the same class */
		size_t j = i;

		while (j + 1 < bp.nr && (has_entries(b, ids[j + 1]) ? ids[j + 1] : CLASS_ANY) == cls)
			j++;
		hi = j + 1 < bp.nr ? bp.v[j + 1] - 1 : uhi;
		err = emit_range(b, family, lo, hi, cls);
		i = j;
	}
out:
	free(bp.v);
	free(ids);
	sweep_free(&sw);
	return err;
}

/* Every box of w in dir whose outcome differs from rs->dflt. */
static int build(const struct bh_compile_output *out, const struct bh_compiled_workload *w,
		 enum bh_dir dir, enum bh_mode mode, bool quarantine, struct bh_nft_ruleset *rs)
{
	struct build b = { .out = out, .w = w, .dir = dir, .mode = mode, .quarantine = quarantine,
			   .rs = rs };
	int err = 0;

	b.ids = calloc(w->nr ? w->nr : 1, sizeof(*b.ids));
	if (!b.ids)
		return -ENOMEM;
	for (size_t i = 0; i < w->nr; i++) {
		const struct bh_policy_key *k = &w->entries[i].key;

		if (k->dir == dir && k->prefixlen >= 40 && key_identity(k) != BH_ID_ANY)
			b.ids[b.nr_ids++] = key_identity(k);
	}
	qsort(b.ids, b.nr_ids, sizeof(*b.ids), cmp_u32);
	err = split_entries(&b);
	if (!err)
		err = pp_intervals(&b, CLASS_ANY, &b.any_pp, &b.any_acc);
	if (!err)
		err = build_universe(&b, 4, V4_LO, V4_HI);
	if (!err)
		err = build_universe(&b, 6, 0, V4_LO - 1);
	if (!err)
		err = build_universe(&b, 6, V4_HI + 1, ~(u128)0);
	free(b.ids);
	free(b.any_pp.v);
	free(b.any_acc);
	free(b.shared);
	free(b.own);
	free(b.view);
	if (err)
		bh_nft_ruleset_free(rs);
	return err;
}

int bh_nft_ruleset_build(const struct bh_compile_output *out,
			 const struct bh_compiled_workload *w, enum bh_dir dir,
			 enum bh_mode mode, struct bh_nft_ruleset *rs)
{
	struct bh_eval_result r, d = { 0 };

	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	/* what no entry decides: the direction's default, enforced and
	 * audited */
	bh_eval(w, dir, CLASS_ANY, 0, 0, &r);
	d.verdict = r.isolated ? BH_PV_DEFAULT_DENY : BH_PV_NONE;
	d.audit_verdict = r.audit_isolated ? BH_PV_DEFAULT_DENY : BH_PV_NONE;
	judge(mode, &d, &rs->dflt);
	rs->default_accept = rs->dflt.verdict != BH_V_DENY;
	return build(out, w, dir, mode, false, rs);
}

int bh_nft_ruleset_build_quarantine(const struct bh_compile_output *out, enum bh_dir dir,
				    struct bh_nft_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	rs->default_accept = false;
	rs->dflt = (struct bh_nft_outcome){ BH_V_QUARANTINE, BH_R_QUARANTINE, 0 };
	return build(out, &out->quarantine, dir, BH_MODE_ENFORCE, true, rs);
}

void bh_nft_ruleset_free(struct bh_nft_ruleset *rs)
{
	free(rs->elems);
	rs->elems = NULL;
	rs->nr = 0;
}
