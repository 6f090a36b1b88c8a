// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Automatic quarantine rules: sliding windows per workload slot. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

_Static_assert(sizeof(struct bh_detect_counted) == 56, "the size docs/agent.md states");

/* One rule's counted flows. denied_flows: a ring of the last `max`
 * counted flows. scan: a set of at most `max` distinct keys, each held by
 * the flow that last counted for it (the key is derived from the flow:
 * protocol and port, or the peer address). */
struct bh_window {
	struct bh_detect_counted *c;
	uint32_t head, nr, max;
	bool latched;			/* alert given: silent until quiet */
	uint64_t last_ts;		/* last flow that counted while latched */
};

/* Per slot. Windows hold only what falls inside T seconds, so the arrays
 * never exceed the configured thresholds. */
struct bh_detect_slot {
	char id[2 * BH_NAME_MAX + 2];	/* "ns/name": a reused slot resets */
	bool fired;			/* quarantine decided, stop counting */
	bool would;			/* would-quarantine given: quarantine
					 * rules silent until quiet for hold */
	enum bh_mode would_mode;
	uint64_t would_last_ts;
	struct bh_window win[BH_DETECT_RULES];	/* by rule; deny_cidrs: latch only */
};

struct bh_detect {
	struct bh_detect_opts opts;
	uint64_t hold_ms;		/* would-quarantine latch */
	struct bh_detect_counted *scratch[BH_DETECT_RULES];	/* decisions, by rule */
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

const char *bh_detect_rule_key(enum bh_detect_rule r)
{
	switch (r) {
	case BH_DETECT_DENIED: return "quarantine.denied_flows";
	case BH_DETECT_SCAN_PORTS: return "quarantine.scan.distinct_ports";
	case BH_DETECT_SCAN_PEERS: return "quarantine.scan.distinct_peers";
	case BH_DETECT_DENY_CIDR: return "quarantine.deny_cidrs";
	default: return "none";
	}
}

const char *bh_detect_outcome_name(enum bh_detect_outcome o)
{
	switch (o) {
	case BH_DETECT_QUARANTINE: return "quarantine";
	case BH_DETECT_WOULD_QUARANTINE: return "would-quarantine";
	case BH_DETECT_ALERT: return "alert";
	default: return "none";
	}
}

int bh_detect_action_parse(const char *s, enum bh_detect_action *out)
{
	if (!strcmp(s, "alert"))
		*out = BH_DETECT_ACTION_ALERT;
	else if (!strcmp(s, "quarantine"))
		*out = BH_DETECT_ACTION_QUARANTINE;
	else
		return -EINVAL;
	return 0;
}

const char *bh_detect_why_str(__u8 why, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", why & BH_DETECT_WHY_DENIED ? "denied" : "",
		 (why & BH_DETECT_WHY_DENIED) && (why & BH_DETECT_WHY_BASELINE) ? "+" : "",
		 why & BH_DETECT_WHY_BASELINE ? "outside-baseline" : "",
		 (why & (BH_DETECT_WHY_DENIED | BH_DETECT_WHY_BASELINE)) &&
		 (why & BH_DETECT_WHY_LISTED) ? "+" : "",
		 why & BH_DETECT_WHY_LISTED ? "deny-listed" : "");
	return buf;
}

enum bh_detect_action bh_detect_rule_action(const struct bh_detect_opts *o,
					    enum bh_detect_rule r)
{
	enum bh_detect_action a;

	switch (r) {
	case BH_DETECT_DENIED: a = o->denied_action; break;
	case BH_DETECT_SCAN_PORTS:
	case BH_DETECT_SCAN_PEERS: a = o->scan_action; break;
	default: a = o->cidr_action; break;
	}
	if (a == BH_DETECT_ACTION_DEFAULT)
		a = r == BH_DETECT_SCAN_PORTS || r == BH_DETECT_SCAN_PEERS ?
			BH_DETECT_ACTION_ALERT : BH_DETECT_ACTION_QUARANTINE;
	return a;
}

bool bh_detect_enabled(const struct bh_detect_opts *o)
{
	return o->denied_count || o->scan_ports || o->scan_peers || o->nr_deny_cidrs;
}

static uint32_t rule_threshold(const struct bh_detect_opts *o, enum bh_detect_rule r)
{
	switch (r) {
	case BH_DETECT_DENIED: return o->denied_count;
	case BH_DETECT_SCAN_PORTS: return o->scan_ports;
	case BH_DETECT_SCAN_PEERS: return o->scan_peers;
	case BH_DETECT_DENY_CIDR: return o->nr_deny_cidrs ? 1 : 0;
	default: return 0;
	}
}

static uint64_t rule_window_ms(const struct bh_detect_opts *o, enum bh_detect_rule r)
{
	switch (r) {
	case BH_DETECT_DENIED: return (uint64_t)o->denied_seconds * 1000;
	case BH_DETECT_SCAN_PORTS:
	case BH_DETECT_SCAN_PEERS: return (uint64_t)o->scan_seconds * 1000;
	default: return BH_DETECT_CIDR_HOLD_MS;
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
	d->hold_ms = BH_DETECT_MIN_HOLD_MS;
	for (int r = BH_DETECT_DENIED; r < BH_DETECT_RULES; r++) {
		uint32_t n = rule_threshold(opts, r);

		if (!n)
			continue;
		if (bh_detect_rule_action(opts, r) == BH_DETECT_ACTION_QUARANTINE &&
		    rule_window_ms(opts, r) > d->hold_ms)
			d->hold_ms = rule_window_ms(opts, r);
		d->scratch[r] = calloc(n, sizeof(*d->scratch[r]));
		if (!d->scratch[r]) {
			bh_detect_free(d);
			return -ENOMEM;
		}
	}
	*out = d;
	return 0;
}

static void slot_free(struct bh_detect_slot *s)
{
	if (!s)
		return;
	for (int r = 0; r < BH_DETECT_RULES; r++)
		free(s->win[r].c);
	free(s);
}

void bh_detect_free(struct bh_detect *d)
{
	if (!d)
		return;
	for (int i = 0; i < BH_MAX_WORKLOADS; i++)
		slot_free(d->slots[i]);
	for (int r = 0; r < BH_DETECT_RULES; r++)
		free(d->scratch[r]);
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

	if (!opts->nr_exempt)
		return false;
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
	for (int r = BH_DETECT_DENIED; r < BH_DETECT_RULES; r++) {
		uint32_t n = r == BH_DETECT_DENY_CIDR ? 0 : rule_threshold(&d->opts, r);

		if (!n)
			continue;
		s->win[r].max = n;
		s->win[r].c = calloc(n, sizeof(*s->win[r].c));
		if (!s->win[r].c) {
			slot_free(s);
			return NULL;
		}
	}
	d->slots[f->slot] = s;
	return s;
}

static void counted_of(const struct bh_detect_flow *f, __u8 why, struct bh_detect_counted *c)
{
	memset(c, 0, sizeof(*c));
	c->ts_ms = f->ts_ms;
	memcpy(c->src, f->src, 16);
	memcpy(c->dst, f->peer, 16);
	c->sport = f->sport;
	c->dport = f->dport;
	c->family = f->family;
	c->proto = f->proto;
	c->verdict = (__u8)f->verdict;
	c->mode = (__u8)f->mode;
	c->why = why;
}

/* The key a scan rule counts distinct values of. */
static bool same_key(enum bh_detect_rule r, const struct bh_detect_counted *a,
		     const struct bh_detect_counted *b)
{
	if (r == BH_DETECT_SCAN_PORTS)
		return a->proto == b->proto && a->dport == b->dport;
	return memcmp(a->dst, b->dst, 16) == 0;
}

/* Add c to a distinct set (dropping entries older than window_ms);
 * returns the number of distinct keys in the window. */
static uint32_t distinct_add(enum bh_detect_rule r, struct bh_window *w,
			     const struct bh_detect_counted *c, uint64_t window_ms)
{
	uint32_t n = 0;
	bool found = false;

	for (uint32_t i = 0; i < w->nr; i++) {
		if (c->ts_ms >= w->c[i].ts_ms && c->ts_ms - w->c[i].ts_ms >= window_ms)
			continue;		/* expired: compact it away */
		if (same_key(r, &w->c[i], c)) {
			w->c[i] = *c;		/* the latest flow holds the key */
			found = true;
		}
		w->c[n++] = w->c[i];
	}
	if (!found && n < w->max)
		w->c[n++] = *c;
	w->nr = n;
	return n;
}

/* Add c to the denied ring; true when it holds `max` flows within the
 * window. */
static bool ring_add(struct bh_window *w, const struct bh_detect_counted *c, uint64_t window_ms)
{
	w->c[w->head] = *c;
	w->head = (w->head + 1) % w->max;
	if (w->nr < w->max)
		w->nr++;
	/* full ring: the oldest of the last max is at head */
	return w->nr == w->max && c->ts_ms - w->c[w->head % w->max].ts_ms < window_ms;
}

static void window_clear(struct bh_window *w)
{
	w->head = w->nr = 0;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct bh_detect_counted *x = a, *y = b;

	return x->ts_ms < y->ts_ms ? -1 : x->ts_ms > y->ts_ms;
}

/* The action in force: the rule's, or for deny_cidrs that of the CIDR
 * that matched when it names one. */
static enum bh_detect_action action_of(const struct bh_detect_opts *o, enum bh_detect_rule r,
				       int cidr)
{
	if (r == BH_DETECT_DENY_CIDR && cidr >= 0 && o->deny_cidr_actions[cidr])
		return o->deny_cidr_actions[cidr];
	return bh_detect_rule_action(o, r);
}

static enum bh_detect_outcome outcome_of(const struct bh_detect_opts *o,
					 enum bh_detect_action act, enum bh_mode mode)
{
	if (act == BH_DETECT_ACTION_ALERT)
		return BH_DETECT_ALERT;
	/* an unknown mode value counts as enforce, as in the data path */
	if (o->dry_run || mode == BH_MODE_LEARN || mode == BH_MODE_MONITOR)
		return BH_DETECT_WOULD_QUARANTINE;
	return BH_DETECT_QUARANTINE;
}

/* Latches: is rule r silent for this flow? Keeps a latch alive while
 * flows keep counting, lifts it after a quiet period. */
static bool latched(struct bh_detect *d, struct bh_detect_slot *s, enum bh_detect_rule r,
		    enum bh_detect_action act, const struct bh_detect_flow *f)
{
	if (act == BH_DETECT_ACTION_ALERT) {
		struct bh_window *w = &s->win[r];

		if (!w->latched)
			return false;
		if (f->ts_ms - w->last_ts >= rule_window_ms(&d->opts, r)) {
			w->latched = false;
			window_clear(w);
			return false;
		}
		w->last_ts = f->ts_ms;
		return true;
	}
	if (!s->would)
		return false;
	/* a would-quarantine simulates a quarantine of this mode; another
	 * mode (enforce after learning) starts afresh */
	if (f->ts_ms - s->would_last_ts >= d->hold_ms || f->mode != s->would_mode) {
		s->would = false;
		for (int i = BH_DETECT_DENIED; i < BH_DETECT_RULES; i++)
			if (bh_detect_rule_action(&d->opts, i) == BH_DETECT_ACTION_QUARANTINE)
				window_clear(&s->win[i]);
		return false;
	}
	s->would_last_ts = f->ts_ms;
	return true;
}

static void fill_result(struct bh_detect *d, enum bh_detect_rule r, enum bh_detect_action act,
			const struct bh_detect_flow *f, uint32_t nr, struct bh_detect_result *res)
{
	const struct bh_detect_opts *o = &d->opts;

	res->rule = r;
	res->outcome = outcome_of(o, act, f->mode);
	res->mode = f->mode;
	res->dry_run = o->dry_run && res->outcome == BH_DETECT_WOULD_QUARANTINE &&
		       f->mode != BH_MODE_LEARN && f->mode != BH_MODE_MONITOR;
	res->threshold = rule_threshold(o, r);
	res->window_s = r == BH_DETECT_DENY_CIDR ? 0 : (uint32_t)(rule_window_ms(o, r) / 1000);
	res->counted = d->scratch[r];
	res->nr_counted = nr;
	res->nr_denied = res->nr_baseline = res->nr_listed = 0;
	for (uint32_t i = 0; i < nr; i++) {
		res->nr_denied += !!(d->scratch[r][i].why & BH_DETECT_WHY_DENIED);
		res->nr_baseline += !!(d->scratch[r][i].why & BH_DETECT_WHY_BASELINE);
		res->nr_listed += !!(d->scratch[r][i].why & BH_DETECT_WHY_LISTED);
	}
}

/* The rule fired: latch, then describe it. */
static void fire(struct bh_detect *d, struct bh_detect_slot *s, enum bh_detect_rule r,
		 enum bh_detect_action act, const struct bh_detect_flow *f,
		 struct bh_detect_result *res)
{
	struct bh_window *w = &s->win[r];
	uint32_t nr = 0;

	if (r == BH_DETECT_DENY_CIDR) {
		nr = 1;		/* scratch[r][0] filled by the caller */
	} else if (r == BH_DETECT_DENIED) {
		for (uint32_t i = 0; i < w->nr; i++)
			d->scratch[r][nr++] = w->c[(w->head + i) % w->max];
	} else {
		memcpy(d->scratch[r], w->c, w->nr * sizeof(*w->c));
		nr = w->nr;
		qsort(d->scratch[r], nr, sizeof(*w->c), cmp_ts);
	}
	fill_result(d, r, act, f, nr, res);
	window_clear(w);
	switch (res->outcome) {
	case BH_DETECT_QUARANTINE:
		s->fired = true;
		break;
	case BH_DETECT_WOULD_QUARANTINE:
		s->would = true;
		s->would_mode = f->mode;
		s->would_last_ts = f->ts_ms;
		for (int i = BH_DETECT_DENIED; i < BH_DETECT_RULES; i++)
			if (bh_detect_rule_action(&d->opts, i) == BH_DETECT_ACTION_QUARANTINE)
				window_clear(&s->win[i]);
		break;
	default:
		w->latched = true;
		w->last_ts = f->ts_ms;
		break;
	}
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
		   struct bh_detect_result res[BH_DETECT_RULES])
{
	const struct bh_detect_opts *o = &d->opts;
	struct bh_detect_counted c;
	struct bh_detect_slot *s;
	int n = 0, listed = -1;
	__u8 why = 0;

	if (f->slot >= BH_MAX_WORKLOADS)
		return -EINVAL;
	if (f->dir != BH_DIR_EGRESS || f->verdict == BH_V_QUARANTINE || !bh_detect_enabled(o))
		return 0;
	if (f->verdict == BH_V_DENY || f->verdict == BH_V_WOULD_DENY)
		why |= BH_DETECT_WHY_DENIED;
	/* learning explains everything policy allows */
	if (f->outside_baseline && f->mode != BH_MODE_LEARN)
		why |= BH_DETECT_WHY_BASELINE;
	for (int i = 0; i < o->nr_deny_cidrs && listed < 0; i++)
		if (bh_cidr_has_addr(&o->deny_cidrs[i], f->peer))
			listed = i;
	if (!why && listed < 0)
		return 0;	/* explained: counts towards nothing */
	if (bh_detect_exempt(o, f->ns, f->name))
		return 0;
	s = slot_get(d, f);
	if (!s)
		return -ENOMEM;

	if (listed >= 0 && !s->fired &&
	    !latched(d, s, BH_DETECT_DENY_CIDR, action_of(o, BH_DETECT_DENY_CIDR, listed), f)) {
		char buf[INET6_ADDRSTRLEN + 8];

		counted_of(f, why | BH_DETECT_WHY_LISTED, &d->scratch[BH_DETECT_DENY_CIDR][0]);
		fire(d, s, BH_DETECT_DENY_CIDR, action_of(o, BH_DETECT_DENY_CIDR, listed), f, &res[n]);
		cidr_str(&o->deny_cidrs[listed], buf, sizeof(buf));
		snprintf(res[n].reason, sizeof(res[n].reason),
			 "auto: flow to deny-listed %s (proto %u port %u)", buf, f->proto, f->dport);
		n++;
	}
	if (!why)
		return n;
	counted_of(f, why, &c);

	if (o->denied_count && (why & BH_DETECT_WHY_DENIED) && !s->fired &&
	    !latched(d, s, BH_DETECT_DENIED, action_of(o, BH_DETECT_DENIED, -1), f) &&
	    ring_add(&s->win[BH_DETECT_DENIED], &c, rule_window_ms(o, BH_DETECT_DENIED))) {
		fire(d, s, BH_DETECT_DENIED, action_of(o, BH_DETECT_DENIED, -1), f, &res[n]);
		snprintf(res[n].reason, sizeof(res[n].reason), "auto: %u denied flows in %us",
			 o->denied_count, o->denied_seconds);
		n++;
	}
	if (o->scan_ports && !s->fired &&
	    !latched(d, s, BH_DETECT_SCAN_PORTS, action_of(o, BH_DETECT_SCAN_PORTS, -1), f) &&
	    distinct_add(BH_DETECT_SCAN_PORTS, &s->win[BH_DETECT_SCAN_PORTS], &c,
			 rule_window_ms(o, BH_DETECT_SCAN_PORTS)) >= o->scan_ports) {
		fire(d, s, BH_DETECT_SCAN_PORTS, action_of(o, BH_DETECT_SCAN_PORTS, -1), f, &res[n]);
		snprintf(res[n].reason, sizeof(res[n].reason),
			 "auto: port scan, %u distinct ports in %us", o->scan_ports, o->scan_seconds);
		n++;
	}
	if (o->scan_peers && !s->fired &&
	    !latched(d, s, BH_DETECT_SCAN_PEERS, action_of(o, BH_DETECT_SCAN_PEERS, -1), f) &&
	    distinct_add(BH_DETECT_SCAN_PEERS, &s->win[BH_DETECT_SCAN_PEERS], &c,
			 rule_window_ms(o, BH_DETECT_SCAN_PEERS)) >= o->scan_peers) {
		fire(d, s, BH_DETECT_SCAN_PEERS, action_of(o, BH_DETECT_SCAN_PEERS, -1), f, &res[n]);
		snprintf(res[n].reason, sizeof(res[n].reason),
			 "auto: host scan, %u distinct peers in %us", o->scan_peers, o->scan_seconds);
		n++;
	}
	return n;
}
