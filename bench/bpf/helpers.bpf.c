// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the kernel's building blocks cost here, for bench/bench_helpers.sh:
 * an empty XDP program, one hash lookup that hits (the 20-byte LRU key of
 * bh_ct4_v2, and an 8-byte key), one array lookup, and a call into a
 * global function against the same work inline. Each program does one
 * such thing and returns XDP_PASS when it worked.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key20 {
	__u32 a, b;
	__u16 pa, pb;
	__u8 proto, pad[3];
	__u32 ifindex;
};

struct val64 {
	__u64 w[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct key20);
	__type(value, struct val64);
} lru20 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);
	__type(value, struct val64);
} hash8 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct val64);
} array SEC(".maps");

SEC("xdp")
int empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* the script puts the one key these build (ifindex 1: test runs see lo) */
SEC("xdp")
int lookup_lru20(struct xdp_md *ctx)
{
	struct key20 k = { .a = ctx->ingress_ifindex, .b = 2, .pa = 3, .pb = 4, .proto = 6,
			   .ifindex = 7 };

	return bpf_map_lookup_elem(&lru20, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int lookup_hash8(struct xdp_md *ctx)
{
	__u64 k = ctx->ingress_ifindex;

	return bpf_map_lookup_elem(&hash8, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int lookup_array(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;

	return bpf_map_lookup_elem(&array, &k) ? XDP_PASS : XDP_DROP;
}

__attribute__((noinline)) int add_one(struct val64 *v)
{
	return v ? (int)v->w[1] + 1 : 0;
}

SEC("xdp")
int call_global(struct xdp_md *ctx)
{
	struct val64 v = { .w[1] = ctx->ingress_ifindex };

	return add_one(&v) == 2 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int call_inline(struct xdp_md *ctx)
{
	struct val64 v = { .w[1] = ctx->ingress_ifindex };

	return v.w[1] + 1 == 2 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
