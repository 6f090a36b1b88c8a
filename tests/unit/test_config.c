// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* STATE_DIR/config (lib/core/config.c): keys, comments, every error with its
 * line and key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static int parse(const char *text, struct bh_config *c, struct bh_config_error *e)
{
	return bh_config_parse_buf("cfg", text, strlen(text), c, e);
}

static void test_keys(void **state)
{
	struct bh_config c;
	struct bh_config_error e;
	const struct bh_config_entry *x;
	enum bh_hook h;

	(void)state;
	assert_int_equal(parse("# notes\n\n  hook = xdp   # fast floods\n"
			       "forensics.cidr=10.99.0.0/24\n"
			       "forensics.port = tcp/22\r\n"
			       "\tforensics.port = udp/53   \n", &c, &e), 0);
	assert_int_equal(c.nr, 4);
	x = bh_config_next(&c, "hook", NULL);
	assert_non_null(x);
	assert_string_equal(x->value, "xdp");
	assert_int_equal(x->line, 3);
	assert_int_equal(bh_hook_parse(x->value, &h), 0);
	assert_int_equal(h, BH_HOOK_XDP);
	x = bh_config_next(&c, "forensics.cidr", NULL);
	assert_string_equal(x->value, "10.99.0.0/24");
	x = bh_config_next(&c, "forensics.port", NULL);
	assert_string_equal(x->value, "tcp/22");
	x = bh_config_next(&c, "forensics.port", x);
	assert_string_equal(x->value, "udp/53");
	assert_int_equal(x->line, 6);
	assert_null(bh_config_next(&c, "forensics.port", x));
	bh_config_free(&c);

	assert_int_equal(parse("", &c, &e), 0);
	assert_int_equal(c.nr, 0);
	assert_null(bh_config_next(&c, "hook", NULL));
	bh_config_free(&c);

	assert_int_equal(parse("unknown_pod = allow\n", &c, &e), 0);
	x = bh_config_next(&c, "unknown_pod", NULL);
	assert_non_null(x);
	assert_string_equal(x->value, "allow");
	bh_config_free(&c);
	assert_int_equal(parse("flow_cache = off\n", &c, &e), 0);
	x = bh_config_next(&c, "flow_cache", NULL);
	assert_non_null(x);
	assert_string_equal(x->value, "off");
	bh_config_free(&c);

	assert_int_equal(parse("backend = nftables\n", &c, &e), 0);
	x = bh_config_next(&c, "backend", NULL);
	assert_non_null(x);
	assert_string_equal(x->value, "nftables");
	bh_config_free(&c);
	assert_int_equal(parse("backend = bpf\n", &c, &e), 0);
	bh_config_free(&c);

	assert_int_equal(parse("service_hook = tc\nservice_uplink = eth0\nservice_uplink = vxlan.1\n",
			       &c, &e), 0);
	x = bh_config_next(&c, "service_hook", NULL);
	assert_string_equal(x->value, "tc");
	x = bh_config_next(&c, "service_uplink", NULL);
	assert_string_equal(x->value, "eth0");
	x = bh_config_next(&c, "service_uplink", x);
	assert_string_equal(x->value, "vxlan.1");
	assert_int_equal(x->line, 3);
	bh_config_free(&c);
	assert_int_equal(parse("service_hook = auto\n", &c, &e), 0);
	bh_config_free(&c);
	assert_int_equal(parse("service_hook = netfilter\n", &c, &e), 0);
	bh_config_free(&c);
}

static void expect_error(const char *text, int line, const char *key, const char *msg_part)
{
	struct bh_config c;
	struct bh_config_error e;
	char buf[512];

	assert_int_equal(parse(text, &c, &e), -EINVAL);
	assert_int_equal(c.nr, 0);
	assert_null(c.entries);
	assert_int_equal(e.line, line);
	assert_string_equal(e.key, key);
	assert_non_null(strstr(e.msg, msg_part));
	bh_config_error_format("cfg", &e, buf, sizeof(buf));
	snprintf(buf + 300, 200, "cfg:%d: %s", line, key);
	assert_memory_equal(buf, buf + 300, strlen(buf + 300));
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("hook = tc\nforensic.cidr = 10.0.0.0/8\n", 2, "forensic.cidr", "unknown key");
	expect_error("\n\nhook = nft\n", 3, "hook", "expected tc or xdp");
	expect_error("hook = tc\nhook = xdp\n", 2, "hook", "given twice (first on line 1)");
	expect_error("flow_cache = no\n", 1, "flow_cache", "expected on or off, got 'no'");
	expect_error("flow_cache = on\nflow_cache = off\n", 2, "flow_cache", "given twice");
	expect_error("unknown_pod = maybe\n", 1, "unknown_pod", "expected deny or allow, got 'maybe'");
	expect_error("unknown_pod = deny\nunknown_pod = allow\n", 2, "unknown_pod", "given twice");
	expect_error("forensics.cidr =\n", 1, "forensics.cidr", "missing value");
	expect_error("# x\nhook xdp\n", 2, "", "expected KEY = VALUE");
	expect_error("= xdp\n", 1, "", "no key");
	expect_error("hook = tc\nbackend = iptables\n", 2, "backend",
		     "expected bpf or nftables, got 'iptables'");
	expect_error("backend = bpf\nbackend = nftables\n", 2, "backend", "given twice");
	expect_error("service_hook = bpf\n", 1, "service_hook",
		     "expected auto, netfilter or tc, got 'bpf'");
	expect_error("service_hook = tc\nservice_hook = auto\n", 2, "service_hook", "given twice");
	expect_error("service_uplink = eth0 eth1\n", 1, "service_uplink",
		     "expected one interface name, got 'eth0 eth1'");
	expect_error("service_uplink = a-name-too-long-for-linux\n", 1, "service_uplink",
		     "expected one interface name");
}

static void test_long_and_nul(void **state)
{
	char big[2048];
	struct bh_config c;
	struct bh_config_error e;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &c, &e), -EINVAL);
	assert_int_equal(e.line, 1);
	assert_int_equal(bh_config_parse_buf("cfg", "hook = tc\nho\0ok = xdp\n", 22, &c, &e),
			 -EINVAL);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "NUL"));
}

static void test_read_file(void **state)
{
	char dir[] = "/tmp/bh-cfg-XXXXXX", path[64];
	struct bh_config c;
	struct bh_config_error e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	/* absent: empty */
	assert_int_equal(bh_config_read(path, &c, &e), 0);
	assert_int_equal(c.nr, 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hook = xdp\nforensics.port = tcp/22\n", f);
	fclose(f);
	assert_int_equal(bh_config_read(path, &c, &e), 0);
	assert_int_equal(c.nr, 2);
	assert_string_equal(c.path, path);
	bh_config_free(&c);
	unlink(path);
	/* a directory in the way is an I/O error, not an empty config */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(bh_config_read(path, &c, &e) < 0);
	assert_true(e.msg[0] != '\0');
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_and_nul),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
