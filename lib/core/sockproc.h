/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The socket-side program (tc/bulkhead_sock.bpf.c): which process owns a
 * connection. The agent loads it at start and owns it: nothing is pinned,
 * and the programs go with the agent's process (or bh_sockproc_close).
 * Records arrive on a ring buffer (struct bh_sockproc_rec) that the
 * caller reads with libbpf's ring_buffer API.
 *
 * The TCP program (socket operations, on the root of the cgroup v2
 * hierarchy) must attach; the UDP programs (sock:sock_send_length,
 * sock:sock_recv_length, kernel 6.4 and later) attach where the kernel
 * has those tracepoints, and bh_sockproc_udp says whether they did.
 */
#ifndef BULKHEAD_SOCKPROC_H
#define BULKHEAD_SOCKPROC_H

#include <stdbool.h>
#include <linux/types.h>

struct bh_sockproc;
struct bpf_object;

/* Load and attach. -errno on failure (nothing left behind). */
int bh_sockproc_open(struct bh_sockproc **out);
void bh_sockproc_close(struct bh_sockproc *sp);
/* Before loading the socket-side object: keep the programs the running
 * kernel has hooks for (the UDP tracepoints). -errno when its BTF cannot
 * be read. */
int bh_sockproc_select(struct bpf_object *obj);
/* The root of the cgroup v2 hierarchy (the first cgroup2 mount), open
 * (O_DIRECTORY); -ENOENT when none is mounted. */
int bh_cgroup2_root_fd(void);
int bh_sockproc_ring_fd(const struct bh_sockproc *sp);
bool bh_sockproc_udp(const struct bh_sockproc *sp);
/* Records the full ring dropped since open. */
__u64 bh_sockproc_lost(const struct bh_sockproc *sp);

/* The id (nsid) the current network namespace gives the namespace of
 * nsfd (an open /proc/PID/ns/net), as a veth's IFLA_LINK_NETNSID names
 * its peer's namespace. -ENOENT: the namespace has no id here (no link
 * of ours points into it). */
int bh_netns_nsid(int nsfd);

#endif /* BULKHEAD_SOCKPROC_H */
