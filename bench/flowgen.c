// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * New-flow load: UDP datagrams, each to a destination (address, port) not
 * used before in the run, so every datagram is a new flow and one flow
 * record for the agent. Bounded in count and time.
 *
 *   flowgen -n A.B.C -r RATE -t SECONDS [-c MAX]
 *       destinations A.B.C.1-250, ports 1024 upwards; RATE flows per
 *       second (0: as fast as possible), for SECONDS, at most MAX flows.
 * Prints "flowgen: sent=N seconds=S rate=R" on exit (also on SIGTERM).
 * Route A.B.C.0/24 to a blackhole on the host: nothing answers, nothing
 * comes back to the sender.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *net = NULL;
	double rate = 0, secs = 10, t0, end;
	unsigned long long max = 50000000ULL, sent = 0;
	struct sockaddr_in dst[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	unsigned a, b, c;
	int opt, fd;

	while ((opt = getopt(argc, argv, "n:r:t:c:")) != -1) {
		switch (opt) {
		case 'n': net = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'c': max = strtoull(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (!net || sscanf(net, "%u.%u.%u", &a, &b, &c) != 3 || a > 255 || b > 255 || c > 255 ||
	    secs <= 0 || secs > 600)
		goto usage;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("flowgen: socket");
		return 2;
	}
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < BATCH; i++) {
		dst[i].sin_family = AF_INET;
		mm[i].msg_hdr.msg_name = &dst[i];
		mm[i].msg_hdr.msg_namelen = sizeof(dst[i]);
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	end = t0 + secs;
	while (!stop && sent < max) {
		double t = now();
		int n, r;

		if (t >= end)
			break;
		if (rate > 0 && (double)sent > (t - t0) * rate) {
			struct timespec ts = { 0, 200000 };	/* ahead: wait 0.2 ms */

			nanosleep(&ts, NULL);
			continue;
		}
		n = (int)(max - sent < BATCH ? max - sent : BATCH);
		for (int i = 0; i < n; i++) {
			unsigned long long k = sent + (unsigned long long)i;

			dst[i].sin_addr.s_addr = htonl((a << 24) | (b << 16) | (c << 8) |
						       (unsigned)(k % 250 + 1));
			dst[i].sin_port = htons((unsigned short)(1024 + (k / 250) % 64000));
		}
		r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("flowgen: sendmmsg");
			break;
		}
		sent += (unsigned long long)r;
	}
	t0 = now() - t0;
	printf("flowgen: sent=%llu seconds=%.3f rate=%.0f\n", sent, t0, (double)sent / t0);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: flowgen -n A.B.C -r RATE -t SECONDS [-c MAX]\n");
	return 1;
}
