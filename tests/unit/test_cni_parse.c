/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni parsing: network config, prevResult, CNI_ARGS, and the
 * JSON the plugin prints. ctl/ is no archive (each binary links its own
 * objects), so the file under test is compiled in here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "ctl/cni_conf.c"

/* What bridge + host-local hand on, as seen from podman 4.3.1. */
#define PREV_BRIDGE \
	"\"prevResult\":{\"cniVersion\":\"1.0.0\",\"interfaces\":[" \
	"{\"name\":\"cnires0\",\"mac\":\"aa:bb:cc:dd:ee:01\"}," \
	"{\"name\":\"veth317782d2\",\"mac\":\"aa:bb:cc:dd:ee:02\"}," \
	"{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:03\",\"sandbox\":\"/run/netns/x\"}]," \
	"\"ips\":[{\"address\":\"10.203.77.5/24\",\"gateway\":\"10.203.77.1\",\"interface\":2}," \
	"{\"address\":\"fd00:77::5/64\",\"interface\":2}]," \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}"

static int parse(const char *s, struct cni_conf *c, struct cni_error *e)
{
	memset(e, 0, sizeof(*e));
	return cni_conf_parse(s, strlen(s), c, e);
}

static void test_conf_defaults(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"bulkhead-cni\"}\n",
			       &c, &e), 0);
	assert_string_equal(c.version, "1.0.0");
	assert_string_equal(c.network, "net1");
	assert_string_equal(c.ns, "default");
	assert_int_equal(c.mode, BH_MODE_ENFORCE);
	assert_int_equal(c.hook, BH_HOOK_TC);
	assert_string_equal(c.state_dir, "");
	assert_string_equal(c.bpffs, "");
	assert_int_equal(c.nr_labels, 0);
	assert_false(c.has_valid);
	cni_conf_free(&c);
}

static void test_conf_keys(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"namespace\":\"team-a\","
			       "\"mode\":\"monitor\",\"hook\":\"xdp\",\"stateDir\":\"/tmp/s\","
			       "\"bpffs\":\"/sys/fs/bpf/x\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"},"
			       "\"args\":{\"cni\":{\"labels\":[{\"key\":\"tier\",\"value\":\"db\"},"
			       "{\"key\":\"example.com/owner\",\"value\":\"ops\"}]}}}", &c, &e), 0);
	assert_string_equal(c.ns, "team-a");
	assert_int_equal(c.mode, BH_MODE_MONITOR);
	assert_int_equal(c.hook, BH_HOOK_XDP);
	assert_string_equal(c.state_dir, "/tmp/s");
	assert_string_equal(c.bpffs, "/sys/fs/bpf/x");
	/* args.cni.labels override the static labels of the same key. */
	assert_int_equal(c.nr_labels, 3);
	assert_string_equal(c.labels[0].key, "app");
	assert_string_equal(c.labels[0].value, "web");
	assert_string_equal(c.labels[1].key, "tier");
	assert_string_equal(c.labels[1].value, "db");
	assert_string_equal(c.labels[2].key, "example.com/owner");
	cni_conf_free(&c);
}

struct bad_case {
	const char *json;
	int code;
};

static void test_conf_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "", CNI_E_DECODE },
		{ "{\"cniVersion\":", CNI_E_DECODE },
		{ "[1,2]", CNI_E_DECODE },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"} x", CNI_E_DECODE },
		{ "{\"name\":\"n\"}", CNI_E_VERSION },
		{ "{\"cniVersion\":\"0.2.0\",\"name\":\"n\"}", CNI_E_VERSION },
		{ "{\"cniVersion\":\"9.9.9\",\"name\":\"n\"}", CNI_E_VERSION },
		{ "{\"cniVersion\":1,\"name\":\"n\"}", CNI_E_VERSION },
		{ "{\"cniVersion\":\"1.0.0\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"block\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":2}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"hook\":\"tcx\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"namespace\":\"\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"stateDir\":\"rel/dir\"}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"bpffs\":5}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"labels\":[\"a\"]}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"labels\":{\"a\":1}}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"labels\":{\"-bad\":\"x\"}}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"labels\":{\"a\":\"has space\"}}",
		  CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"args\":{\"cni\":{\"labels\":{}}}}",
		  CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"args\":{\"cni\":{\"labels\":[{\"key\":\"a\"}]}}}",
		  CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"cni.dev/attachments\":{}}", CNI_E_CONFIG },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"cni.dev/valid-attachments\":[{\"ifname\":\"e\"}]}",
		  CNI_E_CONFIG },
	};
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = parse(cases[i].json, &c, &e);

		if (err >= 0 || e.code != cases[i].code)
			fail_msg("case %zu (%s): err %d code %d, want code %d", i, cases[i].json,
				 err, e.code, cases[i].code);
		assert_true(e.msg[0] != '\0');
		assert_null(c.root);	/* freed on failure */
	}
}

static void test_conf_lenient(void **state)
{
	static const char *const json =
		"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"block\","
		"\"labels\":{\"app\":\"web\",\"x\":\"a b\"},\"stateDir\":\"/s\"}";
	struct cni_conf c;
	struct cni_error e = { 0 };

	(void)state;
	assert_true(cni_conf_parse(json, strlen(json), &c, &e) < 0);
	assert_int_equal(e.code, CNI_E_CONFIG);
	memset(&e, 0, sizeof(e));
	assert_int_equal(cni_conf_parse_ex(json, strlen(json), CNI_CONF_LENIENT, &c, &e), 0);
	assert_int_equal(e.code, 0);
	assert_string_equal(c.state_dir, "/s");
	assert_int_equal(c.mode, BH_MODE_ENFORCE);
	assert_int_equal(c.nr_labels, 0);
	cni_conf_free(&c);
	/* What finds the instance must still be right. */
	const char *rel = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"stateDir\":\"s\"}";

	assert_true(cni_conf_parse_ex(rel, strlen(rel), CNI_CONF_LENIENT, &c, &e) < 0);
	assert_int_equal(e.code, CNI_E_CONFIG);
}

static void test_versions(void **state)
{
	static const char *const ok[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
	char *out;
	struct json_object *o, *arr;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_true(cni_version_supported(ok[i]));
	assert_false(cni_version_supported("0.2.0"));
	assert_false(cni_version_supported("1.2.0"));
	assert_false(cni_version_supported(NULL));

	assert_int_equal(cni_version_json("0.4.0", &out), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cniVersion")), "0.4.0");
	arr = json_object_object_get(o, "supportedVersions");
	assert_int_equal(json_object_array_length(arr), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(arr, i)),
				    ok[i]);
	json_object_put(o);
	free(out);

	assert_int_equal(cni_version_json(NULL, &out), 0);
	assert_non_null(strstr(out, "\"cniVersion\":\"1.1.0\""));
	free(out);
}

static void test_prev_bridge(void **state)
{
	struct cni_conf c;
	struct cni_error e;
	struct cni_prev p;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"," PREV_BRIDGE "}", &c, &e), 0);
	assert_int_equal(cni_prev_parse(&c, &p, &e), 0);
	assert_true(p.present);
	assert_int_equal(p.nr_ifaces, 3);
	assert_string_equal(p.ifaces[1].name, "veth317782d2");
	assert_false(p.ifaces[0].sandbox);
	assert_false(p.ifaces[1].sandbox);
	assert_true(p.ifaces[2].sandbox);
	assert_int_equal(p.nr_ips, 2);
	assert_int_equal(p.ips[0].family, 4);
	assert_string_equal(bh_ip_format(&p.ips[0], buf, sizeof(buf)), "10.203.77.5");
	assert_int_equal(p.ips[1].family, 6);
	assert_string_equal(bh_ip_format(&p.ips[1], buf, sizeof(buf)), "fd00:77::5");
	cni_conf_free(&c);
}

static void test_prev_shapes(void **state)
{
	struct cni_conf c;
	struct cni_error e;
	struct cni_prev p;

	(void)state;
	/* Absent: fine for DEL, the caller decides for ADD. */
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", &c, &e), 0);
	assert_int_equal(cni_prev_parse(&c, &p, &e), 0);
	assert_false(p.present);
	cni_conf_free(&c);

	/* 0.4.0 shape (ips carry "version"); an address on a host interface
	 * (no sandbox) is not the workload's. No interface index: taken. */
	assert_int_equal(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"prevResult\":{"
			       "\"interfaces\":[{\"name\":\"br0\"},{\"name\":\"c0\",\"sandbox\":\"/n\"}],"
			       "\"ips\":[{\"version\":\"4\",\"address\":\"10.1.0.1/16\",\"interface\":0},"
			       "{\"version\":\"4\",\"address\":\"10.1.0.9/16\",\"interface\":1},"
			       "{\"version\":\"4\",\"address\":\"10.1.0.10/16\"}]}}", &c, &e), 0);
	assert_int_equal(cni_prev_parse(&c, &p, &e), 0);
	assert_int_equal(p.nr_ips, 2);
	assert_int_equal(p.ips[0].addr[15], 9);
	assert_int_equal(p.ips[1].addr[15], 10);
	cni_conf_free(&c);
}

static void test_prev_errors(void **state)
{
	static const char *const bad[] = {
		"\"prevResult\":[]",
		"\"prevResult\":{\"interfaces\":{}}",
		"\"prevResult\":{\"interfaces\":[{\"mac\":\"x\"}]}",
		"\"prevResult\":{\"interfaces\":[{\"name\":\"a\",\"sandbox\":3}]}",
		"\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1\"}]}",
		"\"prevResult\":{\"ips\":[{\"address\":\"banana/24\"}]}",
		"\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":4}]}",
		"\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":\"0\"}]}",
		"\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1/8\"},{\"address\":\"10.0.0.2/8\"},"
		"{\"address\":\"10.0.0.3/8\"},{\"address\":\"10.0.0.4/8\"},{\"address\":\"10.0.0.5/8\"}]}",
	};
	char json[1024];
	struct cni_conf c;
	struct cni_error e;
	struct cni_prev p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",%s}", bad[i]);
		assert_int_equal(parse(json, &c, &e), 0);
		memset(&e, 0, sizeof(e));
		if (cni_prev_parse(&c, &p, &e) >= 0 || e.code != CNI_E_CONFIG)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		cni_conf_free(&c);
	}
}

static void test_args(void **state)
{
	struct cni_args a;
	struct cni_error e = { 0 };

	(void)state;
	/* containerd's keys in any order, podman's IgnoreUnknown, a stray
	 * pair without '=' and a value with '=' (split at the first). */
	assert_int_equal(cni_args_parse("IgnoreUnknown=1;K8S_POD_NAME=web-0;junk;"
					"K8S_POD_INFRA_CONTAINER_ID=abc;X=a=b;"
					"K8S_POD_NAMESPACE=team-a;BH_LABELS=app:web,tier:db", &a, &e), 0);
	assert_string_equal(a.pod_ns, "team-a");
	assert_string_equal(a.pod_name, "web-0");
	assert_int_equal(a.nr_labels, 2);
	assert_string_equal(a.labels[0].key, "app");
	assert_string_equal(a.labels[0].value, "web");
	assert_string_equal(a.labels[1].key, "tier");
	assert_string_equal(a.labels[1].value, "db");

	assert_int_equal(cni_args_parse(NULL, &a, &e), 0);
	assert_int_equal(a.nr_labels, 0);
	assert_int_equal(cni_args_parse("", &a, &e), 0);
	assert_string_equal(a.pod_name, "");

	assert_true(cni_args_parse("BH_LABELS=app", &a, &e) < 0);
	assert_int_equal(e.code, CNI_E_ENV);
	assert_true(cni_args_parse("BH_LABELS=app:we b", &a, &e) < 0);
	assert_int_equal(e.code, CNI_E_ENV);
}

static void test_identity(void **state)
{
	struct cni_conf c;
	struct cni_args a;
	struct cni_error e;
	struct bh_label labels[BH_MAX_LABELS];
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	int nr;

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"namespace\":\"ops\","
			       "\"labels\":{\"app\":\"base\",\"env\":\"prod\"}}", &c, &e), 0);
	/* No K8S_*: config namespace and the container id's first 12. */
	assert_int_equal(cni_args_parse("BH_LABELS=app:web", &a, &e), 0);
	assert_int_equal(cni_workload_identity(&c, &a, "0123456789abcdef0123", ns, name, labels,
					       &nr, &e), 0);
	assert_string_equal(ns, "ops");
	assert_string_equal(name, "0123456789ab");
	assert_int_equal(nr, 2);
	assert_string_equal(labels[0].key, "app");
	assert_string_equal(labels[0].value, "web");	/* CNI_ARGS wins */
	assert_string_equal(labels[1].value, "prod");

	/* K8S_* win; podman names keep '_' and capitals, other characters
	 * become '-', and the ends are alphanumeric. */
	assert_int_equal(cni_args_parse("K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=_happy_Turing+1.",
					&a, &e), 0);
	assert_int_equal(cni_workload_identity(&c, &a, "abc", ns, name, labels, &nr, &e), 0);
	assert_string_equal(ns, "team-a");
	assert_string_equal(name, "happy_Turing-1");

	assert_int_equal(cni_args_parse("K8S_POD_NAME=___", &a, &e), 0);
	assert_true(cni_workload_identity(&c, &a, "abc", ns, name, labels, &nr, &e) < 0);
	cni_conf_free(&c);
}

static void test_gc_lists(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"n\","
			       "\"cni.dev/attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"}],"
			       "\"cni.dev/valid-attachments\":[{\"containerID\":\"c2\",\"ifname\":\"eth1\"}]}",
			       &c, &e), 0);
	assert_true(c.has_valid);
	assert_int_equal(c.nr_valid, 2);
	assert_true(cni_conf_is_valid_attachment(&c, "c1", "eth0"));
	assert_true(cni_conf_is_valid_attachment(&c, "c2", "eth1"));
	assert_false(cni_conf_is_valid_attachment(&c, "c1", "eth1"));
	assert_false(cni_conf_is_valid_attachment(&c, "c3", "eth0"));
	cni_conf_free(&c);

	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"n\","
			       "\"cni.dev/valid-attachments\":[]}", &c, &e), 0);
	assert_true(c.has_valid);
	assert_int_equal(c.nr_valid, 0);
	cni_conf_free(&c);
}

static void test_result_unchanged(void **state)
{
	struct cni_conf c;
	struct cni_error e;
	struct json_object *got, *want = NULL, *pr;
	char *out;

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"n\"," PREV_BRIDGE "}", &c, &e), 0);
	assert_int_equal(cni_result_json(&c, &out), 0);
	got = json_tokener_parse(out);
	assert_non_null(got);
	/* Same object, only cniVersion is the input's. */
	assert_string_equal(json_object_get_string(json_object_object_get(got, "cniVersion")),
			    "1.1.0");
	pr = json_object_object_get(c.root, "prevResult");
	json_object_deep_copy(pr, &want, NULL);
	json_object_object_add(want, "cniVersion", json_object_new_string("1.1.0"));
	assert_true(json_object_equal(got, want));
	json_object_put(got);
	json_object_put(want);
	free(out);
	cni_conf_free(&c);

	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", &c, &e), 0);
	assert_int_equal(cni_result_json(&c, &out), -ENOENT);
	cni_conf_free(&c);
}

static void test_error_json(void **state)
{
	struct cni_error e = { 0 };
	struct json_object *o;
	char *out;

	(void)state;
	assert_int_equal(cni_fail(&e, EINVAL, CNI_E_CONFIG, "invalid network config",
				  "bad \"%s\"", "mode"), -EINVAL);
	assert_int_equal(cni_fail(&e, -EINVAL, CNI_E_CONFIG, "invalid network config",
				  "bad \"%s\"", "mode"), -EINVAL);
	assert_int_equal(cni_error_json(&e, "0.4.0", &out), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cniVersion")), "0.4.0");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "code")), 7);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "msg")),
			    "invalid network config");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "details")),
			    "bad \"mode\"");
	json_object_put(o);
	free(out);

	/* Unknown input version: answer in ours. */
	cni_fail(&e, EINVAL, CNI_E_VERSION, "incompatible CNI versions", NULL);
	assert_int_equal(cni_error_json(&e, "7.0.0", &out), 0);
	o = json_tokener_parse(out);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cniVersion")), "1.1.0");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "code")), 1);
	assert_null(json_object_object_get(o, "details"));
	json_object_put(o);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_keys),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_lenient),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_prev_bridge),
		cmocka_unit_test(test_prev_shapes),
		cmocka_unit_test(test_prev_errors),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_gc_lists),
		cmocka_unit_test(test_result_unchanged),
		cmocka_unit_test(test_error_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
