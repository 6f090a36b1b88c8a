// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state store without root or kernel: workloads (slot allocation,
 * uniqueness, IPs and labels), namespaces and their automatic label,
 * policies, stable CIDR identities and rule ids, the event timeline's
 * order, nested transactions, the instance lock across processes, and
 * the schema version: a new store gets it, an older one is migrated, a
 * newer one is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bulkhead.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	sqlite3 *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/bh-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	assert_int_equal(bh_store_open(f->path, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	bh_store_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_schema_version(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	assert_int_equal(sql_int(f->db, "PRAGMA user_version"), 3);
	/* A store made before the version existed (version 0, tables there,
	 * a row in them) is migrated and keeps its rows. */
	assert_int_equal(bh_store_ns_ensure(f->db, "kept"), 0);
	assert_int_equal(sqlite3_exec(f->db, "PRAGMA user_version = 0", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(bh_store_open(f->path, &db), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM namespaces WHERE name = 'kept'"), 1);
	bh_store_close(db);
	/* A version-1 store gains the peers and k8s_policies tables (v2). */
	assert_int_equal(sqlite3_exec(f->db, "DROP TABLE peers; DROP TABLE k8s_policies;"
				      " PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(bh_store_open(f->path, &db), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM peers"), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM k8s_policies"), 0);
	bh_store_close(db);
	/* A version-2 store (as the issue 11 API watch left it) gains named
	 * ports and the pending flag (v3), its rows kept. */
	assert_int_equal(sqlite3_exec(f->db, "DROP TABLE workload_ports; DROP TABLE peers;"
				      " CREATE TABLE peers(ns TEXT NOT NULL, name TEXT NOT NULL,"
				      " ips TEXT NOT NULL, labels TEXT NOT NULL, PRIMARY KEY(ns, name));"
				      " INSERT INTO peers VALUES('x', 'p', '10.0.0.1', '');"
				      " PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(bh_store_open(f->path, &db), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM peers WHERE ports = ''"), 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM workload_ports"), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM workloads WHERE pending != 0"), 0);
	bh_store_close(db);
	/* A store of a newer version is refused, not misread. */
	assert_int_equal(sqlite3_exec(f->db, "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(bh_store_open(f->path, &db), -EPROTO);
	assert_int_equal(sql_int(f->db, "PRAGMA user_version"), 99);
}

/* A module's tables (bh_store_schema): versioned apart from the core's. */
static void test_component_schema(void **state)
{
	static const char *const v2[] = {
		"CREATE TABLE IF NOT EXISTS things(k TEXT PRIMARY KEY)",
		"ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 7",
	};
	struct fx *f = *state;

	assert_int_equal(bh_store_schema(f->db, "things", v2, 1), 0);
	assert_int_equal(sql_int(f->db, "SELECT version FROM schema_versions"
				 " WHERE component = 'things'"), 1);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO things(k) VALUES('a')", NULL, NULL,
				      NULL), SQLITE_OK);
	/* again at the same version: nothing runs (a second CREATE without
	 * IF NOT EXISTS would fail) */
	assert_int_equal(bh_store_schema(f->db, "things", v2, 1), 0);
	/* a later build adds a step: applied once, rows kept */
	assert_int_equal(bh_store_schema(f->db, "things", v2, 2), 0);
	assert_int_equal(bh_store_schema(f->db, "things", v2, 2), 0);
	assert_int_equal(sql_int(f->db, "SELECT size FROM things WHERE k = 'a'"), 7);
	/* an older build meets the newer tables: refused, nothing changed */
	assert_int_equal(bh_store_schema(f->db, "things", v2, 1), -EPROTO);
	assert_int_equal(sql_int(f->db, "SELECT version FROM schema_versions"
				 " WHERE component = 'things'"), 2);
	/* the core's own version is not touched by a module's */
	assert_int_equal(sql_int(f->db, "PRAGMA user_version"), 3);
}

static void mk(struct bh_workload_info *w, const char *ns, const char *name, const char *ifname,
	       const char *ip)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->ifname, sizeof(w->ifname), "%s", ifname);
	w->ifindex = 100;
	w->mode = BH_MODE_ENFORCE;
	w->nr_ips = 1;
	assert_int_equal(bh_ip_parse(ip, &w->ips[0]), 0);
}

static void test_workloads(void **state)
{
	struct fx *f = *state;
	struct bh_workload_info *w = malloc(sizeof(*w)), *g = malloc(sizeof(*g));
	char ns[64], name[64];
	int count;

	mk(w, "shop", "web", "veth-a", "10.0.0.1");
	w->nr_ips = 2;
	assert_int_equal(bh_ip_parse("fd00::1", &w->ips[1]), 0);
	w->nr_labels = 2;
	snprintf(w->labels[0].key, sizeof(w->labels[0].key), "tier");
	snprintf(w->labels[0].value, sizeof(w->labels[0].value), "front");
	snprintf(w->labels[1].key, sizeof(w->labels[1].key), "app");
	snprintf(w->labels[1].value, sizeof(w->labels[1].value), "web");
	assert_int_equal(bh_store_workload_add(f->db, w), 0);
	assert_int_equal(w->slot, 0);
	assert_int_equal(w->identity, BH_ID_WORKLOAD_BASE);

	assert_int_equal(bh_store_workload_get(f->db, "shop", "web", g), 0);
	assert_string_equal(g->ifname, "veth-a");
	assert_int_equal(g->nr_ips, 2);
	assert_memory_equal(g->ips[1].addr, w->ips[1].addr, 16);
	assert_int_equal(g->ips[1].family, 6);
	assert_int_equal(g->nr_labels, 2);
	assert_string_equal(g->labels[0].key, "app");	/* ordered by key */
	assert_int_equal(g->mode, BH_MODE_ENFORCE);
	assert_false(g->quarantined);

	/* uniqueness: name, interface, address */
	mk(g, "shop", "web", "veth-b", "10.0.0.2");
	assert_int_equal(bh_store_workload_add(f->db, g), -EEXIST);
	mk(g, "shop", "db", "veth-a", "10.0.0.2");
	assert_int_equal(bh_store_workload_add(f->db, g), -EEXIST);
	mk(g, "shop", "db", "veth-b", "10.0.0.1");
	assert_int_equal(bh_store_workload_add(f->db, g), -EEXIST);
	/* a failed add leaves nothing behind (its IPs/labels neither) */
	assert_int_equal(bh_store_workload_count(f->db, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(bh_store_ip_owner(f->db, &w->ips[1], ns, sizeof(ns), name, sizeof(name)), 0);
	assert_string_equal(name, "web");
	assert_int_equal(bh_store_ip_owner(f->db, &g->ips[0], ns, sizeof(ns), name, sizeof(name)), 0);

	/* lookups */
	assert_int_equal(bh_store_workload_by_ifname(f->db, "veth-a", g), 0);
	assert_string_equal(g->name, "web");
	assert_int_equal(bh_store_workload_by_slot(f->db, 0, g), 0);
	assert_int_equal(bh_store_workload_by_slot(f->db, 7, g), -ENOENT);
	assert_int_equal(bh_store_workload_get(f->db, "shop", "nope", g), -ENOENT);

	/* mode and quarantine */
	assert_int_equal(bh_store_workload_set_mode(f->db, "shop", "web", BH_MODE_LEARN), 0);
	assert_int_equal(bh_store_workload_set_quarantine(f->db, "shop", "web", true, "scan"), 0);
	assert_int_equal(bh_store_workload_get(f->db, "shop", "web", g), 0);
	assert_int_equal(g->mode, BH_MODE_LEARN);
	assert_true(g->quarantined);
	assert_string_equal(g->quarantine_reason, "scan");
	assert_int_equal(bh_store_workload_set_quarantine(f->db, "shop", "web", false, "x"), 0);
	assert_int_equal(bh_store_workload_get(f->db, "shop", "web", g), 0);
	assert_false(g->quarantined);
	assert_string_equal(g->quarantine_reason, "");
	assert_int_equal(bh_store_workload_set_mode(f->db, "shop", "nope", BH_MODE_LEARN), -ENOENT);

	/* delete frees the addresses too */
	assert_int_equal(bh_store_workload_del(f->db, "shop", "web"), 0);
	assert_int_equal(bh_store_workload_del(f->db, "shop", "web"), -ENOENT);
	assert_int_equal(bh_store_ip_owner(f->db, &w->ips[0], ns, sizeof(ns), name, sizeof(name)),
			 -ENOENT);
	free(w);
	free(g);
}

static int collect_slots(const struct bh_workload_info *w, void *arg)
{
	char *s = arg;

	sprintf(s + strlen(s), "%s:%u ", w->name, w->slot);
	return 0;
}

static void test_slots(void **state)
{
	struct fx *f = *state;
	struct bh_workload_info *w = malloc(sizeof(*w));
	char ifn[16], ip[32], name[16], got[256] = "";

	for (int i = 0; i < 4; i++) {
		snprintf(ifn, sizeof(ifn), "v%d", i);
		snprintf(name, sizeof(name), "w%d", i);
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		mk(w, "ns", name, ifn, ip);
		assert_int_equal(bh_store_workload_add(f->db, w), 0);
		assert_int_equal(w->slot, i);
	}
	/* lowest free slot is reused: free 0 and 2, the next two get 0, 2 */
	assert_int_equal(bh_store_workload_del(f->db, "ns", "w2"), 0);
	assert_int_equal(bh_store_workload_del(f->db, "ns", "w0"), 0);
	mk(w, "ns", "x0", "vx0", "10.0.1.1");
	assert_int_equal(bh_store_workload_add(f->db, w), 0);
	assert_int_equal(w->slot, 0);
	mk(w, "ns", "x1", "vx1", "10.0.1.2");
	assert_int_equal(bh_store_workload_add(f->db, w), 0);
	assert_int_equal(w->slot, 2);
	assert_int_equal(w->identity, BH_ID_WORKLOAD_BASE + 2);
	mk(w, "ns", "x2", "vx2", "10.0.1.3");
	assert_int_equal(bh_store_workload_add(f->db, w), 0);
	assert_int_equal(w->slot, 4);
	/* foreach is ordered by ns/name */
	assert_int_equal(bh_store_workload_foreach(f->db, collect_slots, got), 0);
	assert_string_equal(got, "w1:1 w3:3 x0:0 x1:2 x2:4 ");
	free(w);
}

static void test_slots_full(void **state)
{
	struct fx *f = *state;
	struct bh_workload_info *w = malloc(sizeof(*w));
	struct bh_tx tx;
	char ifn[16], ip[32], name[16];

	assert_int_equal(bh_store_begin(f->db, &tx), 0);
	for (int i = 0; i < BH_MAX_WORKLOADS; i++) {
		snprintf(ifn, sizeof(ifn), "v%d", i);
		snprintf(name, sizeof(name), "w%d", i);
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		mk(w, "ns", name, ifn, ip);
		assert_int_equal(bh_store_workload_add(f->db, w), 0);
	}
	assert_int_equal(bh_store_end(&tx, true), 0);
	mk(w, "ns", "one-too-many", "vz", "10.200.0.1");
	assert_int_equal(bh_store_workload_add(f->db, w), -ENOSPC);
	free(w);
}

static void test_namespaces(void **state)
{
	struct fx *f = *state;
	struct bh_label l = { .key = "team", .value = "blue" }, out[4];
	struct bh_label fake = { .key = "kubernetes.io/metadata.name", .value = "other" };
	int nr = 4;

	assert_int_equal(bh_store_ns_labels(f->db, "prod", &nr, out), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(out[0].key, "kubernetes.io/metadata.name");
	assert_string_equal(out[0].value, "prod");
	assert_int_equal(bh_store_ns_set_label(f->db, "prod", &l), 0);
	snprintf(l.value, sizeof(l.value), "red");	/* overwrite */
	assert_int_equal(bh_store_ns_set_label(f->db, "prod", &l), 0);
	/* the automatic label cannot be overridden */
	assert_int_equal(bh_store_ns_set_label(f->db, "prod", &fake), 0);
	nr = 4;
	assert_int_equal(bh_store_ns_labels(f->db, "prod", &nr, out), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(out[0].value, "prod");
	assert_string_equal(out[1].key, "team");
	assert_string_equal(out[1].value, "red");
	nr = 1;
	assert_int_equal(bh_store_ns_labels(f->db, "prod", &nr, out), -E2BIG);
}

/* Label changes: set replaces, delete of an absent key is fine, an unknown
 * workload is -ENOENT, the count follows. */
static void test_labels(void **state)
{
	struct fx *f = *state;
	struct bh_label app = { .key = "app", .value = "web" }, team = { .key = "team" };
	struct bh_label out[4];
	struct bh_workload_info w;
	int count = -1, nr = 4;

	mk(&w, "shop", "web", "veth1", "10.0.0.1");
	w.nr_labels = 1;
	w.labels[0] = app;
	assert_int_equal(bh_store_workload_add(f->db, &w), 0);
	snprintf(app.value, sizeof(app.value), "db");
	assert_int_equal(bh_store_workload_set_label(f->db, "shop", "web", &app), 0);
	snprintf(team.value, sizeof(team.value), "blue");
	assert_int_equal(bh_store_workload_set_label(f->db, "shop", "web", &team), 0);
	assert_int_equal(bh_store_workload_label_count(f->db, "shop", "web", &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(bh_store_workload_get(f->db, "shop", "web", &w), 0);
	assert_int_equal(w.nr_labels, 2);
	assert_string_equal(w.labels[0].key, "app");
	assert_string_equal(w.labels[0].value, "db");
	assert_int_equal(bh_store_workload_del_label(f->db, "shop", "web", "app"), 0);
	assert_int_equal(bh_store_workload_del_label(f->db, "shop", "web", "absent"), 0);
	assert_int_equal(bh_store_workload_get(f->db, "shop", "web", &w), 0);
	assert_int_equal(w.nr_labels, 1);
	assert_string_equal(w.labels[0].key, "team");
	assert_int_equal(bh_store_workload_set_label(f->db, "shop", "nobody", &team), -ENOENT);

	assert_int_equal(bh_store_ns_set_label(f->db, "shop", &team), 0);
	assert_int_equal(bh_store_ns_del_label(f->db, "shop", "team"), 0);
	assert_int_equal(bh_store_ns_del_label(f->db, "shop", "team"), 0);
	assert_int_equal(bh_store_ns_labels(f->db, "shop", &nr, out), 0);
	assert_int_equal(nr, 1);	/* only kubernetes.io/metadata.name */
}

static int count_pol(const struct bh_store_policy *p, void *arg)
{
	char *s = arg;

	sprintf(s + strlen(s), "%s/%s:%d:%s ", p->ns, p->name, p->kind, p->source);
	return 0;
}

static void test_policies(void **state)
{
	struct fx *f = *state;
	char got[256] = "", *src;

	assert_int_equal(bh_store_policy_put(f->db, "shop", "db", 0, "a: 1", "p.yaml"), 0);
	assert_int_equal(bh_store_policy_put(f->db, "", "global", 2, "b: 2", "c.yaml"), 0);
	assert_int_equal(bh_store_policy_put(f->db, "shop", "db", 1, "a: 3", "p.yaml"), 0);
	assert_int_equal(bh_store_policy_foreach(f->db, count_pol, got), 0);
	assert_string_equal(got, "/global:2:b: 2 shop/db:1:a: 3 ");
	assert_int_equal(bh_store_policy_source(f->db, "shop", "db", &src), 0);
	assert_string_equal(src, "a: 3");
	free(src);
	assert_int_equal(bh_store_policy_source(f->db, "shop", "x", &src), -ENOENT);
	assert_int_equal(bh_store_policy_del(f->db, "shop", "db"), 0);
	assert_int_equal(bh_store_policy_del(f->db, "shop", "db"), -ENOENT);
}

static void test_ids(void **state)
{
	struct fx *f = *state;
	__u32 a, b, a2, r1, r2, r3, r1b;
	char buf[128];

	assert_int_equal(bh_store_cidr_identity(f->db, "10.0.0.0/8", &a), 0);
	assert_int_equal(bh_store_cidr_identity(f->db, "fd00::/64", &b), 0);
	assert_int_equal(a, BH_ID_CIDR_BASE);
	assert_int_equal(b, BH_ID_CIDR_BASE + 1);
	assert_int_equal(bh_store_cidr_identity(f->db, "10.0.0.0/8", &a2), 0);
	assert_int_equal(a2, a);	/* stable */

	assert_int_equal(bh_store_rule_id(f->db, "shop", "db", BH_DIR_INGRESS, 0, &r1), 0);
	assert_int_equal(bh_store_rule_id(f->db, "shop", "db", BH_DIR_INGRESS, 2, &r2), 0);
	assert_int_equal(bh_store_rule_id(f->db, "", "global", BH_DIR_EGRESS, 1, &r3), 0);
	assert_true(r1 != 0 && r1 != r2 && r2 != r3);
	assert_int_equal(bh_store_rule_id(f->db, "shop", "db", BH_DIR_INGRESS, 0, &r1b), 0);
	assert_int_equal(r1b, r1);	/* stable across applies */
	/* a deleted policy's rule ids keep resolving (old flow records) */
	assert_int_equal(bh_store_policy_put(f->db, "shop", "db", 0, "x", "f"), 0);
	assert_int_equal(bh_store_policy_del(f->db, "shop", "db"), 0);
	assert_int_equal(bh_store_rule_describe(f->db, r2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "shop/db ingress[2]");
	assert_int_equal(bh_store_rule_describe(f->db, r3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "global egress[1]");
	assert_int_equal(bh_store_rule_describe(f->db, 9999, buf, sizeof(buf)), -ENOENT);
}

static int collect_events(const struct bh_event_rec *e, void *arg)
{
	char *s = arg;

	sprintf(s + strlen(s), "%lld:%s:%s ", (long long)e->id, e->kind, e->detail);
	return 0;
}

static void test_events(void **state)
{
	struct fx *f = *state;
	char all[256] = "", web[256] = "", after[256] = "";

	assert_int_equal(bh_store_event_add(f->db, "shop", "web", "attach", "info", "a"), 0);
	assert_int_equal(bh_store_event_add(f->db, "shop", "db", "attach", "info", "b"), 0);
	assert_int_equal(bh_store_event_add(f->db, "shop", "web", "quarantine", "alert", "c"), 0);
	assert_int_equal(bh_store_event_foreach(f->db, NULL, NULL, 0, collect_events, all), 0);
	assert_string_equal(all, "1:attach:a 2:attach:b 3:quarantine:c ");
	assert_int_equal(bh_store_event_foreach(f->db, "shop", "web", 0, collect_events, web), 0);
	assert_string_equal(web, "1:attach:a 3:quarantine:c ");
	assert_int_equal(bh_store_event_foreach(f->db, "shop", "web", 1, collect_events, after), 0);
	assert_string_equal(after, "3:quarantine:c ");
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct bh_tx outer, inner;
	int count;

	assert_int_equal(bh_store_begin(f->db, &outer), 0);
	assert_true(outer.outer);
	assert_int_equal(bh_store_policy_put(f->db, "a", "keep", 0, "x", "f"), 0);
	assert_int_equal(bh_store_begin(f->db, &inner), 0);
	assert_false(inner.outer);
	assert_int_equal(bh_store_policy_put(f->db, "a", "drop", 0, "x", "f"), 0);
	assert_int_equal(bh_store_end(&inner, false), 0);	/* inner rolled back */
	assert_int_equal(bh_store_end(&outer, true), 0);
	assert_int_equal(bh_store_policy_count(f->db, &count), 0);
	assert_int_equal(count, 1);

	assert_int_equal(bh_store_begin(f->db, &outer), 0);
	assert_int_equal(bh_store_policy_put(f->db, "a", "gone", 0, "x", "f"), 0);
	assert_int_equal(bh_store_end(&outer, false), 0);
	assert_int_equal(bh_store_policy_count(f->db, &count), 0);
	assert_int_equal(count, 1);

	/* a second connection (another process) sees only committed rows */
	sqlite3 *db2;
	assert_int_equal(bh_store_open(f->path, &db2), 0);
	assert_int_equal(bh_store_begin(f->db, &outer), 0);
	assert_int_equal(bh_store_policy_put(f->db, "a", "pending", 0, "x", "f"), 0);
	assert_int_equal(bh_store_policy_count(db2, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(bh_store_end(&outer, true), 0);
	assert_int_equal(bh_store_policy_count(db2, &count), 0);
	assert_int_equal(count, 2);
	bh_store_close(db2);
}

/* The instance lock: exclusive across processes, nested in one. */
static void test_lock(void **state)
{
	struct fx *f = *state;
	struct bh_ctx_opts o = { .state_dir = f->dir, .bpffs = "/nonexistent" };
	struct bh_ctx *ctx;
	char path[128];
	int status;
	pid_t pid;

	assert_int_equal(bh_ctx_open(&o, &ctx), 0);
	assert_int_equal(bh_ctx_lock(ctx), 0);
	assert_int_equal(bh_ctx_lock(ctx), 0);	/* nests */
	bh_ctx_unlock(ctx);
	snprintf(path, sizeof(path), "%s/lock", f->dir);

	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);	/* still held after one unlock */

	bh_ctx_unlock(ctx);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);	/* released */
	bh_ctx_close(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_workloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_component_schema, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
