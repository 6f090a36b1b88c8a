/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internals of the syslog writer, shared by syslog.c (queue, pump),
 * syslog_format.c (records, escaping) and syslog_transport.c (sockets,
 * reconnect). Not part of the libbulkhead API.
 */
#ifndef BULKHEAD_SYSLOG_INT_H
#define BULKHEAD_SYSLOG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "syslog.h"
#include "syslog_tls.h"

/* ------------------------------------------------------------ format */
struct bh_syslog_fmt {
	enum bh_syslog_format format;
	int facility;
	char hostname[256];
	char app_name[64];
	pid_t pid;
	void (*now_fn)(void *arg, struct timespec *ts);
	void *now_arg;
};

/* Render one record into buf (NUL-terminated, no framing). Returns its
 * length, -EINVAL for a bad SD-ID/param name or arguments, -EMSGSIZE when
 * the header and structured data alone do not fit. */
int bh_syslog_fmt_record(const struct bh_syslog_fmt *f, enum bh_syslog_sev sev,
			 const char *msgid, const char *sd_id,
			 const struct bh_sd_param *params, int nr_params,
			 const char *msg, char *buf, size_t len);
/* RFC 5424 SD-NAME: 1..32 PRINTUSASCII except '=', ' ', ']', '"'. */
bool bh_syslog_sd_name_valid(const char *name);

/* --------------------------------------------------------- transport */
enum bh_tr_kind { BH_TR_UNIX, BH_TR_UDP, BH_TR_TCP, BH_TR_TLS };
/* TLS: DOWN -> CONNECTING (TCP) -> HANDSHAKE -> UP */
enum bh_tr_state { BH_TR_DOWN, BH_TR_CONNECTING, BH_TR_UP, BH_TR_HANDSHAKE };

#define BH_TR_MAX_ADDRS 8

struct bh_syslog_tr {
	enum bh_tr_kind kind;
	struct sockaddr_storage addrs[BH_TR_MAX_ADDRS];
	socklen_t addrlens[BH_TR_MAX_ADDRS];
	int nr_addrs;
	int next_addr;			/* rotated on each failed attempt */
	int fd;
	enum bh_tr_state state;
	uint64_t retry_at_ns;		/* CLOCK_MONOTONIC; DOWN: next attempt */
	uint64_t connect_deadline_ns;	/* CONNECTING: give up after this */
	unsigned int backoff_ms, min_ms, max_ms;
	bool ever_up;
	bool delivered;			/* this connection wrote something */
	uint64_t reconnects;
	/* tls:// only (syslog_tls.h) */
	struct bh_tls *tls;
	char host[256];			/* the target's host: default server name */
	bool tls_want_read;		/* HANDSHAKE: waiting for the collector */
	bool tls_send_pending;		/* a record send returned EAGAIN */
	uint64_t tls_failures;		/* handshakes refused or failed */
};

uint64_t bh_tr_now_ns(void);
/* Parse target into t (no socket yet): -EINVAL malformed, -ENXIO for a
 * name that does not resolve, -ENOMEM. */
int bh_tr_init(struct bh_syslog_tr *t, const char *target,
	       unsigned int min_ms, unsigned int max_ms);
void bh_tr_fini(struct bh_syslog_tr *t);
/* Advance the connection state machine without blocking: start a connect
 * when due, finish one in progress, notice a TCP peer that hung up. */
void bh_tr_step(struct bh_syslog_tr *t, uint64_t now);
/* The connection broke: close it and schedule the next attempt. */
void bh_tr_lost(struct bh_syslog_tr *t, uint64_t now);
/* The collector refused our TLS session after the handshake: a TLS
 * failure, retried after the backoff like a refused handshake. */
void bh_tr_refused(struct bh_syslog_tr *t, uint64_t now);
static inline bool bh_tr_is_stream(const struct bh_syslog_tr *t)
{
	return t->kind == BH_TR_TCP || t->kind == BH_TR_TLS;
}

#endif /* BULKHEAD_SYSLOG_INT_H */
