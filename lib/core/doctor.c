// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The checks of `bulkhead doctor` (doctor.h), in the order they print. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/magic.h>

#include "config.h"
#include "doctor.h"
#include "services.h"

/* kfuncs the veth programs call (none today: conntrack is bulkhead's
 * own map). A program that starts using one lists it here so doctor
 * checks the kernel exports it. The Services tc hook's conntrack kfuncs
 * are nf_conntrack's (module BTF): its load says when they are missing,
 * and the "services" check whether it is attached. */
static const char *const kfuncs_in_use[] = { NULL };

static struct bh_doctor_check *add(struct bh_doctor_report *r, const char *name, bool needed,
				   enum bh_doctor_state st, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct bh_doctor_check *add(struct bh_doctor_report *r, const char *name, bool needed,
				   enum bh_doctor_state st, const char *fmt, ...)
{
	struct bh_doctor_check *c;
	va_list ap;

	if (r->nr >= BH_DOCTOR_MAX)
		return NULL;
	c = &r->checks[r->nr++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->needed = needed;
	c->state = st;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (needed && st == BH_DOC_MISSING)
		r->usable = false;
	return c;
}

const char *bh_doctor_state_name(enum bh_doctor_state s)
{
	return s == BH_DOC_OK ? "ok" : s == BH_DOC_MISSING ? "missing" : "info";
}

static void check_kernel(struct bh_doctor_report *r)
{
	struct utsname u;

	if (uname(&u))
		add(r, "kernel", false, BH_DOC_INFO, "uname failed: %m");
	else
		add(r, "kernel", false, BH_DOC_INFO, "Linux %s %s", u.release, u.machine);
}

/* The pin dir's filesystem: a bpffs there already, or /sys/fs/bpf that
 * bulkhead mounts itself when it is not one (loader.c). */
static void check_bpffs(struct bh_doctor_report *r, const char *bpffs)
{
	char dir[4096];
	struct statfs s;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", bpffs);
	/* the pin dir may not exist yet: its nearest existing parent */
	while (statfs(dir, &s) && (slash = strrchr(dir, '/')) && slash != dir)
		*slash = '\0';
	if (statfs(dir, &s) == 0 && s.f_type == BPF_FS_MAGIC) {
		add(r, "bpffs", true, BH_DOC_OK, "%s is on a bpf filesystem", dir);
		return;
	}
	if (access("/sys/fs/bpf", F_OK) == 0 && !strncmp(bpffs, "/sys/fs/bpf/", 12)) {
		add(r, "bpffs", true, BH_DOC_OK, "/sys/fs/bpf is not mounted; bulkhead mounts a"
		    " bpf filesystem there when it loads");
		return;
	}
	add(r, "bpffs", true, BH_DOC_MISSING, "%s is not on a bpf filesystem (mount -t bpf bpf"
	    " /sys/fs/bpf, or set BULKHEAD_BPFFS below it)", bpffs);
}

static void check_btf(struct bh_doctor_report *r)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err = libbpf_get_error(btf);

	if (err) {
		add(r, "btf", false, BH_DOC_MISSING, "no kernel BTF (%s): bulkhead's programs do"
		    " not need it; bpftool shows map contents without names", strerror(-err));
		return;
	}
	add(r, "btf", false, BH_DOC_OK, "kernel BTF at /sys/kernel/btf/vmlinux, %u types",
	    btf__type_cnt(btf));
	btf__free(btf);
}

static void check_programs(struct bh_doctor_report *r)
{
	char msg[256];

	if (bh_probe_programs(msg, sizeof(msg)))
		add(r, "programs", true, BH_DOC_MISSING, "%s", msg);
	else
		add(r, "programs", true, BH_DOC_OK, "this kernel's verifier accepts the XDP and TC"
		    " programs");
}

/* tcx and clsact: one of the two is needed, the one the config forces
 * if it forces one. */
static void check_tc(struct bh_doctor_report *r, enum bh_tc_attach mode)
{
	int tcx = bh_probe_tcx(), clsact = bh_probe_clsact();
	bool tcx_needed = mode == BH_TC_ATTACH_TCX || (mode == BH_TC_ATTACH_AUTO && clsact);
	bool clsact_needed = mode == BH_TC_ATTACH_CLSACT || (mode == BH_TC_ATTACH_AUTO && tcx);

	if (!tcx)
		add(r, "tcx", tcx_needed, BH_DOC_OK, "tcx hooks (Linux >= 6.6)");
	else
		add(r, "tcx", tcx_needed, BH_DOC_MISSING, "no tcx hooks (%s)%s", strerror(-tcx),
		    tcx_needed ? "" : "; TC programs attach through clsact");
	if (!clsact)
		add(r, "clsact", clsact_needed, BH_DOC_OK, "clsact qdisc with cls_bpf filters");
	else
		add(r, "clsact", clsact_needed, BH_DOC_MISSING, "no clsact/cls_bpf (%s)",
		    strerror(-clsact));
	add(r, "tc_attach", false, BH_DOC_INFO, "configured %s: TC programs attach through %s%s",
	    bh_tc_attach_name(mode),
	    mode == BH_TC_ATTACH_CLSACT ? "clsact" : mode == BH_TC_ATTACH_TCX ? "tcx" :
	    !tcx ? "tcx" : !clsact ? "clsact" : "nothing",
	    mode == BH_TC_ATTACH_AUTO && !tcx && !clsact ?
	    " (a pod created through bulkhead-cni starts on clsact; the agent moves it to tcx)" : "");
}

static void check_xdp(struct bh_doctor_report *r, bool needed)
{
	int err = bh_probe_xdp();

	if (!err)
		add(r, "xdp", needed, BH_DOC_OK, "XDP programs attach (native mode on veths)");
	else
		add(r, "xdp", needed, BH_DOC_MISSING, "XDP programs do not attach (%s)%s",
		    strerror(-err), needed ? "" : "; only --hook tc works");
}

static void check_ringbuf(struct bh_doctor_report *r)
{
	int ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	if (ok > 0)
		add(r, "ringbuf", true, BH_DOC_OK, "BPF ring buffer maps (flow records)");
	else
		add(r, "ringbuf", true, BH_DOC_MISSING, "no BPF ring buffer (Linux >= 5.8)%s%s",
		    ok < 0 ? ": " : "", ok < 0 ? strerror(-ok) : "");
}

static void check_kfuncs(struct bh_doctor_report *r)
{
	struct btf *btf;
	char missing[200] = "";
	int n = 0;

	if (!kfuncs_in_use[0]) {
		add(r, "kfuncs", true, BH_DOC_OK, "none in use");
		return;
	}
	btf = btf__load_vmlinux_btf();
	for (int i = 0; kfuncs_in_use[i]; i++, n++)
		if (libbpf_get_error(btf) ||
		    btf__find_by_name_kind(btf, kfuncs_in_use[i], BTF_KIND_FUNC) < 0)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", kfuncs_in_use[i]);
	if (!libbpf_get_error(btf))
		btf__free(btf);
	if (missing[0])
		add(r, "kfuncs", true, BH_DOC_MISSING, "not exported: %s", missing);
	else
		add(r, "kfuncs", true, BH_DOC_OK, "all %d exported", n);
}

/* Since 5.11 BPF memory is charged to the memory cgroup and
 * RLIMIT_MEMLOCK no longer limits it; before, every map counts against
 * it (bulkhead's maps need tens of MiB). */
static void check_memlock(struct bh_doctor_report *r)
{
	struct rlimit rl;
	struct utsname u;
	int maj = 0, min = 0;

	if (getrlimit(RLIMIT_MEMLOCK, &rl)) {
		add(r, "memlock", false, BH_DOC_INFO, "getrlimit: %m");
		return;
	}
	if (!uname(&u))
		sscanf(u.release, "%d.%d", &maj, &min);
	if (maj > 5 || (maj == 5 && min >= 11))
		add(r, "memlock", false, BH_DOC_OK, "BPF memory is charged to the memory cgroup;"
		    " RLIMIT_MEMLOCK (%llu KiB) does not limit it",
		    rl.rlim_cur == RLIM_INFINITY ? 0ULL : (unsigned long long)rl.rlim_cur / 1024);
	else if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (64ULL << 20))
		add(r, "memlock", true, BH_DOC_OK, "RLIMIT_MEMLOCK %s",
		    rl.rlim_cur == RLIM_INFINITY ? "unlimited" : ">= 64 MiB");
	else
		add(r, "memlock", true, BH_DOC_MISSING, "RLIMIT_MEMLOCK is %llu KiB; this kernel"
		    " charges BPF maps to it: raise it (LimitMEMLOCK=infinity)",
		    (unsigned long long)rl.rlim_cur / 1024);
}

/* A conflist naming bulkhead-cni needs the binary next to the others;
 * no conflist naming it is fine (attach by hand, or the node's runtime
 * does not use CNI). */
static void check_cni(struct bh_doctor_report *r, const char *conf_dir, const char *bin_dir)
{
	char path[4096], bin[4096];
	struct dirent *de;
	char found[256] = "";
	DIR *d = opendir(conf_dir);

	snprintf(bin, sizeof(bin), "%s/bulkhead-cni", bin_dir);
	if (!d) {
		add(r, "cni", false, BH_DOC_INFO, "no CNI config dir %s: bulkhead-cni is not in"
		    " a chain", conf_dir);
		return;
	}
	while (!found[0] && (de = readdir(d))) {
		struct json_object *root, *plugins;
		size_t n = strlen(de->d_name);

		if (n < 9 || strcmp(de->d_name + n - 9, ".conflist"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", conf_dir, de->d_name);
		root = json_object_from_file(path);
		if (!root)
			continue;
		if (json_object_object_get_ex(root, "plugins", &plugins) &&
		    json_object_is_type(plugins, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(plugins); i++) {
				struct json_object *p = json_object_array_get_idx(plugins, i), *t;

				if (json_object_object_get_ex(p, "type", &t) &&
				    !strcmp(json_object_get_string(t), "bulkhead-cni"))
					snprintf(found, sizeof(found), "%s", de->d_name);
			}
		}
		json_object_put(root);
	}
	closedir(d);
	if (!found[0])
		add(r, "cni", false, BH_DOC_INFO, "no conflist in %s chains bulkhead-cni",
		    conf_dir);
	else if (access(bin, X_OK))
		add(r, "cni", true, BH_DOC_MISSING, "%s/%s chains bulkhead-cni but %s is missing:"
		    " pods on this node cannot start", conf_dir, found, bin);
	else
		add(r, "cni", true, BH_DOC_OK, "%s/%s chains %s", conf_dir, found, bin);
}

/* With Service frontends set, the hook that judges them on the backend
 * must be attached, the tc one on every host veth: a flow through a
 * Service it does not see stays flagged and fails closed. */
static void check_services(struct bh_ctx *ctx, struct bh_doctor_report *r)
{
	struct bh_svc_status st;
	char up[80] = "";

	bh_svc_hook_status(ctx, &st);
	for (int i = 0; i < st.nr_uplinks; i++)
		snprintf(up + strlen(up), sizeof(up) - strlen(up), "%s%s", i ? ", " : "",
			 st.uplinks[i]);
	if (!st.frontends)
		add(r, "services", false, BH_DOC_INFO, "no Service frontend set%s",
		    st.netfilter ? " (netfilter hook attached)" : st.tc ? " (tc hook pinned)" : "");
	else if (st.netfilter)
		add(r, "services", true, BH_DOC_OK, "%d Service frontends, judged on the backend"
		    " by the netfilter hook after NAT", st.frontends);
	else if (!st.tc)
		add(r, "services", true, BH_DOC_MISSING, "%d Service frontends set but no Services"
		    " hook attached: flows to them fail closed", st.frontends);
	else if (st.veths_without)
		add(r, "services", true, BH_DOC_MISSING, "%d Service frontends; the tc hook is"
		    " missing on %d of %d host veths (%s): a flow through a Service to a backend"
		    " there fails closed (restart the agent to attach it again)", st.frontends,
		    st.veths_without, st.veths, st.without);
	else
		add(r, "services", true, BH_DOC_OK, "%d Service frontends, judged on the backend by"
		    " the tc hook on %d host veths and on %s", st.frontends, st.veths,
		    up[0] ? up : "no uplink (backends on other nodes fail closed)");
}

int bh_doctor_run(const struct bh_doctor_opts *o, struct bh_doctor_report *r)
{
	memset(r, 0, sizeof(*r));
	r->usable = true;
	check_kernel(r);
	check_bpffs(r, o->bpffs);
	check_btf(r);
	check_programs(r);
	check_tc(r, o->tc_attach);
	check_xdp(r, o->xdp_needed);
	check_ringbuf(r);
	check_kfuncs(r);
	check_memlock(r);
	check_cni(r, o->cni_conf_dir ? o->cni_conf_dir : "/etc/cni/net.d",
		  o->cni_bin_dir ? o->cni_bin_dir : "/opt/cni/bin");
	return 0;
}

/* The instance's config decides what is needed: tc_attach and hook. A bad
 * config is itself a finding (nothing loads until it is fixed). */
int bh_doctor_run_ctx(struct bh_ctx *ctx, const char *cni_conf_dir, const char *cni_bin_dir,
		      struct bh_doctor_report *r)
{
	struct bh_doctor_opts o = { .bpffs = bh_ctx_bpffs(ctx), .cni_conf_dir = cni_conf_dir,
				    .cni_bin_dir = cni_bin_dir };
	const struct bh_config_entry *e;
	const struct bh_config *cfg;
	bool bad = false;
	char msg[320];
	int err;

	if (bh_ctx_config(ctx, &cfg)) {
		snprintf(msg, sizeof(msg), "%s", bh_ctx_error(ctx));
		bad = true;
	} else {
		if ((e = bh_config_next(cfg, "tc_attach", NULL)))
			bh_tc_attach_parse(e->value, &o.tc_attach);
		if ((e = bh_config_next(cfg, "hook", NULL)))
			o.xdp_needed = !strcmp(e->value, "xdp");
	}
	err = bh_doctor_run(&o, r);
	if (!err)
		check_services(ctx, r);
	if (!err && bad)
		add(r, "config", true, BH_DOC_MISSING, "%s", msg);
	return err;
}
