// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ipProtocols (native rules): IP protocols other than TCP, UDP, SCTP and
 * ICMP, by name or number. A rule without ports or icmp does not cover
 * them (tunnels such as IP-in-IP or GRE would carry traffic past the
 * policy, docs/security.md); only a rule that names the protocol here
 * lets it pass. Each entry becomes a port entry of that protocol, any
 * port.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

/* Names as in the IANA protocol registry (and /etc/protocols). */
static const struct { const char *name; __u8 proto; } ip_protos[] = {
	{ "IPIP", 4 }, { "IPv6", 41 }, { "GRE", 47 }, { "ESP", 50 }, { "AH", 51 },
	{ "OSPF", 89 }, { "PIM", 103 }, { "VRRP", 112 }, { "L2TP", 115 },
};

bool bh_proto_is_named(__u8 proto)
{
	return proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP &&
	       proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6 && proto != 0;
}

static int ipproto_entry(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt)
{
	unsigned long v;
	size_t i;

	if (n->type == YD_SCALAR && n->plain && n->str[0] >= '0' && n->str[0] <= '9') {
		if (pc_uint(c, n, 1, 255, &v))
			return pc_fail_at(c, n, NULL, "%s", c->err->msg);
	} else {
		for (i = 0; i < sizeof(ip_protos) / sizeof(ip_protos[0]); i++)
			if (n->type == YD_SCALAR && !strcmp(n->str, ip_protos[i].name))
				break;
		if (i == sizeof(ip_protos) / sizeof(ip_protos[0]))
			return pc_fail_at(c, n, NULL, "unknown IP protocol \"%s\": use "
					  "a number 1..255 or one of IPIP, IPv6, GRE, ESP, AH, "
					  "OSPF, PIM, VRRP, L2TP",
					  n->type == YD_SCALAR ? n->str : pc_type_name(n));
		v = ip_protos[i].proto;
	}
	if (!bh_proto_is_named((__u8)v))
		return pc_fail_at(c, n, NULL, "protocol %lu is TCP, UDP, SCTP or ICMP: "
				  "name it in ports (TCP, UDP, SCTP) or icmp", v);
	pt->proto = (__u8)v;
	pt->has_port = false;
	return 0;
}

int pc_ip_protocols(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	return pc_port_list(c, n, r, ipproto_entry);
}
