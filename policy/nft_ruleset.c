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

struct build {
	const struct bh_compile_output *out;
	const struct bh_compiled_workload *w;
	enum bh_dir dir;
	struct bh_nft_ruleset *rs;
	size_t cap;
	__u32 *ids;		/* identities with entries of their own, sorted */
	size_t nr_ids;
	struct u128v any_pp;	/* cached intervals of CLASS_ANY: starts */
	bool *any_acc;
};

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
static int pp_intervals(const struct build *b, __u32 id, struct u128v *starts, bool **acc)
{
	const struct bh_compiled_workload *w = b->w;
	int err = push128(starts, 0);

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
		(*acc)[i] = r.verdict == BH_PV_ALLOW;
	}
	return 0;
}

/* Emit the boxes of one address range [lo, hi] of class id. */
static int emit_range(struct build *b, int family, u128 lo, u128 hi, __u32 id)
{
	struct u128v own = { 0 };
	bool *own_acc = NULL;
	struct u128v *st = &b->any_pp;
	bool *acc = b->any_acc;
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

		/* merge neighbours with the same verdict */
		while (j + 1 < st->nr && acc[j + 1] == acc[i])
			j++;
		if (acc[i] != b->rs->default_accept) {
			e.accept = acc[i];
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

/* The address universe [ulo, uhi] of one family: IPv4 is the IPv4-mapped
 * block, IPv6 each side of it (mapped addresses are the IPv4 map's). */
static int build_universe(struct build *b, int family, u128 ulo, u128 uhi)
{
	struct u128v bp = { 0 };
	int err = push128(&bp, ulo);

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
	for (size_t i = 0; !err && i < bp.nr; i++) {
		u128 lo = bp.v[i], hi;
		__u8 a[16];
		__u32 id, cls;

		u2a(lo, a);
		id = bh_eval_identity(b->out, a);
		cls = has_entries(b, id) ? id : CLASS_ANY;
		/* merge following ranges of the same class */
		size_t j = i;

		while (j + 1 < bp.nr) {
			__u32 nid;

			u2a(bp.v[j + 1], a);
			nid = bh_eval_identity(b->out, a);
			if ((has_entries(b, nid) ? nid : CLASS_ANY) != cls)
				break;
			j++;
		}
		hi = j + 1 < bp.nr ? bp.v[j + 1] - 1 : uhi;
		err = emit_range(b, family, lo, hi, cls);
		i = j;
	}
out:
	free(bp.v);
	return err;
}

/* Every box of w in dir whose verdict differs from rs->default_accept. */
static int build(const struct bh_compile_output *out, const struct bh_compiled_workload *w,
		 enum bh_dir dir, struct bh_nft_ruleset *rs)
{
	struct build b = { .out = out, .w = w, .dir = dir, .rs = rs };
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
	if (err)
		bh_nft_ruleset_free(rs);
	return err;
}

int bh_nft_ruleset_build(const struct bh_compile_output *out,
			 const struct bh_compiled_workload *w, enum bh_dir dir,
			 enum bh_mode mode, struct bh_nft_ruleset *rs)
{
	struct bh_eval_result r;

	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	rs->default_accept = true;
	if (mode != BH_MODE_ENFORCE)
		return 0;
	bh_eval(w, dir, CLASS_ANY, 0, 0, &r);
	rs->default_accept = !r.isolated;
	return build(out, w, dir, rs);
}

int bh_nft_ruleset_build_quarantine(const struct bh_compile_output *out, enum bh_dir dir,
				    struct bh_nft_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	rs->default_accept = false;
	return build(out, &out->quarantine, dir, rs);
}

void bh_nft_ruleset_free(struct bh_nft_ruleset *rs)
{
	free(rs->elems);
	rs->elems = NULL;
	rs->nr = 0;
}
