// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Port names (IANA service names, as Kubernetes validates them) and the
 * "NAME=PORT[/PROTO]" form `attach --port` and the CNI plugin take. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

bool bh_port_name_ok(const char *s)
{
	size_t n = strlen(s), i;
	bool letter = false;

	if (n == 0 || n > BH_PORT_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'a' && ch <= 'z')
			letter = true;
		else if (ch == '-' && s[i + 1] == '-')
			return false;
		else if (!(ch >= '0' && ch <= '9') && ch != '-')
			return false;
	}
	return letter;
}

int bh_named_port_parse(const char *s, struct bh_named_port *out, char *err, size_t errlen)
{
	const char *eq = strchr(s, '='), *slash;
	char num[8], *end;
	unsigned long v;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!eq) {
		snprintf(err, errlen, "\"%s\" is not NAME=PORT[/PROTO]", s);
		return -EINVAL;
	}
	n = (size_t)(eq - s);
	if (n > BH_PORT_NAME_MAX) {
		snprintf(err, errlen, "port name \"%.*s\" is longer than %d characters", (int)n, s,
			 BH_PORT_NAME_MAX);
		return -EINVAL;
	}
	memcpy(out->name, s, n);
	if (!bh_port_name_ok(out->name)) {
		snprintf(err, errlen, "\"%s\" is not a port name (1-%d of a-z, 0-9 and '-', "
			 "with a letter)", out->name, BH_PORT_NAME_MAX);
		return -EINVAL;
	}
	slash = strchr(eq + 1, '/');
	n = slash ? (size_t)(slash - eq - 1) : strlen(eq + 1);
	snprintf(num, sizeof(num), "%.*s", (int)(n < sizeof(num) - 1 ? n : sizeof(num) - 1), eq + 1);
	errno = 0;
	v = strtoul(num, &end, 10);
	if (!n || n >= sizeof(num) || *end || num[0] == '-' || num[0] == '+' || errno ||
	    v < 1 || v > 65535) {
		snprintf(err, errlen, "port %s: \"%.*s\" is not a number 1..65535", out->name,
			 (int)n, eq + 1);
		return -EINVAL;
	}
	out->port = (unsigned short)v;
	out->proto = IPPROTO_TCP;
	if (slash) {
		if (!strcasecmp(slash + 1, "TCP"))
			out->proto = IPPROTO_TCP;
		else if (!strcasecmp(slash + 1, "UDP"))
			out->proto = IPPROTO_UDP;
		else if (!strcasecmp(slash + 1, "SCTP"))
			out->proto = IPPROTO_SCTP;
		else {
			snprintf(err, errlen, "port %s: protocol must be TCP, UDP or SCTP, not "
				 "\"%s\"", out->name, slash + 1);
			return -EINVAL;
		}
	}
	return 0;
}

const char *bh_named_port_format(const struct bh_named_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s=%u/%s", p->name, p->port,
		 p->proto == IPPROTO_UDP ? "UDP" : p->proto == IPPROTO_SCTP ? "SCTP" : "TCP");
	return buf;
}
