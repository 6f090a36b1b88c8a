/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small YAML document tree on top of libyaml's event parser.
 *
 * The parsers need three things libyaml's own document API does not keep
 * together: the position of every node (for error messages), whether a
 * scalar was quoted (port: "80" is a string, port: 80 a number), and the
 * raw text of each document (stored and re-parsed later). Aliases are
 * refused: a policy never needs them and they allow exponential expansion.
 */
#ifndef BH_YAML_DOC_H
#define BH_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum yd_type { YD_SCALAR, YD_SEQ, YD_MAP };

struct yd_node {
	enum yd_type type;
	int line, col;			/* 1-based */
	char *str;			/* YD_SCALAR: the value */
	bool plain;			/* YD_SCALAR: unquoted, no block style */
	size_t nr;			/* YD_SEQ items / YD_MAP pairs */
	struct yd_node **items;		/* YD_SEQ items, YD_MAP values */
	struct yd_node **keys;		/* YD_MAP keys (always scalars) */
};

struct yd_doc {
	struct yd_node *root;
	char *source;			/* the document's own text */
	int line;			/* where the document starts */
};

struct yd_stream {
	int nr;
	struct yd_doc *docs;
};

#define YD_MAX_DEPTH	64

/* Load every document of buf. Documents whose root is null (empty
 * documents, comment-only documents) are skipped. On error: -EINVAL (or
 * -ENOMEM) with *err filled (file = name), nothing allocated. */
int yd_load(const char *name, const char *buf, size_t len, struct yd_stream *out,
	    struct bh_policy_error *err);
void yd_stream_free(struct yd_stream *s);

/* A plain scalar spelling YAML null: "", "~", "null", "Null", "NULL". */
bool yd_is_null(const struct yd_node *n);
/* Value of key in a mapping, NULL if absent (or n is not a mapping). */
struct yd_node *yd_map_get(const struct yd_node *n, const char *key);

#endif /* BH_YAML_DOC_H */
