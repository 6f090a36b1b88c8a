// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The node's own addresses: what getifaddrs() lists in the namespace the
 * caller runs in (the node's), read at each policy sync. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "host_addrs.h"

int bh_host_addrs(struct bh_ip **out, int *nr)
{
	struct ifaddrs *all, *i;
	struct bh_ip *v;
	int n = 0;

	*out = NULL;
	*nr = 0;
	if (getifaddrs(&all))
		return -errno;
	for (i = all; i; i = i->ifa_next)
		n++;
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		freeifaddrs(all);
		return -ENOMEM;
	}
	n = 0;
	for (i = all; i; i = i->ifa_next) {
		struct bh_ip *ip = &v[n];

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;

			ip->family = 4;
			ip->addr[10] = ip->addr[11] = 0xff;
			memcpy(ip->addr + 12, &s->sin_addr, 4);
			n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)i->ifa_addr;

			ip->family = 6;
			memcpy(ip->addr, &s->sin6_addr, 16);
			n++;
		}
	}
	freeifaddrs(all);
	*out = v;
	*nr = n;
	return 0;
}
