// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The watch cache served to the CNI plugin (lib/core/pod_lookup.h for the
 * protocol): a pod's labels and named ports, so that a new pod is attached
 * with its identity, not open until the next reconcile. One thread, one
 * short request per connection, each bounded in time: a stuck client
 * holds the socket for at most BH_POD_LOOKUP_TIMEOUT_MS.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "k8s_int.h"
#include "pod_lookup.h"
#include "policy.h"

/* The answer for key "NS/NAME", built under k->mu. */
static char *answer(struct k8s *k, const char *key)
{
	size_t cap = (size_t)BH_MAX_LABELS * (BH_NAME_MAX + 80) + BH_MAX_NAMED_PORTS * 48 + 64;
	struct bh_named_port ports[BH_MAX_NAMED_PORTS];
	json_object *pod, *md, *labels;
	char *out = malloc(cap), buf[40];
	size_t n;
	int nr;

	if (!out)
		return NULL;
	pthread_mutex_lock(&k->mu);
	if (!k->res[K8S_PODS].synced ||
	    !json_object_object_get_ex(k->res[K8S_PODS].cache, key, &pod)) {
		pthread_mutex_unlock(&k->mu);
		snprintf(out, cap, "UNKNOWN\n");
		return out;
	}
	n = (size_t)snprintf(out, cap, "KNOWN\n");
	if (json_object_object_get_ex(pod, "metadata", &md) &&
	    json_object_object_get_ex(md, "labels", &labels) &&
	    json_object_is_type(labels, json_type_object)) {
		int count = 0;

		json_object_object_foreach(labels, lk, lv) {
			char kv[BH_NAME_MAX + 80];
			struct bh_label l;

			if (count == BH_MAX_LABELS || !json_object_is_type(lv, json_type_string))
				continue;
			snprintf(kv, sizeof(kv), "%s=%s", lk, json_object_get_string(lv));
			/* the same labels the reconcile applies: bad ones skipped */
			if (strchr(kv, '\n') || bh_label_parse(kv, &l))
				continue;
			n += (size_t)snprintf(out + n, cap - n, "LABEL %s=%s\n", l.key, l.value);
			count++;
		}
	}
	nr = k8s_pod_ports(pod, ports, BH_MAX_NAMED_PORTS);
	pthread_mutex_unlock(&k->mu);
	for (int i = 0; i < nr; i++)
		n += (size_t)snprintf(out + n, cap - n, "PORT %s\n",
				      bh_named_port_format(&ports[i], buf, sizeof(buf)));
	snprintf(out + n, cap - n, "END\n");
	return out;
}

static void serve_one(struct k8s *k, int fd)
{
	char req[2 * BH_NAME_MAX + 16], *nl, *out;
	size_t n = 0;

	while (n < sizeof(req) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, BH_POD_LOOKUP_TIMEOUT_MS) <= 0)
			return;
		r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strchr(req, '\n'))
			break;
	}
	req[n] = '\0';
	nl = strchr(req, '\n');
	if (!nl || strncmp(req, "POD ", 4))
		return;
	*nl = '\0';
	out = answer(k, req + 4);
	if (out && write(fd, out, strlen(out)) < 0)
		k8s_log(k, false, "kubernetes: pod lookup: write: %s", strerror(errno));
	free(out);
}

static void *podsock_main(void *arg)
{
	struct k8s *k = arg;

	for (;;) {
		struct pollfd p = { .fd = k->podsock_fd, .events = POLLIN };
		bool stop;
		int c;

		pthread_mutex_lock(&k->mu);
		stop = k->stop;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;
		if (poll(&p, 1, 200) <= 0)
			continue;
		c = accept4(k->podsock_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_one(k, c);
		close(c);
	}
	return NULL;
}

int k8s_podsock_start(struct k8s *k, char *msg, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	k->podsock_fd = -1;
	if (bh_agent_socket_path(k->state_dir, sa.sun_path, sizeof(sa.sun_path))) {
		snprintf(msg, len, "kubernetes: the agent socket path is too long");
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(msg, len, "kubernetes: socket: %s", strerror(errno));
		return -errno;
	}
	/* a socket left by an agent that died: nobody answers on it */
	unlink(sa.sun_path);
	old = umask(0077);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, 64))
		err = -errno;
	if (err) {
		snprintf(msg, len, "kubernetes: cannot serve pod lookups on %s: %s", sa.sun_path,
			 strerror(-err));
		close(fd);
		return err;
	}
	k->podsock_fd = fd;
	snprintf(k->podsock_path, sizeof(k->podsock_path), "%s", sa.sun_path);
	if (pthread_create(&k->podsock_thread, NULL, podsock_main, k)) {
		snprintf(msg, len, "kubernetes: cannot start the pod lookup thread");
		k8s_podsock_stop(k);
		return -ENOMEM;
	}
	k->podsock_started = true;
	return 0;
}

/* After k->stop is set. */
void k8s_podsock_stop(struct k8s *k)
{
	if (k->podsock_started)
		pthread_join(k->podsock_thread, NULL);
	k->podsock_started = false;
	if (k->podsock_fd >= 0) {
		close(k->podsock_fd);
		unlink(k->podsock_path);
	}
	k->podsock_fd = -1;
}
