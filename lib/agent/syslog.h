/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Syslog export: RFC 5424 with structured data (RFC 3164 on request) over
 * a unix datagram socket, UDP, or TCP with octet-counting framing
 * (RFC 6587). Sending never blocks the caller: messages go to a bounded
 * queue; bh_syslog_pump() writes what the socket takes without blocking and
 * reconnects (with backoff) when the collector went away. When the queue is
 * full the oldest message is dropped and counted.
 *
 * Every value is escaped: SD-PARAM values per RFC 5424 §6.3.3 (", \ and ]),
 * and control characters (newline included) in any field are replaced, so a
 * name or label chosen inside a container can neither start a new record
 * nor forge a field.
 */
#ifndef BULKHEAD_SYSLOG_H
#define BULKHEAD_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "syslog_tls.h"

/* The record's header and structured data. CEF and JSON messages (the
 * agent's syslog.format cef|json) travel as the MSG of an RFC 5424 record
 * without structured data: lib/agent/export.c builds them. */
enum bh_syslog_format { BH_SYSLOG_RFC5424 = 0, BH_SYSLOG_RFC3164 = 1 };

/* Severities as in RFC 5424. */
enum bh_syslog_sev {
	BH_SEV_EMERG = 0, BH_SEV_ALERT, BH_SEV_CRIT, BH_SEV_ERR,
	BH_SEV_WARNING, BH_SEV_NOTICE, BH_SEV_INFO, BH_SEV_DEBUG,
};

struct bh_syslog_opts {
	/* unix:PATH | udp://HOST:PORT | tcp://HOST:PORT | tls://HOST:PORT */
	const char *target;
	enum bh_syslog_format format;
	size_t queue_max;		/* messages; 0 = 65536 */
	int facility;			/* 0 = LOG_DAEMON (3) */
	const char *hostname;		/* NULL = gethostname() */
	const char *app_name;		/* NULL = "bulkhead" */
	/* Clock for record timestamps; NULL = clock_gettime(CLOCK_REALTIME).
	 * Tests inject a fixed time here. */
	void (*now_fn)(void *arg, struct timespec *ts);
	void *now_arg;
	unsigned int reconnect_min_ms;	/* first retry delay; 0 = 100 */
	unsigned int reconnect_max_ms;	/* backoff ceiling; 0 = 5000 */
	/* Bytes queued at most (records as framed); 0 = 16 MiB. Past it,
	 * as past queue_max, the oldest record is dropped and counted: the
	 * queue's memory stays bounded whatever the record sizes. */
	size_t queue_max_bytes;
	/* tls:// (RFC 5425): CA, client certificate, server name. NULL:
	 * the system trust store, no client certificate, the target's host.
	 * Given with another scheme: -EINVAL. */
	const struct bh_syslog_tls_opts *tls;
	/* Optional: why bh_syslog_open failed (a TLS file, ...). */
	char *err;
	size_t errlen;
};

/* Limits (docs/syslog.md): a record (without TCP framing) is at most
 * BH_SYSLOG_RECORD_MAX bytes in RFC 5424, BH_SYSLOG_3164_MAX in RFC 3164
 * (MSG is truncated to fit); one SD-PARAM value is cut at
 * BH_SYSLOG_VALUE_MAX input bytes. */
#ifndef BH_SYSLOG_RECORD_MAX
#define BH_SYSLOG_RECORD_MAX	4096
#endif
#define BH_SYSLOG_3164_MAX	1024
#ifndef BH_SYSLOG_VALUE_MAX
#define BH_SYSLOG_VALUE_MAX	512
#endif

struct bh_sd_param {
	const char *name;
	const char *value;
};

struct bh_syslog_stats {
	uint64_t sent;
	uint64_t dropped;		/* queue full, or message lost on a dead socket */
	uint64_t queued;		/* now in the queue */
	uint64_t reconnects;
	bool connected;
	uint64_t tls_failures;		/* TLS handshakes refused or failed */
};

struct bh_syslog;

/* -EINVAL for a malformed target (the caller names the config field). */
int bh_syslog_open(const struct bh_syslog_opts *opts, struct bh_syslog **out);
void bh_syslog_close(struct bh_syslog *s);

/* Format and enqueue one record; never blocks. msgid e.g. "flow",
 * "deviation", "quarantine". sd_id e.g. "flow@32473". */
int bh_syslog_send(struct bh_syslog *s, enum bh_syslog_sev sev, const char *msgid,
		   const char *sd_id, const struct bh_sd_param *params, int nr_params,
		   const char *msg);

/* Write queued records the socket accepts now; reconnect if due. Returns
 * the number of records written or a negative errno. Never blocks. */
int bh_syslog_pump(struct bh_syslog *s);
/* fd to poll for EPOLLOUT while the queue is non-empty, or -1. */
int bh_syslog_fd(const struct bh_syslog *s);
bool bh_syslog_want_write(const struct bh_syslog *s);
/* A TLS handshake waits for the collector: poll the fd for EPOLLIN. */
bool bh_syslog_want_read(const struct bh_syslog *s);
/* Why the last TLS failure happened ("" if none yet, or not TLS). */
const char *bh_syslog_tls_error(const struct bh_syslog *s);
void bh_syslog_get_stats(const struct bh_syslog *s, struct bh_syslog_stats *st);

/* Exposed for unit tests: format one record into buf (no framing).
 * Returns its length (MSG cut to fit buf), -EINVAL for an invalid SD-ID
 * or param name (RFC 5424 SD-NAME), -EMSGSIZE if header + SD do not fit.
 * Formats, escaping and limits: docs/syslog.md. */
int bh_syslog_format(const struct bh_syslog *s, enum bh_syslog_sev sev, const char *msgid,
		     const char *sd_id, const struct bh_sd_param *params, int nr_params,
		     const char *msg, char *buf, size_t len);

/* Milliseconds until bh_syslog_pump() must run again without a socket
 * event (a reconnect is due, or a TCP connect times out); -1 = only on
 * EPOLLOUT of bh_syslog_fd(). The fd changes across reconnects: re-read it
 * after every pump. */
int bh_syslog_timeout_ms(const struct bh_syslog *s);

#endif /* BULKHEAD_SYSLOG_H */
