// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead webhook --listen ADDR --tls-cert FILE --tls-key FILE`: the
 * ValidatingAdmissionWebhook (docs/kubernetes.md). HTTPS only, through
 * libmicrohttpd with GnuTLS (Debian's libmicrohttpd12 is built with it):
 *
 *   POST /validate   an AdmissionReview -> the AdmissionReview answer
 *                    (ctl/admission.c decides)
 *   GET  /healthz    200 "ok" while the server runs (probes)
 *
 * ADDR is HOST:PORT, [V6]:PORT or :PORT (every address). The key and
 * certificate are read once at start: a rotated certificate takes a
 * restart (the Deployment rolls). Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "admission.h"
#include "cli.h"
#include "cmd_deliver.h"

/* AdmissionReview bodies are objects of at most 1.5 MiB (etcd's limit)
 * plus the review's frame. */
#define BODY_MAX	(3u << 20)

struct upload {
	char *buf;
	size_t len;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
								 MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *text)
{
	char *body = NULL;

	if (asprintf(&body, "%s\n", text) < 0)
		return MHD_NO;
	return reply(c, code, "text/plain", body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *data_size, void **con_cls)
{
	struct upload *u = *con_cls;
	char msg[256], *resp;
	int err;

	(void)cls;
	(void)version;
	if (!strcmp(url, "/healthz")) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /healthz");
		return reply_text(c, MHD_HTTP_OK, "ok");
	}
	if (strcmp(url, "/validate"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found (POST /validate, GET /healthz)");
	if (strcmp(method, "POST"))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST /validate");
	if (!u) {
		/* first call: headers only */
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*data_size) {
		if (u->len + *data_size > BODY_MAX) {
			u->too_big = true;
		} else if (!u->too_big) {
			char *grown = realloc(u->buf, u->len + *data_size + 1);

			if (!grown)
				return MHD_NO;
			u->buf = grown;
			memcpy(u->buf + u->len, data, *data_size);
			u->len += *data_size;
			u->buf[u->len] = '\0';
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 3 MiB");
	err = bh_admission_review(u->buf ? u->buf : "", u->len, &resp, msg, sizeof(msg));
	if (err == -EINVAL)
		return reply_text(c, MHD_HTTP_BAD_REQUEST, msg);
	if (err)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-err));
	return reply(c, MHD_HTTP_OK, "application/json", resp);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->buf);
		free(u);
		*con_cls = NULL;
	}
}

/* HOST:PORT, [V6]:PORT, :PORT */
static int parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6)
{
	char host[64] = "";
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || end == colon + 1)
		return -EINVAL;
	if ((size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*v6 = false;
	if (!host[0]) {
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	int err = 0;

	if (!f)
		return -errno;
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, (1 << 20) - 1, f);
	if (ferror(f))
		err = -EIO;
	else if (!feof(f))
		err = -EFBIG;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int bh_cmd_webhook(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, 0, 'l' },
		{ "tls-cert", required_argument, 0, 'c' },
		{ "tls-key", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	static const char usage[] = "usage: bulkhead webhook --listen ADDR --tls-cert FILE"
				    " --tls-key FILE";
	const char *listen = NULL, *cert_path = NULL, *key_path = NULL;
	char *cert = NULL, *key = NULL;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	sigset_t set;
	bool v6 = false;
	int c, err, sig, status = BH_EXIT_OK;

	(void)cli;
	while ((c = bh_cli_getopt(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'c': cert_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'h':
			printf("%s\n\nValidatingAdmissionWebhook for NetworkPolicy and BulkheadPolicy:\n"
			       "POST /validate (AdmissionReview), GET /healthz, over HTTPS.\n"
			       "ADDR: HOST:PORT, [V6]:PORT or :PORT. See docs/kubernetes.md.\n", usage);
			return BH_EXIT_OK;
		default:
			return bh_cli_fail(BH_EXIT_USER, "webhook: unknown option '%s' (%s)",
					   argv[optind - 2], usage);
		}
	}
	if (optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "webhook: unexpected argument '%s'", argv[optind - 1]);
	if (!listen || !cert_path || !key_path)
		return bh_cli_fail(BH_EXIT_USER, "webhook: --listen, --tls-cert and --tls-key are"
				   " required (%s)", usage);
	if (parse_listen(listen, &ss, &v6))
		return bh_cli_fail(BH_EXIT_USER, "webhook: --listen: expected HOST:PORT, [V6]:PORT"
				   " or :PORT, got '%s'", listen);
	if ((err = read_file(cert_path, &cert)))
		return bh_cli_fail(BH_EXIT_USER, "webhook: --tls-cert %s: %s", cert_path,
				   strerror(-err));
	if ((err = read_file(key_path, &key))) {
		free(cert);
		return bh_cli_fail(BH_EXIT_USER, "webhook: --tls-key %s: %s", key_path,
				   strerror(-err));
	}
	/* Signals taken synchronously below; MHD's thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
			     (v6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_HTTPS_MEM_CERT, cert,
			     MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
			     MHD_OPTION_END);
	if (!d) {
		status = bh_cli_fail(BH_EXIT_SYSTEM, "webhook: cannot serve HTTPS on %s (address in"
				     " use, or a certificate/key GnuTLS cannot read)", listen);
		goto out;
	}
	fprintf(stderr, "bulkhead webhook: serving https://%s/validate\n", listen);
	while (sigwait(&set, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	MHD_stop_daemon(d);
out:
	free(cert);
	free(key);
	return status;
}
