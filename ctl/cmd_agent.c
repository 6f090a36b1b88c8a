/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Agent-side commands: agent, baseline show/export, timeline, policy
 * test (flows from ctl/cmd_flows.c, capture and map from ctl/cmd_ops.c). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent.h"
#include "version.h"
#include "agent_config.h"
#include "baseline.h"
#include "cli.h"
#include "cmd_ops.h"
#include "flowjson.h"
#include "flowstore.h"
#include "host_addrs.h"
#include "policy.h"
#include "store.h"
#include "sync.h"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --since DURATION: the wall-clock time that long ago, in ms. */
static int since_opt(const char *arg, int64_t *since_ms)
{
	uint64_t d;

	if (bh_parse_duration_ms(arg, &d))
		return -EINVAL;
	*since_ms = wall_ms() - (int64_t)d;
	return 0;
}

static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jint(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* Create the missing directories above a file the agent writes (0750),
 * so a config's /var/log/bulkhead/flows.jsonl works on a fresh machine. */
static int mkdir_parents(const char *path)
{
	char *buf = strdup(path);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0750) && errno != EEXIST) {
			err = -errno;
			break;
		}
		*p = '/';
	}
	free(buf);
	return err;
}

/* ------------------------------------------------------------- agent */
/* The agent's log lines go to stderr, one write each. */
static void log_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

static int cmd_agent(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "syslog", required_argument, NULL, 's' },
		{ "syslog-format", required_argument, NULL, 'F' },
		{ "jsonl", required_argument, NULL, 'J' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'L' },
		{ 0 },
	};
	const char *config = NULL, *syslog = NULL, *format = NULL, *jsonl = NULL;
	const char *metrics = NULL, *level = NULL;
	const struct bh_agent_hooks hooks = { .version = BH_VERSION, .log = log_line };
	struct bh_agent_config cfg;
	struct bh_ctx *ctx;
	char msg[PATH_MAX + 512];
	int c, status, err;

	while ((c = bh_cli_getopt(argc, argv, "c:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'f': config = optarg; break;	/* -f: a file, as everywhere */
		case 's': syslog = optarg; break;
		case 'F': format = optarg; break;
		case 'J': jsonl = optarg; break;
		case 'm': metrics = optarg; break;
		case 'L': level = optarg; break;
		default:
			return bh_cli_fail(BH_EXIT_USER, "agent: unknown option or missing value"
					   " '%s' (bulkhead agent --help)", argv[optind - 2]);
		}
	}
	if (optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "agent: unexpected argument '%s'", argv[optind - 1]);
	bh_agent_config_defaults(&cfg);
	if (config) {
		struct bh_agent_config_error e;

		err = bh_agent_config_load(config, &cfg, &e);
		if (err == -EINVAL)
			return bh_cli_fail(BH_EXIT_USER, "%s",
					   bh_agent_config_error_format(&e, msg, sizeof(msg)));
		if (err)
			return bh_cli_fail(BH_EXIT_USER, "cannot read %s: %s", config, strerror(-err));
	}
	/* flags override the file */
	if (syslog)
		snprintf(cfg.syslog_target, sizeof(cfg.syslog_target), "%s", syslog);
	if (format && bh_syslog_format_parse(format, &cfg.syslog_format))
		return bh_cli_fail(BH_EXIT_USER, "--syslog-format: expected rfc5424, rfc3164, cef or"
				   " json, got '%s'", format);
	if (level && bh_log_level_parse(level, &cfg.log_level))
		return bh_cli_fail(BH_EXIT_USER, "--log-level: expected error, warning, info or"
				   " debug, got '%s'", level);
	if (cfg.syslog_tls && strncmp(cfg.syslog_target, "tls://", 6))
		return bh_cli_fail(BH_EXIT_USER, "%s: syslog.tls needs a tls://HOST:PORT target,"
				   " got '%s'", config ? config : "agent",
				   cfg.syslog_target[0] ? cfg.syslog_target : "none");
	if (jsonl)
		snprintf(cfg.jsonl, sizeof(cfg.jsonl), "%s", jsonl);
	if (metrics)
		snprintf(cfg.metrics_listen, sizeof(cfg.metrics_listen), "%s", metrics);

	if (cfg.jsonl[0] && (err = mkdir_parents(cfg.jsonl)))
		return bh_cli_fail(BH_EXIT_SYSTEM, "agent: cannot create the directory of %s: %s",
				   cfg.jsonl, strerror(-err));
	status = bh_cli_open(cli, false, &ctx);
	if (status)
		return status;
	/* Programs and maps loaded (or the pinned ones reused) before the
	 * agent serves: a node that cannot load them is told why, check by
	 * check, instead of an agent waiting for pins that never come. */
	err = bh_ctx_load(ctx);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "agent: cannot load the programs");
		bh_cli_doctor_explain(ctx, stderr);
		bh_ctx_close(ctx);
		return status;
	}
	err = bh_agent_run(ctx, &cfg, &hooks, msg, sizeof(msg));
	bh_ctx_close(ctx);
	if (err)
		return bh_cli_fail(err == -EINVAL ? BH_EXIT_USER : BH_EXIT_SYSTEM, "agent: %s", msg);
	return BH_EXIT_OK;
}

/* ---------------------------------------------------------- baseline */
static int open_workload(struct bh_cli *cli, const char *arg, bool ro, struct bh_ctx **ctx,
			 struct bh_workload_info *w)
{
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	int status, err;

	status = bh_cli_split_workload(arg, ns, sizeof(ns), name, sizeof(name));
	if (status)
		return status;
	status = bh_cli_open(cli, ro, ctx);
	if (status)
		return status;
	err = bh_workload_get(*ctx, ns, name, w);
	if (err) {
		bh_ctx_close(*ctx);
		if (err == -ENOENT)
			return bh_cli_fail(BH_EXIT_USER, "no workload %s/%s", ns, name);
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot read workload %s/%s: %s", ns, name,
				   strerror(-err));
	}
	return BH_EXIT_OK;
}

/* The baseline of the workload named by the one argument (usage: the
 * command's usage line). */
static int load_baseline(struct bh_cli *cli, int argc, char **argv, const char *usage,
			 struct bh_baseline *b)
{
	struct bh_workload_info *w;
	struct bh_ctx *ctx;
	int status, err;

	if (argc != 1)
		return bh_cli_fail(BH_EXIT_USER, "usage: %s", usage);
	w = calloc(1, sizeof(*w));
	if (!w)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	status = open_workload(cli, argv[0], true, &ctx, w);
	if (status) {
		free(w);
		return status;
	}
	err = bh_baseline_load(bh_ctx_db(ctx), w->ns, w->name, b);
	bh_ctx_close(ctx);
	free(w);
	if (err)
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot read the baseline: %s", strerror(-err));
	return BH_EXIT_OK;
}

static int cmd_baseline_show(struct bh_cli *cli, int argc, char **argv)
{
	static const char *const cols[] = {
		"dir:DIR", "peer:PEER", "learned_from:FROM", "proto:PROTO", "port:PORT",
		"flows:FLOWS", "first_seen:FIRST SEEN", "last_seen:LAST SEEN", NULL,
	};
	struct bh_baseline b;
	json_object *arr;
	int status;

	status = load_baseline(cli, argc, argv, "bulkhead baseline show NS/NAME", &b);
	if (status)
		return status;
	arr = json_object_new_array();
	for (int i = 0; i < b.nr; i++) {
		const struct bh_baseline_entry *e = &b.entries[i];
		json_object *o = json_object_new_object();
		char buf[BH_BASELINE_PEER_MAX + BH_NAME_MAX + 8], pbuf[8];

		jstr(o, "dir", bh_dir_name(e->dir));
		jstr(o, "peer_kind", e->peer_kind == BH_PEER_WORKLOAD ? "workload" : "cidr");
		jstr(o, "peer", bh_baseline_peer_str(e, buf, sizeof(buf)));
		snprintf(buf, sizeof(buf), "%s%s%s", e->peer_ns, e->peer_name[0] ? "/" : "",
			 e->peer_name);
		jstr(o, "learned_from", e->peer_kind == BH_PEER_WORKLOAD ? buf : "");
		jstr(o, "proto", bh_proto_str(e->proto, pbuf, sizeof(pbuf)));
		jint(o, "port", e->port);
		jint(o, "flows", e->flows);
		jstr(o, "first_seen", bh_time_iso(e->first_ms, buf, sizeof(buf)));
		jstr(o, "last_seen", bh_time_iso(e->last_ms, buf, sizeof(buf)));
		json_object_array_add(arr, o);
	}
	bh_baseline_free(&b);
	return bh_cli_print(cli, arr, cols);
}

/* The programs the workload learned (lib/agent/baseline.h). */
static int cmd_baseline_processes(struct bh_cli *cli, int argc, char **argv)
{
	static const char *const cols[] = {
		"exe:EXECUTABLE", "comm:COMMAND", "flows:FLOWS", "first_seen:FIRST SEEN",
		"last_seen:LAST SEEN", NULL,
	};
	struct bh_baseline b;
	json_object *arr;
	int status;

	status = load_baseline(cli, argc, argv, "bulkhead baseline processes NS/NAME", &b);
	if (status)
		return status;
	arr = json_object_new_array();
	for (int i = 0; i < b.nr_procs; i++) {
		const struct bh_baseline_proc *p = &b.procs[i];
		json_object *o = json_object_new_object();
		char buf[64];

		jstr(o, "exe", p->exe);
		jstr(o, "comm", p->comm);
		jint(o, "flows", p->flows);
		jstr(o, "first_seen", bh_time_iso(p->first_ms, buf, sizeof(buf)));
		jstr(o, "last_seen", bh_time_iso(p->last_ms, buf, sizeof(buf)));
		json_object_array_add(arr, o);
	}
	bh_baseline_free(&b);
	return bh_cli_print(cli, arr, cols);
}

static int cmd_baseline_export(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ 0 },
	};
	static const char *const formats[] = { "k8s", "native", NULL };
	struct bh_workload_info *w;
	enum bh_baseline_format fmt = BH_BASELINE_K8S;
	struct bh_baseline b;
	struct bh_ctx *ctx;
	int c, status, err, idx;

	while ((c = bh_cli_getopt(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'F' || (idx = bh_cli_match(optarg, formats)) < 0)
			return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead baseline export NS/NAME"
					   " --format k8s|native");
		fmt = idx == 0 ? BH_BASELINE_K8S : BH_BASELINE_NATIVE;
	}
	if (optind - 1 != argc - 1)
		return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead baseline export NS/NAME"
				   " --format k8s|native");
	w = calloc(1, sizeof(*w));
	if (!w)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	status = open_workload(cli, argv[optind - 1], true, &ctx, w);
	if (status) {
		free(w);
		return status;
	}
	err = bh_baseline_load(bh_ctx_db(ctx), w->ns, w->name, &b);
	bh_ctx_close(ctx);
	if (!err && !b.nr)
		err = -ENODATA;
	if (!err)
		err = bh_baseline_export(&b, w->nr_labels, w->labels, fmt, stdout);
	bh_baseline_free(&b);
	free(w);
	if (err == -ENODATA)
		return bh_cli_fail(BH_EXIT_USER, "%s: no baseline learned yet (put the workload in"
				   " learn mode with the agent running)", argv[optind - 1]);
	if (err)
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot export the baseline: %s", strerror(-err));
	return fflush(stdout) ? BH_EXIT_SYSTEM : BH_EXIT_OK;
}

static int cmd_baseline_clear(struct bh_cli *cli, int argc, char **argv)
{
	struct bh_workload_info *w;
	struct bh_ctx *ctx;
	int status, err;

	if (argc != 1)
		return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead baseline clear NS/NAME");
	w = calloc(1, sizeof(*w));
	if (!w)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	status = open_workload(cli, argv[0], false, &ctx, w);
	if (status) {
		free(w);
		return status;
	}
	err = bh_baseline_clear(bh_ctx_db(ctx), w->ns, w->name);
	if (!err)
		bh_event_add(ctx, w->ns, w->name, "baseline", "notice", "baseline cleared");
	bh_ctx_close(ctx);
	status = err ? bh_cli_fail(BH_EXIT_SYSTEM, "cannot clear: %s", strerror(-err))
		     : bh_cli_done(cli, NULL, "baseline of %s/%s cleared", w->ns, w->name);
	free(w);
	return status;
}

/* ---------------------------------------------------------- timeline */
static int event_row(const struct bh_event_rec *e, void *arg)
{
	json_object *o = json_object_new_object();
	char buf[40];

	jint(o, "id", e->id);
	jstr(o, "time", bh_time_iso(e->ts_ms, buf, sizeof(buf)));
	jint(o, "ts_ms", e->ts_ms);
	jstr(o, "kind", e->kind);
	jstr(o, "severity", e->severity);
	jstr(o, "detail", e->detail);
	json_object_array_add(arg, o);
	return 0;
}

static int cmd_timeline(struct bh_cli *cli, int argc, char **argv)
{
	static const char *const cols[] = {
		"time:TIME", "kind:KIND", "severity:SEVERITY", "detail:DETAIL", NULL,
	};
	static const struct option opts[] = {
		{ "node", no_argument, NULL, 'N' },
		{ 0 },
	};
	char ns[BH_NAME_MAX + 1] = "", name[BH_NAME_MAX + 1] = "";
	struct bh_ctx *ctx;
	json_object *arr;
	bool node = false;
	int c, status, err;

	while ((c = bh_cli_getopt(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'N')
			return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead timeline NS/NAME | --node");
		node = true;
	}
	argc -= optind - 1;
	argv += optind - 1;
	/* --node: events of the node itself (records lost, ring buffer
	 * re-pinned...), stored under the empty workload "" / "" */
	if (node ? argc != 0 : argc != 1)
		return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead timeline NS/NAME | --node");
	if (!node) {
		status = bh_cli_split_workload(argv[0], ns, sizeof(ns), name, sizeof(name));
		if (status)
			return status;
	}
	status = bh_cli_open(cli, true, &ctx);
	if (status)
		return status;
	arr = json_object_new_array();
	/* events of a workload that is gone stay readable */
	err = bh_event_foreach(ctx, ns, name, 0, event_row, arr);
	if (!err && !node && !json_object_array_length(arr)) {
		/* no event and no such workload: a typo, not an empty history */
		struct bh_workload_info *w = malloc(sizeof(*w));

		err = w ? bh_workload_get(ctx, ns, name, w) : -ENOMEM;
		free(w);
		if (err == -ENOENT) {
			bh_ctx_close(ctx);
			json_object_put(arr);
			return bh_cli_fail(BH_EXIT_USER, "no workload %s/%s (and no timeline)", ns,
					   name);
		}
	}
	bh_ctx_close(ctx);
	if (err) {
		json_object_put(arr);
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot read the timeline: %s", strerror(-err));
	}
	return bh_cli_print(cli, arr, cols);
}

/* -------------------------------------------------------- policy test */
/* The evaluation is policy/whatif.c's, the input the store's
 * (bh_stored_input_load, as the sync gathers it); here the flows are fed
 * in and the result printed. */
struct ptest {
	struct bh_stored_input in;
	struct bh_whatif wi;
	json_object **denied;		/* per workload: object keyed by "dir peer proto/port" */
	uint64_t *flows, *would_deny;
};

static int pt_find_workload(const struct ptest *t, const char *ns, const char *name)
{
	for (int i = 0; i < t->in.nr_w; i++)
		if (!strcmp(t->in.w[i].ns, ns) && !strcmp(t->in.w[i].name, name))
			return i;
	return -1;
}

static int pt_flow(const struct bh_flow_row *r, void *arg)
{
	struct ptest *t = arg;
	int i = pt_find_workload(t, r->ns, r->name);
	enum bh_dir dir = strcmp(r->dir, "egress") == 0 ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	struct bh_eval_result res;
	struct bh_ip ip;
	char key[600], pbuf[8];
	json_object *o;

	if (i < 0)
		return 0;	/* workload gone: nothing to judge */
	if (bh_ip_parse(dir == BH_DIR_EGRESS ? r->dst : r->src, &ip))
		return 0;
	t->flows[i]++;
	if (!bh_whatif_judge(&t->wi, i, dir, ip.addr, (__u8)r->proto, (__u16)r->dport, &res))
		return 0;
	t->would_deny[i]++;
	snprintf(key, sizeof(key), "%s %s %s/%d", r->dir, r->peer,
		 bh_proto_str(r->proto, pbuf, sizeof(pbuf)), r->dport);
	if (json_object_object_get_ex(t->denied[i], key, &o)) {
		json_object *n;

		json_object_object_get_ex(o, "flows", &n);
		json_object_set_int64(n, json_object_get_int64(n) + 1);
		return 0;
	}
	o = json_object_new_object();
	jstr(o, "dir", r->dir);
	jstr(o, "peer", r->peer);
	jstr(o, "proto", bh_proto_str(r->proto, pbuf, sizeof(pbuf)));
	jint(o, "port", r->dport);
	jint(o, "flows", 1);
	jstr(o, "why", res.verdict == BH_PV_DENY ? "deny rule" : "not allowed");
	jstr(o, "recorded_verdict", r->verdict);
	json_object_object_add(t->denied[i], key, o);
	return 0;
}

static json_object *pt_result(const struct ptest *t, const char *file)
{
	json_object *res = json_object_new_object(), *wls = json_object_new_array();
	json_object *unused = json_object_new_array();

	for (int i = 0; i < t->in.nr_w; i++) {
		json_object *o = json_object_new_object(), *d = json_object_new_array();
		char buf[2 * BH_NAME_MAX + 2];

		snprintf(buf, sizeof(buf), "%s/%s", t->in.w[i].ns, t->in.w[i].name);
		jstr(o, "workload", buf);
		jint(o, "flows", (int64_t)t->flows[i]);
		jint(o, "would_deny", (int64_t)t->would_deny[i]);
		json_object_object_foreach(t->denied[i], key, val) {
			(void)key;
			json_object_array_add(d, json_object_get(val));
		}
		json_object_object_add(o, "denied", d);
		json_object_array_add(wls, o);
	}
	for (int i = 0; i < t->wi.nr_rules; i++) {
		const struct bh_whatif_rule *r = &t->wi.rules[i];
		const struct bh_policy *p = r->policy;
		char buf[2 * BH_NAME_MAX + 64];

		if (!r->candidate || r->hits)
			continue;
		snprintf(buf, sizeof(buf), "%s%s%s %s[%d] (line %d)", p->ns, p->ns[0] ? "/" : "",
			 p->name, bh_dir_name(r->dir), r->index,
			 (r->dir == BH_DIR_INGRESS ? p->ingress : p->egress)[r->index].line);
		json_object_array_add(unused, json_object_new_string(buf));
	}
	jstr(res, "file", file);
	json_object_object_add(res, "workloads", wls);
	json_object_object_add(res, "unused_rules", unused);
	return res;
}

static int cmd_policy_test(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *file = NULL;
	struct ptest t = { 0 };
	struct bh_policy_set cand = { 0 };
	struct bh_flow_query q = { 0 };
	struct bh_policy_error perr;
	struct bh_compile_input in;
	struct bh_ip *host = NULL;
	struct bh_ctx *ctx;
	char msg[768];
	int c, status, err;

	while ((c = bh_cli_getopt(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 's':
			if (since_opt(optarg, &q.since_ms))
				return bh_cli_fail(BH_EXIT_USER, "--since: bad duration '%s'", optarg);
			break;
		default:
			return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead policy test -f FILE"
					   " [--since DURATION]");
		}
	}
	if (!file || optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead policy test -f FILE"
				   " [--since DURATION]");
	if (bh_policy_parse_file(file, &cand, &perr))
		return bh_cli_fail(BH_EXIT_USER, "%s", bh_policy_error_format(&perr, msg, sizeof(msg)));
	status = bh_cli_open(cli, true, &ctx);
	if (status) {
		bh_policy_set_free(&cand);
		return status;
	}
	if (!bh_ctx_db(ctx)) {
		err = -ENOENT;
		goto out;
	}
	err = bh_stored_input_load(ctx, &t.in);
	if (err) {
		status = bh_cli_fail(bh_ctx_error_is_user(ctx) ? BH_EXIT_USER : BH_EXIT_SYSTEM,
				     "policy test: %s", bh_ctx_error(ctx));
		goto done;
	}
	bh_stored_input_view(&t.in, &in);
	err = -ENOMEM;
	t.denied = calloc((size_t)t.in.nr_w + 1, sizeof(*t.denied));
	t.flows = calloc((size_t)t.in.nr_w + 1, sizeof(*t.flows));
	t.would_deny = calloc((size_t)t.in.nr_w + 1, sizeof(*t.would_deny));
	if (!t.denied || !t.flows || !t.would_deny)
		goto out;
	for (int i = 0; i < t.in.nr_w; i++)
		t.denied[i] = json_object_new_object();
	/* the `host` peer class: the node's addresses, as a sync would read them */
	err = bh_host_addrs(&host, &in.nr_host_addrs);
	if (err) {
		status = bh_cli_fail(BH_EXIT_SYSTEM, "policy test: cannot list the node's "
				     "addresses: %s", strerror(-err));
		goto done;
	}
	in.host_addrs = host;
	err = bh_whatif_build(&t.wi, &in, &cand, &perr);
	if (err == -EINVAL || err == -E2BIG) {
		status = bh_cli_fail(BH_EXIT_USER, "%s",
				     bh_policy_error_format(&perr, msg, sizeof(msg)));
		goto done;
	}
	if (err)
		goto out;
	err = bh_flowstore_foreach(bh_ctx_db(ctx), &q, pt_flow, &t);
	if (err)
		goto out;
	status = bh_cli_print(cli, pt_result(&t, file), NULL);
	goto done;
out:
	status = bh_cli_fail(BH_EXIT_SYSTEM, "policy test: %s", strerror(-err));
done:
	bh_whatif_free(&t.wi);
	free(host);
	for (int i = 0; i < t.in.nr_w && t.denied; i++)
		json_object_put(t.denied[i]);
	free(t.denied);
	free(t.flows);
	free(t.would_deny);
	bh_stored_input_free(&t.in);
	bh_policy_set_free(&cand);
	bh_ctx_close(ctx);
	return status;
}

/* One line per command; capture and map come from ctl/cmd_ops.c. */
const struct bh_cli_cmd bh_agent_cmds[] = {
	{ NULL, "agent", cmd_agent,
	  "agent [--config FILE] [--syslog unix:PATH|udp://HOST:PORT|tcp://HOST:PORT|"
	  "tls://HOST:PORT] [--syslog-format rfc5424|rfc3164|cef|json] [--jsonl FILE]"
	  " [--metrics HOST:PORT] [--log-level LEVEL]" },
	{ NULL, "flows", bh_cmd_flows,
	  "flows [-w] [--workload NS/NAME] [-n NS] [--verdict V] [--reason R] [--proto P]"
	  " [--port N] [--from PEER] [--to PEER] [--since T] [--until T] [--rule R]"
	  " [--limit N]" },
	{ "baseline", "show", cmd_baseline_show, "baseline show NS/NAME" },
	{ "baseline", "processes", cmd_baseline_processes, "baseline processes NS/NAME" },
	{ "baseline", "export", cmd_baseline_export,
	  "baseline export NS/NAME --format k8s|native" },
	{ "baseline", "clear", cmd_baseline_clear, "baseline clear NS/NAME" },
	{ NULL, "timeline", cmd_timeline, "timeline NS/NAME | --node" },
	{ "policy", "test", cmd_policy_test, "policy test -f FILE [--since DURATION]" },
	{ NULL, "capture", bh_cmd_capture, BH_CAPTURE_USAGE },
	{ NULL, "map", bh_cmd_map, BH_MAP_USAGE },
	{ 0 },
};
