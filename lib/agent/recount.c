// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The conntrack shares' recount thread (see recount.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulkhead.h"
#include "l2id.h"
#include "recount.h"

struct bh_recount {
	struct bh_ctx *ctx;
	unsigned period_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* signalled by stop */
	bool stop;
};

static void *run(void *arg)
{
	struct bh_recount *r = arg;
	struct timespec until;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += r->period_ms / 1000;
		until.tv_nsec += (long)(r->period_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		(void)bh_ct_share_recount(r->ctx);	/* a failure: counts stay high until the next */
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int bh_recount_start(const char *bpffs, const char *state_dir, unsigned period_ms,
		     struct bh_recount **out, char *msg, size_t len)
{
	struct bh_ctx_opts o = { .bpffs = bpffs, .state_dir = state_dir, .read_only = true };
	struct bh_recount *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!r) {
		snprintf(msg, len, "conntrack recount: out of memory");
		return -ENOMEM;
	}
	r->period_ms = period_ms;
	err = bh_ctx_open(&o, &r->ctx);
	if (err) {
		snprintf(msg, len, "conntrack recount: %s",
			 r->ctx ? bh_ctx_error(r->ctx) : strerror(-err));
		bh_ctx_close(r->ctx);
		free(r);
		return err;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&r->thread, NULL, run, r);
	if (err) {
		snprintf(msg, len, "conntrack recount: cannot start its thread: %s", strerror(-err));
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		bh_ctx_close(r->ctx);
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

void bh_recount_stop(struct bh_recount *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	bh_ctx_close(r->ctx);
	free(r);
}
