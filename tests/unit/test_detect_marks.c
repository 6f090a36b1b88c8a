// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Marks of detection decisions: written per counted flow, shown on the
 * matching flow rows (by workload and 5-tuple, whether the row was stored
 * before or after the decision), absent on others and on a store without
 * the table, removed by retention. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "detect.h"
#include "detect_marks.h"
#include "flowstore.h"

static struct bh_flow_view view(int sport, int dport)
{
	struct bh_flow_view v;

	memset(&v, 0, sizeof(v));
	snprintf(v.ns, sizeof(v.ns), "shop");
	snprintf(v.name, sizeof(v.name), "web");
	v.dir = "egress";
	v.family = 4;
	v.proto = IPPROTO_TCP;
	snprintf(v.src, sizeof(v.src), "10.0.0.2");
	snprintf(v.dst, sizeof(v.dst), "10.0.0.9");
	v.sport = sport;
	v.dport = dport;
	snprintf(v.peer, sizeof(v.peer), "10.0.0.9");
	v.verdict_name = "deny";
	v.reason = "default-deny";
	v.first_ms = v.last_ms = 1000;
	return v;
}

static void put(struct bh_flowstore *fs, int sport, int dport)
{
	struct bh_flow_view v = view(sport, dport);
	int64_t id = 0;

	assert_int_equal(bh_flowstore_begin(fs), 0);
	assert_int_equal(bh_flowstore_put(fs, &v, &id), 0);
	assert_int_equal(bh_flowstore_commit(fs), 0);
}

struct seen {
	int rows, marked;
	char marks[8][160];
};

static int row(const struct bh_flow_row *r, void *arg)
{
	struct seen *s = arg;

	if (r->counted[0] && s->marked < 8)
		snprintf(s->marks[s->marked++], sizeof(s->marks[0]), "%d %s", r->dport, r->counted);
	s->rows++;
	return 0;
}

/* A port scan decision over ports 1000..1019 of 10.0.0.9 from 10.0.0.2. */
static void decide(struct bh_detect *d, struct bh_detect_result *out)
{
	struct bh_detect_result r[BH_DETECT_RULES];
	int n = 0;

	for (int p = 0; p < 20; p++) {
		struct bh_detect_flow f = {
			.slot = 1, .ns = "shop", .name = "web", .ts_ms = 1000 + (uint64_t)p,
			.dir = BH_DIR_EGRESS, .verdict = p < 10 ? BH_V_DENY : BH_V_ALLOW,
			.mode = BH_MODE_ENFORCE, .outside_baseline = true, .family = 4,
			.proto = IPPROTO_TCP, .sport = (__u16)(40000 + p), .dport = (__u16)(1000 + p),
			.src = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2 },
			.peer = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 9 },
		};

		n = bh_detect_flow(d, &f, r);
	}
	assert_int_equal(n, 1);
	*out = r[0];
}

static void test_marks(void **state)
{
	struct bh_detect_opts o = { .scan_ports = 20, .scan_seconds = 10 };
	struct bh_flowstore_opts fo = { 0 };
	struct bh_flow_query q = { 0 };
	struct bh_flowstore *fs;
	struct bh_detect_result r;
	struct bh_detect *d;
	struct seen seen = { 0 };
	uint64_t deleted;
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(bh_flowstore_open(db, &fo, &fs), 0);
	/* no table yet (a store of an older agent): no marks, no error */
	assert_false(bh_detect_marks_present(db));
	put(fs, 40000, 1000);
	assert_int_equal(bh_flowstore_foreach(db, &q, row, &seen), 0);
	assert_int_equal(seen.rows, 1);
	assert_int_equal(seen.marked, 0);

	assert_int_equal(bh_detect_marks_schema(db), 0);
	assert_true(bh_detect_marks_present(db));
	assert_int_equal(bh_detect_new(&o, &d), 0);
	decide(d, &r);
	assert_int_equal(bh_detect_marks_add(db, "shop", "web", &r, 5000), 0);
	/* stored after the decision: marked all the same */
	put(fs, 40019, 1019);
	/* a port of the scan from another source port: not a counted flow */
	put(fs, 50000, 1005);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(bh_flowstore_foreach(db, &q, row, &seen), 0);
	assert_int_equal(seen.rows, 3);
	assert_int_equal(seen.marked, 2);
	assert_string_equal(seen.marks[0], "1000 port-scan:denied+outside-baseline");
	assert_string_equal(seen.marks[1], "1019 port-scan:outside-baseline");

	/* retention: marks decided before the cut go */
	assert_int_equal(bh_detect_marks_retention(db, 4000, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(bh_detect_marks_retention(db, 6000, &deleted), 0);
	assert_int_equal(deleted, 20);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(bh_flowstore_foreach(db, &q, row, &seen), 0);
	assert_int_equal(seen.marked, 0);

	bh_detect_free(d);
	bh_flowstore_close(fs);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
