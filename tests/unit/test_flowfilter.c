// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead flows` filters (lib/agent/flowfilter.h) over a recorded set of flows
 * with known answers (tests/unit/data/flows_recorded.json): each case sets
 * filters through the same parsers the CLI uses and must select exactly
 * its list of flow ids; each "bad" value must be refused with a message.
 * Also the kubectl label selector syntax (policy/selector_string.c) and
 * the ICMP names.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "flowfilter.h"
#include "flowjson.h"
#include "flowrec.h"

#ifndef DATA
#define DATA "tests/unit/data/"
#endif

struct fixture {
	json_object *root;
	int nr_wl;
	struct wl {
		char ns[64], name[64];
		int nr;
		struct bh_label l[8];
	} wl[8];
};

static const struct wl *find_wl(const struct fixture *fx, const char *ns, const char *name)
{
	for (int i = 0; i < fx->nr_wl; i++)
		if (!strcmp(fx->wl[i].ns, ns) && !strcmp(fx->wl[i].name, name))
			return &fx->wl[i];
	return NULL;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	json_object *w;

	fx->root = json_object_from_file(DATA "flows_recorded.json");
	assert_non_null(fx->root);
	assert_true(json_object_object_get_ex(fx->root, "workloads", &w));
	json_object_object_foreach(w, key, labels) {
		struct wl *x = &fx->wl[fx->nr_wl++];
		const char *slash = strchr(key, '/');

		snprintf(x->ns, sizeof(x->ns), "%.*s", (int)(slash - key), key);
		snprintf(x->name, sizeof(x->name), "%s", slash + 1);
		json_object_object_foreach(labels, k, v) {
			snprintf(x->l[x->nr].key, sizeof(x->l[0].key), "%s", k);
			snprintf(x->l[x->nr].value, sizeof(x->l[0].value), "%s",
				 json_object_get_string(v));
			x->nr++;
		}
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	json_object_put(fx->root);
	free(fx);
	return 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int num(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int(v) : -1;
}

/* A flow row of the fixture as the CLI fills it for a stored row. */
static bool flow_matches(const struct fixture *fx, const struct bh_flow_filter *f, json_object *r)
{
	char pns[64] = "", pname[64] = "";
	const char *peer = str(r, "peer"), *slash = strchr(peer, '/');
	const struct wl *self = find_wl(fx, str(r, "namespace"), str(r, "name")), *other = NULL;
	bool egress = !strcmp(str(r, "dir"), "egress");
	struct bh_flow_endpoint me = {
		.ns = str(r, "namespace"), .name = str(r, "name"),
		.nr_labels = self ? self->nr : 0, .labels = self ? self->l : NULL,
	}, them = { 0 };
	struct bh_flow_match m = {
		.ns = str(r, "namespace"), .name = str(r, "name"), .dir = str(r, "dir"),
		.sport = num(r, "sport"), .dport = num(r, "dport"),
		.verdict = str(r, "verdict"), .reason = str(r, "reason"), .rule = str(r, "rule"),
	};
	json_object *v;

	json_object_object_get_ex(r, "first_ms", &v);
	m.first_ms = json_object_get_int64(v);
	json_object_object_get_ex(r, "last_ms", &v);
	m.last_ms = json_object_get_int64(v);
	assert_int_equal(bh_proto_parse(str(r, "proto"), &m.proto), 0);
	if (slash) {
		snprintf(pns, sizeof(pns), "%.*s", (int)(slash - peer), peer);
		snprintf(pname, sizeof(pname), "%s", slash + 1);
		other = find_wl(fx, pns, pname);
		them.ns = pns;
		them.name = pname;
		them.nr_labels = other ? other->nr : 0;
		them.labels = other ? other->l : NULL;
	}
	me.addr = str(r, egress ? "src" : "dst");
	them.addr = str(r, egress ? "dst" : "src");
	m.from = egress ? me : them;
	m.to = egress ? them : me;
	return bh_flow_filter_match(f, &m);
}

/* Set one filter the way `bulkhead flows --KEY VALUE` does. */
static int set_arg(struct bh_flow_filter *f, const char *k, const char *v, char *err, size_t len)
{
	static char wl_ns[64], wl_name[64];

	if (!strcmp(k, "verdict"))
		return bh_flow_filter_verdicts(f, v, err, len);
	if (!strcmp(k, "reason"))
		return bh_flow_filter_reasons(f, v, err, len);
	if (!strcmp(k, "proto"))
		return bh_flow_filter_proto(f, v, err, len);
	if (!strcmp(k, "port"))
		return bh_flow_filter_port(f, v, err, len);
	if (!strcmp(k, "from"))
		return bh_flow_filter_peer(&f->from, v, err, len);
	if (!strcmp(k, "to"))
		return bh_flow_filter_peer(&f->to, v, err, len);
	if (!strcmp(k, "since"))
		return bh_flow_filter_time(&f->since_ms, v, 0, err, len);
	if (!strcmp(k, "until"))
		return bh_flow_filter_time(&f->until_ms, v, 0, err, len);
	if (!strcmp(k, "namespace")) {
		f->ns = v;
		return 0;
	}
	if (!strcmp(k, "rule")) {
		f->rule = v;
		return 0;
	}
	if (!strcmp(k, "workload")) {
		const char *slash = strchr(v, '/');

		snprintf(wl_ns, sizeof(wl_ns), "%.*s", (int)(slash - v), v);
		snprintf(wl_name, sizeof(wl_name), "%s", slash + 1);
		f->wl_ns = wl_ns;
		f->wl_name = wl_name;
		return 0;
	}
	fail_msg("unknown filter %s in the fixture", k);
	return -1;
}

static void test_recorded_cases(void **state)
{
	struct fixture *fx = *state;
	json_object *cases, *flows;
	size_t nr_cases;

	assert_true(json_object_object_get_ex(fx->root, "cases", &cases));
	assert_true(json_object_object_get_ex(fx->root, "flows", &flows));
	nr_cases = json_object_array_length(cases);
	assert_true(nr_cases >= 30);
	for (size_t c = 0; c < nr_cases; c++) {
		json_object *cs = json_object_array_get_idx(cases, c), *args, *want;
		char got[256] = "", exp[256] = "", err[512];
		struct bh_flow_filter f;

		json_object_object_get_ex(cs, "args", &args);
		json_object_object_get_ex(cs, "want", &want);
		bh_flow_filter_init(&f);
		json_object_object_foreach(args, k, v) {
			if (set_arg(&f, k, json_object_get_string(v), err, sizeof(err)))
				fail_msg("case %zu: %s %s refused: %s", c, k,
					 json_object_get_string(v), err);
		}
		for (size_t i = 0; i < json_object_array_length(flows); i++) {
			json_object *r = json_object_array_get_idx(flows, i);

			if (flow_matches(fx, &f, r))
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%d,",
					 num(r, "id"));
		}
		for (size_t i = 0; i < json_object_array_length(want); i++)
			snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%d,",
				 json_object_get_int(json_object_array_get_idx(want, i)));
		if (strcmp(got, exp))
			fail_msg("case %zu %s: want [%s] got [%s]", c,
				 json_object_to_json_string(args), exp, got);
		bh_flow_filter_free(&f);
	}
}

static void test_bad_values(void **state)
{
	struct fixture *fx = *state;
	json_object *bad;

	assert_true(json_object_object_get_ex(fx->root, "bad", &bad));
	for (size_t i = 0; i < json_object_array_length(bad); i++) {
		json_object *b = json_object_array_get_idx(bad, i);

		json_object_object_foreach(b, k, v) {
			struct bh_flow_filter f;
			char err[512] = "";
			int rc;

			bh_flow_filter_init(&f);
			rc = set_arg(&f, k, json_object_get_string(v), err, sizeof(err));
			if (rc != -EINVAL)
				fail_msg("--%s '%s' accepted", k, json_object_get_string(v));
			/* the message names the value it refused */
			if (*json_object_get_string(v) && !strstr(err, json_object_get_string(v)))
				fail_msg("--%s: message '%s' does not name '%s'", k, err,
					 json_object_get_string(v));
			bh_flow_filter_free(&f);
		}
	}
}

/* "5m" is five minutes before now. */
static void test_durations(void **state)
{
	int64_t t;
	char err[256];

	(void)state;
	assert_int_equal(bh_flow_filter_time(&t, "5m", 1000000, err, sizeof(err)), 0);
	assert_int_equal(t, 1000000 - 300000);
	assert_int_equal(bh_flow_filter_time(&t, "1h30m", 10000000, err, sizeof(err)), 0);
	assert_int_equal(t, 10000000 - 5400000);
	assert_int_equal(bh_flow_filter_time(&t, "2024-05-01T12:00:00.25Z", 0, err, sizeof(err)), 0);
	assert_int_equal(t, 1714564800250LL);
}

static void test_selector_strings(void **state)
{
	static const struct {
		const char *sel;
		bool web, db, tool;	/* matches app=web,tier=front / app=db,tier=back / role=tool */
	} cases[] = {
		{ "app=web", true, false, false },
		{ "app==web", true, false, false },
		{ "app!=web", false, true, true },
		{ "app", true, true, false },
		{ "!app", false, false, true },
		{ "app in (web, db)", true, true, false },
		{ "app notin (web)", false, true, true },
		{ "app in (web,db),tier=back", false, true, false },
		{ " tier = front , app ", true, false, false },
		{ "app=", false, false, false },
	};
	static const char *const bad[] = {
		"", "app in (web", "app in web", "a b", "=web", "app=web,", ",app", "app in ()",
		"app=we b", "!", "app)", "app notin", "-bad=x",
	};
	struct bh_label web[] = { { "app", "web" }, { "tier", "front" } };
	struct bh_label db[] = { { "app", "db" }, { "tier", "back" } };
	struct bh_label tool[] = { { "role", "tool" } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bh_selector s;
		char err[256];

		if (bh_selector_parse_string(cases[i].sel, &s, err, sizeof(err)))
			fail_msg("'%s' refused: %s", cases[i].sel, err);
		if (bh_selector_match(&s, 2, web) != cases[i].web ||
		    bh_selector_match(&s, 2, db) != cases[i].db ||
		    bh_selector_match(&s, 1, tool) != cases[i].tool)
			fail_msg("'%s' matched wrongly", cases[i].sel);
		bh_selector_free(&s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bh_selector s;
		char err[256] = "";

		if (bh_selector_parse_string(bad[i], &s, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void test_icmp_names(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 8, 0, b, sizeof(b)), "echo-request");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 0, 0, b, sizeof(b)), "echo-reply");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 3, 3, b, sizeof(b)),
			    "destination-unreachable/port-unreachable");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 3, 8, b, sizeof(b)),
			    "destination-unreachable/code-8");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 11, 0, b, sizeof(b)),
			    "time-exceeded/ttl-zero-during-transit");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 42, 1, b, sizeof(b)), "type-42/code-1");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMPV6, 128, 0, b, sizeof(b)), "echo-request");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMPV6, 1, 4, b, sizeof(b)),
			    "destination-unreachable/port-unreachable");
	assert_string_equal(bh_icmp_name(IPPROTO_ICMPV6, 135, 0, b, sizeof(b)),
			    "neighbour-solicitation");
	/* an echo request's code is not a port */
	assert_string_equal(bh_icmp_name(IPPROTO_ICMP, 8, 5, b, sizeof(b)), "echo-request/code-5");
}

/* The shared JSON fields of an ICMP flow: no ports, type and code. */
static void test_icmp_fields(void **state)
{
	struct bh_flow_fields f = {
		.ts_ms = 1714564800250LL, .ns = "ops", .name = "cli", .dir = "egress", .family = 4,
		.proto = IPPROTO_ICMP, .src = "10.104.2.5", .dst = "10.104.1.20", .sport = 77,
		.dport = 8 << 8, .peer = "shop/db", .peer_ns = "shop", .peer_name = "db",
		.verdict = "allow", .reason = "not-isolated", .rule = "",
	};
	json_object *o = json_object_new_object(), *v;

	(void)state;
	bh_flow_fields_json(&f, o, false);
	assert_true(json_object_object_get_ex(o, "dport", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "sport", &v));
	assert_null(v);
	assert_string_equal(str(o, "icmp"), "echo-request");
	assert_int_equal(num(o, "icmp_type"), 8);
	assert_int_equal(num(o, "icmp_code"), 0);
	assert_string_equal(str(o, "time"), "2024-05-01T12:00:00.250Z");
	assert_string_equal(str(o, "workload"), "ops/cli");
	assert_string_equal(str(o, "peer_namespace"), "shop");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_cases),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_selector_strings),
		cmocka_unit_test(test_icmp_names),
		cmocka_unit_test(test_icmp_fields),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
