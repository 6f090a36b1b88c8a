// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the socket-side program (tc/bulkhead_sock.bpf.c) adds to a TCP
 * connect: loopback connects to a listener on 127.0.0.1:21700 (a thread
 * accepts and closes), timed without the program and with it attached
 * (raw tracepoint sock:inet_sock_set_state: each connection is filed
 * twice, once for the connecting side and once for the accepted side,
 * both in this loop).
 * A thread reads the ring meanwhile, as the agent would. Rounds
 * alternate off/on, short enough that the machine's load changes
 * little within a pair; the figure is the median of the pairs'
 * differences (other processes share the machine). Ends with one JSON
 * line. Figures, not assertions.
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

#define PORT	21700

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

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per connect+close, or -1 */
static double round_ns(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double t0 = now_ns();

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
	return (now_ns() - t0) / n;
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
	double off[64], on[64], diff[64];
	pthread_t th, rth;
	int one = 1, err = 0, recorded = 0;
	unsigned long long lost;

	if (n < 100 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_sockproc [CONNECTS>=100] [ROUNDS 1..64]\n");
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096)) {
		fprintf(stderr, "bench_sockproc: listen on 127.0.0.1:%d: %s\n", PORT, strerror(errno));
		return 2;
	}
	pthread_create(&th, NULL, acceptor, NULL);
	skel = bulkhead_sock__open();
	if (!skel) {
		fprintf(stderr, "bench_sockproc: open: %s\n", strerror(errno));
		return 2;
	}
	/* the bench's own map: never the pinned one of an instance */
	bpf_map__set_pin_path(skel->maps.bh_sockproc_v1, NULL);
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
	round_ns(n / 10);	/* warm up */
	for (int r = 0; r < rounds; r++) {
		off[r] = round_ns(n);
		err = bulkhead_sock__attach(skel);
		if (err) {
			fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
			return 2;
		}
		on[r] = round_ns(n);
		bulkhead_sock__detach(skel);
		diff[r] = on[r] - off[r];
		printf("round %d: %.0f ns per connect without, %.0f ns with\n", r + 1, off[r], on[r]);
	}
	stop_reader = 1;
	pthread_join(rth, NULL);
	ring_buffer__free(rb);
	stop = 1;
	shutdown(lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(lfd);
	lost = skel->bss->bh_sockproc_lost;
	bulkhead_sock__destroy(skel);
	qsort(off, rounds, sizeof(off[0]), cmp);
	qsort(on, rounds, sizeof(on[0]), cmp);
	qsort(diff, rounds, sizeof(diff[0]), cmp);
	printf("median: %.0f ns per connect without, %.0f ns with; median of the pairs' "
	       "differences %.0f ns added (quartiles %.0f..%.0f; both ends: connect and accept); "
	       "%d records read, %llu dropped (ring full)\n",
	       off[rounds / 2], on[rounds / 2], diff[rounds / 2], diff[rounds / 4],
	       diff[3 * rounds / 4], recorded, lost);
	printf("{\"sockproc_connect_ns_off\": %.0f, \"sockproc_connect_ns_on\": %.0f, "
	       "\"sockproc_added_ns\": %.0f}\n", off[rounds / 2], on[rounds / 2],
	       diff[rounds / 2]);
	return 0;
}
