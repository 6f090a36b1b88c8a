// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Agent configuration: every key, defaults, errors with line and field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_config.h"

static int parse(const char *yaml, struct bh_agent_config *c, struct bh_agent_config_error *e)
{
	bh_agent_config_defaults(c);
	return bh_agent_config_parse_buf("agent.yaml", yaml, strlen(yaml), c, e);
}

static void test_defaults(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;

	(void)state;
	assert_int_equal(parse("", &c, &e), 0);
	assert_string_equal(c.syslog_target, "");
	assert_int_equal(c.syslog_format, BH_SYSLOG_RFC5424);
	assert_true(c.syslog_flows);
	assert_int_equal(c.max_flows, 1000000);
	assert_int_equal(c.max_age_ms, 7ULL * 86400 * 1000);
	assert_int_equal(c.flush_ms, 200);
	assert_int_equal(c.flush_records, 4000);
	assert_int_equal(c.detect.denied_count, 0);
	assert_int_equal(c.detect.scan_ports, 0);
	assert_int_equal(c.detect.nr_deny_cidrs, 0);
	assert_false(c.capture);
	assert_int_equal(c.cidr_prefix_v4, 32);
	assert_int_equal(c.cidr_prefix_v6, 128);
	assert_string_equal(c.metrics_listen, "");
}

static const char *full =
	"# the example of docs/agent.md\n"
	"syslog: {target: \"tcp://127.0.0.1:514\", format: rfc3164, queue: 4096, flows: false}\n"
	"jsonl: /var/log/bulkhead/flows.jsonl\n"
	"retention: {max_flows: 5000, max_age: 1d12h}\n"
	"store: {flush_ms: 100, flush_records: 500}\n"
	"flows: {max_live: 1000, idle_timeout: 30s}\n"
	"baseline: {cidr_prefix_v4: 24, cidr_prefix_v6: 64}\n"
	"deviations: {max_per_minute: 5}\n"
	"quarantine:\n"
	"  denied_flows: {count: 20, seconds: 10}\n"
	"  scan: {distinct_ports: 25, distinct_peers: 30, seconds: 5}\n"
	"  deny_cidrs: [192.0.2.7/24, \"2001:db8::/32\", 198.51.100.1]\n"
	"  exempt: [\"kube-system/*\", \"monitoring/prometheus-*\"]\n"
	"  capture: {seconds: 30, max_bytes: 10MiB}\n"
	"metrics: {listen: \"127.0.0.1:9109\"}\n";

static void test_every_key(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	const struct bh_cidr *d;

	(void)state;
	assert_int_equal(parse(full, &c, &e), 0);
	assert_string_equal(c.syslog_target, "tcp://127.0.0.1:514");
	assert_int_equal(c.syslog_format, BH_SYSLOG_RFC3164);
	assert_int_equal(c.syslog_queue, 4096);
	assert_false(c.syslog_flows);
	assert_string_equal(c.jsonl, "/var/log/bulkhead/flows.jsonl");
	assert_int_equal(c.max_flows, 5000);
	assert_int_equal(c.max_age_ms, 36ULL * 3600 * 1000);
	assert_int_equal(c.flush_ms, 100);
	assert_int_equal(c.flush_records, 500);
	assert_int_equal(c.max_live_flows, 1000);
	assert_int_equal(c.idle_timeout_ms, 30000);
	assert_int_equal(c.cidr_prefix_v4, 24);
	assert_int_equal(c.cidr_prefix_v6, 64);
	assert_int_equal(c.deviation_rate, 5);
	assert_int_equal(c.detect.denied_count, 20);
	assert_int_equal(c.detect.denied_seconds, 10);
	assert_int_equal(c.detect.scan_ports, 25);
	assert_int_equal(c.detect.scan_peers, 30);
	assert_int_equal(c.detect.scan_seconds, 5);
	assert_int_equal(c.detect.nr_deny_cidrs, 3);
	d = &c.detect.deny_cidrs[0];
	assert_int_equal(d->addr.family, 4);
	assert_int_equal(d->prefixlen, 24);
	/* host bits cleared, IPv4-mapped */
	assert_int_equal(d->addr.addr[10], 0xff);
	assert_int_equal(d->addr.addr[12], 192);
	assert_int_equal(d->addr.addr[14], 2);
	assert_int_equal(d->addr.addr[15], 0);
	assert_int_equal(c.detect.deny_cidrs[1].addr.family, 6);
	assert_int_equal(c.detect.deny_cidrs[1].prefixlen, 32);
	assert_int_equal(c.detect.deny_cidrs[2].prefixlen, 32);
	assert_int_equal(c.detect.nr_exempt, 2);
	assert_string_equal(c.detect.exempt[0], "kube-system/*");
	assert_string_equal(c.detect.exempt[1], "monitoring/prometheus-*");
	assert_true(c.capture);
	assert_int_equal(c.capture_seconds, 30);
	assert_int_equal(c.capture_max_bytes, 10485760);
	assert_string_equal(c.metrics_listen, "127.0.0.1:9109");
}

static void test_syslog_shorthand(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;

	(void)state;
	assert_int_equal(parse("syslog: unix:/dev/log\n", &c, &e), 0);
	assert_string_equal(c.syslog_target, "unix:/dev/log");
}

struct bad_case {
	const char *yaml;
	int line;
	const char *field;
};

static const struct bad_case bad[] = {
	{ "syslog: {target: x, format: rfc9999}\n", 1, "syslog.format" },
	{ "jsonl: /x\nretention: {max_flows: -3}\n", 2, "retention.max_flows" },
	{ "retention:\n  max_age: 7 days\n", 2, "retention.max_age" },
	{ "retention:\n  max_flows: 10\n  max_size: 5\n", 3, "retention.max_size" },
	{ "quarantine:\n  denied_flows: {count: 0, seconds: 10}\n", 2, "quarantine.denied_flows.count" },
	{ "quarantine:\n  scan:\n    distinct_ports: twenty\n", 3, "quarantine.scan.distinct_ports" },
	{ "quarantine:\n  deny_cidrs:\n    - 10.0.0.0/8\n    - 300.1.2.3/8\n", 4, "quarantine.deny_cidrs[1]" },
	{ "quarantine:\n  deny_cidrs: 10.0.0.0/8\n", 2, "quarantine.deny_cidrs" },
	{ "quarantine:\n  exempt: [kube-system]\n", 2, "quarantine.exempt[0]" },
	{ "quarantine:\n  capture: {seconds: 30, max_bytes: lots}\n", 2, "quarantine.capture.max_bytes" },
	{ "metrics: {listen: [1, 2]}\n", 1, "metrics.listen" },
	{ "baseline: {cidr_prefix_v4: 33}\n", 1, "baseline.cidr_prefix_v4" },
	{ "flows: {idle_timeout: soon}\n", 1, "flows.idle_timeout" },
	{ "store: {flush_ms: 1}\n", 1, "store.flush_ms" },
	{ "deviations: {max_per_minute: 0}\n", 1, "deviations.max_per_minute" },
	{ "sylog: {target: x}\n", 1, "sylog" },
	{ "- just\n- a list\n", 1, "" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bh_agent_config c;
		struct bh_agent_config_error e;
		char msg[512];

		assert_int_equal(parse(bad[i].yaml, &c, &e), -EINVAL);
		bh_agent_config_error_format(&e, msg, sizeof(msg));
		if (e.line != bad[i].line || strcmp(e.field, bad[i].field))
			fail_msg("case %zu: got \"%s\"", i, msg);
		assert_string_equal(e.file, "agent.yaml");
		assert_non_null(strstr(msg, "agent.yaml:"));
		assert_true(strlen(e.msg) > 0);
	}
}

static void test_yaml_syntax_error(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;

	(void)state;
	assert_int_equal(parse("syslog: {target: x\nmetrics: [\n", &c, &e), -EINVAL);
	assert_true(e.line >= 1);
	assert_non_null(strstr(e.msg, "YAML"));
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/bh-agent-config-XXXXXX";
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, strlen(full)), (ssize_t)strlen(full));
	close(fd);
	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_load(path, &c, &e), 0);
	assert_int_equal(c.detect.scan_ports, 25);
	unlink(path);
	assert_int_equal(bh_agent_config_load(path, &c, &e), -ENOENT);
	assert_string_equal(e.file, path);
}

static void test_scalars(void **state)
{
	uint64_t v;
	struct bh_cidr cidr;

	(void)state;
	assert_int_equal(bh_parse_duration_ms("7d", &v), 0);
	assert_int_equal(v, 604800000ULL);
	assert_int_equal(bh_parse_duration_ms("200ms", &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(bh_parse_duration_ms("1h30m", &v), 0);
	assert_int_equal(v, 5400000ULL);
	assert_int_equal(bh_parse_duration_ms("15", &v), 0);
	assert_int_equal(v, 15000);
	assert_int_equal(bh_parse_duration_ms("", &v), -EINVAL);
	assert_int_equal(bh_parse_duration_ms("5y", &v), -EINVAL);
	assert_int_equal(bh_parse_duration_ms("-5s", &v), -EINVAL);
	assert_int_equal(bh_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(bh_parse_size("2MiB", &v), 0);
	assert_int_equal(v, 2097152);
	assert_int_equal(bh_parse_size("1G", &v), 0);
	assert_int_equal(v, 1073741824ULL);
	assert_int_equal(bh_parse_size("12x", &v), -EINVAL);
	assert_int_equal(bh_cidr_parse_addr("10.1.2.3/8", &cidr), 0);
	assert_int_equal(cidr.addr.addr[12], 10);
	assert_int_equal(cidr.addr.addr[13], 0);
	assert_int_equal(bh_cidr_parse_addr("fd00::1/129", &cidr), -EINVAL);
	assert_int_equal(bh_cidr_parse_addr("10.0.0.0/", &cidr), -EINVAL);
	assert_int_equal(bh_cidr_parse_addr("host.example", &cidr), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_syslog_shorthand),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_scalars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
