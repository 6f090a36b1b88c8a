// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* CIDR blocks in the IPv4-mapped 128-bit space the ipcache uses. */
#include <arpa/inet.h>
#include <errno.h>
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

/* The one parser of "ADDR[/PLEN]": the address as written (IPv4
 * IPv4-mapped) and the prefix length of its family, -1 if absent. */
int bh_cidr_split(const char *s, struct bh_ip *ip, int *prefixlen)
{
	char host[64], *end;
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	long plen = -1;
	__u8 v4[4];

	memset(ip, 0, sizeof(*ip));
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (slash) {
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end || end - (slash + 1) > 3)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, v4) == 1) {
		if (plen > 32)
			return -EINVAL;
		ip->family = 4;
		ip->addr[10] = 0xff;
		ip->addr[11] = 0xff;
		memcpy(&ip->addr[12], v4, 4);
	} else if (inet_pton(AF_INET6, host, ip->addr) == 1) {
		if (plen > 128)
			return -EINVAL;
		ip->family = 6;
	} else {
		return -EINVAL;
	}
	*prefixlen = (int)plen;
	return 0;
}

static int cidr_parse(const char *s, bool need_prefix, struct bh_cidr *out)
{
	int plen, err;

	memset(out, 0, sizeof(*out));
	err = bh_cidr_split(s, &out->addr, &plen);
	if (err)
		return err;
	if (plen < 0 && need_prefix)
		return -EINVAL;
	out->prefixlen = plen >= 0 ? plen : out->addr.family == 4 ? 32 : 128;
	/* Kubernetes accepts host bits (10.1.2.3/8); so do we: the block is
	 * the network the prefix names. */
	mask_addr(out->addr.addr, bh_cidr_plen128(out));
	return 0;
}

int bh_cidr_parse(const char *s, struct bh_cidr *out)
{
	return cidr_parse(s, true, out);
}

int bh_cidr_parse_addr(const char *s, struct bh_cidr *out)
{
	return cidr_parse(s, false, out);
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

bool bh_cidr_has_addr(const struct bh_cidr *c, const __u8 addr[16])
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (c->addr.family == 4 && memcmp(addr, mapped, 12))
		return false;
	return prefix_eq(c->addr.addr, addr, bh_cidr_plen128(c));
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
