// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the socket-side program (tc/bulkhead_sock.bpf.c) adds to a TCP
 * connect: loopback connects to a listener on 127.0.0.1:21700 (a thread
 * accepts and closes), timed without the program and with it attached
 * (as the agent loads it, the socket operations program on the root of
 * the cgroup v2 hierarchy included). The listener is opened while the
 * program is attached, as a container's server started after the agent:
 * its process is recorded once, and the connecting side once per
 * connect.
 * A thread reads the ring meanwhile, as the agent would. Rounds
 * alternate off/on, short enough that the machine's load changes
 * little within a pair; the figure is the median of the pairs'
 * differences (other processes share the machine). Beside the wall
 * clock, the CPU time of the connecting thread (what waiting for other
 * processes does not inflate), and, in rounds of their own, the kernel's
 * count of the programs' run time (BPF_ENABLE_STATS: run_time_ns and
 * run_cnt of each program) per connect: where the time goes (the hooks'
 * dispatch is outside it, the statistics' own clock reads inside).
 * Ends with one JSON line. Figures, not assertions.
 *
 *   bench_sockproc [CONNECTS_PER_ROUND] [ROUNDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bulkhead_abi.h"
#include "bulkhead_sock.skel.h"
#include "sockproc.h"

#define PORT	21700
#define STATS_ROUNDS	5

static int lfd = -1;
static volatile int stop, stop_reader;
static struct ring_buffer *rb;

static void *acceptor(void *arg)
{
	(void)arg;
	while (!stop) {
		int c = accept(lfd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
	return NULL;
}

static double clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per connect+close, or -1; *cpu: of it, the CPU time of this thread
 * (loopback: the handshake's softirq work, both ends' programs included,
 * runs in it), which time spent waiting for the other processes sharing
 * the machine does not inflate */
static double round_ns(int n, double *cpu)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct linger lg = { 1, 0 };

		if (s < 0)
			return -1;
		/* RST on close: no TIME_WAIT pile-up over thousands of rounds */
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
			close(s);
			return -1;
		}
		close(s);
	}
	*cpu = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / n;
	return (clock_ns(CLOCK_MONOTONIC) - t0) / n;
}

static int count_rec(void *arg, void *data, size_t size)
{
	(void)data;
	if (size >= sizeof(struct bh_sockproc_rec))
		(*(int *)arg)++;
	return 0;
}

/* The ring is read while the rounds run, as the agent would read it. */
static void *reader(void *arg)
{
	(void)arg;
	while (!stop_reader) {
		struct timespec ts = { 0, 10 * 1000000L };	/* every 10 ms */

		ring_buffer__consume(rb);
		nanosleep(&ts, NULL);
	}
	ring_buffer__consume(rb);
	return NULL;
}

/* Summed run time and runs of the skeleton's programs, as the kernel
 * counts them while run-time statistics are enabled. */
static void prog_stats(struct bulkhead_sock *skel, __u64 *ns, __u64 *cnt)
{
	struct bpf_program *prog;

	*ns = *cnt = 0;
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

/* Where the time goes: each program's runs and mean run time over all
 * the "on" rounds. */
static void prog_detail(struct bulkhead_sock *skel, int connects)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		printf("  %s: %.2f runs per connect, %.0f ns per run\n", bpf_program__name(prog),
		       (double)info.run_cnt / connects, (double)info.run_time_ns / info.run_cnt);
	}
}

/* The skeleton's tracepoints, and the socket operations program (not
 * attached by the skeleton) on the cgroup v2 root. */
static int attach_all(struct bulkhead_sock *skel, int cgfd, struct bpf_link **ops)
{
	struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, "bh_sock_ops");
	int err = bulkhead_sock__attach(skel);

	*ops = NULL;
	if (err || !p)
		return err;
	*ops = bpf_program__attach_cgroup(p, cgfd);
	return *ops ? 0 : -errno;
}

static void detach_all(struct bulkhead_sock *skel, struct bpf_link *ops)
{
	bpf_link__destroy(ops);
	bulkhead_sock__detach(skel);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4000, rounds = argc > 2 ? atoi(argv[2]) : 21;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct bulkhead_sock *skel = NULL;
	double off[64], on[64], diff[64], prog_ns[64], runs[64];
	double cpu_off[64], cpu_on[64], cpu_diff[64];
	pthread_t th, rth;
	int one = 1, err = 0, recorded = 0, stats_fd, cgfd;
	struct bpf_link *ops;
	unsigned long long lost;

	if (n < 100 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_sockproc [CONNECTS>=100] [ROUNDS 1..64]\n");
		return 1;
	}
	cgfd = bh_cgroup2_root_fd();
	if (cgfd < 0) {
		fprintf(stderr, "bench_sockproc: cgroup v2 root: %s\n", strerror(-cgfd));
		return 2;
	}
	skel = bulkhead_sock__open();
	if (!skel) {
		fprintf(stderr, "bench_sockproc: open: %s\n", strerror(errno));
		return 2;
	}
	/* the bench's own map: never the pinned one of an instance */
	bpf_map__set_pin_path(skel->maps.bh_sockproc_v1, NULL);
	err = bh_sockproc_select(skel->obj);
	if (!err)
		err = bulkhead_sock__load(skel);
	if (err) {
		fprintf(stderr, "bench_sockproc: load: %s\n", strerror(-err));
		return 2;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.bh_sockproc_v1), count_rec, &recorded, NULL);
	if (!rb) {
		fprintf(stderr, "bench_sockproc: ring buffer: %s\n", strerror(errno));
		return 2;
	}
	pthread_create(&rth, NULL, reader, NULL);
	err = attach_all(skel, cgfd, &ops);
	if (err) {
		fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096)) {
		fprintf(stderr, "bench_sockproc: listen on 127.0.0.1:%d: %s\n", PORT, strerror(errno));
		return 2;
	}
	pthread_create(&th, NULL, acceptor, NULL);
	detach_all(skel, ops);
	round_ns(n / 10, &cpu_off[0]);	/* warm up */
	for (int r = 0; r < rounds; r++) {
		off[r] = round_ns(n, &cpu_off[r]);
		err = attach_all(skel, cgfd, &ops);
		if (err) {
			fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
			return 2;
		}
		on[r] = round_ns(n, &cpu_on[r]);
		detach_all(skel, ops);
		diff[r] = on[r] - off[r];
		cpu_diff[r] = cpu_on[r] - cpu_off[r];
		printf("round %d: %.0f ns per connect without, %.0f ns with (CPU of the connecting "
		       "thread %.0f, %.0f)\n", r + 1, off[r], on[r], cpu_off[r], cpu_on[r]);
	}
	/* The programs' own run time, in rounds of their own: counting it
	 * reads the clock twice per run, which the rounds above must not pay.
	 * The statistics stay on while stats_fd is open. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bench_sockproc: enable run-time statistics: %s\n", strerror(errno));
		return 2;
	}
	for (int r = 0; r < STATS_ROUNDS; r++) {
		__u64 ns0, cnt0, ns1, cnt1;
		double cpu;

		err = attach_all(skel, cgfd, &ops);
		if (err) {
			fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
			return 2;
		}
		prog_stats(skel, &ns0, &cnt0);
		round_ns(n, &cpu);
		prog_stats(skel, &ns1, &cnt1);
		detach_all(skel, ops);
		prog_ns[r] = (double)(ns1 - ns0) / n;
		runs[r] = (double)(cnt1 - cnt0) / n;
	}
	close(stats_fd);
	stop_reader = 1;
	pthread_join(rth, NULL);
	ring_buffer__free(rb);
	stop = 1;
	shutdown(lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(lfd);
	close(cgfd);
	lost = skel->bss->bh_sockproc_lost;
	prog_detail(skel, n * STATS_ROUNDS);
	bulkhead_sock__destroy(skel);
	qsort(off, rounds, sizeof(off[0]), cmp);
	qsort(on, rounds, sizeof(on[0]), cmp);
	qsort(diff, rounds, sizeof(diff[0]), cmp);
	qsort(cpu_off, rounds, sizeof(cpu_off[0]), cmp);
	qsort(cpu_on, rounds, sizeof(cpu_on[0]), cmp);
	qsort(cpu_diff, rounds, sizeof(cpu_diff[0]), cmp);
	qsort(prog_ns, STATS_ROUNDS, sizeof(prog_ns[0]), cmp);
	qsort(runs, STATS_ROUNDS, sizeof(runs[0]), cmp);
	printf("median: %.0f ns per connect without, %.0f ns with; median of the pairs' "
	       "differences %.0f ns added (quartiles %.0f..%.0f); "
	       "%d records read, %llu dropped (ring full)\n",
	       off[rounds / 2], on[rounds / 2], diff[rounds / 2], diff[rounds / 4],
	       diff[3 * rounds / 4], recorded, lost);
	printf("CPU time of the connecting thread: median %.0f ns per connect without, %.0f ns "
	       "with; median of the pairs' differences %.0f ns added (quartiles %.0f..%.0f)\n",
	       cpu_off[rounds / 2], cpu_on[rounds / 2], cpu_diff[rounds / 2], cpu_diff[rounds / 4],
	       cpu_diff[3 * rounds / 4]);
	printf("programs' own run time (kernel statistics, %d more rounds): median %.0f ns per "
	       "connect (%.0f..%.0f) in %.1f runs\n", STATS_ROUNDS, prog_ns[STATS_ROUNDS / 2],
	       prog_ns[0], prog_ns[STATS_ROUNDS - 1], runs[STATS_ROUNDS / 2]);
	printf("{\"sockproc_connect_ns_off\": %.0f, \"sockproc_connect_ns_on\": %.0f, "
	       "\"sockproc_added_ns\": %.0f, \"sockproc_cpu_added_ns\": %.0f, "
	       "\"sockproc_prog_ns\": %.0f}\n", off[rounds / 2], on[rounds / 2], diff[rounds / 2],
	       cpu_diff[rounds / 2], prog_ns[STATS_ROUNDS / 2]);
	return 0;
}
