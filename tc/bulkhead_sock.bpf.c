// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket-side program (it sits in tc/ beside the veth programs whose flow
 * records it completes): the process behind each TCP connection a container
 * starts or accepts (lib/bpf/sockproc.h), from the raw tracepoint
 * sock:inet_sock_set_state.
 *
 * Why a tracepoint: kprobes cannot be attached on the machine kind this
 * is built on (no kprobe PMU, no tracefs); a BTF tracepoint needs neither
 * and exists on 6.1 and 6.18. Being BTF-typed (tp_btf, not a raw_tp),
 * its fields are read with plain loads: about half the cost per connect
 * (docs/performance.md). Its events, and the context each runs in:
 *
 *   CLOSE -> SYN_SENT     connect(), the caller's context, no source port
 *                         yet: remember the caller by socket
 *   SYN_SENT -> ESTAB     softirq: the socket's 5-tuple is complete; file
 *                         the remembered caller under it
 *   CLOSE -> LISTEN       listen(), the caller's context: remember the
 *                         listener by (netns, port)
 *   SYN_RECV -> ESTAB     softirq, the accepted child: file the listener's
 *                         process under the child's 5-tuple; with no
 *                         listener seen, the first process that sends or
 *                         receives on the child owns it
 *
 * UDP sockets have no such states: their sends and receives are watched
 * instead (sock:sock_send_length, sock:sock_recv_length; both exist since
 * 6.4 — on an older kernel the loader attaches the TCP program alone).
 */
#include "sockproc.h"

#include <bpf/bpf_tracing.h>

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bh_sock_state, struct sock *sk, int oldstate, int newstate)
{
	bh_sockproc_state(sk, oldstate, newstate);
	return 0;
}

/* UDP, and accepted TCP connections of a listener older than the
 * program: lib/bpf/sockproc.h, bh_sockproc_io */
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
