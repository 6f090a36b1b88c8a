// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Network map: DOT built from an in-memory flows table and hand-made
 * workloads. Asserts clusters, quarantine marking, edge aggregation and
 * styles, port and peer folding, escaping of hostile names, and (when
 * Graphviz is installed) that dot renders it with exactly the expected
 * nodes. Set BH_TEST_NETMAP_OUT=DIR to keep map.dot/map.svg/map.png. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <cmocka.h>

#include "bulkhead.h"
#include "netmap.h"

#define EVIL "ev\"il\\\nQUARANTINED]; x [label=\"pwn"

static const char *flows_schema =
	"CREATE TABLE flows(id INTEGER PRIMARY KEY, ns TEXT, name TEXT, dir, family INTEGER,"
	" proto, src TEXT, sport INTEGER, dst TEXT, dport INTEGER, peer TEXT,"
	" peer_identity INTEGER, verdict, reason TEXT, rule TEXT, packets INTEGER,"
	" bytes INTEGER, tcp_flags INTEGER, first_ms INTEGER, last_ms INTEGER,"
	" ended INTEGER)";

static void bind_num_or_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0] >= '0' && v[0] <= '9')
		sqlite3_bind_int(st, i, atoi(v));
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void flow(sqlite3 *db, const char *ns, const char *name, const char *dir, int proto,
		 int dport, const char *peer, long long ident, const char *verdict, int n,
		 long long last_ms)
{
	sqlite3_stmt *st;
	int i;

	/* dir and verdict given as text or, when numeric, stored as integers:
	 * the map must read both. */
	assert_int_equal(sqlite3_prepare_v2(db,
		"INSERT INTO flows(ns, name, dir, family, proto, dport, peer, peer_identity,"
		" verdict, packets, bytes, first_ms, last_ms, ended)"
		" VALUES(?1, ?2, ?3, 4, ?4, ?5, ?6, ?7, ?8,"
		" 10, 1500, 0, ?9, 0)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		bind_num_or_text(st, 3, dir);
		sqlite3_bind_int(st, 4, proto);
		sqlite3_bind_int(st, 5, dport);
		sqlite3_bind_text(st, 6, peer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, ident);
		bind_num_or_text(st, 8, verdict);
		sqlite3_bind_int64(st, 9, last_ms);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static void workload(struct bh_netmap *nm, const char *ns, const char *name, __u32 slot,
		     const char *ip, bool quarantined, enum bh_mode mode)
{
	struct bh_workload_info *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->slot = slot;
	w->identity = BH_ID_WORKLOAD_BASE + slot;
	w->mode = mode;
	w->quarantined = quarantined;
	if (quarantined)
		snprintf(w->quarantine_reason, sizeof(w->quarantine_reason),
			 "scan: 25 ports in 10 s \"quoted\"");
	w->nr_ips = 1;
	w->ips[0].family = 4;
	w->ips[0].addr[10] = w->ips[0].addr[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, ip, &w->ips[0].addr[12]), 1);
	assert_int_equal(bh_netmap_add_workload(nm, w), 0);
	free(w);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every line has an even number of unescaped double quotes: no string
 * runs over a line, none was closed early by a hostile name. */
static void assert_quotes_balanced(const char *dot)
{
	int q = 0, line = 1;

	for (const char *p = dot; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			q++;
		if (*p == '\n') {
			if (q % 2)
				fail_msg("unbalanced quotes on line %d", line);
			line++;
		}
	}
	assert_int_equal(q % 2, 0);
}

static sqlite3 *make_db(void)
{
	sqlite3 *db;
	char peer[32];
	int i;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, flows_schema, NULL, NULL, NULL), SQLITE_OK);
	/* web -> db 5432, seen by both ends (12 connections, not 24). */
	flow(db, "prod", "web", "1", 6, 5432, "10.1.0.3", BH_ID_WORKLOAD_BASE + 1, "0", 12, 1000);
	flow(db, "prod", "db", "ingress", 6, 5432, "prod/web", 0, "allow", 12, 1000);
	/* web -> outside DNS, denied (numeric verdict), would-deny (text). */
	flow(db, "prod", "web", "egress", 17, 53, "192.0.2.53", 1, "1", 3, 1000);
	flow(db, "prod", "web", "egress", 6, 443, "203.0.113.9", 1, "would-deny", 2, 1000);
	/* db scans web: 30 ports denied; 6 drawn, 24 folded. */
	for (i = 1; i <= 30; i++)
		flow(db, "prod", "db", "egress", 6, 8000 + i, "10.1.0.2", BH_ID_WORKLOAD_BASE,
		     "quarantine", i <= 6 ? 3 : 1, 1000);
	/* The hostile name pings dns in another namespace: ICMP echo. */
	flow(db, "dev", EVIL, "egress", 1, 8 << 8, "10.9.0.53", 0, "allow", 4, 1000);
	flow(db, "dev", EVIL, "egress", 1, 3 << 8 | 1, "10.9.0.53", 0, "deny", 1, 1000);
	/* A workload that was detached since. */
	flow(db, "old", "gone", "egress", 6, 80, "198.51.100.1", 1, "allow", 1, 1000);
	/* 45 outside peers of dev (40 with 2 flows, 5 with 1). */
	for (i = 0; i < 45; i++) {
		snprintf(peer, sizeof(peer), "100.64.0.%d", i);
		flow(db, "dev", "batch", "egress", 6, 443, peer, 1, "allow", i < 40 ? 2 : 1, 1000);
	}
	/* Old flow, only shown without --since. */
	flow(db, "prod", "web", "egress", 6, 25, "192.0.2.25", 1, "deny", 1, 10);
	return db;
}

static void add_workloads(struct bh_netmap *nm)
{
	workload(nm, "prod", "web", 0, "10.1.0.2", false, BH_MODE_ENFORCE);
	workload(nm, "prod", "db", 1, "10.1.0.3", true, BH_MODE_ENFORCE);
	workload(nm, "dev", EVIL, 2, "10.2.0.2", false, BH_MODE_LEARN);
	workload(nm, "dev", "batch", 4, "10.2.0.3", false, BH_MODE_MONITOR);
	workload(nm, "kube-system", "dns", 3, "10.9.0.53", false, BH_MODE_MONITOR);
}

static char *node_line(const char *dot, const char *label_prefix)
{
	const char *p = strstr(dot, label_prefix), *s, *e;
	char *line;

	assert_non_null(p);
	for (s = p; s > dot && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	assert_non_null(e);
	line = strndup(s, e - s);
	assert_non_null(line);
	return line;
}

/* The node id ("n3") of the line holding label_prefix. */
static void node_id(const char *dot, const char *label_prefix, char *id, size_t len)
{
	char *line = node_line(dot, label_prefix);

	assert_int_equal(sscanf(line, " %15[n0-9] [", id), 1);
	(void)len;
	free(line);
}

static void assert_edge(const char *dot, const char *from, const char *to, const char *label,
			const char *style)
{
	char a[16], b[16], want[256];
	char *line;

	node_id(dot, from, a, sizeof(a));
	node_id(dot, to, b, sizeof(b));
	snprintf(want, sizeof(want), "  %s -> %s [label=\"%s\"", a, b, label);
	line = node_line(dot, want);
	if (!strstr(line, style))
		fail_msg("edge %s: want %s in: %s", label, style, line);
	free(line);
}

static void maybe_keep(const char *dot, size_t len)
{
	const char *dir = getenv("BH_TEST_NETMAP_OUT");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/map.dot", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(dot, 1, len, f);
	fclose(f);
}

static void test_full_map(void **state)
{
	struct bh_netmap_opts o = { .max_peers = 100 };
	struct bh_netmap_stats st;
	struct bh_netmap *nm;
	sqlite3 *db = make_db();
	char *dot, *line;
	size_t len;

	(void)state;
	assert_int_equal(bh_netmap_new(&o, &nm), 0);
	add_workloads(nm);
	assert_int_equal(bh_netmap_load_flows(nm, db), 0);
	assert_int_equal(bh_netmap_dot(nm, &dot, &len), 0);
	assert_int_equal(strlen(dot), len);
	maybe_keep(dot, len);

	assert_true(!strncmp(dot, "digraph bulkhead {\n", 19));
	assert_true(len > 2 && !strcmp(dot + len - 2, "}\n"));
	assert_quotes_balanced(dot);

	/* One cluster per namespace (dev, kube-system, old, prod) + outside. */
	assert_int_equal(count(dot, "subgraph cluster_ns"), 4);
	assert_int_equal(count(dot, "subgraph cluster_outside"), 1);
	assert_non_null(strstr(dot, "label=\"namespace prod\""));
	assert_non_null(strstr(dot, "label=\"namespace kube-system\""));

	/* Quarantined: red, double border, marked; the only one so marked
	 * (the hostile name's newline became '?'). */
	line = node_line(dot, "[label=\"db\\nQUARANTINED\"");
	assert_non_null(strstr(line, "peripheries=2"));
	assert_non_null(strstr(line, "color=\"#c62828\""));
	assert_non_null(strstr(line, "quarantined: scan: 25 ports in 10 s \\\"quoted\\\""));
	free(line);
	assert_int_equal(count(dot, "\\nQUARANTINED"), 1);
	assert_int_equal(count(dot, "peripheries=2"), 1);

	/* Hostile name escaped: quote and backslash escaped, newline replaced. */
	line = node_line(dot, "[label=\"ev\\\"il\\\\?QUARANTINED]; x [label=\\\"pwn\\nlearn\"");
	free(line);
	assert_null(strstr(dot, "x [label=\"pwn"));

	line = node_line(dot, "[label=\"gone\\n(detached)\"");
	assert_non_null(strstr(line, "dashed"));
	free(line);

	/* Edges: aggregated, labelled, styled per verdict. */
	assert_edge(dot, "[label=\"web\\n", "[label=\"db\\n", "tcp/5432 (12 flows)",
		    "style=solid");
	assert_edge(dot, "[label=\"web\\n", "[label=\"192.0.2.53\"", "udp/53 (3 flows)",
		    "style=bold");
	assert_edge(dot, "[label=\"web\\n", "[label=\"203.0.113.9\"", "tcp/443 (2 flows)",
		    "style=dashed");
	assert_edge(dot, "[label=\"ev\\\"il", "[label=\"dns\\n", "icmp/echo (4 flows)",
		    "style=solid");
	assert_edge(dot, "[label=\"ev\\\"il", "[label=\"dns\\n", "icmp/type-3 (1 flow)",
		    "style=bold");
	/* The scan: 6 busiest ports, then one fold edge. */
	assert_edge(dot, "[label=\"db\\n", "[label=\"web\\n", "tcp/8001 (3 flows)",
		    "style=bold");
	assert_edge(dot, "[label=\"db\\n", "[label=\"web\\n", "tcp: 24 more ports (24 flows)",
		    "style=bold");
	assert_int_equal(count(dot, "tcp/80"), 6 + 1);	/* 8001..8006 + gone's tcp/80 */
	/* Peers: all 49 drawn (max_peers 100), none folded. */
	assert_non_null(strstr(dot, "[label=\"100.64.0.44\""));
	assert_null(strstr(dot, "other peers"));
	/* The workload not reached by any edge is still drawn (no filter). */
	assert_non_null(strstr(dot, "[label=\"dns\\nmonitor\""));

	bh_netmap_get_stats(nm, &st);
	assert_int_equal(st.workloads, 6);	/* web db evil batch dns gone */
	/* 192.0.2.53 203.0.113.9 198.51.100.1 192.0.2.25 + 45 */
	assert_int_equal(st.peers, 4 + 45);
	assert_int_equal(st.flows, 12 + 12 + 3 + 2 + 6 * 3 + 24 + 4 + 1 + 1 + 40 * 2 + 5 + 1);
	free(dot);
	bh_netmap_free(nm);
	sqlite3_close(db);
}

static void test_namespace_filter_and_since(void **state)
{
	struct bh_netmap_opts o = { .ns = "dev", .since_ms = 500, .max_peers = 2 };
	struct bh_netmap *nm;
	sqlite3 *db = make_db();
	char *dot;
	size_t len;

	(void)state;
	assert_int_equal(bh_netmap_new(&o, &nm), 0);
	add_workloads(nm);
	assert_int_equal(bh_netmap_load_flows(nm, db), 0);
	assert_int_equal(bh_netmap_dot(nm, &dot, &len), 0);
	assert_quotes_balanced(dot);
	/* dev, plus kube-system because an edge reaches dns (drawn grey). */
	assert_int_equal(count(dot, "subgraph cluster_ns"), 2);
	assert_null(strstr(dot, "namespace prod"));
	assert_non_null(strstr(dot, "[label=\"dns\\nmonitor\", color=\"#9e9e9e\""));
	/* 2 busiest peers drawn, 43 folded: 38 * 2 + 5 * 1 flows. */
	assert_non_null(strstr(dot, "[label=\"43 other peers\""));
	assert_edge(dot, "[label=\"batch\\n", "[label=\"43 other peers\"", "tcp/443 (81 flows)",
		    "style=solid");
	assert_null(strstr(dot, "192.0.2.25"));
	free(dot);
	bh_netmap_free(nm);

	/* since excludes the old flow only. */
	o.ns = "prod";
	assert_int_equal(bh_netmap_new(&o, &nm), 0);
	add_workloads(nm);
	assert_int_equal(bh_netmap_load_flows(nm, db), 0);
	assert_int_equal(bh_netmap_dot(nm, &dot, &len), 0);
	assert_null(strstr(dot, "192.0.2.25"));
	assert_non_null(strstr(dot, "192.0.2.53"));
	free(dot);
	bh_netmap_free(nm);
	sqlite3_close(db);
}

static void test_no_flows_table(void **state)
{
	struct bh_netmap_stats st;
	struct bh_netmap *nm;
	sqlite3 *db;
	char *dot;
	size_t len;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(bh_netmap_new(NULL, &nm), 0);
	add_workloads(nm);
	assert_int_equal(bh_netmap_load_flows(nm, db), 0);
	assert_int_equal(bh_netmap_dot(nm, &dot, &len), 0);
	assert_int_equal(count(dot, " -> "), 0);
	assert_int_equal(count(dot, "subgraph cluster_ns"), 3);
	assert_null(strstr(dot, "cluster_outside"));
	bh_netmap_get_stats(nm, &st);
	assert_int_equal(st.workloads, 5);
	assert_int_equal(st.edges, 0);
	/* Built: no more workloads. */
	assert_int_equal(bh_netmap_load_flows(nm, db), -EBUSY);
	free(dot);
	bh_netmap_free(nm);
	sqlite3_close(db);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static bool have_dot(void)
{
	return system("command -v dot >/dev/null 2>&1") == 0;
}

/* Graphviz parses the map, and the SVG has exactly the nodes we drew:
 * a hostile name did not add one. */
static void test_svg(void **state)
{
	char path[] = "/tmp/bh-netmap-XXXXXX", err[256], *dot, *svg;
	const char *keep = getenv("BH_TEST_NETMAP_OUT");
	struct bh_netmap_stats st;
	struct bh_netmap *nm;
	sqlite3 *db = make_db();
	size_t len;
	long n;
	FILE *f;
	int fd;

	int fds_before = count_fds();

	(void)state;
	if (!have_dot())
		fail_msg("graphviz (dot) is not installed (Makefile DEB_PKGS has it)");
	assert_int_equal(bh_netmap_new(NULL, &nm), 0);
	add_workloads(nm);
	assert_int_equal(bh_netmap_load_flows(nm, db), 0);
	assert_int_equal(bh_netmap_dot(nm, &dot, &len), 0);
	bh_netmap_get_stats(nm, &st);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(bh_netmap_graphviz(dot, len, "svg", fd, err, sizeof(err)), 0);
	n = lseek(fd, 0, SEEK_END);
	assert_true(n > 1000);
	svg = calloc(1, n + 1);
	assert_non_null(svg);
	assert_int_equal(pread(fd, svg, n, 0), n);
	close(fd);
	assert_non_null(strstr(svg, "<svg"));
	assert_int_equal(count(svg, "class=\"node\""), st.workloads + st.peers);
	assert_int_equal(count(svg, "class=\"edge\""), st.edges);
	assert_int_equal(count(svg, "class=\"cluster\""), 5);
	assert_non_null(strstr(svg, "QUARANTINED"));
	if (keep) {
		char p2[512];

		snprintf(p2, sizeof(p2), "%s/map.svg", keep);
		f = fopen(p2, "w");
		assert_non_null(f);
		fwrite(svg, 1, n, f);
		fclose(f);
		snprintf(p2, sizeof(p2), "%s/map.png", keep);
		fd = open(p2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(bh_netmap_graphviz(dot, len, "png", fd, err, sizeof(err)), 0);
		close(fd);
	}
	unlink(path);
	free(svg);

	/* dot's complaint comes back as the error. */
	fd = open("/dev/null", O_WRONLY);
	assert_int_equal(bh_netmap_graphviz("digraph {", 9, "svg", fd, err, sizeof(err)), -EIO);
	assert_true(strlen(err) > 0);
	assert_int_equal(bh_netmap_graphviz(dot, len, "svg;rm", fd, err, sizeof(err)), -EINVAL);
	close(fd);
	free(dot);
	bh_netmap_free(nm);
	sqlite3_close(db);
	/* The memfds for dot's input and complaints are closed. */
	assert_int_equal(count_fds(), fds_before);
}

static void test_no_graphviz(void **state)
{
	char err[256], *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	int fd = open("/dev/null", O_WRONLY);

	(void)state;
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(bh_netmap_graphviz("digraph {}", 10, "svg", fd, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "Graphviz"));
	if (old)
		setenv("PATH", old, 1);
	free(old);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_map),
		cmocka_unit_test(test_namespace_filter_and_since),
		cmocka_unit_test(test_no_flows_table),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_no_graphviz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
