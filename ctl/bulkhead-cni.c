/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: a CNI chained plugin (spec 0.3.0 - 1.1.0). The runtime
 * runs it after an interface plugin (bridge, ptp); on ADD it registers the
 * container as a bulkhead workload and attaches the programs to its host
 * veth before the container starts, so policy holds from the first
 * packet. See docs/cni.md.
 *
 * Protocol: CNI_* environment variables and the network config on stdin;
 * the result (ADD), the version list (VERSION) or a CNI error
 * {cniVersion, code, msg, details} on stdout; exit 0 or 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni_cmd.h"
#include "cni_count.h"

#define CNI_STDIN_MAX (1 << 20)

static int read_stdin(char **out, size_t *len, struct cni_error *e)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *grown;
	ssize_t r;

	if (!buf)
		return cni_fail(e, ENOMEM, CNI_E_IO, "out of memory", NULL);
	for (;;) {
		if (n == cap) {
			if (cap >= CNI_STDIN_MAX) {
				free(buf);
				return cni_fail(e, E2BIG, CNI_E_IO, "network config too large",
						"more than %d bytes on stdin", CNI_STDIN_MAX);
			}
			cap *= 2;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				return cni_fail(e, ENOMEM, CNI_E_IO, "out of memory", NULL);
			}
			buf = grown;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			return cni_fail(e, err, CNI_E_IO, "cannot read stdin", "%s", strerror(err));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int print_all(const char *s)
{
	if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -EIO;
	return 0;
}

/* VERSION answers whatever the input: the runtime needs the list to pick
 * a version, and echoes its own cniVersion when it is one we know. */
static int cmd_version(const char *in, size_t len, char **out)
{
	struct json_object *root = json_tokener_parse(len ? in : "{}"), *v;
	const char *ver = NULL;
	int err;

	if (root && json_object_object_get_ex(root, "cniVersion", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    cni_version_supported(json_object_get_string(v)))
		ver = json_object_get_string(v);
	err = cni_version_json(ver, out);
	json_object_put(root);
	return err;
}

int main(void)
{
	struct cni_run run = { 0 };
	char *in = NULL, *json = NULL;
	size_t len = 0;
	int err;

	run.env.command = getenv("CNI_COMMAND");
	run.env.container_id = getenv("CNI_CONTAINERID");
	run.env.netns = getenv("CNI_NETNS");
	run.env.ifname = getenv("CNI_IFNAME");
	run.env.args = getenv("CNI_ARGS");

	if (!run.env.command || !*run.env.command) {
		fprintf(stderr, "bulkhead-cni: a CNI plugin, run by a container runtime "
				"(CNI_COMMAND is not set); see docs/cni.md\n");
		cni_fail(&run.err, EINVAL, CNI_E_ENV, "missing environment variable",
			 "CNI_COMMAND is required");
		err = -EINVAL;
		goto out;
	}
	if ((err = read_stdin(&in, &len, &run.err)))
		goto out;
	if (!strcmp(run.env.command, "VERSION")) {
		err = cmd_version(in, len, &run.out);
		if (err)
			cni_fail(&run.err, err, CNI_E_IO, "out of memory", NULL);
		goto out;
	}
	/* DEL and GC must clean up even after a config that ADD refused. */
	if ((err = cni_conf_parse_ex(in, len,
				     !strcmp(run.env.command, "DEL") || !strcmp(run.env.command, "GC")
					     ? CNI_CONF_LENIENT : 0,
				     &run.conf, &run.err)))
		goto out;

	if (!strcmp(run.env.command, "ADD"))
		err = cni_cmd_add(&run);
	else if (!strcmp(run.env.command, "DEL"))
		err = cni_cmd_del(&run);
	else if (!strcmp(run.env.command, "CHECK"))
		err = cni_cmd_check(&run);
	else if (!strcmp(run.env.command, "GC"))
		err = cni_cmd_gc(&run);
	else if (!strcmp(run.env.command, "STATUS"))
		err = cni_cmd_status(&run);
	else
		err = cni_fail(&run.err, EINVAL, CNI_E_ENV, "unknown CNI_COMMAND",
			       "\"%s\": want ADD, DEL, CHECK, GC, STATUS or VERSION",
			       run.env.command);
out:
	if (!err && run.out && print_all(run.out))
		err = -EIO;
	if (err) {
		if (!run.err.code)
			cni_fail(&run.err, err, CNI_E_IO, "internal error", "%s", strerror(-err));
		if (!cni_error_json(&run.err, run.conf.version[0] ? run.conf.version : NULL,
				    &json))
			print_all(json);
	}
	cni_count(&run, err);
	free(json);
	free(run.out);
	free(in);
	cni_conf_free(&run.conf);
	return err ? 1 : 0;
}
