// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The syslog writer's fd in a caller's epoll set; see syslog_watch.h. */
#include <errno.h>
#include <sys/epoll.h>

#include "syslog_watch.h"

void bh_syslog_watch_init(struct bh_syslog_watch *w, int epfd, uint64_t data)
{
	*w = (struct bh_syslog_watch){ .epfd = epfd, .data = data, .fd = -1 };
}

int bh_syslog_watch_pump(struct bh_syslog_watch *w, struct bh_syslog *s)
{
	int ret = bh_syslog_pump(s);
	int fd = bh_syslog_fd(s);
	bool rd = fd >= 0 && bh_syslog_want_read(s);
	bool want = fd >= 0 && (bh_syslog_want_write(s) || rd);

	if (want) {
		/* EPOLLIN only while a TLS handshake waits for the collector */
		struct epoll_event ev = { .events = rd ? EPOLLIN : EPOLLOUT, .data.u64 = w->data };

		/* MOD even when fd == w->fd: it may be a new socket under the
		 * old number, which is in no epoll set yet (ENOENT). */
		if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev)) {
			if (errno != ENOENT || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
				ret = -errno;
				want = false;
			} else {
				w->registrations++;
			}
		}
	} else if (w->out && fd >= 0 && fd == w->fd) {
		/* still the registered socket (or a new one under its number,
		 * not in the set: ENOENT, harmless) */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	}
	w->fd = want ? fd : -1;
	w->out = want;
	return ret;
}

int bh_syslog_watch_timeout(const struct bh_syslog *s, int cap_ms)
{
	int t = bh_syslog_timeout_ms(s);

	return t >= 0 && (cap_ms < 0 || t < cap_ms) ? t : cap_ms;
}

void bh_syslog_watch_fini(struct bh_syslog_watch *w, const struct bh_syslog *s)
{
	int fd = bh_syslog_fd(s);

	if (w->out && fd >= 0 && fd == w->fd)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
	w->out = false;
}
