// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP connect/request/response rate: each connection sends one byte,
 * reads the one-byte answer and closes, so the figure is dominated by
 * per-connection (per-SYN, per-flow) cost of whatever filters the path.
 *
 *   crr -s PORT [-t SECONDS]          server (exits after SECONDS, default 600)
 *   crr -c ADDR PORT [-t SECONDS]     client, one connection at a time
 * The server closes first, so TIME_WAIT stays on the server side and the
 * client's ephemeral ports free at once. The client prints a human line
 * and then the rate (connections per second) alone on the last line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int server(int port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	double end = now() + secs;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (void *)&a, sizeof(a)) || listen(fd, 4096)) {
		perror("crr: server socket");
		return 2;
	}
	while (now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, 500) <= 0)
			continue;
		int cfd = accept(fd, NULL, NULL);

		if (cfd < 0)
			continue;
		struct timeval tv = { .tv_sec = 2 };

		setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(cfd, &c, 1) == 1 && write(cfd, &c, 1) != 1)
			c = 0;
		close(cfd);
	}
	close(fd);
	return 0;
}

/* One connection; 0 when the whole exchange completed. */
static int one_conn(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = -1;
	struct timeval tv = { .tv_sec = 2 };
	char c = 'x';

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const void *)a, sizeof(*a)) == 0 && write(fd, &c, 1) == 1 &&
	    read(fd, &c, 1) == 1 && read(fd, &c, 1) == 0)
		ok = 0;
	close(fd);
	return ok;
}

static int client(const char *addr, int port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long done = 0, failed = 0;
	double start, t;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "crr: bad address %s\n", addr);
		return 1;
	}
	start = now();
	/* bounded by time, and by count as a second guard */
	while ((t = now()) - start < secs && done + failed < 10000000ul) {
		if (one_conn(&a) == 0)
			done++;
		else
			failed++;
	}
	t = now() - start;
	printf("crr: %lu connections (%lu failed) in %.2f s\n", done, failed, t);
	printf("%.1f\n", done / t);
	return done ? 0 : 2;
}

int main(int argc, char **argv)
{
	double secs = 0;
	int opt, mode = 0;

	while ((opt = getopt(argc, argv, "sct:")) != -1) {
		switch (opt) {
		case 's': mode = 's'; break;
		case 'c': mode = 'c'; break;
		case 't': secs = atof(optarg); break;
		default: goto usage;
		}
	}
	if (mode == 's' && optind == argc - 1)
		return server(atoi(argv[optind]), secs > 0 ? secs : 600);
	if (mode == 'c' && optind == argc - 2)
		return client(argv[optind], atoi(argv[optind + 1]), secs > 0 ? secs : 3);
usage:
	fprintf(stderr, "usage: crr -s PORT [-t SECONDS] | crr -c ADDR PORT [-t SECONDS]\n");
	return 1;
}
