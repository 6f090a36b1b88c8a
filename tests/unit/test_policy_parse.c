// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Policy parsers: every field of both formats and every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "policy/policy.h"

#define DATA(f) "tests/unit/data/" f

/* The header every error case starts from: lines 1-6. */
#define K8S_HEAD "apiVersion: networking.k8s.io/v1\n" \
		 "kind: NetworkPolicy\n"               \
		 "metadata:\n"                         \
		 "  name: web\n"                       \
		 "spec:\n"                             \
		 "  podSelector: {}\n"
#define NAT_HEAD "apiVersion: bulkhead.io/v1\n" \
		 "kind: Policy\n"               \
		 "metadata:\n"                  \
		 "  name: web\n"                \
		 "spec:\n"                      \
		 "  selector: {}\n"

static int parse(const char *yaml, struct bh_policy_set *set, struct bh_policy_error *err)
{
	memset(err, 0, sizeof(*err));
	return bh_policy_parse_buf("t.yaml", yaml, strlen(yaml), set, err);
}

static void check_cidr(const struct bh_cidr *c, const char *want)
{
	char buf[64];

	/* bh_ip_fmt is internal; format by hand. */
	if (c->addr.family == 4)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%d", c->addr.addr[12], c->addr.addr[13],
			 c->addr.addr[14], c->addr.addr[15], c->prefixlen);
	else
		snprintf(buf, sizeof(buf), "%02x%02x::/%d", c->addr.addr[0], c->addr.addr[1],
			 c->prefixlen);
	assert_string_equal(buf, want);
}

/* ------------------------------------------------------------ K8s file */
static void test_k8s_full_file(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	const struct bh_policy *p;
	const struct bh_rule *r;
	const struct bh_selector *s;

	(void)state;
	assert_int_equal(bh_policy_parse_file(DATA("k8s_full.yaml"), &set, &err), 0);
	assert_int_equal(set.nr, 2);	/* the empty document is skipped */

	p = &set.items[0];
	assert_int_equal(p->kind, BH_POLICY_K8S);
	assert_string_equal(p->name, "web-allow");
	assert_string_equal(p->ns, "shop");
	assert_string_equal(p->file, DATA("k8s_full.yaml"));
	assert_int_equal(p->line, 3);
	assert_false(p->audit);
	assert_true(p->types_ingress);
	assert_true(p->types_egress);
	assert_non_null(strstr(p->source, "name: web-allow"));
	assert_null(strstr(p->source, "deny-all"));

	s = &p->selector;
	assert_true(s->present);
	assert_int_equal(s->nr_match, 1);
	assert_string_equal(s->match[0].key, "app");
	assert_string_equal(s->match[0].value, "web");
	assert_int_equal(s->nr_expr, 4);
	assert_string_equal(s->expr[0].key, "tier");
	assert_int_equal(s->expr[0].op, BH_SEL_IN);
	assert_int_equal(s->expr[0].nr_values, 2);
	assert_string_equal(s->expr[0].values[1], "edge");
	assert_int_equal(s->expr[1].op, BH_SEL_NOT_IN);
	assert_string_equal(s->expr[1].values[0], "dev");
	assert_string_equal(s->expr[2].key, "example.com/owned");
	assert_int_equal(s->expr[2].op, BH_SEL_EXISTS);
	assert_int_equal(s->expr[2].nr_values, 0);
	assert_int_equal(s->expr[3].op, BH_SEL_DOES_NOT_EXIST);

	assert_int_equal(p->nr_ingress, 1);
	r = &p->ingress[0];
	assert_int_equal(r->action, BH_ACTION_ALLOW);
	assert_int_equal(r->line, 23);
	assert_true(r->peers_present);
	assert_int_equal(r->nr_peers, 4);
	assert_true(r->peers[0].pod.present);
	assert_false(r->peers[0].ns.present);
	assert_string_equal(r->peers[0].pod.match[0].value, "lb");
	assert_false(r->peers[1].pod.present);
	assert_true(r->peers[1].ns.present);
	assert_string_equal(r->peers[1].ns.match[0].value, "ops");
	assert_true(r->peers[2].pod.present);
	assert_true(r->peers[2].ns.present);
	assert_string_equal(r->peers[2].pod.match[0].value, "prom");
	assert_true(r->peers[3].has_cidr);
	check_cidr(&r->peers[3].cidr, "10.0.0.0/8");
	assert_int_equal(r->peers[3].nr_except, 2);
	check_cidr(&r->peers[3].except[0], "10.1.0.0/16");
	check_cidr(&r->peers[3].except[1], "10.2.3.0/24");

	assert_int_equal(r->nr_ports, 4);
	assert_int_equal(r->ports[0].proto, IPPROTO_TCP);	/* default */
	assert_true(r->ports[0].has_port);
	assert_int_equal(r->ports[0].port, 80);
	assert_int_equal(r->ports[0].end_port, 80);
	assert_int_equal(r->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(r->ports[1].port, 1000);
	assert_int_equal(r->ports[1].end_port, 2047);
	assert_int_equal(r->ports[2].proto, IPPROTO_SCTP);
	assert_false(r->ports[2].has_port);
	assert_int_equal(r->ports[3].proto, IPPROTO_TCP);
	assert_false(r->ports[3].has_port);

	assert_int_equal(p->nr_egress, 2);
	check_cidr(&p->egress[0].peers[0].cidr, "fd00::/64");
	assert_int_equal(p->egress[0].peers[0].cidr.addr.family, 6);
	assert_false(p->egress[1].peers_present);
	assert_int_equal(p->egress[1].nr_peers, 0);
	assert_int_equal(p->egress[1].nr_ports, 0);

	p = &set.items[1];
	assert_string_equal(p->name, "deny-all");
	assert_string_equal(p->ns, "default");	/* default namespace */
	assert_true(p->selector.present);
	assert_int_equal(p->selector.nr_match + p->selector.nr_expr, 0);
	assert_true(p->types_ingress);
	assert_false(p->types_egress);
	assert_int_equal(p->nr_ingress, 0);
	bh_policy_set_free(&set);
	assert_int_equal(set.nr, 0);
}

/* Each stored source re-parses to the same policy on its own. */
static void test_source_roundtrip(void **state)
{
	struct bh_policy_set set, one;
	struct bh_policy_error err;
	int i;

	(void)state;
	assert_int_equal(bh_policy_parse_file(DATA("k8s_full.yaml"), &set, &err), 0);
	for (i = 0; i < set.nr; i++) {
		assert_int_equal(parse(set.items[i].source, &one, &err), 0);
		assert_int_equal(one.nr, 1);
		assert_string_equal(one.items[0].name, set.items[i].name);
		assert_string_equal(one.items[0].ns, set.items[i].ns);
		assert_int_equal(one.items[0].nr_ingress, set.items[i].nr_ingress);
		assert_int_equal(one.items[0].nr_egress, set.items[i].nr_egress);
		assert_string_equal(one.items[0].source, set.items[i].source);
		bh_policy_set_free(&one);
	}
	bh_policy_set_free(&set);
	assert_int_equal(bh_policy_parse_file(DATA("native_full.yaml"), &set, &err), 0);
	assert_int_equal(set.nr, 2);
	for (i = 0; i < set.nr; i++) {
		assert_int_equal(parse(set.items[i].source, &one, &err), 0);
		assert_int_equal(one.nr, 1);
		assert_string_equal(one.items[0].name, set.items[i].name);
		assert_int_equal(one.items[0].kind, set.items[i].kind);
		bh_policy_set_free(&one);
	}
	bh_policy_set_free(&set);
}

/* ------------------------------------------------------ policyTypes */
static void types_case(const char *tail, bool in, bool eg)
{
	char buf[1024];
	struct bh_policy_set set;
	struct bh_policy_error err;

	snprintf(buf, sizeof(buf), K8S_HEAD "%s", tail);
	assert_int_equal(parse(buf, &set, &err), 0);
	assert_int_equal(set.nr, 1);
	assert_int_equal(set.items[0].types_ingress, in);
	assert_int_equal(set.items[0].types_egress, eg);
	bh_policy_set_free(&set);
}

static void test_k8s_policy_types(void **state)
{
	(void)state;
	types_case("", true, false);
	types_case("  ingress: []\n", true, false);
	types_case("  egress:\n  - {}\n", true, true);
	/* Kubernetes defaults Egress only for a non-empty egress list. */
	types_case("  egress: []\n", true, false);
	types_case("  policyTypes: [Egress]\n", false, true);
	types_case("  policyTypes: [Ingress]\n  egress:\n  - {}\n", true, false);
	types_case("  policyTypes: [Ingress, Egress]\n", true, true);
	types_case("  policyTypes: []\n  egress:\n  - {}\n", true, true);
}

static void test_k8s_peers_forms(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	const struct bh_policy *p;

	(void)state;
	assert_int_equal(parse(K8S_HEAD
			       "  ingress:\n"
			       "  - {}\n"
			       "  - from: []\n"
			       "  - from:\n"
			       "    ports:\n"
			       "  - from:\n"
			       "    - podSelector: {}\n"
			       "      namespaceSelector:\n"
			       "    - podSelector: null\n"
			       "      namespaceSelector: {}\n", &set, &err), 0);
	p = &set.items[0];
	assert_int_equal(p->nr_ingress, 4);
	assert_false(p->ingress[0].peers_present);
	assert_true(p->ingress[1].peers_present);
	assert_int_equal(p->ingress[1].nr_peers, 0);
	assert_int_equal(p->ingress[2].nr_peers, 0);
	assert_int_equal(p->ingress[2].nr_ports, 0);
	assert_int_equal(p->ingress[3].nr_peers, 2);
	/* A null selector is an absent one; {} selects everything. */
	assert_true(p->ingress[3].peers[0].pod.present);
	assert_false(p->ingress[3].peers[0].ns.present);
	assert_false(p->ingress[3].peers[1].pod.present);
	assert_true(p->ingress[3].peers[1].ns.present);
	bh_policy_set_free(&set);
}

static void test_cidr_forms(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	const struct bh_peer *pe;

	(void)state;
	assert_int_equal(parse(K8S_HEAD
			       "  ingress:\n"
			       "  - from:\n"
			       "    - ipBlock: {cidr: 10.1.2.3/8, except: [10.1.2.3/32]}\n"
			       "    - ipBlock: {cidr: 0.0.0.0/0}\n"
			       "    - ipBlock: {cidr: \"2001:db8::1/32\", except: [\"2001:db8:1::/48\"]}\n"
			       "    - ipBlock: {cidr: \"::/0\"}\n", &set, &err), 0);
	pe = set.items[0].ingress[0].peers;
	check_cidr(&pe[0].cidr, "10.0.0.0/8");	/* host bits masked */
	check_cidr(&pe[0].except[0], "10.1.2.3/32");
	check_cidr(&pe[1].cidr, "0.0.0.0/0");
	assert_int_equal(pe[2].cidr.addr.family, 6);
	assert_int_equal(pe[2].cidr.prefixlen, 32);
	assert_int_equal(pe[2].cidr.addr.addr[2], 0x0d);
	assert_int_equal(pe[2].cidr.addr.addr[15], 0);	/* masked */
	check_cidr(&pe[3].cidr, "0000::/0");
	bh_policy_set_free(&set);
}

/* ------------------------------------------------------------ native */
static void test_native_full(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	const struct bh_policy *p;
	const struct bh_rule *r;

	(void)state;
	assert_int_equal(bh_policy_parse_file(DATA("native_full.yaml"), &set, &err), 0);
	assert_int_equal(set.nr, 2);
	p = &set.items[0];
	assert_int_equal(p->kind, BH_POLICY_NATIVE);
	assert_string_equal(p->ns, "shop");
	assert_string_equal(p->name, "db");
	assert_true(p->audit);
	assert_false(p->ns_selector.present);
	assert_string_equal(p->selector.match[0].value, "db");
	/* Isolation: an allow rule in ingress; egress has a deny only. */
	assert_true(p->types_ingress);
	assert_false(p->types_egress);
	assert_int_equal(p->nr_ingress, 2);
	r = &p->ingress[0];
	assert_int_equal(r->action, BH_ACTION_DENY);
	check_cidr(&r->peers[0].cidr, "192.168.0.0/16");
	assert_int_equal(r->ports[0].port, 22);
	r = &p->ingress[1];
	assert_int_equal(r->action, BH_ACTION_ALLOW);
	assert_int_equal(r->nr_ports, 4);	/* ports first, then icmp */
	assert_int_equal(r->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(r->ports[0].port, 5432);
	assert_int_equal(r->ports[1].proto, IPPROTO_ICMP);
	assert_true(r->ports[1].has_port);
	assert_int_equal(r->ports[1].port, 8 << 8);
	assert_int_equal(r->ports[1].end_port, 8 << 8 | 0xff);
	assert_int_equal(r->ports[2].proto, IPPROTO_ICMPV6);
	assert_int_equal(r->ports[2].port, 128 << 8);
	assert_int_equal(r->ports[2].end_port, 128 << 8);
	assert_int_equal(r->ports[3].proto, IPPROTO_ICMP);
	assert_false(r->ports[3].has_port);
	assert_int_equal(p->nr_egress, 1);
	assert_int_equal(p->egress[0].action, BH_ACTION_DENY);
	assert_true(p->egress[0].peers[0].ns.present);

	p = &set.items[1];
	assert_int_equal(p->kind, BH_POLICY_NATIVE_CLUSTER);
	assert_string_equal(p->ns, "");
	assert_string_equal(p->name, "no-telnet");
	assert_false(p->audit);
	assert_true(p->ns_selector.present);
	assert_int_equal(p->ns_selector.expr[0].op, BH_SEL_NOT_IN);
	assert_false(p->types_ingress);	/* deny only: no isolation */
	assert_false(p->types_egress);
	assert_int_equal(p->ingress[0].ports[0].port, 23);
	assert_false(p->ingress[0].peers_present);
	bh_policy_set_free(&set);
}

static void test_native_defaults(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;

	(void)state;
	assert_int_equal(parse(NAT_HEAD
			       "  audit: false\n"
			       "  egress:\n"
			       "  - to: [{podSelector: {}}]\n"
			       "    action: allow\n"
			       "  - {}\n", &set, &err), 0);
	assert_string_equal(set.items[0].ns, "default");
	assert_false(set.items[0].audit);
	assert_false(set.items[0].types_ingress);
	assert_true(set.items[0].types_egress);
	assert_int_equal(set.items[0].egress[1].action, BH_ACTION_ALLOW);
	bh_policy_set_free(&set);
}

static void test_empty_inputs(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;

	(void)state;
	assert_int_equal(parse("", &set, &err), 0);
	assert_int_equal(set.nr, 0);
	assert_int_equal(parse("# just a comment\n---\n...\n---\n", &set, &err), 0);
	assert_int_equal(set.nr, 0);
	bh_policy_set_free(&set);
}

/* ------------------------------------------------------------- errors */
struct err_case {
	const char *yaml;
	int line;
	const char *field;
	const char *msg;		/* substring */
};

static const struct err_case err_cases[] = {
	/* YAML itself */
	{ "a: [1, 2\nb: 3\n", 2, "", "YAML syntax error" },
	{ "x: &a {b: 1}\ny: *a\n", 2, "", "aliases are not supported" },
	{ "- 1\n- 2\n", 1, "", "must be a mapping" },
	{ "{[1]: 2}\n", 1, "", "mapping key must be a string" },
	/* envelope */
	{ "kind: NetworkPolicy\nmetadata: {name: a}\n", 1, "apiVersion", "required field missing" },
	{ "apiVersion: networking.k8s.io/v1\nmetadata: {name: a}\n", 1, "kind",
	  "required field missing" },
	{ "apiVersion: v1\nkind: NetworkPolicy\n", 1, "apiVersion", "unsupported apiVersion \"v1\"" },
	{ "apiVersion: networking.k8s.io/v1\nkind: Policy\n", 2, "kind",
	  "unsupported kind \"Policy\"" },
	{ "apiVersion: bulkhead.io/v1\nkind: NetworkPolicy\n", 2, "kind",
	  "expected Policy or ClusterPolicy" },
	{ K8S_HEAD "status: {}\n", 7, "status", "unknown field \"status\"" },
	{ K8S_HEAD "spec: {}\n", 7, "spec", "duplicate field \"spec\"" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: {podSelector: {}}\n",
	  1, "metadata", "required field missing" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\n",
	  1, "spec", "required field missing" },
	/* metadata */
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: a\n"
	  "spec: {podSelector: {}}\n", 4, "metadata.name", "required field missing" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: Web_1\n",
	  4, "metadata.name", "not a valid name" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n"
	  "  namespace: a.b\n", 5, "metadata.namespace", "not a valid namespace" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n"
	  "  uid: 1234\n", 5, "metadata.uid", "unknown field \"uid\"" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n"
	  "  labels: {\"-x\": y}\n", 5, "metadata.labels.-x", "invalid label key" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: [a]\n",
	  4, "metadata.name", "must be a non-empty string" },
	/* spec */
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\n"
	  "spec:\n  ingress: []\n", 5, "spec.podSelector", "required field missing" },
	{ K8S_HEAD "  podselector: {}\n", 7, "spec.podselector", "unknown field \"podselector\"" },
	{ K8S_HEAD "  ingress: {}\n", 7, "spec.ingress", "must be a list" },
	{ K8S_HEAD "  policyTypes: [ingress]\n", 7, "spec.policyTypes[0]",
	  "must be Ingress or Egress" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - podSelector: {}\n    to: []\n", 10,
	  "spec.ingress[0].to", "unknown field \"to\"" },
	{ K8S_HEAD "  egress:\n  - from: []\n", 8, "spec.egress[0].from", "unknown field \"from\"" },
	{ K8S_HEAD "  ingress:\n  - from: {podSelector: {}}\n", 8, "spec.ingress[0].from",
	  "must be a list" },
	/* selectors */
	{ K8S_HEAD "  ingress:\n  - from:\n    - podSelector: {matchLabel: {a: b}}\n", 9,
	  "spec.ingress[0].from[0].podSelector.matchLabel", "unknown field \"matchLabel\"" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - podSelector:\n        matchLabels: {a: {b: c}}\n",
	  10, "spec.ingress[0].from[0].podSelector.matchLabels.a", "must be a string" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - podSelector:\n        matchLabels: {a: \"b c\"}\n",
	  10, "spec.ingress[0].from[0].podSelector.matchLabels.a", "invalid label value" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: In}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values",
	  "operator In needs at least one value" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: NotIn, values: []}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values",
	  "operator NotIn needs at least one value" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: Exists, values: [x]}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values",
	  "operator Exists takes no values" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: DoesNotExist, values: [x]}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values",
	  "operator DoesNotExist takes no values" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: Equals, values: [x]}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator",
	  "must be In, NotIn, Exists or DoesNotExist" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {operator: Exists}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].key",
	  "required field missing" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator",
	  "required field missing" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	  "        - {key: a, operator: In, values: [x, x]}\n", 11,
	  "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values[1]",
	  "duplicate value" },
	/* peers */
	{ K8S_HEAD "  ingress:\n  - from:\n    - {}\n", 9, "spec.ingress[0].from[0]",
	  "a peer needs podSelector, namespaceSelector or ipBlock" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - podSelector: {}\n      ipBlock: {cidr: 10.0.0.0/8}\n",
	  10, "spec.ingress[0].from[0].ipBlock", "cannot be combined" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/33}\n", 9,
	  "spec.ingress[0].from[0].ipBlock.cidr", "not a valid CIDR" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.1}\n", 9,
	  "spec.ingress[0].from[0].ipBlock.cidr", "not a valid CIDR" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8x}\n", 9,
	  "spec.ingress[0].from[0].ipBlock.cidr", "not a valid CIDR" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock: {except: [10.0.0.0/9]}\n", 9,
	  "spec.ingress[0].from[0].ipBlock.cidr", "required field missing" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
	  "        except: [10.0.0.0/9, 11.0.0.0/16]\n", 11,
	  "spec.ingress[0].from[0].ipBlock.except[1]", "not strictly inside" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
	  "        except: [10.0.0.0/8]\n", 11,
	  "spec.ingress[0].from[0].ipBlock.except[0]", "not strictly inside" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock:\n        cidr: \"::/0\"\n"
	  "        except: [10.0.0.0/8]\n", 11,
	  "spec.ingress[0].from[0].ipBlock.except[0]", "not strictly inside" },
	{ K8S_HEAD "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, mask: 1}\n", 9,
	  "spec.ingress[0].from[0].ipBlock.mask", "unknown field \"mask\"" },
	/* ports */
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: Http\n", 9, "spec.ingress[0].ports[0].port",
	  "named port \"Http\" is not a port name" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: a-very-long-port-name\n", 9,
	  "spec.ingress[0].ports[0].port", "is not a port name" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: \"80\"\n", 9, "spec.ingress[0].ports[0].port",
	  "named port \"80\" is not a port name" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - {port: http, endPort: 90}\n", 9,
	  "spec.ingress[0].ports[0].endPort", "endPort needs a numeric port" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: 0\n", 9, "spec.ingress[0].ports[0].port",
	  "out of range 1..65535" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: 65536\n", 9, "spec.ingress[0].ports[0].port",
	  "out of range 1..65535" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - port: -1\n", 9, "spec.ingress[0].ports[0].port",
	  "not a number" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - {port: 80}\n    - {port: 90, endPort: 89}\n", 10,
	  "spec.ingress[0].ports[1].endPort", "endPort 89 is below port 90" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - endPort: 89\n", 9,
	  "spec.ingress[0].ports[0].endPort", "endPort requires port" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - {port: 80, endPort: 70000}\n", 9,
	  "spec.ingress[0].ports[0].endPort", "out of range" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - protocol: tcp\n", 9,
	  "spec.ingress[0].ports[0].protocol", "must be TCP, UDP or SCTP, not \"tcp\"" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - protocol: ICMP\n", 9,
	  "spec.ingress[0].ports[0].protocol", "must be TCP, UDP or SCTP" },
	{ K8S_HEAD "  ingress:\n  - ports:\n    - {port: 80, targetPort: 8080}\n", 9,
	  "spec.ingress[0].ports[0].targetPort", "unknown field \"targetPort\"" },
	{ K8S_HEAD "  ingress:\n  - ports: 80\n", 8, "spec.ingress[0].ports", "must be a list" },
	/* native */
	{ NAT_HEAD "  ingress:\n  - action: reject\n", 8, "spec.ingress[0].action",
	  "must be allow or deny" },
	{ NAT_HEAD "  ingress:\n  - icmp:\n    - {code: 0}\n", 9, "spec.ingress[0].icmp[0].code",
	  "code requires type" },
	{ NAT_HEAD "  ingress:\n  - icmp:\n    - {type: 256}\n", 9, "spec.ingress[0].icmp[0].type",
	  "out of range 0..255" },
	{ NAT_HEAD "  ingress:\n  - icmp:\n    - {type: 3, code: 300}\n", 9,
	  "spec.ingress[0].icmp[0].code", "out of range 0..255" },
	{ NAT_HEAD "  ingress:\n  - icmp:\n    - {protocol: TCP}\n", 9,
	  "spec.ingress[0].icmp[0].protocol", "must be ICMP or ICMPv6" },
	{ NAT_HEAD "  ingress:\n  - ports:\n    - {protocol: ICMP}\n", 9,
	  "spec.ingress[0].ports[0].protocol", "icmp list" },
	{ NAT_HEAD "  ingress:\n  - ipProtocols: [GRE, SCTP]\n", 8, "spec.ingress[0].ipProtocols[1]",
	  "unknown IP protocol \"SCTP\"" },
	{ NAT_HEAD "  ingress:\n  - ipProtocols: [6]\n", 8, "spec.ingress[0].ipProtocols[0]",
	  "name it in ports" },
	{ NAT_HEAD "  ingress:\n  - ipProtocols: [256]\n", 8, "spec.ingress[0].ipProtocols[0]",
	  "out of range 1..255" },
	{ NAT_HEAD "  ingress:\n  - ipProtocols: GRE\n", 8, "spec.ingress[0].ipProtocols",
	  "must be a list" },
	{ NAT_HEAD "  ingress:\n  - to: []\n", 8, "spec.ingress[0].to", "unknown field \"to\"" },
	{ NAT_HEAD "  audit: yes\n", 7, "spec.audit", "must be true or false" },
	{ NAT_HEAD "  namespaceSelector: {}\n", 7, "spec.namespaceSelector",
	  "only a ClusterPolicy" },
	{ NAT_HEAD "  podSelector: {}\n", 7, "spec.podSelector", "unknown field \"podSelector\"" },
	{ NAT_HEAD "  policyTypes: [Ingress]\n", 7, "spec.policyTypes", "unknown field" },
	{ "apiVersion: bulkhead.io/v1\nkind: Policy\nmetadata: {name: a}\nspec: {}\n", 4,
	  "spec.selector", "required field missing" },
	{ "apiVersion: bulkhead.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: a\n"
	  "  namespace: b\n", 5, "metadata.namespace", "has no namespace" },
};

static void test_errors(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		int ret = parse(c->yaml, &set, &err);

		if (ret != -EINVAL || err.line != c->line || strcmp(err.field, c->field) ||
		    !strstr(err.msg, c->msg)) {
			char buf[512];

			print_error("case %zu: ret %d, got \"%s\"\n  want line %d field \"%s\" msg "
				    "\"%s\"\n", i, ret, bh_policy_error_format(&err, buf, sizeof(buf)),
				    c->line, c->field, c->msg);
			fail();
		}
		assert_string_equal(err.file, "t.yaml");
		assert_true(err.column > 0);
		assert_int_equal(set.nr, 0);
		assert_null(set.items);
	}
}

/* A good document before a bad one: nothing is returned. */
static void test_all_or_nothing(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;

	(void)state;
	assert_int_equal(parse(K8S_HEAD "---\n" K8S_HEAD "  ingress:\n  - ports:\n"
			       "    - port: 99999\n", &set, &err), -EINVAL);
	assert_int_equal(set.nr, 0);
	assert_null(set.items);
	assert_int_equal(err.line, 16);
	assert_string_equal(err.field, "spec.ingress[0].ports[0].port");
}

static void test_duplicate_policy(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;

	(void)state;
	assert_int_equal(parse(K8S_HEAD "---\n" NAT_HEAD, &set, &err), -EINVAL);
	assert_int_equal(err.line, 8);
	assert_string_equal(err.field, "metadata.name");
	assert_non_null(strstr(err.msg, "default/web is defined twice"));
	/* Same name in another namespace is fine. */
	assert_int_equal(parse(K8S_HEAD "---\n" NAT_HEAD "  ingress: []\n"
			       "---\napiVersion: bulkhead.io/v1\nkind: ClusterPolicy\n"
			       "metadata: {name: web}\nspec: {selector: {}}\n", &set, &err),
			 -EINVAL);
	assert_int_equal(parse(K8S_HEAD "---\napiVersion: bulkhead.io/v1\nkind: ClusterPolicy\n"
			       "metadata: {name: web}\nspec: {selector: {}}\n", &set, &err), 0);
	assert_int_equal(set.nr, 2);
	bh_policy_set_free(&set);
}

static void test_file_errors(void **state)
{
	struct bh_policy_set set;
	struct bh_policy_error err;
	char buf[512];

	(void)state;
	assert_int_equal(bh_policy_parse_file(DATA("does-not-exist.yaml"), &set, &err), -ENOENT);
	assert_string_equal(err.file, DATA("does-not-exist.yaml"));
	assert_non_null(strstr(err.msg, "cannot open"));

	assert_int_equal(bh_policy_parse_file(DATA("bad_port.yaml"), &set, &err), -EINVAL);
	assert_string_equal(err.file, DATA("bad_port.yaml"));
	assert_int_equal(err.line, 12);
	assert_int_equal(err.column, 16);
	assert_string_equal(err.field, "spec.ingress[0].ports[1].endPort");
	bh_policy_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, DATA("bad_port.yaml") ":12:16: spec.ingress[0].ports[1].endPort: "
			    "endPort 400 is below port 443");
}

static void test_error_format(void **state)
{
	struct bh_policy_error e = { .line = 0 };
	char buf[64];

	(void)state;
	snprintf(e.msg, sizeof(e.msg), "out of memory");
	assert_string_equal(bh_policy_error_format(&e, buf, sizeof(buf)), "out of memory");
	snprintf(e.file, sizeof(e.file), "f.yaml");
	e.line = 3;
	assert_string_equal(bh_policy_error_format(&e, buf, sizeof(buf)), "f.yaml:3: out of memory");
	/* Truncation stays terminated. */
	snprintf(e.field, sizeof(e.field), "spec.ingress[0].ports[0].port.a.very.long.path");
	bh_policy_error_format(&e, buf, 20);
	assert_int_equal(strlen(buf), 19);
}

/* ---------------------------------------------------------- selectors */
static void test_selector_match(void **state)
{
	struct bh_label labels[] = { { "app", "web" }, { "tier", "front" } };
	char in_vals[2][64] = { "front", "back" };
	char notin_vals[1][64] = { "back" };
	struct bh_sel_expr ex = { .key = "tier", .op = BH_SEL_IN, .nr_values = 2, .values = in_vals };
	struct bh_label ml = { "app", "web" };
	struct bh_selector s = { .present = true };

	(void)state;
	/* absent and empty both match */
	assert_true(bh_selector_match(&(struct bh_selector){ 0 }, 2, labels));
	assert_true(bh_selector_match(&s, 0, NULL));
	s.nr_match = 1;
	s.match = &ml;
	assert_true(bh_selector_match(&s, 2, labels));
	assert_false(bh_selector_match(&s, 1, &labels[1]));
	s.nr_expr = 1;
	s.expr = &ex;
	assert_true(bh_selector_match(&s, 2, labels));
	snprintf(in_vals[0], 64, "x");
	assert_false(bh_selector_match(&s, 2, labels));
	ex.op = BH_SEL_NOT_IN;
	assert_true(bh_selector_match(&s, 2, labels));
	ex.values = notin_vals;
	ex.nr_values = 1;
	snprintf(notin_vals[0], 64, "front");
	assert_false(bh_selector_match(&s, 2, labels));
	assert_true(bh_selector_match(&s, 1, labels));	/* NotIn: missing key matches */
	ex.op = BH_SEL_EXISTS;
	assert_true(bh_selector_match(&s, 2, labels));
	assert_false(bh_selector_match(&s, 1, labels));
	ex.op = BH_SEL_DOES_NOT_EXIST;
	assert_false(bh_selector_match(&s, 2, labels));
	assert_true(bh_selector_match(&s, 1, labels));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_full_file),
		cmocka_unit_test(test_source_roundtrip),
		cmocka_unit_test(test_k8s_policy_types),
		cmocka_unit_test(test_k8s_peers_forms),
		cmocka_unit_test(test_cidr_forms),
		cmocka_unit_test(test_native_full),
		cmocka_unit_test(test_native_defaults),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_duplicate_policy),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_selector_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
