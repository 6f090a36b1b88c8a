/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internal to the compiler and the evaluator: policy map keys as one
 * 64-bit number. The key data (dir | identity | proto | port, all big
 * endian) read as a big-endian u64 is exactly
 *     dir << 56 | identity << 24 | proto << 16 | port
 * so sorting by (k, plen) sorts the map keys byte-wise, every ancestor
 * (shorter prefix covering a key) comes before its descendants, and "a
 * covers b" is a shift and a compare.
 */
#ifndef BH_COMPILE_INT_H
#define BH_COMPILE_INT_H

#include <stddef.h>

#include "policy.h"

struct bh_ce {
	__u64 k;		/* bits past plen are zero */
	__u32 rule;
	__u32 audit_rule;
	__u8 plen;		/* 8..64 */
	__u8 verdict;		/* enum bh_pverdict */
	__u8 audit_verdict;
	__u8 flags;
};

struct bh_ce_vec {
	size_t nr, cap;
	struct bh_ce *v;
};

static inline __u64 bh_key64(__u8 dir, __u32 id, __u8 proto, __u16 port)
{
	return (__u64)dir << 56 | (__u64)id << 24 | (__u64)proto << 16 | port;
}

static inline __u64 bh_key_mask(__u8 plen)
{
	return plen >= 64 ? ~0ull : plen == 0 ? 0 : ~0ull << (64 - plen);
}

/* Does a (shorter or equal prefix) cover b? */
static inline bool bh_ce_covers(const struct bh_ce *a, const struct bh_ce *b)
{
	return a->plen <= b->plen && ((a->k ^ b->k) & bh_key_mask(a->plen)) == 0;
}

/* A port range split into aligned power-of-two blocks: at most 30. */
struct bh_pblock {
	__u8 proto;
	__u8 plen;		/* 40: any proto, 48: any port, 48+n */
	__u16 port;
};
#define BH_PBLOCKS_MAX	32
/* Blocks for one bh_port (or proto 0: all traffic). Returns the count. */
int bh_port_blocks(const struct bh_port *p, struct bh_pblock *out);

int bh_ce_push(struct bh_ce_vec *v, const struct bh_ce *e);
/* Sort, merge equal keys (deny > allow > default deny; lowest rule id),
 * resolve each identity chain (an allow under a deny becomes that deny)
 * and drop entries that only repeat their nearest ancestor. Only the
 * enforce fields (verdict, rule) are used. */
void bh_ce_normalize(struct bh_ce_vec *v);
/* Merge the enforce variant e and the audit variant a (both normalized)
 * into out: the union of keys; each key's verdict/rule from e's longest
 * match and audit_verdict/audit_rule from a's. */
int bh_ce_merge_audit(const struct bh_ce_vec *e, const struct bh_ce_vec *a,
		      struct bh_ce_vec *out);
/* Convert to map entries (sorted as they are). */
int bh_ce_export(const struct bh_ce_vec *v, struct bh_compiled_workload *w);

#endif /* BH_COMPILE_INT_H */
