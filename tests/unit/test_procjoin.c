// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The process join table (lib/agent/procjoin.h): exact TCP keys, UDP
 * sockets that are not connected or bound to any address, namespaces kept
 * apart, the size bound (oldest first) and processes that outlive their
 * entry; the baseline's program match (baseline_procs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baseline.h"
#include "procjoin.h"

static void v4(__u8 a[16], int x)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 10;
	a[13] = 117;
	a[15] = (__u8)x;
}

static struct bh_sockproc_rec rec(int proto, int own, int lport, int peer, int rport)
{
	struct bh_sockproc_rec r;

	memset(&r, 0, sizeof(r));
	r.key.proto = (__u8)proto;
	v4(r.key.laddr, own);
	if (!own)
		r.key.laddr[12] = r.key.laddr[13] = r.key.laddr[15] = 0;	/* any */
	r.key.lport = (__u16)lport;
	if (peer)
		v4(r.key.raddr, peer);
	r.key.rport = (__u16)rport;
	return r;
}

static struct bh_proc_info info(unsigned pid, const char *exe)
{
	struct bh_proc_info p;

	memset(&p, 0, sizeof(p));
	p.pid = pid;
	snprintf(p.exe, sizeof(p.exe), "%s", exe);
	return p;
}

static void test_tcp_exact(void **state)
{
	struct bh_sockproc_rec r = rec(6, 2, 40000, 9, 5432);
	struct bh_proc_info p = info(42, "/usr/bin/nc"), *got;
	struct bh_procjoin *pj;
	__u8 own[16], peer[16];

	(void)state;
	assert_int_equal(bh_procjoin_new(NULL, &pj), 0);
	assert_int_equal(bh_procjoin_add(pj, &r, 7, &p), 0);
	v4(own, 2);
	v4(peer, 9);
	got = bh_procjoin_find(pj, 7, 6, own, 40000, peer, 5432);
	assert_non_null(got);
	assert_int_equal(got->pid, 42);
	assert_string_equal(got->exe, "/usr/bin/nc");
	/* another namespace, port, peer or protocol: not this process */
	assert_null(bh_procjoin_find(pj, 8, 6, own, 40000, peer, 5432));
	assert_null(bh_procjoin_find(pj, 7, 6, own, 40001, peer, 5432));
	assert_null(bh_procjoin_find(pj, 7, 6, own, 40000, peer, 5433));
	assert_null(bh_procjoin_find(pj, 7, 17, own, 40000, peer, 5432));
	/* a key without the peer is a listener's: test_tcp_listener */
	bh_procjoin_close(pj);
}

static void test_udp_wildcards(void **state)
{
	struct bh_sockproc_rec unconnected = rec(17, 2, 5353, 0, 0);
	struct bh_sockproc_rec any = rec(17, 0, 6000, 0, 0);
	struct bh_sockproc_rec connected = rec(17, 2, 5353, 9, 53);
	struct bh_proc_info a = info(1, "/usr/sbin/dnsd"), b = info(2, "/usr/bin/dig");
	struct bh_proc_info *got;
	struct bh_procjoin *pj;
	__u8 own[16], peer[16];

	(void)state;
	assert_int_equal(bh_procjoin_new(NULL, &pj), 0);
	assert_int_equal(bh_procjoin_add(pj, &unconnected, 3, &a), 0);
	assert_int_equal(bh_procjoin_add(pj, &any, 3, &a), 0);
	v4(own, 2);
	v4(peer, 77);
	/* a socket that is not connected serves every peer */
	got = bh_procjoin_find(pj, 3, 17, own, 5353, peer, 1234);
	assert_non_null(got);
	assert_int_equal(got->pid, 1);
	/* bound to any address: found by port */
	got = bh_procjoin_find(pj, 3, 17, own, 6000, peer, 1234);
	assert_non_null(got);
	assert_null(bh_procjoin_find(pj, 4, 17, own, 6000, peer, 1234));
	/* a connected socket on the same port wins for its peer */
	assert_int_equal(bh_procjoin_add(pj, &connected, 3, &b), 0);
	v4(peer, 9);
	got = bh_procjoin_find(pj, 3, 17, own, 5353, peer, 53);
	assert_int_equal(got->pid, 2);
	bh_procjoin_close(pj);
}

/* A TCP listener's record (peer zero) names every connection it accepts;
 * a connection's own record wins over it. */
static void test_tcp_listener(void **state)
{
	struct bh_sockproc_rec listener = rec(6, 0, 5432, 0, 0);
	struct bh_sockproc_rec conn = rec(6, 2, 5432, 9, 40001);
	struct bh_proc_info a = info(1, "/usr/bin/postgres"), b = info(2, "/usr/bin/worker");
	struct bh_proc_info *got;
	struct bh_procjoin *pj;
	__u8 own[16], peer[16];

	(void)state;
	assert_int_equal(bh_procjoin_new(NULL, &pj), 0);
	assert_int_equal(bh_procjoin_add(pj, &listener, 3, &a), 0);
	v4(own, 2);
	v4(peer, 77);
	got = bh_procjoin_find(pj, 3, 6, own, 5432, peer, 40000);
	assert_non_null(got);
	assert_int_equal(got->pid, 1);
	assert_null(bh_procjoin_find(pj, 3, 6, own, 5433, peer, 40000));
	assert_null(bh_procjoin_find(pj, 4, 6, own, 5432, peer, 40000));
	assert_int_equal(bh_procjoin_add(pj, &conn, 3, &b), 0);
	v4(peer, 9);
	got = bh_procjoin_find(pj, 3, 6, own, 5432, peer, 40001);
	assert_int_equal(got->pid, 2);
	bh_procjoin_close(pj);
}

static void test_bound_and_refs(void **state)
{
	struct bh_procjoin_opts o = { .max_entries = 4 };
	struct bh_proc_info p = info(5, "/bin/x"), *kept;
	struct bh_procjoin_stats st;
	struct bh_procjoin *pj;
	__u8 own[16], peer[16];

	(void)state;
	assert_int_equal(bh_procjoin_new(&o, &pj), 0);
	v4(own, 2);
	v4(peer, 9);
	for (int i = 0; i < 10; i++) {
		struct bh_sockproc_rec r = rec(6, 2, 1000 + i, 9, 80);

		assert_int_equal(bh_procjoin_add(pj, &r, 1, &p), 0);
	}
	bh_procjoin_get_stats(pj, &st);
	assert_int_equal(st.evicted, 6);
	/* the oldest went first */
	assert_null(bh_procjoin_find(pj, 1, 6, own, 1005, peer, 80));
	kept = bh_procjoin_find(pj, 1, 6, own, 1006, peer, 80);
	assert_non_null(kept);
	bh_proc_ref(kept);	/* a flow holds it */
	for (int i = 0; i < 4; i++) {
		struct bh_sockproc_rec r = rec(6, 2, 2000 + i, 9, 80);

		assert_int_equal(bh_procjoin_add(pj, &r, 1, &p), 0);
	}
	assert_null(bh_procjoin_find(pj, 1, 6, own, 1006, peer, 80));
	assert_int_equal(kept->pid, 5);	/* still valid after eviction */
	bh_proc_unref(kept);
	bh_procjoin_close(pj);
}

static void test_baseline_programs(void **state)
{
	struct bh_baseline_proc procs[2];
	struct bh_baseline b;

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(procs, 0, sizeof(procs));
	snprintf(procs[0].exe, sizeof(procs[0].exe), "/usr/bin/python3.11");
	snprintf(procs[1].exe, sizeof(procs[1].exe), "curl");	/* path was not read */
	b.procs = procs;
	b.nr_procs = 2;
	assert_true(bh_baseline_covers_proc(&b, "/usr/bin/python3.11"));
	assert_true(bh_baseline_covers_proc(&b, "python3.11"));
	assert_true(bh_baseline_covers_proc(&b, "/usr/bin/curl"));
	assert_false(bh_baseline_covers_proc(&b, "/usr/bin/socat"));
	assert_false(bh_baseline_covers_proc(&b, "/tmp/python3.11x"));
	/* another directory is another program */
	assert_false(bh_baseline_covers_proc(&b, "/tmp/python3.11"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_exact),
		cmocka_unit_test(test_udp_wildcards),
		cmocka_unit_test(test_tcp_listener),
		cmocka_unit_test(test_bound_and_refs),
		cmocka_unit_test(test_baseline_programs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
