// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A BulkheadPolicy (the custom resource, docs/deploy/crd.yaml) means what
 * the native Policy with the same spec means: both parse and compile to
 * the same policy-map entries for every workload, on a set of policies
 * that uses every spec field (deny and allow rules, ICMP, ipBlock with
 * except, namespace and pod selectors, audit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "policy.h"

static const char *const bodies[] = {
	"metadata: {name: db, namespace: shop}\n"
	"spec:\n"
	"  selector: {matchLabels: {app: db}}\n"
	"  ingress:\n"
	"  - action: deny\n"
	"    from: [{ipBlock: {cidr: 10.107.0.0/16, except: [10.107.1.0/24]}}]\n"
	"    ports: [{port: 22}, {protocol: UDP, port: 1000, endPort: 1010}]\n"
	"  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
	"    ports: [{port: 5432}]\n"
	"    icmp: [{type: 8}, {protocol: ICMPv6, type: 128, code: 0}]\n"
	"  egress:\n"
	"  - action: deny\n"
	"    to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]\n"
	"  - to: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [web, db]}]}}]\n",

	"metadata: {name: audit-all, namespace: shop}\n"
	"spec:\n"
	"  selector: {}\n"
	"  audit: true\n"
	"  ingress:\n"
	"  - from: [{ipBlock: {cidr: 'fd0a:107::/48'}}]\n",
};

struct wl {
	const char *ns, *name, *label_key, *label_val, *ip;
};

static const struct wl wls[] = {
	{ "shop", "db", "app", "db", "10.107.0.20" },
	{ "shop", "web", "app", "web", "10.107.0.10" },
	{ "kube-system", "dns", "app", "dns", "10.107.2.53" },
	{ "shop", "v6", "app", "v6", "fd0a:107::6" },
};
#define NR_WL (sizeof(wls) / sizeof(wls[0]))

struct env {
	struct bh_cidr cidrs[32];
	int nr_cidr;
	const struct bh_policy_set *set;
};

static int cidr_id(void *arg, const struct bh_cidr *c, __u32 *id)
{
	struct env *e = arg;
	int i;

	for (i = 0; i < e->nr_cidr && memcmp(&e->cidrs[i], c, sizeof(*c)); i++)
		;
	if (i == e->nr_cidr)
		e->cidrs[e->nr_cidr++] = *c;
	*id = BH_ID_CIDR_BASE + (__u32)i;
	return 0;
}

static int rule_id(void *arg, const struct bh_policy *p, enum bh_dir dir, int idx, __u32 *id)
{
	struct env *e = arg;

	*id = (__u32)((p - e->set->items) * 1000 + (int)dir * 100 + idx + 1);
	return 0;
}

static void compile(const char *kind, struct bh_policy_set *set, struct bh_compile_output *out,
		    struct env *e)
{
	static struct bh_label labels[NR_WL][2];
	static struct bh_label ns_labels[2][1];
	static struct bh_ip ips[NR_WL];
	struct bh_compile_workload w[NR_WL];
	struct bh_compile_namespace ns[2] = { { .name = "shop" }, { .name = "kube-system" } };
	struct bh_compile_input in = { 0 };
	struct bh_policy_error err;
	char yaml[4096] = "";
	size_t off = 0;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		off += snprintf(yaml + off, sizeof(yaml) - off,
				"---\napiVersion: bulkhead.io/v1\nkind: %s\n%s", kind, bodies[i]);
	if (bh_policy_parse_buf("t.yaml", yaml, strlen(yaml), set, &err)) {
		char buf[512];

		print_error("%s: %s\n", kind, bh_policy_error_format(&err, buf, sizeof(buf)));
		fail();
	}
	for (int i = 0; i < 2; i++) {
		snprintf(ns_labels[i][0].key, sizeof(ns_labels[i][0].key),
			 "kubernetes.io/metadata.name");
		snprintf(ns_labels[i][0].value, sizeof(ns_labels[i][0].value), "%s", ns[i].name);
		ns[i].nr_labels = 1;
		ns[i].labels = ns_labels[i];
	}
	for (size_t i = 0; i < NR_WL; i++) {
		memset(&ips[i], 0, sizeof(ips[i]));
		if (inet_pton(AF_INET, wls[i].ip, &ips[i].addr[12]) == 1) {
			ips[i].family = 4;
			ips[i].addr[10] = ips[i].addr[11] = 0xff;
		} else {
			assert_int_equal(inet_pton(AF_INET6, wls[i].ip, ips[i].addr), 1);
			ips[i].family = 6;
		}
		snprintf(labels[i][0].key, sizeof(labels[i][0].key), "%s", wls[i].label_key);
		snprintf(labels[i][0].value, sizeof(labels[i][0].value), "%s", wls[i].label_val);
		w[i] = (struct bh_compile_workload){ .ns = wls[i].ns, .name = wls[i].name,
						     .slot = (__u32)i,
						     .identity = BH_ID_WORKLOAD_BASE + (__u32)i,
						     .nr_labels = 1, .labels = labels[i],
						     .nr_ips = 1, .ips = &ips[i] };
	}
	e->set = set;
	in.nr_workloads = NR_WL;
	in.workloads = w;
	in.nr_namespaces = 2;
	in.namespaces = ns;
	in.nr_policies = set->nr;
	in.policies = set->items;
	in.ids = (struct bh_compile_ids){ .cidr_identity = cidr_id, .rule_id = rule_id, .arg = e };
	assert_int_equal(bh_compile(&in, out, &err), 0);
}

static void test_same_entries(void **state)
{
	struct bh_policy_set pset, cset;
	struct bh_compile_output pout = { 0 }, cout = { 0 };
	struct env pe = { 0 }, ce = { 0 };
	size_t total = 0;

	(void)state;
	compile("Policy", &pset, &pout, &pe);
	compile("BulkheadPolicy", &cset, &cout, &ce);
	assert_int_equal(pset.nr, cset.nr);
	for (int i = 0; i < pset.nr; i++) {
		assert_int_equal(pset.items[i].kind, BH_POLICY_NATIVE);
		assert_int_equal(cset.items[i].kind, BH_POLICY_NATIVE);
		assert_int_equal(pset.items[i].audit, cset.items[i].audit);
	}
	assert_int_equal(pout.nr_ipcache, cout.nr_ipcache);
	assert_memory_equal(pout.ipcache, cout.ipcache, pout.nr_ipcache * sizeof(*pout.ipcache));
	assert_int_equal(pout.nr_workloads, cout.nr_workloads);
	for (int i = 0; i < pout.nr_workloads; i++) {
		assert_int_equal(pout.workloads[i].nr, cout.workloads[i].nr);
		assert_memory_equal(pout.workloads[i].entries, cout.workloads[i].entries,
				    pout.workloads[i].nr * sizeof(*pout.workloads[i].entries));
		total += pout.workloads[i].nr;
	}
	/* the case is not vacuous: the policies produced entries */
	assert_true(total > 10);
	bh_compile_output_free(&pout);
	bh_compile_output_free(&cout);
	bh_policy_set_free(&pset);
	bh_policy_set_free(&cset);
}

static void test_other_kinds_refused(void **state)
{
	const char *y = "apiVersion: bulkhead.io/v1\nkind: BulkheadPolicies\n"
			"metadata: {name: x}\nspec: {selector: {}}\n";
	struct bh_policy_set set;
	struct bh_policy_error err;

	(void)state;
	assert_int_equal(bh_policy_parse_buf("t.yaml", y, strlen(y), &set, &err), -EINVAL);
	assert_string_equal(err.field, "kind");
	assert_non_null(strstr(err.msg, "BulkheadPolicy"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_entries),
		cmocka_unit_test(test_other_kinds_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
