// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule ports (TCP/UDP/SCTP) and ICMP types: both end up in r->ports. */
#include <ctype.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

int pc_port_list(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r,
		 pc_port_entry_fn fn)
{
	struct bh_port *ports;
	size_t i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	ports = realloc(r->ports, ((size_t)r->nr_ports + n->nr) * sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	r->ports = ports;
	memset(ports + r->nr_ports, 0, n->nr * sizeof(*ports));
	for (i = 0; i < n->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		ret = fn(c, n->items[i], &r->ports[r->nr_ports]);
		pc_pop(c, saved);
		if (ret)
			return ret;
		r->nr_ports++;
	}
	return 0;
}

static int port_protocol(struct pc_ctx *c, const struct yd_node *pr, struct bh_port *pt)
{
	static const struct { const char *name; __u8 proto; } protos[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, { "SCTP", IPPROTO_SCTP },
	};
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (pr->type == YD_SCALAR && !strcmp(pr->str, protos[i].name)) {
			pt->proto = protos[i].proto;
			return 0;
		}
	}
	if (c->native && pr->type == YD_SCALAR &&
	    (!strcmp(pr->str, "ICMP") || !strcmp(pr->str, "ICMPv6")))
		return pc_fail_at(c, pr, "protocol", "ICMP goes in the rule's "
				  "icmp list, not in ports");
	return pc_fail_at(c, pr, "protocol", "must be TCP, UDP or SCTP, not "
			  "\"%s\"", pr->type == YD_SCALAR ? pr->str : pc_type_name(pr));
}

/* A number, or a container port's name (Kubernetes IntOrString: a quoted
 * "80" is a string, so a name, and not a valid one). */
static int port_number(struct pc_ctx *c, const struct yd_node *po, struct bh_port *pt)
{
	unsigned long v;

	if (po->type == YD_SCALAR && (!po->plain || isalpha((unsigned char)po->str[0]))) {
		if (!bh_port_name_ok(po->str))
			return pc_fail_at(c, po, "port", "named port \"%s\" is not a port "
					  "name: 1-%d of a-z, 0-9 and '-', with a letter",
					  po->str, BH_PORT_NAME_MAX);
		snprintf(pt->name, sizeof(pt->name), "%s", po->str);
		return 0;
	}
	if (pc_uint(c, po, 1, 65535, &v))
		return pc_fail_at(c, po, "port", "%s", c->err->msg);
	pt->has_port = true;
	pt->port = pt->end_port = (__u16)v;
	return 0;
}

static int port_end(struct pc_ctx *c, const struct yd_node *ep, struct bh_port *pt)
{
	unsigned long v;

	if (pt->name[0])
		return pc_fail_at(c, ep, "endPort", "endPort needs a numeric port, not the "
				  "named port \"%s\"", pt->name);
	if (!pt->has_port)
		return pc_fail_at(c, ep, "endPort", "endPort requires port");
	if (pc_uint(c, ep, 1, 65535, &v))
		return pc_fail_at(c, ep, "endPort", "%s", c->err->msg);
	if (v < pt->port)
		return pc_fail_at(c, ep, "endPort", "endPort %lu is below port %u",
				  v, pt->port);
	pt->end_port = (__u16)v;
	return 0;
}

static int port_entry(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt)
{
	static const char *const fields[] = { "protocol", "port", "endPort", NULL };
	const struct yd_node *pr, *po, *ep;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	pr = yd_map_get(n, "protocol");
	po = yd_map_get(n, "port");
	ep = yd_map_get(n, "endPort");
	pt->proto = IPPROTO_TCP;	/* Kubernetes default */
	if (pr && !yd_is_null(pr)) {
		ret = port_protocol(c, pr, pt);
		if (ret)
			return ret;
	}
	if (po && !yd_is_null(po)) {
		ret = port_number(c, po, pt);
		if (ret)
			return ret;
	}
	if (ep && !yd_is_null(ep))
		return port_end(c, ep, pt);
	return 0;
}

int pc_ports(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	return pc_port_list(c, n, r, port_entry);
}

/* A number 0..255 in field key (type or code). */
static int icmp_byte(struct pc_ctx *c, const struct yd_node *n, const char *key,
		     unsigned long *out)
{
	size_t saved = pc_push(c, key);
	int ret;

	ret = pc_uint(c, n, 0, 255, out);
	pc_pop(c, saved);
	return ret;
}

/* ICMP type and code travel in the port field: type<<8 | code, a whole
 * type being the range type<<8 .. type<<8|0xff. */
static int icmp_entry(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt)
{
	static const char *const fields[] = { "protocol", "type", "code", NULL };
	const struct yd_node *pr, *ty, *co;
	unsigned long type = 0, code = 0;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	pr = yd_map_get(n, "protocol");
	ty = yd_map_get(n, "type");
	co = yd_map_get(n, "code");
	pt->proto = IPPROTO_ICMP;
	if (pr && !yd_is_null(pr)) {
		if (pr->type == YD_SCALAR && !strcmp(pr->str, "ICMPv6"))
			pt->proto = IPPROTO_ICMPV6;
		else if (pr->type != YD_SCALAR || strcmp(pr->str, "ICMP"))
			return pc_fail_at(c, pr, "protocol", "must be ICMP or ICMPv6, not \"%s\"",
					  pr->type == YD_SCALAR ? pr->str : pc_type_name(pr));
	}
	if (co && !ty)
		return pc_fail_at(c, co, "code", "code requires type");
	if (!ty)
		return 0;
	ret = icmp_byte(c, ty, "type", &type);
	if (ret)
		return ret;
	pt->has_port = true;
	pt->port = (__u16)(type << 8);
	pt->end_port = (__u16)(type << 8 | 0xff);
	if (!co)
		return 0;
	ret = icmp_byte(c, co, "code", &code);
	if (ret)
		return ret;
	pt->port = pt->end_port = (__u16)(type << 8 | code);
	return 0;
}

int pc_icmp(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	return pc_port_list(c, n, r, icmp_entry);
}
