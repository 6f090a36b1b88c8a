// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The compile input as the store holds it: the one way to gather it, for
 * the sync and for what-if evaluation alike (sync.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_store.h"
#include "store.h"
#include "sync.h"


static int add_workload(const struct bh_workload_info *w, void *arg)
{
	struct bh_stored_input *p = arg;
	struct bh_workload_info *n = realloc(p->w, (p->nr_w + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->w = n;
	p->w[p->nr_w++] = *w;
	return 0;
}

struct ns_arg {
	struct bh_stored_input *p;
	sqlite3 *db;
};

static int add_ns(const char *name, void *arg)
{
	struct ns_arg *a = arg;
	struct bh_stored_input *p = a->p;
	struct bh_stored_ns *n = realloc(p->ns, (p->nr_ns + 1) * sizeof(*n));

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
	struct bh_stored_input *p;
	struct bh_ctx *ctx;
};

static int add_policy(const struct bh_store_policy *sp, void *arg)
{
	struct pol_arg *a = arg;
	struct bh_stored_input *p = a->p;
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
	struct bh_stored_input *p;
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
	free((void *)w->named_ports);
}

/* One identity per (namespace, label set, named ports), stable in the
 * store: pods alike share it (the maps stay small), a label change moves
 * a pod to another identity with one ipcache update. The named ports are
 * part of it because an egress rule's `port: NAME` resolves per peer:
 * two pods of one identity must agree on what NAME means. */
static int add_peer(const struct bh_peer_rec *r, void *arg)
{
	struct peer_arg *a = arg;
	struct bh_stored_input *p = a->p;
	struct bh_compile_workload *w;
	struct bh_label *labels;
	struct bh_named_port *np;
	struct bh_ip *ips;
	const char *ports = r->ports ? r->ports : "";
	int nl = 0, ni = 0, nn = 0;

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
	for (const char *c = ports; *c; c++)
		nn += *c == '\n';
	labels = calloc((size_t)nl + 1, sizeof(*labels));
	ips = calloc(BH_MAX_WORKLOAD_IPS, sizeof(*ips));
	np = calloc((size_t)nn + 1, sizeof(*np));
	w = &p->peers[p->nr_peers];
	*w = (struct bh_compile_workload){ .ns = strdup(r->ns), .name = strdup(r->name),
					   .labels = labels, .ips = ips, .named_ports = np };
	if (!labels || !ips || !np || !w->ns || !w->name) {
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
	nn = 0;
	for (const char *c = ports; *c;) {
		size_t n = strcspn(c, "\n");
		char buf[64], why[128];

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), c);
		if (n && !bh_named_port_parse(buf, &np[nn], why, sizeof(why)))
			nn++;
		c += n;
		c += strspn(c, "\n");
	}
	w->nr_labels = nl;
	w->nr_ips = ni;
	w->nr_named_ports = nn;
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
	/* without named ports the key is the one of stores before them */
	if (asprintf(&a->keys[p->nr_peers], nn ? "peer %s %s ports %s" : "peer %s %s%s", r->ns,
		     r->labels, nn ? ports : "") < 0) {
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
	struct bh_stored_input *p = a->p;
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
		*m = p->peers[idx[i]];		/* takes ns, name, labels, ports */
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

static int load_peers(sqlite3 *db, struct bh_stored_input *p)
{
	struct peer_arg *pa = calloc(1, sizeof(*pa));
	int err, nr_keys;

	if (!pa)
		return -ENOMEM;
	pa->p = p;
	pa->db = db;
	err = bh_store_peer_foreach(db, add_peer, pa);
	nr_keys = p->nr_peers;
	if (!err)
		err = peer_identities(pa);
	for (int i = 0; i < nr_keys; i++)
		free(pa->keys[i]);
	free(pa->keys);
	free(pa);
	return err;
}

int bh_stored_input_load(struct bh_ctx *ctx, struct bh_stored_input *p)
{
	sqlite3 *db = bh_ctx_db(ctx);
	struct ns_arg na = { p, db };
	struct pol_arg pa = { p, ctx };
	int err;

	memset(p, 0, sizeof(*p));
	if (!db)
		return bh_ctx_set_error(ctx, -ENOENT, false, "no state store");
	err = bh_store_workload_foreach(db, add_workload, p);
	if (!err)
		err = bh_store_ns_foreach(db, add_ns, &na);
	if (err) {
		bh_ctx_set_error(ctx, err, false, "cannot read the state store: %s",
				 err == -ENOMEM ? "out of memory" : sqlite3_errmsg(db));
		goto fail;
	}
	err = bh_store_policy_foreach(db, add_policy, &pa);
	if (!err) {
		err = load_peers(db, p);
		if (err && err != -ENOMEM)
			bh_ctx_set_error(ctx, err, false, "cannot read peers: %s", sqlite3_errmsg(db));
	}
	if (err == -ENOMEM)
		bh_ctx_set_error(ctx, err, false, "out of memory");
	else if (err && !bh_ctx_error(ctx)[0])
		bh_ctx_set_error(ctx, err, false, "cannot read policies: %s", sqlite3_errmsg(db));
	if (!err) {
		p->cw = calloc(p->nr_w ? p->nr_w : 1, sizeof(*p->cw));
		p->cn = calloc(p->nr_ns ? p->nr_ns : 1, sizeof(*p->cn));
		if (!p->cw || !p->cn)
			err = bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	if (err)
		goto fail;
	for (int i = 0; i < p->nr_w; i++) {
		const struct bh_workload_info *w = &p->w[i];

		p->cw[i] = (struct bh_compile_workload){
			.ns = w->ns, .name = w->name, .slot = w->slot, .identity = w->identity,
			.nr_labels = w->nr_labels, .labels = w->labels,
			.nr_ips = w->nr_ips, .ips = w->ips,
			.nr_named_ports = w->nr_ports, .named_ports = w->ports,
			.pending = w->pending,
		};
	}
	for (int i = 0; i < p->nr_ns; i++)
		p->cn[i] = (struct bh_compile_namespace){
			.name = p->ns[i].name, .nr_labels = p->ns[i].nr, .labels = p->ns[i].labels,
		};
	return 0;
fail:
	bh_stored_input_free(p);
	return err;
}

void bh_stored_input_view(const struct bh_stored_input *p, struct bh_compile_input *in)
{
	memset(in, 0, sizeof(*in));
	in->nr_workloads = p->nr_w;
	in->workloads = p->cw;
	in->nr_namespaces = p->nr_ns;
	in->namespaces = p->cn;
	in->nr_policies = p->nr_pol;
	in->policies = p->pol;
	in->nr_peers = p->nr_peers;
	in->peers = p->peers;
}

void bh_stored_input_free(struct bh_stored_input *p)
{
	free(p->w);
	free(p->ns);
	for (int i = 0; i < p->nr_pol; i++)
		bh_policy_free(&p->pol[i]);
	free(p->pol);
	free(p->cw);
	free(p->cn);
	for (int i = 0; i < p->nr_peers; i++)
		peer_free(&p->peers[i]);
	free(p->peers);
	memset(p, 0, sizeof(*p));
}
