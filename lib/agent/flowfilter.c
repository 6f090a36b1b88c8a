// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow filters; see flowfilter.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_config.h"
#include "flowfilter.h"
#include "flowrec.h"

void bh_flow_filter_init(struct bh_flow_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = -1;
	f->port = -1;
}

void bh_flow_filter_free(struct bh_flow_filter *f)
{
	if (f->from.set && f->from.kind == BH_PEER_SPEC_SELECTOR)
		bh_selector_free(&f->from.sel);
	if (f->to.set && f->to.kind == BH_PEER_SPEC_SELECTOR)
		bh_selector_free(&f->to.sel);
	memset(f, 0, sizeof(*f));
}

static int fail(char *err, size_t len, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return -EINVAL;
}

/* A comma list of names, each one of names(i) for i < max. */
static int name_list(const char *list, char (*items)[24], int *nr, const char *(*names)(int),
		     int max, const char *what, char *err, size_t len)
{
	char buf[512], *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return fail(err, len, "list too long: '%s'", list);
	snprintf(buf, sizeof(buf), "%s", list);
	*nr = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < max && strcmp(t, names(i)); i++)
			;
		if (i == max) {
			char known[512] = "";

			for (int k = 0; k < max; k++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
					 k ? ", " : "", names(k));
			snprintf(err, len, "unknown %s '%s' (known: %s)", what, t, known);
			return -EINVAL;
		}
		if (*nr >= BH_FILTER_MAX_ITEMS)
			return fail(err, len, "at most 16 items in '%s'", list);
		snprintf(items[(*nr)++], sizeof(items[0]), "%s", t);
	}
	if (!*nr)
		return fail(err, len, "empty list '%s'", list);
	return 0;
}

static const char *verdict_i(int i)
{
	return bh_verdict_name((enum bh_verdict)i);
}

static const char *reason_i(int i)
{
	return bh_reason_name((enum bh_reason)i);
}

int bh_flow_filter_verdicts(struct bh_flow_filter *f, const char *list, char *err, size_t len)
{
	return name_list(list, f->verdicts, &f->nr_verdicts, verdict_i, BH_V_MAX, "verdict", err,
			 len);
}

int bh_flow_filter_reasons(struct bh_flow_filter *f, const char *list, char *err, size_t len)
{
	return name_list(list, f->reasons, &f->nr_reasons, reason_i, BH_R_MAX, "reason", err, len);
}

int bh_flow_filter_proto(struct bh_flow_filter *f, const char *s, char *err, size_t len)
{
	char *end;
	long v;

	if (!bh_proto_parse(s, &f->proto))
		return 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || v < 0 || v > 255)
		return fail(err, len, "expected tcp, udp, sctp, icmp, icmpv6 or 0..255, got '%s'", s);
	f->proto = (int)v;
	return 0;
}

int bh_flow_filter_port(struct bh_flow_filter *f, const char *s, char *err, size_t len)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 65535)
		return fail(err, len, "expected a port 0..65535, got '%s'", s);
	f->port = (int)v;
	return 0;
}

static bool looks_like_address(const char *s)
{
	/* digits and dots, or hex digits and colons: an IP or a CIDR */
	bool colon = strchr(s, ':') != NULL;

	for (const char *p = s; *p && *p != '/'; p++)
		if (!(isdigit((unsigned char)*p) || *p == '.' ||
		      (colon && (isxdigit((unsigned char)*p) || *p == ':'))))
			return false;
	return *s && *s != '/';
}

int bh_flow_filter_peer(struct bh_peer_spec *p, const char *s, char *err, size_t len)
{
	memset(p, 0, sizeof(*p));
	if (looks_like_address(s)) {
		char addr[INET6_ADDRSTRLEN + 1];
		const char *slash = strchr(s, '/');
		struct bh_ip ip;
		int max;

		snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
		if (bh_ip_parse(addr, &ip))
			return fail(err, len, "bad address in '%s'", s);
		max = strchr(addr, ':') ? 128 : 32;
		p->prefix = max;
		if (slash) {
			char *end;
			long v = strtol(slash + 1, &end, 10);

			if (!slash[1] || *end || v < 0 || v > max)
				return fail(err, len, "bad prefix length in '%s'", s);
			p->prefix = (int)v;
		}
		memcpy(p->net, ip.addr, 16);
		if (max == 32)
			p->prefix += 96;
		p->kind = BH_PEER_SPEC_CIDR;
		p->set = true;
		return 0;
	}
	if (strchr(s, '/') && !strpbrk(s, "=!( ,")) {
		const char *slash = strchr(s, '/');

		if (slash == s || !slash[1] || strchr(slash + 1, '/') ||
		    (size_t)(slash - s) > BH_NAME_MAX || strlen(slash + 1) > BH_NAME_MAX)
			return fail(err, len, "expected NAMESPACE/NAME, got '%s'", s);
		snprintf(p->ns, sizeof(p->ns), "%.*s", (int)(slash - s), s);
		snprintf(p->name, sizeof(p->name), "%s", slash + 1);
		p->kind = BH_PEER_SPEC_WORKLOAD;
		p->set = true;
		return 0;
	}
	{
		char msg[256];
		int ret = bh_selector_parse_string(s, &p->sel, msg, sizeof(msg));

		if (ret == -ENOMEM)
			return ret;
		if (ret) {
			snprintf(err, len, "'%s' is no NS/NAME, address or CIDR, nor a label"
				 " selector: %s", s, msg);
			return -EINVAL;
		}
	}
	p->kind = BH_PEER_SPEC_SELECTOR;
	p->set = true;
	return 0;
}

/* "5m" ago, or "2024-05-01T12:00:00[.fff](Z|+hh:mm)". */
int bh_flow_filter_time(int64_t *out_ms, const char *s, int64_t now_ms, char *err, size_t len)
{
	struct tm tm = { 0 };
	uint64_t d;
	const char *p;
	int64_t ms = 0, off = 0;

	if (!bh_parse_duration_ms(s, &d)) {
		*out_ms = now_ms - (int64_t)d;
		return 0;
	}
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return fail(err, len, "expected a duration (5m, 2h) or a time such as"
			    " 2024-05-01T12:00:00Z, got '%s'", s);
	if (*p == '.') {
		int digits = 0;

		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		while (digits++ < 3)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
		   isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
		   isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return fail(err, len, "time '%s' needs a zone: Z or +hh:mm", s);
	}
	if (*p)
		return fail(err, len, "trailing characters in time '%s'", s);
	*out_ms = ((int64_t)timegm(&tm) - off) * 1000 + ms;
	return 0;
}

static bool in_list(const char (*items)[24], int nr, const char *v)
{
	if (!nr)
		return true;
	for (int i = 0; i < nr; i++)
		if (v && !strcmp(items[i], v))
			return true;
	return false;
}

static bool endpoint_match(const struct bh_peer_spec *p, const struct bh_flow_endpoint *e)
{
	struct bh_ip ip;

	if (!p->set)
		return true;
	switch (p->kind) {
	case BH_PEER_SPEC_WORKLOAD:
		return e->ns && e->name && !strcmp(e->ns, p->ns) && !strcmp(e->name, p->name);
	case BH_PEER_SPEC_SELECTOR:
		return e->ns && bh_selector_match(&p->sel, e->nr_labels, e->labels);
	case BH_PEER_SPEC_CIDR:
		if (!e->addr || bh_ip_parse(e->addr, &ip))
			return false;
		for (int bit = 0; bit < p->prefix; bit++) {
			int b = bit / 8, m = 0x80 >> (bit % 8);

			if ((ip.addr[b] & m) != (p->net[b] & m))
				return false;
		}
		return true;
	}
	return false;
}

/* "shop/db" matches every rule of that policy, "shop/db ingress[0]" one. */
static bool rule_match(const char *want, const char *rule)
{
	size_t n = strlen(want);

	if (!rule)
		return false;
	return !strcmp(want, rule) || (!strncmp(want, rule, n) && rule[n] == ' ');
}

bool bh_flow_filter_match(const struct bh_flow_filter *f, const struct bh_flow_match *m)
{
	if (f->ns && strcmp(f->ns, m->ns))
		return false;
	if (f->wl_ns && (strcmp(f->wl_ns, m->ns) || strcmp(f->wl_name, m->name)))
		return false;
	if (!in_list(f->verdicts, f->nr_verdicts, m->verdict) ||
	    !in_list(f->reasons, f->nr_reasons, m->reason))
		return false;
	if (f->proto >= 0 && f->proto != m->proto)
		return false;
	if (f->port >= 0 && (m->proto == 1 || m->proto == 58 ||
			     (m->sport != f->port && m->dport != f->port)))
		return false;
	if (!endpoint_match(&f->from, &m->from) || !endpoint_match(&f->to, &m->to))
		return false;
	if (f->since_ms && m->last_ms < f->since_ms)
		return false;
	if (f->until_ms && m->first_ms > f->until_ms)
		return false;
	if (f->rule && !rule_match(f->rule, m->rule))
		return false;
	return true;
}
