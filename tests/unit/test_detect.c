// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Automatic quarantine rules: each triggers on its attack, at the exact
 * threshold, only on flows that are not explained (denied, or outside the
 * baseline), and not on normal traffic; actions and modes decide between
 * quarantine, would-quarantine and alert, once per attack; every decision
 * carries its counted flows; exempt patterns; slot reuse. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent_config.h"
#include "detect.h"

static struct bh_detect_opts opts_yaml(const char *extra)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	char yaml[1024];

	snprintf(yaml, sizeof(yaml),
		 "quarantine:\n"
		 "  denied_flows: {count: 20, seconds: 10}\n"
		 "  scan: {distinct_ports: 20, distinct_peers: 20, seconds: 10, action: quarantine}\n"
		 "  deny_cidrs: [192.0.2.0/24, \"2001:db8:bad::/48\"]\n"
		 "  exempt: [\"kube-system/*\", \"ops/scanner\"]\n%s", extra);
	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_parse_buf("t.yaml", yaml, strlen(yaml), &c, &e), 0);
	return c.detect;
}

static struct bh_detect_opts opts(void)
{
	return opts_yaml("");
}

/* An egress flow of shop/web in enforce mode, 10.0.0.2:40000+ -> 10.0.0.host */
static struct bh_detect_flow flow(uint64_t ts_ms, __u8 host, __u16 dport, enum bh_verdict v)
{
	struct bh_detect_flow f = {
		.slot = 3, .ns = "shop", .name = "web", .ts_ms = ts_ms,
		.dir = BH_DIR_EGRESS, .verdict = v, .mode = BH_MODE_ENFORCE,
		.family = 4, .proto = IPPROTO_TCP, .sport = (__u16)(40000 + ts_ms % 20000),
		.dport = dport,
	};

	f.peer[10] = f.peer[11] = 0xff;
	f.peer[12] = 10;
	f.peer[15] = host;
	f.src[10] = f.src[11] = 0xff;
	f.src[12] = 10;
	f.src[15] = 2;
	return f;
}

static void test_normal_traffic_never_triggers(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* an hour of busy normal traffic: 4 peers x 3 ports, every 50 ms,
	 * a few denials spread out (one per 2 s) */
	for (uint64_t t = 0; t < 3600 * 1000; t += 50) {
		unsigned i = (unsigned)(t / 50);
		struct bh_detect_flow f = flow(t, 1 + i % 4, (__u16[]){ 80, 443, 53 }[i % 3],
					       BH_V_ALLOW);

		f.outside_baseline = true;	/* a workload that never learned */
		if (t % 2000 == 0)
			f.verdict = BH_V_DENY;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	bh_detect_free(d);
}

/* A scraper's round: 200 peers, 50 ports, all allowed by policy and in
 * the baseline: explained, counted by no rule, in any mode. */
static void test_explained_flows_never_count(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	enum bh_mode modes[] = { BH_MODE_LEARN, BH_MODE_MONITOR, BH_MODE_ENFORCE };

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int m = 0; m < 3; m++) {
		for (int i = 0; i < 200; i++) {
			struct bh_detect_flow f = flow((uint64_t)(m * 1000 + i), (__u8)(i + 1),
						       (__u16)(9000 + i % 50), BH_V_ALLOW);

			f.mode = modes[m];
			assert_int_equal(bh_detect_flow(d, &f, r), 0);
		}
	}
	/* learn mode: outside the baseline is what learning adds to it */
	for (int i = 0; i < 200; i++) {
		struct bh_detect_flow f = flow((uint64_t)(5000 + i), (__u8)(i + 1),
					       (__u16)(9000 + i % 50), BH_V_ALLOW);

		f.mode = BH_MODE_LEARN;
		f.outside_baseline = true;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	bh_detect_free(d);
}

static void test_denied_burst(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* 19 denials in 10 s, then a gap: no trigger */
	for (int i = 0; i < 19; i++) {
		f = flow(1000 + i * 500, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	/* the 20th arrives 10.5 s after the first: window slid, no trigger */
	f = flow(1000 + 10500, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	bh_detect_free(d);

	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int i = 0; i < 19; i++) {
		f = flow(1000 + i * 100, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	f = flow(1000 + 1900, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].rule, BH_DETECT_DENIED);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	assert_string_equal(r[0].reason, "auto: 20 denied flows in 10s");
	/* the decision carries the 20 flows, oldest first, each denied */
	assert_int_equal(r[0].nr_counted, 20);
	assert_int_equal(r[0].nr_denied, 20);
	assert_int_equal(r[0].counted[0].ts_ms, 1000);
	assert_int_equal(r[0].counted[19].ts_ms, 2900);
	assert_int_equal(r[0].counted[19].why, BH_DETECT_WHY_DENIED);
	assert_int_equal(r[0].threshold, 20);
	assert_int_equal(r[0].window_s, 10);
	/* fires once; the workload is quarantined from now on */
	f = flow(3000, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	/* after release the slot is forgotten and counts afresh */
	bh_detect_forget(d, 3);
	f = flow(4000, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	bh_detect_free(d);
}

/* Monitor mode: would-deny counts; the decision is a would-quarantine,
 * once for the whole burst; the rules re-arm after a quiet window. */
static void test_monitor_would_quarantine_once(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int decisions = 0;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int i = 0; i < 200; i++) {
		int n;

		f = flow(1000 + (uint64_t)i * 10, 9, 22, BH_V_WOULD_DENY);
		f.mode = BH_MODE_MONITOR;
		n = bh_detect_flow(d, &f, r);
		assert_true(n >= 0);
		if (n) {
			assert_int_equal(n, 1);
			assert_int_equal(r[0].outcome, BH_DETECT_WOULD_QUARANTINE);
			assert_int_equal(r[0].mode, BH_MODE_MONITOR);
			assert_false(r[0].dry_run);
			assert_int_equal(i, 19);
		}
		decisions += n;
	}
	assert_int_equal(decisions, 1);
	/* still going 9 s later: the same attack, silent */
	f = flow(1000 + 1990 + 9000, 9, 22, BH_V_WOULD_DENY);
	f.mode = BH_MODE_MONITOR;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	/* quiet for the hold (10 s), then a new burst: a new decision */
	for (int i = 0; i < 20; i++) {
		f = flow(30000 + (uint64_t)i, 9, 22, BH_V_WOULD_DENY);
		f.mode = BH_MODE_MONITOR;
		decisions += bh_detect_flow(d, &f, r);
	}
	assert_int_equal(decisions, 2);
	/* switched to enforce: a would-quarantine of another mode does not
	 * hold back a real one */
	for (int i = 0; i < 5; i++) {
		f = flow(30100 + (uint64_t)i, 9, 22, BH_V_WOULD_DENY);
		f.mode = BH_MODE_MONITOR;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	for (int i = 0; i < 19; i++) {
		f = flow(30200 + (uint64_t)i, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	f = flow(30300, 9, 22, BH_V_DENY);
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	bh_detect_free(d);
}

/* Learn mode counts what policy would deny; never acts. */
static void test_learn_mode(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int decisions = 0;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* a port sweep of one peer, every port outside the policy */
	for (int p = 0; p < 40; p++) {
		int n;

		f = flow(1000 + (uint64_t)p, 7, (__u16)(1000 + p), BH_V_WOULD_DENY);
		f.mode = BH_MODE_LEARN;
		n = bh_detect_flow(d, &f, r);
		for (int i = 0; i < n; i++) {
			assert_int_equal(r[i].outcome, BH_DETECT_WOULD_QUARANTINE);
			assert_int_equal(r[i].mode, BH_MODE_LEARN);
		}
		decisions += n;
	}
	/* one would-quarantine: denied_flows' at the 20th flow; the port
	 * scan rule, crossing its threshold on the same flow, held back */
	assert_int_equal(decisions, 1);
	bh_detect_free(d);
}

static void test_dry_run(void **state)
{
	struct bh_detect_opts o = opts_yaml("  dry_run: true\n");
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int decisions = 0;

	(void)state;
	assert_true(o.dry_run);
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* a sweep of port 5432 over 40 peers, denied, in enforce mode */
	for (int h = 1; h <= 40; h++) {
		int n;

		f = flow((uint64_t)h, (__u8)h, 5432, BH_V_DENY);
		n = bh_detect_flow(d, &f, r);
		if (n) {
			assert_int_equal(r[0].outcome, BH_DETECT_WOULD_QUARANTINE);
			assert_true(r[0].dry_run);
			assert_int_equal(r[0].rule, BH_DETECT_DENIED);	/* 20th denied flow */
		}
		decisions += n;
	}
	assert_int_equal(decisions, 1);
	/* a deny-listed destination during the same attack: held back too */
	f = flow(50, 0, 443, BH_V_ALLOW);
	f.peer[12] = 192; f.peer[13] = 0; f.peer[14] = 2; f.peer[15] = 1;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	bh_detect_free(d);
}

static void test_port_scan(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* the same port over and over is not a scan */
	for (int i = 0; i < 100; i++) {
		f = flow((uint64_t)i * 10, 5, 443, BH_V_ALLOW);
		f.outside_baseline = true;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	/* 19 more ports outside the baseline: 20 with 443 */
	for (int p = 1; p < 19; p++) {
		f = flow(2000 + (uint64_t)p, 5, (__u16)p, BH_V_ALLOW);
		f.outside_baseline = true;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	/* ports the baseline has do not count, whatever their number */
	for (int p = 100; p < 150; p++) {
		f = flow(2050, 5, (__u16)p, BH_V_ALLOW);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	f = flow(2100, 5, 9999, BH_V_DENY);
	f.outside_baseline = true;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].rule, BH_DETECT_SCAN_PORTS);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	assert_non_null(strstr(r[0].reason, "20 distinct ports in 10s"));
	assert_int_equal(r[0].nr_counted, 20);
	assert_int_equal(r[0].nr_baseline, 20);
	assert_int_equal(r[0].nr_denied, 1);
	/* oldest first: 443 (last seen at 990), ..., 9999 crossed it */
	assert_int_equal(r[0].counted[0].dport, 443);
	assert_int_equal(r[0].counted[19].dport, 9999);
	assert_int_equal(r[0].counted[19].why, BH_DETECT_WHY_DENIED | BH_DETECT_WHY_BASELINE);
	bh_detect_free(d);

	/* a slow scan (one port per second) never has 20 in a 10 s window */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int p = 0; p < 200; p++) {
		f = flow((uint64_t)p * 1000, 5, (__u16)(1000 + p), BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	bh_detect_free(d);
}

/* scan's default action is alert: one alert per sweep, then quiet, then
 * re-armed after a window without counted flows. */
static void test_scan_alert_default(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	static const char yaml[] = "quarantine:\n  scan: {distinct_ports: 20}\n";
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int alerts = 0;

	(void)state;
	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_parse_buf("t.yaml", yaml, sizeof(yaml) - 1, &c, &e), 0);
	assert_int_equal(bh_detect_rule_action(&c.detect, BH_DETECT_SCAN_PORTS),
			 BH_DETECT_ACTION_ALERT);
	assert_int_equal(bh_detect_rule_action(&c.detect, BH_DETECT_DENIED),
			 BH_DETECT_ACTION_QUARANTINE);
	assert_int_equal(bh_detect_rule_action(&c.detect, BH_DETECT_DENY_CIDR),
			 BH_DETECT_ACTION_QUARANTINE);
	assert_int_equal(bh_detect_new(&c.detect, &d), 0);
	for (int p = 0; p < 200; p++) {
		int n;

		f = flow(1000 + (uint64_t)p * 20, 5, (__u16)(1000 + p), BH_V_DENY);
		n = bh_detect_flow(d, &f, r);
		if (n) {
			assert_int_equal(r[0].outcome, BH_DETECT_ALERT);
			assert_int_equal(p, 19);
		}
		alerts += n;
	}
	assert_int_equal(alerts, 1);
	/* 10 s without a counted flow: the next sweep alerts again */
	for (int p = 0; p < 20; p++) {
		f = flow(1000 + 4000 + 10000 + (uint64_t)p, 5, (__u16)(2000 + p), BH_V_DENY);
		alerts += bh_detect_flow(d, &f, r);
	}
	assert_int_equal(alerts, 2);
	assert_int_equal(r[0].outcome, BH_DETECT_ALERT);
	bh_detect_free(d);
}

/* Two rules on one flow: an alert and a would-quarantine both reported;
 * a quarantine ends the slot's counting. */
static void test_two_rules_one_flow(void **state)
{
	struct bh_detect_opts o = opts_yaml("");
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int n = 0;

	(void)state;
	o.scan_action = BH_DETECT_ACTION_ALERT;
	o.scan_peers = 0;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int p = 0; p < 20; p++) {
		f = flow(1000 + (uint64_t)p, 5, (__u16)(1000 + p), BH_V_WOULD_DENY);
		f.mode = BH_MODE_MONITOR;
		n = bh_detect_flow(d, &f, r);
		if (p < 19)
			assert_int_equal(n, 0);
	}
	assert_int_equal(n, 2);
	assert_int_equal(r[0].rule, BH_DETECT_DENIED);
	assert_int_equal(r[0].outcome, BH_DETECT_WOULD_QUARANTINE);
	assert_int_equal(r[1].rule, BH_DETECT_SCAN_PORTS);
	assert_int_equal(r[1].outcome, BH_DETECT_ALERT);
	assert_int_equal(r[1].nr_counted, 20);
	bh_detect_free(d);

	/* enforce: the quarantine comes first and nothing follows it */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int p = 0; p < 20; p++) {
		f = flow(1000 + (uint64_t)p, 5, (__u16)(1000 + p), BH_V_DENY);
		n = bh_detect_flow(d, &f, r);
	}
	assert_int_equal(n, 1);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	bh_detect_free(d);
}

static void test_host_scan(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	int fired_at = -1;

	(void)state;
	o.scan_ports = 0;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int h = 1; h <= 40 && fired_at < 0; h++) {
		f = flow((uint64_t)h, (__u8)h, 22, BH_V_ALLOW);
		f.outside_baseline = true;
		if (bh_detect_flow(d, &f, r) == 1)
			fired_at = h;
	}
	assert_int_equal(fired_at, 20);
	assert_int_equal(r[0].rule, BH_DETECT_SCAN_PEERS);
	assert_int_equal(r[0].counted[0].dst[15], 1);
	assert_int_equal(r[0].counted[19].dst[15], 20);
	bh_detect_free(d);
}

static void test_deny_cidr(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f = flow(1, 0, 80, BH_V_ALLOW);

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	/* 192.0.3.1: just outside */
	f.peer[12] = 192; f.peer[13] = 0; f.peer[14] = 3; f.peer[15] = 1;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	/* ingress from the listed range: the workload is not the suspect */
	f.peer[14] = 2;
	f.dir = BH_DIR_INGRESS;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	f.dir = BH_DIR_EGRESS;
	/* an allowed flow inside the baseline counts: the attempt is the signal */
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].rule, BH_DETECT_DENY_CIDR);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	assert_non_null(strstr(r[0].reason, "192.0.2.0/24"));
	assert_int_equal(r[0].nr_counted, 1);
	assert_int_equal(r[0].counted[0].why, BH_DETECT_WHY_LISTED);
	bh_detect_free(d);

	/* IPv6 */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	memset(f.peer, 0, 16);
	f.family = 6;
	f.peer[0] = 0x20; f.peer[1] = 0x01; f.peer[2] = 0x0d; f.peer[3] = 0xb8;
	f.peer[4] = 0x0b; f.peer[5] = 0xae; f.peer[15] = 1;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);	/* 2001:db8:bae:: */
	f.peer[5] = 0xad;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
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

	/* learn mode: a would-quarantine, once while the attempts go on */
	assert_int_equal(bh_detect_new(&o, &d), 0);
	f = flow(1, 0, 443, BH_V_ALLOW);
	f.mode = BH_MODE_LEARN;
	f.peer[12] = 192; f.peer[13] = 0; f.peer[14] = 2; f.peer[15] = 5;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].outcome, BH_DETECT_WOULD_QUARANTINE);
	f.ts_ms = 2000;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	bh_detect_free(d);

	/* action alert */
	o.cidr_action = BH_DETECT_ACTION_ALERT;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	f.mode = BH_MODE_ENFORCE;
	f.ts_ms = 1;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].outcome, BH_DETECT_ALERT);
	f.ts_ms = 5000;
	assert_int_equal(bh_detect_flow(d, &f, r), 0);		/* latched */
	f.ts_ms = 5000 + BH_DETECT_CIDR_HOLD_MS;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);		/* quiet 10 s: again */
	bh_detect_free(d);

	/* an action per CIDR: 192.0.2.0/24 alerts, 2001:db8:bad::/48 keeps
	 * the rule's quarantine */
	o = opts();
	o.deny_cidr_actions[0] = BH_DETECT_ACTION_ALERT;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	f.ts_ms = 1;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].outcome, BH_DETECT_ALERT);
	memset(f.peer, 0, 16);
	f.family = 6;
	f.peer[0] = 0x20; f.peer[1] = 0x01; f.peer[2] = 0x0d; f.peer[3] = 0xb8;
	f.peer[4] = 0x0b; f.peer[5] = 0xad; f.peer[15] = 1;
	f.ts_ms = 2;
	assert_int_equal(bh_detect_flow(d, &f, r), 1);
	assert_int_equal(r[0].outcome, BH_DETECT_QUARANTINE);
	bh_detect_free(d);
}

/* The decision explains itself: rule, window, action, counted flows with
 * the first and the last and why; the marks for `flows`. */
static void test_explain(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;
	char buf[1024], mark[80];
	int n = 0;

	(void)state;
	o.scan_peers = 0;
	o.denied_count = 0;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int p = 0; p < 20; p++) {
		f = flow(1000 + (uint64_t)p * 10, 9, (__u16)(1000 + p),
			 p < 15 ? BH_V_DENY : BH_V_ALLOW);
		f.sport = (__u16)(41000 + p);
		f.outside_baseline = p >= 15;
		n = bh_detect_flow(d, &f, r);
	}
	assert_int_equal(n, 1);
	bh_detect_explain(&r[0], 1790000000000LL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "auto: port scan, 20 distinct ports in 10s"));
	assert_non_null(strstr(buf, "rule quarantine.scan.distinct_ports"));
	assert_non_null(strstr(buf, "within 10s"));
	assert_non_null(strstr(buf, "action quarantine: quarantined (enforce mode)"));
	assert_non_null(strstr(buf, "20 flows counted over 0.190s"));
	assert_non_null(strstr(buf, "15 denied by policy, 5 outside the baseline"));
	assert_non_null(strstr(buf, "first tcp 10.0.0.2:41000 -> 10.0.0.9:1000 deny (denied) at "));
	assert_non_null(strstr(buf, "last (crossed the threshold) tcp 10.0.0.2:41019 ->"
			       " 10.0.0.9:1019 allow (outside-baseline) at "));
	assert_string_equal(bh_detect_mark(&r[0], &r[0].counted[0], mark, sizeof(mark)),
			    "port-scan:denied");
	assert_string_equal(bh_detect_mark(&r[0], &r[0].counted[19], mark, sizeof(mark)),
			    "port-scan:outside-baseline");
	bh_detect_free(d);
}

static void test_exempt(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
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
		f.outside_baseline = true;
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	bh_detect_free(d);
}

static void test_slot_reuse_resets(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;
	struct bh_detect_result r[BH_DETECT_RULES];
	struct bh_detect_flow f;

	(void)state;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	for (int i = 0; i < 19; i++) {
		f = flow((uint64_t)i, 9, 22, BH_V_DENY);
		assert_int_equal(bh_detect_flow(d, &f, r), 0);
	}
	/* same slot, another workload (detached, slot reused) */
	f = flow(20, 9, 22, BH_V_DENY);
	f.name = "api";
	assert_int_equal(bh_detect_flow(d, &f, r), 0);
	f.slot = BH_MAX_WORKLOADS;
	assert_int_equal(bh_detect_flow(d, &f, r), -EINVAL);
	bh_detect_free(d);
}

/* Bounds: thresholds beyond the documented limits are refused. */
static void test_limits(void **state)
{
	struct bh_detect_opts o = opts();
	struct bh_detect *d;

	(void)state;
	o.scan_ports = BH_DETECT_MAX_DISTINCT + 1;
	assert_int_equal(bh_detect_new(&o, &d), -EINVAL);
	o = opts();
	o.denied_count = BH_DETECT_MAX_COUNT + 1;
	assert_int_equal(bh_detect_new(&o, &d), -EINVAL);
	o = opts();
	o.denied_count = BH_DETECT_MAX_COUNT;
	o.scan_ports = o.scan_peers = BH_DETECT_MAX_DISTINCT;
	assert_int_equal(bh_detect_new(&o, &d), 0);
	bh_detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_traffic_never_triggers),
		cmocka_unit_test(test_explained_flows_never_count),
		cmocka_unit_test(test_denied_burst),
		cmocka_unit_test(test_monitor_would_quarantine_once),
		cmocka_unit_test(test_learn_mode),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_port_scan),
		cmocka_unit_test(test_scan_alert_default),
		cmocka_unit_test(test_two_rules_one_flow),
		cmocka_unit_test(test_host_scan),
		cmocka_unit_test(test_deny_cidr),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_slot_reuse_resets),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
