// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The median of a bench's repeated figures (sorts v in place). */
#ifndef BH_BENCH_MEDIAN_H
#define BH_BENCH_MEDIAN_H

#include <stdlib.h>

static int bh_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double bh_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bh_cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
