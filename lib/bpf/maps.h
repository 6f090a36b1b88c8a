/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the data path, defined once. Both objects (XDP and TC)
 * include this header and pin by name, so libbpf makes the second loader
 * reuse the first one's maps: conntrack, policy and stats are shared.
 * Sizes come from bulkhead_abi.h; a layout change bumps the _vN suffix.
 */
#ifndef BH_BPF_MAPS_H
#define BH_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bulkhead_abi.h"

/* host veth ifindex -> workload (slot, mode, own addresses) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, struct bh_workload);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_workloads_v1 SEC(".maps");

/* peer prefix -> identity; one trie for both families (IPv4-mapped) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BH_IPCACHE_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_ipcache_key);
	__type(value, struct bh_ipcache_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_ipcache_v1 SEC(".maps");

/* The inner map template: userspace creates inner maps of any size with
 * the same key, value and flags (max_entries is not part of the check). */
struct bh_policy_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BH_POLICY_TEMPLATE_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	/* sizes, not BTF types: clang only emits a forward declaration for
	 * types reached through __array(), which libbpf cannot size */
	__uint(key_size, sizeof(struct bh_policy_key));
	__uint(value_size, sizeof(struct bh_policy_val));
};

/* workload slot -> its policy (or the shared deny-all map when quarantined) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct bh_policy_inner);
} bh_policy_v1 SEC(".maps");

/* normalised 5-tuple per workload veth (ifindex) -> flow state, slot */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_CT_SIZE);
	__type(key, struct bh_ct_key);
	__type(value, struct bh_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_ct_v3 SEC(".maps");

/* the same for IPv4 flows, under a 20-byte key (cheaper to hash) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_CT_SIZE);
	__type(key, struct bh_ct4_key);
	__type(value, struct bh_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_ct4_v2 SEC(".maps");

/* conntrack generation: userspace bumps it after it deletes or edits
 * conntrack entries, which makes every flow cache entry stale (fcache.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_ctgen_v1 SEC(".maps");

/* IP datagram id -> L4 ports of its first fragment */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_FRAG_SIZE);
	__type(key, struct bh_frag_key);
	__type(value, struct bh_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_frag_v1 SEC(".maps");

/* ct key -> time of the last deny record for that flow */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_DENY_RL_SIZE);
	__type(key, struct bh_ct_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_deny_rl_v2 SEC(".maps");

/* flow records to the agent */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BH_RINGBUF_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_flows_v1 SEC(".maps");

/* per workload, direction and reason: packets and bytes (BH_STATS_INDEX) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct bh_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_stats_v3 SEC(".maps");

/* per rule that decided a packet, indexed by rule id: packets and bytes
 * (see bulkhead_abi.h; v1 was an LRU hash, whose insert on a rule's first
 * packet and LRU bookkeeping on every one cost more than the array) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_RULE_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct bh_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_rule_stats_v2 SEC(".maps");

/* workload slot -> its MAC and layer-2 flags (lib/bpf/l2.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, struct bh_l2);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_l2_v1 SEC(".maps");

/* workload slot -> its use of the shared tables (lib/bpf/share.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, struct bh_share);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_share_v1 SEC(".maps");

/* workload slot -> conntrack count base, written by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_MAX_WORKLOADS);
	__type(key, __u32);
	__type(value, __s64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_ct_base_v1 SEC(".maps");

/* Service frontend (ClusterIP, port, protocol) -> judged after DNAT
 * (svc.h); filled by the agent only while the post-NAT hook is attached */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_SVC_SIZE);
	__type(key, struct bh_svc_key);
	__type(value, struct bh_svc_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_svc_v1 SEC(".maps");

/* global counters, enum bh_counter */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bh_counters_v1 SEC(".maps");

#endif /* BH_BPF_MAPS_H */
