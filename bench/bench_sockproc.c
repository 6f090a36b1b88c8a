// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the socket-side program (tc/bulkhead_sock.bpf.c) adds to a TCP
 * connect and to an accept: loopback connects to a listener on
 * 127.0.0.1:21700, timed with no program, with bulkhead's programs and
 * with an empty socket operations program (the floor of any program on
 * that hook), each attached where a side of the connection runs:
 *
 *   connect   the cgroup of the connecting process only (a container
 *             connecting to a server that is not under the program)
 *   accept    the cgroup of the accepting process only (a container
 *             accepting a connection from outside)
 *   both      the root of the cgroup v2 hierarchy, where the agent
 *             attaches it: both ends of a loopback connection pay
 *
 * The connecting process and the accepting one (a child) live in two
 * cgroups the bench creates under the root and removes at the end. The
 * listener is opened while bulkhead's program is attached to its cgroup,
 * as a container's server started after the agent: its process is
 * recorded once, and the connecting side once per connect.
 * On loopback the whole handshake, both ends' programs included, runs in
 * the connecting thread, so its CPU time is the figure (waiting for
 * other processes on the shared machine does not inflate it). Each round
 * runs every configuration back to back, in an order that turns with the
 * round; a figure is the median over the rounds of the difference to the
 * round's run without a program. In rounds of their own, the kernel's
 * count of the programs' run time (BPF_ENABLE_STATS) per connection:
 * bulkhead's and the empty program's, whose difference is bulkhead's own
 * work (the statistics' clock reads cancel out). A thread reads the ring
 * meanwhile, as the agent would. Ends with one JSON line. Figures, not
 * assertions.
 *
 *   bench_sockproc [CONNECTS_PER_ROUND] [ROUNDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bulkhead_abi.h"
#include "bulkhead_sock.skel.h"
#include "median.h"
#include "sockproc.h"

#define PORT	21700
#define STATS_ROUNDS	5

/* where a configuration attaches its socket operations program */
enum where { W_CONNECT, W_ACCEPT, W_BOTH, WHERES };
static const char *const where_name[WHERES] = { "connect", "accept", "both" };

/* configurations: none, then (empty, bulkhead) per place */
#define CONFIGS		(1 + 2 * WHERES)
#define CFG(w, bh)	(1 + 2 * (w) + (bh))

static enum where cfg_where(int c)
{
	return (enum where)((c - 1) / 2);
}

/* 1 for bulkhead's programs, 0 for the empty one (c > 0) */
static int cfg_bulkhead(int c)
{
	return (c - 1) % 2;
}

static volatile int stop_reader;
static struct ring_buffer *rb;
static int cg_fd[WHERES] = { -1, -1, -1 };	/* cgroup directories */
static char cg_name[2][64];			/* the two the bench creates */

static double clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per connect+close, or -1; *cpu: of it, the CPU time of this thread */
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

/* Moves the calling process into the cgroup dir_fd is open on. */
static int cg_enter(int dir_fd)
{
	int fd = openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

/* The cgroup this process started in, opened, to go back to at the end. */
static int cg_self(int root_fd)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int fd = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = 0;
			fd = line[4] ? openat(root_fd, line + 4, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				     : dup(root_fd);
			if (fd < 0)
				fd = -errno;
			break;
		}
	fclose(f);
	return fd;
}

/* A cgroup of the bench's own under the root, opened; its name is kept
 * (for the removal at the end) only once it is made. */
static int cg_make(int root_fd, int i, const char *what)
{
	char name[sizeof(cg_name[i])];
	int fd;

	snprintf(name, sizeof(name), "bh-sockproc-bench-%d-%s", (int)getpid(), what);
	if (mkdirat(root_fd, name, 0755))
		return -errno;
	memcpy(cg_name[i], name, sizeof(name));
	fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The floor of any socket operations program: one that returns at once
 * (r0 = 1), loaded from two instructions. */
static int load_empty_sockops(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCK_OPS, "bh_sockops_empty", "GPL", insns, 2, NULL);
}

struct attached {
	struct bpf_link *ops;	/* bulkhead's socket operations program */
	int empty_link;		/* the empty program's link */
};

/* A configuration's programs: bulkhead's tracepoints and its socket
 * operations program (not attached by the skeleton), or the empty
 * program, on the configuration's cgroup. */
static int attach_cfg(int c, struct bulkhead_sock *skel, int empty_fd, struct attached *at)
{
	int err;

	at->ops = NULL;
	at->empty_link = -1;
	if (!c)
		return 0;
	if (!cfg_bulkhead(c)) {
		at->empty_link = bpf_link_create(empty_fd, cg_fd[cfg_where(c)], BPF_CGROUP_SOCK_OPS,
						 NULL);
		return at->empty_link < 0 ? -errno : 0;
	}
	err = bulkhead_sock__attach(skel);
	if (err)
		return err;
	at->ops = bpf_program__attach_cgroup(skel->progs.bh_sock_ops, cg_fd[cfg_where(c)]);
	return at->ops ? 0 : -errno;
}

static void detach_cfg(int c, struct bulkhead_sock *skel, struct attached *at)
{
	if (at->empty_link >= 0)
		close(at->empty_link);
	if (c && cfg_bulkhead(c)) {
		bpf_link__destroy(at->ops);
		bulkhead_sock__detach(skel);
	}
}

/* Run time and runs of one program, as the kernel counts them while
 * run-time statistics are enabled. */
static void fd_stats(int fd, double *ns, double *cnt)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

static void cfg_stats(int c, struct bulkhead_sock *skel, int empty_fd, double *ns, double *cnt)
{
	struct bpf_program *prog;

	*ns = *cnt = 0;
	if (!cfg_bulkhead(c)) {
		fd_stats(empty_fd, ns, cnt);
		return;
	}
	bpf_object__for_each_program(prog, skel->obj)
		fd_stats(bpf_program__fd(prog), ns, cnt);
}

/* Where bulkhead's time goes: each program's mean run time, and its runs
 * per connection averaged over the three places' statistics rounds. */
static void prog_detail(struct bulkhead_sock *skel, int connects)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		printf("  %s: %.2f runs per connection (the three places' mean), %.0f ns per run\n",
		       bpf_program__name(prog), (double)info.run_cnt / connects,
		       (double)info.run_time_ns / info.run_cnt);
	}
}

/* The accepting process: waits for go, enters its cgroup, listens, says
 * so on ready, and accepts and closes until it is killed. */
static void acceptor(int go, int ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, lfd;
	char ok = 1;

	if (read(go, &ok, 1) != 1 || cg_enter(cg_fd[W_ACCEPT]))
		_exit(3);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096))
		_exit(4);
	if (write(ready, &ok, 1) != 1)
		_exit(5);
	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

/* Starts the acceptor and has it listen while bulkhead's program is on
 * its cgroup, so that its listen() is seen. The child is forked before
 * the program is attached: a link's fd inherited by it would keep the
 * program attached after the bench detaches it. Returns its pid, or -1. */
static pid_t start_acceptor(struct bulkhead_sock *skel, int empty_fd)
{
	struct attached at = { NULL, -1 };
	int go[2], ready[2], err;
	pid_t pid;
	char ok = 1;

	if (pipe(go))
		return -1;
	if (pipe(ready)) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid = fork();
	if (!pid) {
		close(go[1]);
		close(ready[0]);
		acceptor(go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	err = pid < 0 ? -errno : attach_cfg(CFG(W_ACCEPT, 1), skel, empty_fd, &at);
	if (!err && (write(go[1], &ok, 1) != 1 || read(ready[0], &ok, 1) != 1))
		err = -EPIPE;
	if (err && pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (err) {
		fprintf(stderr, "bench_sockproc: the acceptor did not listen on 127.0.0.1:%d: %s\n",
			PORT, strerror(-err));
		pid = -1;
	}
	close(go[1]);
	close(ready[0]);
	detach_cfg(CFG(W_ACCEPT, 1), skel, &at);
	return pid;
}

static double quartile(double *v, int n, int q)
{
	return v[q * (n - 1) / 4];	/* v sorted */
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		perror("bench_sockproc");
		exit(2);
	}
	return p;
}

struct figures {
	double *cpu[CONFIGS], *wall[CONFIGS], *dcpu[CONFIGS];
	/* kernel statistics per place: [where][empty, bulkhead][round] */
	double prog_ns[WHERES][2][STATS_ROUNDS], runs[WHERES][2][STATS_ROUNDS];
};

/* The timed rounds: every configuration once per round. */
static int timed_rounds(struct figures *f, int n, int rounds, struct bulkhead_sock *skel,
			int empty_fd)
{
	struct attached at;
	double cpu;

	round_ns(n, &cpu);	/* warm up */
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < CONFIGS; k++) {
			int c = (r + k) % CONFIGS, err = attach_cfg(c, skel, empty_fd, &at);

			if (err) {
				fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
				return -1;
			}
			f->wall[c][r] = round_ns(n, &f->cpu[c][r]);
			detach_cfg(c, skel, &at);
			if (f->wall[c][r] < 0) {
				fprintf(stderr, "bench_sockproc: connect: %s\n", strerror(errno));
				return -1;
			}
		}
		for (int c = 0; c < CONFIGS; c++)
			f->dcpu[c][r] = f->cpu[c][r] - f->cpu[0][r];
	}
	return 0;
}

/* The programs' own run time at each place, in rounds of their own:
 * counting it reads the clock twice per run, which the timed rounds must
 * not pay. The statistics stay on while stats_fd is open. */
static int stats_rounds(struct figures *f, int n, struct bulkhead_sock *skel, int empty_fd)
{
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (stats_fd < 0) {
		fprintf(stderr, "bench_sockproc: enable run-time statistics: %s\n", strerror(errno));
		return -1;
	}
	for (int r = 0; r < STATS_ROUNDS; r++)
		for (int w = 0; w < WHERES; w++)
			for (int bh = 0; bh < 2; bh++) {
				int c = CFG(w, bh), err;
				double ns0, cnt0, ns1, cnt1, cpu;
				struct attached at;

				err = attach_cfg(c, skel, empty_fd, &at);
				if (err) {
					fprintf(stderr, "bench_sockproc: attach: %s\n", strerror(-err));
					close(stats_fd);
					return -1;
				}
				cfg_stats(c, skel, empty_fd, &ns0, &cnt0);
				round_ns(n, &cpu);
				cfg_stats(c, skel, empty_fd, &ns1, &cnt1);
				detach_cfg(c, skel, &at);
				f->prog_ns[w][bh][r] = (ns1 - ns0) / n;
				f->runs[w][bh][r] = (cnt1 - cnt0) / n;
			}
	close(stats_fd);
	return 0;
}

static void report(struct figures *f, int n, int rounds, int recorded, unsigned long long lost)
{
	double work[WHERES];

	for (int c = 0; c < CONFIGS; c++) {
		bh_median(f->wall[c], rounds);
		bh_median(f->cpu[c], rounds);
		bh_median(f->dcpu[c], rounds);
	}
	printf("%d rounds of %d loopback connections per configuration\n", rounds, n);
	printf("no program: %.0f ns per connection (CPU time of the connecting thread; wall %.0f)\n",
	       f->cpu[0][rounds / 2], f->wall[0][rounds / 2]);
	printf("per connection, by where the program is attached:\n");
	for (int w = 0; w < WHERES; w++) {
		double *e = f->dcpu[CFG(w, 0)], *b = f->dcpu[CFG(w, 1)];
		double pe = bh_median(f->prog_ns[w][0], STATS_ROUNDS);
		double pb = bh_median(f->prog_ns[w][1], STATS_ROUNDS);

		work[w] = pb - pe;
		printf("  %s: added CPU time, median (quartiles): empty program %.0f ns (%.0f..%.0f), "
		       "bulkhead %.0f ns (%.0f..%.0f)\n"
		       "    programs' own run time (kernel statistics, %d rounds): empty %.0f ns in "
		       "%.1f runs, bulkhead %.0f ns in %.1f runs: bulkhead's work %.0f ns\n",
		       where_name[w], e[rounds / 2], quartile(e, rounds, 1), quartile(e, rounds, 3),
		       b[rounds / 2], quartile(b, rounds, 1), quartile(b, rounds, 3), STATS_ROUNDS,
		       pe, bh_median(f->runs[w][0], STATS_ROUNDS), pb,
		       bh_median(f->runs[w][1], STATS_ROUNDS), work[w]);
	}
	printf("%d records read, %llu dropped (ring full)\n", recorded, lost);
	printf("{\"sockproc_connect_ns_off\": %.0f, "
	       "\"sockproc_cpu_added_ns\": %.0f, \"sockproc_empty_cpu_added_ns\": %.0f, "
	       "\"sockproc_work_ns\": %.0f, "
	       "\"sockproc_accept_cpu_added_ns\": %.0f, \"sockproc_accept_empty_cpu_added_ns\": %.0f, "
	       "\"sockproc_accept_work_ns\": %.0f, "
	       "\"sockproc_both_cpu_added_ns\": %.0f, \"sockproc_both_empty_cpu_added_ns\": %.0f, "
	       "\"sockproc_both_work_ns\": %.0f}\n",
	       f->cpu[0][rounds / 2],
	       f->dcpu[CFG(W_CONNECT, 1)][rounds / 2], f->dcpu[CFG(W_CONNECT, 0)][rounds / 2],
	       work[W_CONNECT],
	       f->dcpu[CFG(W_ACCEPT, 1)][rounds / 2], f->dcpu[CFG(W_ACCEPT, 0)][rounds / 2],
	       work[W_ACCEPT],
	       f->dcpu[CFG(W_BOTH, 1)][rounds / 2], f->dcpu[CFG(W_BOTH, 0)][rounds / 2],
	       work[W_BOTH]);
}

static struct bulkhead_sock *load_skel(void)
{
	struct bulkhead_sock *skel = bulkhead_sock__open();
	int err;

	if (!skel) {
		fprintf(stderr, "bench_sockproc: open: %s\n", strerror(errno));
		return NULL;
	}
	/* the bench's own map: never the pinned one of an instance */
	bpf_map__set_pin_path(skel->maps.bh_sockproc_v1, NULL);
	err = bh_sockproc_select(skel->obj);
	if (!err)
		err = bulkhead_sock__load(skel);
	if (err) {
		fprintf(stderr, "bench_sockproc: load: %s\n", strerror(-err));
		bulkhead_sock__destroy(skel);
		return NULL;
	}
	return skel;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300, rounds = argc > 2 ? atoi(argv[2]) : 201;
	int recorded = 0, empty_fd = -1, home = -1, rc = 2;
	struct bulkhead_sock *skel = NULL;
	struct figures f;
	pthread_t rth;
	pid_t acc = -1;
	int reading = 0;

	if (n < 100 || rounds < 3 || rounds > 1000) {
		fprintf(stderr, "usage: bench_sockproc [CONNECTS>=100] [ROUNDS 3..1000]\n");
		return 1;
	}
	for (int c = 0; c < CONFIGS; c++) {
		f.cpu[c] = xcalloc(rounds, sizeof(double));
		f.wall[c] = xcalloc(rounds, sizeof(double));
		f.dcpu[c] = xcalloc(rounds, sizeof(double));
	}
	cg_fd[W_BOTH] = bh_cgroup2_root_fd();
	if (cg_fd[W_BOTH] < 0) {
		fprintf(stderr, "bench_sockproc: cgroup v2 root: %s\n", strerror(-cg_fd[W_BOTH]));
		return 2;
	}
	home = cg_self(cg_fd[W_BOTH]);
	cg_fd[W_CONNECT] = cg_make(cg_fd[W_BOTH], 0, "connect");
	cg_fd[W_ACCEPT] = cg_make(cg_fd[W_BOTH], 1, "accept");
	if (home < 0 || cg_fd[W_CONNECT] < 0 || cg_fd[W_ACCEPT] < 0) {
		fprintf(stderr, "bench_sockproc: cgroups under the cgroup v2 root: %s\n",
			strerror(-(home < 0 ? home : cg_fd[W_CONNECT] < 0 ? cg_fd[W_CONNECT]
								      : cg_fd[W_ACCEPT])));
		goto out;
	}
	empty_fd = load_empty_sockops();
	if (empty_fd < 0) {
		fprintf(stderr, "bench_sockproc: load the empty program: %s\n", strerror(errno));
		goto out;
	}
	skel = load_skel();
	if (!skel)
		goto out;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.bh_sockproc_v1), count_rec, &recorded, NULL);
	if (!rb) {
		fprintf(stderr, "bench_sockproc: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	reading = !pthread_create(&rth, NULL, reader, NULL);
	acc = start_acceptor(skel, empty_fd);
	if (acc < 0)
		goto out;
	if (cg_enter(cg_fd[W_CONNECT])) {
		fprintf(stderr, "bench_sockproc: enter %s: %s\n", cg_name[0], strerror(errno));
		goto out;
	}
	if (!timed_rounds(&f, n, rounds, skel, empty_fd) && !stats_rounds(&f, n, skel, empty_fd))
		rc = 0;
out:
	if (acc > 0) {
		kill(acc, SIGKILL);
		waitpid(acc, NULL, 0);
	}
	if (reading) {
		stop_reader = 1;
		pthread_join(rth, NULL);
	}
	if (home >= 0 && cg_enter(home))
		fprintf(stderr, "bench_sockproc: back to the starting cgroup: %s\n", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (cg_name[i][0] && unlinkat(cg_fd[W_BOTH], cg_name[i], AT_REMOVEDIR))
			fprintf(stderr, "bench_sockproc: remove cgroup %s: %s\n", cg_name[i],
				strerror(errno));
	if (!rc) {
		prog_detail(skel, n * STATS_ROUNDS * WHERES);
		report(&f, n, rounds, recorded, skel->bss->bh_sockproc_lost);
	}
	ring_buffer__free(rb);
	bulkhead_sock__destroy(skel);
	for (int w = 0; w < WHERES; w++)
		if (cg_fd[w] >= 0)
			close(cg_fd[w]);
	if (home >= 0)
		close(home);
	if (empty_fd >= 0)
		close(empty_fd);
	return rc;
}
