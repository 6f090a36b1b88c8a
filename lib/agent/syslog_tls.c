// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Syslog over TLS with GnuTLS; see syslog_tls.h. GnuTLS (Debian's
 * libgnutls30) does the protocol, the chain and the name check; this file
 * only drives it without blocking. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "syslog_tls.h"

struct bh_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_session_t session;	/* NULL between connections */
	char name[256];			/* expected in the server's certificate */
	bool sni;			/* name is a DNS name (not an IP literal) */
	bool peer_sent;			/* the collector sent data in this session */
	char error[640];
};

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int bh_tls_new(const struct bh_syslog_tls_opts *o, const char *target_host,
	       struct bh_tls **out, char *err, size_t errlen)
{
	struct bh_tls *t;
	int r;

	*out = NULL;
	if (!!o->cert_file != !!o->key_file) {
		snprintf(err, errlen, "a client certificate needs both cert and key");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", o->server_name ? o->server_name : target_host);
	t->sni = !is_ip_literal(t->name);
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		free(t);
		return -ENOMEM;
	}
	if (o->ca_file) {
		r = gnutls_certificate_set_x509_trust_file(t->cred, o->ca_file, GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			snprintf(err, errlen, "ca %s: %s", o->ca_file,
				 r == 0 ? "no certificate in the file" : gnutls_strerror(r));
			goto fail;
		}
	} else {
		r = gnutls_certificate_set_x509_system_trust(t->cred);
		if (r <= 0) {
			snprintf(err, errlen, "no ca given and no system trust store: %s",
				 r == 0 ? "no certificate found" : gnutls_strerror(r));
			goto fail;
		}
	}
	if (o->cert_file) {
		r = gnutls_certificate_set_x509_key_file(t->cred, o->cert_file, o->key_file,
							 GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			snprintf(err, errlen, "cert %s / key %s: %s", o->cert_file, o->key_file,
				 gnutls_strerror(r));
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	gnutls_certificate_free_credentials(t->cred);
	free(t);
	return -EINVAL;
}

/* GnuTLS' own writer would raise SIGPIPE on a socket the collector has
 * reset (a refusal of our certificate does just that) and kill the agent:
 * write with MSG_NOSIGNAL, as the plain TCP writer does. */
static ssize_t push_nosignal(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	return sendmsg((int)(intptr_t)ptr, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void bh_tls_end(struct bh_tls *t)
{
	if (!t || !t->session)
		return;
	/* close_notify if the socket takes it now; never wait */
	gnutls_bye(t->session, GNUTLS_SHUT_WR);
	gnutls_deinit(t->session);
	t->session = NULL;
}

void bh_tls_free(struct bh_tls *t)
{
	if (!t)
		return;
	bh_tls_end(t);
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

int bh_tls_start(struct bh_tls *t, int fd)
{
	int r;

	/* t->error is kept: the last failure's reason, read by the agent's
	 * once-a-second log after the next attempt may have started */
	bh_tls_end(t);
	t->peer_sent = false;
	r = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (r < 0) {
		t->session = NULL;
		snprintf(t->error, sizeof(t->error), "%s", gnutls_strerror(r));
		return -ENOMEM;
	}
	r = gnutls_set_default_priority(t->session);
	if (r >= 0)
		r = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (r >= 0 && t->sni)
		r = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, t->name, strlen(t->name));
	if (r < 0) {
		snprintf(t->error, sizeof(t->error), "%s", gnutls_strerror(r));
		gnutls_deinit(t->session);
		t->session = NULL;
		return -EINVAL;
	}
	/* chain, validity and the name (DNS SAN, or IP SAN for a literal),
	 * checked by GnuTLS during the handshake */
	gnutls_session_set_verify_cert(t->session, t->name, 0);
	gnutls_transport_set_int(t->session, fd);
	gnutls_transport_set_vec_push_function(t->session, push_nosignal);
	return 0;
}

int bh_tls_handshake(struct bh_tls *t, bool *want_read)
{
	int r;

	if (!t->session)
		return -EINVAL;
	r = gnutls_handshake(t->session);
	if (r == GNUTLS_E_SUCCESS)
		return 1;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		*want_read = gnutls_record_get_direction(t->session) == 0;
		return 0;
	}
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t txt = { 0 };
		unsigned int status = gnutls_session_get_verify_cert_status(t->session);

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt,
								 0) == 0) {
			snprintf(t->error, sizeof(t->error), "certificate of %s refused: %s",
				 t->name, txt.data);
			gnutls_free(txt.data);
			return -EPERM;
		}
	}
	snprintf(t->error, sizeof(t->error), "handshake with %s: %s", t->name, gnutls_strerror(r));
	return r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? -EPERM : -ECONNABORTED;
}

/*
 * The collector ended the session (r: GnuTLS' error). Our side of the
 * handshake ends before the collector has judged our certificate (TLS
 * 1.3 sends it last; collectors such as rsyslog's gtls driver check it
 * only after the handshake, in either version), so a refusal shows up
 * here, not in bh_tls_handshake: as a fatal alert, or as the connection
 * cut without one. Both are taken as a refusal (-EACCES) when the
 * collector asked for our certificate and has sent nothing since: a
 * collector that accepted us has no reason to cut a fresh session
 * without close_notify. Otherwise it is a lost connection (-EPIPE).
 */
static int peer_ended(struct bh_tls *t, int r, const char *what)
{
	bool asked = gnutls_certificate_client_get_request_status(t->session) != 0;

	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		snprintf(t->error, sizeof(t->error), "%s refused the session: TLS alert %s",
			 t->name, gnutls_alert_get_name(gnutls_alert_get(t->session)));
		return -EACCES;
	}
	if (asked && !t->peer_sent) {
		snprintf(t->error, sizeof(t->error),
			 "%s cut the session right after the handshake, without a TLS alert"
			 " (%s): it refused our client certificate", t->name, gnutls_strerror(r));
		return -EACCES;
	}
	snprintf(t->error, sizeof(t->error), "%s: %s", what, gnutls_strerror(r));
	return -EPIPE;
}

ssize_t bh_tls_send(struct bh_tls *t, const void *buf, size_t len)
{
	ssize_t r;

	if (!t->session)
		return -ENOTCONN;
	r = gnutls_record_send(t->session, buf, len);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return peer_ended(t, (int)r, "send");
}

int bh_tls_check_peer(struct bh_tls *t)
{
	char junk[1024];

	if (!t->session)
		return -EPIPE;
	for (int i = 0; i < 8; i++) {
		ssize_t r = gnutls_record_recv(t->session, junk, sizeof(junk));

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return 0;
		if (r == 0)
			return -EPIPE;	/* close_notify */
		if (r < 0 && !gnutls_error_is_fatal((int)r))
			continue;	/* e.g. a rehandshake request: ignored */
		if (r < 0)
			return peer_ended(t, (int)r, "receive");
		t->peer_sent = true;	/* application data: discarded */
	}
	return 0;
}

const char *bh_tls_error(const struct bh_tls *t)
{
	return t ? t->error : "";
}
