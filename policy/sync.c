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
#include "maps.h"
#include "parse_common.h"
#include "peers.h"
#include "store.h"
#include "sync.h"

struct ns_entry {
	char name[BH_NAME_MAX + 1];
	int nr;
	struct bh_label labels[BH_MAX_LABELS + 1];
};

struct bh_sync_plan {
	int nr_w;
	struct bh_workload_info *w;
	int *fds;			/* new inner map per workload, -1: none */
	int nr_ns;
	struct ns_entry *ns;
	int nr_pol, cap_pol;
	struct bh_policy *pol;
	struct bh_forensics forensics;
	int nr_peers, cap_peers;
	struct bh_compile_workload *peers;	/* strings owned (freed with the plan) */
	bool compiled;
	struct bh_compile_output out;
};

/* ------------------------------------------------------------ gathering */
static int add_workload(const struct bh_workload_info *w, void *arg)
{
	struct bh_sync_plan *p = arg;
	struct bh_workload_info *n = realloc(p->w, (p->nr_w + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->w = n;
	p->w[p->nr_w++] = *w;
	return 0;
}

struct ns_arg {
	struct bh_sync_plan *p;
	sqlite3 *db;
};

static int add_ns(const char *name, void *arg)
{
	struct ns_arg *a = arg;
	struct bh_sync_plan *p = a->p;
	struct ns_entry *n = realloc(p->ns, (p->nr_ns + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->ns = n;
	n = &p->ns[p->nr_ns];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->nr = BH_MAX_LABELS + 1;
	int err = bh_store_ns_labels(a->db, name, &n->nr, n->labels);

	if (err)
		return err;
	p->nr_ns++;
	return 0;
}

struct pol_arg {
	struct bh_sync_plan *p;
	struct bh_ctx *ctx;
};

static int add_policy(const struct bh_store_policy *sp, void *arg)
{
	struct pol_arg *a = arg;
	struct bh_sync_plan *p = a->p;
	struct bh_policy_error perr = { 0 };
	struct bh_policy_set set = { 0 };
	char msg[768];
	int err;

	err = bh_policy_parse_buf(sp->file[0] ? sp->file : "(stored policy)", sp->source,
				  strlen(sp->source), &set, &perr);
	if (err)
		return bh_ctx_set_error(a->ctx, err, false, "stored policy %s%s%s no longer parses: %s",
					sp->ns, sp->ns[0] ? "/" : "", sp->name,
					bh_policy_error_format(&perr, msg, sizeof(msg)));
	if (p->nr_pol + set.nr > p->cap_pol) {
		int cap = (p->nr_pol + set.nr) * 2;
		struct bh_policy *n = realloc(p->pol, cap * sizeof(*n));

		if (!n) {
			bh_policy_set_free(&set);
			return -ENOMEM;
		}
		p->pol = n;
		p->cap_pol = cap;
	}
	/* Moved, not copied: the plan frees the members. */
	memcpy(p->pol + p->nr_pol, set.items, set.nr * sizeof(*set.items));
	p->nr_pol += set.nr;
	free(set.items);
	return 0;
}

/* ---------------------------------------------------------------- peers */
struct peer_arg {
	struct bh_sync_plan *p;
	sqlite3 *db;
	int cap;
	char **keys;			/* per peer: "peer NS LABELS", its identity's key */
};

static void peer_free(struct bh_compile_workload *w)
{
	free((char *)w->ns);
	free((char *)w->name);
	free((void *)w->labels);
	free((void *)w->ips);
}

/* One identity per (namespace, label set), stable in the store: pods
 * alike share it (the maps stay small), a label change moves a pod to
 * another identity with one ipcache update. */
static int add_peer(const struct bh_peer_rec *r, void *arg)
{
	struct peer_arg *a = arg;
	struct bh_sync_plan *p = a->p;
	struct bh_compile_workload *w;
	struct bh_label *labels;
	struct bh_ip *ips;
	int nl = 0, ni = 0;

	if (p->nr_peers == p->cap_peers) {
		int cap = p->cap_peers ? p->cap_peers * 2 : 256;
		void *n = realloc(p->peers, (size_t)cap * sizeof(*p->peers));

		if (!n)
			return -ENOMEM;
		p->peers = n;
		p->cap_peers = cap;
	}
	for (const char *c = r->labels; *c; c++)
		nl += *c == '\n';
	labels = calloc((size_t)nl + 1, sizeof(*labels));
	ips = calloc(BH_MAX_WORKLOAD_IPS, sizeof(*ips));
	w = &p->peers[p->nr_peers];
	*w = (struct bh_compile_workload){ .ns = strdup(r->ns), .name = strdup(r->name),
					   .labels = labels, .ips = ips };
	if (!labels || !ips || !w->ns || !w->name) {
		peer_free(w);
		return -ENOMEM;
	}
	nl = 0;
	for (const char *c = r->labels; *c;) {
		size_t n = strcspn(c, "\n");
		char buf[BH_NAME_MAX + 80];

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), c);
		if (n && !bh_label_parse(buf, &labels[nl]))
			nl++;
		c += n;
		c += strspn(c, "\n");
	}
	for (const char *c = r->ips; *c && ni < BH_MAX_WORKLOAD_IPS;) {
		size_t n = strcspn(c, " ");
		char buf[64];

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), c);
		if (n && !bh_ip_parse(buf, &ips[ni]))
			ni++;
		c += n;
		c += strspn(c, " ");
	}
	w->nr_labels = nl;
	w->nr_ips = ni;
	if (p->nr_peers >= a->cap) {
		int cap = a->cap ? a->cap * 2 : 256;
		char **n = realloc(a->keys, (size_t)cap * sizeof(*n));

		if (!n) {
			peer_free(w);
			return -ENOMEM;
		}
		a->keys = n;
		a->cap = cap;
	}
	if (asprintf(&a->keys[p->nr_peers], "peer %s %s", r->ns, r->labels) < 0) {
		peer_free(w);
		return -ENOMEM;
	}
	p->nr_peers++;
	return 0;
}

static int cmp_key_idx(const void *x, const void *y, void *keys)
{
	char **k = keys;

	return strcmp(k[*(const int *)x], k[*(const int *)y]);
}

/* One store lookup per distinct (namespace, label set), not per peer,
 * and one compiler entry per identity holding all its peers' addresses:
 * the compiler matches selectors once per label set, so its cost follows
 * the number of distinct label sets, not of pods. */
static int peer_identities(struct peer_arg *a)
{
	struct bh_sync_plan *p = a->p;
	int *idx = malloc((size_t)(p->nr_peers ? p->nr_peers : 1) * sizeof(*idx));
	struct bh_compile_workload *merged;
	int nr = 0, err = 0;

	merged = calloc((size_t)(p->nr_peers ? p->nr_peers : 1), sizeof(*merged));
	if (!idx || !merged) {
		free(idx);
		free(merged);
		return -ENOMEM;
	}
	for (int i = 0; i < p->nr_peers; i++)
		idx[i] = i;
	qsort_r(idx, (size_t)p->nr_peers, sizeof(*idx), cmp_key_idx, a->keys);
	for (int i = 0, j; i < p->nr_peers && !err; i = j) {
		struct bh_compile_workload *m = &merged[nr];
		struct bh_ip *ips;
		int n = 0;
		__u32 id;

		for (j = i; j < p->nr_peers && !strcmp(a->keys[idx[j]], a->keys[idx[i]]); j++)
			n += p->peers[idx[j]].nr_ips;
		err = bh_store_cidr_identity(a->db, a->keys[idx[i]], &id);
		ips = calloc((size_t)(n ? n : 1), sizeof(*ips));
		if (!err && !ips)
			err = -ENOMEM;
		if (err) {
			free(ips);
			break;
		}
		n = 0;
		for (int k = i; k < j; k++) {
			struct bh_compile_workload *w = &p->peers[idx[k]];

			memcpy(ips + n, w->ips, (size_t)w->nr_ips * sizeof(*ips));
			n += w->nr_ips;
		}
		*m = p->peers[idx[i]];		/* takes ns, name, labels */
		free((void *)m->ips);		/* copied above */
		m->ips = ips;
		m->nr_ips = n;
		m->identity = id;
		p->peers[idx[i]] = (struct bh_compile_workload){ 0 };
		for (int k = i + 1; k < j; k++) {
			peer_free(&p->peers[idx[k]]);
			p->peers[idx[k]] = (struct bh_compile_workload){ 0 };
		}
		nr++;
	}
	if (err) {
		for (int i = 0; i < nr; i++)
			peer_free(&merged[i]);
		free(merged);
		free(idx);
		return err;
	}
	free(p->peers);
	p->peers = merged;
	p->nr_peers = p->cap_peers = nr;
	free(idx);
	return 0;
}

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

/* The keys themselves are read (and unknown keys refused) by lib/config.c;
 * this checks the forensics values, which need the policy's parsers. */
int bh_forensics_load(struct bh_ctx *ctx, struct bh_forensics *out)
{
	const struct bh_config_entry *e;
	struct bh_config cfg;
	int err;

	memset(out, 0, sizeof(*out));
	err = bh_config_load(ctx, &cfg);
	if (err)
		return err;
	e = bh_config_next(&cfg, "forensics.cidr", NULL);
	if (e) {
		if (bh_cidr_parse(e->value, &out->cidr)) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.cidr: bad CIDR"
					       " '%s'", cfg.path, e->line, e->value);
			goto out;
		}
		out->enabled = true;
	}
	for (e = NULL; (e = bh_config_next(&cfg, "forensics.port", e));) {
		struct bh_port *n;

		if (!out->enabled) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.port: needs"
					       " forensics.cidr", cfg.path, e->line);
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
					       " PROTO[/PORT[-END]], got '%s'", cfg.path, e->line,
					       e->value);
			goto out;
		}
		out->nr_ports++;
	}
out:
	bh_config_free(&cfg);
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
	for (int i = 0; p->fds && i < p->nr_w; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	free(p->fds);
	free(p->w);
	free(p->ns);
	for (int i = 0; i < p->nr_pol; i++)
		bh_policy_free(&p->pol[i]);
	free(p->pol);
	for (int i = 0; i < p->nr_peers; i++)
		peer_free(&p->peers[i]);
	free(p->peers);
	bh_forensics_free(&p->forensics);
	if (p->compiled)
		bh_compile_output_free(&p->out);
	free(p);
}

static int compile(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	struct bh_compile_input in = { 0 };
	struct bh_compile_workload *cw;
	struct bh_compile_namespace *cn;
	struct bh_policy_error perr = { 0 };
	char msg[768];
	int err;

	cw = calloc(p->nr_w ? p->nr_w : 1, sizeof(*cw));
	cn = calloc(p->nr_ns ? p->nr_ns : 1, sizeof(*cn));
	if (!cw || !cn) {
		free(cw);
		free(cn);
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	for (int i = 0; i < p->nr_w; i++) {
		const struct bh_workload_info *w = &p->w[i];

		cw[i] = (struct bh_compile_workload){
			.ns = w->ns, .name = w->name, .slot = w->slot, .identity = w->identity,
			.nr_labels = w->nr_labels, .labels = w->labels,
			.nr_ips = w->nr_ips, .ips = w->ips,
		};
	}
	for (int i = 0; i < p->nr_ns; i++)
		cn[i] = (struct bh_compile_namespace){
			.name = p->ns[i].name, .nr_labels = p->ns[i].nr, .labels = p->ns[i].labels,
		};
	in.nr_workloads = p->nr_w;
	in.workloads = cw;
	in.nr_namespaces = p->nr_ns;
	in.namespaces = cn;
	in.nr_policies = p->nr_pol;
	in.policies = p->pol;
	in.nr_peers = p->nr_peers;
	in.peers = p->peers;
	in.ids = (struct bh_compile_ids){ .cidr_identity = id_cidr, .rule_id = id_rule, .arg = ctx };
	in.forensics = p->forensics;
	err = bh_compile(&in, &p->out, &perr);
	free(cw);
	free(cn);
	if (err)
		return bh_ctx_set_error(ctx, err, err == -EINVAL || err == -E2BIG,
					"cannot compile policies: %s",
					bh_policy_error_format(&perr, msg, sizeof(msg)));
	p->compiled = true;
	if (p->out.nr_workloads != p->nr_w)
		return bh_ctx_set_error(ctx, -EPROTO, false, "compiler returned %d workloads, not %d",
					p->out.nr_workloads, p->nr_w);
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
 * period in the kernel). */
static int build_maps(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	int err = 0;

	p->fds = malloc((p->nr_w ? p->nr_w : 1) * sizeof(int));
	if (!p->fds)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (int i = 0; i < p->nr_w; i++)
		p->fds[i] = -1;
	for (int i = 0; i < p->nr_w && !err; i++) {
		struct bh_compiled_workload *cw = &p->out.workloads[i];
		struct bh_policy_key dk;
		struct bh_policy_val dv;
		__u64 digest, live;

		if (p->w[i].quarantined)
			continue;	/* keeps the deny-all map */
		qsort(cw->entries, cw->nr, sizeof(*cw->entries), cmp_entry);
		digest = entries_digest(cw);
		if (!bh_maps_policy_digest(ctx, p->w[i].slot, &live) && live == digest)
			continue;
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

int bh_sync_prepare(struct bh_ctx *ctx, struct bh_sync_plan **plan)
{
	struct bh_sync_plan *p;
	sqlite3 *db = bh_ctx_db(ctx);
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
	err = bh_store_workload_foreach(db, add_workload, p);
	if (!err) {
		struct ns_arg na = { p, db };

		err = bh_store_ns_foreach(db, add_ns, &na);
	}
	if (!err) {
		struct peer_arg *pa = calloc(1, sizeof(*pa));

		err = -ENOMEM;
		if (pa) {
			pa->p = p;
			pa->db = db;
			int nr_keys;

			err = bh_store_peer_foreach(db, add_peer, pa);
			nr_keys = p->nr_peers;
			if (!err)
				err = peer_identities(pa);
			for (int i = 0; i < nr_keys; i++)
				free(pa->keys[i]);
			free(pa->keys);
			free(pa);
		}
	}
	if (err) {
		bh_ctx_set_error(ctx, err, false, "cannot read the state store: %s",
				 err == -ENOMEM ? "out of memory" : sqlite3_errmsg(db));
		goto fail;
	}
	{
		struct pol_arg pa = { p, ctx };

		err = bh_store_policy_foreach(db, add_policy, &pa);
		if (err == -ENOMEM)
			bh_ctx_set_error(ctx, err, false, "out of memory");
		else if (err && !bh_ctx_error(ctx)[0])
			bh_ctx_set_error(ctx, err, false, "cannot read policies: %s",
					 sqlite3_errmsg(db));
		if (err)
			goto fail;
	}
	err = bh_forensics_load(ctx, &p->forensics);
	if (!err)
		err = compile(ctx, p);
	if (!err)
		err = build_maps(ctx, p);
	if (err)
		goto fail;
	*plan = p;
	return 0;
fail:
	bh_sync_plan_free(p);
	return err;
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

	for (int i = 0; i < p->nr_w; i++)
		if (p->w[i].ifindex == ifindex)
			return true;
	return false;
}

/* Step 3: every changed slot in one batch. */
static int swap_changed(struct bh_ctx *ctx, struct bh_sync_plan *p, bool *swapped)
{
	__u32 *slots = malloc((p->nr_w ? p->nr_w : 1) * sizeof(*slots));
	int *fds = malloc((p->nr_w ? p->nr_w : 1) * sizeof(*fds));
	int deny = bh_map_fd(ctx, BH_PIN_DENY_ALL), err;
	size_t n = 0;

	if (!slots || !fds) {
		free(slots);
		free(fds);
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	for (int i = 0; i < p->nr_w; i++) {
		swapped[i] = false;
		if (p->w[i].quarantined) {
			if (bh_maps_policy_is_quarantined(ctx, p->w[i].slot))
				continue;
			fds[n] = deny;
		} else if (p->fds[i] >= 0) {
			fds[n] = p->fds[i];
		} else {
			continue;
		}
		slots[n++] = p->w[i].slot;
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

	for (i = 0; i < p->nr_w; i++)
		if (p->w[i].slot == v->slot)
			break;
	if (i == p->nr_w || !a->cut_slot[i])
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
	struct live_map ipc = { .name = "bh_ipcache_v1", .ksz = sizeof(struct bh_ipcache_key),
				.vsz = sizeof(struct bh_ipcache_val) };
	struct live_map deny = { .name = BH_PIN_DENY_ALL, .ksz = sizeof(struct bh_policy_key),
				 .vsz = sizeof(struct bh_policy_val) };
	struct live_map wl = { .name = "bh_workloads_v1", .ksz = sizeof(__u32),
			       .vsz = sizeof(struct bh_workload) };
	bool *swapped = calloc(p->nr_w ? p->nr_w : 1, 2 * sizeof(bool));
	bool *cut_slot = swapped ? swapped + (p->nr_w ? p->nr_w : 1) : NULL;
	bool any_cut = false;
	int err;

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
	for (int i = 0; i < p->nr_w && !err; i++) {
		const struct bh_workload *cur = live_find(&wl, &p->w[i].ifindex);
		struct bh_workload e;

		bh_workload_entry(&p->w[i], &e);
		/* Entering enforce, or an enforced policy that changed: flows
		 * that passed as would-deny may now be denied. */
		cut_slot[i] = !p->w[i].quarantined && p->w[i].mode == BH_MODE_ENFORCE && cur &&
			      (swapped[i] || cur->mode != BH_MODE_ENFORCE);
		any_cut |= cut_slot[i];
		if (cur && !memcmp(cur, &e, sizeof(e)))
			continue;
		err = bh_maps_workload_put(ctx, p->w[i].ifindex, &e);
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

int bh_policy_sync(struct bh_ctx *ctx, void *arg)
{
	struct bh_sync_plan *p;
	int err;

	(void)arg;
	err = bh_ctx_lock(ctx);
	if (err)
		return err;
	err = bh_sync_prepare(ctx, &p);
	if (!err) {
		err = bh_sync_commit(ctx, p);
		bh_sync_plan_free(p);
	}
	bh_ctx_unlock(ctx);
	return err;
}

int bh_open(const struct bh_ctx_opts *opts, struct bh_ctx **out)
{
	int err = bh_ctx_open(opts, out);

	if (!err)
		bh_ctx_set_sync(*out, bh_policy_sync, NULL);
	return err;
}
