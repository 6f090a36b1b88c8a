// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* CIDR blocks in the IPv4-mapped 128-bit space the ipcache uses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

int bh_cidr_plen128(const struct bh_cidr *c)
{
	return c->addr.family == 4 ? c->prefixlen + 96 : c->prefixlen;
}

static void mask_addr(__u8 a[16], int plen128)
{
	int i;

	for (i = 0; i < 16; i++) {
		int bits = plen128 - i * 8;

		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

int bh_cidr_parse(const char *s, struct bh_cidr *out)
{
	char host[64], *end;
	const char *slash = strchr(s, '/');
	size_t hl;
	long plen;
	__u8 v4[4];

	memset(out, 0, sizeof(*out));
	if (!slash || !isdigit((unsigned char)slash[1]))
		return -EINVAL;
	hl = (size_t)(slash - s);
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	plen = strtol(slash + 1, &end, 10);
	if (*end || end - (slash + 1) > 3)
		return -EINVAL;
	if (inet_pton(AF_INET, host, v4) == 1) {
		if (plen > 32)
			return -EINVAL;
		out->addr.family = 4;
		out->addr.addr[10] = 0xff;
		out->addr.addr[11] = 0xff;
		memcpy(&out->addr.addr[12], v4, 4);
	} else if (inet_pton(AF_INET6, host, out->addr.addr) == 1) {
		if (plen > 128)
			return -EINVAL;
		out->addr.family = 6;
	} else {
		return -EINVAL;
	}
	out->prefixlen = (int)plen;
	/* Kubernetes accepts host bits (10.1.2.3/8); so do we: the block is
	 * the network the prefix names. */
	mask_addr(out->addr.addr, bh_cidr_plen128(out));
	return 0;
}

static bool prefix_eq(const __u8 *a, const __u8 *b, int plen128)
{
	int full = plen128 / 8, rest = plen128 % 8;

	if (memcmp(a, b, (size_t)full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (__u8)(0xff << (8 - rest))) == 0;
}

bool bh_cidr_contains(const struct bh_cidr *outer, const struct bh_cidr *inner)
{
	if (outer->addr.family != inner->addr.family || inner->prefixlen < outer->prefixlen)
		return false;
	return prefix_eq(outer->addr.addr, inner->addr.addr, bh_cidr_plen128(outer));
}

bool bh_cidr_has_ip(const struct bh_cidr *c, const struct bh_ip *a)
{
	if (c->addr.family != a->family)
		return false;
	return prefix_eq(c->addr.addr, a->addr, bh_cidr_plen128(c));
}

const char *bh_ip_fmt(const struct bh_ip *ip, char *buf, size_t len)
{
	const void *src = ip->family == 4 ? (const void *)&ip->addr[12] : ip->addr;

	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}
