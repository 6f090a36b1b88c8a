// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* metadata.labels of a stored policy document: `policy list -l` selects
 * policies by their own labels, as kubectl does for any object. The
 * source was parsed when it was applied, so a parse failure here means
 * "no labels", not an error to report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "yaml_doc.h"

int bh_policy_source_labels(const char *source, int *nr, struct bh_label *labels)
{
	struct bh_policy_error perr;
	struct yd_stream ys;
	struct yd_node *l;
	int room = *nr, n = 0;

	*nr = 0;
	if (yd_load("(stored)", source, strlen(source), &ys, &perr))
		return 0;
	l = ys.nr ? yd_map_get(yd_map_get(ys.docs[0].root, "metadata"), "labels") : NULL;
	for (size_t i = 0; l && l->type == YD_MAP && i < l->nr && n < room; i++) {
		if (l->items[i]->type != YD_SCALAR)
			continue;
		snprintf(labels[n].key, sizeof(labels[n].key), "%s", l->keys[i]->str);
		snprintf(labels[n].value, sizeof(labels[n].value), "%s", l->items[i]->str);
		n++;
	}
	yd_stream_free(&ys);
	*nr = n;
	return 0;
}
