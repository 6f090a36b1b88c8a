// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Packet capture on a workload's host veth to a pcap file, bounded in
 * time and size; and the agent's non-blocking capture in a child process.
 * See capture.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead.h"
#include "capture.h"

#define PCAP_FILE_HDR	24	/* struct pcap_file_header */
#define PCAP_PKT_HDR	16	/* struct pcap_sf_pkthdr */
#define POLL_MS		200	/* upper bound on reacting to *stop */

struct cap_state {
	pcap_t *p;
	pcap_dumper_t *d;
	uint64_t max_bytes;
	uint64_t size;
	uint64_t packets;
	bool full;
};

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_state *s = (struct cap_state *)arg;

	if (s->full)
		return;
	/* Stop before the packet that would pass the bound, so the file is
	 * never larger than max_bytes. */
	if (s->size + PCAP_PKT_HDR + h->caplen > s->max_bytes) {
		s->full = true;
		pcap_breakloop(s->p);
		return;
	}
	pcap_dump((u_char *)s->d, h, bytes);
	s->size += PCAP_PKT_HDR + h->caplen;
	s->packets++;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int activate_err(int rc)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
		return -EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENETDOWN;
	default:
		return -EIO;
	}
}

static FILE *open_output(const struct bh_capture_opts *o)
{
	FILE *f;
	int fd;

	if (o->fd > 0)
		fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "wb");
	if (!f)
		close(fd);
	return f;
}

int bh_capture_run(const struct bh_capture_opts *o, struct bh_capture_result *res)
{
	struct cap_state s = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int64_t deadline;
	struct pcap_stat ps;
	int err = 0, rc, pfd;
	FILE *f;

	memset(res, 0, sizeof(*res));
	if (!o->ifname || !*o->ifname || (o->fd <= 0 && (!o->path || !*o->path)) ||
	    (o->max_bytes && o->max_bytes < BH_CAPTURE_MIN_BYTES) || o->seconds > 86400)
		return -EINVAL;
	s.max_bytes = o->max_bytes ? o->max_bytes : BH_CAPTURE_DEFAULT_MAX_BYTES;

	s.p = pcap_create(o->ifname, errbuf);
	if (!s.p) {
		snprintf(res->error, sizeof(res->error), "%s", errbuf);
		return -EIO;
	}
	pcap_set_snaplen(s.p, BH_CAPTURE_SNAPLEN);
	pcap_set_promisc(s.p, 0);
	pcap_set_immediate_mode(s.p, 1);
	rc = pcap_activate(s.p);
	if (rc < 0) {
		snprintf(res->error, sizeof(res->error), "%s", pcap_geterr(s.p));
		err = activate_err(rc);
		goto out_pcap;
	}
	if (pcap_setnonblock(s.p, 1, errbuf) < 0 || (pfd = pcap_get_selectable_fd(s.p)) < 0) {
		snprintf(res->error, sizeof(res->error), "%s", errbuf[0] ? errbuf : "no fd");
		err = -EIO;
		goto out_pcap;
	}

	/* The file is opened only once the capture is live: a bad interface
	 * leaves no empty file behind. */
	f = open_output(o);
	if (!f) {
		err = -errno;
		snprintf(res->error, sizeof(res->error), "%s: %s", o->fd > 0 ? "output" : o->path,
			 strerror(errno));
		goto out_pcap;
	}
	s.d = pcap_dump_fopen(s.p, f);	/* owns f from here */
	if (!s.d) {
		snprintf(res->error, sizeof(res->error), "%s", pcap_geterr(s.p));
		fclose(f);
		err = -EIO;
		goto out_pcap;
	}
	s.size = PCAP_FILE_HDR;

	deadline = now_ms() + 1000LL * (o->seconds ? o->seconds : BH_CAPTURE_DEFAULT_SECONDS);
	res->stopped = BH_CAPTURE_STOP_TIME;
	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int64_t left = deadline - now_ms();

		if (o->stop && *o->stop) {
			res->stopped = BH_CAPTURE_STOP_SIGNAL;
			break;
		}
		if (left <= 0)
			break;
		if (poll(&p, 1, left < POLL_MS ? (int)left : POLL_MS) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		rc = pcap_dispatch(s.p, -1, on_packet, (u_char *)&s);
		if (s.full) {
			res->stopped = BH_CAPTURE_STOP_SIZE;
			break;
		}
		if (rc == PCAP_ERROR) {
			/* The veth was deleted (workload gone): keep what we have. */
			snprintf(res->error, sizeof(res->error), "%s", pcap_geterr(s.p));
			res->stopped = BH_CAPTURE_STOP_IFACE;
			break;
		}
	}

	if (pcap_stats(s.p, &ps) == 0)
		res->kernel_dropped = ps.ps_drop;
	res->packets = s.packets;
	res->file_bytes = s.size;
	if (pcap_dump_flush(s.d) < 0 || ferror(pcap_dump_file(s.d))) {
		if (!err)
			err = -EIO;
		snprintf(res->error, sizeof(res->error), "writing the capture failed");
	}
	pcap_dump_close(s.d);
out_pcap:
	pcap_close(s.p);
	return err;
}

int bh_capture_workload_ifname(struct bh_ctx *ctx, const char *ns, const char *name,
			       char *ifname, size_t len)
{
	struct bh_workload_info *w = malloc(sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	err = bh_workload_get(ctx, ns, name, w);
	if (!err && (!w->ifname[0] || strlen(w->ifname) >= len))
		err = -ENODEV;
	if (!err)
		snprintf(ifname, len, "%s", w->ifname);
	free(w);
	return err;
}

/* Copy at most max bytes of s, each outside [A-Za-z0-9._-] as '_'. */
static size_t sanitise(char *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		out[i] = ok ? c : '_';
	}
	return i;
}

int bh_capture_file_name(const char *ns, const char *name, time_t when, char *buf, size_t len)
{
	/* Each part cut to 100 bytes keeps the name under NAME_MAX. */
	char n[2 * 100 + 2], ts[32];
	struct tm tm;
	size_t o;

	o = sanitise(n, ns, 100);
	n[o++] = '_';
	o += sanitise(n + o, name, 100);
	n[o] = '\0';
	if (n[0] == '.')
		n[0] = '_';
	if (!gmtime_r(&when, &tm) || !strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s-%s.pcap", n, ts) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The child's stop flag: set from its SIGTERM/SIGINT handler, which is
 * the one place a flag outside a context struct cannot be avoided. */
static volatile sig_atomic_t child_stop;

static void child_on_signal(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void __attribute__((noreturn))
child_capture(const char *ifname, int fd, unsigned int seconds, uint64_t max_bytes)
{
	struct sigaction sa = { .sa_handler = child_on_signal };
	struct bh_capture_result res;
	struct bh_capture_opts o = {
		.ifname = ifname, .fd = 3, .seconds = seconds, .max_bytes = max_bytes,
		.stop = &child_stop,
	};
	sigset_t none;
	int err;

	/* The agent may block signals for a signalfd: unblock, so SIGTERM ends
	 * the capture cleanly; and drop every fd but the file, so the child
	 * holds none of the agent's sockets or its database. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_NAME, "bh-capture", 0, 0, 0);
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(2);
	close_range(4, ~0U, 0);
	err = bh_capture_run(&o, &res);
	_exit(err ? 1 : 0);
}

int bh_capture_spawn(struct bh_ctx *ctx, const char *ns, const char *name,
		     const struct bh_capture_spawn_opts *opts, pid_t *pid,
		     char *path, size_t pathlen)
{
	char ifname[16], dir[PATH_MAX], file[300];
	unsigned int seconds = opts && opts->seconds ? opts->seconds : BH_CAPTURE_DEFAULT_SECONDS;
	uint64_t max_bytes = opts && opts->max_bytes ? opts->max_bytes
						     : BH_CAPTURE_DEFAULT_MAX_BYTES;
	int err, fd = -1, i;
	pid_t child;

	if (max_bytes < BH_CAPTURE_MIN_BYTES)
		return -EINVAL;
	err = bh_capture_workload_ifname(ctx, ns, name, ifname, sizeof(ifname));
	if (err)
		return err;
	if (opts && opts->dir) {
		snprintf(dir, sizeof(dir), "%s", opts->dir);
	} else {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/captures", bh_ctx_state_dir(ctx)) >=
		    sizeof(dir))
			return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	err = bh_capture_file_name(ns, name, time(NULL), file, sizeof(file));
	if (err)
		return err;
	file[strlen(file) - 5] = '\0';	/* without ".pcap" */
	/* Two captures of one workload in the same second get -1, -2... */
	for (i = 0; i < 100; i++) {
		size_t n = i ? (size_t)snprintf(path, pathlen, "%s/%s-%d.pcap", dir, file, i)
			     : (size_t)snprintf(path, pathlen, "%s/%s.pcap", dir, file);

		if (n >= pathlen)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;

	child = fork();
	if (child < 0) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	if (child == 0)
		child_capture(ifname, fd, seconds, max_bytes);
	close(fd);
	*pid = child;
	/* The timeline names the file; a failed event write does not undo a
	 * capture that is running. */
	if (!opts || !opts->no_event)
		bh_event_add(ctx, ns, name, "capture", "notice",
			     "packet capture started on %s: %s (up to %u s, %llu bytes),"
			     " pid %d", ifname, path, seconds, (unsigned long long)max_bytes,
			     (int)child);
	return 0;
}
