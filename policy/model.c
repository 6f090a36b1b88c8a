// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Freeing the policy model. Every pointer is owned by its parent. */
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

void bh_selector_free(struct bh_selector *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->nr_expr; i++)
		free(s->expr[i].values);
	free(s->expr);
	free(s->match);
	memset(s, 0, sizeof(*s));
}

static void peer_free(struct bh_peer *p)
{
	bh_selector_free(&p->pod);
	bh_selector_free(&p->ns);
	free(p->except);
	memset(p, 0, sizeof(*p));
}

void bh_rule_free(struct bh_rule *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->nr_peers; i++)
		peer_free(&r->peers[i]);
	free(r->peers);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

void bh_policy_free(struct bh_policy *p)
{
	int i;

	if (!p)
		return;
	bh_selector_free(&p->selector);
	bh_selector_free(&p->ns_selector);
	for (i = 0; i < p->nr_ingress; i++)
		bh_rule_free(&p->ingress[i]);
	for (i = 0; i < p->nr_egress; i++)
		bh_rule_free(&p->egress[i]);
	free(p->ingress);
	free(p->egress);
	free(p->source);
	memset(p, 0, sizeof(*p));
}

void bh_policy_set_free(struct bh_policy_set *set)
{
	int i;

	if (!set)
		return;
	for (i = 0; i < set->nr; i++)
		bh_policy_free(&set->items[i]);
	free(set->items);
	set->items = NULL;
	set->nr = 0;
}
