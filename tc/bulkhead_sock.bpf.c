// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket-side program (it sits in tc/ beside the veth programs whose flow
 * records it completes): the process behind each TCP connection a container
 * starts or accepts (lib/bpf/sockproc.h), from the raw tracepoint
 * sock:inet_sock_set_state.
 *
 * Why a raw tracepoint: on the machine kind this is built on, fentry
 * programs are refused (EPERM at load) and kprobes cannot be attached (no
 * kprobe PMU, no tracefs); a raw tracepoint needs neither and exists on
 * 6.1 and 6.18. Its events, and the context each runs in:
 *
 *   CLOSE -> SYN_SENT     connect(), the caller's context, no source port
 *                         yet: remember the caller by socket
 *   SYN_SENT -> ESTAB     softirq: the socket's 5-tuple is complete; file
 *                         the remembered caller under it
 *   CLOSE -> LISTEN       listen(), the caller's context: remember the
 *                         listener by (netns, port)
 *   SYN_RECV -> ESTAB     softirq, the accepted child: file the listener's
 *                         process under the child's 5-tuple
 */
#include "sockproc.h"

#include <bpf/bpf_tracing.h>

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(bh_sock_state, struct sock *sk, int oldstate, int newstate)
{
	bh_sockproc_state(sk, oldstate, newstate);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
