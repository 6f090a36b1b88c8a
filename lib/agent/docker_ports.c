// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The Docker gate's ports and its link thread (see docker_ports.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "docker_gate.h"
#include "docker_ports.h"
#include "docker_watch.h"
#include "netns_veth.h"

#define MAX_BRIDGES	256

struct bh_gate_ports {
	char gate[BH_GATE_TABLE_LEN];
	int monfd, stopfd, notefd;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;	/* everything below */
	uint32_t bridges[MAX_BRIDGES];
	int nr_bridges;
	uint32_t *open;		/* ifindexes the agent attached */
	int nr_open, cap_open;
	char report[256];	/* the thread's last problem, until taken */
	bool has_report;
};

/* ------------------------------------------------ under p->mu */
static bool is_open(const struct bh_gate_ports *p, uint32_t ifindex)
{
	for (int i = 0; i < p->nr_open; i++)
		if (p->open[i] == ifindex)
			return true;
	return false;
}

static int open_add(struct bh_gate_ports *p, uint32_t ifindex)
{
	if (is_open(p, ifindex))
		return 0;
	if (p->nr_open == p->cap_open) {
		int cap = p->cap_open ? 2 * p->cap_open : 64;
		uint32_t *n = realloc(p->open, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->open = n;
		p->cap_open = cap;
	}
	p->open[p->nr_open++] = ifindex;
	return 0;
}

static void open_del(struct bh_gate_ports *p, uint32_t ifindex)
{
	for (int i = 0; i < p->nr_open; i++)
		if (p->open[i] == ifindex) {
			p->open[i] = p->open[--p->nr_open];
			return;
		}
}

static bool followed(const struct bh_gate_ports *p, uint32_t bridge)
{
	for (int i = 0; i < p->nr_bridges; i++)
		if (p->bridges[i] == bridge)
			return true;
	return false;
}

static void note(struct bh_gate_ports *p, const char *what, uint32_t ifindex, int err)
{
	uint64_t one = 1;

	snprintf(p->report, sizeof(p->report), "gate %s: cannot %s ifindex %u: %s", p->gate,
		 what, ifindex, strerror(-err));
	p->has_report = true;
	if (write(p->notefd, &one, sizeof(one)) < 0) {
		/* the counter is full: a report is already waiting */
	}
}

static void block(struct bh_gate_ports *p, uint32_t ifindex)
{
	int err = bh_docker_gate_port(p->gate, ifindex, true);

	if (err)
		note(p, "block", ifindex, err);
}

/* Every port of the followed bridges that the agent has not attached. */
static int unopened_ports(struct bh_gate_ports *p, uint32_t *ports, int *nr)
{
	int cap = *nr, n = 0, err;

	*nr = 0;
	if (!p->nr_bridges)
		return 0;
	err = bh_bridge_ports(p->bridges, p->nr_bridges, ports, &cap);
	if (err)
		return err;
	for (int i = 0; i < cap; i++)
		if (!is_open(p, ports[i]))
			ports[n++] = ports[i];
	*nr = n;
	return 0;
}

static void block_unopened(struct bh_gate_ports *p)
{
	uint32_t ports[BH_DOCKER_MAX_CONTAINERS];
	int nr = BH_DOCKER_MAX_CONTAINERS;

	if (!unopened_ports(p, ports, &nr))
		for (int i = 0; i < nr; i++)
			block(p, ports[i]);
}

static void on_link(const struct bh_link_change *c, void *arg)
{
	struct bh_gate_ports *p = arg;

	if (c->deleted) {
		for (int i = 0; i < p->nr_bridges; i++)
			if (p->bridges[i] == c->ifindex)
				p->bridges[i] = p->bridges[--p->nr_bridges];
		if (c->veth) {
			open_del(p, c->ifindex);
			/* keep the set clean (absent is no error) */
			bh_docker_gate_port(p->gate, c->ifindex, false);
		}
		return;
	}
	if (c->veth && c->master && followed(p, c->master) && !is_open(p, c->ifindex))
		block(p, c->ifindex);
}

/* ------------------------------------------------------ the thread */
static void *run(void *arg)
{
	struct bh_gate_ports *p = arg;
	struct pollfd fds[2] = {
		{ .fd = p->monfd, .events = POLLIN },
		{ .fd = p->stopfd, .events = POLLIN },
	};

	for (;;) {
		int err;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		/* a lost notification (ENOBUFS) shows as POLLERR: the read
		 * below takes the error and rescans */
		if (!(fds[0].revents & (POLLIN | POLLERR)))
			continue;
		pthread_mutex_lock(&p->mu);
		err = bh_link_monitor_read(p->monfd, on_link, p);
		if (err == -ENOBUFS) {
			/* notifications lost: look at the bridges' ports afresh */
			bh_link_monitor_read(p->monfd, on_link, p);
			block_unopened(p);
		} else if (err) {
			note(p, "follow links for", 0, err);
		}
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* ------------------------------------------------------ public */
int bh_gate_ports_start(const char *gate, const uint32_t *open, int nr_open,
			struct bh_gate_ports **out)
{
	struct bh_gate_ports *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p)
		return -ENOMEM;
	snprintf(p->gate, sizeof(p->gate), "%s", gate);
	p->monfd = p->stopfd = p->notefd = -1;
	pthread_mutex_init(&p->mu, NULL);
	for (int i = 0; i < nr_open && !err; i++)
		err = open_add(p, open[i]);
	if (!err)
		err = bh_link_monitor_open(&p->monfd);
	if (!err) {
		p->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		p->notefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->stopfd < 0 || p->notefd < 0)
			err = -errno;
	}
	if (!err) {
		err = -pthread_create(&p->thread, NULL, run, p);
		p->running = !err;
	}
	if (err) {
		bh_gate_ports_stop(p);
		return err;
	}
	*out = p;
	return 0;
}

void bh_gate_ports_stop(struct bh_gate_ports *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	/* an eventfd write fails only when its counter would overflow */
	if (p->running && write(p->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(p->thread, NULL);
	if (p->monfd >= 0)
		close(p->monfd);
	if (p->stopfd >= 0)
		close(p->stopfd);
	if (p->notefd >= 0)
		close(p->notefd);
	pthread_mutex_destroy(&p->mu);
	free(p->open);
	free(p);
}

int bh_gate_ports_fd(const struct bh_gate_ports *p)
{
	return p->notefd;
}

int bh_gate_ports_report(struct bh_gate_ports *p, char *msg, size_t len)
{
	uint64_t n;
	int got;

	pthread_mutex_lock(&p->mu);
	if (read(p->notefd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing was signalled since the last take */
	}
	got = p->has_report;
	if (got)
		snprintf(msg, len, "%s", p->report);
	p->has_report = false;
	pthread_mutex_unlock(&p->mu);
	return got;
}

int bh_gate_ports_follow(struct bh_gate_ports *p, uint32_t bridge)
{
	int err = 0;

	pthread_mutex_lock(&p->mu);
	if (!followed(p, bridge)) {
		if (p->nr_bridges == MAX_BRIDGES) {
			err = -ENOSPC;
		} else {
			p->bridges[p->nr_bridges++] = bridge;
			/* its ports may have come before we heard of the network */
			block_unopened(p);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return err;
}

int bh_gate_ports_set_bridges(struct bh_gate_ports *p, const uint32_t *bridges, int nr)
{
	int err = 0;

	pthread_mutex_lock(&p->mu);
	p->nr_bridges = 0;
	for (int i = 0; i < nr; i++) {
		if (followed(p, bridges[i]))
			continue;
		if (p->nr_bridges == MAX_BRIDGES) {
			err = -ENOSPC;
			break;
		}
		p->bridges[p->nr_bridges++] = bridges[i];
	}
	/* what nobody attached yet is blocked before anything else */
	block_unopened(p);
	pthread_mutex_unlock(&p->mu);
	return err;
}

int bh_gate_ports_nr_bridges(struct bh_gate_ports *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->nr_bridges;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int bh_gate_ports_open(struct bh_gate_ports *p, uint32_t ifindex)
{
	int err;

	pthread_mutex_lock(&p->mu);
	err = open_add(p, ifindex);
	if (!err)
		err = bh_docker_gate_port(p->gate, ifindex, false);
	pthread_mutex_unlock(&p->mu);
	return err;
}

int bh_gate_ports_close(struct bh_gate_ports *p, uint32_t ifindex)
{
	int err;

	pthread_mutex_lock(&p->mu);
	open_del(p, ifindex);
	err = bh_docker_gate_port(p->gate, ifindex, true);
	pthread_mutex_unlock(&p->mu);
	return err;
}

int bh_gate_ports_sync(struct bh_gate_ports *p, int *nr_blocked)
{
	uint32_t ports[BH_DOCKER_MAX_CONTAINERS];
	int nr = BH_DOCKER_MAX_CONTAINERS, err;

	pthread_mutex_lock(&p->mu);
	err = unopened_ports(p, ports, &nr);
	if (!err)
		err = bh_docker_gate_sync(p->gate, nr, ports);
	pthread_mutex_unlock(&p->mu);
	*nr_blocked = nr;
	return err;
}
