/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ArcSight Common Event Format lines:
 *   CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|k1=v1 k2=v2 ...
 * Header fields escape "\" and "|" with a backslash; extension values
 * escape "\" and "=" and write a newline as \n, a carriage return as \r
 * (the escapes the CEF specification defines). Any other control byte
 * becomes "?", so nothing a container names can end the line, add a
 * header field or forge an extension key.
 */
#ifndef BULKHEAD_CEF_H
#define BULKHEAD_CEF_H

#include <stdbool.h>
#include <stddef.h>

struct bh_cef {
	char *buf;
	size_t len, cap;	/* cap includes the NUL */
	bool overflow;		/* something did not fit: the line is cut */
};

void bh_cef_init(struct bh_cef *c, char *buf, size_t cap);
/* severity 0..10 */
void bh_cef_header(struct bh_cef *c, const char *vendor, const char *product,
		   const char *version, const char *signature, const char *name, int severity);
/* key: [A-Za-z0-9_] only (ours are constants); value escaped. */
void bh_cef_ext(struct bh_cef *c, const char *key, const char *value);
void bh_cef_ext_int(struct bh_cef *c, const char *key, long long value);

#endif /* BULKHEAD_CEF_H */
