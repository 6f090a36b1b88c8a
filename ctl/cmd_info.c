// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `bulkhead version`: the build's version (git describe at build time),
 * the libraries it runs with, and the kernel facts bulkhead depends on.
 * `help` is run by the dispatcher (ctl/bulkhead.c), `completion` by
 * ctl/completion.c; both are listed here so the tables name every verb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cli.h"
#include "help.h"
#include "version.h"

static bool file_has(const char *path, const char *word)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (char *tok = strtok(buf, ",\n"); tok && !found; tok = strtok(NULL, ",\n"))
			found = !strcmp(tok, word);
	fclose(f);
	return found;
}

/* tcx (BPF_TCX_INGRESS/EGRESS) arrived in Linux 6.6. */
static bool kernel_at_least(const char *release, int major, int minor)
{
	int ma = 0, mi = 0;

	if (sscanf(release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static int cmd_version(struct bh_cli *cli, int argc, char **argv)
{
	json_object *j = json_object_new_object(), *libs = json_object_new_object(),
		    *k = json_object_new_object();
	struct utsname u;

	(void)argv;
	if (argc) {
		json_object_put(j);
		json_object_put(libs);
		json_object_put(k);
		return bh_cli_fail(BH_EXIT_USER, "version takes no argument");
	}
	json_object_object_add(j, "version", json_object_new_string(BH_VERSION));
	json_object_object_add(libs, "libbpf", json_object_new_string(libbpf_version_string()));
	json_object_object_add(libs, "libxdp", json_object_new_string(BH_LIBXDP_VERSION));
	json_object_object_add(libs, "gnutls", json_object_new_string(gnutls_check_version(NULL)));
	json_object_object_add(libs, "sqlite", json_object_new_string(sqlite3_libversion()));
	json_object_object_add(libs, "json_c", json_object_new_string(json_c_version()));
	json_object_object_add(libs, "libyaml", json_object_new_string(yaml_get_version_string()));
	json_object_object_add(j, "libraries", libs);
	if (uname(&u) == 0) {
		json_object_object_add(k, "release", json_object_new_string(u.release));
		json_object_object_add(k, "machine", json_object_new_string(u.machine));
		json_object_object_add(k, "btf", json_object_new_boolean(
			access("/sys/kernel/btf/vmlinux", R_OK) == 0));
		json_object_object_add(k, "tcx", json_object_new_boolean(
			kernel_at_least(u.release, 6, 6)));
		json_object_object_add(k, "bpf_lsm", json_object_new_boolean(
			file_has("/sys/kernel/security/lsm", "bpf")));
	}
	json_object_object_add(j, "kernel", k);
	return bh_cli_print(cli, j, NULL);
}

const struct bh_cli_cmd bh_info_cmds[] = {
	{ NULL, "version", cmd_version, "version" },
	{ NULL, "help", NULL, "help [OBJECT [COMMAND]]" },	/* ctl/bulkhead.c */
	{ NULL, "completion", bh_cmd_completion, "completion bash|zsh|man" },
	{ 0 },
};
