/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy for a new flow: the peer's identity from the ipcache, then two
 * lookups in the workload's inner LPM map, whatever the number of rules.
 */
#ifndef BH_BPF_POLICY_H
#define BH_BPF_POLICY_H

#include "parse.h"

struct bh_decision {
	__u32 rule_id;
	__u32 audit_rule_id;
	__u8 verdict;		/* enum bh_pverdict */
	__u8 audit_verdict;
};

/* Peer address -> identity; a miss is the world. */
static __always_inline __u32 bh_identity_of(const __u8 *addr)
{
	struct bh_ipcache_key k = { .prefixlen = 128 };
	struct bh_ipcache_val *v;

	__builtin_memcpy(k.addr, addr, 16);
	v = bpf_map_lookup_elem(&bh_ipcache_v1, &k);
	return v ? v->identity : BH_ID_WORLD;
}

/* The workload's inner map (its policy, or the deny-all map). NULL: no
 * map installed for the slot, judged like an empty map. */
static __always_inline void *bh_policy_map(__u32 slot)
{
	return bpf_map_lookup_elem(&bh_policy_v1, &slot);
}

/*
 * Quarantine is the swap of a slot's inner map for the deny-all map, which
 * holds the {8, BH_DIR_META} marker from before it is ever installed. The
 * marker is an LPM lookup on every packet; the answer only changes when
 * the slot gets another inner map, so each CPU keeps, per slot, the id of
 * the inner map it last looked at and the answer for it ((id << 1) |
 * quarantined, one 8-byte store, so a reader never sees half an entry).
 * Map ids are allocated cyclically and not reused, unlike map addresses, so
 * a swap always misses the cache: quarantine still takes effect with the
 * one map update of the slot. Private to each program object (not pinned,
 * not ABI): losing it only costs one lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, __u64);
} bh_qcache SEC(".maps");

/* The kernel's struct bpf_map, only its id (CO-RE: the offset comes from
 * the running kernel's BTF). Reading it needs CAP_PERFMON, as loading
 * bulkhead does anyway. */
struct bpf_map___bh {
	__u32 id;
} __attribute__((preserve_access_index));

static __always_inline int bh_policy_quarantined(void *inner, __u32 slot)
{
	struct bh_policy_key k = { .prefixlen = 8, .dir = BH_DIR_META };
	__u64 *c, tag;
	int q;

	if (!inner)
		return 0;
	tag = (__u64)((struct bpf_map___bh *)inner)->id << 1;
	c = bpf_map_lookup_elem(&bh_qcache, &slot);
	if (c && (*c | 1) == (tag | 1))
		return *c & 1;
	q = bpf_map_lookup_elem(inner, &k) != NULL;
	if (c)
		*c = tag | q;
	return q;
}

/* 1 if a known flow of this slot, with these conntrack flags, may pass
 * as established: its slot is in range and not quarantined, or it is a
 * forensics flow (the quarantine exception). */
static __always_inline int bh_established_may_pass(__u32 slot, __u8 ct_flags)
{
	if (slot >= BH_MAX_WORKLOADS || (ct_flags & BH_CT_F_SVC))
		return 0;	/* a Service flow not judged yet: svc.h */
	return !bh_policy_quarantined(bh_policy_map(slot), slot) || (ct_flags & BH_CT_F_FORENSICS);
}

static __always_inline int bh_pv_denies(__u8 v)
{
	return v == BH_PV_DENY || v == BH_PV_DEFAULT_DENY || v == BH_PV_QUARANTINE;
}

/*
 * Combine the verdicts of the identity lookup (a) and the wildcard lookup
 * (b), in this precedence (the compiler relies on it):
 *   1. an explicit DENY in either wins;
 *   2. else an ALLOW in either;
 *   3. else a DEFAULT_DENY (or QUARANTINE) in either: the workload is
 *      isolated for this direction and nothing allowed the flow. The
 *      deny-all map's direction defaults are QUARANTINE entries that every
 *      wildcard lookup reaches, so they must rank below the forensics
 *      exception's ALLOW (as in policy/eval.c and lpm_merge.c);
 *   4. else NONE: not isolated, allowed.
 * On a tie the identity-specific entry gives the rule id.
 */
static __always_inline void bh_pv_combine(__u8 va, __u32 ra, __u8 vb, __u32 rb, __u8 *v, __u32 *r)
{
	if (va == BH_PV_DENY) {
		*v = BH_PV_DENY; *r = ra;
	} else if (vb == BH_PV_DENY) {
		*v = BH_PV_DENY; *r = rb;
	} else if (va == BH_PV_ALLOW) {
		*v = BH_PV_ALLOW; *r = ra;
	} else if (vb == BH_PV_ALLOW) {
		*v = BH_PV_ALLOW; *r = rb;
	} else if (va == BH_PV_DEFAULT_DENY || va == BH_PV_QUARANTINE) {
		*v = BH_PV_DEFAULT_DENY; *r = ra;
	} else if (vb == BH_PV_DEFAULT_DENY || vb == BH_PV_QUARANTINE) {
		*v = BH_PV_DEFAULT_DENY; *r = rb;
	} else {
		*v = BH_PV_NONE; *r = 0;
	}
}

static __always_inline void bh_policy_key_of(struct bh_policy_key *k, __u8 dir, __u32 identity,
					     __u8 proto, __u16 port)
{
	k->prefixlen = 64;
	k->dir = dir;
	k->identity[0] = identity >> 24;
	k->identity[1] = identity >> 16;
	k->identity[2] = identity >> 8;
	k->identity[3] = identity;
	k->proto = proto;
	k->port[0] = port >> 8;
	k->port[1] = port;
}

static __always_inline void bh_policy_decide(void *inner, __u8 dir, __u32 identity, __u8 proto,
					     __u16 port, struct bh_decision *d)
{
	struct bh_policy_key k;
	struct bh_policy_val *a = NULL, *b = NULL;
	__u8 va = 0, vb = 0, ava = 0, avb = 0;
	__u32 ra = 0, rb = 0, ara = 0, arb = 0;

	if (inner) {
		bh_policy_key_of(&k, dir, identity, proto, port);
		a = bpf_map_lookup_elem(inner, &k);
		bh_policy_key_of(&k, dir, BH_ID_ANY, proto, port);
		b = bpf_map_lookup_elem(inner, &k);
	}
	if (a) {
		va = a->verdict; ra = a->rule_id;
		ava = a->audit_verdict; ara = a->audit_rule_id;
	}
	if (b) {
		vb = b->verdict; rb = b->rule_id;
		avb = b->audit_verdict; arb = b->audit_rule_id;
	}
	bh_pv_combine(va, ra, vb, rb, &d->verdict, &d->rule_id);
	bh_pv_combine(ava, ara, avb, arb, &d->audit_verdict, &d->audit_rule_id);
}

/*
 * A named protocol (encap.h): an ALLOW stands only if a rule names the
 * protocol, i.e. the lookups under dir + BH_DIR_NAMED allow it too; else
 * the flow is denied as nothing allowed it (DEFAULT_DENY). Denies and a
 * direction that is not isolated (NONE) stay as they are.
 */
static __always_inline void bh_policy_named(void *inner, __u8 dir, __u32 identity, __u8 proto,
					    struct bh_decision *d)
{
	struct bh_decision n;

	if (d->verdict != BH_PV_ALLOW && d->audit_verdict != BH_PV_ALLOW)
		return;
	bh_policy_decide(inner, dir + BH_DIR_NAMED, identity, proto, 0, &n);
	if (d->verdict == BH_PV_ALLOW && n.verdict != BH_PV_ALLOW) {
		d->verdict = BH_PV_DEFAULT_DENY;
		d->rule_id = 0;
	}
	if (d->audit_verdict == BH_PV_ALLOW && n.audit_verdict != BH_PV_ALLOW) {
		d->audit_verdict = BH_PV_DEFAULT_DENY;
		d->audit_rule_id = 0;
	}
}

#endif /* BH_BPF_POLICY_H */
