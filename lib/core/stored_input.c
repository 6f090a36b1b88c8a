// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The compile input as the store holds it: the one way to gather it, for
 * the sync and for what-if evaluation alike (sync.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	memset(p, 0, sizeof(*p));
}
