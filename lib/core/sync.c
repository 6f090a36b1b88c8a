// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Store -> compiler -> kernel maps, in the order sync.h explains. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "config.h"
#include "host_addrs.h"
#include "maps.h"
#include "nft_sync.h"
#include "policy_slot.h"
#include "parse_common.h"
#include "store.h"
#include "sync.h"

struct bh_sync_plan {
	struct bh_stored_input in;	/* workloads, namespaces, policies */
	int *fds;			/* new inner map per workload, -1: none */
	struct bh_forensics forensics;
	bool compiled;
	struct bh_compile_output out;
	struct bh_nft_batch *nft;	/* backend = nftables: the whole table */
	__u32 fill_slot;		/* unread, filled in place; BH_MAX_WORKLOADS: none */
};

/* ------------------------------------------------------------ stable ids */
static int id_cidr(void *arg, const struct bh_cidr *c, __u32 *id)
{
	struct bh_ctx *ctx = arg;
	char buf[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 8];

	snprintf(key, sizeof(key), "%s/%d", bh_ip_format(&c->addr, buf, sizeof(buf)),
		 c->prefixlen);
	return bh_store_cidr_identity(bh_ctx_db(ctx), key, id);
}

static int id_rule(void *arg, const struct bh_policy *p, enum bh_dir dir, int index, __u32 *id)
{
	struct bh_ctx *ctx = arg;

	return bh_store_rule_id(bh_ctx_db(ctx), p->ns, p->name, dir, index, id);
}

/* --------------------------------------------------------------- forensics */
/* "PORTNUM" in 0..65535, the whole string. */
static int parse_num(const char *s, const char *end, unsigned *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* PROTO[/PORT[-END]], e.g. tcp, tcp/22, udp/5000-5010 (case-insensitive). */
static int parse_port(const char *s, struct bh_port *out)
{
	static const struct { const char *name; __u8 proto; } protos[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	};
	const char *slash = strchr(s, '/'), *dash;
	size_t plen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned lo, hi;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == plen && !strncasecmp(s, protos[i].name, plen))
			break;
	if (i == sizeof(protos) / sizeof(protos[0]))
		return -EINVAL;
	out->proto = protos[i].proto;
	if (!slash)
		return 0;
	s = slash + 1;
	dash = strchr(s, '-');
	if (parse_num(s, dash ? dash : s + strlen(s), &lo))
		return -EINVAL;
	hi = lo;
	if (dash && (parse_num(dash + 1, dash + 1 + strlen(dash + 1), &hi) || hi < lo))
		return -EINVAL;
	out->has_port = true;
	out->port = lo;
	out->end_port = hi;
	return 0;
}

/* The keys themselves are read (and unknown keys refused) by lib/core/config.c;
 * this checks the forensics values, which need the policy's parsers. */
int bh_forensics_load(struct bh_ctx *ctx, struct bh_forensics *out)
{
	const struct bh_config_entry *e;
	const struct bh_config *cfg;
	int err;

	memset(out, 0, sizeof(*out));
	err = bh_ctx_config(ctx, &cfg);
	if (err)
		return err;
	e = bh_config_next(cfg, "forensics.cidr", NULL);
	if (e) {
		if (bh_cidr_parse(e->value, &out->cidr)) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.cidr: bad CIDR"
					       " '%s'", cfg->path, e->line, e->value);
			goto out;
		}
		out->enabled = true;
	}
	for (e = NULL; (e = bh_config_next(cfg, "forensics.port", e));) {
		struct bh_port *n;

		if (!out->enabled) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.port: needs"
					       " forensics.cidr", cfg->path, e->line);
			goto out;
		}
		n = realloc(out->ports, (out->nr_ports + 1) * sizeof(*n));
		if (!n) {
			err = bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
			goto out;
		}
		out->ports = n;
		if (parse_port(e->value, &out->ports[out->nr_ports])) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.port: expected"
					       " PROTO[/PORT[-END]], got '%s'", cfg->path, e->line,
					       e->value);
			goto out;
		}
		out->nr_ports++;
	}
out:
	if (err)
		bh_forensics_free(out);
	return err;
}

void bh_forensics_free(struct bh_forensics *f)
{
	free(f->ports);
	memset(f, 0, sizeof(*f));
}

/* ---------------------------------------------------------------- prepare */
void bh_sync_plan_free(struct bh_sync_plan *p)
{
	if (!p)
		return;
	for (int i = 0; p->fds && i < p->in.nr_w; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	free(p->fds);
	bh_nft_sync_free(p->nft);
	bh_stored_input_free(&p->in);
	bh_forensics_free(&p->forensics);
	if (p->compiled)
		bh_compile_output_free(&p->out);
	free(p);
}

static int compile(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	struct bh_compile_input in;
	struct bh_policy_error perr = { 0 };
	char msg[768];
	int err;

	struct bh_ip *host = NULL;

	bh_stored_input_view(&p->in, &in);
	in.ids = (struct bh_compile_ids){ .cidr_identity = id_cidr, .rule_id = id_rule, .arg = ctx };
	in.forensics = p->forensics;
	/* the `host` peer class: the node's addresses as they are now */
	err = bh_host_addrs(&host, &in.nr_host_addrs);
	if (err)
		return bh_ctx_set_error(ctx, err, false, "cannot list the node's addresses: %s",
					strerror(-err));
	in.host_addrs = host;
	err = bh_compile(&in, &p->out, &perr);
	free(host);
	if (err)
		return bh_ctx_set_error(ctx, err, err == -EINVAL || err == -E2BIG,
					"cannot compile policies: %s",
					bh_policy_error_format(&perr, msg, sizeof(msg)));
	p->compiled = true;
	if (p->out.nr_workloads != p->in.nr_w)
		return bh_ctx_set_error(ctx, -EPROTO, false, "compiler returned %d workloads, not %d",
					p->out.nr_workloads, p->in.nr_w);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(&((const struct bh_policy_entry *)a)->key,
		      &((const struct bh_policy_entry *)b)->key, sizeof(struct bh_policy_key));
}

/* FNV-1a over the sorted entries, then a final mix: equal entry lists give
 * equal digests; the sync compares it with the one stored in the live map. */
static __u64 entries_digest(const struct bh_compiled_workload *cw)
{
	__u64 h = 0xcbf29ce484222325ULL ^ cw->nr;

	for (size_t i = 0; i < cw->nr; i++) {
		const __u8 *k = (const __u8 *)&cw->entries[i].key;
		const __u8 *v = (const __u8 *)&cw->entries[i].val;

		for (size_t j = 0; j < sizeof(struct bh_policy_key); j++)
			h = (h ^ k[j]) * 0x100000001b3ULL;
		for (size_t j = 0; j < sizeof(struct bh_policy_val); j++)
			h = (h ^ v[j]) * 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* Step 1, only for workloads whose compiled entries differ from what their
 * live map holds (its digest entry): an unchanged map is left alone, which
 * spares both the build and the swap (each swap waits for an RCU grace
 * period in the kernel). The slot of a workload being attached, which no
 * program reads yet, is filled in place where it can be (policy_slot.h):
 * no swap at all. */
static int build_maps(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	int err = 0;

	p->fds = malloc((p->in.nr_w ? p->in.nr_w : 1) * sizeof(int));
	if (!p->fds)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (int i = 0; i < p->in.nr_w; i++)
		p->fds[i] = -1;
	for (int i = 0; i < p->in.nr_w && !err; i++) {
		struct bh_compiled_workload *cw = &p->out.workloads[i];
		struct bh_policy_key dk;
		struct bh_policy_val dv;
		__u64 digest, live;

		if (p->in.w[i].quarantined)
			continue;	/* keeps the deny-all map */
		qsort(cw->entries, cw->nr, sizeof(*cw->entries), cmp_entry);
		digest = entries_digest(cw);
		if (!bh_maps_policy_digest(ctx, p->in.w[i].slot, &live) && live == digest)
			continue;
		if (p->in.w[i].slot == p->fill_slot) {
			bool done;

			err = bh_slot_fill(ctx, p->fill_slot, cw->entries, cw->nr, digest, &done);
			if (err)
				break;
			if (done)
				continue;
		}
		err = bh_maps_inner_create(ctx, cw->nr + 1, &p->fds[i]);
		for (size_t j = 0; j < cw->nr && !err; j++)
			err = bh_maps_inner_put(ctx, p->fds[i], &cw->entries[j].key,
						&cw->entries[j].val);
		bh_policy_digest_entry(digest, &dk, &dv);
		if (!err)
			err = bh_maps_inner_put(ctx, p->fds[i], &dk, &dv);
	}
	return err;
}

static int prepare(struct bh_ctx *ctx, __u32 fill_slot, struct bh_sync_plan **plan)
{
	struct bh_sync_plan *p;
	sqlite3 *db = bh_ctx_db(ctx);
	enum bh_backend be;
	int err;

	*plan = NULL;
	if (!db)
		return bh_ctx_set_error(ctx, -ENOENT, false, "no state store");
	err = bh_ctx_load(ctx);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	p->fill_slot = fill_slot;
	err = bh_stored_input_load(ctx, &p->in);
	if (err)
		goto fail;
	err = bh_forensics_load(ctx, &p->forensics);
	if (!err)
		err = compile(ctx, p);
	if (!err)
		err = bh_config_backend(ctx, &be);
	if (!err && be == BH_BACKEND_NFTABLES)
		err = bh_nft_sync_build(ctx, p->in.w, p->in.nr_w, &p->out, &p->nft);
	else if (!err)
		err = build_maps(ctx, p);
	if (err)
		goto fail;
	*plan = p;
	return 0;
fail:
	bh_sync_plan_free(p);
	return err;
}

int bh_sync_prepare(struct bh_ctx *ctx, struct bh_sync_plan **plan)
{
	return prepare(ctx, BH_MAX_WORKLOADS, plan);
}

/* ----------------------------------------------------------------- commit */
/* A map's live entries, sorted by key, to diff the compiled ones against:
 * only what changed is written, only what is stale is deleted. */
struct live_map {
	const char *name;
	size_t ksz, vsz, nr;
	__u8 *recs;		/* nr records of key then value */
};

static int cmp_rec(const void *a, const void *b, void *ksz)
{
	return memcmp(a, b, *(size_t *)ksz);
}

static void live_free(struct live_map *l)
{
	free(l->recs);
	l->recs = NULL;
	l->nr = 0;
}

static int live_load(struct bh_ctx *ctx, struct live_map *l)
{
	size_t rsz = l->ksz + l->vsz;
	void *keys, *vals;
	int err;

	err = bh_maps_dump(ctx, l->name, l->ksz, l->vsz, &keys, &vals, &l->nr);
	if (err)
		return err;
	l->recs = malloc(l->nr ? l->nr * rsz : 1);
	if (!l->recs) {
		free(keys);
		free(vals);
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	for (size_t i = 0; i < l->nr; i++) {
		memcpy(l->recs + i * rsz, (__u8 *)keys + i * l->ksz, l->ksz);
		memcpy(l->recs + i * rsz + l->ksz, (__u8 *)vals + i * l->vsz, l->vsz);
	}
	free(keys);
	free(vals);
	qsort_r(l->recs, l->nr, rsz, cmp_rec, &l->ksz);
	return 0;
}

/* The live value of key, or NULL. */
static const void *live_find(const struct live_map *l, const void *key)
{
	size_t lo = 0, hi = l->nr, rsz = l->ksz + l->vsz;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key, l->recs + mid * rsz, l->ksz);

		if (!c)
			return l->recs + mid * rsz + l->ksz;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool unchanged(const struct live_map *l, const void *key, const void *val)
{
	const void *cur = live_find(l, key);

	return cur && !memcmp(cur, val, l->vsz);
}

/* Delete the live keys that keep() rejects (the new state lacks them). */
static int live_prune(struct bh_ctx *ctx, const struct live_map *l,
		      bool (*keep)(const void *key, void *arg), void *arg)
{
	int fd = bh_map_fd(ctx, l->name);
	size_t rsz = l->ksz + l->vsz;

	if (fd < 0)
		return fd;
	for (size_t i = 0; i < l->nr; i++) {
		const void *k = l->recs + i * rsz;

		if (keep(k, arg))
			continue;
		if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
			return bh_ctx_set_error(ctx, -errno, false,
						"cannot delete a stale %s entry: %m", l->name);
	}
	return 0;
}

static bool ipcache_keep(const void *key, void *arg)
{
	const struct bh_compile_output *out = arg;
	size_t lo = 0, hi = out->nr_ipcache;

	/* sorted by key in commit, as the live map's records */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key, &out->ipcache[mid].key, sizeof(struct bh_ipcache_key));

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static bool deny_all_keep(const void *key, void *arg)
{
	const struct bh_compiled_workload *q = arg;
	const struct bh_policy_key *k = key;

	/* The quarantine marker stays even if the compiler left it out. */
	if (k->prefixlen == 8 && k->dir == BH_DIR_META)
		return true;
	for (size_t i = 0; i < q->nr; i++)
		if (!memcmp(key, &q->entries[i].key, sizeof(*k)))
			return true;
	return false;
}

static int cmp_ipcache_key(const void *a, const void *b)
{
	return memcmp(&((const struct bh_ipcache_entry *)a)->key,
		      &((const struct bh_ipcache_entry *)b)->key, sizeof(struct bh_ipcache_key));
}

static bool workload_keep(const void *key, void *arg)
{
	const struct bh_sync_plan *p = arg;
	__u32 ifindex = *(const __u32 *)key;

	for (int i = 0; i < p->in.nr_w; i++)
		if (p->in.w[i].ifindex == ifindex)
			return true;
	return false;
}

/* Step 3: every changed slot in one batch. */
static int swap_changed(struct bh_ctx *ctx, struct bh_sync_plan *p, bool *swapped)
{
	__u32 *slots = malloc((p->in.nr_w ? p->in.nr_w : 1) * sizeof(*slots));
	int *fds = malloc((p->in.nr_w ? p->in.nr_w : 1) * sizeof(*fds));
	int deny = bh_map_fd(ctx, BH_PIN_DENY_ALL), err;
	size_t n = 0;

	if (!slots || !fds) {
		free(slots);
		free(fds);
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	for (int i = 0; i < p->in.nr_w; i++) {
		swapped[i] = false;
		if (p->in.w[i].quarantined) {
			if (bh_maps_policy_is_quarantined(ctx, p->in.w[i].slot))
				continue;
			fds[n] = deny;
		} else if (p->fds[i] >= 0) {
			fds[n] = p->fds[i];
		} else {
			continue;
		}
		slots[n++] = p->in.w[i].slot;
		swapped[i] = true;
	}
	err = deny < 0 ? deny : bh_maps_policy_swap_many(ctx, n, slots, fds);
	free(slots);
	free(fds);
	return err;
}

/* Which flows to cut: WOULD_DENY entries of the chosen slots whose flow
 * the policy now in force denies. */
struct cut_arg {
	const struct bh_sync_plan *p;
	const bool *cut_slot;		/* by plan index */
};

static bool cut_denied(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg)
{
	const struct cut_arg *a = arg;
	const struct bh_sync_plan *p = a->p;
	bool orig_a = v->flags & BH_CT_F_ORIG_FIRST;
	const __u8 *init = orig_a ? k->addr_a : k->addr_b, *resp = orig_a ? k->addr_b : k->addr_a;
	struct bh_eval_result r;
	int i;

	for (i = 0; i < p->in.nr_w; i++)
		if (p->in.w[i].slot == v->slot)
			break;
	if (i == p->in.nr_w || !a->cut_slot[i])
		return false;
	/* An ICMP entry does not keep the message type policy judges:
	 * judge its next packet again. */
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP && k->proto != IPPROTO_SCTP)
		return true;
	bh_eval(&p->out.workloads[i], v->dir,
		bh_eval_identity(&p->out, v->dir == BH_DIR_EGRESS ? resp : init), k->proto,
		ntohs(orig_a ? k->port_b : k->port_a), &r);
	return r.verdict != BH_PV_ALLOW;
}

int bh_sync_commit(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	struct bh_compiled_workload *q = &p->out.quarantine;
	struct live_map ipc = { .name = BH_MAP_IPCACHE, .ksz = sizeof(struct bh_ipcache_key),
				.vsz = sizeof(struct bh_ipcache_val) };
	struct live_map deny = { .name = BH_PIN_DENY_ALL, .ksz = sizeof(struct bh_policy_key),
				 .vsz = sizeof(struct bh_policy_val) };
	struct live_map wl = { .name = BH_MAP_WORKLOADS, .ksz = sizeof(__u32),
			       .vsz = sizeof(struct bh_workload) };
	bool *swapped = calloc(p->in.nr_w ? p->in.nr_w : 1, 2 * sizeof(bool));
	bool *cut_slot = swapped ? swapped + (p->in.nr_w ? p->in.nr_w : 1) : NULL;
	bool any_cut = false;
	int err;

	if (p->nft) {
		free(swapped);
		return bh_nft_sync_send(ctx, p->nft);
	}
	if (!swapped)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	qsort(p->out.ipcache, p->out.nr_ipcache, sizeof(*p->out.ipcache), cmp_ipcache_key);
	err = live_load(ctx, &deny);
	if (!err)
		err = live_load(ctx, &ipc);
	/* 2. deny-all: new and changed entries */
	for (size_t i = 0; i < q->nr && !err; i++)
		if (!unchanged(&deny, &q->entries[i].key, &q->entries[i].val))
			err = bh_maps_deny_all_put(ctx, &q->entries[i].key, &q->entries[i].val);
	/* 3. swap the changed slots */
	if (!err)
		err = swap_changed(ctx, p, swapped);
	/* 4. ipcache: new and changed prefixes, 5. stale ones */
	for (size_t i = 0; i < p->out.nr_ipcache && !err; i++)
		if (!unchanged(&ipc, &p->out.ipcache[i].key, &p->out.ipcache[i].val))
			err = bh_maps_ipcache_put(ctx, &p->out.ipcache[i].key,
						  &p->out.ipcache[i].val);
	if (!err)
		err = live_prune(ctx, &ipc, ipcache_keep, &p->out);
	/* 6. workload entries that changed, then stale ones */
	if (!err)
		err = live_load(ctx, &wl);
	for (int i = 0; i < p->in.nr_w && !err; i++) {
		const struct bh_workload *cur = live_find(&wl, &p->in.w[i].ifindex);
		struct bh_workload e;

		bh_workload_entry(&p->in.w[i], &e);
		/* Entering enforce, or an enforced policy that changed: flows
		 * that passed as would-deny may now be denied. */
		cut_slot[i] = !p->in.w[i].quarantined && p->in.w[i].mode == BH_MODE_ENFORCE && cur &&
			      (swapped[i] || cur->mode != BH_MODE_ENFORCE);
		any_cut |= cut_slot[i];
		if (cur && !memcmp(cur, &e, sizeof(e)))
			continue;
		err = bh_maps_workload_put(ctx, p->in.w[i].ifindex, &e);
	}
	if (!err)
		err = live_prune(ctx, &wl, workload_keep, p);
	/* An interface that is no workload's any more keeps no flows: the
	 * established fast path takes the slot from conntrack, not from the
	 * workload entry (by ifindex only: the slot may serve another
	 * workload by now). */
	for (size_t i = 0; i < wl.nr && !err; i++) {
		__u32 ifindex;

		memcpy(&ifindex, wl.recs + i * (wl.ksz + wl.vsz), sizeof(ifindex));
		if (!workload_keep(&ifindex, p))
			err = bh_maps_flows_purge(ctx, BH_MAX_WORKLOADS, ifindex);
	}
	/* after the mode and the policy are in force: new flows are judged
	 * by them, and the cut sees every flow that passed before */
	if (!err && any_cut) {
		struct cut_arg ca = { p, cut_slot };

		err = bh_maps_flows_cut(ctx, cut_denied, &ca, NULL);
	}
	/* 7. stale deny-all entries */
	if (!err)
		err = live_prune(ctx, &deny, deny_all_keep, q);
	live_free(&ipc);
	live_free(&deny);
	live_free(&wl);
	free(swapped);
	return err;
}

static int sync_run(struct bh_ctx *ctx, __u32 fill_slot)
{
	struct bh_sync_plan *p;
	__s64 t0;
	int err;

	err = bh_ctx_lock(ctx);
	if (err)
		return err;
	t0 = bh_ctx_sync_start();
	err = prepare(ctx, fill_slot, &p);
	if (!err) {
		err = bh_sync_commit(ctx, p);
		bh_sync_plan_free(p);
	}
	bh_ctx_sync_done(ctx, err, t0);	/* counted for the metrics */
	bh_ctx_unlock(ctx);
	return err;
}

int bh_policy_sync(struct bh_ctx *ctx)
{
	return sync_run(ctx, BH_MAX_WORKLOADS);
}

int bh_policy_sync_attach(struct bh_ctx *ctx, __u32 slot)
{
	return sync_run(ctx, slot);
}
