// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The uplinks of the Services tc hook (services.h): where a remote
 * backend's packets leave the node. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctx_int.h"
#include "services.h"

/* The devices of the default routes in one /proc/net routing table:
 * IPv4's (Iface first, Destination and Mask 0) or IPv6's (destination
 * and prefix length 0, the device last). */
static void default_route_devs(const char *file, bool v6, __u32 *out, int max, int *nr)
{
	char line[512], dev[IF_NAMESIZE + 1], dst[40];
	unsigned int plen, mask;
	FILE *f = fopen(file, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && *nr < max) {
		__u32 ifx;
		int i;

		if (v6) {
			if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen,
				   dev) != 3 || plen || strspn(dst, "0") != 32)
				continue;
		} else if (sscanf(line, "%16s %39s %*s %*s %*s %*s %*s %x", dev, dst, &mask) != 3 ||
			   strcmp(dst, "00000000") || mask) {
			continue;
		}
		ifx = if_nametoindex(dev);
		for (i = 0; i < *nr && out[i] != ifx; i++)
			;
		if (ifx && i == *nr && strcmp(dev, "lo"))
			out[(*nr)++] = ifx;
	}
	fclose(f);
}

int bh_svc_uplinks(struct bh_ctx *ctx, __u32 *out, int *nr)
{
	char names[BH_SVC_MAX_UPLINKS][16];
	int n, err = bh_config_service_uplinks(ctx, names, BH_SVC_MAX_UPLINKS, &n);

	*nr = 0;
	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		out[i] = if_nametoindex(names[i]);
		if (!out[i])
			return bh_err(ctx, -ENODEV, true, "service_uplink: no interface %s in this"
				      " network namespace", names[i]);
	}
	*nr = n;
	if (!n) {
		default_route_devs("/proc/net/route", false, out, BH_SVC_MAX_UPLINKS, nr);
		default_route_devs("/proc/net/ipv6_route", true, out, BH_SVC_MAX_UPLINKS, nr);
	}
	return 0;
}
