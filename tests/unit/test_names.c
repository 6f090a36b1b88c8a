// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Address parsing/formatting (IPv4-mapped storage), label syntax, and the
 * names of verdicts, reasons, modes, hooks and counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "bulkhead.h"

static void test_ip_v4(void **state)
{
	static const __u8 want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3 };
	struct bh_ip ip;
	char buf[64];

	(void)state;
	assert_int_equal(bh_ip_parse("10.1.2.3", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_memory_equal(ip.addr, want, 16);
	assert_string_equal(bh_ip_format(&ip, buf, sizeof(buf)), "10.1.2.3");
	/* the IPv6 spelling of an IPv4 address is the same address */
	assert_int_equal(bh_ip_parse("::ffff:10.1.2.3", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_memory_equal(ip.addr, want, 16);
}

static void test_ip_v6(void **state)
{
	struct bh_ip ip;
	char buf[64];

	(void)state;
	assert_int_equal(bh_ip_parse("fd00::1", &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.addr[0], 0xfd);
	assert_int_equal(ip.addr[15], 1);
	assert_string_equal(bh_ip_format(&ip, buf, sizeof(buf)), "fd00::1");
	assert_int_equal(bh_ip_parse("::", &ip), 0);
	assert_string_equal(bh_addr_format(ip.addr, buf, sizeof(buf)), "::");
}

static void test_ip_bad(void **state)
{
	static const char *const bad[] = { "", "10.1.2", "10.1.2.256", "10.1.2.3/32", "fd00:::1",
					   "host", " 10.1.2.3", "10.1.2.3 ", NULL };
	struct bh_ip ip;

	(void)state;
	for (int i = 0; bad[i]; i++)
		assert_int_equal(bh_ip_parse(bad[i], &ip), -EINVAL);
	assert_int_equal(bh_ip_parse(NULL, &ip), -EINVAL);
}

static void test_labels(void **state)
{
	static const char *const good[] = { "app=web", "app=", "k8s.io/name=a.b-c_d",
					    "a=b", "tier=Front9", NULL };
	static const char *const bad[] = { "app", "=web", "app=-web", "app=web-", "-app=x",
					   "a b=c", "app=we b", "Bad_Prefix/x=y", "/x=y",
					   "a/=y", NULL };
	struct bh_label l;

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_int_equal(bh_label_parse(good[i], &l), 0);
	for (int i = 0; bad[i]; i++) {
		if (bh_label_parse(bad[i], &l) != -EINVAL)
			fail_msg("label '%s' accepted", bad[i]);
	}
	assert_int_equal(bh_label_parse("k8s.io/name=v", &l), 0);
	assert_string_equal(l.key, "k8s.io/name");
	assert_string_equal(l.value, "v");
	/* value limited to 63 characters */
	char big[80] = "k=";
	memset(big + 2, 'a', 64);
	big[66] = '\0';
	assert_int_equal(bh_label_parse(big, &l), -EINVAL);
}

static void test_names(void **state)
{
	enum bh_mode m;
	enum bh_hook h;

	(void)state;
	assert_string_equal(bh_verdict_name(BH_V_WOULD_DENY), "would-deny");
	assert_string_equal(bh_verdict_name(BH_V_MAX), "unknown");
	assert_string_equal(bh_reason_name(BH_R_DEFAULT_DENY), "default-deny");
	assert_string_equal(bh_reason_name(BH_R_MAX), "unknown");
	/* every verdict, reason and counter has a distinct, non-empty name */
	for (int i = 0; i < BH_R_MAX; i++) {
		assert_non_null(bh_reason_name(i));
		assert_string_not_equal(bh_reason_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(bh_reason_name(i), bh_reason_name(j));
	}
	for (int i = 0; i < BH_V_MAX; i++)
		assert_string_not_equal(bh_verdict_name(i), "unknown");
	for (int i = 0; i < BH_C_MAX; i++)
		assert_string_not_equal(bh_counter_name(i), "unknown");
	assert_string_equal(bh_dir_name(BH_DIR_EGRESS), "egress");
	for (int i = 0; i <= BH_MODE_ENFORCE; i++) {
		assert_int_equal(bh_mode_parse(bh_mode_name(i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(bh_mode_parse("Enforce", &m), -EINVAL);
	assert_int_equal(bh_mode_parse("", &m), -EINVAL);
	assert_int_equal(bh_hook_parse("xdp", &h), 0);
	assert_int_equal(h, BH_HOOK_XDP);
	assert_string_equal(bh_hook_name(h), "xdp");
	assert_int_equal(bh_hook_parse("tc", &h), 0);
	assert_int_equal(h, BH_HOOK_TC);
	assert_int_equal(bh_hook_parse("tcx", &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_v4),
		cmocka_unit_test(test_ip_v6),
		cmocka_unit_test(test_ip_bad),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
