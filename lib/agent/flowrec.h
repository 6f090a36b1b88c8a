/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Decoding of flow records (and aggregated flows) into what a person or a
 * SIEM reads: the workload by slot, the peer workload by identity, the
 * rule behind the verdict, addresses as text, wall-clock times.
 *
 * Lookups go through a resolver (by default the state store through the
 * context) and are cached for ttl_ms, so decoding a record costs no SQL
 * in the steady state; a changed workload or policy shows within ttl_ms.
 * The resolver is an interface so the decoder is tested and benchmarked
 * without a store.
 */
#ifndef BULKHEAD_FLOWREC_H
#define BULKHEAD_FLOWREC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "bulkhead.h"
#include "flowagg.h"

struct bh_proc_info;	/* procjoin.h */

struct bh_flowrec_resolver {
	/* -ENOENT: no workload in that slot */
	int (*workload_by_slot)(void *arg, __u32 slot, struct bh_workload_info *out);
	int (*rule_describe)(void *arg, __u32 rule_id, char *buf, size_t len);
	void *arg;
};

/* The store-backed resolver (bh_workload_get_slot, bh_rule_describe). */
void bh_flowrec_ctx_resolver(struct bh_ctx *ctx, struct bh_flowrec_resolver *r);

struct bh_flowrec_opts {
	struct bh_flowrec_resolver resolver;
	uint64_t ttl_ms;		/* 0 = 2000 */
};

/* A flow, readable. Pointers stay valid until the next decode call. */
struct bh_flow_view {
	const struct bh_workload_info *wl;	/* NULL: slot unknown */
	const struct bh_workload_info *peer_wl;	/* NULL: peer not a workload */
	char ns[BH_NAME_MAX + 1];		/* "?" if slot unknown */
	char name[BH_NAME_MAX + 1];
	const char *dir;			/* "ingress" | "egress" */
	int family;				/* 4 | 6 | 0 */
	int proto;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int sport, dport;
	char peer[2 * BH_NAME_MAX + 2];		/* "ns/name" or the address */
	char peer_addr[INET6_ADDRSTRLEN];
	__u32 peer_identity;
	enum bh_verdict verdict;
	const char *verdict_name;		/* allow|deny|would-deny|... */
	const char *reason;			/* bh_reason_name */
	char rule[256];				/* "" if none */
	uint64_t packets, bytes;
	int tcp_flags;
	int64_t first_ms, last_ms;		/* wall clock, ms since epoch */
	bool ended;
	enum bh_mode mode;
	const char *event;			/* new|deny|end, records only */
	const struct bh_proc_info *proc;	/* process behind it, NULL: not known */
};

struct bh_flowrec;

int bh_flowrec_new(const struct bh_flowrec_opts *opts, struct bh_flowrec **out);
void bh_flowrec_free(struct bh_flowrec *fr);
/* Forget cached lookups (after the agent itself changed a workload). */
void bh_flowrec_invalidate(struct bh_flowrec *fr);
/* Resync the monotonic -> wall clock offset (cheap; call once a loop). */
void bh_flowrec_tick(struct bh_flowrec *fr);
int bh_flowrec_decode(struct bh_flowrec *fr, const struct bh_flow_record *r,
		      struct bh_flow_view *v);
int bh_flowrec_decode_flow(struct bh_flowrec *fr, const struct bh_flow *f,
			   struct bh_flow_view *v);
/* Cached workload of a slot (NULL if none). */
const struct bh_workload_info *bh_flowrec_workload(struct bh_flowrec *fr, __u32 slot);
/* Monotonic ns (bpf_ktime_get_ns clock) to wall ms. */
int64_t bh_flowrec_wall_ms(const struct bh_flowrec *fr, uint64_t mono_ns);

/* "tcp", "udp", "icmp", "icmpv6", "sctp" or the number. */
const char *bh_proto_str(int proto, char *buf, size_t len);
/* Inverse of bh_proto_str; -EINVAL if unknown. */
int bh_proto_parse(const char *s, int *proto);

#endif /* BULKHEAD_FLOWREC_H */
