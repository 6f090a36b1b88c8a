// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one printing path of the CLI. A command builds a json-c value and
 * hands it over; the output format picks how it is shown:
 *   text (default)  array of objects -> a table (columns: cols, or the
 *                   first row's keys); object -> "key: value" lines, an
 *                   array member as a titled table, an object member as an
 *                   indented block
 *   wide            text, with every key of the rows as a column (cols
 *                   first, then the rest in the row's order)
 *   json            pretty JSON
 *   yaml            YAML through libyaml's emitter
 * --no-headers drops the header line of tables. Text and the structured
 * formats therefore never disagree: they print the same value.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "cli.h"

int bh_cli_output_parse(const char *s, enum bh_output *out)
{
	static const char *const names[] = { "text", "wide", "json", "yaml", NULL };

	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum bh_output)i;
			return 0;
		}
	}
	return -1;
}

/* ---------------------------------------------------------------- text */
static void scalar_text(struct json_object *v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	switch (json_object_get_type(v)) {
	case json_type_null:
		snprintf(buf, len, "-");
		break;
	case json_type_string:
		snprintf(buf, len, "%s", json_object_get_string(v));
		if (!buf[0])
			snprintf(buf, len, "-");
		break;
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_boolean(v) ? "yes" : "no");
		break;
	case json_type_array:
		/* a list of scalars: comma separated */
		for (size_t i = 0; i < json_object_array_length(v) && off < len; i++) {
			char item[256];

			scalar_text(json_object_array_get_idx(v, i), item, sizeof(item));
			off += snprintf(buf + off, len - off, "%s%s", i ? "," : "", item);
		}
		if (!json_object_array_length(v))
			snprintf(buf, len, "-");
		break;
	case json_type_object: {
		/* labels and the like: k=v,k=v */
		json_object_object_foreach(v, k, val) {
			char item[256];

			if (off >= len)
				break;
			scalar_text(val, item, sizeof(item));
			off += snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "", k, item);
		}
		if (!off)
			snprintf(buf, len, "-");
		break;
	}
	default:
		snprintf(buf, len, "%s", json_object_get_string(v));
	}
}

static int ncols(const char *const *cols)
{
	int n = 0;

	while (cols && cols[n])
		n++;
	return n;
}

/* A column is "key", "key:HEADER" or "key|alt:HEADER": the first of key,
 * alt that is present and not null in the row. */
static struct json_object *cell_value(struct json_object *row, const char *col)
{
	const char *end = col + strcspn(col, ":");
	const char *p = col;

	while (p < end) {
		size_t n = strcspn(p, "|:");
		char key[64];
		struct json_object *v = NULL;

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_object_object_get_ex(row, key, &v) && v)
			return v;
		p += n;
		if (*p == '|')
			p++;
	}
	return NULL;
}

static void col_header(const char *col, char *hdr, size_t len)
{
	const char *c = strchr(col, ':');

	if (c) {
		snprintf(hdr, len, "%s", c + 1);
		return;
	}
	snprintf(hdr, len, "%.*s", (int)strcspn(col, "|"), col);
	for (char *p = hdr; *p; p++)
		*p = *p == '_' ? ' ' : (char)toupper((unsigned char)*p);
}

static bool col_has_key(const char *col, const char *key)
{
	const char *end = col + strcspn(col, ":");
	size_t kl = strlen(key);

	for (const char *p = col; p < end;) {
		size_t n = strcspn(p, "|:");

		if (n == kl && !strncmp(p, key, n))
			return true;
		p += n;
		if (*p == '|')
			p++;
	}
	return false;
}

#define MAX_COLS 40

/* wide: the given columns, then every other key of the first row. */
static int wide_cols(struct json_object *arr, const char *const *cols, const char **out)
{
	struct json_object *first = json_object_array_length(arr) ?
				    json_object_array_get_idx(arr, 0) : NULL;
	int n = 0;

	for (int i = 0; cols && cols[i] && n < MAX_COLS; i++)
		out[n++] = cols[i];
	if (first && json_object_is_type(first, json_type_object)) {
		json_object_object_foreach(first, k, v) {
			bool have = false;

			(void)v;
			for (int i = 0; i < n && !have; i++)
				have = col_has_key(out[i], k);
			if (!have && n < MAX_COLS)
				out[n++] = k;
		}
	}
	out[n] = NULL;
	return n;
}

static void print_table(const struct bh_cli *cli, struct json_object *arr,
			const char *const *cols, const char *indent)
{
	const char *use[MAX_COLS + 1] = { 0 };
	size_t rows = json_object_array_length(arr);
	int nc, width[MAX_COLS] = { 0 };
	char hdr[64], cell[512];

	if (!cols || cli->output == BH_OUT_WIDE) {
		wide_cols(arr, cols, use);
		cols = use;
	}
	nc = ncols(cols);
	if (nc > MAX_COLS)
		nc = MAX_COLS;
	if (!rows) {
		if (!cli->no_headers)
			printf("%s(none)\n", indent);
		return;
	}
	for (int c = 0; c < nc; c++) {
		col_header(cols[c], hdr, sizeof(hdr));
		width[c] = cli->no_headers ? 0 : (int)strlen(hdr);
		for (size_t r = 0; r < rows; r++) {
			scalar_text(cell_value(json_object_array_get_idx(arr, r), cols[c]), cell,
				    sizeof(cell));
			if ((int)strlen(cell) > width[c])
				width[c] = (int)strlen(cell);
		}
	}
	if (!cli->no_headers) {
		fputs(indent, stdout);
		for (int c = 0; c < nc; c++) {
			col_header(cols[c], hdr, sizeof(hdr));
			printf("%-*s%s", c == nc - 1 ? 0 : width[c], hdr, c == nc - 1 ? "\n" : "  ");
		}
	}
	for (size_t r = 0; r < rows; r++) {
		fputs(indent, stdout);
		for (int c = 0; c < nc; c++) {
			scalar_text(cell_value(json_object_array_get_idx(arr, r), cols[c]), cell,
				    sizeof(cell));
			printf("%-*s%s", c == nc - 1 ? 0 : width[c], cell, c == nc - 1 ? "\n" : "  ");
		}
	}
}

static bool is_table(struct json_object *v)
{
	return json_object_is_type(v, json_type_array) &&
	       (json_object_array_length(v) == 0 ||
		json_object_is_type(json_object_array_get_idx(v, 0), json_type_object));
}

static void print_object(const struct bh_cli *cli, struct json_object *obj,
			 const char *const *cols, int depth)
{
	char cell[1024], indent[16];
	bool first = true;

	snprintf(indent, sizeof(indent), "%*s", depth * 2, "");
	json_object_object_foreach(obj, k, v) {
		if (is_table(v)) {
			printf("%s%s%s:\n", first ? "" : "\n", indent, k);
			print_table(cli, v, cols, indent);
		} else if (json_object_is_type(v, json_type_object) && depth < 3) {
			printf("%s%s:\n", indent, k);
			print_object(cli, v, NULL, depth + 1);
		} else {
			scalar_text(v, cell, sizeof(cell));
			printf("%s%s: %s\n", indent, k, cell);
		}
		first = false;
	}
}

/* ---------------------------------------------------------------- YAML */
/* PyYAML and most tools resolve plain scalars by YAML 1.1 rules, where
 * yes/no/on/off, numbers and timestamps are not strings. A string is
 * written plain only when it cannot be read back as anything else;
 * otherwise double-quoted (the emitter escapes what it must). */
static bool plain_safe(const char *s)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "on", "off", "true", "false", "null", NULL,
	};

	if (!isalpha((unsigned char)s[0]) && s[0] != '/')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
			return false;
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return false;
	return true;
}

static int yaml_scalar(yaml_emitter_t *e, const char *s, bool is_string)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

	if (is_string && strchr(s, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (is_string && !plain_safe(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
					  1, 1, style))
		return -1;
	return yaml_emitter_emit(e, &ev) ? 0 : -1;
}

static int yaml_value(yaml_emitter_t *e, struct json_object *v)
{
	yaml_event_t ev;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return yaml_scalar(e, "null", false);
	case json_type_boolean:
		return yaml_scalar(e, json_object_get_boolean(v) ? "true" : "false", false);
	case json_type_int:
	case json_type_double:
		return yaml_scalar(e, json_object_to_json_string(v), false);
	case json_type_string:
		return yaml_scalar(e, json_object_get_string(v), true);
	case json_type_array:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_ANY_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -1;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (yaml_value(e, json_object_array_get_idx(v, i)))
				return -1;
		if (!yaml_sequence_end_event_initialize(&ev))
			return -1;
		return yaml_emitter_emit(e, &ev) ? 0 : -1;
	case json_type_object:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_ANY_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -1;
		{
			json_object_object_foreach(v, k, val) {
				if (yaml_scalar(e, k, true) || yaml_value(e, val))
					return -1;
			}
		}
		if (!yaml_mapping_end_event_initialize(&ev))
			return -1;
		return yaml_emitter_emit(e, &ev) ? 0 : -1;
	}
	return -1;
}

static int yaml_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

/* One YAML document on stdout; explicit "---" when several follow. */
static int print_yaml(struct json_object *obj, bool explicit_start)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int err = -1;

	if (!yaml_emitter_initialize(&e))
		return -1;
	yaml_emitter_set_output(&e, yaml_write, stdout);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&e, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, !explicit_start) ||
	    !yaml_emitter_emit(&e, &ev))
		goto out;
	if (yaml_value(&e, obj))
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&e, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev))
		goto out;
	err = yaml_emitter_flush(&e) ? 0 : -1;
out:
	yaml_emitter_delete(&e);
	return err;
}

/* ---------------------------------------------------------------- API */
int bh_cli_print(struct bh_cli *cli, struct json_object *obj, const char *const *cols)
{
	int err = 0;

	if (!obj)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	switch (cli->output) {
	case BH_OUT_JSON:
		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	case BH_OUT_YAML:
		err = print_yaml(obj, false);
		break;
	default:
		if (is_table(obj))
			print_table(cli, obj, cols, "");
		else if (json_object_is_type(obj, json_type_object))
			print_object(cli, obj, cols, 0);
		else
			printf("%s\n", json_object_get_string(obj));
	}
	json_object_put(obj);
	if (err)
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot write YAML output");
	return fflush(stdout) == 0 ? BH_EXIT_OK : BH_EXIT_SYSTEM;
}

int bh_cli_print_item(struct bh_cli *cli, struct json_object *obj)
{
	int err = 0;

	if (cli->output == BH_OUT_YAML)
		err = print_yaml(obj, true);
	else
		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	return err || fflush(stdout) ? -1 : 0;
}

int bh_cli_done(struct bh_cli *cli, struct json_object *obj, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		if (!obj) {
			obj = json_object_new_object();
			json_object_object_add(obj, "result", json_object_new_string(msg));
		}
		return bh_cli_print(cli, obj, NULL);
	}
	json_object_put(obj);
	printf("%s\n", msg);
	return fflush(stdout) == 0 ? BH_EXIT_OK : BH_EXIT_SYSTEM;
}
