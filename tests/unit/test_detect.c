// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Automatic quarantine rules: each triggers on its attack, at the exact
 * threshold, and not on normal traffic; exempt patterns; slot reuse. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent_config.h"
#include "detect.h"

static struct bh_detect_opts opts(void)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	static const char yaml[] =
		"quarantine:\n"
		"  denied_flows: {count: 20, seconds: 10}\n"
		"  scan: {distinct_ports: 20, distinct_peers: 20, seconds: 10}\n"
		"  deny_cidrs: [192.0.2.0/24, \"2001:db8:bad::/48\"]\n"
		"  exempt: [\"kube-system/*\", \"ops/scanner\"]\n";

	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_parse_buf("t.yaml", yaml, sizeof(yaml) - 1, &c, &e), 0);
	return c.detect;
}

static struct bh_detect_flow flow(uint64_t ts_ms, __u8 host, __u16 dport, enum bh_verdict v)
{
	struct bh_detect_flow f = {
		.slot = 3, .ns = "shop", .name = "web", .ts_ms = ts_ms,
		.dir = BH_DIR_EGRESS, .verdict = v, .proto = IPPROTO_TCP, .dport = dport,
	};

	f.peer[10] = f.peer[11] = 0xff;
	f.peer[12] = 10;
	f.peer[15] = host;
	return f;
}

static void test_normal_traffic_never_triggers(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* an hour of busy normal traffic: 4 peers x 3 ports, every 50 ms,
	 * a few denials spread out (one per 2 s) */
	for (uint64_t t = 0; t < 3600 * 1000; t += 50) {
		unsigned i = (unsigned)(t / 50);
		struct bh_detect_flow f = flow(t, 1 + i % 4, (__u16[]){ 80, 443, 53 }[i % 3],
					       BH_V_ALLOW);

		if (t % 2000 == 0)
			f.verdict = BH_V_DENY;
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	bh_detect_free(d);
}

static void test_denied_burst(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* 19 denials in 10 s, then a gap: no trigger */
	for (int i = 0; i < 19; i++) {
		f = flow(1000 + i * 500, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	/* the 20th arrives 10.5 s after the first: window slid, no trigger */
	f = flow(1000 + 10500, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	/* would-deny (monitor mode) does not count as denied */
	for (int i = 0; i < 30; i++) {
		f = flow(12000 + i, 9, 22, BH_V_WOULD_DENY);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	bh_detect_free(d);

	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int i = 0; i < 19; i++) {
		f = flow(1000 + i * 100, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	f = flow(1000 + 1900, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, &r), 1);
	assert_int_equal(r.rule, BH_DETECT_DENIED);
	assert_string_equal(r.reason, "auto: 20 denied flows in 10s");
	/* fires once; the workload is quarantined from now on */
	f = flow(3000, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	/* after release the slot is forgotten and counts afresh */
	bh_detect_forget(d, 3);
	f = flow(4000, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	bh_detect_free(d);
}

static void test_port_scan(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* the same port over and over is not a scan */
	for (int i = 0; i < 100; i++) {
		f = flow(i * 10, 5, 443, BH_V_ALLOW);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	for (int p = 1; p < 20; p++) {
		f = flow(2000 + p, 5, (__u16)p, BH_V_ALLOW);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);	/* 443 + 19 ports = 20 */
		if (p == 18)
			break;
	}
	f = flow(2100, 5, 9999, BH_V_ALLOW);
	assert_int_equal(bh_detect_flow(d, &f, &r), 1);
	assert_int_equal(r.rule, BH_DETECT_SCAN_PORTS);
	assert_non_null(strstr(r.reason, "20 distinct ports in 10s"));
	bh_detect_free(d);

	/* a slow scan (one port per second) never has 20 in a 10 s window */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int p = 0; p < 200; p++) {
		f = flow((uint64_t)p * 1000, 5, (__u16)(1000 + p), BH_V_ALLOW);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	bh_detect_free(d);
}

static void test_host_scan(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f;
	int fired_at = -1;

	(void)state;
	o.scan_ports = 0;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int h = 1; h <= 40 && fired_at < 0; h++) {
		f = flow(h, (__u8)h, 22, BH_V_DENY);
		f.verdict = BH_V_ALLOW;
		if (bh_detect_flow(d, &f, &r) == 1)
			fired_at = h;
	}
	assert_int_equal(fired_at, 20);
	assert_int_equal(r.rule, BH_DETECT_SCAN_PEERS);
	bh_detect_free(d);
}

static void test_deny_cidr(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f = flow(1, 0, 80, BH_V_ALLOW);

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* 192.0.3.1: just outside */
	f.peer[12] = 192; f.peer[13] = 0; f.peer[14] = 3; f.peer[15] = 1;
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	/* ingress from the listed range: the workload is not the suspect */
	f.peer[14] = 2;
	f.dir = BH_DIR_INGRESS;
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	f.dir = BH_DIR_EGRESS;
	/* even a flow the policy denied counts: the attempt is the signal */
	f.verdict = BH_V_DENY;
	assert_int_equal(bh_detect_flow(d, &f, &r), 1);
	assert_int_equal(r.rule, BH_DETECT_DENY_CIDR);
	assert_non_null(strstr(r.reason, "192.0.2.0/24"));
	bh_detect_free(d);

	/* IPv6 */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	memset(f.peer, 0, 16);
	f.peer[0] = 0x20; f.peer[1] = 0x01; f.peer[2] = 0x0d; f.peer[3] = 0xb8;
	f.peer[4] = 0x0b; f.peer[5] = 0xae; f.peer[15] = 1;
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);	/* 2001:db8:bae:: */
	f.peer[5] = 0xad;
	assert_int_equal(bh_detect_flow(d, &f, &r), 1);
	/* an IPv4-mapped address never matches an IPv6 prefix and vice versa */
	{
		struct bh_cidr c;
		__u8 a[16] = { 0 };

		assert_int_equal(bh_cidr_parse_addr("0.0.0.0/0", &c), 0);
		assert_false(bh_cidr_has_addr(&c, a));
		a[10] = a[11] = 0xff;
		assert_true(bh_cidr_has_addr(&c, a));
	}
	bh_detect_free(d);
}

static void test_exempt(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f = flow(1, 0, 80, BH_V_DENY);

	(void)state;
	assert_true(bh_detect_exempt(&o, "kube-system", "coredns"));
	assert_true(bh_detect_exempt(&o, "ops", "scanner"));
	assert_false(bh_detect_exempt(&o, "ops", "scanner2"));
	assert_false(bh_detect_exempt(&o, "kube-systemx", "a"));
	assert_int_equal(bh_detect_new(&o, &d), 0);
	f.ns = "kube-system";
	f.name = "coredns";
	f.peer[12] = 192; f.peer[13] = 0; f.peer[14] = 2; f.peer[15] = 1;
	for (int i = 0; i < 100; i++) {
		f.ts_ms = (uint64_t)i;
		f.dport = (__u16)i;
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	bh_detect_free(d);
}

static void test_slot_reuse_resets(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r;
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int i = 0; i < 19; i++) {
		f = flow((uint64_t)i, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	}
	/* same slot, another workload (detached, slot reused) */
	f = flow(20, 9, 22, BH_V_DENY);
	f.name = "api";
	assert_int_equal(bh_detect_flow(d, &f, &r), 0);
	f.slot = BH_MAX_WORKLOADS;
	assert_int_equal(bh_detect_flow(d, &f, &r), -EINVAL);
	bh_detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_traffic_never_triggers),
		cmocka_unit_test(test_denied_burst),
		cmocka_unit_test(test_port_scan),
		cmocka_unit_test(test_host_scan),
		cmocka_unit_test(test_deny_cidr),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_slot_reuse_resets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
