// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ICMP and ICMPv6 types and codes by name, spelled as iptables and
 * ip6tables spell them (`iptables -p icmp -h`), so the names are the
 * ones operators already type. */
#include <netinet/in.h>
#include <stdio.h>

#include "flowjson.h"

struct icmp_name {
	int type;
	const char *name;
	const char *const *codes;	/* by code, NULL-terminated; NULL: none */
	int nr_codes;
};

#define CODES(...) (const char *const[]){ __VA_ARGS__ }, \
	(int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static const struct icmp_name v4[] = {
	{ 0, "echo-reply", NULL, 0 },
	{ 3, "destination-unreachable", CODES("network-unreachable", "host-unreachable",
		"protocol-unreachable", "port-unreachable", "fragmentation-needed",
		"source-route-failed", "network-unknown", "host-unknown", NULL,
		"network-prohibited", "host-prohibited", "TOS-network-unreachable",
		"TOS-host-unreachable", "communication-prohibited", "host-precedence-violation",
		"precedence-cutoff") },
	{ 4, "source-quench", NULL, 0 },
	{ 5, "redirect", CODES("network-redirect", "host-redirect", "TOS-network-redirect",
		"TOS-host-redirect") },
	{ 8, "echo-request", NULL, 0 },
	{ 9, "router-advertisement", NULL, 0 },
	{ 10, "router-solicitation", NULL, 0 },
	{ 11, "time-exceeded", CODES("ttl-zero-during-transit", "ttl-zero-during-reassembly") },
	{ 12, "parameter-problem", CODES("ip-header-bad", "required-option-missing") },
	{ 13, "timestamp-request", NULL, 0 },
	{ 14, "timestamp-reply", NULL, 0 },
	{ 17, "address-mask-request", NULL, 0 },
	{ 18, "address-mask-reply", NULL, 0 },
};

static const struct icmp_name v6[] = {
	{ 1, "destination-unreachable", CODES("no-route", "communication-prohibited",
		"beyond-scope", "address-unreachable", "port-unreachable", "failed-policy",
		"reject-route") },
	{ 2, "packet-too-big", NULL, 0 },
	{ 3, "time-exceeded", CODES("ttl-zero-during-transit", "ttl-zero-during-reassembly") },
	{ 4, "parameter-problem", CODES("bad-header", "unknown-header-type", "unknown-option") },
	{ 128, "echo-request", NULL, 0 },
	{ 129, "echo-reply", NULL, 0 },
	{ 130, "mld-listener-query", NULL, 0 },
	{ 131, "mld-listener-report", NULL, 0 },
	{ 132, "mld-listener-done", NULL, 0 },
	{ 133, "router-solicitation", NULL, 0 },
	{ 134, "router-advertisement", NULL, 0 },
	{ 135, "neighbour-solicitation", NULL, 0 },
	{ 136, "neighbour-advertisement", NULL, 0 },
	{ 137, "redirect", NULL, 0 },
	{ 143, "mld2-listener-report", NULL, 0 },
};

const char *bh_icmp_name(int proto, int type, int code, char *buf, size_t len)
{
	const struct icmp_name *t = proto == IPPROTO_ICMPV6 ? v6 : v4;
	size_t n = proto == IPPROTO_ICMPV6 ? sizeof(v6) / sizeof(v6[0]) : sizeof(v4) / sizeof(v4[0]);

	for (size_t i = 0; i < n; i++) {
		if (t[i].type != type)
			continue;
		if (code >= 0 && code < t[i].nr_codes && t[i].codes[code])
			snprintf(buf, len, "%s/%s", t[i].name, t[i].codes[code]);
		else if (code == 0)
			snprintf(buf, len, "%s", t[i].name);
		else
			snprintf(buf, len, "%s/code-%d", t[i].name, code);
		return buf;
	}
	snprintf(buf, len, "type-%d/code-%d", type, code);
	return buf;
}
