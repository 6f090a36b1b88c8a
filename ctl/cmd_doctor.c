// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead doctor [--json] [--cni-conf-dir DIR] [--cni-bin-dir DIR]`:
 * what this node has and lacks (lib/core/doctor.h). Exit 0 when every needed
 * check passed, 1 when one is missing. The agent prints the same lines
 * when it cannot load (bh_cli_doctor_explain).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmd_deliver.h"
#include "doctor.h"

static void print_text(FILE *f, const struct bh_doctor_report *r)
{
	for (int i = 0; i < r->nr; i++) {
		const struct bh_doctor_check *c = &r->checks[i];
		const char *st = c->state == BH_DOC_OK ? "ok" :
				 c->state == BH_DOC_INFO ? "info" :
				 c->needed ? "MISSING" : "absent";

		fprintf(f, "%-8s %-10s %s\n", st, c->name, c->detail);
	}
	fprintf(f, "%s\n", r->usable ? "this node can run bulkhead" :
		"this node cannot run bulkhead: see MISSING above");
}

static struct json_object *to_json(const struct bh_doctor_report *r)
{
	struct json_object *j = json_object_new_object(), *arr = json_object_new_array();

	for (int i = 0; i < r->nr; i++) {
		const struct bh_doctor_check *c = &r->checks[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "state",
				       json_object_new_string(bh_doctor_state_name(c->state)));
		json_object_object_add(o, "needed", json_object_new_boolean(c->needed));
		json_object_object_add(o, "detail", json_object_new_string(c->detail));
		json_object_array_add(arr, o);
	}
	json_object_object_add(j, "usable", json_object_new_boolean(r->usable));
	json_object_object_add(j, "checks", arr);
	return j;
}

void bh_cli_doctor_explain(struct bh_ctx *ctx, FILE *f)
{
	struct bh_doctor_report r;

	if (bh_doctor_run_ctx(ctx, NULL, NULL, &r))
		return;
	fprintf(f, "bulkhead doctor:\n");
	print_text(f, &r);
}

int bh_cmd_doctor(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cni-conf-dir", required_argument, NULL, 'c' },
		{ "cni-bin-dir", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf_dir = NULL, *bin_dir = NULL;
	struct bh_doctor_report r;
	struct bh_ctx *ctx;
	int c, status;

	while ((c = bh_cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_dir = optarg;
			break;
		case 'b':
			bin_dir = optarg;
			break;
		case 'h':
			printf("usage: bulkhead doctor [--json] [--cni-conf-dir DIR]"
			       " [--cni-bin-dir DIR]\n\n"
			       "What this node's kernel and host offer bulkhead: bpffs, BTF, the\n"
			       "programs' load, tcx or clsact, XDP, ring buffer, kfuncs, memlock,\n"
			       "the CNI chain. Exit 0 when every needed check passed, 1 when one\n"
			       "is missing. See docs/operations.md.\n");
			return BH_EXIT_OK;
		default:
			return bh_cli_fail(BH_EXIT_USER, "doctor: unknown option '%s'",
					   argv[optind - 2]);
		}
	}
	if (optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "doctor: unexpected argument '%s'",
				   argv[optind - 1]);
	if ((status = bh_cli_open(cli, true, &ctx)))
		return status;
	if (bh_doctor_run_ctx(ctx, conf_dir, bin_dir, &r)) {
		bh_ctx_close(ctx);
		return bh_cli_fail(BH_EXIT_SYSTEM, "doctor: out of memory");
	}
	bh_ctx_close(ctx);
	if (cli->json) {
		struct json_object *j = to_json(&r);

		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		print_text(stdout, &r);
	}
	return r.usable ? BH_EXIT_OK : BH_EXIT_USER;
}
