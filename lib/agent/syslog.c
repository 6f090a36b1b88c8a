// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Syslog writer: a bounded queue of formatted records and the pump that
 * moves them to the socket without blocking.
 *
 * Records are stored ready to send (with the RFC 6587 "LEN SP" prefix for
 * TCP), so a partial TCP write only has to remember an offset into the
 * head record. That head record is never dropped while partly written:
 * the framing on the wire must not break mid-record. If the connection
 * dies with a partly written head, that record is dropped and counted;
 * the next connection starts on a record boundary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "strbuf.h"
#include "syslog_int.h"

#define DEF_QUEUE_MAX	65536
#define DEF_QUEUE_BYTES	(16u << 20)
#define DEF_FACILITY	3	/* LOG_DAEMON */
#define BATCH		64	/* records per sendmsg/sendmmsg */

struct bh_rec {
	size_t len;
	char data[];
};

struct bh_syslog {
	struct bh_syslog_fmt fmt;
	struct bh_syslog_tr tr;
	struct bh_rec **ring;
	size_t cap, head, count;
	size_t bytes, max_bytes;	/* sum of queued r->len, its bound */
	size_t head_off;	/* bytes of the head record already written */
	uint64_t sent, dropped;
};

int bh_syslog_open(const struct bh_syslog_opts *opts, struct bh_syslog **out)
{
	struct bh_syslog *s;
	int err;

	if (!opts || !out)
		return -EINVAL;
	*out = NULL;
	if ((opts->format != BH_SYSLOG_RFC5424 && opts->format != BH_SYSLOG_RFC3164) ||
	    opts->facility < 0 || opts->facility > 23)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fmt.format = opts->format;
	s->fmt.facility = opts->facility ? opts->facility : DEF_FACILITY;
	if (opts->hostname)
		bh_str_copy(s->fmt.hostname, sizeof(s->fmt.hostname), opts->hostname);
	else if (gethostname(s->fmt.hostname, sizeof(s->fmt.hostname) - 1) < 0)
		s->fmt.hostname[0] = '\0';	/* formats as NILVALUE */
	bh_str_copy(s->fmt.app_name, sizeof(s->fmt.app_name),
		   opts->app_name ? opts->app_name : "bulkhead");
	s->fmt.pid = getpid();
	s->fmt.now_fn = opts->now_fn;
	s->fmt.now_arg = opts->now_arg;

	err = bh_tr_init(&s->tr, opts->target, opts->reconnect_min_ms, opts->reconnect_max_ms);
	if (!err && s->tr.kind == BH_TR_TLS) {
		static const struct bh_syslog_tls_opts none;
		char msg[256] = "";

		err = bh_tls_new(opts->tls ? opts->tls : &none, s->tr.host, &s->tr.tls, msg,
				 sizeof(msg));
		if (err && opts->err)
			snprintf(opts->err, opts->errlen, "%s", msg);
	} else if (!err && opts->tls) {
		err = -EINVAL;
		if (opts->err)
			snprintf(opts->err, opts->errlen, "TLS settings need a tls:// target");
	}
	if (err) {
		bh_tr_fini(&s->tr);
		free(s);
		return err;
	}
	s->cap = opts->queue_max ? opts->queue_max : DEF_QUEUE_MAX;
	s->max_bytes = opts->queue_max_bytes ? opts->queue_max_bytes : DEF_QUEUE_BYTES;
	s->ring = calloc(s->cap, sizeof(*s->ring));
	if (!s->ring) {
		bh_tr_fini(&s->tr);
		free(s);
		return -ENOMEM;
	}
	/* First attempt now; a collector that is down is not an error. */
	bh_tr_step(&s->tr, bh_tr_now_ns());
	*out = s;
	return 0;
}

void bh_syslog_close(struct bh_syslog *s)
{
	if (!s)
		return;
	bh_tr_fini(&s->tr);
	while (s->count) {
		free(s->ring[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	free(s->ring);
	free(s);
}

int bh_syslog_format(const struct bh_syslog *s, enum bh_syslog_sev sev, const char *msgid,
		     const char *sd_id, const struct bh_sd_param *params, int nr_params,
		     const char *msg, char *buf, size_t len)
{
	if (!s)
		return -EINVAL;
	return bh_syslog_fmt_record(&s->fmt, sev, msgid, sd_id, params, nr_params, msg,
				    buf, len);
}

static void pop_head(struct bh_syslog *s)
{
	s->bytes -= s->ring[s->head]->len;
	free(s->ring[s->head]);
	s->ring[s->head] = NULL;
	s->head = (s->head + 1) % s->cap;
	s->count--;
	s->head_off = 0;
}

static void enqueue(struct bh_syslog *s, struct bh_rec *r)
{
	while (s->count > 0 && (s->count == s->cap || s->bytes + r->len > s->max_bytes)) {
		s->dropped++;
		if (s->head_off == 0) {
			pop_head(s);
		} else if (s->count >= 2) {
			/* Head is on the wire already: drop the one after
			 * it, moving the head pointer into its slot. */
			size_t next = (s->head + 1) % s->cap;

			s->bytes -= s->ring[next]->len;
			free(s->ring[next]);
			s->ring[next] = s->ring[s->head];
			s->ring[s->head] = NULL;
			s->head = next;
			s->count--;
		} else {
			free(r);	/* queue of one, busy: the new one goes */
			return;
		}
	}
	s->ring[(s->head + s->count) % s->cap] = r;
	s->count++;
	s->bytes += r->len;
}

int bh_syslog_send(struct bh_syslog *s, enum bh_syslog_sev sev, const char *msgid,
		   const char *sd_id, const struct bh_sd_param *params, int nr_params,
		   const char *msg)
{
	char buf[BH_SYSLOG_RECORD_MAX + 1], pfx[16] = "";
	struct bh_rec *r;
	size_t plen = 0;
	int n;

	if (!s)
		return -EINVAL;
	n = bh_syslog_fmt_record(&s->fmt, sev, msgid, sd_id, params, nr_params, msg,
				 buf, sizeof(buf));
	if (n < 0)
		return n;
	if (bh_tr_is_stream(&s->tr))
		plen = (size_t)snprintf(pfx, sizeof(pfx), "%d ", n);
	r = malloc(sizeof(*r) + plen + (size_t)n);
	if (!r)
		return -ENOMEM;
	memcpy(r->data, pfx, plen);
	memcpy(r->data + plen, buf, (size_t)n);
	r->len = plen + (size_t)n;
	enqueue(s, r);
	return 0;
}

/* The connection died under a partly written record: it is lost. */
static void drop_partial_head(struct bh_syslog *s)
{
	if (s->head_off > 0 && s->count > 0) {
		pop_head(s);
		s->dropped++;
	}
}

static int write_stream(struct bh_syslog *s, uint64_t now)
{
	int written = 0;

	while (s->count > 0) {
		struct iovec iov[BATCH];
		struct msghdr mh = { .msg_iov = iov };
		size_t i, k = s->count < BATCH ? s->count : BATCH, total = 0;
		ssize_t n;

		for (i = 0; i < k; i++) {
			struct bh_rec *r = s->ring[(s->head + i) % s->cap];
			size_t off = i == 0 ? s->head_off : 0;

			iov[i].iov_base = r->data + off;
			iov[i].iov_len = r->len - off;
			total += r->len - off;
		}
		mh.msg_iovlen = k;
		n = sendmsg(s->tr.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			drop_partial_head(s);
			bh_tr_lost(&s->tr, now);
			break;
		}
		s->tr.delivered = true;
		for (size_t left = (size_t)n; left > 0;) {
			size_t rem = s->ring[s->head]->len - s->head_off;

			if (left >= rem) {
				left -= rem;
				pop_head(s);
				s->sent++;
				written++;
			} else {
				s->head_off += left;
				left = 0;
			}
		}
		if ((size_t)n < total)
			break;	/* socket buffer full: wait for EPOLLOUT */
	}
	return written;
}

static int write_dgram(struct bh_syslog *s, uint64_t now)
{
	int written = 0;

	while (s->count > 0) {
		struct mmsghdr mm[BATCH];
		struct iovec iov[BATCH];
		size_t i, k = s->count < BATCH ? s->count : BATCH;
		int r;

		memset(mm, 0, sizeof(mm[0]) * k);
		for (i = 0; i < k; i++) {
			struct bh_rec *rec = s->ring[(s->head + i) % s->cap];

			iov[i].iov_base = rec->data;
			iov[i].iov_len = rec->len;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(s->tr.fd, mm, (unsigned int)k, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EMSGSIZE) {
				/* This record can never go out on this
				 * transport; everything behind it can. */
				pop_head(s);
				s->dropped++;
				continue;
			}
			/* Nothing of this datagram left: keep it for the
			 * next connection. */
			bh_tr_lost(&s->tr, now);
			break;
		}
		s->tr.delivered = true;
		for (i = 0; i < (size_t)r; i++) {
			pop_head(s);
			s->sent++;
			written++;
		}
	}
	return written;
}

/* One record per TLS record: after EAGAIN GnuTLS wants the very same
 * buffer again, which is the head record (never dropped while in flight:
 * head_off marks it). */
static int write_tls(struct bh_syslog *s, uint64_t now)
{
	int written = 0;

	while (s->count > 0) {
		struct bh_rec *r = s->ring[s->head];
		ssize_t n = bh_tls_send(s->tr.tls, r->data, r->len);

		if (n == -EAGAIN) {
			s->head_off = 1;
			s->tr.tls_send_pending = true;
			break;
		}
		s->tr.tls_send_pending = false;
		if (n < 0) {
			drop_partial_head(s);
			if (n == -EACCES)
				bh_tr_refused(&s->tr, now);
			else
				bh_tr_lost(&s->tr, now);
			break;
		}
		s->tr.delivered = true;
		pop_head(s);
		s->sent++;
		written++;
	}
	return written;
}

int bh_syslog_pump(struct bh_syslog *s)
{
	uint64_t now, conn;

	if (!s)
		return -EINVAL;
	/* Idle, nothing to do, except on a TLS session: the collector
	 * refuses our certificate only after our handshake (syslog_tls.h),
	 * and that must be seen, counted and logged without waiting for the
	 * next record. */
	if (s->count == 0 && s->tr.state != BH_TR_CONNECTING && s->tr.state != BH_TR_HANDSHAKE &&
	    !(s->tr.kind == BH_TR_TLS && s->tr.state == BH_TR_UP))
		return 0;
	now = bh_tr_now_ns();
	conn = s->tr.reconnects;
	bh_tr_step(&s->tr, now);
	/* A TCP hang-up is noticed and a new connection made within one
	 * step: the partly written head must not continue on it. */
	if (s->tr.state != BH_TR_UP || s->tr.reconnects != conn)
		drop_partial_head(s);
	if (s->tr.state != BH_TR_UP)
		return 0;
	if (s->tr.kind == BH_TR_TLS)
		return write_tls(s, now);
	return bh_tr_is_stream(&s->tr) ? write_stream(s, now) : write_dgram(s, now);
}

int bh_syslog_fd(const struct bh_syslog *s)
{
	return s && s->tr.state != BH_TR_DOWN ? s->tr.fd : -1;
}

bool bh_syslog_want_write(const struct bh_syslog *s)
{
	if (!s)
		return false;
	if (s->tr.state == BH_TR_CONNECTING)
		return true;
	if (s->tr.state == BH_TR_HANDSHAKE)
		return !s->tr.tls_want_read;
	return s->tr.state == BH_TR_UP && s->count > 0;
}

bool bh_syslog_want_read(const struct bh_syslog *s)
{
	return s && s->tr.state == BH_TR_HANDSHAKE && s->tr.tls_want_read;
}

const char *bh_syslog_tls_error(const struct bh_syslog *s)
{
	return s ? bh_tls_error(s->tr.tls) : "";
}

static int ms_until(uint64_t at, uint64_t now)
{
	uint64_t ms;

	if (at <= now)
		return 0;
	ms = (at - now + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int bh_syslog_timeout_ms(const struct bh_syslog *s)
{
	if (!s)
		return -1;
	if (s->tr.state == BH_TR_DOWN && s->count > 0)
		return ms_until(s->tr.retry_at_ns, bh_tr_now_ns());
	if (s->tr.state == BH_TR_CONNECTING || s->tr.state == BH_TR_HANDSHAKE)
		return ms_until(s->tr.connect_deadline_ns, bh_tr_now_ns());
	return -1;
}

void bh_syslog_get_stats(const struct bh_syslog *s, struct bh_syslog_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	st->sent = s->sent;
	st->dropped = s->dropped;
	st->queued = s->count;
	st->reconnects = s->tr.reconnects;
	st->connected = s->tr.state == BH_TR_UP;
	st->tls_failures = s->tr.tls_failures;
}
