// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * New-flow load: UDP datagrams, each to a destination (address, port) its
 * socket has not used before in the run, so every datagram is a new flow
 * and one flow record for the agent. Bounded in count and time.
 *
 *   flowgen -n A.B.C -r RATE -t SECONDS [-c MAX] [-p PORTS] [-s SOCKETS] [NETNS...]
 *
 * Each socket's k-th datagram goes to port 1024 + k mod PORTS (default
 * 64000) of A.B.C.(k / PORTS mod 250 + 1): every port early, so that a
 * short run (-c PORTS) shows a learner all of them. Without NETNS the
 * sockets are in flowgen's own network namespace; with names (of
 * /run/netns) each namespace gets SOCKETS sockets (default 1), each with
 * its own source port, so a namespace's distinct flows are
 * 250 x PORTS x SOCKETS. One process drives them all: RATE is the total,
 * shared evenly (batches go to the sockets in turn, namespaces
 * interleaved), so N namespaces each open RATE/N flows a second. MAX
 * bounds each socket (default 50 000 000).
 * Prints "flowgen: sent=N seconds=S rate=R ..." on exit (also on SIGTERM);
 * exits 2 when a socket cannot be made or a send fails (other than a full
 * queue), 1 on bad arguments.
 * Route A.B.C.0/24 to a blackhole on the host: nothing answers, nothing
 * comes back to the sender.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH		32
#define MAX_SOCKETS	4096

static volatile sig_atomic_t stop;

struct gen_socket {
	int fd;
	unsigned long long sent;
};

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

/* Open n sockets in network namespace name (NULL: our own) into s; 0 or
 * -1 with a message printed. A socket stays in the namespace it was made
 * in, so flowgen returns to its own right after. */
static int open_sockets(const char *name, int self_ns, struct gen_socket *s, int n)
{
	char path[300];
	int ns = -1, err = 0;

	if (name) {
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET)) {
			fprintf(stderr, "flowgen: network namespace %s: %s\n", name, strerror(errno));
			if (ns >= 0)
				close(ns);
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		s[i].sent = 0;
		s[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s[i].fd < 0) {
			fprintf(stderr, "flowgen: socket in %s: %s\n", name ? name : "own namespace",
				strerror(errno));
			while (i-- > 0)
				close(s[i].fd);
			err = -1;
			break;
		}
	}
	if (name) {
		if (setns(self_ns, CLONE_NEWNET)) {
			perror("flowgen: back to own network namespace");
			for (int i = 0; i < n && !err; i++)
				close(s[i].fd);
			err = -1;
		}
		close(ns);
	}
	return err;
}

int main(int argc, char **argv)
{
	const char *net = NULL;
	double rate = 0, secs = 10, t0, end;
	unsigned long long max = 50000000ULL, sent = 0;
	unsigned ports = 64000, per_ns = 1;
	struct sockaddr_in dst[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct gen_socket *socks = NULL;
	unsigned a, b, c;
	int opt, nr_ns, nr = 0, cur = 0, self_ns = -1, ret = 2, failed = 0;

	while ((opt = getopt(argc, argv, "n:r:t:c:p:s:")) != -1) {
		switch (opt) {
		case 'n': net = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'c': max = strtoull(optarg, NULL, 10); break;
		case 'p': ports = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': per_ns = (unsigned)strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	nr_ns = argc - optind;
	if (!net || sscanf(net, "%u.%u.%u", &a, &b, &c) != 3 || a > 255 || b > 255 || c > 255 ||
	    secs <= 0 || secs > 600 || ports < 1 || ports > 64000 || per_ns < 1 ||
	    (unsigned long long)(nr_ns ? nr_ns : 1) * per_ns > MAX_SOCKETS)
		goto usage;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	{
		/* a socket per (namespace, source port) may pass the usual
		 * soft limit of 1024 descriptors: raise it towards the hard one */
		struct rlimit rl;
		rlim_t need = (rlim_t)(nr_ns ? nr_ns : 1) * per_ns + 16;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < need) {
			rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);	/* else socket() says why */
		}
	}
	socks = calloc((size_t)(nr_ns ? nr_ns : 1) * per_ns, sizeof(*socks));
	if (!socks) {
		perror("flowgen");
		return 2;
	}
	if (nr_ns) {
		self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self_ns < 0) {
			perror("flowgen: /proc/self/ns/net");
			goto out;
		}
	}
	/* socket j of namespace i at j * nr_ns + i: batches in turn
	 * interleave the namespaces */
	{
		int width = nr_ns ? nr_ns : 1;
		struct gen_socket *tmp = calloc(per_ns, sizeof(*tmp));

		if (!tmp) {
			perror("flowgen");
			goto out;
		}
		for (int i = 0; i < width; i++) {
			if (open_sockets(nr_ns ? argv[optind + i] : NULL, self_ns, tmp, (int)per_ns)) {
				free(tmp);
				goto out;
			}
			for (unsigned j = 0; j < per_ns; j++)
				socks[j * (unsigned)width + (unsigned)i] = tmp[j];
			nr += (int)per_ns;
		}
		free(tmp);
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
	for (int idle = 0; !stop && idle < nr; ) {
		struct gen_socket *s = &socks[cur];
		double t = now();
		int n, r;

		if (t >= end)
			break;
		if (rate > 0 && (double)sent > (t - t0) * rate) {
			struct timespec ts = { 0, 200000 };	/* ahead: wait 0.2 ms */

			nanosleep(&ts, NULL);
			continue;
		}
		cur = (cur + 1) % nr;
		if (s->sent >= max) {
			idle++;		/* every socket at MAX: done */
			continue;
		}
		idle = 0;
		n = (int)(max - s->sent < BATCH ? max - s->sent : BATCH);
		for (int i = 0; i < n; i++) {
			unsigned long long k = s->sent + (unsigned long long)i;

			dst[i].sin_addr.s_addr = htonl((a << 24) | (b << 16) | (c << 8) |
						       (unsigned)((k / ports) % 250 + 1));
			dst[i].sin_port = htons((unsigned short)(1024 + k % ports));
		}
		r = sendmmsg(s->fd, mm, (unsigned)n, 0);
		if (r < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("flowgen: sendmmsg");
			failed = 1;
			break;
		}
		s->sent += (unsigned long long)r;
		sent += (unsigned long long)r;
	}
	t0 = now() - t0;
	printf("flowgen: sent=%llu seconds=%.3f rate=%.0f namespaces=%d sockets=%d\n", sent, t0,
	       (double)sent / t0, nr_ns ? nr_ns : 1, nr);
	ret = failed ? 2 : 0;
out:
	for (int i = 0; i < nr; i++)
		close(socks[i].fd);
	if (self_ns >= 0)
		close(self_ns);
	free(socks);
	return ret;
usage:
	fprintf(stderr, "usage: flowgen -n A.B.C -r RATE -t SECONDS [-c MAX] [-p PORTS] "
		"[-s SOCKETS] [NETNS...]\n");
	return 1;
}
