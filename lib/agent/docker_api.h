/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small Docker Engine API client: HTTP over the daemon's unix socket
 * with libcurl (CURLOPT_UNIX_SOCKET_PATH), bodies parsed with json-c.
 * Two uses only: one-shot GETs (list, inspect) and the event stream,
 * which a thread of its own reads and hands to the caller's loop through
 * a pipe, so the caller keeps one thread touching bulkhead state.
 */
#ifndef BULKHEAD_DOCKER_API_H
#define BULKHEAD_DOCKER_API_H

#include <stddef.h>

struct json_object;

/* API version asked for: Docker 20.10 (Debian 12) speaks 1.41; newer
 * daemons still serve it. */
#define BH_DOCKER_API	"/v1.41"
#define BH_DOCKER_ID_LEN	64

/* GET path (e.g. "/containers/json") on the socket. *out is the parsed
 * body (json_object_put it). -ENOENT on 404, -ECONNREFUSED/-ENOENT when
 * the socket is not there, -EPROTO on another status or a bad body. */
int bh_docker_get(const char *socket, const char *path, struct json_object **out,
		  char *msg, size_t len);

/* One event as the stream thread hands it over. */
enum bh_docker_ev_kind {
	BH_DOCKER_EV_CONNECTED = 1,	/* stream (re)opened: list to catch up */
	BH_DOCKER_EV_LOST,		/* stream failed; retrying */
	BH_DOCKER_EV_CONTAINER,		/* action: start, die, destroy */
	BH_DOCKER_EV_NETWORK,		/* action: create, destroy, connect */
};

struct bh_docker_ev {
	int kind;
	char action[16];
	char id[BH_DOCKER_ID_LEN + 1];	/* container or network id */
	char detail[160];		/* LOST: why */
};

struct bh_docker_stream;

/* Start the thread reading GET /events (container and network events).
 * Events arrive on bh_docker_stream_fd() (readable: call _read until it
 * returns 0). The thread reconnects with a backoff of at most 2 s. */
int bh_docker_stream_start(const char *socket, struct bh_docker_stream **out);
int bh_docker_stream_fd(const struct bh_docker_stream *s);
/* 1 with *ev filled, 0 when none is waiting, negative errno. */
int bh_docker_stream_read(struct bh_docker_stream *s, struct bh_docker_ev *ev);
/* Stops the thread (within about a second) and frees. */
void bh_docker_stream_stop(struct bh_docker_stream *s);

#endif /* BULKHEAD_DOCKER_API_H */
