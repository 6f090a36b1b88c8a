// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Names of verdicts, reasons, modes, hooks and counters, and the address
 * and label parsers shared by every front end. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "bulkhead.h"

static const char *const verdict_names[BH_V_MAX] = {
	[BH_V_ALLOW] = "allow",
	[BH_V_DENY] = "deny",
	[BH_V_WOULD_DENY] = "would-deny",
	[BH_V_QUARANTINE] = "quarantine",
	[BH_V_SPOOF] = "spoof",
	[BH_V_DROP] = "drop",
};

static const char *const reason_names[BH_R_MAX] = {
	[BH_R_POLICY_ALLOW] = "policy-allow",
	[BH_R_NOT_ISOLATED] = "not-isolated",
	[BH_R_ESTABLISHED] = "established",
	[BH_R_LEARN] = "learn",
	[BH_R_POLICY_DENY] = "policy-deny",
	[BH_R_DEFAULT_DENY] = "default-deny",
	[BH_R_QUARANTINE] = "quarantine",
	[BH_R_FORENSICS] = "forensics",
	[BH_R_SPOOF_IP] = "spoof-ip",
	[BH_R_SPOOF_ARP] = "spoof-arp",
	[BH_R_MALFORMED] = "malformed",
	[BH_R_FRAGMENT] = "fragment",
	[BH_R_IPV6_EXT] = "ipv6-ext",
	[BH_R_VLAN] = "vlan",
	[BH_R_L3_UNKNOWN] = "l3-unknown",
	[BH_R_ARP] = "arp",
	[BH_R_ND] = "nd",
	[BH_R_NO_WORKLOAD] = "no-workload",
	[BH_R_SPOOF_MAC] = "spoof-mac",
	[BH_R_ROUTER_MSG] = "router-msg",
	[BH_R_NOT_OURS] = "not-ours",
	[BH_R_CT_SHARE] = "ct-share",
};

static const char *const mode_names[] = {
	[BH_MODE_LEARN] = "learn",
	[BH_MODE_MONITOR] = "monitor",
	[BH_MODE_ENFORCE] = "enforce",
};

static const char *const counter_names[BH_C_MAX] = {
	[BH_C_RECORDS] = "records",
	[BH_C_RECORDS_LOST] = "records-lost",
	[BH_C_CT_CREATE] = "ct-create",
	[BH_C_CT_FULL] = "ct-full",
	[BH_C_NO_WORKLOAD] = "no-workload",
};

const char *bh_verdict_name(enum bh_verdict v)
{
	return (unsigned)v < BH_V_MAX ? verdict_names[v] : "unknown";
}

const char *bh_reason_name(enum bh_reason r)
{
	return (unsigned)r < BH_R_MAX ? reason_names[r] : "unknown";
}

const char *bh_mode_name(enum bh_mode m)
{
	return (unsigned)m <= BH_MODE_ENFORCE ? mode_names[m] : "unknown";
}

const char *bh_counter_name(enum bh_counter c)
{
	return (unsigned)c < BH_C_MAX ? counter_names[c] : "unknown";
}

const char *bh_dir_name(enum bh_dir d)
{
	switch (d) {
	case BH_DIR_INGRESS: return "ingress";
	case BH_DIR_EGRESS: return "egress";
	default: return "unknown";
	}
}

const char *bh_hook_name(enum bh_hook h)
{
	switch (h) {
	case BH_HOOK_TC: return "tc";
	case BH_HOOK_XDP: return "xdp";
	default: return "unknown";
	}
}

int bh_mode_parse(const char *s, enum bh_mode *out)
{
	for (unsigned i = 0; i <= BH_MODE_ENFORCE; i++) {
		if (s && strcmp(s, mode_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

int bh_hook_parse(const char *s, enum bh_hook *out)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "tc") == 0)
		*out = BH_HOOK_TC;
	else if (strcmp(s, "xdp") == 0)
		*out = BH_HOOK_XDP;
	else
		return -EINVAL;
	return 0;
}

static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int bh_ip_parse(const char *s, struct bh_ip *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!s || !ip)
		return -EINVAL;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(ip->addr, v4mapped, 12);
		memcpy(ip->addr + 12, &a4, 4);
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		/* "::ffff:1.2.3.4" is an IPv4 address written the IPv6 way:
		 * store it the one way the data path compares. */
		memcpy(ip->addr, &a6, 16);
		ip->family = memcmp(ip->addr, v4mapped, 12) == 0 ? 4 : 6;
		return 0;
	}
	return -EINVAL;
}

const char *bh_addr_format(const __u8 addr[16], char *buf, size_t len)
{
	const char *r;

	if (memcmp(addr, v4mapped, 12) == 0)
		r = inet_ntop(AF_INET, addr + 12, buf, len);
	else
		r = inet_ntop(AF_INET6, addr, buf, len);
	if (!r && len)
		buf[0] = '\0';
	return buf;
}

const char *bh_ip_format(const struct bh_ip *ip, char *buf, size_t len)
{
	return bh_addr_format(ip->addr, buf, len);
}

/* Kubernetes label syntax: optional DNS-subdomain prefix + "/", then a
 * name of at most 63 characters [A-Za-z0-9._-] that begins and ends
 * alphanumeric; values the same (may be empty). */
static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool label_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool label_prefix_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '.')
			return false;
	}
	return true;
}

int bh_label_parse(const char *s, struct bh_label *out)
{
	const char *eq, *slash, *name, *val;
	size_t klen, vlen;

	if (!s || !(eq = strchr(s, '=')))
		return -EINVAL;
	klen = eq - s;
	val = eq + 1;
	vlen = strlen(val);
	slash = memchr(s, '/', klen);
	name = slash ? slash + 1 : s;
	if (slash && !label_prefix_ok(s, slash - s))
		return -EINVAL;
	if (!label_name_ok(name, eq - name))
		return -EINVAL;
	if (vlen && !label_name_ok(val, vlen))
		return -EINVAL;
	if (klen > BH_NAME_MAX || vlen >= sizeof(out->value))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->key, s, klen);
	memcpy(out->value, val, vlen);
	return 0;
}
