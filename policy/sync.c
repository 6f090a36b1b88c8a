// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Store -> compiler -> kernel maps, in the order sync.h explains. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "parse_common.h"
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
static int parse_port(const char *s, struct bh_port *out)
{
	char proto[16];
	unsigned lo = 0, hi = 0;
	int n;

	memset(out, 0, sizeof(*out));
	n = sscanf(s, "%15[a-z0-9]/%u-%u", proto, &lo, &hi);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(proto, "tcp"))
		out->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		out->proto = IPPROTO_UDP;
	else if (!strcmp(proto, "sctp"))
		out->proto = IPPROTO_SCTP;
	else if (!strcmp(proto, "icmp"))
		out->proto = IPPROTO_ICMP;
	else if (!strcmp(proto, "icmpv6"))
		out->proto = IPPROTO_ICMPV6;
	else
		return -EINVAL;
	if (n >= 2) {
		if (lo > 65535 || (n == 3 && (hi < lo || hi > 65535)))
			return -EINVAL;
		out->has_port = true;
		out->port = lo;
		out->end_port = n == 3 ? hi : lo;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int bh_forensics_load(struct bh_ctx *ctx, struct bh_forensics *out)
{
	char path[PATH_MAX + 8], line[512];
	int lineno = 0, err = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/config", bh_ctx_state_dir(ctx));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : bh_ctx_set_error(ctx, -errno, false,
							      "cannot read %s: %m", path);
	while (!err && fgets(line, sizeof(line), f)) {
		char *k, *v, *eq;

		lineno++;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: expected KEY = VALUE",
					       path, lineno);
			break;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (!strcmp(k, "forensics.cidr")) {
			if (bh_cidr_parse(v, &out->cidr))
				err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.cidr: "
						       "bad CIDR '%s'", path, lineno, v);
			out->enabled = true;
		} else if (!strcmp(k, "forensics.port")) {
			struct bh_port *n = realloc(out->ports, (out->nr_ports + 1) * sizeof(*n));

			if (!n) {
				err = -ENOMEM;
				break;
			}
			out->ports = n;
			if (parse_port(v, &out->ports[out->nr_ports]))
				err = bh_ctx_set_error(ctx, -EINVAL, true, "%s:%d: forensics.port: "
						       "expected PROTO[/PORT[-END]], got '%s'",
						       path, lineno, v);
			else
				out->nr_ports++;
		}
		/* Other keys belong to other parts of bulkhead. */
	}
	fclose(f);
	if (!err && out->nr_ports && !out->enabled)
		err = bh_ctx_set_error(ctx, -EINVAL, true, "%s: forensics.port needs forensics.cidr",
				       path);
	if (err) {
		bh_forensics_free(out);
		if (err == -ENOMEM)
			bh_ctx_set_error(ctx, err, false, "out of memory");
	}
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

static int build_maps(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	int err = 0;

	p->fds = malloc((p->nr_w ? p->nr_w : 1) * sizeof(int));
	if (!p->fds)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (int i = 0; i < p->nr_w; i++)
		p->fds[i] = -1;
	for (int i = 0; i < p->nr_w && !err; i++) {
		const struct bh_compiled_workload *cw = &p->out.workloads[i];

		if (p->w[i].quarantined)
			continue;	/* keeps the deny-all map */
		err = bh_maps_inner_create(ctx, cw->nr, &p->fds[i]);
		for (size_t j = 0; j < cw->nr && !err; j++)
			err = bh_maps_inner_put(ctx, p->fds[i], &cw->entries[j].key,
						&cw->entries[j].val);
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
static int cmp_ipkey(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bh_ipcache_key));
}

static int cmp_pkey(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bh_policy_key));
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

struct keyset {
	size_t nr, size;
	void *keys;
	int (*cmp)(const void *, const void *);
};

static bool keyset_has(const void *key, void *arg)
{
	struct keyset *ks = arg;

	return bsearch(key, ks->keys, ks->nr, ks->size, ks->cmp) != NULL;
}

static int keyset_init(struct keyset *ks, size_t nr, size_t size,
		       int (*cmp)(const void *, const void *))
{
	ks->nr = nr;
	ks->size = size;
	ks->cmp = cmp;
	ks->keys = malloc(nr ? nr * size : 1);
	return ks->keys ? 0 : -ENOMEM;
}

static int prune_ipcache(struct bh_ctx *ctx, const struct bh_compile_output *out)
{
	struct keyset ks;
	int err;

	if (keyset_init(&ks, out->nr_ipcache, sizeof(struct bh_ipcache_key), cmp_ipkey))
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (size_t i = 0; i < out->nr_ipcache; i++)
		memcpy((char *)ks.keys + i * ks.size, &out->ipcache[i].key, ks.size);
	qsort(ks.keys, ks.nr, ks.size, cmp_ipkey);
	err = bh_maps_prune(ctx, "bh_ipcache_v1", ks.size, keyset_has, &ks);
	free(ks.keys);
	return err;
}

static int prune_deny_all(struct bh_ctx *ctx, const struct bh_compiled_workload *q)
{
	struct bh_policy_key meta = { .prefixlen = 8, .dir = BH_DIR_META };
	struct keyset ks;
	int err;

	if (keyset_init(&ks, q->nr + 1, sizeof(struct bh_policy_key), cmp_pkey))
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (size_t i = 0; i < q->nr; i++)
		memcpy((char *)ks.keys + i * ks.size, &q->entries[i].key, ks.size);
	/* The quarantine marker stays even if the compiler left it out. */
	memcpy((char *)ks.keys + q->nr * ks.size, &meta, ks.size);
	qsort(ks.keys, ks.nr, ks.size, cmp_pkey);
	err = bh_maps_prune(ctx, BH_PIN_DENY_ALL, ks.size, keyset_has, &ks);
	free(ks.keys);
	return err;
}

static int prune_workloads(struct bh_ctx *ctx, const struct bh_sync_plan *p)
{
	struct keyset ks;
	int err;

	if (keyset_init(&ks, p->nr_w, sizeof(__u32), cmp_u32))
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	for (int i = 0; i < p->nr_w; i++)
		((__u32 *)ks.keys)[i] = p->w[i].ifindex;
	qsort(ks.keys, ks.nr, ks.size, cmp_u32);
	err = bh_maps_prune(ctx, "bh_workloads_v1", ks.size, keyset_has, &ks);
	free(ks.keys);
	return err;
}

int bh_sync_commit(struct bh_ctx *ctx, struct bh_sync_plan *p)
{
	const struct bh_compiled_workload *q = &p->out.quarantine;
	int err = 0;

	for (size_t i = 0; i < q->nr && !err; i++)
		err = bh_maps_deny_all_put(ctx, &q->entries[i].key, &q->entries[i].val);
	for (int i = 0; i < p->nr_w && !err; i++) {
		if (p->w[i].quarantined)
			err = bh_maps_policy_quarantine(ctx, p->w[i].slot);
		else
			err = bh_maps_policy_swap(ctx, p->w[i].slot, p->fds[i]);
	}
	for (size_t i = 0; i < p->out.nr_ipcache && !err; i++)
		err = bh_maps_ipcache_put(ctx, &p->out.ipcache[i].key, &p->out.ipcache[i].val);
	if (!err)
		err = prune_ipcache(ctx, &p->out);
	for (int i = 0; i < p->nr_w && !err; i++) {
		struct bh_workload e;

		bh_workload_entry(&p->w[i], &e);
		err = bh_maps_workload_put(ctx, p->w[i].ifindex, &e);
	}
	if (!err)
		err = prune_workloads(ctx, p);
	if (!err)
		err = prune_deny_all(ctx, q);
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
