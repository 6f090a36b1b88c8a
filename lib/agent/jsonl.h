/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * JSON-lines file writer: one JSON object per line, appended with one
 * write(2) each, escaped by json-c (so a newline inside any string is
 * "\n" and never ends the line).
 *
 * Limits:
 * - PATH never grows beyond max_bytes: a line that would cross it first
 *   renames PATH to PATH.1 (replacing an older PATH.1) and starts a fresh
 *   PATH. One rotated generation, so the writer uses at most 2*max_bytes.
 * - A single line longer than max_bytes is refused with -EMSGSIZE.
 * - The size is tracked in memory: the file is meant to have this one
 *   writer. Another process appending to it makes the bound approximate.
 * - A short write (disk full) is cut back with ftruncate so the file never
 *   holds half a line; the call returns -ENOSPC (or the write's errno).
 * - Strings are written as json-c emits them: control characters escaped,
 *   bytes >= 0x80 passed through (callers give UTF-8).
 *
 * Reopen after logrotate: a SIGHUP handler calls bh_jsonl_request_reopen()
 * (async-signal-safe; it only sets a flag) and the next write reopens
 * PATH. Not thread-safe: one writer thread per handle.
 */
#ifndef BULKHEAD_JSONL_H
#define BULKHEAD_JSONL_H

#include <stdint.h>

struct json_object;
struct bh_jsonl;

struct bh_jsonl_opts {
	const char *path;
	uint64_t max_bytes;	/* 0 = 64 MiB */
	unsigned int mode;	/* permissions for a new file; 0 = 0640 */
};

struct bh_jsonl_stats {
	uint64_t lines;		/* written through this handle */
	uint64_t rotations;
	uint64_t size;		/* current size of PATH */
};

int bh_jsonl_open(const struct bh_jsonl_opts *opts, struct bh_jsonl **out);
void bh_jsonl_close(struct bh_jsonl *j);
/* Append obj (a JSON object, else -EINVAL) as one line. */
int bh_jsonl_write(struct bh_jsonl *j, struct json_object *obj);
/* Async-signal-safe: reopen PATH before the next write. */
void bh_jsonl_request_reopen(struct bh_jsonl *j);
/* Reopen PATH now (e.g. after it was moved away). */
int bh_jsonl_reopen(struct bh_jsonl *j);
void bh_jsonl_get_stats(const struct bh_jsonl *j, struct bh_jsonl_stats *st);

#endif /* BULKHEAD_JSONL_H */
