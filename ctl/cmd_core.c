// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Core commands: attach, detach, namespace, workload, policy
 * apply/delete/list, mode, quarantine, release, stats, reset, and the
 * hidden `debug hooks` the tests use. Thin: parse, call, print. */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "config.h"
#include "docker_gate.h"
#include "policy.h"
#include "l2id.h"
#include "sync.h"
#include "store.h"

#define NS_NAME_BUF (BH_NAME_MAX + 1)

static int bad_option(const char *cmd, char **argv)
{
	/* getopt has advanced past the offending word (argv is shifted by
	 * one, see bh_cli_getopt). */
	const char *arg = optind >= 2 ? argv[optind - 2] : "?";

	return bh_cli_fail(BH_EXIT_USER, "%s: unknown option or missing value: %s"
			   " (see bulkhead help)", cmd, arg);
}

static int extra_args(const char *cmd, int argc, char **argv, int first, int want)
{
	if (argc - first > want)
		return bh_cli_fail(BH_EXIT_USER, "%s: unexpected argument '%s'", cmd,
				   argv[first + want]);
	if (argc - first < want)
		return bh_cli_fail(BH_EXIT_USER, "%s: missing argument (see bulkhead help)", cmd);
	return 0;
}

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static void time_text(__s64 ms, char *buf, size_t len)
{
	time_t t = ms / 1000;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --------------------------------------------------------------- attach */
/* The workload's layer 2 identity: "mac" (null: none bound), "router". */
static void add_l2(struct bh_ctx *ctx, struct json_object *j, __u32 slot)
{
	bool bound, router;
	char buf[32];
	__u8 mac[6];

	if (bh_l2_slot_get(ctx, slot, mac, &bound, &router))
		return;
	if (bound)
		bh_mac_format(mac, buf, sizeof(buf));
	json_object_object_add(j, "mac", bound ? jstr(buf) : NULL);
	json_object_object_add(j, "router", json_object_new_boolean(router));
}

static int cmd_attach(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "workload", required_argument, 0, 'w' }, { "ip", required_argument, 0, 'i' },
		{ "label", required_argument, 0, 'l' }, { "hook", required_argument, 0, 'H' },
		{ "mode", required_argument, 0, 'm' }, { "mac", required_argument, 0, 'M' },
		{ "router", no_argument, 0, 'R' }, { "port", required_argument, 0, 'P' }, { 0 },
	};
	struct bh_attach_opts *o = calloc(1, sizeof(*o));
	char why[160];
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	const char *workload = NULL;
	struct bh_ctx *ctx = NULL;
	bool hook_given = false;
	int c, err, status = BH_EXIT_USER;

	if (!o)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	o->mode = BH_MODE_ENFORCE;
	o->hook = BH_HOOK_TC;
	while ((c = bh_cli_getopt(argc, argv, "l:", lo, NULL)) != -1) {
		switch (c) {
		case 'w':
			workload = optarg;
			break;
		case 'i':
			if (o->nr_ips >= BH_MAX_WORKLOAD_IPS) {
				bh_cli_fail(BH_EXIT_USER, "attach: --ip: at most %d addresses",
					    BH_MAX_WORKLOAD_IPS);
				goto out;
			}
			if (bh_ip_parse(optarg, &o->ips[o->nr_ips])) {
				bh_cli_fail(BH_EXIT_USER, "attach: --ip: bad address '%s'", optarg);
				goto out;
			}
			o->nr_ips++;
			break;
		case 'l':
			if (o->nr_labels >= BH_MAX_LABELS) {
				bh_cli_fail(BH_EXIT_USER, "attach: --label: at most %d labels",
					    BH_MAX_LABELS);
				goto out;
			}
			if (bh_label_parse(optarg, &o->labels[o->nr_labels])) {
				bh_cli_fail(BH_EXIT_USER, "attach: --label: expected KEY=VALUE"
					    " (Kubernetes label syntax), got '%s'", optarg);
				goto out;
			}
			o->nr_labels++;
			break;
		case 'H':
			if (bh_hook_parse(optarg, &o->hook)) {
				bh_cli_fail(BH_EXIT_USER, "attach: --hook: expected xdp or tc, got '%s'",
					    optarg);
				goto out;
			}
			hook_given = true;
			break;
		case 'm':
			if (bh_mode_parse(optarg, &o->mode)) {
				bh_cli_fail(BH_EXIT_USER, "attach: --mode: expected learn, monitor or"
					    " enforce, got '%s'", optarg);
				goto out;
			}
			break;
		case 'M':
			if (bh_mac_parse(optarg, o->mac)) {
				bh_cli_fail(BH_EXIT_USER, "attach: --mac: expected the container"
					    " interface's unicast MAC as aa:bb:cc:dd:ee:ff, got '%s'",
					    optarg);
				goto out;
			}
			o->has_mac = true;
			break;
		case 'R':
			o->router = true;
			break;
		case 'P':
			if (o->nr_ports >= BH_MAX_NAMED_PORTS) {
				bh_cli_fail(BH_EXIT_USER, "attach: --port: at most %d named ports",
					    BH_MAX_NAMED_PORTS);
				goto out;
			}
			if (bh_named_port_parse(optarg, &o->ports[o->nr_ports], why, sizeof(why))) {
				bh_cli_fail(BH_EXIT_USER, "attach: --port: %s", why);
				goto out;
			}
			o->nr_ports++;
			break;
		default:
			bad_option("attach", argv);
			goto out;
		}
	}
	if (extra_args("attach", argc, argv, optind - 1, 1))
		goto out;
	if (!workload) {
		bh_cli_fail(BH_EXIT_USER, "attach: --workload NAMESPACE/NAME is required");
		goto out;
	}
	if (!o->nr_ips) {
		bh_cli_fail(BH_EXIT_USER, "attach: at least one --ip is required");
		goto out;
	}
	if ((status = bh_cli_split_workload(workload, ns, sizeof(ns), name, sizeof(name))))
		goto out;
	o->ifname = argv[optind - 1];
	o->ns = ns;
	o->name = name;
	if ((status = bh_cli_open(cli, false, &ctx)))
		goto out;
	/* --hook > BULKHEAD_HOOK > `hook` in STATE_DIR/config > tc */
	err = hook_given ? 0 : bh_config_default_hook(ctx, &o->hook);
	if (!err)
		err = bh_workload_attach(ctx, o);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "attach");
	} else {
		struct bh_workload_info *w = malloc(sizeof(*w));
		struct json_object *j = json_object_new_object();

		if (w && !bh_workload_get(ctx, ns, name, w)) {
			json_object_object_add(j, "workload", jstr(workload));
			json_object_object_add(j, "ifname", jstr(w->ifname));
			json_object_object_add(j, "slot", json_object_new_int64(w->slot));
			json_object_object_add(j, "identity", json_object_new_int64(w->identity));
			json_object_object_add(j, "hook", jstr(bh_hook_name(w->hook)));
			json_object_object_add(j, "mode", jstr(bh_mode_name(w->mode)));
			add_l2(ctx, j, w->slot);
		}
		free(w);
		status = bh_cli_done(cli, j, "attached %s to %s (hook %s, mode %s)", workload,
				     o->ifname, bh_hook_name(o->hook), bh_mode_name(o->mode));
	}
out:
	bh_ctx_close(ctx);
	free(o);
	return status;
}

/* IFNAME, or NS/NAME (an interface name never holds a '/'). */
static int cmd_detach(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF], ifname[IF_NAMESIZE] = "";
	struct bh_ctx *ctx;
	int err, status;

	if (extra_args("detach", argc, argv, 0, 1))
		return BH_EXIT_USER;
	if (strchr(argv[0], '/') &&
	    (status = bh_cli_split_workload(argv[0], ns, sizeof(ns), name, sizeof(name))))
		return status;
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	if (strchr(argv[0], '/')) {
		struct bh_workload_info *w = malloc(sizeof(*w));

		err = w ? bh_workload_get(ctx, ns, name, w) : -ENOMEM;
		if (!err)
			snprintf(ifname, sizeof(ifname), "%s", w->ifname);
		free(w);
		if (err) {
			status = err == -ENOENT ? bh_cli_fail(BH_EXIT_USER, "detach: no workload %s",
							      argv[0])
						: bh_cli_ctx_fail(ctx, err, "detach");
			bh_ctx_close(ctx);
			return status;
		}
	} else {
		snprintf(ifname, sizeof(ifname), "%s", argv[0]);
	}
	err = bh_workload_detach(ctx, ifname);
	if (err)
		status = bh_cli_ctx_fail(ctx, err, "detach");
	else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "ifname", jstr(ifname));
		if (strchr(argv[0], '/'))
			json_object_object_add(j, "workload", jstr(argv[0]));
		json_object_object_add(j, "detached", json_object_new_boolean(1));
		status = bh_cli_done(cli, j, "detached %s", argv[0]);
	}
	bh_ctx_close(ctx);
	return status;
}

/* ------------------------------------------------------------ namespace */
/* "TARGET K=V... [--remove K]...": labels to set and keys to remove. */
struct label_args {
	const char *target;
	int nr_set, nr_remove;
	struct bh_label set[BH_MAX_LABELS];
	const char *remove[BH_MAX_LABELS];
};

static int parse_label_args(const char *cmd, int argc, char **argv, struct label_args *la)
{
	static const struct option lo[] = { { "remove", required_argument, 0, 'r' }, { 0 } };
	int c;

	while ((c = bh_cli_getopt(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'r')
			return bad_option(cmd, argv);
		if (la->nr_remove >= BH_MAX_LABELS)
			return bh_cli_fail(BH_EXIT_USER, "%s: at most %d --remove", cmd,
					   BH_MAX_LABELS);
		la->remove[la->nr_remove++] = optarg;
	}
	/* getopt moved the operands after the options */
	if (optind - 1 >= argc)
		return bh_cli_fail(BH_EXIT_USER, "%s: missing argument (see bulkhead help)", cmd);
	la->target = argv[optind - 1];
	for (int i = optind; i < argc; i++) {
		if (la->nr_set >= BH_MAX_LABELS)
			return bh_cli_fail(BH_EXIT_USER, "%s: at most %d labels", cmd, BH_MAX_LABELS);
		if (bh_label_parse(argv[i], &la->set[la->nr_set]))
			return bh_cli_fail(BH_EXIT_USER, "%s: expected KEY=VALUE (Kubernetes label"
					   " syntax), got '%s'", cmd, argv[i]);
		la->nr_set++;
	}
	if (!la->nr_set && !la->nr_remove)
		return bh_cli_fail(BH_EXIT_USER, "%s: nothing to do: give K=V or --remove K", cmd);
	return BH_EXIT_OK;
}

static struct json_object *label_result(const char *what, const char *target,
					const struct label_args *la)
{
	struct json_object *j = json_object_new_object(), *l = json_object_new_object(),
			   *r = json_object_new_array();

	for (int i = 0; i < la->nr_set; i++)
		json_object_object_add(l, la->set[i].key, jstr(la->set[i].value));
	for (int i = 0; i < la->nr_remove; i++)
		json_object_array_add(r, jstr(la->remove[i]));
	json_object_object_add(j, what, jstr(target));
	json_object_object_add(j, "labels", l);
	json_object_object_add(j, "removed", r);
	return j;
}

static int cmd_ns_label(struct bh_cli *cli, int argc, char **argv)
{
	struct label_args *la = calloc(1, sizeof(*la));
	struct bh_ctx *ctx = NULL;
	int err, status;

	if (!la)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	if ((status = parse_label_args("namespace label", argc, argv, la)) ||
	    (status = bh_cli_open(cli, false, &ctx)))
		goto out;
	err = bh_namespace_relabel(ctx, la->target, la->nr_set, la->set, la->nr_remove,
				   la->remove);
	if (err)
		status = bh_cli_ctx_fail(ctx, err, "namespace label");
	else
		status = bh_cli_done(cli, label_result("namespace", la->target, la),
				     "labelled namespace %s", la->target);
out:
	bh_ctx_close(ctx);
	free(la);
	return status;
}

static int cmd_workload_label(struct bh_cli *cli, int argc, char **argv)
{
	struct label_args *la = calloc(1, sizeof(*la));
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct bh_ctx *ctx = NULL;
	int err, status;

	if (!la)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	if ((status = parse_label_args("workload label", argc, argv, la)) ||
	    (status = bh_cli_split_workload(la->target, ns, sizeof(ns), name, sizeof(name))) ||
	    (status = bh_cli_open(cli, false, &ctx)))
		goto out;
	err = bh_workload_label(ctx, ns, name, la->nr_set, la->set, la->nr_remove, la->remove);
	if (err)
		status = bh_cli_ctx_fail(ctx, err, "workload label");
	else
		status = bh_cli_done(cli, label_result("workload", la->target, la),
				     "labelled workload %s", la->target);
out:
	bh_ctx_close(ctx);
	free(la);
	return status;
}

struct ns_list {
	struct bh_ctx *ctx;
	struct json_object *arr;
	const struct bh_selector *sel;	/* NULL: all */
};

static int ns_row(const char *ns, void *arg)
{
	struct json_object *row, *l;
	struct bh_label labels[BH_MAX_LABELS + 1];
	int nr = BH_MAX_LABELS + 1;
	struct ns_list *a = arg;

	if (bh_namespace_get_labels(a->ctx, ns, &nr, labels))
		nr = 0;
	if (a->sel && !bh_selector_match(a->sel, nr, labels))
		return 0;
	row = json_object_new_object();
	l = json_object_new_object();
	for (int i = 0; i < nr; i++)
		json_object_object_add(l, labels[i].key, jstr(labels[i].value));
	json_object_object_add(row, "namespace", jstr(ns));
	json_object_object_add(row, "labels", l);
	json_object_array_add(a->arr, row);
	return 0;
}

/* -n NS and -l SELECTOR of the listings. */
struct list_filter {
	const char *ns;
	bool has_sel;
	struct bh_selector sel;
};

static int parse_list_filter(const char *cmd, int argc, char **argv, bool with_ns,
			     struct list_filter *f)
{
	static const struct option lo[] = {
		{ "namespace", required_argument, 0, 'n' }, { "selector", required_argument, 0, 'l' },
		{ 0 },
	};
	int c, status;

	memset(f, 0, sizeof(*f));
	while ((c = bh_cli_getopt(argc, argv, with_ns ? "n:l:" : "l:", lo, NULL)) != -1) {
		if (c == 'n' && with_ns) {
			f->ns = optarg;
		} else if (c == 'l') {
			if (f->has_sel)
				return bh_cli_fail(BH_EXIT_USER, "%s: -l given twice (join the"
						   " requirements with a comma)", cmd);
			if ((status = bh_cli_selector(cmd, optarg, &f->sel)))
				return status;
			f->has_sel = true;
		} else {
			return bad_option(cmd, argv);
		}
	}
	return extra_args(cmd, argc, argv, optind - 1, 0);
}

static void list_filter_free(struct list_filter *f)
{
	if (f->has_sel)
		bh_selector_free(&f->sel);
}

static int cmd_ns_list(struct bh_cli *cli, int argc, char **argv)
{
	struct ns_list a = { 0 };
	struct list_filter f;
	int status;

	if ((status = parse_list_filter("namespace list", argc, argv, false, &f))) {
		list_filter_free(&f);
		return status;
	}
	if ((status = bh_cli_open(cli, true, &a.ctx))) {
		list_filter_free(&f);
		return status;
	}
	a.arr = json_object_new_array();
	a.sel = f.has_sel ? &f.sel : NULL;
	if (bh_ctx_db(a.ctx))
		bh_store_ns_foreach(bh_ctx_db(a.ctx), ns_row, &a);
	bh_ctx_close(a.ctx);
	list_filter_free(&f);
	return bh_cli_print(cli, a.arr, (const char *const[]){ "namespace", "labels", NULL });
}

/* ------------------------------------------------------------- workload */
static struct json_object *workload_json(const struct bh_workload_info *w)
{
	struct json_object *j = json_object_new_object(), *ips = json_object_new_array(),
			   *labels = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 2 * NS_NAME_BUF];

	snprintf(buf, sizeof(buf), "%s/%s", w->ns, w->name);
	json_object_object_add(j, "workload", jstr(buf));
	json_object_object_add(j, "namespace", jstr(w->ns));
	json_object_object_add(j, "name", jstr(w->name));
	json_object_object_add(j, "ifname", jstr(w->ifname));
	json_object_object_add(j, "ifindex", json_object_new_int64(w->ifindex));
	json_object_object_add(j, "slot", json_object_new_int64(w->slot));
	json_object_object_add(j, "identity", json_object_new_int64(w->identity));
	json_object_object_add(j, "hook", jstr(bh_hook_name(w->hook)));
	json_object_object_add(j, "mode", jstr(bh_mode_name(w->mode)));
	json_object_object_add(j, "quarantined", json_object_new_boolean(w->quarantined));
	json_object_object_add(j, "reason", w->quarantined ? jstr(w->quarantine_reason) : NULL);
	for (int i = 0; i < w->nr_ips; i++)
		json_object_array_add(ips, jstr(bh_ip_format(&w->ips[i], buf, sizeof(buf))));
	json_object_object_add(j, "ips", ips);
	for (int i = 0; i < w->nr_labels; i++)
		json_object_object_add(labels, w->labels[i].key, jstr(w->labels[i].value));
	json_object_object_add(j, "labels", labels);
	ips = json_object_new_array();
	for (int i = 0; i < w->nr_ports; i++)
		json_object_array_add(ips, jstr(bh_named_port_format(&w->ports[i], buf,
								     sizeof(buf))));
	json_object_object_add(j, "ports", ips);
	json_object_object_add(j, "pending", json_object_new_boolean(w->pending));
	return j;
}

struct workload_list {
	struct bh_ctx *ctx;
	struct json_object *arr;
	const struct list_filter *f;
};

static int add_workload_row(const struct bh_workload_info *w, void *arg)
{
	struct workload_list *a = arg;
	struct json_object *j;

	if (a->f->ns && strcmp(a->f->ns, w->ns))
		return 0;
	if (a->f->has_sel && !bh_selector_match(&a->f->sel, w->nr_labels, w->labels))
		return 0;
	j = workload_json(w);
	add_l2(a->ctx, j, w->slot);	/* "mac", "router" */
	json_object_array_add(a->arr, j);
	return 0;
}

static const char *const workload_cols[] = { "workload", "ifname", "slot", "mode", "hook",
					     "quarantined", "ips", "labels", NULL };

static int cmd_workload_list(struct bh_cli *cli, int argc, char **argv)
{
	struct workload_list a;
	struct list_filter f;
	struct bh_ctx *ctx;
	int err, status;

	if ((status = parse_list_filter("workload list", argc, argv, true, &f)) ||
	    (status = bh_cli_open(cli, true, &ctx))) {
		list_filter_free(&f);
		return status;
	}
	a.ctx = ctx;
	a.arr = json_object_new_array();
	a.f = &f;
	err = bh_workload_foreach(ctx, add_workload_row, &a);
	if (err) {
		json_object_put(a.arr);
		status = bh_cli_ctx_fail(ctx, err, "workload list");
	} else {
		status = bh_cli_print(cli, a.arr, workload_cols);
	}
	bh_ctx_close(ctx);
	list_filter_free(&f);
	return status;
}

static int cmd_workload_get(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct bh_workload_info *w;
	struct bh_ctx *ctx;
	int err, status;

	if (extra_args("workload get", argc, argv, 0, 1))
		return BH_EXIT_USER;
	if ((status = bh_cli_split_workload(argv[0], ns, sizeof(ns), name, sizeof(name))) ||
	    (status = bh_cli_open(cli, true, &ctx)))
		return status;
	w = malloc(sizeof(*w));
	err = w ? bh_workload_get(ctx, ns, name, w) : -ENOMEM;
	if (err == -ENOENT)
		status = bh_cli_fail(BH_EXIT_USER, "no workload %s", argv[0]);
	else if (err)
		status = bh_cli_ctx_fail(ctx, err, "workload get");
	else
		status = bh_cli_print(cli, workload_json(w), NULL);
	free(w);
	bh_ctx_close(ctx);
	return status;
}

/* --------------------------------------------------------------- policy */
static int cmd_policy_apply(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = { { "file", required_argument, 0, 'f' }, { 0 } };
	static const char *const change[] = { "created", "configured", "unchanged" };
	struct bh_apply_result res;
	const char *file = NULL;
	struct bh_ctx *ctx;
	int c, err, status;

	while ((c = bh_cli_getopt(argc, argv, "f:", lo, NULL)) != -1) {
		if (c != 'f')
			return bad_option("policy apply", argv);
		file = optarg;
	}
	if (!file && optind - 1 < argc)
		file = argv[optind++ - 1];
	if (!file)
		return bh_cli_fail(BH_EXIT_USER, "policy apply: -f FILE is required");
	if (extra_args("policy apply", argc, argv, optind - 1, 0))
		return BH_EXIT_USER;
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_policy_apply_file(ctx, file, &res);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "policy apply");
	} else {
		struct json_object *arr = json_object_new_array();

		for (int i = 0; i < res.nr; i++) {
			struct json_object *row = json_object_new_object();

			json_object_object_add(row, "namespace", jstr(res.items[i].ns));
			json_object_object_add(row, "name", jstr(res.items[i].name));
			json_object_object_add(row, "kind", jstr(bh_policy_kind_name(res.items[i].kind)));
			json_object_object_add(row, "result", jstr(change[res.items[i].change]));
			json_object_array_add(arr, row);
		}
		if (cli->json) {
			status = bh_cli_print(cli, arr, NULL);
		} else {
			for (int i = 0; i < res.nr; i++)
				printf("%s %s%s%s %s\n", bh_policy_kind_name(res.items[i].kind),
				       res.items[i].ns, res.items[i].ns[0] ? "/" : "",
				       res.items[i].name, change[res.items[i].change]);
			json_object_put(arr);
			status = BH_EXIT_OK;
		}
		bh_apply_result_free(&res);
	}
	bh_ctx_close(ctx);
	return status;
}

/* NS/NAME is namespaced; NAME or /NAME a cluster-wide policy. */
static int split_policy(const char *arg, char *ns, char *name)
{
	const char *slash = strchr(arg, '/');

	if (!*arg || (slash && (!slash[1] || strchr(slash + 1, '/'))))
		return bh_cli_fail(BH_EXIT_USER, "expected NAMESPACE/NAME, NAME or /NAME, got '%s'",
				   arg);
	if (!slash) {
		ns[0] = '\0';
		snprintf(name, NS_NAME_BUF, "%s", arg);
		return 0;
	}
	if (slash - arg >= NS_NAME_BUF || strlen(slash + 1) >= NS_NAME_BUF)
		return bh_cli_fail(BH_EXIT_USER, "name too long: '%s'", arg);
	snprintf(ns, NS_NAME_BUF, "%.*s", (int)(slash - arg), arg);
	snprintf(name, NS_NAME_BUF, "%s", slash + 1);
	return 0;
}

static int cmd_policy_delete(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct bh_ctx *ctx;
	int err, status;

	if (extra_args("policy delete", argc, argv, 0, 1))
		return BH_EXIT_USER;
	if ((status = split_policy(argv[0], ns, name)))
		return status;
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_policy_delete(ctx, ns, name);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "policy delete");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "namespace", jstr(ns));
		json_object_object_add(j, "name", jstr(name));
		json_object_object_add(j, "deleted", json_object_new_boolean(1));
		status = bh_cli_done(cli, j, "deleted policy %s%s%s", ns, ns[0] ? "/" : "", name);
	}
	bh_ctx_close(ctx);
	return status;
}

static struct json_object *policy_json(const struct bh_store_policy *p, bool with_source)
{
	struct json_object *row = json_object_new_object(), *l = json_object_new_object();
	struct bh_label labels[BH_MAX_LABELS];
	int nr = BH_MAX_LABELS;
	char t[32];

	time_text(p->applied_ms, t, sizeof(t));
	bh_policy_source_labels(p->source, &nr, labels);
	for (int i = 0; i < nr; i++)
		json_object_object_add(l, labels[i].key, jstr(labels[i].value));
	json_object_object_add(row, "namespace", p->ns[0] ? jstr(p->ns) : NULL);
	json_object_object_add(row, "name", jstr(p->name));
	json_object_object_add(row, "kind", jstr(bh_policy_kind_name(p->kind)));
	json_object_object_add(row, "file", jstr(p->file));
	json_object_object_add(row, "applied", jstr(t));
	json_object_object_add(row, "labels", l);
	if (with_source)
		json_object_object_add(row, "source", jstr(p->source));
	return row;
}

struct policy_list {
	struct json_object *arr;
	const struct list_filter *f;
	/* policy get */
	const char *ns, *name;
	bool found;
};

static int add_policy_row(const struct bh_store_policy *p, void *arg)
{
	struct policy_list *a = arg;

	if (a->name) {
		/* policy get: the one policy, with its source */
		if (strcmp(a->ns, p->ns) || strcmp(a->name, p->name))
			return 0;
		a->found = true;
		json_object_array_add(a->arr, policy_json(p, true));
		return 1;
	}
	if (a->f->ns && strcmp(a->f->ns, p->ns))
		return 0;
	if (a->f->has_sel) {
		struct bh_label labels[BH_MAX_LABELS];
		int nr = BH_MAX_LABELS;

		bh_policy_source_labels(p->source, &nr, labels);
		if (!bh_selector_match(&a->f->sel, nr, labels))
			return 0;
	}
	json_object_array_add(a->arr, policy_json(p, false));
	return 0;
}

static int cmd_policy_list(struct bh_cli *cli, int argc, char **argv)
{
	struct policy_list a = { 0 };
	struct list_filter f;
	struct bh_ctx *ctx;
	int err = 0, status;

	if ((status = parse_list_filter("policy list", argc, argv, true, &f)) ||
	    (status = bh_cli_open(cli, true, &ctx))) {
		list_filter_free(&f);
		return status;
	}
	a.arr = json_object_new_array();
	a.f = &f;
	if (bh_ctx_db(ctx))
		err = bh_store_policy_foreach(bh_ctx_db(ctx), add_policy_row, &a);
	if (err) {
		json_object_put(a.arr);
		status = bh_cli_fail(BH_EXIT_SYSTEM, "policy list: cannot read the state store: %s",
				     strerror(-err));
	} else {
		status = bh_cli_print(cli, a.arr, (const char *const[]){
			"namespace", "name", "kind", "file", "applied", NULL });
	}
	bh_ctx_close(ctx);
	list_filter_free(&f);
	return status;
}

/* The stored source as applied (text), or the policy with its source
 * as one object (-o json|yaml). */
static int cmd_policy_get(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct policy_list a = { .ns = ns, .name = name };
	struct bh_ctx *ctx;
	int err = 0, status;

	if (extra_args("policy get", argc, argv, 0, 1))
		return BH_EXIT_USER;
	if ((status = split_policy(argv[0], ns, name)) || (status = bh_cli_open(cli, true, &ctx)))
		return status;
	a.arr = json_object_new_array();
	if (bh_ctx_db(ctx))
		err = bh_store_policy_foreach(bh_ctx_db(ctx), add_policy_row, &a);
	bh_ctx_close(ctx);
	if (err < 0 || !a.found) {
		json_object_put(a.arr);
		if (err < 0)
			return bh_cli_fail(BH_EXIT_SYSTEM, "policy get: cannot read the state store:"
					   " %s", strerror(-err));
		return bh_cli_fail(BH_EXIT_USER, "policy get: no policy %s%s%s", ns,
				   ns[0] ? "/" : "", name);
	}
	if (cli->json) {
		struct json_object *p = json_object_get(json_object_array_get_idx(a.arr, 0));

		json_object_put(a.arr);
		return bh_cli_print(cli, p, NULL);
	}
	{
		struct json_object *src;
		const char *text;

		json_object_object_get_ex(json_object_array_get_idx(a.arr, 0), "source", &src);
		text = json_object_get_string(src);
		fputs(text, stdout);
		if (text[0] && text[strlen(text) - 1] != '\n')
			putchar('\n');
		json_object_put(a.arr);
	}
	return fflush(stdout) ? BH_EXIT_SYSTEM : BH_EXIT_OK;
}

/* ------------------------------------------------- mode, quarantine, release */
static int cmd_mode(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct bh_ctx *ctx;
	enum bh_mode mode;
	int err, status;

	if (extra_args("mode", argc, argv, 0, 2))
		return BH_EXIT_USER;
	if ((status = bh_cli_split_workload(argv[0], ns, sizeof(ns), name, sizeof(name))))
		return status;
	if (bh_mode_parse(argv[1], &mode))
		return bh_cli_fail(BH_EXIT_USER, "mode: expected learn, monitor or enforce, got '%s'",
				   argv[1]);
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_workload_set_mode(ctx, ns, name, mode);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "mode");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "workload", jstr(argv[0]));
		json_object_object_add(j, "mode", jstr(bh_mode_name(mode)));
		status = bh_cli_done(cli, j, "%s is in %s mode", argv[0], bh_mode_name(mode));
	}
	bh_ctx_close(ctx);
	return status;
}

static int cmd_quarantine(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = { { "reason", required_argument, 0, 'r' }, { 0 } };
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	const char *reason = "manual";
	struct bh_ctx *ctx;
	int c, err, status;

	while ((c = bh_cli_getopt(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'r')
			return bad_option("quarantine", argv);
		reason = optarg;
	}
	if (extra_args("quarantine", argc, argv, optind - 1, 1))
		return BH_EXIT_USER;
	if ((status = bh_cli_split_workload(argv[optind - 1], ns, sizeof(ns), name, sizeof(name))))
		return status;
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_workload_quarantine(ctx, ns, name, reason);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "quarantine");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "workload", jstr(argv[optind - 1]));
		json_object_object_add(j, "quarantined", json_object_new_boolean(1));
		json_object_object_add(j, "reason", jstr(reason));
		status = bh_cli_done(cli, j, "quarantined %s (%s)", argv[optind - 1], reason);
	}
	bh_ctx_close(ctx);
	return status;
}

static int cmd_release(struct bh_cli *cli, int argc, char **argv)
{
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct bh_ctx *ctx;
	int err, status;

	if (extra_args("release", argc, argv, 0, 1))
		return BH_EXIT_USER;
	if ((status = bh_cli_split_workload(argv[0], ns, sizeof(ns), name, sizeof(name))))
		return status;
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_workload_release(ctx, ns, name);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "release");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "workload", jstr(argv[0]));
		json_object_object_add(j, "quarantined", json_object_new_boolean(0));
		status = bh_cli_done(cli, j, "released %s", argv[0]);
	}
	bh_ctx_close(ctx);
	return status;
}

/* ---------------------------------------------------------------- stats */
struct stats_arg {
	struct bh_ctx *ctx;
	struct json_object *rows, *rules;
	const char *ns, *name;	/* filter, or NULL */
	int err;
};

static const enum bh_verdict reason_verdict[BH_R_MAX] = {
	[BH_R_POLICY_ALLOW] = BH_V_ALLOW, [BH_R_NOT_ISOLATED] = BH_V_ALLOW,
	[BH_R_ESTABLISHED] = BH_V_ALLOW, [BH_R_LEARN] = BH_V_WOULD_DENY,
	[BH_R_POLICY_DENY] = BH_V_DENY, [BH_R_DEFAULT_DENY] = BH_V_DENY,
	[BH_R_QUARANTINE] = BH_V_QUARANTINE, [BH_R_FORENSICS] = BH_V_ALLOW,
	[BH_R_SPOOF_IP] = BH_V_SPOOF, [BH_R_SPOOF_ARP] = BH_V_SPOOF,
	[BH_R_MALFORMED] = BH_V_DROP, [BH_R_FRAGMENT] = BH_V_DROP, [BH_R_IPV6_EXT] = BH_V_DROP,
	[BH_R_VLAN] = BH_V_DROP, [BH_R_L3_UNKNOWN] = BH_V_DROP, [BH_R_ARP] = BH_V_ALLOW,
	[BH_R_ND] = BH_V_ALLOW, [BH_R_NO_WORKLOAD] = BH_V_DROP,
	[BH_R_SPOOF_MAC] = BH_V_SPOOF, [BH_R_ROUTER_MSG] = BH_V_SPOOF,
	[BH_R_NOT_OURS] = BH_V_DROP, [BH_R_CT_SHARE] = BH_V_DROP,
};

static int stats_row(const struct bh_workload_info *w, void *arg)
{
	struct stats_arg *a = arg;
	struct bh_workload_stats st;
	char q[2 * NS_NAME_BUF];
	int err;

	if (a->ns && (strcmp(a->ns, w->ns) || strcmp(a->name, w->name)))
		return 0;
	err = bh_stats_workload(a->ctx, w->slot, &st);
	if (err) {
		a->err = err;
		return err;
	}
	snprintf(q, sizeof(q), "%s/%s", w->ns, w->name);
	for (int r = 0; r < BH_R_MAX; r++) {
		struct json_object *row;

		if (!st.reason[r].packets)
			continue;
		row = json_object_new_object();
		json_object_object_add(row, "workload", jstr(q));
		/* DENY-class reasons become would-deny outside enforce mode in
		 * the data path; stats count by reason, so name the class. */
		json_object_object_add(row, "verdict", jstr(bh_verdict_name(reason_verdict[r])));
		json_object_object_add(row, "reason", jstr(bh_reason_name(r)));
		json_object_object_add(row, "packets", json_object_new_uint64(st.reason[r].packets));
		json_object_object_add(row, "bytes", json_object_new_uint64(st.reason[r].bytes));
		json_object_array_add(a->rows, row);
	}
	return 0;
}

static int rule_row(const struct bh_rule_stat *rs, void *arg)
{
	struct stats_arg *a = arg;
	struct json_object *row = json_object_new_object();
	char desc[2 * NS_NAME_BUF + 32];

	if (rs->rule_id == BH_RULE_STATS_OVERFLOW)
		snprintf(desc, sizeof(desc), "rules beyond the map (ids >= %u)", BH_RULE_STATS_SLOTS);
	else if (bh_rule_describe(a->ctx, rs->rule_id, desc, sizeof(desc)))
		snprintf(desc, sizeof(desc), "rule %u (unknown)", rs->rule_id);
	json_object_object_add(row, "rule_id", json_object_new_int64(rs->rule_id));
	json_object_object_add(row, "rule", jstr(desc));
	json_object_object_add(row, "packets", json_object_new_uint64(rs->stat.packets));
	json_object_object_add(row, "bytes", json_object_new_uint64(rs->stat.bytes));
	json_object_array_add(a->rules, row);
	return 0;
}

static int cmd_stats(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = { { "workload", required_argument, 0, 'w' }, { 0 } };
	char ns[NS_NAME_BUF], name[NS_NAME_BUF];
	struct stats_arg a = { 0 };
	struct json_object *j, *cj;
	__u64 counters[BH_C_MAX];
	struct bh_ctx *ctx;
	int c, err, status;

	while ((c = bh_cli_getopt(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'w')
			return bad_option("stats", argv);
		if ((status = bh_cli_split_workload(optarg, ns, sizeof(ns), name, sizeof(name))))
			return status;
		a.ns = ns;
		a.name = name;
	}
	if (extra_args("stats", argc, argv, optind - 1, 0))
		return BH_EXIT_USER;
	if ((status = bh_cli_open(cli, true, &ctx)))
		return status;
	if (a.ns) {
		struct bh_workload_info *w = malloc(sizeof(*w));

		err = w ? bh_workload_get(ctx, ns, name, w) : -ENOMEM;
		free(w);
		if (err) {
			status = bh_cli_ctx_fail(ctx, err, "stats");
			bh_ctx_close(ctx);
			return status;
		}
	}
	a.ctx = ctx;
	a.rows = json_object_new_array();
	a.rules = json_object_new_array();
	j = json_object_new_object();
	cj = json_object_new_object();
	err = bh_stats_counters(ctx, counters);
	if (err == -ENOENT) {
		/* Nothing loaded yet (or backend = nftables, which has
		 * none of these maps): all zero; the nftables backend's
		 * rule chains still count per rule. */
		memset(counters, 0, sizeof(counters));
		err = bh_stats_rules_foreach(ctx, rule_row, &a);
	} else if (!err) {
		err = bh_workload_foreach(ctx, stats_row, &a);
		if (!err)
			err = bh_stats_rules_foreach(ctx, rule_row, &a);
	}
	if (err) {
		json_object_put(a.rows);
		json_object_put(a.rules);
		json_object_put(j);
		json_object_put(cj);
		status = bh_cli_ctx_fail(ctx, err, "stats");
	} else {
		for (int i = 0; i < BH_C_MAX; i++)
			json_object_object_add(cj, bh_counter_name(i), json_object_new_uint64(counters[i]));
		json_object_object_add(j, "workloads", a.rows);
		json_object_object_add(j, "rules", a.rules);
		json_object_object_add(j, "counters", cj);
		status = bh_cli_print(cli, j, NULL);
	}
	bh_ctx_close(ctx);
	return status;
}

/* ---------------------------------------------------------------- reset */
/* Ask on the terminal; anything but y/yes is no. */
static bool confirm_reset(const char *bpffs, const char *state_dir)
{
	char answer[16] = "";

	fprintf(stderr, "This detaches every bulkhead program of this instance, unpins %s and"
		" deletes the state in %s.\nReset? [y/N] ", bpffs, state_dir);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	answer[strcspn(answer, "\n")] = '\0';
	return !strcasecmp(answer, "y") || !strcasecmp(answer, "yes");
}

static int cmd_reset(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = { { "yes", no_argument, 0, 'y' }, { 0 } };
	const char *bpffs = getenv("BULKHEAD_BPFFS"), *sd = getenv("BULKHEAD_STATE_DIR");
	struct bh_ctx *ctx;
	bool yes = false;
	int c, err, status;

	while ((c = bh_cli_getopt(argc, argv, "y", lo, NULL)) != -1) {
		if (c != 'y')
			return bad_option("reset", argv);
		yes = true;
	}
	if (extra_args("reset", argc, argv, optind - 1, 0))
		return BH_EXIT_USER;
	if (!yes) {
		if (!isatty(STDIN_FILENO))
			return bh_cli_fail(BH_EXIT_USER, "reset: stdin is not a terminal; give --yes"
					   " to reset without asking");
		if (!confirm_reset(bpffs && *bpffs ? bpffs : BH_DEFAULT_BPFFS,
				   sd && *sd ? sd : BH_DEFAULT_STATE_DIR))
			return bh_cli_fail(BH_EXIT_USER, "reset: not confirmed, nothing changed");
	}
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	{
		/* the agent's Docker gate (docs/docker.md), if it made one: named
		 * after the state directory, which bh_reset removes */
		char gate[BH_GATE_TABLE_LEN];

		bh_docker_gate_name(bh_ctx_state_dir(ctx), gate);
		err = bh_docker_gate_delete(gate);
		if (err) {
			bh_ctx_close(ctx);
			return bh_cli_fail(BH_EXIT_SYSTEM, "reset: cannot remove the nftables table "
					   "bridge %s: %s", gate, strerror(-err));
		}
	}
	err = bh_reset(ctx);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "reset");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "bpffs", jstr(bh_ctx_bpffs(ctx)));
		json_object_object_add(j, "state_dir", jstr(bh_ctx_state_dir(ctx)));
		json_object_object_add(j, "reset", json_object_new_boolean(1));
		status = bh_cli_done(cli, j, "reset: programs detached, %s unpinned, state cleared",
				     bh_ctx_bpffs(ctx));
	}
	bh_ctx_close(ctx);
	return status;
}

/* ------------------------------------------------------------ debug hooks */
static struct json_object *hook_progs(const struct bh_hook_prog *p, int nr)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < nr; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(p[i].id));
		json_object_object_add(o, "name", jstr(p[i].name));
		json_object_object_add(o, "ours", json_object_new_boolean(p[i].ours));
		json_object_array_add(arr, o);
	}
	return arr;
}

static int cmd_debug_hooks(struct bh_cli *cli, int argc, char **argv)
{
	struct bh_hook_info hi;
	struct bh_ctx *ctx;
	unsigned ifindex;
	int err, status;

	if (extra_args("debug hooks", argc, argv, 0, 1))
		return BH_EXIT_USER;
	ifindex = if_nametoindex(argv[0]);
	if (!ifindex)
		return bh_cli_fail(BH_EXIT_USER, "debug hooks: no interface %s", argv[0]);
	if ((status = bh_cli_open(cli, true, &ctx)))
		return status;
	err = bh_hooks_query(ctx, ifindex, &hi);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "debug hooks");
	} else {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "ifname", jstr(argv[0]));
		json_object_object_add(j, "ifindex", json_object_new_int64(ifindex));
		json_object_object_add(j, "xdp_multiprog", json_object_new_boolean(hi.xdp_multiprog));
		json_object_object_add(j, "xdp", hook_progs(hi.xdp, hi.nr_xdp));
		json_object_object_add(j, "tcx_ingress", hook_progs(hi.tcx_ingress, hi.nr_tcx_ingress));
		json_object_object_add(j, "tcx_egress", hook_progs(hi.tcx_egress, hi.nr_tcx_egress));
		json_object_object_add(j, "clsact_ingress",
				       hook_progs(hi.clsact_ingress, hi.nr_clsact_ingress));
		json_object_object_add(j, "clsact_egress",
				       hook_progs(hi.clsact_egress, hi.nr_clsact_egress));
		status = bh_cli_print(cli, j, NULL);
	}
	bh_ctx_close(ctx);
	return status;
}

const struct bh_cli_cmd bh_core_cmds[] = {
	{ NULL, "attach", cmd_attach, "attach IFNAME --workload NS/NAME --ip IP [--ip IP]..."
	  " [--label K=V]... [--port NAME=PORT[/PROTO]]... [--hook xdp|tc]"
	  " [--mode learn|monitor|enforce] [--mac MAC] [--router]" },
	{ NULL, "detach", cmd_detach, "detach IFNAME | NS/NAME" },
	{ "namespace", "label", cmd_ns_label, "namespace label NS [K=V]... [--remove K]..." },
	{ "namespace", "list", cmd_ns_list, "namespace list [-l SELECTOR]" },
	{ "workload", "list", cmd_workload_list, "workload list [-n NS] [-l SELECTOR]" },
	{ "workload", "get", cmd_workload_get, "workload get NS/NAME" },
	{ "workload", "label", cmd_workload_label,
	  "workload label NS/NAME [K=V]... [--remove K]..." },
	{ "policy", "apply", cmd_policy_apply, "policy apply -f FILE" },
	{ "policy", "delete", cmd_policy_delete, "policy delete NS/NAME | NAME (cluster-wide)" },
	{ "policy", "list", cmd_policy_list, "policy list [-n NS] [-l SELECTOR]" },
	{ "policy", "get", cmd_policy_get, "policy get NS/NAME | NAME" },
	{ NULL, "mode", cmd_mode, "mode NS/NAME learn|monitor|enforce" },
	{ NULL, "quarantine", cmd_quarantine, "quarantine NS/NAME [--reason TEXT]" },
	{ NULL, "release", cmd_release, "release NS/NAME" },
	{ NULL, "stats", cmd_stats, "stats [--workload NS/NAME]" },
	{ NULL, "reset", cmd_reset, "reset [--yes]" },
	{ "debug", "hooks", cmd_debug_hooks, NULL },
	{ 0 },
};
