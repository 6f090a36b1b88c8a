// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Printing the help table (ctl/help_table.c): the overview, an object's
 * commands, one command, and the whole table as JSON. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "help.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

const struct bh_help *bh_help_find(const char *object, const char *command)
{
	for (const struct bh_help *h = bh_help_table; h->command; h++)
		if (same(h->object, object) && !strcmp(h->command, command))
			return h;
	return NULL;
}

static void words(const struct bh_help *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", h->object ? h->object : "", h->object ? " " : "", h->command);
}

static void print_opts(FILE *f, const struct bh_help_opt *o)
{
	int w = 0;

	for (const struct bh_help_opt *p = o; p->flags; p++)
		if ((int)strlen(p->flags) > w)
			w = (int)strlen(p->flags);
	for (const struct bh_help_opt *p = o; p->flags; p++)
		fprintf(f, "  %-*s  %s\n", w, p->flags, p->text);
}

static void print_indented(FILE *f, const char *text, const char *prefix)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%.*s\n", prefix, (int)n, text);
		text += n;
		if (*text)
			text++;
	}
}

void bh_help_print_usage(FILE *f)
{
	char w[64];

	fprintf(f, "usage: bulkhead [OPTIONS] OBJECT COMMAND [ARGS]   or   bulkhead VERB [ARGS]\n\n"
		   "bulkhead: network micro-segmentation for containers (eBPF data path).\n\n"
		   "Commands:\n");
	/* the full usage line of each (scripts grep for them), its summary below */
	for (const struct bh_help *h = bh_help_table; h->command; h++) {
		if (h->hidden)
			continue;
		words(h, w, sizeof(w));
		fprintf(f, "  bulkhead %s%s%s\n      %s\n", w, h->args[0] ? " " : "", h->args,
			h->summary);
	}
	fprintf(f, "\nOptions (every command):\n");
	print_opts(f, bh_help_global_opts);
	fprintf(f, "\nObjects and commands may be shortened to a unique prefix (bulkhead pol li),"
		   "\nexcept reset, delete, quarantine and clear. bulkhead help COMMAND or"
		   "\nbulkhead COMMAND --help shows one command.\n"
		   "Exit status: 0 ok, 1 bad input, 2 system error.\n"
		   "Environment: BULKHEAD_STATE_DIR, BULKHEAD_BPFFS, BULKHEAD_HOOK, BULKHEAD_DEBUG.\n"
		   "\nExample:\n  bulkhead attach veth1a2b --workload shop/web --ip 10.0.0.5 -l app=web\n");
}

void bh_help_print_object(FILE *f, const char *object)
{
	char w[64];

	fprintf(f, "usage: bulkhead %s COMMAND [ARGS]\n\nCommands:\n", object);
	for (const struct bh_help *h = bh_help_table; h->command; h++) {
		if (!same(h->object, object) || h->hidden)
			continue;
		words(h, w, sizeof(w));
		fprintf(f, "  bulkhead %s %s\n      %s\n", w, h->args, h->summary);
	}
	fprintf(f, "\nbulkhead help %s COMMAND shows one command.\n", object);
}

void bh_help_print_command(FILE *f, const struct bh_help *h)
{
	char w[64];

	words(h, w, sizeof(w));
	fprintf(f, "usage: bulkhead %s%s%s\n\n%s.\n", w, h->args[0] ? " " : "", h->args, h->summary);
	if (h->details)
		fprintf(f, "\n%s\n", h->details);
	if (h->opts[0].flags) {
		fprintf(f, "\nOptions:\n");
		print_opts(f, h->opts);
	}
	fprintf(f, "\nGlobal options: -o json|yaml|wide, --no-headers, --state-dir DIR,"
		   " --bpffs DIR (bulkhead --help).\n\nExample:\n");
	print_indented(f, h->example, "  ");
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *opts_json(const struct bh_help_opt *o)
{
	json_object *arr = json_object_new_array();

	for (const struct bh_help_opt *p = o; p->flags; p++) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "flags", jstr(p->flags));
		json_object_object_add(j, "text", jstr(p->text));
		json_object_array_add(arr, j);
	}
	return arr;
}

json_object *bh_help_json(void)
{
	json_object *root = json_object_new_object(), *cmds = json_object_new_array();

	for (const struct bh_help *h = bh_help_table; h->command; h++) {
		json_object *j = json_object_new_object();
		char w[64];

		if (h->hidden)
			continue;
		words(h, w, sizeof(w));
		json_object_object_add(j, "command", jstr(w));
		json_object_object_add(j, "object", jstr(h->object));
		json_object_object_add(j, "verb", jstr(h->command));
		json_object_object_add(j, "args", jstr(h->args));
		json_object_object_add(j, "summary", jstr(h->summary));
		json_object_object_add(j, "options", opts_json(h->opts));
		json_object_object_add(j, "example", jstr(h->example));
		json_object_array_add(cmds, j);
	}
	json_object_object_add(root, "commands", cmds);
	json_object_object_add(root, "global_options", opts_json(bh_help_global_opts));
	return root;
}
