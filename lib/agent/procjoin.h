/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which process made a flow: the socket side's records (lib/core/
 * sockproc.h) kept in a bounded table and joined with the veth's flows by
 * network namespace and 5-tuple.
 *
 * A socket record names the network namespace by inode; a workload's
 * host veth names its peer's namespace by nsid (IFLA_LINK_NETNSID). The
 * table files each record under the nsid of its namespace, asked of the
 * kernel once per namespace (RTM_GETNSID on /proc/PID/ns/net while the
 * process lives; cached). Records of the agent's own namespace (the
 * host's processes) are not kept.
 *
 * Keys are as the container sees the connection: (nsid, protocol, own
 * address, own port, peer address, peer port). A UDP socket that is not
 * connected has no peer, nor does a TCP listener (the connections it
 * accepts are not recorded one by one), and one bound to any address no
 * own address: the lookup tries the exact key, then without the peer,
 * then without the own address. At most max_entries records are kept; the least
 * recently added goes first.
 *
 * The process info is shared (reference counted): a flow keeps its
 * process after the record left the table.
 */
#ifndef BULKHEAD_PROCJOIN_H
#define BULKHEAD_PROCJOIN_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead_abi.h"

struct bh_proc_info {
	uint32_t refs;
	uint32_t pid;			/* thread group id, in the host's pid namespace */
	uint64_t cgroup_id;
	char comm[16];			/* command name */
	char exe[256];			/* executable: full path, or the kernel's file name
					   when the process was gone before the agent read it */
	char cgroup[256];		/* cgroup v2 path, "" if unknown */
};

void bh_proc_ref(struct bh_proc_info *p);
void bh_proc_unref(struct bh_proc_info *p);

struct bh_procjoin_opts {
	uint32_t max_entries;		/* 0 = 65536 */
};

struct bh_procjoin_stats {
	uint64_t records, kept, host, no_nsid, evicted, joined, lost;
};

struct bh_procjoin;

/* Loads and attaches the socket-side program (lib/core/sockproc.h). */
int bh_procjoin_open(const struct bh_procjoin_opts *opts, struct bh_procjoin **out);
void bh_procjoin_close(struct bh_procjoin *pj);
/* The ring's fd for epoll (records are read with bh_procjoin_poll). */
int bh_procjoin_fd(const struct bh_procjoin *pj);
bool bh_procjoin_udp(const struct bh_procjoin *pj);
/* Read every record waiting. Returns how many. */
int bh_procjoin_poll(struct bh_procjoin *pj);
/* Take one record as the ring would deliver it (tests). */
int bh_procjoin_add(struct bh_procjoin *pj, const struct bh_sockproc_rec *r, int nsid,
		    const struct bh_proc_info *info);
/* The process behind the flow, or NULL. Addresses IPv4-mapped. The
 * returned info is the table's: bh_proc_ref it to keep it. */
struct bh_proc_info *bh_procjoin_find(struct bh_procjoin *pj, int nsid, int proto,
				      const __u8 own[16], int own_port, const __u8 peer[16],
				      int peer_port);
void bh_procjoin_get_stats(const struct bh_procjoin *pj, struct bh_procjoin_stats *st);

/* A table without the kernel side (tests, benches). */
int bh_procjoin_new(const struct bh_procjoin_opts *opts, struct bh_procjoin **out);

/* A short text: "/usr/bin/nc (nc, pid 42)". */
const char *bh_proc_str(const struct bh_proc_info *p, char *buf, size_t len);

#endif /* BULKHEAD_PROCJOIN_H */
