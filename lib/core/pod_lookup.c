// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's pod lookup, client side (pod_lookup.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pod_lookup.h"
#include "policy.h"

int bh_agent_socket_path(const char *state_dir, char *buf, size_t len)
{
	const char *dir = state_dir && *state_dir ? state_dir : getenv("BULKHEAD_STATE_DIR");
	int n;

	if (!dir || !*dir)
		dir = BH_DEFAULT_STATE_DIR;
	n = snprintf(buf, len, "%s/%s", dir, BH_AGENT_SOCKET);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until EOF, the buffer is full or the deadline passes. */
static int read_all(int fd, char *buf, size_t len, long deadline)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == len - 1)
			return -EMSGSIZE;
	}
	buf[n] = '\0';
	return 0;
}

static int parse_answer(char *buf, struct bh_pod_identity *out)
{
	char *save = NULL, *line = strtok_r(buf, "\n", &save), why[128];
	bool end = false;

	memset(out, 0, sizeof(*out));
	if (line && !strcmp(line, "UNKNOWN"))
		return -ENOENT;
	if (!line || strcmp(line, "KNOWN"))
		return -EPROTO;
	while ((line = strtok_r(NULL, "\n", &save)) && !end) {
		if (!strncmp(line, "LABEL ", 6)) {
			if (out->nr_labels == BH_MAX_LABELS ||
			    bh_label_parse(line + 6, &out->labels[out->nr_labels]))
				return -EPROTO;
			out->nr_labels++;
		} else if (!strncmp(line, "PORT ", 5)) {
			if (out->nr_ports == BH_MAX_NAMED_PORTS ||
			    bh_named_port_parse(line + 5, &out->ports[out->nr_ports], why,
						sizeof(why)))
				return -EPROTO;
			out->nr_ports++;
		} else if (!strcmp(line, "END")) {
			end = true;
		} else {
			return -EPROTO;
		}
	}
	return end ? 0 : -EPROTO;
}

int bh_pod_lookup(struct bh_ctx *ctx, const char *ns, const char *name,
		  struct bh_pod_identity *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = now_ms() + BH_POD_LOOKUP_TIMEOUT_MS;
	size_t cap = (size_t)BH_MAX_LABELS * (BH_NAME_MAX + 80) + BH_MAX_NAMED_PORTS * 48 + 64;
	char *buf, req[2 * BH_NAME_MAX + 16];
	int fd, err;

	if (bh_agent_socket_path(bh_ctx_state_dir(ctx), sa.sun_path, sizeof(sa.sun_path)))
		return bh_ctx_set_error(ctx, -ENAMETOOLONG, false, "agent socket path too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bh_ctx_set_error(ctx, -errno, false, "socket: %s", strerror(errno));
	/* a missing socket or one nobody listens on: no agent */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		return bh_ctx_set_error(ctx, -EHOSTDOWN, false, "no agent at %s: %s", sa.sun_path,
					strerror(err));
	}
	snprintf(req, sizeof(req), "POD %s/%s\n", ns, name);
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	}
	err = write(fd, req, strlen(req)) == (ssize_t)strlen(req) ? 0 : -EHOSTDOWN;
	if (!err)
		err = read_all(fd, buf, cap, deadline);
	close(fd);
	if (err == -ETIMEDOUT || err == -ECONNRESET || err == -EPIPE)
		err = -EHOSTDOWN;
	if (!err)
		err = parse_answer(buf, out);
	free(buf);
	if (err == -EHOSTDOWN)
		return bh_ctx_set_error(ctx, err, false, "the agent did not answer in %d ms",
					BH_POD_LOOKUP_TIMEOUT_MS);
	if (err == -EPROTO)
		return bh_ctx_set_error(ctx, err, false, "the agent's answer about %s/%s is"
					" malformed", ns, name);
	return err;
}
