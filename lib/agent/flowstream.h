/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's flow stream: a unix stream socket ($BULKHEAD_STATE_DIR/
 * agent.sock, mode 0600) on which every connected client receives each
 * flow record the agent decodes, one JSON object per line (the fields of
 * lib/agent/flowjson.h, "type":"flow"). `bulkhead flows --follow` reads it
 * instead of polling the store.
 *
 * It never slows the agent: sockets are non-blocking, each client has a
 * bounded buffer (client_buf bytes); what does not fit is dropped for that
 * client, counted, and announced to it by one line {"type":"lost",
 * "records":N} before the next record it gets. A client that sends
 * anything is ignored; one that hangs up is closed. At most max_clients
 * at once; more are accepted and closed.
 *
 * Everything runs from one fd (an epoll set of the listening socket and
 * the clients): add bh_flowstream_fd() to the caller's epoll set for
 * EPOLLIN and call bh_flowstream_handle() when it is readable.
 */
#ifndef BULKHEAD_FLOWSTREAM_H
#define BULKHEAD_FLOWSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_FLOWSTREAM_SOCK	"agent.sock"	/* in the state directory */

struct bh_flowstream_opts {
	const char *path;
	size_t client_buf;		/* 0: 1 MiB */
	int max_clients;		/* 0: 16 */
};

struct bh_flowstream;

/* -EADDRINUSE if another process listens on path (another agent of the
 * same instance), -ENAMETOOLONG for a path beyond sun_path. A stale socket
 * file is replaced. */
int bh_flowstream_open(const struct bh_flowstream_opts *o, struct bh_flowstream **out);
/* Closes every client and removes the socket file. */
void bh_flowstream_close(struct bh_flowstream *s);
int bh_flowstream_fd(const struct bh_flowstream *s);
/* Accept, write what waits, close what hung up. Never blocks. */
int bh_flowstream_handle(struct bh_flowstream *s);
/* Any client connected (the caller skips building lines otherwise). */
bool bh_flowstream_active(const struct bh_flowstream *s);
/* Queue one line (without its newline) to every client. */
void bh_flowstream_send(struct bh_flowstream *s, const char *line, size_t len);
int bh_flowstream_clients(const struct bh_flowstream *s);
/* Lines dropped for slow clients since open. */
uint64_t bh_flowstream_lost(const struct bh_flowstream *s);

#endif /* BULKHEAD_FLOWSTREAM_H */
