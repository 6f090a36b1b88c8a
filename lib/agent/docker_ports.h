/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ports of the Docker gate (docker_gate.h): which bridges the gate
 * follows, which of their ports the agent has attached ("open"), and a
 * thread of its own that reads rtnetlink link notifications and blocks a
 * veth the moment it is enslaved to a followed bridge. The thread never
 * waits behind a Docker API call of the agent's loop (those can take
 * seconds on a busy host), so a container's first frame meets the gate
 * however slow Docker is.
 *
 * One mutex orders the thread's blocks and the agent's opens: whichever
 * comes second sees the other, so an attached port is never blocked late
 * and an unattached one is never left open.
 */
#ifndef BULKHEAD_DOCKER_PORTS_H
#define BULKHEAD_DOCKER_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bh_gate_ports;

/* Watch links for the gate table (which must exist); open: the
 * ifindexes already attached (an agent restart keeps them open). */
int bh_gate_ports_start(const char *gate, const uint32_t *open, int nr_open,
			struct bh_gate_ports **out);
void bh_gate_ports_stop(struct bh_gate_ports *p);

/* Readable when the thread has a problem to report; take it with
 * bh_gate_ports_report (1: msg filled, 0: nothing left). */
int bh_gate_ports_fd(const struct bh_gate_ports *p);
int bh_gate_ports_report(struct bh_gate_ports *p, char *msg, size_t len);

/* Follow a bridge (its unattached ports are blocked at once); replace
 * the whole list. -ENOSPC: too many bridges. */
int bh_gate_ports_follow(struct bh_gate_ports *p, uint32_t bridge);
int bh_gate_ports_set_bridges(struct bh_gate_ports *p, const uint32_t *bridges, int nr);
int bh_gate_ports_nr_bridges(struct bh_gate_ports *p);

/* The agent attached ifindex: let it through. Or it detached it (the
 * veth still exists): block it. */
int bh_gate_ports_open(struct bh_gate_ports *p, uint32_t ifindex);
int bh_gate_ports_close(struct bh_gate_ports *p, uint32_t ifindex);

/* Set the gate's members to exactly the unattached ports of the
 * followed bridges, in one batch; *nr_blocked: how many. */
int bh_gate_ports_sync(struct bh_gate_ports *p, int *nr_blocked);

#endif /* BULKHEAD_DOCKER_PORTS_H */
