// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* JSON-lines writer with size-bounded rotation (limits in jsonl.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "jsonl.h"

#define DEF_MAX_BYTES	(64ull << 20)
#define DEF_MODE	0640

struct bh_jsonl {
	char *path;
	char *path1;		/* PATH.1 */
	int fd;			/* -1: reopen before the next write */
	unsigned int mode;
	uint64_t max_bytes;
	uint64_t size;
	uint64_t lines, rotations;
	volatile sig_atomic_t reopen_req;
};

static int open_path(struct bh_jsonl *j)
{
	struct stat st;
	int fd;

	fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, j->mode);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	j->size = (uint64_t)st.st_size;
	return 0;
}

int bh_jsonl_open(const struct bh_jsonl_opts *opts, struct bh_jsonl **out)
{
	struct bh_jsonl *j;
	int err;

	if (!opts || !out || !opts->path || !*opts->path)
		return -EINVAL;
	*out = NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->mode = opts->mode ? opts->mode : DEF_MODE;
	j->max_bytes = opts->max_bytes ? opts->max_bytes : DEF_MAX_BYTES;
	j->path = strdup(opts->path);
	if (j->path && asprintf(&j->path1, "%s.1", opts->path) < 0)
		j->path1 = NULL;
	if (!j->path || !j->path1) {
		err = -ENOMEM;
		goto fail;
	}
	err = open_path(j);
	if (err)
		goto fail;
	*out = j;
	return 0;
fail:
	free(j->path);
	free(j->path1);
	free(j);
	return err;
}

void bh_jsonl_close(struct bh_jsonl *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->path1);
	free(j);
}

void bh_jsonl_request_reopen(struct bh_jsonl *j)
{
	if (j)
		j->reopen_req = 1;
}

int bh_jsonl_reopen(struct bh_jsonl *j)
{
	if (!j)
		return -EINVAL;
	j->reopen_req = 0;
	return open_path(j);
}

static int rotate(struct bh_jsonl *j)
{
	if (rename(j->path, j->path1) < 0 && errno != ENOENT)
		return -errno;
	j->rotations++;
	/* Whatever happens next, the old fd now points at PATH.1. */
	close(j->fd);
	j->fd = -1;
	return open_path(j);
}

int bh_jsonl_write(struct bh_jsonl *j, struct json_object *obj)
{
	const char *s;
	struct iovec iov[2];
	size_t n;
	ssize_t w;
	int err;

	if (!j || !obj || !json_object_is_type(obj, json_type_object))
		return -EINVAL;
	if (j->reopen_req || j->fd < 0) {
		err = bh_jsonl_reopen(j);
		if (err)
			return err;
	}
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return -ENOMEM;
	if (n + 1 > j->max_bytes)
		return -EMSGSIZE;
	if (j->size + n + 1 > j->max_bytes) {
		err = rotate(j);
		if (err)
			return err;
	}
	iov[0].iov_base = (void *)s;
	iov[0].iov_len = n;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	do {
		w = writev(j->fd, iov, 2);
	} while (w < 0 && errno == EINTR);
	if (w == (ssize_t)(n + 1)) {
		j->size += n + 1;
		j->lines++;
		return 0;
	}
	err = w < 0 ? -errno : -ENOSPC;
	/* Never leave half a line behind. */
	if (w > 0 && ftruncate(j->fd, (off_t)j->size) < 0)
		return -errno;
	return err;
}

void bh_jsonl_get_stats(const struct bh_jsonl *j, struct bh_jsonl_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!j)
		return;
	st->lines = j->lines;
	st->rotations = j->rotations;
	st->size = j->size;
}
