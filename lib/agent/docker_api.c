// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Docker Engine API over its unix socket (see docker_api.h). libcurl
 * does the HTTP (chunked event stream included) and json-c the bodies:
 * both maintained Debian libraries, so no hand-written HTTP parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "docker_api.h"

#define BODY_MAX	(16u << 20)	/* a list of thousands of containers fits */
#define LINE_MAX_EV	(256u << 10)	/* one event; labels make it long */
#define GET_TIMEOUT_MS	10000L

struct body {
	char *buf;
	size_t len, cap;
	bool too_big;
};

static size_t body_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = sz * n;

	if (b->len + add + 1 > BODY_MAX) {
		b->too_big = true;
		return 0;	/* aborts the transfer */
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;
		char *nb;

		while (cap < b->len + add + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, add);
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int global_init(void)
{
	/* refcounted by libcurl; the agent calls it from its main thread
	 * before any other thread uses curl */
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -ENOMEM : 0;
}

int bh_docker_get(const char *socket, const char *path, struct json_object **out,
		  char *msg, size_t len)
{
	struct body b = { 0 };
	char url[1024];
	long status = 0;
	CURLcode rc;
	CURL *c;
	int err = 0;

	*out = NULL;
	if (global_init())
		return -ENOMEM;
	c = curl_easy_init();
	if (!c) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "http://docker%s%s", BH_DOCKER_API, path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, GET_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err = b.too_big ? -EFBIG : curl_errno(rc);
		snprintf(msg, len, "GET %s on %s: %s", path, socket,
			 b.too_big ? "answer larger than 16 MiB" : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404) {
		err = -ENOENT;
		snprintf(msg, len, "GET %s: not found", path);
		goto out;
	}
	if (status != 200) {
		err = -EPROTO;
		snprintf(msg, len, "GET %s: HTTP status %ld: %.200s", path, status,
			 b.buf ? b.buf : "");
		goto out;
	}
	*out = b.buf ? json_tokener_parse(b.buf) : NULL;
	if (!*out) {
		err = -EPROTO;
		snprintf(msg, len, "GET %s: the answer is not JSON", path);
	}
out:
	free(b.buf);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return err;
}

/* -------------------------------------------------------------- stream */
struct bh_docker_stream {
	char socket[256];
	pthread_t thread;
	bool started;
	_Atomic int stop;	/* read by the thread in curl's progress callback */
	int fds[2];		/* [0] the caller reads, [1] the thread writes */
	char *line;
	size_t line_len;
	bool line_skip;		/* the current line overflowed: drop it */
	bool ok_status;
};

static void push(struct bh_docker_stream *s, const struct bh_docker_ev *ev)
{
	/* SOCK_SEQPACKET: one event per message; blocks while the caller is
	 * busy (nothing is dropped), fails once the caller shut it down */
	while (send(s->fds[1], ev, sizeof(*ev), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static const char *str_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static void parse_line(struct bh_docker_stream *s, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *actor;
	struct bh_docker_ev ev = { 0 };
	const char *type, *action, *id;

	if (!o)
		return;
	type = str_at(o, "Type");
	action = str_at(o, "Action");
	if (!json_object_object_get_ex(o, "Actor", &actor) || !type || !action)
		goto out;
	id = str_at(actor, "ID");
	if (!id || strlen(id) != BH_DOCKER_ID_LEN)
		goto out;
	if (!strcmp(type, "container"))
		ev.kind = BH_DOCKER_EV_CONTAINER;
	else if (!strcmp(type, "network"))
		ev.kind = BH_DOCKER_EV_NETWORK;
	else
		goto out;
	snprintf(ev.action, sizeof(ev.action), "%s", action);
	memcpy(ev.id, id, BH_DOCKER_ID_LEN + 1);
	if (ev.kind == BH_DOCKER_EV_NETWORK) {
		struct json_object *attrs;
		const char *cid;

		/* connect: the container comes in detail (its veth exists) */
		if (json_object_object_get_ex(actor, "Attributes", &attrs) &&
		    (cid = str_at(attrs, "container")) && strlen(cid) == BH_DOCKER_ID_LEN)
			snprintf(ev.detail, sizeof(ev.detail), "%s", cid);
	}
	push(s, &ev);
out:
	json_object_put(o);
}

static size_t stream_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct bh_docker_stream *s = arg;
	size_t total = sz * n;

	for (size_t i = 0; i < total; i++) {
		if (p[i] == '\n') {
			if (!s->line_skip && s->line_len) {
				s->line[s->line_len] = '\0';
				parse_line(s, s->line);
			}
			s->line_len = 0;
			s->line_skip = false;
		} else if (s->line_len + 1 < LINE_MAX_EV) {
			s->line[s->line_len++] = p[i];
		} else {
			s->line_skip = true;
		}
	}
	return total;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct bh_docker_stream *s = arg;
	size_t total = sz * n;

	if (total >= 12 && !strncmp(p, "HTTP/", 5))
		s->ok_status = strstr(p, " 200") != NULL;
	else if ((total == 2 && p[0] == '\r') || (total == 1 && p[0] == '\n')) {
		if (s->ok_status) {
			struct bh_docker_ev ev = { .kind = BH_DOCKER_EV_CONNECTED };

			push(s, &ev);
		}
	}
	return total;
}

static int progress_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct bh_docker_stream *s = arg;

	(void)a, (void)b, (void)c, (void)d;
	return s->stop ? 1 : 0;
}

static void nap_ms(struct bh_docker_stream *s, int ms)
{
	for (int i = 0; i < ms / 50 && !s->stop; i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static void *stream_main(void *arg)
{
	/* container start/die/destroy; network create/destroy/connect */
	static const char filters[] =
		"{\"type\":[\"container\",\"network\"],"
		"\"event\":[\"start\",\"die\",\"destroy\",\"create\",\"connect\"]}";
	struct bh_docker_stream *s = arg;
	int backoff = 100;
	CURL *c = curl_easy_init();
	char *enc, url[512];

	if (!c)
		return NULL;
	enc = curl_easy_escape(c, filters, 0);
	snprintf(url, sizeof(url), "http://docker%s/events?filters=%s", BH_DOCKER_API,
		 enc ? enc : "");
	curl_free(enc);
	while (!s->stop) {
		struct bh_docker_ev ev = { .kind = BH_DOCKER_EV_LOST };
		CURLcode rc;

		curl_easy_reset(c);
		s->line_len = 0;
		s->line_skip = false;
		s->ok_status = false;
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, s->socket);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		rc = curl_easy_perform(c);
		if (s->stop)
			break;
		if (rc == CURLE_OK) {
			long status = 0;

			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			snprintf(ev.detail, sizeof(ev.detail), status == 200 ?
				 "event stream closed by the daemon" : "event stream: HTTP %ld",
				 status);
			backoff = 100;
		} else {
			snprintf(ev.detail, sizeof(ev.detail), "event stream: %s",
				 curl_easy_strerror(rc));
		}
		push(s, &ev);
		nap_ms(s, backoff);
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
	}
	curl_easy_cleanup(c);
	return NULL;
}

int bh_docker_stream_start(const char *socket, struct bh_docker_stream **out)
{
	struct bh_docker_stream *s;
	int err;

	if (strlen(socket) >= sizeof(s->socket))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fds[0] = s->fds[1] = -1;
	snprintf(s->socket, sizeof(s->socket), "%s", socket);
	s->line = malloc(LINE_MAX_EV);
	if (!s->line || global_init()) {
		free(s->line);
		free(s);
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->fds) < 0) {
		err = -errno;
		goto fail;
	}
	/* the caller's end never blocks its loop */
	if (fcntl(s->fds[0], F_SETFL, fcntl(s->fds[0], F_GETFL) | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&s->thread, NULL, stream_main, s);
	if (err)
		goto fail;
	s->started = true;
	*out = s;
	return 0;
fail:
	if (s->fds[0] >= 0)
		close(s->fds[0]);
	if (s->fds[1] >= 0)
		close(s->fds[1]);
	free(s->line);
	free(s);
	curl_global_cleanup();
	return err;
}

int bh_docker_stream_fd(const struct bh_docker_stream *s)
{
	return s->fds[0];
}

int bh_docker_stream_read(struct bh_docker_stream *s, struct bh_docker_ev *ev)
{
	ssize_t n = recv(s->fds[0], ev, sizeof(*ev), MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n != (ssize_t)sizeof(*ev))
		return n == 0 ? -EPIPE : -EPROTO;
	ev->action[sizeof(ev->action) - 1] = '\0';
	ev->id[sizeof(ev->id) - 1] = '\0';
	ev->detail[sizeof(ev->detail) - 1] = '\0';
	return 1;
}

void bh_docker_stream_stop(struct bh_docker_stream *s)
{
	if (!s)
		return;
	s->stop = 1;
	/* a thread blocked in send() returns once our end is shut */
	shutdown(s->fds[0], SHUT_RDWR);
	if (s->started)
		pthread_join(s->thread, NULL);
	close(s->fds[0]);
	close(s->fds[1]);
	free(s->line);
	free(s);
	curl_global_cleanup();
}
