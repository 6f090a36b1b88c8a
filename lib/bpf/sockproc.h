/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket side: which process owns a TCP connection a container opens or
 * accepts, or a UDP socket it talks on (tc/bulkhead_sock.bpf.c says from
 * which hooks), sent with the connection's 5-tuple as the container sees
 * it and its network namespace through the ring buffer bh_sockproc_v1,
 * for the agent to join with the veth's flow records. A connect() is
 * recorded where its 5-tuple is complete, still in the caller's context
 * (BPF_SOCK_OPS_TCP_CONNECT_CB, in tcp_connect(), before the SYN
 * leaves); an accepted connection by its listener: one record per
 * listen() (BPF_SOCK_OPS_TCP_LISTEN_CB, peer zero), which the agent
 * matches with every connection to that port, so accepting costs one
 * lookup (bh_sockproc_listen_v1) and writes no record.
 *
 * The kernel types are declared here with only the fields read, marked
 * preserve_access_index: libbpf relocates each access against the running
 * kernel's BTF (CO-RE), so one object serves 6.1 and 6.18. The programs
 * are BTF-typed (fentry, fexit, tp_btf): the verifier knows the types,
 * so fields are plain loads instead of one bpf_probe_read_kernel each.
 */
#ifndef BULKHEAD_BPF_SOCKPROC_H
#define BULKHEAD_BPF_SOCKPROC_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bulkhead_abi.h"

#define BH_AF_INET	2
#define BH_AF_INET6	10
#define BH_IPPROTO_TCP	6
#define BH_IPPROTO_UDP	17

struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
} __attribute__((preserve_access_index));

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	struct css_set *cgroups;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

/* Each connection's record goes to the agent through a ring buffer; the
 * agent keeps the bounded LRU that joins them with the veth's records.
 * (An LRU hash here cost about 2 us per connection once full: every
 * update evicts.) A full ring drops the record and counts it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BH_SOCKPROC_RING_BYTES);
} bh_sockproc_v1 SEC(".maps");

__u64 bh_sockproc_lost;		/* records the full ring dropped */

/* Key as the container sees the connection (or, for a UDP socket that is
 * not connected, only its own side: the peer stays zero): its own address
 * and port first. IPv4 is stored IPv4-mapped, as everywhere in bulkhead. */
static __always_inline int bh_sockproc_key(const struct sock *sk, struct bh_sockproc_key *k,
					   __u8 proto)
{
	unsigned short family = sk->__sk_common.skc_family;

	__builtin_memset(k, 0, sizeof(*k));
	k->netns = sk->__sk_common.skc_net.net->ns.inum;
	k->proto = proto;
	k->lport = sk->__sk_common.skc_num;
	k->rport = __builtin_bswap16(sk->__sk_common.skc_dport);
	if (family == BH_AF_INET) {
		__be32 l = sk->__sk_common.skc_rcv_saddr;
		__be32 r = sk->__sk_common.skc_daddr;

		k->laddr[10] = k->laddr[11] = 0xff;
		k->raddr[10] = k->raddr[11] = 0xff;
		__builtin_memcpy(&k->laddr[12], &l, 4);
		__builtin_memcpy(&k->raddr[12], &r, 4);
		return 0;
	}
	if (family == BH_AF_INET6) {
		__builtin_memcpy(k->laddr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(k->raddr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
		return 0;
	}
	return -1;
}

/* The calling process (every hook runs in the owner's system call), all
 * read from the task with plain loads: one helper call (the task), and
 * the socket operations program may call no other on 6.1 (the pid, the
 * command name and the cgroup helpers are not in its set there). The
 * cgroup id is the cgroup v2 one, as bpf_get_current_cgroup_id gives it. */
static __always_inline void bh_sockproc_current(struct bh_sockproc_val *v, __u8 dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const unsigned char *exe;

	__builtin_memset(v, 0, sizeof(*v));
	v->tgid = task->tgid;
	v->pid = task->pid;
	v->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	v->ts_ns = bpf_ktime_get_ns();
	v->dir = dir;
	__builtin_memcpy(v->comm, task->comm, sizeof(v->comm));
	/* the executable's file name (its full path is resolved in user
	 * space from /proc/PID/exe while the process lives) */
	exe = task->mm->exe_file->f_path.dentry->d_name.name;
	if (exe)
		bpf_probe_read_kernel_str(v->exe, sizeof(v->exe), exe);
}

/* One record, written where the ring keeps it (no copy through the
 * stack). A socket of another family than IPv4/IPv6 writes none. */
static __always_inline void bh_sockproc_record(const struct sock *sk, __u8 proto, __u8 dir)
{
	struct bh_sockproc_rec *r = bpf_ringbuf_reserve(&bh_sockproc_v1, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&bh_sockproc_lost, 1);
		return;
	}
	if (bh_sockproc_key(sk, &r->key, proto)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return;
	}
	r->pad = 0;
	bh_sockproc_current(&r->val, dir);
	/* no wakeup per record: the reader drains on its timer, as the agent
	 * does for flow records (a wakeup per connection cost ~10 us here) */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* ------------------------------------------------------------ TCP */
/* A listener's record goes again when one of its connections is accepted
 * this long after the last: the agent's table is an LRU, and a listener
 * outlives many connections' records. */
#define BH_SOCKPROC_LISTEN_REFRESH_NS	(10ULL * 1000000000ULL)

/* A listener, as the socket operations context names it without reading
 * the socket (an accepted connection is checked with no more than this):
 * the namespace's cookie and the local port. */
struct bh_sockproc_lkey {
	__u64 netns_cookie;
	__u32 port;
	__u32 pad;
};

/* listeners seen: (netns, port) -> the listening process, ts_ns = when
 * the agent last got the listener's record */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct bh_sockproc_lkey);
	__type(value, struct bh_sockproc_val);
} bh_sockproc_listen_v1 SEC(".maps");

/* An accepted connection whose listener was not seen (it listened before
 * the program was attached): its owner is the first process that sends or
 * receives on it (bh_sockproc_io). Socket-local storage: freed with the
 * socket, and a socket without any costs one pointer check. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} bh_sockproc_want_v1 SEC(".maps");

static __always_inline void bh_sockproc_lkey_of(struct bpf_sock_ops *ops,
						struct bh_sockproc_lkey *lk)
{
	lk->netns_cookie = bpf_get_netns_cookie(ops);
	lk->port = ops->local_port;
	lk->pad = 0;
}

/* listen(), in the caller's context: the listener's record (peer zero) */
static __always_inline void bh_sockproc_listen(struct bpf_sock_ops *ops, const struct sock *sk)
{
	struct bh_sockproc_lkey lk;
	struct bh_sockproc_val v;

	bh_sockproc_lkey_of(ops, &lk);
	bh_sockproc_current(&v, BH_SOCKPROC_ACCEPT);
	bpf_map_update_elem(&bh_sockproc_listen_v1, &lk, &v, BPF_ANY);
	bh_sockproc_record(sk, BH_IPPROTO_TCP, BH_SOCKPROC_ACCEPT);
}

/* The listener's record again, keyed by the accepted connection's own
 * address and port, peer zero (softirq: the process is the one kept). */
static __always_inline void bh_sockproc_listen_again(const struct sock *child,
						     struct bh_sockproc_val *v, __u64 now)
{
	struct bh_sockproc_rec *r = bpf_ringbuf_reserve(&bh_sockproc_v1, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&bh_sockproc_lost, 1);
		return;
	}
	if (bh_sockproc_key(child, &r->key, BH_IPPROTO_TCP)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return;
	}
	r->key.rport = 0;
	__builtin_memset(r->key.raddr, 0, sizeof(r->key.raddr));
	r->pad = 0;
	v->ts_ns = now;
	r->val = *v;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* The handshake of an accepted connection ended (softirq: no process).
 * A seen listener needs nothing but, now and then, its record again (the
 * coarse clock: its 10 s need no precision); a connection of a listener
 * not seen waits for its first reader or writer. The socket itself is
 * read only in those two cases. */
static __always_inline void bh_sockproc_accepted(struct bpf_sock_ops *ops)
{
	struct bh_sockproc_lkey lk;
	struct bh_sockproc_val *v;
	struct bpf_sock *bsk;
	struct sock *sk;
	__u64 now;
	__u8 *want;

	bh_sockproc_lkey_of(ops, &lk);
	v = bpf_map_lookup_elem(&bh_sockproc_listen_v1, &lk);
	if (v) {
		now = bpf_ktime_get_coarse_ns();
		if ((__s64)(now - v->ts_ns) <= (__s64)BH_SOCKPROC_LISTEN_REFRESH_NS)
			return;
	}
	bsk = ops->sk;
	if (!bsk)
		return;
	if (!v) {
		want = bpf_sk_storage_get(&bh_sockproc_want_v1, bsk, NULL,
					  BPF_SK_STORAGE_GET_F_CREATE);
		if (want)
			*want = 1;
		return;
	}
	sk = (struct sock *)bpf_skc_to_tcp_sock(bsk);
	if (sk)
		bh_sockproc_listen_again(sk, v, now);
}

/* UDP has no connection, so the UDP side watches the socket's sends and
 * receives (tracepoints sock:sock_send_length and sock:sock_recv_length,
 * both in the caller's context, after the call: the socket has its local
 * port by then). One record per socket and what it is connected to:
 * bh_sockproc_udp_v1 (socket-local storage, freed with the socket) keeps
 * a signature of the last record (ports, peer, process), so the steady
 * state of a UDP socket costs one storage lookup per call. A TCP socket
 * costs one pointer check (bh_sockproc_want_v1), unless it is an accepted
 * one still waiting for its owner. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);				/* signature of the last record */
} bh_sockproc_udp_v1 SEC(".maps");

static __always_inline void bh_sockproc_io(struct sock *sk, int ret, __u8 dir)
{
	struct bh_sockproc_key k;
	__u64 sig, *last;
	__u32 r4;

	if (!sk || ret < 0)
		return;
	if (sk->sk_protocol == BH_IPPROTO_TCP) {
		__u8 *want = bpf_sk_storage_get(&bh_sockproc_want_v1, sk, NULL, 0);

		if (want && *want) {
			*want = 0;
			bh_sockproc_record(sk, BH_IPPROTO_TCP, BH_SOCKPROC_ACCEPT);
		}
		return;
	}
	if (sk->sk_protocol != BH_IPPROTO_UDP)
		return;
	if (bh_sockproc_key(sk, &k, BH_IPPROTO_UDP) || !k.lport)
		return;
	__builtin_memcpy(&r4, &k.raddr[12], 4);
	sig = ((__u64)k.lport << 48 | (__u64)k.rport << 32 | r4) ^
	      (bpf_get_current_pid_tgid() >> 32) << 8;
	last = bpf_sk_storage_get(&bh_sockproc_udp_v1, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!last || *last == sig)
		return;
	*last = sig;
	bh_sockproc_record(sk, BH_IPPROTO_UDP, dir);
}

#endif /* BULKHEAD_BPF_SOCKPROC_H */
