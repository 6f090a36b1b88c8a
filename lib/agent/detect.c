// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Automatic quarantine rules: sliding windows per workload slot. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

struct bh_distinct {
	__u8 key[16];
	uint64_t ts_ms;
};

/* Per slot. Windows hold only what falls inside T seconds, so the arrays
 * never exceed the configured thresholds. */
struct bh_detect_slot {
	char id[2 * BH_NAME_MAX + 2];	/* "ns/name": a reused slot resets */
	bool fired;			/* quarantine decided, stop counting */
	uint64_t *denied;		/* ring of the last denied_count times */
	uint32_t denied_head, denied_nr;
	struct bh_distinct *ports, *peers;
	uint32_t nr_ports, nr_peers;
};

struct bh_detect {
	struct bh_detect_opts opts;
	struct bh_detect_slot *slots[BH_MAX_WORKLOADS];
};

const char *bh_detect_rule_name(enum bh_detect_rule r)
{
	switch (r) {
	case BH_DETECT_DENIED: return "denied-flows";
	case BH_DETECT_SCAN_PORTS: return "port-scan";
	case BH_DETECT_SCAN_PEERS: return "host-scan";
	case BH_DETECT_DENY_CIDR: return "deny-cidr";
	default: return "none";
	}
}

int bh_detect_new(const struct bh_detect_opts *opts, struct bh_detect **out)
{
	struct bh_detect *d;

	if (opts->denied_count > BH_DETECT_MAX_COUNT || opts->scan_ports > BH_DETECT_MAX_DISTINCT ||
	    opts->scan_peers > BH_DETECT_MAX_DISTINCT || opts->nr_deny_cidrs > BH_DETECT_MAX_CIDRS ||
	    opts->nr_exempt > BH_DETECT_MAX_EXEMPT || opts->nr_deny_cidrs < 0 || opts->nr_exempt < 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->opts = *opts;
	*out = d;
	return 0;
}

static void slot_free(struct bh_detect_slot *s)
{
	if (!s)
		return;
	free(s->denied);
	free(s->ports);
	free(s->peers);
	free(s);
}

void bh_detect_free(struct bh_detect *d)
{
	if (!d)
		return;
	for (int i = 0; i < BH_MAX_WORKLOADS; i++)
		slot_free(d->slots[i]);
	free(d);
}

void bh_detect_forget(struct bh_detect *d, uint32_t slot)
{
	if (slot >= BH_MAX_WORKLOADS)
		return;
	slot_free(d->slots[slot]);
	d->slots[slot] = NULL;
}

bool bh_detect_exempt(const struct bh_detect_opts *opts, const char *ns, const char *name)
{
	char id[2 * BH_NAME_MAX + 2];

	snprintf(id, sizeof(id), "%s/%s", ns, name);
	for (int i = 0; i < opts->nr_exempt; i++)
		if (fnmatch(opts->exempt[i], id, 0) == 0)
			return true;
	return false;
}

static struct bh_detect_slot *slot_get(struct bh_detect *d, const struct bh_detect_flow *f)
{
	struct bh_detect_slot *s = d->slots[f->slot];
	char id[sizeof(s->id)];

	snprintf(id, sizeof(id), "%s/%s", f->ns, f->name);
	if (s && strcmp(s->id, id) == 0)
		return s;
	slot_free(s);
	d->slots[f->slot] = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s->id, id, sizeof(id));
	if (d->opts.denied_count)
		s->denied = calloc(d->opts.denied_count, sizeof(*s->denied));
	if (d->opts.scan_ports)
		s->ports = calloc(d->opts.scan_ports, sizeof(*s->ports));
	if (d->opts.scan_peers)
		s->peers = calloc(d->opts.scan_peers, sizeof(*s->peers));
	if ((d->opts.denied_count && !s->denied) || (d->opts.scan_ports && !s->ports) ||
	    (d->opts.scan_peers && !s->peers)) {
		slot_free(s);
		return NULL;
	}
	d->slots[f->slot] = s;
	return s;
}

/* Add key at now to a window of at most max entries; returns the number of
 * distinct keys seen in the last window_ms. */
static uint32_t distinct_add(struct bh_distinct *set, uint32_t *nr, uint32_t max,
			     const __u8 key[16], uint64_t now, uint64_t window_ms)
{
	uint32_t n = 0;
	bool found = false;

	for (uint32_t i = 0; i < *nr; i++) {
		if (now >= set[i].ts_ms && now - set[i].ts_ms >= window_ms)
			continue;		/* expired: compact it away */
		if (memcmp(set[i].key, key, 16) == 0) {
			set[i].ts_ms = now;
			found = true;
		}
		set[n++] = set[i];
	}
	if (!found && n < max) {
		memcpy(set[n].key, key, 16);
		set[n].ts_ms = now;
		n++;
	}
	*nr = n;
	return n;
}

static int fire(struct bh_detect_slot *s, struct bh_detect_result *res,
		enum bh_detect_rule rule)
{
	s->fired = true;
	res->rule = rule;
	return 1;
}

static void cidr_str(const struct bh_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (c->addr.family == 4)
		inet_ntop(AF_INET, c->addr.addr + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, c->addr.addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, c->prefixlen);
}

int bh_detect_flow(struct bh_detect *d, const struct bh_detect_flow *f,
		   struct bh_detect_result *res)
{
	const struct bh_detect_opts *o = &d->opts;
	struct bh_detect_slot *s;

	res->rule = BH_DETECT_NONE;
	res->reason[0] = '\0';
	if (f->slot >= BH_MAX_WORKLOADS)
		return -EINVAL;
	if (f->dir != BH_DIR_EGRESS || f->verdict == BH_V_QUARANTINE)
		return 0;
	if (bh_detect_exempt(o, f->ns, f->name))
		return 0;
	s = slot_get(d, f);
	if (!s)
		return -ENOMEM;
	if (s->fired)
		return 0;

	for (int i = 0; i < o->nr_deny_cidrs; i++) {
		if (bh_cidr_has_addr(&o->deny_cidrs[i], f->peer)) {
			char buf[INET6_ADDRSTRLEN + 8];

			cidr_str(&o->deny_cidrs[i], buf, sizeof(buf));
			snprintf(res->reason, sizeof(res->reason),
				 "auto: flow to deny-listed %s (proto %u port %u)", buf,
				 f->proto, f->dport);
			return fire(s, res, BH_DETECT_DENY_CIDR);
		}
	}

	if (o->denied_count && f->verdict == BH_V_DENY) {
		uint64_t win = (uint64_t)o->denied_seconds * 1000;
		uint32_t n = o->denied_count;

		s->denied[s->denied_head] = f->ts_ms;
		s->denied_head = (s->denied_head + 1) % n;
		if (s->denied_nr < n)
			s->denied_nr++;
		/* full ring: the oldest of the last n is at head */
		if (s->denied_nr == n && f->ts_ms - s->denied[s->denied_head] < win)
		{
			snprintf(res->reason, sizeof(res->reason), "auto: %u denied flows in %us",
				 n, o->denied_seconds);
			return fire(s, res, BH_DETECT_DENIED);
		}
	}

	if (o->scan_ports) {
		__u8 key[16] = { 0 };

		key[0] = f->proto;
		key[1] = f->dport >> 8;
		key[2] = f->dport & 0xff;
		if (distinct_add(s->ports, &s->nr_ports, o->scan_ports, key, f->ts_ms,
				 (uint64_t)o->scan_seconds * 1000) >= o->scan_ports)
		{
			snprintf(res->reason, sizeof(res->reason),
				 "auto: port scan, %u distinct ports in %us", o->scan_ports,
				 o->scan_seconds);
			return fire(s, res, BH_DETECT_SCAN_PORTS);
		}
	}
	if (o->scan_peers) {
		if (distinct_add(s->peers, &s->nr_peers, o->scan_peers, f->peer, f->ts_ms,
				 (uint64_t)o->scan_seconds * 1000) >= o->scan_peers)
		{
			snprintf(res->reason, sizeof(res->reason),
				 "auto: host scan, %u distinct peers in %us", o->scan_peers,
				 o->scan_seconds);
			return fire(s, res, BH_DETECT_SCAN_PEERS);
		}
	}
	return 0;
}
