/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bulkhead-cni: ADD, DEL, CHECK, GC and STATUS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni_cmd.h"
#include "cni_count.h"
#include "cni_pod.h"
#include "cni_store.h"
#include "cni_veth.h"
#include "config.h"
#include "sync.h"

/* ------------------------------------------------------------- helpers */

static int need_env(struct cni_run *run, const char *var, const char *val)
{
	if (val && *val)
		return 0;
	return cni_fail(&run->err, EINVAL, CNI_E_ENV, "missing environment variable",
			"%s is required for %s", var, run->env.command);
}

/* CNI_CONTAINERID: alphanumerics plus _ . - (spec); CNI_IFNAME: a Linux
 * interface name. */
static int check_ids(struct cni_run *run, bool need_netns)
{
	const char *id = run->env.container_id, *ifn = run->env.ifname;
	int err;

	if ((err = need_env(run, "CNI_CONTAINERID", id)) ||
	    (err = need_env(run, "CNI_IFNAME", ifn)) ||
	    (need_netns && (err = need_env(run, "CNI_NETNS", run->env.netns))))
		return err;
	if (strlen(id) >= sizeof(((struct cni_record *)0)->container_id) ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(id))
		return cni_fail(&run->err, EINVAL, CNI_E_ENV, "invalid CNI_CONTAINERID",
				"\"%s\": want letters, digits, '_', '.' or '-'", id);
	if (strlen(ifn) >= IF_NAMESIZE || strchr(ifn, '/') || strchr(ifn, ' ') ||
	    !strcmp(ifn, ".") || !strcmp(ifn, ".."))
		return cni_fail(&run->err, EINVAL, CNI_E_ENV, "invalid CNI_IFNAME",
				"\"%s\" is not an interface name", ifn);
	return 0;
}

/* The instance named by the config (stateDir, bpffs) or the environment:
 * podman's cleanup process may run DEL with almost no environment. */
static int open_ctx(struct cni_run *run, bool read_only, struct bh_ctx **ctx)
{
	struct bh_ctx_opts opts = {
		.bpffs = run->conf.bpffs[0] ? run->conf.bpffs : NULL,
		.state_dir = run->conf.state_dir[0] ? run->conf.state_dir : NULL,
		.read_only = read_only,
	};
	int err;

	*ctx = NULL;
	err = bh_ctx_open(&opts, ctx);
	if (err) {
		cni_fail(&run->err, err, CNI_E_IO, "cannot open the bulkhead instance", "%s: %s",
			 *ctx && *bh_ctx_error(*ctx) ? bh_ctx_error(*ctx) : "bh_ctx_open",
			 strerror(-err));
		if (*ctx)
			bh_ctx_close(*ctx);
		*ctx = NULL;
		return err;
	}
	err = cni_store_init(bh_ctx_db(*ctx));
	if (err) {
		bh_ctx_close(*ctx);
		*ctx = NULL;
		return cni_fail(&run->err, err, CNI_E_STORE, "cannot open the attachment records",
				"cni_attachments in %s: %s", opts.state_dir ? opts.state_dir
				: "the state dir", strerror(-err));
	}
	return 0;
}

static int lib_fail(struct cni_run *run, struct bh_ctx *ctx, int err, int code, const char *msg)
{
	const char *why = bh_ctx_error(ctx);

	return cni_fail(&run->err, err, code, msg, "%s", why && *why ? why : strerror(-err));
}

static int store_fail(struct cni_run *run, int err, const char *msg)
{
	return cni_fail(&run->err, err, CNI_E_STORE, msg, "%s", strerror(-err));
}

/* The outcome counted through the command's own store connection, then
 * the instance closed (cni_count.h). */
static void finish(struct cni_run *run, struct bh_ctx *ctx, int err)
{
	cni_count_into(ctx, run, err);
	bh_ctx_close(ctx);
}

/* open_ctx, then the instance lock; on failure nothing stays open. */
static int open_locked(struct cni_run *run, struct bh_ctx **ctx)
{
	int err;

	err = open_ctx(run, false, ctx);
	if (err)
		return err;
	err = bh_ctx_lock(*ctx);
	if (err) {
		err = lib_fail(run, *ctx, err, CNI_E_IO, "cannot lock the bulkhead state");
		bh_ctx_close(*ctx);
		*ctx = NULL;
	}
	return err;
}

struct ifindex_holder {
	int ifindex;
	const char *veth;
	bool taken;
};

static int other_holder(const struct bh_workload_info *w, void *arg)
{
	struct ifindex_holder *h = arg;

	if ((int)w->ifindex == h->ifindex && strcmp(w->ifname, h->veth)) {
		h->taken = true;
		return 1;
	}
	return 0;
}

/* Undo what ADD recorded in R, and only that: the workload is
 * unregistered (and its programs detached) only while it is still the one
 * R registered, on R's ifindex and veth name. If the ifindex now names
 * another link (ifindexes are reused), that link is left alone when
 * another workload of this instance holds it. Then the record goes.
 * Caller holds the lock. Missing pieces are not errors: DEL must succeed
 * when the container, its netns or its veth are gone. */
static int release_record(struct cni_run *run, struct bh_ctx *ctx, const struct cni_record *r)
{
	struct bh_workload_info *w;
	struct bh_link link;
	bool ours;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return cni_fail(&run->err, ENOMEM, CNI_E_IO, "out of memory", NULL);
	err = bh_workload_get(ctx, r->ns, r->name, w);
	ours = !err && (int)w->ifindex == r->ifindex && !strcmp(w->ifname, r->veth);
	free(w);
	if (err && err != -ENOENT)
		return lib_fail(run, ctx, err, CNI_E_ATTACH, "cannot look up the workload");

	if (ours) {
		/* The veth ADD saw, or no link at all (the programs went
		 * with it): detach_ifindex unregisters either way. */
		err = bh_link_get(r->ifindex, NULL, -1, &link);
		if (err && err != -ENODEV)
			return cni_fail(&run->err, err, CNI_E_IO, "cannot look up the host veth",
					"ifindex %d: %s", r->ifindex, strerror(-err));
		/* The ifindex went to another link: detaching would strip
		 * that link's programs if another workload holds it. */
		if (!err && strcmp(link.name, r->veth)) {
			struct ifindex_holder h = { .ifindex = r->ifindex, .veth = r->veth };

			err = bh_workload_foreach(ctx, other_holder, &h);
			if (err < 0)
				return lib_fail(run, ctx, err, CNI_E_ATTACH,
						"cannot look up the workloads");
			ours = !h.taken;
		}
	}
	if (ours) {
		err = bh_workload_detach_ifindex(ctx, (__u32)r->ifindex, r->veth);
		if (err && err != -ENOENT)
			return lib_fail(run, ctx, err, CNI_E_ATTACH, "cannot detach the workload");
	}
	err = cni_store_del(bh_ctx_db(ctx), r->network, r->container_id, r->ifname);
	if (err)
		return cni_fail(&run->err, err, CNI_E_STORE, "cannot delete the attachment record",
				"%s/%s/%s: %s", r->network, r->container_id, r->ifname,
				strerror(-err));
	return 0;
}

/* ----------------------------------------------------------------- ADD */

static int add_locked(struct cni_run *run, struct bh_ctx *ctx, struct bh_attach_opts *o,
		      struct cni_record *rec, bool pod)
{
	struct cni_record old;
	bool known;
	int err;

	/* A repeated ADD without DEL (a runtime retry): drop the stale one. */
	err = cni_store_get(bh_ctx_db(ctx), rec->network, rec->container_id, rec->ifname, &old);
	if (!err && (err = release_record(run, ctx, &old)))
		return err;
	if (err && err != -ENOENT)
		return store_fail(run, err, "cannot read the attachment records");

	/* no "hook" in the conflist: the instance's default, as for attach */
	if (!run->conf.hook_set && (err = bh_config_default_hook(ctx, &o->hook)))
		return lib_fail(run, ctx, err, CNI_E_ATTACH, "cannot read the default hook");
	/* a Kubernetes pod: its identity from the agent, or closed until then */
	if (pod && (err = cni_pod_identity(ctx, o, &known)))
		return lib_fail(run, ctx, err, CNI_E_ATTACH, "cannot read unknown_pod");
	o->birth = true;	/* clsact now, tcx after (tc_attach = auto) */
	err = bh_workload_attach(ctx, o);	/* all-or-nothing */
	if (err)
		return lib_fail(run, ctx, err, CNI_E_ATTACH, "cannot attach bulkhead");
	err = cni_store_put(bh_ctx_db(ctx), rec);
	if (err) {
		bh_workload_detach_ifindex(ctx, (__u32)rec->ifindex, rec->veth);
		return store_fail(run, err, "cannot record the attachment");
	}
	return 0;
}

int cni_cmd_add(struct cni_run *run)
{
	struct bh_attach_opts *o = NULL;
	struct cni_record *rec = NULL;
	struct cni_args *args = NULL;
	struct cni_prev *prev = NULL;
	struct bh_ctx *ctx = NULL;
	struct bh_link veth;
	int err;

	if ((err = check_ids(run, true)))
		return err;
	o = calloc(1, sizeof(*o));
	rec = calloc(1, sizeof(*rec));
	args = calloc(1, sizeof(*args));
	prev = calloc(1, sizeof(*prev));
	if (!o || !rec || !args || !prev) {
		err = cni_fail(&run->err, ENOMEM, CNI_E_IO, "out of memory", NULL);
		goto out;
	}
	if ((err = cni_prev_parse(&run->conf, prev, &run->err)))
		goto out;
	if (!prev->present) {
		err = cni_fail(&run->err, EINVAL, CNI_E_CONFIG, "invalid network config",
			       "bulkhead-cni is a chained plugin: put it after an interface "
			       "plugin (bridge, ptp) so that it gets a prevResult");
		goto out;
	}
	if (!prev->nr_ips) {
		err = cni_fail(&run->err, EINVAL, CNI_E_CONFIG, "invalid prevResult",
			       "no container address in prevResult.ips (is IPAM configured?)");
		goto out;
	}
	if ((err = cni_args_parse(run->env.args, args, &run->err)))
		goto out;
	if ((err = cni_workload_identity(&run->conf, args, run->env.container_id, rec->ns,
					 rec->name, o->labels, &o->nr_labels, &run->err)))
		goto out;
	if ((err = cni_host_veth(run->env.netns, run->env.ifname, prev, &veth, &run->err)))
		goto out;

	o->ifname = veth.name;
	o->ns = rec->ns;
	o->name = rec->name;
	o->nr_ips = prev->nr_ips;
	memcpy(o->ips, prev->ips, sizeof(o->ips));
	o->hook = run->conf.hook;
	o->mode = run->conf.mode;
	/* the container interface's MAC, as the interface plugin reported it;
	 * without one the core reads the veth peer's */
	for (int i = 0; i < prev->nr_ifaces; i++) {
		if (prev->ifaces[i].sandbox && prev->ifaces[i].has_mac &&
		    !strcmp(prev->ifaces[i].name, run->env.ifname)) {
			o->has_mac = true;
			memcpy(o->mac, prev->ifaces[i].mac, 6);
		}
	}
	snprintf(rec->network, sizeof(rec->network), "%s", run->conf.network);
	snprintf(rec->container_id, sizeof(rec->container_id), "%s", run->env.container_id);
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", run->env.ifname);
	snprintf(rec->veth, sizeof(rec->veth), "%s", veth.name);
	rec->ifindex = veth.ifindex;

	if ((err = open_locked(run, &ctx)))
		goto out;
	err = add_locked(run, ctx, o, rec, args->pod_ns[0] && args->pod_name[0]);
	bh_ctx_unlock(ctx);
	if (err)
		goto out;
	err = cni_result_json(&run->conf, &run->out);
	if (err) {
		/* Nothing must stay half-done: the runtime sees a failed ADD. */
		if (!bh_ctx_lock(ctx)) {
			release_record(run, ctx, rec);
			bh_ctx_unlock(ctx);
		}
		err = cni_fail(&run->err, err, CNI_E_IO, "cannot build the result", "%s",
			       strerror(-err));
	}
out:
	finish(run, ctx, err);
	free(o);
	free(rec);
	free(args);
	free(prev);
	return err;
}

/* ----------------------------------------------------------------- DEL */

int cni_cmd_del(struct cni_run *run)
{
	struct cni_record rec;
	struct bh_ctx *ctx;
	int err;

	/* DEL needs no netns and no prevResult. */
	if ((err = check_ids(run, false)))
		return err;
	if ((err = open_locked(run, &ctx)))
		return err;
	err = cni_store_get(bh_ctx_db(ctx), run->conf.network, run->env.container_id,
			    run->env.ifname, &rec);
	if (err == -ENOENT)
		err = 0;	/* ADD never ran, failed, or DEL already did it */
	else if (err)
		err = store_fail(run, err, "cannot read the attachment records");
	else
		err = release_record(run, ctx, &rec);
	bh_ctx_unlock(ctx);
	finish(run, ctx, err);
	return err;
}

/* --------------------------------------------------------------- CHECK */

static int check_locked(struct cni_run *run, struct bh_ctx *ctx, struct bh_workload_info *w)
{
	const char *cid = run->env.container_id, *ifn = run->env.ifname;
	struct cni_prev prev;
	struct cni_record rec;
	struct bh_link link;
	int err;

	err = cni_store_get(bh_ctx_db(ctx), run->conf.network, cid, ifn, &rec);
	if (err == -ENOENT)
		return cni_fail(&run->err, err, CNI_E_CONTAINER, "no bulkhead attachment",
				"no ADD recorded for network %s, container %s, ifname %s",
				run->conf.network, cid, ifn);
	if (err)
		return store_fail(run, err, "cannot read the attachment records");
	/* The veth must still be the container's, under the recorded name. */
	if ((err = cni_prev_parse(&run->conf, &prev, &run->err)))
		return err;
	if ((err = cni_host_veth(run->env.netns, ifn, &prev, &link, &run->err)))
		return err;
	if (link.ifindex != rec.ifindex || strcmp(link.name, rec.veth))
		return cni_fail(&run->err, ESTALE, CNI_E_VETH, "host veth changed",
				"recorded %s (ifindex %d), now %s (ifindex %d)", rec.veth,
				rec.ifindex, link.name, link.ifindex);
	err = bh_workload_get(ctx, rec.ns, rec.name, w);
	if (err == -ENOENT || (!err && ((int)w->ifindex != rec.ifindex ||
					strcmp(w->ifname, rec.veth))))
		return cni_fail(&run->err, ENOENT, CNI_E_NOT_REGISTERED,
				"workload not registered",
				"%s/%s is not registered on %s (ifindex %d)", rec.ns, rec.name,
				rec.veth, rec.ifindex);
	if (err)
		return lib_fail(run, ctx, err, CNI_E_NOT_REGISTERED, "cannot look up the workload");
	err = bh_workload_check_attached(ctx, (__u32)rec.ifindex);
	if (err)
		return cni_fail(&run->err, err, CNI_E_NOT_ATTACHED, "bulkhead programs not attached",
				"%s (ifindex %d) of %s/%s: %s", rec.veth, rec.ifindex, rec.ns,
				rec.name, *bh_ctx_error(ctx) ? bh_ctx_error(ctx) : strerror(-err));
	return 0;
}

int cni_cmd_check(struct cni_run *run)
{
	struct bh_workload_info *w;
	struct bh_ctx *ctx;
	int err;

	if ((err = check_ids(run, true)))
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return cni_fail(&run->err, ENOMEM, CNI_E_IO, "out of memory", NULL);
	if ((err = open_locked(run, &ctx)))
		goto out;
	err = check_locked(run, ctx, w);
	bh_ctx_unlock(ctx);
	finish(run, ctx, err);
out:
	free(w);
	return err;
}

/* ------------------------------------------------------------------ GC */

int cni_cmd_gc(struct cni_run *run)
{
	struct cni_record *recs = NULL;
	struct cni_error first = { 0 };
	struct bh_ctx *ctx;
	int err, nr = 0, ret = 0;

	/* Without the list every attachment would look stale. */
	if (!run->conf.has_valid)
		return cni_fail(&run->err, EINVAL, CNI_E_CONFIG, "invalid GC request",
				"cni.dev/valid-attachments (or cni.dev/attachments) is missing");
	if ((err = open_locked(run, &ctx)))
		return err;
	err = cni_store_list(bh_ctx_db(ctx), run->conf.network, &recs, &nr);
	if (err) {
		err = store_fail(run, err, "cannot read the attachment records");
		goto out;
	}
	/* Best effort over all stale records; report the first failure. */
	for (int i = 0; i < nr; i++) {
		if (cni_conf_is_valid_attachment(&run->conf, recs[i].container_id, recs[i].ifname))
			continue;
		err = release_record(run, ctx, &recs[i]);
		if (err && !ret) {
			ret = err;
			first = run->err;
		}
	}
	err = ret;
	if (err)
		run->err = first;
out:
	bh_ctx_unlock(ctx);
	free(recs);
	finish(run, ctx, err);
	return err;
}

/* -------------------------------------------------------------- STATUS */

int cni_cmd_status(struct cni_run *run)
{
	struct bh_ctx *ctx;
	int err;

	/* Ready = the store opens and the programs and maps load (or are
	 * already pinned): exactly what the next ADD needs. */
	err = open_ctx(run, false, &ctx);
	if (err) {
		run->err.code = CNI_E_NOT_READY;
		return err;
	}
	err = bh_ctx_lock(ctx);
	if (!err) {
		err = bh_ctx_load(ctx);
		bh_ctx_unlock(ctx);
	}
	if (!err && access(bh_ctx_state_dir(ctx), W_OK))
		err = -errno;
	if (err)
		lib_fail(run, ctx, err, CNI_E_NOT_READY, "bulkhead is not ready");
	finish(run, ctx, err);
	return err;
}
