// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Kubernetes LabelSelector matching: every requirement must hold. */
#include <string.h>

#include "policy.h"

static const char *label_get(int nr, const struct bh_label *labels, const char *key)
{
	int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(labels[i].key, key))
			return labels[i].value;
	return NULL;
}

static bool in_values(const struct bh_sel_expr *e, const char *v)
{
	int i;

	for (i = 0; i < e->nr_values; i++)
		if (!strcmp(e->values[i], v))
			return true;
	return false;
}

/* An absent selector (present == false) constrains nothing and matches;
 * callers that must treat "absent" differently check present first. */
bool bh_selector_match(const struct bh_selector *sel, int nr, const struct bh_label *labels)
{
	const char *v;
	int i;

	if (!sel->present)
		return true;
	for (i = 0; i < sel->nr_match; i++) {
		v = label_get(nr, labels, sel->match[i].key);
		if (!v || strcmp(v, sel->match[i].value))
			return false;
	}
	for (i = 0; i < sel->nr_expr; i++) {
		const struct bh_sel_expr *e = &sel->expr[i];

		v = label_get(nr, labels, e->key);
		switch (e->op) {
		case BH_SEL_IN:
			if (!v || !in_values(e, v))
				return false;
			break;
		case BH_SEL_NOT_IN:
			/* Kubernetes: a missing key satisfies NotIn. */
			if (v && in_values(e, v))
				return false;
			break;
		case BH_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case BH_SEL_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		}
	}
	return true;
}
