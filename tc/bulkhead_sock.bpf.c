// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket-side program (it sits in tc/ beside the veth programs whose flow
 * records it completes): the process behind each TCP connection a
 * container starts or accepts, and each UDP socket it talks on
 * (lib/bpf/sockproc.h says what each hook records):
 *
 *   socket operations      TCP_CONNECT_CB: connect(), in tcp_connect(),
 *   (cgroup v2 root)       the caller's context, the source port chosen,
 *                          the SYN not sent yet: the record is in the
 *                          ring before the veth sees the connection, so
 *                          the flow's first record can name its process;
 *                          TCP_LISTEN_CB: listen(), the caller's context;
 *                          PASSIVE_ESTABLISHED_CB: an accepted connection
 *                          (softirq), checked against the listeners seen
 *   sock:sock_send_length, UDP sends and receives, and the first read or
 *   sock:sock_recv_length  write of an accepted connection whose listener
 *                          was not seen (both tracepoints exist since
 *                          6.4: on an older kernel the loader attaches
 *                          the TCP program alone)
 *
 * Why these hooks: kprobes cannot be attached on the machine kind this is
 * built on (no kprobe PMU, no tracefs), and fentry/fexit programs are
 * refused there (EPERM, a locked-down kernel); a cgroup program and a
 * BTF tracepoint need neither, and exist on 6.1 and 6.18. The socket operations
 * program is attached to the root of the cgroup v2 hierarchy: it runs for
 * the TCP sockets of every process below. Before, TCP was followed on the
 * tracepoint sock:inet_sock_set_state: seven runs per loopback
 * connection, the connecting side taken from two of them (CLOSE ->
 * SYN_SENT in connect(), before the source port is chosen, then
 * SYN_SENT -> ESTABLISHED in softirq) with a map carrying the process
 * between them, and its record came after the veth reported the SYN
 * (docs/performance.md).
 */
#include "sockproc.h"

#include <bpf/bpf_tracing.h>

SEC("sockops")
int bh_sock_ops(struct bpf_sock_ops *ops)
{
	__u32 op = ops->op;
	struct bpf_sock *bsk;
	struct sock *sk;

	if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		bh_sockproc_accepted(ops);
		return 1;
	}
	if (op != BPF_SOCK_OPS_TCP_CONNECT_CB && op != BPF_SOCK_OPS_TCP_LISTEN_CB)
		return 1;
	bsk = ops->sk;
	if (!bsk)
		return 1;
	sk = (struct sock *)bpf_skc_to_tcp_sock(bsk);
	if (!sk)
		return 1;
	if (op == BPF_SOCK_OPS_TCP_CONNECT_CB)
		bh_sockproc_record(sk, BH_IPPROTO_TCP, BH_SOCKPROC_CONNECT);
	else
		bh_sockproc_listen(ops, sk);
	return 1;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(bh_sock_send, struct sock *sk, int ret, int flags)
{
	bh_sockproc_io(sk, ret, BH_SOCKPROC_SEND);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(bh_sock_recv, struct sock *sk, int ret, int flags)
{
	bh_sockproc_io(sk, ret, BH_SOCKPROC_RECV);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
