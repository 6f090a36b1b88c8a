// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Baselines: learning from flows (peer = labels or widened address),
 * matching, and export: the exported YAML, parsed back and compiled with
 * the workloads, allows every baseline flow and denies everything else. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "baseline.h"
#include "flowstore.h"
#include "policy/policy.h"

/* ------------------------------------------------------------ fixture */
struct wl {
	const char *ns, *name, *ip;
	int nr_labels;
	struct bh_label labels[2];
	struct bh_workload_info info;
};

static struct wl wls[] = {
	{ .ns = "shop", .name = "web", .ip = "10.0.0.2", .nr_labels = 2,
	  .labels = { { "app", "web" }, { "tier", "front" } } },
	{ .ns = "shop", .name = "db", .ip = "10.0.0.3", .nr_labels = 1,
	  .labels = { { "app", "db" } } },
	{ .ns = "other", .name = "api", .ip = "10.1.0.4", .nr_labels = 1,
	  .labels = { { "app", "api" } } },
	{ .ns = "shop", .name = "cache", .ip = "10.0.0.5", .nr_labels = 1,
	  .labels = { { "app", "cache" } } },
};
#define NR_WL (int)(sizeof(wls) / sizeof(wls[0]))

static void setup_wls(void)
{
	for (int i = 0; i < NR_WL; i++) {
		struct bh_workload_info *w = &wls[i].info;

		memset(w, 0, sizeof(*w));
		snprintf(w->ns, sizeof(w->ns), "%s", wls[i].ns);
		snprintf(w->name, sizeof(w->name), "%s", wls[i].name);
		w->slot = (__u32)i;
		w->identity = BH_ID_WORKLOAD_BASE + (__u32)i;
		w->nr_ips = 1;
		assert_int_equal(bh_ip_parse(wls[i].ip, &w->ips[0]), 0);
		w->nr_labels = wls[i].nr_labels;
		memcpy(w->labels, wls[i].labels, sizeof(wls[i].labels));
	}
}

/* A flow of shop/web as the agent decodes it. */
static struct bh_flow_view view(const char *dir, int proto, int dport, const char *peer_addr,
				int peer_wl)
{
	struct bh_flow_view v;

	memset(&v, 0, sizeof(v));
	v.wl = &wls[0].info;
	strcpy(v.ns, "shop");
	strcpy(v.name, "web");
	v.dir = dir;
	v.proto = proto;
	v.dport = dport;
	snprintf(v.peer_addr, sizeof(v.peer_addr), "%s", peer_wl >= 0 ? wls[peer_wl].ip : peer_addr);
	v.peer_wl = peer_wl >= 0 ? &wls[peer_wl].info : NULL;
	v.first_ms = 1000;
	v.last_ms = 2000;
	return v;
}

struct ids {
	__u32 next_cidr, next_rule;
};

static int cidr_id(void *arg, const struct bh_cidr *c, __u32 *id)
{
	struct ids *ids = arg;

	(void)c;
	*id = BH_ID_CIDR_BASE + ids->next_cidr++;
	return 0;
}

static int rule_id(void *arg, const struct bh_policy *p, enum bh_dir dir, int idx, __u32 *id)
{
	struct ids *ids = arg;

	(void)p;
	(void)dir;
	(void)idx;
	*id = ++ids->next_rule;
	return 0;
}

struct compiled {
	struct bh_policy_set set;
	struct bh_compile_output out;
};

static void compile_yaml(const char *yaml, struct compiled *c)
{
	struct bh_compile_workload cw[NR_WL];
	struct bh_label nsl[2][1] = { { { "kubernetes.io/metadata.name", "shop" } },
				      { { "kubernetes.io/metadata.name", "other" } } };
	struct bh_compile_namespace cn[2] = {
		{ "shop", 1, nsl[0] }, { "other", 1, nsl[1] },
	};
	struct ids ids = { 0 };
	struct bh_compile_input in = { 0 };
	struct bh_policy_error err;
	char msg[600];

	memset(c, 0, sizeof(*c));
	if (bh_policy_parse_buf("export.yaml", yaml, strlen(yaml), &c->set, &err))
		fail_msg("exported YAML does not parse: %s\n%s",
			 bh_policy_error_format(&err, msg, sizeof(msg)), yaml);
	for (int i = 0; i < NR_WL; i++) {
		struct bh_workload_info *w = &wls[i].info;

		cw[i] = (struct bh_compile_workload){
			.ns = w->ns, .name = w->name, .slot = w->slot, .identity = w->identity,
			.nr_labels = w->nr_labels, .labels = w->labels,
			.nr_ips = w->nr_ips, .ips = w->ips,
		};
	}
	in.nr_workloads = NR_WL;
	in.workloads = cw;
	in.nr_namespaces = 2;
	in.namespaces = cn;
	in.nr_policies = c->set.nr;
	in.policies = c->set.items;
	in.ids = (struct bh_compile_ids){ cidr_id, rule_id, &ids };
	if (bh_compile(&in, &c->out, &err))
		fail_msg("exported YAML does not compile: %s",
			 bh_policy_error_format(&err, msg, sizeof(msg)));
}

static void compiled_free(struct compiled *c)
{
	bh_compile_output_free(&c->out);
	bh_policy_set_free(&c->set);
}

/* Verdict for shop/web (workload 0) of a flow to/from addr. */
static enum bh_pverdict verdict(struct compiled *c, enum bh_dir dir, const char *addr,
				int proto, int port)
{
	struct bh_ip ip;
	struct bh_eval_result res;
	__u32 id;

	assert_int_equal(bh_ip_parse(addr, &ip), 0);
	id = bh_eval_identity(&c->out, ip.addr);
	bh_eval(&c->out.workloads[0], dir, id, (__u8)proto, (__u16)port, &res);
	return res.verdict;
}

/* --------------------------------------------------------------- tests */
static void test_entry_from_flow(void **state)
{
	struct bh_baseline_opts o = { .cidr_prefix_v4 = 24, .cidr_prefix_v6 = 64 };
	struct bh_baseline_entry e;
	struct bh_flow_view v;
	char buf[256];

	(void)state;
	setup_wls();
	v = view("egress", IPPROTO_TCP, 5432, NULL, 1);
	assert_int_equal(bh_baseline_entry_from_flow(&o, &v, &e), 0);
	assert_int_equal(e.peer_kind, BH_PEER_WORKLOAD);
	assert_string_equal(e.peer_ns, "shop");
	assert_string_equal(e.peer, "app=db");
	assert_string_equal(e.peer_name, "db");
	assert_int_equal(e.dir, BH_DIR_EGRESS);
	assert_int_equal(e.port, 5432);
	/* labels sorted by key */
	v = view("ingress", IPPROTO_TCP, 80, NULL, 0);
	assert_int_equal(bh_baseline_entry_from_flow(&o, &v, &e), 0);
	assert_string_equal(e.peer, "app=web\ntier=front");
	assert_string_equal(bh_baseline_peer_str(&e, buf, sizeof(buf)), "shop/{app=web,tier=front}");
	/* addresses widened to the allowed prefix */
	v = view("egress", IPPROTO_UDP, 53, "192.168.1.77", -1);
	assert_int_equal(bh_baseline_entry_from_flow(&o, &v, &e), 0);
	assert_int_equal(e.peer_kind, BH_PEER_CIDR);
	assert_string_equal(e.peer, "192.168.1.0/24");
	v = view("egress", IPPROTO_UDP, 53, "fd00:1:2:3:4::9", -1);
	assert_int_equal(bh_baseline_entry_from_flow(&o, &v, &e), 0);
	assert_string_equal(e.peer, "fd00:1:2:3::/64");
	o.cidr_prefix_v4 = 32;
	v = view("egress", IPPROTO_UDP, 53, "192.168.1.77", -1);
	assert_int_equal(bh_baseline_entry_from_flow(&o, &v, &e), 0);
	assert_string_equal(e.peer, "192.168.1.77/32");
}

/* Learn through the store, as the agent does, then load. */
static void learn_all(sqlite3 *db, const struct bh_baseline_opts *o,
		      const struct bh_flow_view *flows, int n)
{
	for (int i = 0; i < n; i++) {
		struct bh_baseline_entry e;

		assert_int_equal(bh_baseline_entry_from_flow(o, &flows[i], &e), 0);
		assert_int_equal(bh_baseline_learn(db, "shop", "web", &e), 0);
	}
}

static void test_learn_load_covers(void **state)
{
	struct bh_baseline_opts o = { .cidr_prefix_v4 = 24, .cidr_prefix_v6 = 64 };
	struct bh_baseline b;
	struct bh_flow_view flows[3], v;
	sqlite3 *db;

	(void)state;
	setup_wls();
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(bh_baseline_schema(db), 0);
	flows[0] = view("egress", IPPROTO_TCP, 5432, NULL, 1);
	flows[1] = view("egress", IPPROTO_UDP, 53, "192.168.1.1", -1);
	flows[2] = view("egress", IPPROTO_UDP, 53, "192.168.1.2", -1);
	flows[2].first_ms = 500;
	flows[2].last_ms = 9000;
	learn_all(db, &o, flows, 3);
	assert_int_equal(bh_baseline_load(db, "shop", "web", &b), 0);
	assert_int_equal(b.nr, 2);
	/* two flows to the same /24 fold into one entry (cidr sorts first) */
	assert_int_equal(b.entries[0].peer_kind, BH_PEER_CIDR);
	assert_int_equal(b.entries[0].flows, 2);
	assert_int_equal(b.entries[0].first_ms, 500);
	assert_int_equal(b.entries[0].last_ms, 9000);
	assert_int_equal(b.entries[1].peer_kind, BH_PEER_WORKLOAD);
	assert_int_equal(b.entries[1].flows, 1);

	assert_true(bh_baseline_covers(&b, &flows[0]));
	v = view("egress", IPPROTO_UDP, 53, "192.168.1.200", -1);
	assert_true(bh_baseline_covers(&b, &v));
	v = view("egress", IPPROTO_UDP, 53, "192.168.2.1", -1);
	assert_false(bh_baseline_covers(&b, &v));
	v = view("egress", IPPROTO_TCP, 5433, NULL, 1);
	assert_false(bh_baseline_covers(&b, &v));
	v = view("ingress", IPPROTO_TCP, 5432, NULL, 1);
	assert_false(bh_baseline_covers(&b, &v));
	v = view("egress", IPPROTO_TCP, 5432, NULL, 3);	/* another workload */
	assert_false(bh_baseline_covers(&b, &v));
	/* the detection path: the same answers from raw addresses, CIDRs
	 * parsed once at load */
	assert_true(b.entries[0].cidr_ok);
	{
		__u8 a[16] = { [10] = 0xff, [11] = 0xff, [12] = 192, [13] = 168, [14] = 1, [15] = 200 };

		assert_true(bh_baseline_covers_peer(&b, BH_DIR_EGRESS, IPPROTO_UDP, 53, NULL, a));
		assert_false(bh_baseline_covers_peer(&b, BH_DIR_INGRESS, IPPROTO_UDP, 53, NULL, a));
		assert_false(bh_baseline_covers_peer(&b, BH_DIR_EGRESS, IPPROTO_UDP, 54, NULL, a));
		a[14] = 2;
		assert_false(bh_baseline_covers_peer(&b, BH_DIR_EGRESS, IPPROTO_UDP, 53, NULL, a));
		assert_true(bh_baseline_covers_peer(&b, BH_DIR_EGRESS, IPPROTO_TCP, 5432,
						    &wls[1].info, NULL));
		assert_false(bh_baseline_covers_peer(&b, BH_DIR_EGRESS, IPPROTO_TCP, 5432,
						     &wls[3].info, NULL));
		/* an empty baseline covers nothing */
		struct bh_baseline empty = { .nr = 0 };

		assert_false(bh_baseline_covers_peer(&empty, BH_DIR_EGRESS, IPPROTO_UDP, 53, NULL, a));
	}
	bh_baseline_free(&b);

	/* other workloads' baselines are separate; clear empties */
	assert_int_equal(bh_baseline_load(db, "shop", "db", &b), 0);
	assert_int_equal(b.nr, 0);
	assert_int_equal(bh_baseline_clear(db, "shop", "web"), 0);
	assert_int_equal(bh_baseline_load(db, "shop", "web", &b), 0);
	assert_int_equal(b.nr, 0);
	sqlite3_close(db);
}

static char *export_str(const struct bh_baseline *b, enum bh_baseline_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bh_baseline_export(b, wls[0].info.nr_labels, wls[0].info.labels, fmt, f), 0);
	fclose(f);
	return buf;
}

static void check_export(enum bh_baseline_format fmt)
{
	struct bh_baseline_opts o = { .cidr_prefix_v4 = 24, .cidr_prefix_v6 = 64 };
	struct bh_flow_view flows[6];
	struct bh_baseline b;
	struct compiled c;
	sqlite3 *db;
	char *yaml;

	setup_wls();
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	flows[0] = view("egress", IPPROTO_TCP, 5432, NULL, 1);
	flows[1] = view("egress", IPPROTO_UDP, 53, "192.168.1.1", -1);
	flows[2] = view("egress", IPPROTO_TCP, 53, "192.168.1.1", -1);
	flows[3] = view("ingress", IPPROTO_TCP, 80, "10.9.0.1", -1);
	flows[4] = view("ingress", IPPROTO_TCP, 80, NULL, 2);
	flows[5] = view("egress", IPPROTO_ICMP, 8 << 8, NULL, 1);
	learn_all(db, &o, flows, 6);
	assert_int_equal(bh_baseline_load(db, "shop", "web", &b), 0);
	assert_int_equal(b.nr, 6);
	yaml = export_str(&b, fmt);
	compile_yaml(yaml, &c);
	assert_int_equal(c.set.nr, 1);

	/* every baseline flow is allowed ... */
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.3", IPPROTO_TCP, 5432), BH_PV_ALLOW);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.1.9", IPPROTO_UDP, 53), BH_PV_ALLOW);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.1.1", IPPROTO_TCP, 53), BH_PV_ALLOW);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.9.0.1", IPPROTO_TCP, 80), BH_PV_ALLOW);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.1.0.4", IPPROTO_TCP, 80), BH_PV_ALLOW);
	/* ICMP: native only; NetworkPolicy cannot say it and leaves it denied */
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.3", IPPROTO_ICMP, 8 << 8),
			 fmt == BH_BASELINE_NATIVE ? BH_PV_ALLOW : BH_PV_DEFAULT_DENY);
	if (fmt == BH_BASELINE_K8S)
		assert_non_null(strstr(yaml, "not expressible"));
	/* ... and nothing else */
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.3", IPPROTO_TCP, 5433), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.3", IPPROTO_UDP, 5432), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.5", IPPROTO_TCP, 5432), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.2.1", IPPROTO_UDP, 53), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.1.1", IPPROTO_UDP, 54), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.1.0.4", IPPROTO_TCP, 80), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_EGRESS, "10.0.0.3", IPPROTO_ICMP, 0), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.9.1.2", IPPROTO_TCP, 80), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.0.0.3", IPPROTO_TCP, 80), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.1.0.4", IPPROTO_TCP, 81), BH_PV_DEFAULT_DENY);
	assert_int_equal(verdict(&c, BH_DIR_INGRESS, "8.8.8.8", IPPROTO_UDP, 53), BH_PV_DEFAULT_DENY);
	/* the policy selects shop/web only */
	assert_int_equal(c.out.workloads[1].nr, 0);
	compiled_free(&c);
	free(yaml);
	bh_baseline_free(&b);
	sqlite3_close(db);
}

static void test_export_k8s(void **state)
{
	(void)state;
	check_export(BH_BASELINE_K8S);
}

static void test_export_native(void **state)
{
	(void)state;
	check_export(BH_BASELINE_NATIVE);
}

/* A direction with nothing learned is isolated, in both formats. */
static void test_export_empty_direction(void **state)
{
	(void)state;
	for (int fmt = BH_BASELINE_K8S; fmt <= BH_BASELINE_NATIVE; fmt++) {
		struct bh_baseline_opts o = { .cidr_prefix_v4 = 32, .cidr_prefix_v6 = 128 };
		struct bh_flow_view flows[1];
		struct bh_baseline b;
		struct compiled c;
		sqlite3 *db;
		char *yaml;

		setup_wls();
		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		flows[0] = view("egress", IPPROTO_UDP, 53, "192.168.1.1", -1);
		learn_all(db, &o, flows, 1);
		assert_int_equal(bh_baseline_load(db, "shop", "web", &b), 0);
		yaml = export_str(&b, (enum bh_baseline_format)fmt);
		compile_yaml(yaml, &c);
		assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.1.1", IPPROTO_UDP, 53), BH_PV_ALLOW);
		assert_int_equal(verdict(&c, BH_DIR_EGRESS, "192.168.1.2", IPPROTO_UDP, 53),
				 BH_PV_DEFAULT_DENY);
		assert_int_equal(verdict(&c, BH_DIR_INGRESS, "10.0.0.3", IPPROTO_TCP, 80),
				 BH_PV_DEFAULT_DENY);
		assert_int_equal(verdict(&c, BH_DIR_INGRESS, "0.0.0.1", IPPROTO_TCP, 80),
				 BH_PV_DEFAULT_DENY);
		compiled_free(&c);
		free(yaml);
		bh_baseline_free(&b);
		sqlite3_close(db);
	}
}

/* Label values chosen inside a container cannot break the YAML: a quote
 * and a fake key stay inside the one value (which the parser then rejects
 * as a label value, at that exact field). */
static void test_export_escapes(void **state)
{
	struct bh_baseline_opts o = { .cidr_prefix_v4 = 32, .cidr_prefix_v6 = 128 };
	struct bh_flow_view v;
	struct bh_baseline b;
	struct compiled c;
	sqlite3 *db;
	char *yaml;

	(void)state;
	setup_wls();
	strcpy(wls[1].info.labels[0].value, "db\", evil: [x");
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	v = view("egress", IPPROTO_TCP, 5432, NULL, 1);
	learn_all(db, &o, &v, 1);
	assert_int_equal(bh_baseline_load(db, "shop", "web", &b), 0);
	yaml = export_str(&b, BH_BASELINE_K8S);
	{
		struct bh_policy_set set;
		struct bh_policy_error err;

		assert_int_equal(bh_policy_parse_buf("x.yaml", yaml, strlen(yaml), &set, &err),
				 -EINVAL);
		assert_string_equal(err.field, "spec.egress[0].to[0].podSelector.matchLabels.app");
		assert_non_null(strstr(err.msg, "db\", evil: [x"));
	}
	(void)c;
	free(yaml);
	bh_baseline_free(&b);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_from_flow),
		cmocka_unit_test(test_learn_load_covers),
		cmocka_unit_test(test_export_k8s),
		cmocka_unit_test(test_export_native),
		cmocka_unit_test(test_export_empty_direction),
		cmocka_unit_test(test_export_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
