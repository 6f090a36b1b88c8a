// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What every thread of the Kubernetes watch uses (k8s_int.h): its log
 * line and its wait that a stop cuts short. Below the threads and k8s.c,
 * which starts them. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "k8s_int.h"

void k8s_log(struct k8s *k, bool locked, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!k->log)
		return;
	if (!locked)
		pthread_mutex_lock(&k->mu);
	k->log(k->log_arg, buf);
	if (!locked)
		pthread_mutex_unlock(&k->mu);
}

void k8s_wait_ms(struct k8s *k, long ms)
{
	struct timespec ts;

	if (k->stop)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&k->cond, &k->mu, &ts);
}
