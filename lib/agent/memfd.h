// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Bytes held in an anonymous file, for a program or library that only
 * takes a file (a child's stdin, a certificate path /proc/self/fd/N). */
#ifndef BH_AGENT_MEMFD_H
#define BH_AGENT_MEMFD_H

#include <stddef.h>

/* A close-on-exec memfd called name holding data[0, len), its offset at
 * 0; or -errno. */
int bh_memfd_with(const char *name, const char *data, size_t len);

#endif
