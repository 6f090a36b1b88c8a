// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Packet capture on a workload's host veth to a pcap file, bounded in
 * time and size; and the agent's non-blocking capture in a child process.
 * See capture.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead.h"
#include "capture.h"

#define PCAP_FILE_HDR	24	/* the file header below */
#define PCAP_PKT_HDR	16	/* the record header below */
#define PCAP_MAGIC_US	0xa1b2c3d4u	/* microsecond time stamps */
#define LINKTYPE_ETHERNET 1
#define POLL_MS		200	/* upper bound on reacting to *stop */
#define VLAN_TAG	4

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec, ts_usec, caplen, len;
};

struct cap_state {
	int fd;			/* AF_PACKET socket bound to the interface */
	FILE *out;
	uint64_t max_bytes;
	uint64_t size;
	uint64_t packets;
	bool full;
	__u8 buf[BH_CAPTURE_SNAPLEN + VLAN_TAG];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* A packet socket on ifname alone: created listening to no protocol and
 * bound with ETH_P_ALL to the interface, so it never queues another
 * interface's packets. Both directions, full packets, each delivered as
 * it arrives; not promiscuous (a veth hands its host side the workload's
 * traffic anyway). */
static int open_socket(const char *ifname, char *msg, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	int fd, one = 1, err;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		snprintf(msg, len, "%s: no such interface", ifname);
		return -ENODEV;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = errno == EACCES ? -EPERM : -errno;
		snprintf(msg, len, "packet socket: %s", strerror(errno));
		return err == -EPERM ? err : -EIO;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		snprintf(msg, len, "%s: the interface is not up", ifname);
		close(fd);
		return -ENETDOWN;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = errno == ENODEV ? -ENODEV : -EIO;
		snprintf(msg, len, "%s: %s", ifname, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* Write one record, or stop before the one that would pass the bound, so
 * the file is never larger than max_bytes. */
static void put_packet(struct cap_state *s, const struct timeval *tv, size_t caplen, size_t len)
{
	struct pcap_rec_hdr h = { .ts_sec = (uint32_t)tv->tv_sec, .ts_usec = (uint32_t)tv->tv_usec,
				  .caplen = (uint32_t)caplen, .len = (uint32_t)len };

	if (s->size + PCAP_PKT_HDR + caplen > s->max_bytes) {
		s->full = true;
		return;
	}
	fwrite(&h, sizeof(h), 1, s->out);
	fwrite(s->buf, 1, caplen, s->out);
	s->size += PCAP_PKT_HDR + caplen;
	s->packets++;
}

/* Everything queued on the socket. 0, or -ENETDOWN when the interface
 * went away, or another negative errno. */
static int drain(struct cap_state *s)
{
	while (!s->full) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct timeval)) +
			       CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct iovec iov = { .iov_base = s->buf, .iov_len = BH_CAPTURE_SNAPLEN };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl) };
		struct timeval tv = { 0 };
		struct tpacket_auxdata *aux = NULL;
		ssize_t n = recvmsg(s->fd, &m, MSG_TRUNC);
		size_t len, cap;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return errno == ENETDOWN || errno == ENXIO || errno == ENODEV ? -ENETDOWN
										   : -errno;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP)
				memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
				aux = (struct tpacket_auxdata *)CMSG_DATA(c);
		}
		if (!tv.tv_sec)
			gettimeofday(&tv, NULL);
		len = (size_t)n;
		cap = len < BH_CAPTURE_SNAPLEN ? len : BH_CAPTURE_SNAPLEN;
		/* the kernel took a VLAN tag off into the metadata: put it back
		 * where it was on the wire, as tcpdump shows it */
		if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID) && cap >= 2 * ETH_ALEN) {
			__u16 tag[2] = { htons((aux->tp_status & TP_STATUS_VLAN_TPID_VALID) &&
						       aux->tp_vlan_tpid
					       ? aux->tp_vlan_tpid
					       : ETH_P_8021Q),
					 htons(aux->tp_vlan_tci) };

			memmove(s->buf + 2 * ETH_ALEN + VLAN_TAG, s->buf + 2 * ETH_ALEN,
				cap - 2 * ETH_ALEN);
			memcpy(s->buf + 2 * ETH_ALEN, tag, VLAN_TAG);
			len += VLAN_TAG;
			cap += VLAN_TAG;
			if (cap > BH_CAPTURE_SNAPLEN)
				cap = BH_CAPTURE_SNAPLEN;
		}
		put_packet(s, &tv, cap, len);
	}
	return 0;
}

int bh_capture_run(const struct bh_capture_opts *o, struct bh_capture_result *res)
{
	struct pcap_file_hdr fh = { .magic = PCAP_MAGIC_US, .version_major = 2, .version_minor = 4,
				    .snaplen = BH_CAPTURE_SNAPLEN,
				    .linktype = LINKTYPE_ETHERNET };
	struct tpacket_stats ps;
	socklen_t pl = sizeof(ps);
	struct cap_state *s;
	int64_t deadline;
	int err = 0;

	memset(res, 0, sizeof(*res));
	if (!o->ifname || !*o->ifname || (o->fd <= 0 && (!o->path || !*o->path)) ||
	    (o->max_bytes && o->max_bytes < BH_CAPTURE_MIN_BYTES) || o->seconds > 86400)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max_bytes = o->max_bytes ? o->max_bytes : BH_CAPTURE_DEFAULT_MAX_BYTES;
	s->fd = open_socket(o->ifname, res->error, sizeof(res->error));
	if (s->fd < 0) {
		err = s->fd;
		free(s);
		return err;
	}

	/* The file is opened only once the capture is live: a bad interface
	 * leaves no empty file behind. */
	s->out = open_output(o);
	if (!s->out) {
		err = -errno;
		snprintf(res->error, sizeof(res->error), "%s: %s", o->fd > 0 ? "output" : o->path,
			 strerror(errno));
		goto out;
	}
	fwrite(&fh, sizeof(fh), 1, s->out);
	s->size = PCAP_FILE_HDR;

	deadline = now_ms() + 1000LL * (o->seconds ? o->seconds : BH_CAPTURE_DEFAULT_SECONDS);
	res->stopped = BH_CAPTURE_STOP_TIME;
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int64_t left = deadline - now_ms(), rc;

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
		rc = drain(s);
		if (s->full) {
			res->stopped = BH_CAPTURE_STOP_SIZE;
			break;
		}
		if (rc == -ENETDOWN || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
			/* The veth was deleted (workload gone): keep what we have. */
			snprintf(res->error, sizeof(res->error), "%s: the interface went away",
				 o->ifname);
			res->stopped = BH_CAPTURE_STOP_IFACE;
			break;
		}
		if (rc < 0) {
			snprintf(res->error, sizeof(res->error), "%s: %s", o->ifname,
				 strerror((int)-rc));
			err = -EIO;
			break;
		}
	}

	if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &ps, &pl) == 0)
		res->kernel_dropped = ps.tp_drops;
	res->packets = s->packets;
	res->file_bytes = s->size;
	if (fflush(s->out) || ferror(s->out)) {
		if (!err)
			err = -EIO;
		snprintf(res->error, sizeof(res->error), "writing the capture failed");
	}
	if (fclose(s->out) && !err) {
		err = -EIO;
		snprintf(res->error, sizeof(res->error), "writing the capture failed");
	}
out:
	close(s->fd);
	free(s);
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
