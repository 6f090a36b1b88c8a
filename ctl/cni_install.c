// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead-cni install`: what the DaemonSet's init container does, in the
 * plugin itself, so the image needs no shell and no jq. It copies this
 * binary into the host's CNI bin dir and writes 00-bulkhead.conflist: the
 * node's primary conflist (the first other *.conflist, as runtimes order
 * them) with bulkhead-cni appended and an older copy of it removed. Both
 * files are written beside their target and renamed over it, so a runtime
 * reading them meanwhile sees the old file or the new one.
 *
 * Environment (the DaemonSet's mounts; set differently only by tests):
 *   CNI_BIN_DIR     /host/opt/cni/bin
 *   CNI_NET_DIR     /host/etc/cni/net.d
 *   BULKHEAD_CNI    the binary to install (default: this one)
 *   BULKHEAD_MODE   enforce | monitor | learn (default enforce)
 *   HOST_STATE_DIR  /var/lib/bulkhead     the agent's instance, as the
 *   HOST_BPFFS      /sys/fs/bpf/bulkhead  plugin on the host finds it
 *   CNI_WAIT_SECONDS  how long to wait for the primary conflist (600)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni_install.h"

#define OUT_NAME "00-bulkhead.conflist"

struct install {
	const char *bin_dir, *net_dir, *src, *mode, *state_dir, *bpffs;
	long wait_s;
};

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "bulkhead-cni install: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

static int copy_binary(const struct install *o)
{
	char tmp[4096], dst[4096], buf[65536];
	int in, out, err = 0;
	ssize_t r;

	snprintf(tmp, sizeof(tmp), "%s/.bulkhead-cni.new", o->bin_dir);
	snprintf(dst, sizeof(dst), "%s/bulkhead-cni", o->bin_dir);
	in = open(o->src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fail("cannot read %s: %s", o->src, strerror(errno));
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		err = fail("cannot write %s: %s", tmp, strerror(errno));
		close(in);
		return err;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));

			if (w < 0) {
				r = -1;
				break;
			}
			off += w;
		}
		if (r < 0)
			break;
	}
	if (r < 0 || fchmod(out, 0755) || fsync(out))
		err = fail("cannot write %s: %s", tmp, strerror(errno));
	close(in);
	if (close(out) && !err)
		err = fail("cannot write %s: %s", tmp, strerror(errno));
	if (!err && rename(tmp, dst))
		err = fail("cannot install %s: %s", dst, strerror(errno));
	if (err)
		unlink(tmp);
	return err;
}

static int is_candidate(const struct dirent *d)
{
	size_t n = strlen(d->d_name), s = strlen(".conflist");

	return d->d_name[0] != '.' && n > s && !strcmp(d->d_name + n - s, ".conflist") &&
	       strcmp(d->d_name, OUT_NAME);
}

/* The first *.conflist other than ours, in the order runtimes read them;
 * waits for one (the primary network plugin writes it when it starts). */
static int find_primary(const struct install *o, char *path, size_t len)
{
	for (long waited = 0;; waited += 5) {
		struct dirent **ents = NULL;
		int n = scandir(o->net_dir, &ents, is_candidate, alphasort);
		int found = 0;

		if (n < 0)
			return fail("cannot read %s: %s", o->net_dir, strerror(errno));
		for (int i = 0; i < n; i++) {
			char cand[4096];
			struct stat st;

			snprintf(cand, sizeof(cand), "%s/%s", o->net_dir, ents[i]->d_name);
			if (!found && stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
				snprintf(path, len, "%s", cand);
				found = 1;
			}
			free(ents[i]);
		}
		free(ents);
		if (found)
			return 0;
		if (waited >= o->wait_s)
			return fail("no conflist in %s%s", o->net_dir, "");
		sleep(5);
	}
}

static int write_conflist(const struct install *o, const char *primary)
{
	struct json_object *root = json_object_from_file(primary), *plugins, *out, *me;
	char tmp[4096], dst[4096];
	int err = 0;

	if (!root)
		return fail("%s: not JSON: %s", primary, json_util_get_last_err());
	if (!json_object_object_get_ex(root, "plugins", &plugins) ||
	    !json_object_is_type(plugins, json_type_array)) {
		json_object_put(root);
		return fail("%s: plugins: expected an array%s", primary, "");
	}
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		struct json_object *p = json_object_array_get_idx(plugins, i), *t;

		if (json_object_object_get_ex(p, "type", &t) &&
		    !strcmp(json_object_get_string(t), "bulkhead-cni"))
			continue;	/* an older copy of ours */
		json_object_array_add(out, json_object_get(p));
	}
	me = json_object_new_object();
	json_object_object_add(me, "type", json_object_new_string("bulkhead-cni"));
	json_object_object_add(me, "mode", json_object_new_string(o->mode));
	json_object_object_add(me, "namespace", json_object_new_string("default"));
	json_object_object_add(me, "stateDir", json_object_new_string(o->state_dir));
	json_object_object_add(me, "bpffs", json_object_new_string(o->bpffs));
	json_object_array_add(out, me);
	json_object_object_add(root, "plugins", out);
	snprintf(tmp, sizeof(tmp), "%s/.%s.new", o->net_dir, OUT_NAME);
	snprintf(dst, sizeof(dst), "%s/%s", o->net_dir, OUT_NAME);
	if (json_object_to_file_ext(tmp, root,
				    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE))
		err = fail("cannot write %s: %s", tmp, json_util_get_last_err());
	else if (rename(tmp, dst))
		err = fail("cannot write %s: %s", dst, strerror(errno));
	if (err)
		unlink(tmp);
	json_object_put(root);
	return err;
}

int cni_install_main(int argc, char **argv)
{
	struct install o = {
		.bin_dir = env_or("CNI_BIN_DIR", "/host/opt/cni/bin"),
		.net_dir = env_or("CNI_NET_DIR", "/host/etc/cni/net.d"),
		.src = env_or("BULKHEAD_CNI", "/proc/self/exe"),
		.mode = env_or("BULKHEAD_MODE", "enforce"),
		.state_dir = env_or("HOST_STATE_DIR", "/var/lib/bulkhead"),
		.bpffs = env_or("HOST_BPFFS", "/sys/fs/bpf/bulkhead"),
	};
	const char *w = env_or("CNI_WAIT_SECONDS", "600");
	char primary[4096], *end;
	int err;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: bulkhead-cni install\n\nCopy bulkhead-cni into $CNI_BIN_DIR and chain it"
		       " after the node's primary\nconflist in $CNI_NET_DIR/" OUT_NAME
		       " (the DaemonSet's init container).\nSee docs/kubernetes.md.\n");
		return 0;
	}
	if (argc > 1)
		return fail("unexpected argument '%s'%s", argv[1], "");
	o.wait_s = strtol(w, &end, 10);
	if (*end || o.wait_s < 0)
		return fail("CNI_WAIT_SECONDS: expected a number of seconds, got '%s'%s", w, "");
	if (strcmp(o.mode, "enforce") && strcmp(o.mode, "monitor") && strcmp(o.mode, "learn"))
		return fail("BULKHEAD_MODE: expected enforce, monitor or learn, got '%s'%s", o.mode,
			    "");
	err = copy_binary(&o);
	if (!err)
		err = find_primary(&o, primary, sizeof(primary));
	if (!err)
		err = write_conflist(&o, primary);
	if (err)
		return err;
	printf("install-cni: %s/%s chains bulkhead-cni after %s\n", o.net_dir, OUT_NAME,
	       strrchr(primary, '/') + 1);
	return 0;
}
