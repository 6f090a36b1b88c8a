// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data path's policy decision, in userspace, on compiled entries:
 * two longest-prefix lookups (peer identity, BH_ID_ANY) over the
 * workload's entries, combined with the same precedence:
 *   an explicit DENY in either wins (the identity lookup's rule first);
 *   else an ALLOW in either;
 *   else a DEFAULT_DENY (or QUARANTINE) in either;
 *   else no opinion: the workload is not isolated, ALLOW with rule 0.
 * The enforce fields (verdict) and the audit fields (audit_verdict) are
 * combined independently.
 */
#include <string.h>

#include "compile_int.h"

static __u64 entry_k(const struct bh_policy_key *key)
{
	__u32 id = (__u32)key->identity[0] << 24 | (__u32)key->identity[1] << 16 |
		   (__u32)key->identity[2] << 8 | key->identity[3];

	return bh_key64(key->dir, id, key->proto, (__u16)(key->port[0] << 8 | key->port[1]));
}

static const struct bh_policy_entry *lookup(const struct bh_compiled_workload *w, __u64 k)
{
	const struct bh_policy_entry *best = NULL;
	size_t i;

	for (i = 0; i < w->nr; i++) {
		const struct bh_policy_entry *e = &w->entries[i];
		__u8 plen = (__u8)e->key.prefixlen;

		if (((entry_k(&e->key) ^ k) & bh_key_mask(plen)) == 0 &&
		    (!best || plen > best->key.prefixlen))
			best = e;
	}
	return best;
}

static void combine(__u8 a, __u32 ar, __u8 b, __u32 br, enum bh_pverdict *v, __u32 *rule)
{
	static const __u8 order[] = { BH_PV_DENY, BH_PV_ALLOW, BH_PV_DEFAULT_DENY,
				      BH_PV_QUARANTINE };
	size_t i;

	for (i = 0; i < sizeof(order); i++) {
		if (a == order[i]) {
			*v = a;
			*rule = ar;
			return;
		}
		if (b == order[i]) {
			*v = b;
			*rule = br;
			return;
		}
	}
	*v = BH_PV_ALLOW;
	*rule = 0;
}

/* 1 if a rule names the named protocol proto for the peer: the entries
 * under dir + BH_DIR_NAMED (lib/bpf/policy.h, bh_policy_named). */
static int named_allows(const struct bh_compiled_workload *w, enum bh_dir dir,
			__u32 peer_identity, __u8 proto, int audit)
{
	const struct bh_policy_entry *e[2];
	int i;

	e[0] = lookup(w, bh_key64((__u8)(dir + BH_DIR_NAMED), peer_identity, proto, 0));
	e[1] = lookup(w, bh_key64((__u8)(dir + BH_DIR_NAMED), BH_ID_ANY, proto, 0));
	for (i = 0; i < 2; i++)
		if (e[i] && (audit ? e[i]->val.audit_verdict : e[i]->val.verdict) == BH_PV_ALLOW)
			return 1;
	return 0;
}

void bh_eval(const struct bh_compiled_workload *w, enum bh_dir dir, __u32 peer_identity,
	     __u8 proto, __u16 port, struct bh_eval_result *res)
{
	const struct bh_policy_entry *id, *any, *def;
	static const struct bh_policy_entry none;

	memset(res, 0, sizeof(*res));
	id = lookup(w, bh_key64((__u8)dir, peer_identity, proto, port));
	any = lookup(w, bh_key64((__u8)dir, BH_ID_ANY, proto, port));
	def = lookup(w, bh_key64((__u8)dir, 0, 0, 0));
	if (!id)
		id = &none;
	if (!any)
		any = &none;
	combine(id->val.verdict, id->val.rule_id, any->val.verdict, any->val.rule_id,
		&res->verdict, &res->rule_id);
	combine(id->val.audit_verdict, id->val.audit_rule_id, any->val.audit_verdict,
		any->val.audit_rule_id, &res->audit_verdict, &res->audit_rule_id);
	/* a named protocol (a tunnel, say) passes an allow only if a rule
	 * names it; not isolated (rule 0) stays open */
	if (bh_proto_is_named(proto)) {
		if (res->verdict == BH_PV_ALLOW && res->rule_id &&
		    !named_allows(w, dir, peer_identity, proto, 0)) {
			res->verdict = BH_PV_DEFAULT_DENY;
			res->rule_id = 0;
		}
		if (res->audit_verdict == BH_PV_ALLOW && res->audit_rule_id &&
		    !named_allows(w, dir, peer_identity, proto, 1)) {
			res->audit_verdict = BH_PV_DEFAULT_DENY;
			res->audit_rule_id = 0;
		}
	}
	res->isolated = def && def->key.prefixlen == 8 &&
			(def->val.verdict == BH_PV_DEFAULT_DENY ||
			 def->val.verdict == BH_PV_QUARANTINE);
	res->audit_isolated = def && def->key.prefixlen == 8 &&
			      (def->val.audit_verdict == BH_PV_DEFAULT_DENY ||
			       def->val.audit_verdict == BH_PV_QUARANTINE);
}

__u32 bh_eval_identity(const struct bh_compile_output *out, const __u8 addr[16])
{
	const struct bh_ipcache_entry *best = NULL;
	size_t i;

	for (i = 0; i < out->nr_ipcache; i++) {
		const struct bh_ipcache_entry *e = &out->ipcache[i];
		__u32 plen = e->key.prefixlen, full = plen / 8, rest = plen % 8;

		if (memcmp(e->key.addr, addr, full))
			continue;
		if (rest && ((e->key.addr[full] ^ addr[full]) & (__u8)(0xff << (8 - rest))))
			continue;
		if (!best || plen > best->key.prefixlen)
			best = e;
	}
	return best ? best->val.identity : BH_ID_WORLD;
}
