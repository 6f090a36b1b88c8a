// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow record decoding with cached workload and rule lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowrec.h"
#include "strbuf.h"

#define RULE_CACHE	4096	/* direct-mapped by rule id */

struct wl_entry {
	int64_t fetched_ms;	/* 0: never */
	bool present;
	struct bh_workload_info info;
};

struct rule_entry {
	__u32 id;
	int64_t fetched_ms;
	char desc[256];
};

struct bh_flowrec {
	struct bh_flowrec_opts opts;
	int64_t offset_ns;	/* wall - monotonic */
	/* lazily allocated: a workload info is ~20 KiB with its labels */
	struct wl_entry *wl[BH_MAX_WORKLOADS];
	struct rule_entry *rules;
};

static int ctx_workload(void *arg, __u32 slot, struct bh_workload_info *out)
{
	return bh_workload_get_slot(arg, slot, out);
}

static int ctx_rule(void *arg, __u32 id, char *buf, size_t len)
{
	return bh_rule_describe(arg, id, buf, len);
}

void bh_flowrec_ctx_resolver(struct bh_ctx *ctx, struct bh_flowrec_resolver *r)
{
	r->workload_by_slot = ctx_workload;
	r->rule_describe = ctx_rule;
	r->arg = ctx;
}

static int64_t ts_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	return ts_ns(CLOCK_MONOTONIC) / 1000000;
}

void bh_flowrec_tick(struct bh_flowrec *fr)
{
	fr->offset_ns = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_MONOTONIC);
}

int64_t bh_flowrec_wall_ms(const struct bh_flowrec *fr, uint64_t mono_ns)
{
	return ((int64_t)mono_ns + fr->offset_ns) / 1000000;
}

int bh_flowrec_new(const struct bh_flowrec_opts *opts, struct bh_flowrec **out)
{
	struct bh_flowrec *fr = calloc(1, sizeof(*fr));

	if (!fr)
		return -ENOMEM;
	fr->rules = calloc(RULE_CACHE, sizeof(*fr->rules));
	if (!fr->rules) {
		free(fr);
		return -ENOMEM;
	}
	fr->opts = *opts;
	if (!fr->opts.ttl_ms)
		fr->opts.ttl_ms = 2000;
	bh_flowrec_tick(fr);
	*out = fr;
	return 0;
}

void bh_flowrec_free(struct bh_flowrec *fr)
{
	if (!fr)
		return;
	for (int i = 0; i < BH_MAX_WORKLOADS; i++)
		free(fr->wl[i]);
	free(fr->rules);
	free(fr);
}

void bh_flowrec_invalidate(struct bh_flowrec *fr)
{
	for (int i = 0; i < BH_MAX_WORKLOADS; i++)
		if (fr->wl[i])
			fr->wl[i]->fetched_ms = 0;
	for (int i = 0; i < RULE_CACHE; i++)
		fr->rules[i].fetched_ms = 0;
}

const struct bh_workload_info *bh_flowrec_workload(struct bh_flowrec *fr, __u32 slot)
{
	struct wl_entry *e;
	int64_t now;

	if (slot >= BH_MAX_WORKLOADS || !fr->opts.resolver.workload_by_slot)
		return NULL;
	e = fr->wl[slot];
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		fr->wl[slot] = e;
	}
	now = mono_ms();
	if (!e->fetched_ms || now - e->fetched_ms >= (int64_t)fr->opts.ttl_ms) {
		int err = fr->opts.resolver.workload_by_slot(fr->opts.resolver.arg, slot, &e->info);

		/* a store error (busy) keeps the last answer rather than none */
		if (err == 0 || err == -ENOENT || !e->fetched_ms)
			e->present = err == 0;
		e->fetched_ms = now;
	}
	return e->present ? &e->info : NULL;
}

/* IPv4-mapped addresses are most of what the decoder sees; glibc's
 * inet_ntop formats them with sprintf. Same text, without it. */
static void addr_format(const __u8 a[16], char *buf, size_t len)
{
	static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char *p = buf;

	if (len < INET_ADDRSTRLEN || memcmp(a, v4mapped, 12)) {
		bh_addr_format(a, buf, len);
		return;
	}
	for (int i = 12; i < 16; i++) {
		unsigned int b = a[i];

		if (b >= 100)
			*p++ = (char)('0' + b / 100);
		if (b >= 10)
			*p++ = (char)('0' + b / 10 % 10);
		*p++ = (char)('0' + b % 10);
		*p++ = i < 15 ? '.' : '\0';
	}
}

static const char *rule_desc(struct bh_flowrec *fr, __u32 id)
{
	struct rule_entry *e;
	int64_t now;

	if (!id || !fr->opts.resolver.rule_describe)
		return "";
	e = &fr->rules[id % RULE_CACHE];
	now = mono_ms();
	if (e->id != id || !e->fetched_ms || now - e->fetched_ms >= (int64_t)fr->opts.ttl_ms) {
		if (fr->opts.resolver.rule_describe(fr->opts.resolver.arg, id, e->desc,
						    sizeof(e->desc)))
			snprintf(e->desc, sizeof(e->desc), "rule#%u", id);
		e->id = id;
		e->fetched_ms = now;
	}
	return e->desc;
}

const char *bh_proto_str(int proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	default:
		snprintf(buf, len, "%d", proto);
		return buf;
	}
}

int bh_proto_parse(const char *s, int *proto)
{
	static const struct { const char *n; int p; } t[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
	};
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcasecmp(s, t[i].n)) {
			*proto = t[i].p;
			return 0;
		}
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 255)
		return -EINVAL;
	*proto = (int)v;
	return 0;
}

int bh_flowrec_decode_flow(struct bh_flowrec *fr, const struct bh_flow *f,
			   struct bh_flow_view *v)
{
	const struct bh_workload_info *wl = bh_flowrec_workload(fr, f->slot);
	const __u8 *peer = bh_flow_peer_addr(f);

	v->wl = wl;
	if (wl) {
		bh_str_copy(v->ns, sizeof(v->ns), wl->ns);
		bh_str_copy(v->name, sizeof(v->name), wl->name);
	} else {
		strcpy(v->ns, "?");
		snprintf(v->name, sizeof(v->name), "slot-%u", f->slot);
	}
	v->dir = bh_dir_name(f->dir);
	v->family = f->family;
	v->proto = f->proto;
	addr_format(f->src, v->src, sizeof(v->src));
	addr_format(f->dst, v->dst, sizeof(v->dst));
	bh_str_copy(v->peer_addr, sizeof(v->peer_addr), peer == f->src ? v->src : v->dst);
	v->sport = f->sport;
	v->dport = f->dport;
	v->peer_identity = f->peer_identity;
	v->peer_wl = NULL;
	if (f->peer_identity >= BH_ID_WORKLOAD_BASE && f->peer_identity < BH_ID_CIDR_BASE)
		v->peer_wl = bh_flowrec_workload(fr, f->peer_identity - BH_ID_WORKLOAD_BASE);
	if (v->peer_wl)
		snprintf(v->peer, sizeof(v->peer), "%s/%s", v->peer_wl->ns, v->peer_wl->name);
	else
		bh_str_copy(v->peer, sizeof(v->peer), v->peer_addr);
	v->verdict = f->verdict;
	v->verdict_name = bh_verdict_name(f->verdict);
	v->reason = bh_reason_name(f->reason);
	bh_str_copy(v->rule, sizeof(v->rule), rule_desc(fr, f->rule_id));
	v->packets = f->packets;
	v->bytes = f->bytes;
	v->tcp_flags = f->tcp_flags;
	v->first_ms = bh_flowrec_wall_ms(fr, f->first_ns);
	v->last_ms = bh_flowrec_wall_ms(fr, f->last_ns);
	v->ended = f->ended;
	v->mode = f->mode;
	v->event = "";
	v->proc = f->proc;
	return 0;
}

int bh_flowrec_decode(struct bh_flowrec *fr, const struct bh_flow_record *r,
		      struct bh_flow_view *v)
{
	static const char *const events[] = { "new", "deny", "end" };
	struct bh_flow f = {
		.slot = r->slot, .family = r->family, .proto = r->proto, .dir = r->dir,
		.sport = r->sport, .dport = r->dport, .peer_identity = r->peer_identity,
		.verdict = r->verdict, .reason = r->reason, .tcp_flags = r->tcp_flags,
		.mode = r->mode, .rule_id = r->rule_id, .packets = r->packets,
		.bytes = r->bytes, .first_ns = r->ts_ns, .last_ns = r->ts_ns,
		.ended = r->event == BH_E_END,
	};

	memcpy(f.src, r->saddr, 16);
	memcpy(f.dst, r->daddr, 16);
	bh_flowrec_decode_flow(fr, &f, v);
	v->event = r->event < 3 ? events[r->event] : "unknown";
	return 0;
}
