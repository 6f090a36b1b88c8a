/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Docker gate: closes the window between a container's start and its
 * attachment. Docker (libnetwork) plugs the container's veth into the
 * network's bridge and then starts the container's process, without
 * asking us; until the agent has attached the veth its traffic would pass
 * unjudged. The gate is an nftables table of the bridge family (libnftnl
 * messages, one libmnl batch per change):
 *
 *   prerouting:  iif in @pending -> drop
 *   postrouting: oif in @pending -> drop
 *
 * @pending holds the ifindexes of host veths on a followed Docker bridge
 * that bulkhead has not attached yet. A thread of the agent's own
 * (docker_ports.h) adds a port the moment rtnetlink reports it enslaved
 * to such a bridge (Docker does that when it connects the container to
 * the network, before the container's process exists); the agent
 * removes it once the programs are in place.
 * (A match on the bridge's name, meta ibrname, needs nft_meta_bridge,
 * which not every kernel has; ifindexes need only the core.)
 */
#ifndef BULKHEAD_DOCKER_GATE_H
#define BULKHEAD_DOCKER_GATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define BH_GATE_TABLE_LEN	32

/* Table name of this instance: "bulkhead_gate_" + 8 hex digits of the
 * state directory, so two instances never share a gate. */
void bh_docker_gate_name(const char *state_dir, char out[BH_GATE_TABLE_LEN]);

/* Create the table if absent and set @pending to exactly these ports, in
 * one atomic batch (a failure changes nothing). */
int bh_docker_gate_sync(const char *table, int nr, const uint32_t *pending);
/* Create the table if absent, keeping @pending's members. */
int bh_docker_gate_ensure(const char *table);
/* Block (add to @pending) or let through (remove; absent is no error). */
int bh_docker_gate_port(const char *table, uint32_t ifindex, bool block);
/* Remove the table (bulkhead reset). 0 if it did not exist. */
int bh_docker_gate_delete(const char *table);

#endif /* BULKHEAD_DOCKER_GATE_H */
