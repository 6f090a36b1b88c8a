// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What-if evaluation (`policy test`): candidate policies applied on top of
 * the policies in force, compiled with local ids, and recorded flows
 * judged exactly as the data path would judge them (bh_eval). Pure: the
 * caller brings the compile input and the flows; nothing is stored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static bool replaced(const struct bh_policy_set *cand, const struct bh_policy *p)
{
	for (int i = 0; i < cand->nr; i++)
		if (!strcmp(cand->items[i].ns, p->ns) && !strcmp(cand->items[i].name, p->name))
			return true;
	return false;
}

/* Local ids: CIDR identities in the order the compiler asks (as the
 * compiler's default does), rule ids 1, 2, ... recorded with their rule. */
static int wi_cidr(void *arg, const struct bh_cidr *c, __u32 *id)
{
	struct bh_whatif *w = arg;

	(void)c;
	*id = BH_ID_CIDR_BASE + w->next_cidr++;
	return 0;
}

static int wi_rule(void *arg, const struct bh_policy *p, enum bh_dir dir, int idx, __u32 *id)
{
	struct bh_whatif *w = arg;
	void *n = realloc(w->rules, sizeof(*w->rules) * (size_t)(w->nr_rules + 1));

	if (!n)
		return -ENOMEM;
	w->rules = n;
	w->rules[w->nr_rules] = (struct bh_whatif_rule){
		.policy = p, .dir = dir, .index = idx,
		.candidate = p >= w->pol + (w->nr_pol - w->nr_cand),
	};
	*id = (__u32)++w->nr_rules;
	return 0;
}

int bh_whatif_build(struct bh_whatif *w, const struct bh_compile_input *in,
		    const struct bh_policy_set *cand, struct bh_policy_error *err)
{
	struct bh_compile_input ci = *in;
	int rc;

	memset(w, 0, sizeof(*w));
	/* the policies in force a candidate of the same ns/name replaces are
	 * left out: as if the candidates were applied */
	w->pol = calloc((size_t)in->nr_policies + (size_t)cand->nr + 1, sizeof(*w->pol));
	if (!w->pol)
		return -ENOMEM;
	for (int i = 0; i < in->nr_policies; i++)
		if (!replaced(cand, &in->policies[i]))
			w->pol[w->nr_pol++] = in->policies[i];
	for (int i = 0; i < cand->nr; i++)
		w->pol[w->nr_pol++] = cand->items[i];
	w->nr_cand = cand->nr;
	ci.nr_policies = w->nr_pol;
	ci.policies = w->pol;
	ci.ids = (struct bh_compile_ids){ wi_cidr, wi_rule, w };
	memset(&ci.forensics, 0, sizeof(ci.forensics));
	rc = bh_compile(&ci, &w->out, err);
	if (rc) {
		bh_whatif_free(w);
		return rc;
	}
	w->compiled = true;
	return 0;
}

bool bh_whatif_judge(struct bh_whatif *w, int workload, enum bh_dir dir, const __u8 peer[16],
		     __u8 proto, __u16 port, struct bh_eval_result *res)
{
	__u32 id = bh_eval_identity(&w->out, peer);

	bh_eval(&w->out.workloads[workload], dir, id, proto, port, res);
	if (res->rule_id && res->rule_id <= (__u32)w->nr_rules)
		w->rules[res->rule_id - 1].hits++;
	if (res->audit_rule_id && res->audit_rule_id <= (__u32)w->nr_rules &&
	    res->audit_rule_id != res->rule_id)
		w->rules[res->audit_rule_id - 1].hits++;
	return res->verdict == BH_PV_DENY || res->verdict == BH_PV_DEFAULT_DENY ||
	       res->verdict == BH_PV_QUARANTINE;
}

void bh_whatif_free(struct bh_whatif *w)
{
	if (w->compiled)
		bh_compile_output_free(&w->out);
	free(w->rules);
	free(w->pol);		/* shallow copies: the caller owns the policies */
	memset(w, 0, sizeof(*w));
}
