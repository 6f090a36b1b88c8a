/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Syslog over TLS (RFC 5425) for the syslog writer: GnuTLS on the
 * writer's non-blocking TCP socket. The writer (syslog.c, transport in
 * syslog_transport.c) owns the socket and the queue; this file owns the
 * credentials (loaded once) and one session per connection.
 *
 * Checks, all during the handshake: the collector's certificate chains to
 * the CA (`ca`, else the system's trust store), is valid now, and names
 * server_name (DNS name, or IP address for an IP literal) in its subject
 * alternative names. A client certificate is presented when `cert` and
 * `key` are given. A failed check fails the handshake; the writer then
 * closes the socket, counts it (stats.tls_failures) and retries with
 * backoff like any failed connect. The collector's refusal of our
 * certificate comes after our handshake is done; it is counted and
 * retried the same way (bh_tls_check_peer, bh_tls_send: -EACCES).
 */
#ifndef BULKHEAD_SYSLOG_TLS_H
#define BULKHEAD_SYSLOG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bh_syslog_tls_opts {
	const char *ca_file;		/* PEM; NULL: the system trust store */
	const char *cert_file;		/* PEM client certificate; NULL: none */
	const char *key_file;		/* PEM key of cert_file */
	const char *server_name;	/* NULL: the target's host */
};

struct bh_tls;

/* Load the credentials. -EINVAL (message in err) for a file that cannot
 * be read or parsed, a key without a certificate or the reverse. */
int bh_tls_new(const struct bh_syslog_tls_opts *o, const char *target_host,
	       struct bh_tls **out, char *err, size_t errlen);
void bh_tls_free(struct bh_tls *t);

/* A new session on a connected socket. */
int bh_tls_start(struct bh_tls *t, int fd);
/* Advance the handshake: 1 done, 0 in progress (*want_read: waiting for
 * the peer, else for room to write), negative: failed (reason in
 * bh_tls_error()). */
int bh_tls_handshake(struct bh_tls *t, bool *want_read);
/* Send buf. With a send pending (-EAGAIN earlier), pass the same buffer
 * again. Returns len when sent, -EAGAIN, -EACCES when the collector
 * refused the session after the handshake (see bh_tls_check_peer), or
 * another negative errno. */
ssize_t bh_tls_send(struct bh_tls *t, const void *buf, size_t len);
/* Read and discard what the collector sent (session tickets, alerts):
 * 0 alive, -EPIPE closed or broken, -EACCES refused: a fatal alert, or
 * the session cut without one while the collector had asked for our
 * certificate and sent nothing (a collector judges our certificate after
 * our side of the handshake is done, so its refusal arrives here). */
int bh_tls_check_peer(struct bh_tls *t);
/* End the session (no waiting for the peer) and forget it. */
void bh_tls_end(struct bh_tls *t);
/* Why the last TLS failure (handshake, refusal, send) happened, kept
 * across later attempts ("" if none yet). */
const char *bh_tls_error(const struct bh_tls *t);

#endif /* BULKHEAD_SYSLOG_TLS_H */
