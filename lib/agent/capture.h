/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet capture on a workload's host-side veth, to a pcap file, through
 * an AF_PACKET socket (no libpcap: it would bring D-Bus and libsystemd
 * into the image). Bounded in time and size: it stops after `seconds`, before the
 * file would exceed `max_bytes` (the file never grows past it), or when
 * *stop becomes non-zero (the caller's SIGINT/SIGTERM handler sets it);
 * then it flushes and closes the file.
 *
 * Both directions of the workload's traffic are captured, full packets
 * (snaplen 65535), in immediate mode, not promiscuous (a veth delivers
 * the workload's traffic to its host side anyway).
 *
 * bh_capture_spawn is the agent's automatic capture on quarantine: it forks
 * a child that captures while the agent carries on; the agent reaps it
 * (waitpid on SIGCHLD or its tick). The file is created by the parent
 * (exclusive, 0600, no symlink followed) so the path is known and recorded
 * in the workload's timeline ("capture" event) before the child starts.
 */
#ifndef BULKHEAD_CAPTURE_H
#define BULKHEAD_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bh_ctx;

#define BH_CAPTURE_DEFAULT_SECONDS	30
#define BH_CAPTURE_DEFAULT_MAX_BYTES	(10u << 20)
#define BH_CAPTURE_MIN_BYTES		128	/* pcap header + a packet header */
#define BH_CAPTURE_SNAPLEN		65535

enum bh_capture_stop {
	BH_CAPTURE_STOP_TIME = 0,	/* seconds elapsed */
	BH_CAPTURE_STOP_SIZE,		/* next packet would pass max_bytes */
	BH_CAPTURE_STOP_SIGNAL,		/* *stop was set */
	BH_CAPTURE_STOP_IFACE,		/* the interface went away */
};

struct bh_capture_opts {
	const char *ifname;		/* host-side veth */
	const char *path;		/* output file (created or truncated) */
	int fd;				/* > 0: write to this open file instead of path */
	unsigned int seconds;		/* 0: default */
	uint64_t max_bytes;		/* 0: default; else >= BH_CAPTURE_MIN_BYTES */
	const volatile sig_atomic_t *stop;	/* may be NULL */
};

struct bh_capture_result {
	uint64_t packets;		/* written to the file */
	uint64_t file_bytes;		/* size of the file */
	uint64_t kernel_dropped;	/* the socket's PACKET_STATISTICS drops */
	enum bh_capture_stop stopped;
	char error[256];		/* what failed, when it fails */
};

/* Capture on opts->ifname. Errors: -EINVAL (bad options), -ENODEV (no such
 * interface), -EPERM (not root), -EIO (socket or write failure, see
 * res->error). On an error after the file was created, the file holds what
 * was captured so far. */
int bh_capture_run(const struct bh_capture_opts *opts, struct bh_capture_result *res);

/* The workload's veth, by NS/NAME (bh_workload_get). ifname >= 16 bytes. */
int bh_capture_workload_ifname(struct bh_ctx *ctx, const char *ns, const char *name,
			       char *ifname, size_t len);

/* "NS_NAME-YYYYMMDDTHHMMSSZ.pcap" with every byte outside [A-Za-z0-9._-]
 * replaced by '_' (no '/', no leading '.'). */
int bh_capture_file_name(const char *ns, const char *name, time_t when, char *buf, size_t len);

struct bh_capture_spawn_opts {
	const char *dir;		/* NULL: $STATE_DIR/captures (created 0700) */
	unsigned int seconds;		/* 0: default */
	uint64_t max_bytes;		/* 0: default */
	bool no_event;			/* the caller records the "capture" event itself */
};

/* Start a capture of NS/NAME in a child process and return at once with
 * its pid (reap it with waitpid) and the file path. SIGTERM to the child
 * ends the capture cleanly. The child keeps no fd of the caller's but the
 * file, and allocates memory: call it from a single-threaded process. */
int bh_capture_spawn(struct bh_ctx *ctx, const char *ns, const char *name,
		     const struct bh_capture_spawn_opts *opts, pid_t *pid,
		     char *path, size_t pathlen);

#endif /* BULKHEAD_CAPTURE_H */
