/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Keeps an epoll set in step with a syslog writer (lib/agent/syslog.h), for an
 * event loop such as the agent's.
 *
 * The writer's socket changes across reconnects, and the new socket often
 * gets the number of the one just closed. Closing removed the old one
 * from the epoll set, so "same number as before, nothing to do" would
 * leave the new socket unwatched: EPOLLOUT would never come and delivery
 * would wait for some other wake-up. So while the writer wants to write,
 * every pump re-registers its fd (EPOLL_CTL_MOD, falling back to ADD);
 * it removes the registration only from a socket it knows is still the
 * one it registered (a closed number may already belong to another fd of
 * the caller's set).
 */
#ifndef BULKHEAD_SYSLOG_WATCH_H
#define BULKHEAD_SYSLOG_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "syslog.h"

struct bh_syslog_watch {
	int epfd;
	uint64_t data;		/* epoll_event.data.u64 for the syslog fd */
	int fd;			/* registered fd, -1 if none */
	bool out;		/* registered for EPOLLOUT */
	uint64_t registrations;	/* ADDs made (a reconnect's new socket) */
};

void bh_syslog_watch_init(struct bh_syslog_watch *w, int epfd, uint64_t data);
/* bh_syslog_pump(), then register/unregister the fd as the writer needs.
 * Returns the pump's result, or a negative errno from epoll_ctl. */
int bh_syslog_watch_pump(struct bh_syslog_watch *w, struct bh_syslog *s);
/* epoll_wait timeout honouring the writer's reconnect backoff and TCP
 * connect deadline: the smaller of cap_ms and bh_syslog_timeout_ms(). */
int bh_syslog_watch_timeout(const struct bh_syslog *s, int cap_ms);
/* Drop the registration (before closing the writer). */
void bh_syslog_watch_fini(struct bh_syslog_watch *w, const struct bh_syslog *s);

#endif /* BULKHEAD_SYSLOG_WATCH_H */
