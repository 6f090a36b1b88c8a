// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead flows`: the stored flows (newest last), filtered as hubble
 * observe filters (lib/agent/flowfilter.h); with -w/--follow, then every new
 * flow record the agent decodes, streamed from its unix socket
 * (lib/agent/flowstream.h) and filtered alike. Stored rows get the labels of
 * their workloads from the registry; streamed records carry their own.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmd_ops.h"
#include "flowfilter.h"
#include "flowjson.h"
#include "flowstore.h"
#include "flowstream.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *verdict_mark(const char *v)
{
	if (!v || !strcmp(v, "allow"))
		return "";
	if (!strcmp(v, "would-deny"))
		return "?";
	return "!";
}

/* ------------------------------------------------------------ workloads */
/* The registry, read once: labels of the stored rows' workloads. */
struct registry {
	int nr;
	struct bh_workload_info *w;
};

static int reg_add(const struct bh_workload_info *w, void *arg)
{
	struct registry *r = arg;
	void *n = realloc(r->w, sizeof(*r->w) * (size_t)(r->nr + 1));

	if (!n)
		return -ENOMEM;
	r->w = n;
	r->w[r->nr++] = *w;
	return 0;
}

static const struct bh_workload_info *reg_find(const struct registry *r, const char *ns,
					       const char *name)
{
	for (int i = 0; i < r->nr; i++)
		if (!strcmp(r->w[i].ns, ns) && !strcmp(r->w[i].name, name))
			return &r->w[i];
	return NULL;
}

/* --------------------------------------------------------------- rows */
struct flows {
	struct bh_cli *cli;
	const struct bh_flow_filter *f;
	struct registry reg;
	json_object *arr;	/* matches, newest first */
	int64_t limit, matched;
	bool follow;
};

/* "ns/name" of a peer workload, split; false for an address. */
static bool split_peer(const char *peer, char *ns, size_t nslen, char *name, size_t namelen)
{
	const char *slash = strchr(peer, '/');

	if (!slash)
		return false;
	snprintf(ns, nslen, "%.*s", (int)(slash - peer), peer);
	snprintf(name, namelen, "%s", slash + 1);
	return true;
}

static int row_cb(const struct bh_flow_row *r, void *arg)
{
	struct flows *fl = arg;
	char pns[BH_NAME_MAX + 1], pname[BH_NAME_MAX + 1], buf[40];
	bool peer_wl = split_peer(r->peer, pns, sizeof(pns), pname, sizeof(pname));
	const struct bh_workload_info *w = reg_find(&fl->reg, r->ns, r->name);
	const struct bh_workload_info *pw = peer_wl ? reg_find(&fl->reg, pns, pname) : NULL;
	struct bh_flow_endpoint self = {
		.ns = r->ns, .name = r->name, .nr_labels = w ? w->nr_labels : 0,
		.labels = w ? w->labels : NULL,
	};
	struct bh_flow_endpoint other = {
		.ns = peer_wl ? pns : NULL, .name = peer_wl ? pname : NULL,
		.nr_labels = pw ? pw->nr_labels : 0, .labels = pw ? pw->labels : NULL,
	};
	bool egress = !strcmp(r->dir, "egress");
	struct bh_flow_match m = {
		.ns = r->ns, .name = r->name, .dir = r->dir, .proto = r->proto,
		.sport = r->sport, .dport = r->dport, .verdict = r->verdict,
		.reason = r->reason, .rule = r->rule, .first_ms = r->first_ms,
		.last_ms = r->last_ms,
	};
	struct bh_flow_fields ff = {
		.ts_ms = r->last_ms, .ns = r->ns, .name = r->name, .dir = r->dir,
		.family = r->family, .proto = r->proto, .src = r->src, .dst = r->dst,
		.sport = r->sport, .dport = r->dport, .peer = r->peer,
		.peer_ns = peer_wl ? pns : NULL, .peer_name = peer_wl ? pname : NULL,
		.peer_identity = (uint32_t)r->peer_identity, .verdict = r->verdict,
		.reason = r->reason, .rule = r->rule, .packets = (uint64_t)r->packets,
		.bytes = (uint64_t)r->bytes, .tcp_flags = r->tcp_flags,
		.nr_labels = self.nr_labels, .labels = self.labels,
		.nr_peer_labels = other.nr_labels, .peer_labels = other.labels,
		.pid = r->pid, .comm = r->comm, .exe = r->exe, .cgroup = r->cgroup,
	};
	json_object *o;

	self.addr = egress ? r->src : r->dst;
	other.addr = egress ? r->dst : r->src;
	m.from = egress ? self : other;
	m.to = egress ? other : self;
	if (!bh_flow_filter_match(fl->f, &m))
		return 0;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "mark", json_object_new_string(verdict_mark(r->verdict)));
	json_object_object_add(o, "first_seen", json_object_new_string(
		bh_time_iso(r->first_ms, buf, sizeof(buf))));
	json_object_object_add(o, "last_seen", json_object_new_string(
		bh_time_iso(r->last_ms, buf, sizeof(buf))));
	bh_flow_fields_json(&ff, o, false);
	json_object_object_add(o, "first_ms", json_object_new_int64(r->first_ms));
	json_object_object_add(o, "last_ms", json_object_new_int64(r->last_ms));
	json_object_object_add(o, "ended", json_object_new_boolean(r->ended));
	/* counted towards a detection decision: "port-scan:denied" */
	json_object_object_add(o, "counted", json_object_new_string(r->counted));
	json_object_array_add(fl->arr, o);
	return fl->limit && ++fl->matched >= fl->limit ? 1 : 0;
}

static const char *const flow_cols[] = {
	"mark: ", "last_seen|time:LAST SEEN", "workload:WORKLOAD", "dir:DIR", "proto:PROTO",
	"src:SRC", "sport:SPORT", "dst:DST", "dport|icmp:DPORT/TYPE", "peer:PEER",
	"verdict:VERDICT", "reason:REASON", "rule:RULE", "packets:PKTS", "bytes:BYTES",
	"counted:COUNTED", "comm:PROCESS", NULL,
};

/* ----------------------------------------------------------- follow */
static const char *jget(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *k, int64_t def)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : def;
}

/* Labels of a streamed record ({"app":"web"}) into a bh_label array. */
static int jlabels(json_object *o, const char *k, struct bh_label *l, int room)
{
	json_object *v;
	int n = 0;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, key, val) {
		if (n == room)
			break;
		snprintf(l[n].key, sizeof(l[n].key), "%s", key);
		snprintf(l[n].value, sizeof(l[n].value), "%s", json_object_get_string(val));
		n++;
	}
	return n;
}

static bool stream_match(const struct bh_flow_filter *f, json_object *o)
{
	static struct bh_label wl[BH_MAX_LABELS], pl[BH_MAX_LABELS];
	const char *dir = jget(o, "dir"), *proto = jget(o, "proto");
	bool egress = dir && !strcmp(dir, "egress");
	struct bh_flow_endpoint self = {
		.ns = jget(o, "namespace"), .name = jget(o, "name"),
		.nr_labels = jlabels(o, "labels", wl, BH_MAX_LABELS), .labels = wl,
	};
	struct bh_flow_endpoint other = {
		.ns = jget(o, "peer_namespace"), .name = jget(o, "peer_name"),
		.nr_labels = jlabels(o, "peer_labels", pl, BH_MAX_LABELS), .labels = pl,
	};
	struct bh_flow_match m = {
		.ns = self.ns ? self.ns : "", .name = self.name ? self.name : "", .dir = dir,
		.sport = (int)jint(o, "sport", -1), .dport = (int)jint(o, "dport", -1),
		.verdict = jget(o, "verdict"), .reason = jget(o, "reason"),
		.rule = jget(o, "rule"), .first_ms = jint(o, "ts_ms", 0),
		.last_ms = jint(o, "ts_ms", 0), .proto = -1,
	};

	if (proto)
		bh_proto_parse(proto, &m.proto);
	if (m.proto < 0)
		m.proto = (int)jint(o, "proto", -1);
	self.addr = jget(o, egress ? "src" : "dst");
	other.addr = jget(o, egress ? "dst" : "src");
	m.from = egress ? self : other;
	m.to = egress ? other : self;
	return bh_flow_filter_match(f, &m);
}

static void text_header(void)
{
	printf("%-1s %-24s %-20s %-7s %-6s %-15s %5s %-15s %-12s %-20s %-10s %-14s %7s %9s\n",
	       "", "LAST SEEN", "WORKLOAD", "DIR", "PROTO", "SRC", "SPORT", "DST", "DPORT/TYPE",
	       "PEER", "VERDICT", "REASON", "PKTS", "BYTES");
}

/* One flow as one fixed-width line (follow, text). */
static void text_line(json_object *o)
{
	const char *s;
	char sport[16] = "-", dport[64] = "-";

	if ((s = jget(o, "sport")))
		snprintf(sport, sizeof(sport), "%s", s);
	if ((s = jget(o, "dport")) || (s = jget(o, "icmp")))
		snprintf(dport, sizeof(dport), "%s", s);
	s = jget(o, "last_seen");
	printf("%-1s %-24s %-20s %-7s %-6s %-15s %5s %-15s %-12s %-20s %-10s %-14s %7" PRId64
	       " %9" PRId64 "\n", verdict_mark(jget(o, "verdict")), s ? s : jget(o, "time"),
	       jget(o, "workload"), jget(o, "dir"), jget(o, "proto"), jget(o, "src"), sport,
	       jget(o, "dst"), dport, jget(o, "peer"), jget(o, "verdict"), jget(o, "reason"),
	       jint(o, "packets", 0), jint(o, "bytes", 0));
}

static int connect_agent(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void stream_line(struct bh_cli *cli, const struct bh_flow_filter *f, const char *line)
{
	json_object *o = json_tokener_parse(line);
	const char *type;

	if (!o)
		return;
	type = jget(o, "type");
	if (type && !strcmp(type, "lost")) {
		fprintf(stderr, "bulkhead: flows --follow: %" PRId64 " flow records not delivered"
			" (this client read too slowly)\n", jint(o, "records", 0));
	} else if (type && !strcmp(type, "flow") && stream_match(f, o)) {
		if (cli->json)
			bh_cli_print_item(cli, o);
		else
			text_line(o);
	}
	json_object_put(o);
}

/* Lines from the agent until SIGINT; reconnects when the agent restarts.
 * Returns 0 on SIGINT, or a status after printing a message. */
static int follow(struct bh_cli *cli, const struct bh_flow_filter *f, const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *line = malloc(cap);
	bool waiting_said = false;
	int fd = -1;

	if (!line)
		return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
	while (!interrupted) {
		char buf[65536];
		ssize_t n;

		if (fd < 0) {
			struct timespec ts = { 0, 200 * 1000000 };

			fd = connect_agent(path);
			if (fd == -ENAMETOOLONG) {
				free(line);
				return bh_cli_fail(BH_EXIT_USER, "flows --follow: socket path too long:"
						   " %s", path);
			}
			if (fd < 0) {
				if (!waiting_said)
					fprintf(stderr, "bulkhead: flows --follow: waiting for the agent"
						" (%s)\n", path);
				waiting_said = true;
				nanosleep(&ts, NULL);
				continue;
			}
			waiting_said = false;
			len = 0;	/* a new agent starts on a line boundary */
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			close(fd);	/* the agent stopped: wait for the next one */
			fd = -1;
			continue;
		}
		/* whole lines only: a record may arrive in two reads */
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len + 1 >= cap) {
					char *nl = cap < (1u << 24) ? realloc(line, cap * 2) : NULL;

					if (!nl) {
						len = 0;	/* absurd line: dropped */
						continue;
					}
					line = nl;
					cap *= 2;
				}
				line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			stream_line(cli, f, line);
			len = 0;
		}
		if (fflush(stdout))
			break;	/* stdout closed (| head) */
	}
	if (fd >= 0)
		close(fd);
	free(line);
	return BH_EXIT_OK;
}

/* ------------------------------------------------------------- command */
static int one_row(const struct bh_flow_row *r, void *arg)
{
	(void)r;
	(void)arg;
	return 1;
}

static int bad(const char *opt, const char *msg)
{
	return bh_cli_fail(BH_EXIT_USER, "flows: %s: %s", opt, msg);
}

int bh_cmd_flows(struct bh_cli *cli, int argc, char **argv)
{
	enum { O_VERDICT = 256, O_REASON, O_PROTO, O_PORT, O_FROM, O_TO, O_SINCE, O_UNTIL,
	       O_RULE, O_LIMIT, O_WORKLOAD };
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'w' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "verdict", required_argument, NULL, O_VERDICT },
		{ "reason", required_argument, NULL, O_REASON },
		{ "proto", required_argument, NULL, O_PROTO },
		{ "port", required_argument, NULL, O_PORT },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "rule", required_argument, NULL, O_RULE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ 0 },
	};
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1], err[512], path[PATH_MAX];
	struct bh_flow_query q = { .newest_first = true };
	struct flows fl = { .cli = cli, .limit = 200 };
	struct bh_flow_filter f;
	struct sigaction sa = { .sa_handler = on_signal };
	int64_t now = wall_ms();
	const char *wl = NULL;
	struct bh_ctx *ctx;
	int c, status = BH_EXIT_USER, rc;

	bh_flow_filter_init(&f);
	fl.f = &f;
	while ((c = bh_cli_getopt(argc, argv, "wn:", opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'w': fl.follow = true; break;
		case 'n': f.ns = optarg; break;
		case O_WORKLOAD: wl = optarg; break;
		case O_VERDICT: rc = bh_flow_filter_verdicts(&f, optarg, err, sizeof(err)); break;
		case O_REASON: rc = bh_flow_filter_reasons(&f, optarg, err, sizeof(err)); break;
		case O_PROTO: rc = bh_flow_filter_proto(&f, optarg, err, sizeof(err)); break;
		case O_PORT: rc = bh_flow_filter_port(&f, optarg, err, sizeof(err)); break;
		case O_FROM:
			if (f.from.set)
				rc = -EINVAL, snprintf(err, sizeof(err), "given twice");
			else
				rc = bh_flow_filter_peer(&f.from, optarg, err, sizeof(err));
			break;
		case O_TO:
			if (f.to.set)
				rc = -EINVAL, snprintf(err, sizeof(err), "given twice");
			else
				rc = bh_flow_filter_peer(&f.to, optarg, err, sizeof(err));
			break;
		case O_SINCE: rc = bh_flow_filter_time(&f.since_ms, optarg, now, err, sizeof(err)); break;
		case O_UNTIL: rc = bh_flow_filter_time(&f.until_ms, optarg, now, err, sizeof(err)); break;
		case O_RULE: f.rule = optarg; break;
		case O_LIMIT: {
			char *end;

			fl.limit = strtoll(optarg, &end, 10);
			if (!*optarg || *end || fl.limit < 0)
				rc = -EINVAL, snprintf(err, sizeof(err), "expected a number (0: no"
						       " limit), got '%s'", optarg);
			break;
		}
		default:
			bh_flow_filter_free(&f);
			return bh_cli_fail(BH_EXIT_USER, "flows: unknown option or missing value: %s"
					   " (bulkhead flows --help)", argv[optind - 2]);
		}
		if (rc == -ENOMEM) {
			bh_flow_filter_free(&f);
			return bh_cli_fail(BH_EXIT_SYSTEM, "out of memory");
		}
		if (rc) {
			const struct option *o = opts;

			while (o->name && o->val != c)
				o++;
			status = bad(o->name ? o->name : "?", err);
			bh_flow_filter_free(&f);
			return status;
		}
	}
	if (optind - 1 < argc) {
		bh_flow_filter_free(&f);
		return bh_cli_fail(BH_EXIT_USER, "flows: unexpected argument '%s'", argv[optind - 1]);
	}
	if (wl) {
		status = bh_cli_split_workload(wl, ns, sizeof(ns), name, sizeof(name));
		if (status) {
			bh_flow_filter_free(&f);
			return status;
		}
		f.wl_ns = ns;
		f.wl_name = name;
		q.ns = ns;
		q.name = name;
	} else if (f.ns) {
		q.ns = f.ns;
	}
	q.since_ms = f.since_ms;
	q.until_ms = f.until_ms;
	status = bh_cli_open(cli, true, &ctx);
	if (status) {
		bh_flow_filter_free(&f);
		return status;
	}
	snprintf(path, sizeof(path), "%s/%s", bh_ctx_state_dir(ctx), BH_FLOWSTREAM_SOCK);
	fl.arr = json_object_new_array();
	rc = 0;
	if (bh_ctx_db(ctx)) {
		rc = bh_workload_foreach(ctx, reg_add, &fl.reg);
		if (!rc)
			rc = bh_flowstore_foreach(bh_ctx_db(ctx), &q, row_cb, &fl);
		if (rc > 0)
			rc = 0;	/* limit reached */
	}
	if (!rc && wl && !json_object_array_length(fl.arr) && !reg_find(&fl.reg, ns, name)) {
		/* flows of a workload that is gone stay readable; none and no
		 * such workload is a typo */
		struct bh_flow_query any = { .ns = ns, .name = name, .limit = 1 };

		if (!bh_ctx_db(ctx) || bh_flowstore_foreach(bh_ctx_db(ctx), &any, one_row, NULL) <= 0) {
			bh_ctx_close(ctx);
			free(fl.reg.w);
			json_object_put(fl.arr);
			bh_flow_filter_free(&f);
			return bh_cli_fail(BH_EXIT_USER, "no workload %s (and no flows)", wl);
		}
	}
	bh_ctx_close(ctx);
	free(fl.reg.w);
	if (rc < 0) {
		json_object_put(fl.arr);
		bh_flow_filter_free(&f);
		return bh_cli_fail(BH_EXIT_SYSTEM, "cannot read flows: %s", strerror(-rc));
	}
	/* newest first from the store; shown oldest first */
	{
		size_t n = json_object_array_length(fl.arr);
		json_object *rows = json_object_new_array();

		for (size_t i = n; i-- > 0;)
			json_object_array_add(rows, json_object_get(json_object_array_get_idx(fl.arr, i)));
		json_object_put(fl.arr);
		fl.arr = rows;
	}
	if (!fl.follow) {
		bh_flow_filter_free(&f);
		return bh_cli_print(cli, fl.arr, flow_cols);
	}
	/* --follow: the stored rows, then the agent's stream until SIGINT */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!cli->json && !cli->no_headers)
		text_header();
	for (size_t i = 0; i < json_object_array_length(fl.arr); i++) {
		json_object *o = json_object_array_get_idx(fl.arr, i);

		if (cli->json)
			bh_cli_print_item(cli, o);
		else
			text_line(o);
	}
	json_object_put(fl.arr);
	fflush(stdout);
	status = follow(cli, &f, path);
	bh_flow_filter_free(&f);
	return status;
}
