// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libyaml events -> a node tree with positions and each document's text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "parse_common.h"
#include "yaml_doc.h"

struct yd_loader {
	yaml_parser_t parser;
	const char *name;
	struct bh_policy_error *err;
};

static void node_free(struct yd_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nr; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->str);
	free(n);
}

void yd_stream_free(struct yd_stream *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		node_free(s->docs[i].root);
		free(s->docs[i].source);
	}
	free(s->docs);
	s->docs = NULL;
	s->nr = 0;
}

bool yd_is_null(const struct yd_node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (!n || n->type != YD_SCALAR || !n->plain)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(n->str, nulls[i]))
			return true;
	return false;
}

struct yd_node *yd_map_get(const struct yd_node *n, const char *key)
{
	size_t i;

	if (!n || n->type != YD_MAP)
		return NULL;
	for (i = 0; i < n->nr; i++)
		if (!strcmp(n->keys[i]->str, key))
			return n->items[i];
	return NULL;
}

static int ld_fail(struct yd_loader *l, const yaml_mark_t *m, const char *msg)
{
	return bh_perr(l->err, l->name, (int)m->line + 1, (int)m->column + 1, "", "%s", msg);
}

static int ld_next(struct yd_loader *l, yaml_event_t *ev)
{
	if (yaml_parser_parse(&l->parser, ev))
		return 0;
	if (l->parser.error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	return bh_perr(l->err, l->name, (int)l->parser.problem_mark.line + 1,
		       (int)l->parser.problem_mark.column + 1, "",
		       "YAML syntax error: %s%s%s",
		       l->parser.problem ? l->parser.problem : "invalid input",
		       l->parser.context ? " " : "",
		       l->parser.context ? l->parser.context : "");
}

static int push_child(struct yd_node *parent, struct yd_node *key, struct yd_node *child)
{
	struct yd_node **items, **keys;
	size_t cap;

	/* Capacity is the next power of two: grow when nr is one. */
	if (parent->nr == 0 || (parent->nr & (parent->nr - 1)) == 0) {
		cap = parent->nr ? parent->nr * 2 : 1;
		items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		parent->items = items;
		if (parent->type == YD_MAP) {
			keys = realloc(parent->keys, cap * sizeof(*keys));
			if (!keys)
				return -ENOMEM;
			parent->keys = keys;
		}
	}
	parent->items[parent->nr] = child;
	if (parent->type == YD_MAP)
		parent->keys[parent->nr] = key;
	parent->nr++;
	return 0;
}

static struct yd_node *node_new(enum yd_type t, const yaml_mark_t *m)
{
	struct yd_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->type = t;
		n->line = (int)m->line + 1;
		n->col = (int)m->column + 1;
	}
	return n;
}

/* Parse one node whose first event is ev (consumed). */
static int load_node(struct yd_loader *l, yaml_event_t *ev, int depth, struct yd_node **out)
{
	struct yd_node *n = NULL, *key = NULL, *child = NULL;
	yaml_event_t sub;
	int err;

	*out = NULL;
	if (depth > YD_MAX_DEPTH)
		return ld_fail(l, &ev->start_mark, "YAML nesting too deep");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return ld_fail(l, &ev->start_mark, "YAML aliases are not supported");
	case YAML_SCALAR_EVENT:
		n = node_new(YD_SCALAR, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		n->str = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!n->str) {
			free(n);
			return -ENOMEM;
		}
		if (strlen(n->str) != ev->data.scalar.length) {
			node_free(n);
			return ld_fail(l, &ev->start_mark, "NUL character in a YAML string");
		}
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = node_new(ev->type == YAML_MAPPING_START_EVENT ? YD_MAP : YD_SEQ,
			     &ev->start_mark);
		if (!n)
			return -ENOMEM;
		break;
	default:
		return ld_fail(l, &ev->start_mark, "unexpected YAML event");
	}

	for (;;) {
		err = ld_next(l, &sub);
		if (err)
			goto fail;
		if (sub.type == YAML_SEQUENCE_END_EVENT || sub.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&sub);
			break;
		}
		if (n->type == YD_MAP) {
			err = load_node(l, &sub, depth + 1, &key);
			yaml_event_delete(&sub);
			if (err)
				goto fail;
			if (key->type != YD_SCALAR) {
				err = bh_perr(l->err, l->name, key->line, key->col, "",
					      "a mapping key must be a string");
				goto fail;
			}
			err = ld_next(l, &sub);
			if (err)
				goto fail;
		}
		err = load_node(l, &sub, depth + 1, &child);
		yaml_event_delete(&sub);
		if (err)
			goto fail;
		err = push_child(n, key, child);
		if (err)
			goto fail;
		key = child = NULL;
	}
	*out = n;
	return 0;
fail:
	node_free(key);
	node_free(child);
	node_free(n);
	return err;
}

static int add_doc(struct yd_stream *s, struct yd_node *root, char *source)
{
	struct yd_doc *docs = realloc(s->docs, (size_t)(s->nr + 1) * sizeof(*docs));

	if (!docs)
		return -ENOMEM;
	s->docs = docs;
	docs[s->nr].root = root;
	docs[s->nr].source = source;
	docs[s->nr].line = root->line;
	s->nr++;
	return 0;
}

/*
 * libyaml's mark.index counts characters, not bytes. Map it back to a byte
 * offset so a document's stored source ends where the document really
 * ends: cut by character count, a multi-byte character earlier in the file
 * would cut the stored text short and silently drop its last rules. A
 * UTF-8 byte order mark is consumed by libyaml without being counted.
 */
static size_t char_to_byte(const char *buf, size_t len, size_t chars)
{
	size_t i = 0, n = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < len; i++) {
		if (((unsigned char)buf[i] & 0xc0) == 0x80)
			continue;	/* continuation byte */
		if (n++ == chars)
			return i;
	}
	return len;
}

/* Where the first NUL is, as a 1-based line and column, for the message. */
static void nul_position(const char *buf, const char *nul, int *line, int *col)
{
	const char *p;

	*line = 1;
	*col = 1;
	for (p = buf; p < nul; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int yd_load(const char *name, const char *buf, size_t len, struct yd_stream *out,
	    struct bh_policy_error *err)
{
	struct yd_loader l = { .name = name, .err = err };
	struct yd_node *root = NULL;
	size_t doc_start = 0;
	yaml_event_t ev;
	int ret = 0, done = 0;
	char *source;
	const char *nul;
	int nul_line, nul_col;

	memset(out, 0, sizeof(*out));
	nul = memchr(buf, '\0', len);
	if (nul) {
		nul_position(buf, nul, &nul_line, &nul_col);
		return bh_perr(err, name, nul_line, nul_col, "", "NUL character in YAML input");
	}
	if (!yaml_parser_initialize(&l.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf, len);

	while (!done) {
		ret = ld_next(&l, &ev);
		if (ret)
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc_start = char_to_byte(buf, len, ev.start_mark.index);
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (!root)
				break;
			if (yd_is_null(root)) {
				node_free(root);
				root = NULL;
				break;
			}
			source = strndup(buf + doc_start,
					 char_to_byte(buf, len, ev.end_mark.index) - doc_start);
			ret = source ? add_doc(out, root, source) : -ENOMEM;
			if (ret) {
				free(source);
				break;
			}
			root = NULL;
			break;
		case YAML_STREAM_START_EVENT:
			break;
		default:
			ret = load_node(&l, &ev, 0, &root);
			break;
		}
		yaml_event_delete(&ev);
		if (ret)
			break;
	}
	yaml_parser_delete(&l.parser);
	node_free(root);
	if (ret)
		yd_stream_free(out);
	return ret;
}
