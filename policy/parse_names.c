// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Kubernetes naming rules and label maps (metadata.labels, matchLabels). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

static bool alnum_lower(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

bool pc_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pc_dns_subdomain(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (!alnum_lower(s[i]) && s[i] != '-' && s[i] != '.')
			return false;
		if (s[i] == '.' && (!alnum_lower(s[i - 1]) || !alnum_lower(s[i + 1])))
			return false;
	}
	return true;
}

/* A label name or value: alphanumerics, '-', '_', '.', alphanumeric at
 * both ends, at most 63 characters. */
static bool label_word(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool pc_label_value_ok(const char *s)
{
	return !*s || label_word(s, strlen(s));
}

bool pc_label_key_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];
	size_t pl;

	if (!slash)
		return label_word(s, strlen(s));
	pl = (size_t)(slash - s);
	if (pl == 0 || pl >= sizeof(prefix))
		return false;
	memcpy(prefix, s, pl);
	prefix[pl] = '\0';
	return pc_dns_subdomain(prefix) && label_word(slash + 1, strlen(slash + 1));
}

/* Entry i of a label map: a new, valid key and a string value.
 * Annotation keys only need to be non-empty and short; their values are
 * free text. */
static int label_entry(struct pc_ctx *c, const struct yd_node *n, size_t i, bool annotations)
{
	const struct yd_node *k = n->keys[i], *v = n->items[i];
	const char *val;
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(n->keys[j]->str, k->str))
			return pc_fail_at(c, k, k->str, "duplicate field \"%s\"", k->str);
	if (!pc_label_key_ok(k->str) && !(annotations && k->str[0] &&
					  strlen(k->str) <= BH_NAME_MAX))
		return pc_fail_at(c, k, k->str, "invalid label key \"%s\"", k->str);
	if (v->type != YD_SCALAR)
		return pc_fail_at(c, v, k->str, "must be a string, not %s", pc_type_name(v));
	val = yd_is_null(v) ? "" : v->str;
	if (!annotations && !pc_label_value_ok(val))
		return pc_fail_at(c, v, k->str, "invalid label value \"%s\" (at most 63 "
				  "alphanumerics, '-', '_' or '.', alphanumeric at both ends)",
				  val);
	return 0;
}

int pc_label_map(struct pc_ctx *c, const struct yd_node *n, int *nr, struct bh_label **out,
		 bool annotations)
{
	struct bh_label *l = NULL;
	size_t i;
	int ret;

	if (n->type != YD_MAP)
		return pc_fail(c, n, "must be a mapping, not %s", pc_type_name(n));
	if (!annotations && n->nr > BH_MAX_LABELS)
		return pc_fail(c, n, "too many labels (at most %d)", BH_MAX_LABELS);
	if (out && n->nr) {
		l = calloc(n->nr, sizeof(*l));
		if (!l)
			return -ENOMEM;
	}
	for (i = 0; i < n->nr; i++) {
		ret = label_entry(c, n, i, annotations);
		if (ret) {
			free(l);
			return ret;
		}
		if (l) {
			snprintf(l[i].key, sizeof(l[i].key), "%s", n->keys[i]->str);
			snprintf(l[i].value, sizeof(l[i].value), "%s",
				 yd_is_null(n->items[i]) ? "" : n->items[i]->str);
		}
	}
	if (out) {
		*out = l;
		*nr = (int)n->nr;
	}
	return 0;
}
