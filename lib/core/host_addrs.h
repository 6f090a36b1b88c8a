/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The node's own addresses, for the `host` peer class (policy/compile.c). */
#ifndef BH_CORE_HOST_ADDRS_H
#define BH_CORE_HOST_ADDRS_H

#include "bulkhead_abi.h"

/* Every IPv4 and IPv6 address of this network namespace's interfaces
 * (IPv4-mapped), into *out (free it); 0 or a negative errno. */
int bh_host_addrs(struct bh_ip **out, int *nr);

#endif /* BH_CORE_HOST_ADDRS_H */
