// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Compiler + evaluator: compile real YAML against a set of workloads and
 * check the verdict of concrete flows through bh_eval, which does what
 * the data path does with the same entries. Plus a reference evaluator
 * straight from the model, compared on many flows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "policy/policy.h"

#define MAX_WL 16
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

struct wl_def {
	const char *ns, *name, *labels, *ip;
};

struct env {
	struct bh_policy_set set;
	int nr_wl;
	struct bh_compile_workload wl[MAX_WL];
	struct bh_label labels[MAX_WL][8];
	struct bh_ip ips[MAX_WL];
	int nr_ns;
	struct bh_compile_namespace ns[4];
	struct bh_label ns_labels[4][4];
	struct bh_compile_input in;
	struct bh_compile_output out;
	/* stable CIDR identities, as the store would hand them out */
	int nr_cidr;
	struct bh_cidr cidrs[64];
};

static void ip_parse(const char *s, struct bh_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->addr[12]) == 1) {
		ip->family = 4;
		ip->addr[10] = ip->addr[11] = 0xff;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, ip->addr), 1);
	ip->family = 6;
}

static int parse_labels(const char *spec, struct bh_label *out)
{
	char buf[256], *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", spec ? spec : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		*eq = '\0';
		snprintf(out[n].key, sizeof(out[n].key), "%s", tok);
		snprintf(out[n].value, sizeof(out[n].value), "%s", eq + 1);
		n++;
	}
	return n;
}

static int cidr_id(void *arg, const struct bh_cidr *c, __u32 *id)
{
	struct env *e = arg;
	int i;

	for (i = 0; i < e->nr_cidr; i++)
		if (!memcmp(&e->cidrs[i], c, sizeof(*c)))
			break;
	if (i == e->nr_cidr) {
		assert_true(e->nr_cidr < 64);
		e->cidrs[e->nr_cidr++] = *c;
	}
	*id = BH_ID_CIDR_BASE + (__u32)i;
	return 0;
}

/* Rule ids that name their rule: policy index * 1000 + dir * 100 + index + 1. */
static __u32 rid(int pol, enum bh_dir dir, int idx)
{
	return (__u32)(pol * 1000 + (int)dir * 100 + idx + 1);
}

static int rule_id(void *arg, const struct bh_policy *p, enum bh_dir dir, int idx, __u32 *id)
{
	struct env *e = arg;

	*id = rid((int)(p - e->set.items), dir, idx);
	return 0;
}

static void env_ns(struct env *e, const char *name, const char *labels)
{
	struct bh_compile_namespace *n = &e->ns[e->nr_ns];

	n->name = name;
	n->nr_labels = parse_labels(labels, e->ns_labels[e->nr_ns]);
	n->labels = e->ns_labels[e->nr_ns];
	e->nr_ns++;
}

static void env_setup(struct env *e, const char *yaml, const struct wl_def *wl)
{
	struct bh_policy_error err;
	int i;

	if (yaml) {
		int ret = bh_policy_parse_buf("t.yaml", yaml, strlen(yaml), &e->set, &err);

		if (ret) {
			char buf[512];

			print_error("%s\n", bh_policy_error_format(&err, buf, sizeof(buf)));
			fail();
		}
	}
	for (i = 0; wl && wl[i].name; i++) {
		struct bh_compile_workload *w = &e->wl[i];

		w->ns = wl[i].ns;
		w->name = wl[i].name;
		w->slot = (__u32)i;
		w->identity = BH_ID_WORKLOAD_BASE + (__u32)i;
		w->nr_labels = parse_labels(wl[i].labels, e->labels[i]);
		w->labels = e->labels[i];
		ip_parse(wl[i].ip, &e->ips[i]);
		w->nr_ips = 1;
		w->ips = &e->ips[i];
	}
	e->nr_wl = i;
}

static void env_compile(struct env *e)
{
	struct bh_policy_error err;
	int ret;

	e->in.nr_workloads = e->nr_wl;
	e->in.workloads = e->wl;
	e->in.nr_namespaces = e->nr_ns;
	e->in.namespaces = e->ns;
	e->in.nr_policies = e->set.nr;
	e->in.policies = e->set.items;
	e->in.ids = (struct bh_compile_ids){ .cidr_identity = cidr_id, .rule_id = rule_id,
					     .arg = e };
	ret = bh_compile(&e->in, &e->out, &err);
	if (ret) {
		char buf[512];

		print_error("compile: %d %s\n", ret, bh_policy_error_format(&err, buf, sizeof(buf)));
		fail();
	}
}

static void env_free(struct env *e)
{
	bh_compile_output_free(&e->out);
	bh_policy_set_free(&e->set);
}

static int wl_idx(const struct env *e, const char *name)
{
	int i;

	for (i = 0; i < e->nr_wl; i++)
		if (!strcmp(e->wl[i].name, name))
			return i;
	fail_msg("no workload %s", name);
	return -1;
}

/* Verdict of a flow seen by workload `name` in `dir`, peer at `addr`. */
static struct bh_eval_result flow(const struct env *e, const char *name, enum bh_dir dir,
				  const char *addr, __u8 proto, __u16 port)
{
	struct bh_eval_result r;
	struct bh_ip ip;
	__u32 id;

	ip_parse(addr, &ip);
	id = bh_eval_identity(&e->out, ip.addr);
	bh_eval(&e->out.workloads[wl_idx(e, name)], dir, id, proto, port, &r);
	return r;
}

static bool ok(const struct env *e, const char *name, enum bh_dir dir, const char *addr,
	       __u8 proto, __u16 port)
{
	return flow(e, name, dir, addr, proto, port).verdict == BH_PV_ALLOW;
}

/* East-west: the sender's egress and the receiver's ingress must agree. */
static bool conn(const struct env *e, const char *from, const char *to, __u8 proto, __u16 port)
{
	char a[64], b[64];
	const struct bh_ip *fa = &e->ips[wl_idx(e, from)], *ta = &e->ips[wl_idx(e, to)];

	inet_ntop(fa->family == 4 ? AF_INET : AF_INET6, fa->family == 4 ? &fa->addr[12] : fa->addr,
		  a, sizeof(a));
	inet_ntop(ta->family == 4 ? AF_INET : AF_INET6, ta->family == 4 ? &ta->addr[12] : ta->addr,
		  b, sizeof(b));
	return ok(e, from, BH_DIR_EGRESS, b, proto, port) && ok(e, to, BH_DIR_INGRESS, a, proto, port);
}

static void check_sorted_unique(const struct bh_compiled_workload *w)
{
	size_t i;

	for (i = 1; i < w->nr; i++) {
		const struct bh_policy_key *a = &w->entries[i - 1].key, *b = &w->entries[i].key;
		int c = memcmp(&a->dir, &b->dir, 8);

		assert_true(c < 0 || (c == 0 && a->prefixlen < b->prefixlen));
	}
}

static const struct wl_def shop[] = {
	{ "shop", "web", "app=web,tier=front", "10.244.0.10" },
	{ "shop", "lb", "app=lb,tier=edge", "10.244.0.11" },
	{ "shop", "db", "app=db,tier=back", "10.244.0.12" },
	{ "ops", "prom", "app=prom", "10.244.1.10" },
	{ "ops", "lb", "app=lb", "10.244.1.11" },
	{ "dev", "web", "app=web,tier=front,env=dev", "10.244.2.10" },
	{ NULL, NULL, NULL, NULL },
};

#define NP(name, ns) "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" \
		     "metadata: {name: " name ", namespace: " ns "}\n"
#define NATIVE(name, ns) "apiVersion: bulkhead.io/v1\nkind: Policy\n" \
			 "metadata: {name: " name ", namespace: " ns "}\n"
#define CLUSTER(name) "apiVersion: bulkhead.io/v1\nkind: ClusterPolicy\n" \
		      "metadata: {name: " name "}\n"

/* ------------------------------------------------------------- tests */
static void test_not_isolated(void **state)
{
	struct env e = { 0 };
	struct bh_eval_result r;

	(void)state;
	env_setup(&e, NULL, shop);
	env_compile(&e);
	assert_int_equal(e.out.nr_workloads, e.nr_wl);
	assert_int_equal(e.out.workloads[0].nr, 0);
	assert_int_equal(e.out.nr_ipcache, (size_t)e.nr_wl);
	r = flow(&e, "web", BH_DIR_INGRESS, "1.2.3.4", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, 0);
	assert_false(r.isolated);
	assert_int_equal(bh_eval_identity(&e.out, e.ips[2].addr), BH_ID_WORKLOAD_BASE + 2);
	assert_true(conn(&e, "web", "db", TCP, 5432));
	env_free(&e);
}

static void test_isolation_and_union(void **state)
{
	struct env e = { 0 };
	struct bh_eval_result r;

	(void)state;
	env_setup(&e, NP("a", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - from: [{podSelector: {matchLabels: {app: lb}}}]\n"
		  "    ports: [{port: 80}]\n"
		  "---\n" NP("b", "shop")
		  "spec:\n  podSelector: {matchLabels: {tier: front}}\n"
		  "  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: ops}}}]\n"
		  "    ports: [{port: 9090}]\n", shop);
	env_ns(&e, "ops", "team=ops");
	env_compile(&e);

	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, rid(0, BH_DIR_INGRESS, 0));
	assert_true(r.isolated);
	assert_true(conn(&e, "lb", "web", TCP, 80));
	assert_false(conn(&e, "lb", "web", TCP, 9090));
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 9090);
	assert_int_equal(r.verdict, BH_PV_DEFAULT_DENY);
	assert_int_equal(r.rule_id, 0);
	/* the second policy's rule adds to the first */
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.1.10", TCP, 9090);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, rid(1, BH_DIR_INGRESS, 0));
	assert_true(conn(&e, "prom", "web", TCP, 9090));
	assert_true(conn(&e, "lb", "web", TCP, 80));	/* shop/lb */
	assert_false(conn(&e, "db", "web", TCP, 80));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.11", UDP, 80));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "8.8.8.8", TCP, 80));
	/* egress not isolated; db not selected by anything */
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "8.8.8.8", UDP, 53));
	assert_false(flow(&e, "web", BH_DIR_EGRESS, "8.8.8.8", UDP, 53).isolated);
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "8.8.8.8", TCP, 1));
	/* podSelector alone: only the policy's own namespace (ops/lb is not shop/lb) */
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.11", TCP, 80));
	/* the ops/lb workload is in namespace ops: allowed on 9090 */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.11", TCP, 9090));
	/* dev/web is labeled like shop/web but in another namespace */
	assert_false(flow(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 1).verdict == BH_PV_ALLOW);
	assert_true(ok(&e, "lb", BH_DIR_INGRESS, "1.1.1.1", TCP, 1));
	assert_int_equal(e.out.workloads[wl_idx(&e, "db")].nr, 0);
	env_free(&e);
}

static void test_policy_types(void **state)
{
	struct env e = { 0 };

	(void)state;
	env_setup(&e, NP("ingress-only", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n  egress: []\n"
		  "---\n" NP("deny-egress", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Egress]\n"
		  "---\n" NP("types-ignore-rules", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: lb}}\n  policyTypes: [Ingress]\n"
		  "  egress:\n  - {}\n"
		  "---\n" NP("egress-rules", "ops")
		  "spec:\n  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n",
		  shop);
	env_compile(&e);
	/* ingress isolated by default, egress: [] alone does not isolate */
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 80));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "1.1.1.1", TCP, 80));
	/* policyTypes [Egress]: egress denied, ingress open */
	assert_false(ok(&e, "db", BH_DIR_EGRESS, "1.1.1.1", TCP, 80));
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "1.1.1.1", TCP, 80));
	/* egress rules ignored when policyTypes leaves Egress out */
	assert_true(ok(&e, "lb", BH_DIR_EGRESS, "1.1.1.1", TCP, 80));
	assert_false(flow(&e, "lb", BH_DIR_EGRESS, "1.1.1.1", TCP, 80).isolated);
	assert_false(ok(&e, "lb", BH_DIR_INGRESS, "1.1.1.1", TCP, 80));
	/* egress present: both directions isolated */
	assert_true(ok(&e, "prom", BH_DIR_EGRESS, "10.9.9.9", UDP, 53));
	assert_false(ok(&e, "prom", BH_DIR_EGRESS, "11.9.9.9", UDP, 53));
	assert_false(ok(&e, "prom", BH_DIR_INGRESS, "10.9.9.9", UDP, 53));
	env_free(&e);
}

static void test_ns_and_pod_selectors(void **state)
{
	struct env e = { 0 };

	(void)state;
	env_setup(&e, NP("and", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		  "  ingress:\n  - from:\n"
		  "    - namespaceSelector: {matchLabels: {team: ops}}\n"
		  "      podSelector: {matchLabels: {app: prom}}\n"
		  "---\n" NP("or", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - from:\n"
		  "    - namespaceSelector: {matchLabels: {team: ops}}\n"
		  "    - podSelector: {matchLabels: {app: db}}\n"
		  "---\n" NP("by-name", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: lb}}\n"
		  "  ingress:\n  - from:\n"
		  "    - namespaceSelector:\n"
		  "        matchLabels: {kubernetes.io/metadata.name: dev}\n",
		  shop);
	env_ns(&e, "ops", "team=ops");
	env_compile(&e);
	/* AND: pods labeled app=prom in namespaces labeled team=ops */
	assert_true(conn(&e, "prom", "db", TCP, 5432));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.244.1.11", TCP, 5432));	/* ops/lb */
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.244.0.10", TCP, 5432));	/* shop/web */
	/* OR: two peers */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.11", TCP, 1));	/* ops/lb */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.12", TCP, 1));	/* shop/db */
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 1));	/* shop/lb */
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.2.10", TCP, 1));	/* dev/web */
	/* namespace "dev" is not listed: it still carries its name label */
	assert_true(ok(&e, "lb", BH_DIR_INGRESS, "10.244.2.10", TCP, 1));
	assert_false(ok(&e, "lb", BH_DIR_INGRESS, "10.244.0.10", TCP, 1));
	env_free(&e);
}

/* Peers (other nodes' pods): selectable by namespace and labels, in the
 * ipcache under their identity, compiled into no map; an address a local
 * workload holds stays the workload's. */
static void test_peers(void **state)
{
	struct env e = { 0 };
	struct bh_label pl[3][2] = { { { "app", "prom" } }, { { "app", "web" } },
				     { { "app", "prom" } } };
	struct bh_ip pip[4];
	struct bh_compile_workload peers[3] = {
		{ .ns = "ops", .name = "prom-remote", .identity = BH_ID_CIDR_BASE + 100,
		  .nr_labels = 1, .labels = pl[0], .nr_ips = 2, .ips = pip },
		{ .ns = "shop", .name = "web-remote", .identity = BH_ID_CIDR_BASE + 101,
		  .nr_labels = 1, .labels = pl[1], .nr_ips = 1, .ips = &pip[2] },
		/* claims shop/db's address: the local workload keeps it */
		{ .ns = "ops", .name = "stale", .identity = BH_ID_CIDR_BASE + 102,
		  .nr_labels = 1, .labels = pl[2], .nr_ips = 1, .ips = &pip[3] },
	};

	(void)state;
	ip_parse("10.244.9.1", &pip[0]);
	ip_parse("fd00::9:1", &pip[1]);
	ip_parse("10.244.9.2", &pip[2]);
	ip_parse("10.244.0.12", &pip[3]);
	env_setup(&e, NP("and", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		  "  ingress:\n  - from:\n"
		  "    - namespaceSelector: {matchLabels: {team: ops}}\n"
		  "      podSelector: {matchLabels: {app: prom}}\n"
		  "---\n" NP("web", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress: [{}]\n",
		  shop);
	env_ns(&e, "ops", "team=ops");
	e.in.nr_peers = 3;
	e.in.peers = peers;
	env_compile(&e);
	assert_int_equal(e.out.nr_workloads, e.nr_wl);	/* no map for a peer */
	/* a remote prom (ops, app=prom) is admitted, on both its addresses */
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "10.244.9.1", TCP, 5432));
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "fd00::9:1", TCP, 5432));
	assert_int_equal(bh_eval_identity(&e.out, pip[0].addr), BH_ID_CIDR_BASE + 100);
	/* a remote web (shop) is not; it is selected by no policy here */
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.244.9.2", TCP, 5432));
	/* shop/db's own address is the workload's, not the stale peer's */
	assert_int_equal(bh_eval_identity(&e.out, pip[3].addr), BH_ID_WORKLOAD_BASE + 2);
	/* a deleted peer: its address falls back to world */
	bh_compile_output_free(&e.out);
	e.in.nr_peers = 1;
	env_compile(&e);
	assert_int_equal(bh_eval_identity(&e.out, pip[2].addr), BH_ID_WORLD);
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "10.244.9.1", TCP, 5432));
	env_free(&e);
}

static void test_match_expressions(void **state)
{
	struct env e = { 0 };

	(void)state;
	env_setup(&e, NP("in", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n"
		  "        - {key: tier, operator: In, values: [edge, back]}\n"
		  "    ports: [{port: 1}]\n"
		  "  - from:\n    - podSelector:\n        matchExpressions:\n"
		  "        - {key: tier, operator: NotIn, values: [edge]}\n"
		  "    ports: [{port: 2}]\n"
		  "  - from:\n    - namespaceSelector: {}\n      podSelector:\n"
		  "        matchExpressions:\n        - {key: env, operator: Exists}\n"
		  "    ports: [{port: 3}]\n"
		  "  - from:\n    - namespaceSelector: {}\n      podSelector:\n"
		  "        matchExpressions:\n        - {key: tier, operator: DoesNotExist}\n"
		  "    ports: [{port: 4}]\n", shop);
	env_compile(&e);
	/* In */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 1));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.12", TCP, 1));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.10", TCP, 1));
	/* NotIn (own namespace only): web and db, not lb */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.10", TCP, 2));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.12", TCP, 2));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 2));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.10", TCP, 2));
	/* Exists: only dev/web has env */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.2.10", TCP, 3));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.10", TCP, 3));
	/* DoesNotExist: ops pods have no tier */
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.10", TCP, 4));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.1.11", TCP, 4));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 4));
	env_free(&e);
}

static void test_ipblock(void **state)
{
	struct env e = { 0 };
	struct bh_eval_result r;
	struct bh_ip ip;

	(void)state;
	env_setup(&e, NP("cidr", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		  "  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
		  "        except: [10.1.0.0/16, 10.244.1.0/24]\n"
		  "    ports: [{port: 5432}]\n"
		  "  - from:\n    - ipBlock: {cidr: 10.1.2.0/24}\n"
		  "    ports: [{port: 5432}]\n"
		  "  - from:\n    - ipBlock: {cidr: \"fd00::/8\", except: [\"fd00:1::/32\"]}\n"
		  "---\n" NP("v6all", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: lb}}\n"
		  "  ingress:\n  - from:\n    - ipBlock: {cidr: \"::/0\"}\n", shop);
	env_compile(&e);
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "10.2.0.1", TCP, 5432));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.2.0.1", TCP, 5433));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.1.0.1", TCP, 5432));	/* except */
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.1.3.1", TCP, 5432));
	/* an overlapping, longer block allows inside the except */
	r = flow(&e, "db", BH_DIR_INGRESS, "10.1.2.9", TCP, 5432);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, rid(0, BH_DIR_INGRESS, 1));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "11.0.0.1", TCP, 5432));
	/* workload addresses inside the block match it (Calico's choice) */
	assert_true(conn(&e, "web", "db", TCP, 5432));
	/* ...unless an except covers them */
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "10.244.1.10", TCP, 5432));
	/* IPv6 */
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "fd00:2::1", UDP, 9));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "fd00:1::1", UDP, 9));
	assert_false(ok(&e, "db", BH_DIR_INGRESS, "fe80::1", UDP, 9));
	/* ::/0 is IPv6 only: it must not capture IPv4 peers */
	assert_true(ok(&e, "lb", BH_DIR_INGRESS, "2001:db8::1", UDP, 9));
	assert_false(ok(&e, "lb", BH_DIR_INGRESS, "192.0.2.1", UDP, 9));
	ip_parse("192.0.2.1", &ip);
	assert_int_equal(bh_eval_identity(&e.out, ip.addr), BH_ID_WORLD);
	/* the ipcache holds every block and every except */
	ip_parse("10.1.0.1", &ip);
	assert_true(bh_eval_identity(&e.out, ip.addr) >= BH_ID_CIDR_BASE);
	assert_int_equal(e.nr_cidr, 7);
	assert_int_equal(e.out.nr_ipcache, (size_t)e.nr_wl + 7 + 1);
	env_free(&e);
}

/* host: {} (native): the node's addresses, loopback and link-local, not
 * the metadata address; ipBlocks keep covering all of them. */
static void test_host_class(void **state)
{
	struct env e = { 0 };
	struct bh_policy_set bad = { 0 };
	struct bh_policy_error err;
	struct bh_ip node[2];
	static const char k8s_host[] = NP("h", "shop")
		"spec:\n  podSelector: {}\n  egress:\n  - to: [{host: {}}]\n";

	(void)state;
	env_setup(&e, NATIVE("host", "shop")
		  "spec:\n  selector: {matchLabels: {app: web}}\n"
		  "  egress:\n  - to: [{host: {}}]\n"
		  "  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: 443}]\n", shop);
	ip_parse("192.0.2.7", &node[0]);
	ip_parse("2001:db8::7", &node[1]);
	e.in.nr_host_addrs = 2;
	e.in.host_addrs = node;
	env_compile(&e);
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "192.0.2.7", TCP, 22));	/* the node */
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "2001:db8::7", TCP, 22));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "127.0.0.1", TCP, 22));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "::1", TCP, 22));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "169.254.1.1", UDP, 53));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "169.254.169.255", UDP, 53));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "fe80::1", UDP, 53));
	/* the metadata address is not in the class... */
	assert_false(ok(&e, "web", BH_DIR_EGRESS, "169.254.169.254", TCP, 80));
	/* ...but the ipBlock covers it, and the class's ranges too */
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "169.254.169.254", TCP, 443));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "127.0.0.1", TCP, 443));
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "8.8.8.8", TCP, 443));
	assert_false(ok(&e, "web", BH_DIR_EGRESS, "8.8.8.8", TCP, 80));
	assert_false(ok(&e, "web", BH_DIR_EGRESS, "192.0.2.8", TCP, 22));	/* not the node */
	assert_false(conn(&e, "web", "db", TCP, 80));
	env_free(&e);

	/* the class is the native format's: a NetworkPolicy refuses it */
	assert_int_equal(bh_policy_parse_buf("k.yaml", k8s_host, strlen(k8s_host), &bad, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "host"));
	bh_policy_set_free(&bad);
}

static void test_port_ranges(void **state)
{
	struct env e = { 0 };
	__u32 p;

	(void)state;
	env_setup(&e, NP("ranges", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - ports: [{port: 1000, endPort: 2047}]\n"
		  "  - ports: [{protocol: UDP, port: 1, endPort: 65535}]\n"
		  "  - ports: [{protocol: SCTP, port: 65535}]\n"
		  "  - ports: [{port: 3001, endPort: 3006}]\n", shop);
	env_compile(&e);
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 999));
	for (p = 1000; p <= 2047; p++)
		assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, (__u16)p));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 2048));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", UDP, 1));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", UDP, 32768));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", UDP, 65535));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", UDP, 0));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_SCTP, 65535));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_SCTP, 65534));
	for (p = 2990; p < 3020; p++)
		assert_int_equal(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, (__u16)p),
				 p >= 3001 && p <= 3006);
	/* 1000-2047 is three blocks (1000/8, 1008/16, 1024/1024), 1-65535
	 * sixteen, 3001-3006 four (3001, 3002/2, 3004/2, 3006): with the
	 * default entry and one SCTP port, 25 entries. */
	assert_int_equal(e.out.workloads[0].nr, 1 + 3 + 16 + 1 + 4);
	env_free(&e);
}

static void test_deny_over_allow(void **state)
{
	struct env e = { 0 };
	struct bh_eval_result r;

	(void)state;
	env_setup(&e, NATIVE("allow-all", "shop")
		  "spec:\n  selector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - action: allow\n"
		  "  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n    ports: [{port: 22}]\n"
		  "---\n" NATIVE("no-ssh", "shop")
		  "spec:\n  selector: {matchLabels: {tier: front}}\n"
		  "  ingress:\n  - action: deny\n    from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n"
		  "    ports: [{port: 22}]\n"
		  "  - action: deny\n    ports: [{port: 23}]\n"
		  "  - action: deny\n    from: [{podSelector: {matchLabels: {app: lb}}}]\n"
		  "---\n" NATIVE("deny-only", "shop")
		  "spec:\n  selector: {matchLabels: {app: db}}\n"
		  "  egress:\n  - action: deny\n    to: [{ipBlock: {cidr: 192.0.2.0/24}}]\n", shop);
	env_compile(&e);
	r = flow(&e, "web", BH_DIR_INGRESS, "10.1.1.1", TCP, 22);
	assert_int_equal(r.verdict, BH_PV_DENY);
	assert_int_equal(r.rule_id, rid(1, BH_DIR_INGRESS, 0));
	r = flow(&e, "web", BH_DIR_INGRESS, "10.1.1.1", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "11.1.1.1", TCP, 22));
	/* a deny for any peer beats an allow for a specific one */
	r = flow(&e, "web", BH_DIR_INGRESS, "10.1.1.1", TCP, 23);
	assert_int_equal(r.verdict, BH_PV_DENY);
	assert_int_equal(r.rule_id, rid(1, BH_DIR_INGRESS, 1));
	/* a deny for all ports of a peer beats the allow-all */
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.11", UDP, 53);
	assert_int_equal(r.verdict, BH_PV_DENY);
	assert_int_equal(r.rule_id, rid(1, BH_DIR_INGRESS, 2));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.244.0.12", UDP, 53));
	/* deny-only: not isolated, the deny still applies */
	r = flow(&e, "db", BH_DIR_EGRESS, "192.0.2.7", TCP, 443);
	assert_int_equal(r.verdict, BH_PV_DENY);
	assert_false(r.isolated);
	r = flow(&e, "db", BH_DIR_EGRESS, "198.51.100.7", TCP, 443);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, 0);
	assert_true(ok(&e, "db", BH_DIR_INGRESS, "192.0.2.7", TCP, 443));
	env_free(&e);
}

static void test_icmp(void **state)
{
	struct env e = { 0 };

	(void)state;
	env_setup(&e, NATIVE("icmp", "shop")
		  "spec:\n  selector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - icmp: [{type: 8}, {protocol: ICMPv6, type: 128, code: 0}]\n"
		  "  - action: deny\n    icmp: [{type: 8, code: 5}]\n", shop);
	env_compile(&e);
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_ICMP, 8 << 8));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_ICMP, 8 << 8 | 3));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_ICMP, 8 << 8 | 5));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_ICMP, 0));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", IPPROTO_ICMP, 9 << 8));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "fd00::1", IPPROTO_ICMPV6, 128 << 8));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "fd00::1", IPPROTO_ICMPV6, 128 << 8 | 1));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "fd00::1", IPPROTO_ICMPV6, 129 << 8));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 8 << 8));
	env_free(&e);
}

/* Named protocols (tunnels and the like): a rule without ports covers
 * TCP, UDP, SCTP and ICMP only; ipProtocols names the others. */
static void test_ip_protocols(void **state)
{
	struct env e = { 0 };

	(void)state;
	env_setup(&e, NATIVE("tunnels", "shop")
		  "spec:\n  selector: {matchLabels: {app: web}}\n"
		  "  ingress:\n  - from: [{ipBlock: {cidr: 10.9.0.0/16}}]\n"
		  "  - from: [{ipBlock: {cidr: 10.8.0.0/16}}]\n    ipProtocols: [GRE, 50]\n"
		  "  - action: deny\n    from: [{ipBlock: {cidr: 10.8.1.0/24}}]\n"
		  "    ipProtocols: [ESP]\n", shop);
	env_compile(&e);
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.9.0.1", TCP, 22));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.9.0.1", IPPROTO_ICMP, 8 << 8));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.9.0.1", 47, 0));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.9.0.1", 4, 0));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.8.0.1", 47, 0));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.8.0.1", 50, 0));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.8.0.1", 4, 0));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.8.0.1", TCP, 22));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "10.8.1.1", 50, 0));
	assert_true(ok(&e, "web", BH_DIR_INGRESS, "10.8.1.1", 47, 0));
	/* the other direction is not isolated: everything passes */
	assert_true(ok(&e, "web", BH_DIR_EGRESS, "10.9.0.1", 47, 0));
	env_free(&e);
}

static void test_audit(void **state)
{
	struct env e = { 0 };
	struct bh_eval_result r;

	(void)state;
	env_setup(&e, NATIVE("audit-web", "shop")
		  "spec:\n  selector: {matchLabels: {app: web}}\n  audit: true\n"
		  "  ingress:\n  - from: [{podSelector: {matchLabels: {app: lb}}}]\n"
		  "  - action: deny\n    ports: [{port: 22}]\n"
		  "---\n" NP("enforce-db", "shop")
		  "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		  "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
		  "---\n" NATIVE("audit-db", "shop")
		  "spec:\n  selector: {matchLabels: {app: db}}\n  audit: true\n"
		  "  ingress:\n  - action: deny\n    from: [{podSelector: {matchLabels: {app: web}}}]\n"
		  "    ports: [{port: 5432}]\n", shop);
	env_compile(&e);
	/* audit only: enforced verdict open, audit verdict isolates */
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.12", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, 0);
	assert_false(r.isolated);
	assert_int_equal(r.audit_verdict, BH_PV_DEFAULT_DENY);
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.audit_verdict, BH_PV_ALLOW);
	assert_int_equal(r.audit_rule_id, rid(0, BH_DIR_INGRESS, 0));
	r = flow(&e, "web", BH_DIR_INGRESS, "10.244.0.11", TCP, 22);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.audit_verdict, BH_PV_DENY);
	assert_int_equal(r.audit_rule_id, rid(0, BH_DIR_INGRESS, 1));
	/* enforced and audit together */
	r = flow(&e, "db", BH_DIR_INGRESS, "10.244.0.10", TCP, 5432);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.rule_id, rid(1, BH_DIR_INGRESS, 0));
	assert_int_equal(r.audit_verdict, BH_PV_DENY);
	assert_int_equal(r.audit_rule_id, rid(2, BH_DIR_INGRESS, 0));
	r = flow(&e, "db", BH_DIR_INGRESS, "10.244.0.10", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_int_equal(r.audit_verdict, BH_PV_ALLOW);
	assert_int_equal(r.audit_rule_id, rid(1, BH_DIR_INGRESS, 0));
	r = flow(&e, "db", BH_DIR_INGRESS, "10.244.0.11", TCP, 80);
	assert_int_equal(r.verdict, BH_PV_DEFAULT_DENY);
	assert_int_equal(r.audit_verdict, BH_PV_DEFAULT_DENY);
	/* no audit policy: audit fields mirror the enforced ones */
	r = flow(&e, "lb", BH_DIR_INGRESS, "10.244.0.11", TCP, 80);
	assert_int_equal(r.audit_verdict, BH_PV_ALLOW);
	env_free(&e);
}

static void test_cluster_policy(void **state)
{
	struct env e = { 0 };
	static const struct wl_def wl[] = {
		{ "a", "web", "app=web", "10.0.1.1" },
		{ "b", "web", "app=web", "10.0.2.1" },
		{ "kube-system", "dns", "app=dns", "10.0.3.1" },
		{ "b", "job", "app=job", "10.0.2.2" },
		{ NULL, NULL, NULL, NULL },
	};

	(void)state;
	env_setup(&e, CLUSTER("no-telnet")
		  "spec:\n  selector: {}\n  namespaceSelector:\n    matchExpressions:\n"
		  "    - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}\n"
		  "  ingress:\n  - action: deny\n    ports: [{port: 23}]\n"
		  "---\n" CLUSTER("dns-only-from-web")
		  "spec:\n  selector: {matchLabels: {app: dns}}\n"
		  "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
		  "    ports: [{protocol: UDP, port: 53}]\n", wl);
	env_compile(&e);
	assert_false(ok(&e, "job", BH_DIR_INGRESS, "1.1.1.1", TCP, 23));
	assert_false(flow(&e, "job", BH_DIR_INGRESS, "1.1.1.1", TCP, 23).isolated);
	assert_true(ok(&e, "job", BH_DIR_INGRESS, "1.1.1.1", TCP, 24));
	assert_false(ok(&e, "web", BH_DIR_INGRESS, "1.1.1.1", TCP, 23));
	assert_true(ok(&e, "dns", BH_DIR_INGRESS, "10.0.1.1", TCP, 23) == false);	/* isolated */
	/* podSelector alone in a ClusterPolicy: every namespace */
	assert_true(ok(&e, "dns", BH_DIR_INGRESS, "10.0.1.1", UDP, 53));
	assert_true(ok(&e, "dns", BH_DIR_INGRESS, "10.0.2.1", UDP, 53));
	assert_false(ok(&e, "dns", BH_DIR_INGRESS, "10.0.2.2", UDP, 53));
	/* kube-system excluded from the telnet deny: its 23 is judged by the
	 * other policy alone (isolated, not allowed) */
	assert_int_equal(flow(&e, "dns", BH_DIR_INGRESS, "10.0.1.1", TCP, 23).verdict,
			 BH_PV_DEFAULT_DENY);
	env_free(&e);
}

/* Named ports: `port: NAME` resolves per workload. Ingress against the
 * selected workload's own ports, egress against each peer's; two pods
 * with different numbers for one name each get their own; a workload
 * without the name matches no port of the rule; the protocol counts. */
static const struct wl_def named_wl[] = {
	{ "shop", "api1", "app=api", "10.112.0.1" },
	{ "shop", "api2", "app=api", "10.112.0.2" },
	{ "shop", "api3", "app=api", "10.112.0.3" },	/* no port "http" */
	{ "shop", "cli", "app=cli", "10.112.0.9" },
	{ NULL, NULL, NULL, NULL },
};

static void named_setup(struct env *e, const char *yaml, struct bh_named_port np[3][2])
{
	char why[128];

	env_setup(e, yaml, named_wl);
	assert_int_equal(bh_named_port_parse("http=8080", &np[0][0], why, sizeof(why)), 0);
	assert_int_equal(bh_named_port_parse("dns=53/udp", &np[0][1], why, sizeof(why)), 0);
	assert_int_equal(bh_named_port_parse("http=9090/TCP", &np[1][0], why, sizeof(why)), 0);
	assert_int_equal(bh_named_port_parse("metrics=8080", &np[2][0], why, sizeof(why)), 0);
	e->wl[0].nr_named_ports = 2;
	e->wl[0].named_ports = np[0];
	e->wl[1].nr_named_ports = 1;
	e->wl[1].named_ports = np[1];
	e->wl[2].nr_named_ports = 1;
	e->wl[2].named_ports = np[2];
	env_compile(e);
}

static void test_named_ports(void **state)
{
	struct bh_named_port np[3][2];
	struct env e = { 0 };

	(void)state;
	named_setup(&e, NP("in", "shop")
		    "spec:\n  podSelector: {matchLabels: {app: api}}\n"
		    "  ingress:\n  - ports: [{port: http}, {port: dns, protocol: UDP}]\n"
		    "---\n" NP("out", "shop")
		    "spec:\n  podSelector: {matchLabels: {app: cli}}\n  policyTypes: [Egress]\n"
		    "  egress:\n  - to: [{podSelector: {matchLabels: {app: api}}}]\n"
		    "    ports: [{port: http}]\n", np);
	/* ingress: each selected pod its own number */
	assert_true(ok(&e, "api1", BH_DIR_INGRESS, "10.112.0.9", TCP, 8080));
	assert_false(ok(&e, "api1", BH_DIR_INGRESS, "10.112.0.9", TCP, 9090));
	assert_true(ok(&e, "api2", BH_DIR_INGRESS, "10.112.0.9", TCP, 9090));
	assert_false(ok(&e, "api2", BH_DIR_INGRESS, "10.112.0.9", TCP, 8080));
	/* the protocol counts: dns is UDP 53, http is not UDP */
	assert_true(ok(&e, "api1", BH_DIR_INGRESS, "10.112.0.9", UDP, 53));
	assert_false(ok(&e, "api1", BH_DIR_INGRESS, "10.112.0.9", TCP, 53));
	assert_false(ok(&e, "api1", BH_DIR_INGRESS, "10.112.0.9", UDP, 8080));
	/* without the name: no port of the rule, not every port */
	assert_false(ok(&e, "api3", BH_DIR_INGRESS, "10.112.0.9", TCP, 8080));
	assert_false(ok(&e, "api3", BH_DIR_INGRESS, "10.112.0.9", TCP, 80));
	assert_false(ok(&e, "api2", BH_DIR_INGRESS, "10.112.0.9", UDP, 53));
	/* egress: each peer's own number */
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.1", TCP, 8080));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.1", TCP, 9090));
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.2", TCP, 9090));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.2", TCP, 8080));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.3", TCP, 8080));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "1.2.3.4", TCP, 8080));
	/* both sides agree */
	assert_true(conn(&e, "cli", "api1", TCP, 8080));
	assert_true(conn(&e, "cli", "api2", TCP, 9090));
	assert_false(conn(&e, "cli", "api2", TCP, 8080));
	env_free(&e);
}

/* Egress to any peer (no `to`) and through an ipBlock: the name resolves
 * against the pods there, and nothing else (an outside address has no
 * named ports). A named port and a number in one rule both count. */
static void test_named_ports_any_and_cidr(void **state)
{
	struct bh_named_port np[3][2];
	struct env e = { 0 };

	(void)state;
	named_setup(&e, NP("out", "shop")
		    "spec:\n  podSelector: {matchLabels: {app: cli}}\n  policyTypes: [Egress]\n"
		    "  egress:\n  - ports: [{port: http}, {port: 443}]\n"
		    "  - to: [{ipBlock: {cidr: 10.112.0.0/30}}]\n    ports: [{port: metrics}]\n", np);
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.1", TCP, 8080));
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.2", TCP, 9090));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.2", TCP, 8080));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "8.8.8.8", TCP, 8080));
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "8.8.8.8", TCP, 443));
	/* api3 (10.112.0.3, inside the block) has metrics=8080 */
	assert_true(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.3", TCP, 8080));
	assert_false(ok(&e, "cli", BH_DIR_EGRESS, "10.112.0.3", TCP, 9090));
	env_free(&e);
}

static void test_named_port_parse(void **state)
{
	struct bh_named_port p;
	char why[160];

	(void)state;
	assert_int_equal(bh_named_port_parse("http=80", &p, why, sizeof(why)), 0);
	assert_string_equal(p.name, "http");
	assert_int_equal(p.port, 80);
	assert_int_equal(p.proto, TCP);
	assert_int_equal(bh_named_port_parse("dns-udp=53/UDP", &p, why, sizeof(why)), 0);
	assert_int_equal(p.proto, UDP);
	assert_int_equal(bh_named_port_parse("80=80", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("Http=80", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("a--b=80", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("-ab=80", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("abcdefghijklmnop=80", &p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 15"));
	assert_int_equal(bh_named_port_parse("http=0", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("http=65536", &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(bh_named_port_parse("http=80/ICMP", &p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "TCP, UDP or SCTP"));
	assert_int_equal(bh_named_port_parse("http", &p, why, sizeof(why)), -EINVAL);
}

/* unknown_pod: deny. A pending workload is closed both ways whatever
 * selects it, except DNS to the cluster DNS pods; once its identity
 * arrives (pending false), its policies apply. */
static void test_pending_posture(void **state)
{
	static const struct wl_def wl[] = {
		{ "shop", "new", "app=web", "10.112.1.1" },
		{ "kube-system", "coredns", "k8s-app=kube-dns", "10.112.1.53" },
		{ "shop", "other", "app=other", "10.112.1.2" },
		{ NULL, NULL, NULL, NULL },
	};
	struct env e = { 0 };
	const char *yaml = NP("open", "shop")
		"spec:\n  podSelector: {}\n  ingress: [{}]\n  egress: [{}]\n";

	(void)state;
	env_setup(&e, yaml, wl);
	e.wl[0].pending = true;
	env_compile(&e);
	assert_true(ok(&e, "new", BH_DIR_EGRESS, "10.112.1.53", UDP, 53));
	assert_true(ok(&e, "new", BH_DIR_EGRESS, "10.112.1.53", TCP, 53));
	assert_false(ok(&e, "new", BH_DIR_EGRESS, "10.112.1.53", UDP, 54));
	assert_false(ok(&e, "new", BH_DIR_EGRESS, "10.112.1.2", UDP, 53));
	assert_false(ok(&e, "new", BH_DIR_EGRESS, "1.1.1.1", TCP, 443));
	assert_false(ok(&e, "new", BH_DIR_INGRESS, "10.112.1.2", TCP, 80));
	assert_false(ok(&e, "new", BH_DIR_INGRESS, "10.112.1.53", UDP, 53));
	/* others are not affected */
	assert_true(ok(&e, "other", BH_DIR_INGRESS, "10.112.1.1", TCP, 80));
	env_free(&e);

	memset(&e, 0, sizeof(e));
	env_setup(&e, yaml, wl);
	env_compile(&e);
	assert_true(ok(&e, "new", BH_DIR_INGRESS, "10.112.1.2", TCP, 80));
	assert_true(ok(&e, "new", BH_DIR_EGRESS, "1.1.1.1", TCP, 443));
	env_free(&e);
}

static void test_quarantine_and_forensics(void **state)
{
	struct env e = { 0 };
	struct bh_port fports[] = { { .proto = TCP, .has_port = true, .port = 22, .end_port = 22 } };
	const struct bh_compiled_workload *q;
	struct bh_eval_result r;
	struct bh_ip ip;
	size_t i;
	int forensics = 0;

	(void)state;
	env_setup(&e, NULL, shop);
	e.in.forensics.enabled = true;
	assert_int_equal(bh_policy_parse_buf("x", "", 0, &e.set, &(struct bh_policy_error){ 0 }), 0);
	ip_parse("192.168.100.0", &e.in.forensics.cidr.addr);
	e.in.forensics.cidr.prefixlen = 24;
	e.in.forensics.nr_ports = 1;
	e.in.forensics.ports = fports;
	env_compile(&e);
	q = &e.out.quarantine;
	check_sorted_unique(q);
	assert_true(q->nr >= 3);
	for (i = 0; i < q->nr; i++) {
		if (q->entries[i].key.prefixlen == 8)
			assert_int_equal(q->entries[i].val.verdict, BH_PV_QUARANTINE);
		if (q->entries[i].val.flags & BH_PF_FORENSICS) {
			assert_int_equal(q->entries[i].val.verdict, BH_PV_ALLOW);
			forensics++;
		}
	}
	assert_int_equal(q->entries[q->nr - 1].key.dir, BH_DIR_META);
	assert_int_equal(q->entries[q->nr - 1].key.prefixlen, 8);
	assert_int_equal(forensics, 2);
	ip_parse("192.168.100.7", &ip);
	assert_int_not_equal(bh_eval_identity(&e.out, ip.addr), BH_ID_WORLD);
	bh_eval(q, BH_DIR_INGRESS, bh_eval_identity(&e.out, ip.addr), TCP, 22, &r);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_true(r.isolated);
	bh_eval(q, BH_DIR_EGRESS, bh_eval_identity(&e.out, ip.addr), TCP, 22, &r);
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	bh_eval(q, BH_DIR_EGRESS, bh_eval_identity(&e.out, ip.addr), TCP, 80, &r);
	assert_int_equal(r.verdict, BH_PV_QUARANTINE);
	bh_eval(q, BH_DIR_INGRESS, BH_ID_WORLD, TCP, 22, &r);
	assert_int_equal(r.verdict, BH_PV_QUARANTINE);
	env_free(&e);
}

static void test_deterministic_sorted(void **state)
{
	struct env a = { 0 }, b = { 0 };
	const char *yaml = NP("x", "shop")
		"spec:\n  podSelector: {}\n"
		"  ingress:\n  - from: [{namespaceSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8}}]\n"
		"    ports: [{port: 1, endPort: 1000}, {protocol: UDP}]\n"
		"  - from: [{podSelector: {}}]\n"
		"  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]\n";
	int i;

	(void)state;
	env_setup(&a, yaml, shop);
	env_setup(&b, yaml, shop);
	env_compile(&a);
	env_compile(&b);
	assert_int_equal(a.out.nr_ipcache, b.out.nr_ipcache);
	assert_memory_equal(a.out.ipcache, b.out.ipcache,
			    a.out.nr_ipcache * sizeof(*a.out.ipcache));
	for (i = 0; i < a.nr_wl; i++) {
		assert_int_equal(a.out.workloads[i].slot, (__u32)i);
		assert_int_equal(a.out.workloads[i].nr, b.out.workloads[i].nr);
		if (a.out.workloads[i].nr)
			assert_memory_equal(a.out.workloads[i].entries, b.out.workloads[i].entries,
					    a.out.workloads[i].nr * sizeof(struct bh_policy_entry));
		check_sorted_unique(&a.out.workloads[i]);
	}
	for (i = 1; i < (int)a.out.nr_ipcache; i++) {
		int c = memcmp(a.out.ipcache[i - 1].key.addr, a.out.ipcache[i].key.addr, 16);

		assert_true(c < 0 || (c == 0 && a.out.ipcache[i - 1].key.prefixlen <
					       a.out.ipcache[i].key.prefixlen));
	}
	/* 0.0.0.0/0 egress: everything but 10/8 */
	assert_true(ok(&a, "web", BH_DIR_EGRESS, "8.8.8.8", UDP, 53));
	assert_false(ok(&a, "web", BH_DIR_EGRESS, "10.9.9.9", UDP, 53));
	/* workloads are in 10/8: excepted in egress */
	assert_false(ok(&a, "web", BH_DIR_EGRESS, "10.244.0.12", UDP, 53));
	env_free(&a);
	env_free(&b);
}

static void test_compile_errors(void **state)
{
	struct env e = { 0 };
	static const struct wl_def dup[] = {
		{ "a", "x", "", "10.0.0.1" },
		{ "b", "y", "", "10.0.0.1" },
		{ NULL, NULL, NULL, NULL },
	};
	struct bh_policy_error err;

	(void)state;
	env_setup(&e, NULL, dup);
	e.in.nr_workloads = e.nr_wl;
	e.in.workloads = e.wl;
	assert_int_equal(bh_compile(&e.in, &e.out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "10.0.0.1 belongs to both a/x and b/y"));
	assert_null(e.out.workloads);
	env_free(&e);
}

/* ------------------------------------------------- reference semantics */
/* Straight from the model, no maps: does rule r of policy p match? */
/* What-if: a candidate replaces the stored policy of the same name, the
 * others stay; flows are judged as the data path would; hits are counted
 * per rule and a candidate rule nothing hit is found unused. */
static void test_whatif(void **state)
{
	static const char stored[] =
		NP("db", "shop") "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		"  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
		"    ports: [{protocol: TCP, port: 5432}]\n---\n"
		NP("lb", "shop") "spec:\n  podSelector: {matchLabels: {app: lb}}\n"
		"  ingress:\n  - ports: [{protocol: TCP, port: 443}]\n";
	static const char cand_yaml[] =
		NP("db", "shop") "spec:\n  podSelector: {matchLabels: {app: db}}\n"
		"  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
		"    ports: [{protocol: TCP, port: 6379}]\n"
		"  - from: [{podSelector: {matchLabels: {app: prom}}}]\n"
		"    ports: [{protocol: TCP, port: 9100}]\n";
	struct env e = { 0 };
	struct bh_policy_set cand = { 0 };
	struct bh_policy_error err;
	struct bh_compile_input in = { 0 };
	struct bh_eval_result r;
	struct bh_whatif w;
	int db, lb, unused = 0;

	(void)state;
	env_setup(&e, stored, shop);
	assert_int_equal(bh_policy_parse_buf("c.yaml", cand_yaml, strlen(cand_yaml), &cand, &err), 0);
	in.nr_workloads = e.nr_wl;
	in.workloads = e.wl;
	in.nr_policies = e.set.nr;
	in.policies = e.set.items;
	assert_int_equal(bh_whatif_build(&w, &in, &cand, &err), 0);
	db = wl_idx(&e, "db");
	lb = wl_idx(&e, "lb");
	/* the candidate's db policy is in force, the stored one is not */
	assert_true(bh_whatif_judge(&w, db, BH_DIR_INGRESS, e.ips[0].addr, TCP, 5432, &r));
	assert_false(bh_whatif_judge(&w, db, BH_DIR_INGRESS, e.ips[0].addr, TCP, 6379, &r));
	assert_int_equal(r.verdict, BH_PV_ALLOW);
	assert_true(w.rules[r.rule_id - 1].candidate);
	assert_int_equal(w.rules[r.rule_id - 1].hits, 1);
	/* the stored lb policy still holds */
	assert_false(bh_whatif_judge(&w, lb, BH_DIR_INGRESS, e.ips[3].addr, TCP, 443, &r));
	assert_false(w.rules[r.rule_id - 1].candidate);
	assert_true(bh_whatif_judge(&w, lb, BH_DIR_INGRESS, e.ips[3].addr, TCP, 80, &r));
	/* prom -> db:9100 was never seen: that candidate rule is unused */
	for (int i = 0; i < w.nr_rules; i++)
		unused += w.rules[i].candidate && !w.rules[i].hits;
	assert_int_equal(unused, 1);
	bh_whatif_free(&w);
	bh_policy_set_free(&cand);
	env_free(&e);
}

static bool ref_peer(const struct env *e, const struct bh_policy *p, const struct bh_peer *pe,
		     int peer_wl, const struct bh_ip *addr)
{
	int i;

	if (pe->has_cidr) {
		struct bh_cidr host = { .addr = *addr, .prefixlen = addr->family == 4 ? 32 : 128 };
		bool in = false;

		/* contains: compare masked */
		for (i = 0; i < 1; i++) {
			int plen = pe->cidr.addr.family == 4 ? pe->cidr.prefixlen + 96 : pe->cidr.prefixlen;
			int b;

			in = pe->cidr.addr.family == addr->family;
			for (b = 0; in && b < plen; b++)
				if (((pe->cidr.addr.addr[b / 8] ^ addr->addr[b / 8]) >> (7 - b % 8)) & 1)
					in = false;
		}
		for (i = 0; in && i < pe->nr_except; i++) {
			const struct bh_cidr *x = &pe->except[i];
			int plen = x->addr.family == 4 ? x->prefixlen + 96 : x->prefixlen, b;
			bool exc = x->addr.family == host.addr.family;

			for (b = 0; exc && b < plen; b++)
				if (((x->addr.addr[b / 8] ^ addr->addr[b / 8]) >> (7 - b % 8)) & 1)
					exc = false;
			if (exc)
				in = false;
		}
		return in;
	}
	if (peer_wl < 0)
		return false;
	{
		const struct bh_compile_workload *w = &e->wl[peer_wl];
		struct bh_label nl[8];
		int nn = 0, k;

		for (k = 0; k < e->nr_ns; k++)
			if (!strcmp(e->ns[k].name, w->ns)) {
				memcpy(nl, e->ns[k].labels, sizeof(nl[0]) * (size_t)e->ns[k].nr_labels);
				nn = e->ns[k].nr_labels;
			}
		snprintf(nl[nn].key, sizeof(nl[nn].key), "kubernetes.io/metadata.name");
		snprintf(nl[nn].value, sizeof(nl[nn].value), "%s", w->ns);
		nn++;
		if (pe->ns.present) {
			if (!bh_selector_match(&pe->ns, nn, nl))
				return false;
		} else if (p->kind != BH_POLICY_NATIVE_CLUSTER && strcmp(p->ns, w->ns)) {
			return false;
		}
		return bh_selector_match(&pe->pod, w->nr_labels, w->labels);
	}
}

static bool ref_ports(const struct bh_rule *r, __u8 proto, __u16 port)
{
	int i;

	if (!r->nr_ports)
		return true;
	for (i = 0; i < r->nr_ports; i++)
		if (r->ports[i].proto == proto &&
		    (!r->ports[i].has_port || (port >= r->ports[i].port && port <= r->ports[i].end_port)))
			return true;
	return false;
}

static enum bh_pverdict ref_eval(const struct env *e, int wi, enum bh_dir dir, int peer_wl,
				 const struct bh_ip *addr, __u8 proto, __u16 port, bool audit)
{
	const struct bh_compile_workload *w = &e->wl[wi];
	bool isolated = false, allow = false, deny = false;
	int pi, r, q;

	for (pi = 0; pi < e->set.nr; pi++) {
		const struct bh_policy *p = &e->set.items[pi];
		bool types = dir == BH_DIR_EGRESS ? p->types_egress : p->types_ingress;
		int nr = dir == BH_DIR_EGRESS ? p->nr_egress : p->nr_ingress;
		const struct bh_rule *rules = dir == BH_DIR_EGRESS ? p->egress : p->ingress;

		if (p->audit && !audit)
			continue;
		if (p->kind == BH_POLICY_NATIVE_CLUSTER) {
			/* test namespaces carry only their name label */
			struct bh_label nl = { "kubernetes.io/metadata.name", "" };

			snprintf(nl.value, sizeof(nl.value), "%s", w->ns);
			if (!bh_selector_match(&p->ns_selector, 1, &nl))
				continue;
		} else if (strcmp(p->ns, w->ns)) {
			continue;
		}
		if (!bh_selector_match(&p->selector, w->nr_labels, w->labels))
			continue;
		if (types)
			isolated = true;
		if (p->kind == BH_POLICY_K8S && !types)
			continue;
		for (r = 0; r < nr; r++) {
			bool peer = rules[r].nr_peers == 0;

			for (q = 0; !peer && q < rules[r].nr_peers; q++)
				peer = ref_peer(e, p, &rules[r].peers[q], peer_wl, addr);
			if (!peer || !ref_ports(&rules[r], proto, port))
				continue;
			if (rules[r].action == BH_ACTION_DENY)
				deny = true;
			else
				allow = true;
		}
	}
	if (deny)
		return BH_PV_DENY;
	if (allow)
		return BH_PV_ALLOW;
	return isolated ? BH_PV_DEFAULT_DENY : BH_PV_ALLOW;
}

static const char *ref_yaml =
	NP("k1", "a") "spec:\n  podSelector: {matchLabels: {app: web}}\n"
	"  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}},"
	" {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.0.2.0/24]}}]\n"
	"    ports: [{port: 80}, {port: 8000, endPort: 8100}, {protocol: UDP}]\n"
	"  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}},"
	" podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [db]}]}}]\n"
	"  egress:\n  - to: [{ipBlock: {cidr: 10.1.0.0/16}}]\n    ports: [{port: 443}]\n"
	"---\n" NP("k2", "a") "spec:\n  podSelector: {matchExpressions: [{key: app, operator: Exists}]}\n"
	"  policyTypes: [Ingress]\n  ingress:\n  - from: [{ipBlock: {cidr: 10.1.2.0/24}}]\n"
	"    ports: [{port: 1, endPort: 1023}]\n"
	"---\n" NATIVE("n1", "a") "spec:\n  selector: {matchLabels: {app: web}}\n"
	"  ingress:\n  - action: deny\n    from: [{ipBlock: {cidr: 10.0.0.0/12}}]\n"
	"    ports: [{port: 8050, endPort: 8200}]\n"
	"  - action: deny\n    from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 81}]\n"
	"  egress:\n  - action: deny\n    to: [{ipBlock: {cidr: 10.1.128.0/17}}]\n"
	"---\n" NATIVE("n2", "b") "spec:\n  selector: {}\n  audit: true\n"
	"  ingress:\n  - from: [{namespaceSelector: {}}]\n"
	"  - action: deny\n    ports: [{protocol: UDP, port: 53}]\n"
	"---\n" CLUSTER("c1") "spec:\n  selector: {matchLabels: {app: db}}\n"
	"  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 5432}]\n"
	"  - action: deny\n    from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n    ports: [{port: 5432}]\n";

static void test_reference(void **state)
{
	static const struct wl_def wl[] = {
		{ "a", "web", "app=web", "10.0.1.1" },
		{ "a", "api", "app=api", "10.1.2.3" },
		{ "a", "db", "app=db", "10.0.2.5" },
		{ "b", "web", "app=web", "10.2.0.1" },
		{ "b", "db", "app=db", "172.16.0.1" },
		{ "b", "api", "app=api", "10.1.200.1" },
		{ "c", "misc", "x=y", "192.168.1.1" },
		{ NULL, NULL, NULL, NULL },
	};
	static const char *const ext[] = { "10.0.0.1", "10.1.0.9", "10.1.2.200", "10.0.2.9",
					   "10.15.0.1", "10.16.0.1", "11.0.0.1", "10.1.128.1" };
	static const __u16 ports[] = { 1, 53, 80, 81, 443, 1023, 1024, 5432, 7999, 8000, 8049,
				       8050, 8100, 8101, 8200, 8201, 65535 };
	static const __u8 protos[] = { TCP, UDP, IPPROTO_SCTP };
	struct env e = { 0 };
	int wi, pw, x, d, pi, po, checked = 0;

	(void)state;
	env_setup(&e, ref_yaml, wl);
	env_compile(&e);
	for (wi = 0; wi < e.nr_wl; wi++) {
		check_sorted_unique(&e.out.workloads[wi]);
		for (d = 0; d < 2; d++)
			for (x = 0; x < e.nr_wl + (int)(sizeof(ext) / sizeof(ext[0])); x++) {
				struct bh_ip addr;

				pw = x < e.nr_wl ? x : -1;
				if (pw >= 0)
					addr = e.ips[pw];
				else
					ip_parse(ext[x - e.nr_wl], &addr);
				for (pi = 0; pi < 3; pi++)
					for (po = 0; po < (int)(sizeof(ports) / sizeof(ports[0])); po++) {
						struct bh_eval_result r;
						enum bh_pverdict want, want_a;
						__u32 id = bh_eval_identity(&e.out, addr.addr);

						bh_eval(&e.out.workloads[wi], (enum bh_dir)d, id,
							protos[pi], ports[po], &r);
						want = ref_eval(&e, wi, (enum bh_dir)d, pw, &addr,
								protos[pi], ports[po], false);
						want_a = ref_eval(&e, wi, (enum bh_dir)d, pw, &addr,
								  protos[pi], ports[po], true);
						if (r.verdict != want || r.audit_verdict != want_a) {
							print_error("wl %s/%s dir %d peer %d/%d proto %u "
								    "port %u: got %d/%d want %d/%d\n",
								    e.wl[wi].ns, e.wl[wi].name, d, x, pw,
								    protos[pi], ports[po], r.verdict,
								    r.audit_verdict, want, want_a);
							fail();
						}
						checked++;
					}
			}
	}
	assert_true(checked > 5000);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_isolated),
		cmocka_unit_test(test_host_class),
		cmocka_unit_test(test_whatif),
		cmocka_unit_test(test_isolation_and_union),
		cmocka_unit_test(test_policy_types),
		cmocka_unit_test(test_ns_and_pod_selectors),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_match_expressions),
		cmocka_unit_test(test_ipblock),
		cmocka_unit_test(test_port_ranges),
		cmocka_unit_test(test_deny_over_allow),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_ip_protocols),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_cluster_policy),
		cmocka_unit_test(test_quarantine_and_forensics),
		cmocka_unit_test(test_named_ports),
		cmocka_unit_test(test_named_ports_any_and_cidr),
		cmocka_unit_test(test_named_port_parse),
		cmocka_unit_test(test_pending_posture),
		cmocka_unit_test(test_deterministic_sorted),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
