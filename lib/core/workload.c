// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The workload registry: attach, detach, mode, quarantine, namespaces.
 * Each mutation runs under the instance lock inside one store transaction
 * and commits only after the kernel agrees; on failure the transaction is
 * rolled back and the sync hook brings the maps back to the stored state.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "l2id.h"
#include "attach.h"
#include "config.h"
#include "ctx_int.h"
#include "policy.h"
#include "maps.h"
#include "policy_slot.h"
#include "store.h"
#include "sync.h"

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > BH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && ((c != '-' && c != '.' && c != '_') || i == 0))
			return false;
	}
	return true;
}

static int store_fail(struct bh_ctx *ctx, int err, const char *what)
{
	if (err == -ENOENT)
		return err;
	return bh_err(ctx, err, false, "state store: cannot %s: %s", what,
		      ctx->db ? sqlite3_errmsg(ctx->db) : strerror(-err));
}

static int need_db(struct bh_ctx *ctx)
{
	if (!ctx->db)
		return bh_err(ctx, -ENOENT, true, "no bulkhead state in %s", ctx->state_dir);
	return 0;
}

static int no_workload(struct bh_ctx *ctx, const char *ns, const char *name)
{
	return bh_err(ctx, -ENOENT, true, "no workload %s/%s", ns, name);
}

/* After a rolled-back transaction: make the maps match the store again,
 * keeping the first failure's message. */
static void resync_after_failure(struct bh_ctx *ctx)
{
	char msg[sizeof(ctx->err)];
	bool user = ctx->err_user;

	memcpy(msg, ctx->err, sizeof(msg));
	bh_policy_sync(ctx);
	memcpy(ctx->err, msg, sizeof(msg));
	ctx->err_user = user;
}

/* Port names valid, 1..65535, TCP/UDP/SCTP, one port per name and
 * protocol (as Kubernetes requires of a pod's containers). */
static int check_ports(struct bh_ctx *ctx, int nr, const struct bh_named_port *p)
{
	if (nr < 0 || nr > BH_MAX_NAMED_PORTS)
		return bh_err(ctx, -EINVAL, true, "at most %d named ports", BH_MAX_NAMED_PORTS);
	for (int i = 0; i < nr; i++) {
		if (!memchr(p[i].name, '\0', sizeof(p[i].name)) || !bh_port_name_ok(p[i].name))
			return bh_err(ctx, -EINVAL, true, "bad port name '%.*s'",
				      (int)sizeof(p[i].name) - 1, p[i].name);
		if (!p[i].port || (p[i].proto != IPPROTO_TCP && p[i].proto != IPPROTO_UDP &&
				   p[i].proto != IPPROTO_SCTP))
			return bh_err(ctx, -EINVAL, true, "port %s: bad number or protocol",
				      p[i].name);
		for (int j = 0; j < i; j++)
			if (!strcmp(p[i].name, p[j].name) && p[i].proto == p[j].proto)
				return bh_err(ctx, -EINVAL, true, "port name %s given twice",
					      p[i].name);
	}
	return 0;
}

/* The nftables backend has no programs or maps: its sync's table is the
 * whole of what enforces. */
static bool uses_bpf(struct bh_ctx *ctx)
{
	enum bh_backend be;

	return bh_config_backend(ctx, &be) || be == BH_BACKEND_BPF;
}

static int validate(struct bh_ctx *ctx, const struct bh_attach_opts *o, __u32 *ifindex)
{
	if (!o->ifname || !o->ifname[0] || strlen(o->ifname) >= IF_NAMESIZE)
		return bh_err(ctx, -EINVAL, true, "bad interface name '%s'",
			      o->ifname ? o->ifname : "");
	if (!name_ok(o->ns))
		return bh_err(ctx, -EINVAL, true, "bad namespace name '%s'", o->ns ? o->ns : "");
	if (!name_ok(o->name))
		return bh_err(ctx, -EINVAL, true, "bad workload name '%s'",
			      o->name ? o->name : "");
	if (o->nr_ips < 1 || o->nr_ips > BH_MAX_WORKLOAD_IPS)
		return bh_err(ctx, -EINVAL, true, "a workload needs 1 to %d addresses (--ip), got %d",
			      BH_MAX_WORKLOAD_IPS, o->nr_ips);
	for (int i = 0; i < o->nr_ips; i++) {
		if (o->ips[i].family != 4 && o->ips[i].family != 6)
			return bh_err(ctx, -EINVAL, true, "address %d has no family", i + 1);
		for (int j = 0; j < i; j++)
			if (!memcmp(o->ips[i].addr, o->ips[j].addr, 16))
				return bh_err(ctx, -EINVAL, true, "address given twice");
	}
	if (o->nr_labels < 0 || o->nr_labels > BH_MAX_LABELS)
		return bh_err(ctx, -EINVAL, true, "at most %d labels", BH_MAX_LABELS);
	if ((unsigned)o->mode > BH_MODE_ENFORCE || (unsigned)o->hook > BH_HOOK_XDP)
		return bh_err(ctx, -EINVAL, true, "bad mode or hook");
	if (check_ports(ctx, o->nr_ports, o->ports))
		return -EINVAL;
	*ifindex = if_nametoindex(o->ifname);
	if (!*ifindex)
		return bh_err(ctx, -ENODEV, true, "no interface %s", o->ifname);
	return 0;
}

/* A registration whose interface is gone, or was recreated under the same
 * name (a new ifindex): nothing enforces it any more. */
static bool is_stale(const struct bh_workload_info *w)
{
	return if_nametoindex(w->ifname) != w->ifindex;
}

/*
 * What a lookup of an earlier registration (err, w) means for an attach:
 * -ENOENT none, -ESTALE (copied to *stale) one whose interface is gone,
 * -EEXIST a live one, anything else a store failure, returned as is.
 */
static int earlier_registration(int err, const struct bh_workload_info *w,
				struct bh_workload_info *stale)
{
	if (err)
		return err;
	if (is_stale(w)) {
		*stale = *w;
		return -ESTALE;
	}
	return -EEXIST;
}

/* 0 if the attach may go on; -ESTALE with *stale filled if a stale
 * registration stands in the way (the caller removes it and asks again). */
static int check_free(struct bh_ctx *ctx, const struct bh_attach_opts *o,
		      struct bh_workload_info *stale)
{
	struct bh_workload_info *w = malloc(sizeof(*w));
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1], ipbuf[64];
	int err;

	if (!w)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	err = earlier_registration(bh_store_workload_by_ifname(ctx->db, o->ifname, w), w, stale);
	if (err == -EEXIST)
		err = bh_err(ctx, err, true, "%s already carries workload %s/%s",
			     o->ifname, w->ns, w->name);
	if (err == -ENOENT)
		err = earlier_registration(bh_store_workload_get(ctx->db, o->ns, o->name, w),
					   w, stale);
	if (err == -EEXIST)
		err = bh_err(ctx, err, true, "workload %s/%s is already attached to %s",
			     o->ns, o->name, w->ifname);
	if (err != -ENOENT)
		goto out_checked;
	err = 0;
	for (int i = 0; i < o->nr_ips && !err; i++) {
		err = bh_store_ip_owner(ctx->db, &o->ips[i], ns, sizeof(ns), name, sizeof(name));
		if (!err)
			err = bh_err(ctx, -EEXIST, true, "address %s belongs to workload %s/%s",
				     bh_ip_format(&o->ips[i], ipbuf, sizeof(ipbuf)), ns, name);
		else if (err == -ENOENT)
			err = 0;
	}
out_checked:
	/* a failure not explained above came from the store */
	if (err && err != -EEXIST && err != -ESTALE)
		err = store_fail(ctx, err, "read workloads");
	free(w);
	return err;
}

static int detach_one(struct bh_ctx *ctx, struct bh_workload_info *w, const char *why);

/* The MAC to bind: given, else the veth peer's; *bound false when the
 * interface has no readable peer (no MAC to check, l2id.h). */
static int l2_identity(struct bh_ctx *ctx, const struct bh_attach_opts *o, __u32 ifindex,
		       __u8 mac[6], bool *bound)
{
	int err;

	*bound = true;
	if (o->has_mac) {
		memcpy(mac, o->mac, 6);
		return 0;
	}
	err = bh_l2_peer_mac(ifindex, mac);
	if (err == -ENOENT) {
		*bound = false;
		return 0;
	}
	if (err)
		return bh_err(ctx, err, false, "%s: cannot read the MAC of its peer: %s",
			      o->ifname, strerror(-err));
	return 0;
}

int bh_workload_attach(struct bh_ctx *ctx, const struct bh_attach_opts *o)
{
	struct bh_workload_info *w;
	struct bh_tx tx = { 0 };
	bool added = false, bound, bpf = uses_bpf(ctx);
	__u32 ifindex;
	char ipbuf[64], macbuf[32] = "none bound";
	__u8 mac[6];
	int err;

	err = validate(ctx, o, &ifindex);
	if (!err)
		err = l2_identity(ctx, o, ifindex, mac, &bound);
	if (err)
		return err;
	if (bound)
		bh_mac_format(mac, macbuf, sizeof(macbuf));
	if ((err = need_db(ctx)) || (err = bh_ctx_lock(ctx)))
		return err;
	w = calloc(1, sizeof(*w));
	if (!w) {
		err = bh_err(ctx, -ENOMEM, false, "out of memory");
		goto unlock;
	}
	err = bh_ctx_load(ctx);
	/* At most two stale registrations can stand in the way: the one on
	 * this interface name and the one of this workload name. */
	for (int i = 0; !err; i++) {
		err = check_free(ctx, o, w);
		if (err != -ESTALE)
			break;
		if (i == 2) {
			err = bh_err(ctx, -EEXIST, true, "%s: stale registrations remain", o->ifname);
			break;
		}
		err = detach_one(ctx, w, ": its interface was gone or recreated");
	}
	if (err)
		goto out;
	memset(w, 0, sizeof(*w));
	err = bh_store_begin(ctx->db, &tx);
	if (err) {
		err = store_fail(ctx, err, "begin");
		goto out;
	}
	snprintf(w->ns, sizeof(w->ns), "%s", o->ns);
	snprintf(w->name, sizeof(w->name), "%s", o->name);
	snprintf(w->ifname, sizeof(w->ifname), "%s", o->ifname);
	w->ifindex = ifindex;
	w->mode = o->mode;
	w->hook = o->hook;
	w->nr_ips = o->nr_ips;
	memcpy(w->ips, o->ips, sizeof(w->ips[0]) * o->nr_ips);
	w->nr_labels = o->nr_labels;
	memcpy(w->labels, o->labels, sizeof(w->labels[0]) * o->nr_labels);
	w->nr_ports = o->nr_ports;
	memcpy(w->ports, o->ports, sizeof(w->ports[0]) * o->nr_ports);
	w->pending = o->pending;
	err = bh_store_workload_add(ctx->db, w);
	if (err == -ENOSPC)
		err = bh_err(ctx, err, true, "no free workload slot (at most %d workloads)",
			     BH_MAX_WORKLOADS);
	else if (err)
		err = store_fail(ctx, err, "add the workload");
	added = !err;
	if (!err)
		err = bh_event_add(ctx, w->ns, w->name, "attach", "info",
				   "attached to %s (ifindex %u, hook %s, mode %s, slot %u, ip %s%s,"
				   " mac %s%s%s)",
				   w->ifname, ifindex, bh_hook_name(w->hook), bh_mode_name(w->mode),
				   w->slot, bh_ip_format(&w->ips[0], ipbuf, sizeof(ipbuf)),
				   w->nr_ips > 1 ? " ..." : "", macbuf, o->router ? ", router" : "",
				   w->pending ? ", identity pending: closed but DNS" : "");
	/* The slot may have served another workload: start clean. */
	if (!err && bpf)
		err = bh_maps_flows_purge(ctx, w->slot, ifindex);
	if (!err && bpf)
		err = bh_maps_stats_clear(ctx, w->slot);
	/* Layer 2 identity and fresh shares (the slot's flows were purged),
	 * policy, and programs last: the first packet is already judged. */
	if (!err && bpf)
		err = bh_l2_slot_set(ctx, w->slot, bound ? mac : NULL, o->router);
	if (!err)
		err = bh_policy_sync_attach(ctx, w->slot);
	if (!err && bpf)
		err = bh_attach_hooks(ctx, ifindex, w->hook, o->birth);
	if (!err) {
		err = bh_store_end(&tx, true);
		if (err) {
			store_fail(ctx, err, "commit");
			if (bpf)
				bh_detach_hooks(ctx, ifindex, NULL);
		}
	}
	if (err) {
		bh_store_end(&tx, false);
		if (bpf)
			bh_maps_workload_del(ctx, ifindex);
		if (added && bpf)
			bh_slot_release(ctx, w->slot);
		resync_after_failure(ctx);
	}
out:
	free(w);
unlock:
	bh_ctx_unlock(ctx);
	return err;
}

/* Does another stored workload than w use ifindex? */
struct ifindex_user {
	const struct bh_workload_info *self;
	__u32 ifindex;
};

static int other_user(const struct bh_workload_info *w, void *arg)
{
	const struct ifindex_user *u = arg;

	return w->ifindex == u->ifindex && strcmp(w->ifname, u->self->ifname);
}

static int detach_one(struct bh_ctx *ctx, struct bh_workload_info *w, const char *why)
{
	struct ifindex_user u = { w, w->ifindex };
	__u32 cur = if_nametoindex(w->ifname);
	struct bh_tx tx;
	int removed = 0, n = 0, used, err;
	bool bpf = uses_bpf(ctx);

	/* The interface carrying the name now (a veth recreated under the
	 * same name has a new ifindex), and the stored ifindex unless another
	 * of our workloads has it since (a renamed veth keeps its index). */
	used = bh_store_workload_foreach(ctx->db, other_user, &u);
	if (used < 0)
		return store_fail(ctx, used, "read workloads");
	err = bh_ctx_load(ctx);
	if (!err && cur && bpf)
		err = bh_detach_hooks(ctx, cur, &removed);
	if (!err && !used && cur != w->ifindex && bpf) {
		err = bh_detach_hooks(ctx, w->ifindex, &n);
		removed += n;
	}
	if (err)
		return err;
	err = bh_store_begin(ctx->db, &tx);
	if (err)
		return store_fail(ctx, err, "begin");
	if (!used && bpf)
		err = bh_maps_workload_del(ctx, w->ifindex);
	if (!err && cur && cur != w->ifindex && bpf)
		err = bh_maps_workload_del(ctx, cur);
	if (!err && bpf)
		err = bh_slot_release(ctx, w->slot);
	if (!err && (err = bh_store_workload_del(ctx->db, w->ns, w->name)))
		err = store_fail(ctx, err, "delete the workload");
	if (!err)
		err = bh_event_add(ctx, w->ns, w->name, "detach", "info",
				   "detached from %s (%d programs removed)%s", w->ifname, removed,
				   why);
	if (!err)
		err = bh_policy_sync(ctx);
	if (!err && bpf)
		err = bh_maps_flows_purge(ctx, w->slot, w->ifindex);
	if (!err && cur && cur != w->ifindex && bpf)
		err = bh_maps_flows_purge(ctx, w->slot, cur);
	if (!err && (err = bh_store_end(&tx, true)))
		store_fail(ctx, err, "commit");
	if (err) {
		bh_store_end(&tx, false);
		resync_after_failure(ctx);
	}
	return err;
}

/* Detach the workload on ifname; with ifindex, only if the stored veth
 * has that ifindex too (a CNI DEL must not detach a newer veth of the
 * same name). */
static int detach_ifname(struct bh_ctx *ctx, const char *ifname, const __u32 *ifindex)
{
	struct bh_workload_info *w;
	int err;

	if ((err = need_db(ctx)) || (err = bh_ctx_lock(ctx)))
		return err;
	w = malloc(sizeof(*w));
	if (!w) {
		err = bh_err(ctx, -ENOMEM, false, "out of memory");
		goto unlock;
	}
	err = bh_store_workload_by_ifname(ctx->db, ifname, w);
	if (!err && ifindex && w->ifindex != *ifindex)
		err = -ENOENT;
	if (err == -ENOENT && ifindex)
		err = bh_err(ctx, err, true, "%s (ifindex %u) carries no workload of this instance",
			     ifname, *ifindex);
	else if (err == -ENOENT)
		err = bh_err(ctx, err, true, "%s carries no workload of this instance", ifname);
	else if (err)
		err = store_fail(ctx, err, "read workloads");
	else
		err = detach_one(ctx, w, "");
	free(w);
unlock:
	bh_ctx_unlock(ctx);
	return err;
}

int bh_workload_detach(struct bh_ctx *ctx, const char *ifname)
{
	return detach_ifname(ctx, ifname, NULL);
}

int bh_workload_detach_ifindex(struct bh_ctx *ctx, __u32 ifindex, const char *ifname)
{
	return detach_ifname(ctx, ifname, &ifindex);
}

int bh_workload_get(struct bh_ctx *ctx, const char *ns, const char *name,
		    struct bh_workload_info *out)
{
	int err = need_db(ctx);

	if (err)
		return no_workload(ctx, ns, name);
	err = bh_store_workload_get(ctx->db, ns, name, out);
	if (err == -ENOENT)
		return no_workload(ctx, ns, name);
	return err ? store_fail(ctx, err, "read workloads") : 0;
}

int bh_workload_get_slot(struct bh_ctx *ctx, __u32 slot, struct bh_workload_info *out)
{
	int err = need_db(ctx);

	if (err)
		return err;
	err = bh_store_workload_by_slot(ctx->db, slot, out);
	if (err == -ENOENT)
		return bh_err(ctx, err, true, "no workload in slot %u", slot);
	return err ? store_fail(ctx, err, "read workloads") : 0;
}

int bh_workload_foreach(struct bh_ctx *ctx,
			int (*fn)(const struct bh_workload_info *w, void *arg), void *arg)
{
	if (!ctx->db)
		return 0;
	return bh_store_workload_foreach(ctx->db, fn, arg);
}

/* Begin a change to one workload: lock, load, transaction, read it. */
static int begin_change(struct bh_ctx *ctx, const char *ns, const char *name,
			struct bh_tx *tx, struct bh_workload_info **w)
{
	int err;

	*w = NULL;
	if ((err = need_db(ctx)) || (err = bh_ctx_lock(ctx)))
		return err;
	*w = malloc(sizeof(**w));
	if (!*w)
		err = bh_err(ctx, -ENOMEM, false, "out of memory");
	if (!err)
		err = bh_ctx_load(ctx);
	if (!err)
		err = bh_workload_get(ctx, ns, name, *w);
	if (!err && (err = bh_store_begin(ctx->db, tx)))
		store_fail(ctx, err, "begin");
	if (err) {
		free(*w);
		*w = NULL;
		bh_ctx_unlock(ctx);
	}
	return err;
}

static int end_change(struct bh_ctx *ctx, struct bh_tx *tx, struct bh_workload_info *w, int err)
{
	if (!err && (err = bh_store_end(tx, true)))
		store_fail(ctx, err, "commit");
	if (err) {
		bh_store_end(tx, false);
		resync_after_failure(ctx);
	}
	free(w);
	bh_ctx_unlock(ctx);
	return err;
}

int bh_workload_set_mode(struct bh_ctx *ctx, const char *ns, const char *name,
			 enum bh_mode mode)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	enum bh_mode old;
	int err;

	if ((unsigned)mode > BH_MODE_ENFORCE)
		return bh_err(ctx, -EINVAL, true, "bad mode %d", mode);
	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	old = w->mode;
	w->mode = mode;
	if ((err = bh_store_workload_set_mode(ctx->db, ns, name, mode)))
		store_fail(ctx, err, "set the mode");
	if (!err)
		err = bh_event_add(ctx, ns, name, "mode", old == mode ? "info" : "notice",
				   "mode %s -> %s", bh_mode_name(old), bh_mode_name(mode));
	/* The sync writes the entry and, entering enforce, cuts the flows
	 * that passed only as would-deny and that the policy denies. */
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}

int bh_workload_quarantine(struct bh_ctx *ctx, const char *ns, const char *name,
			   const char *reason)
{
	return bh_workload_quarantine_explained(ctx, ns, name, reason, NULL);
}

int bh_workload_quarantine_explained(struct bh_ctx *ctx, const char *ns, const char *name,
				     const char *reason, const char *explanation)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	int err;

	if (!reason || !reason[0])
		reason = "manual";
	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	if ((err = bh_store_workload_set_quarantine(ctx->db, ns, name, true, reason)))
		store_fail(ctx, err, "quarantine");
	if (!err)
		err = bh_event_add(ctx, ns, name, "quarantine", "alert", "quarantined: %s",
				   explanation && explanation[0] ? explanation : reason);
	/* One map update (or, with nftables, one batch): from the next
	 * packet on, every flow of the workload (established ones too)
	 * meets the deny-all map. */
	if (!err)
		err = uses_bpf(ctx) ? bh_maps_policy_quarantine(ctx, w->slot)
				    : bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}

int bh_workload_release(struct bh_ctx *ctx, const char *ns, const char *name)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	int err;

	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	if (!w->quarantined) {
		err = bh_err(ctx, -EINVAL, true, "workload %s/%s is not quarantined", ns, name);
		bh_store_end(&tx, false);
		free(w);
		bh_ctx_unlock(ctx);
		return err;
	}
	if ((err = bh_store_workload_set_quarantine(ctx->db, ns, name, false, NULL)))
		store_fail(ctx, err, "release");
	if (!err)
		err = bh_event_add(ctx, ns, name, "release", "notice",
				   "released from quarantine (was: %s)", w->quarantine_reason);
	w->quarantined = false;
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}

struct by_ifindex {
	__u32 ifindex;
	bool found;
	enum bh_hook hook;
};

static int match_ifindex(const struct bh_workload_info *w, void *arg)
{
	struct by_ifindex *b = arg;

	if (w->ifindex != b->ifindex)
		return 0;
	b->found = true;
	b->hook = w->hook;
	return 1;
}

int bh_workload_check_attached(struct bh_ctx *ctx, __u32 ifindex)
{
	struct by_ifindex b = { .ifindex = ifindex };
	struct bh_workload e;
	int err, fd;

	if (!ctx->db)
		return bh_err(ctx, -ENOENT, true, "no bulkhead state in %s", ctx->state_dir);
	err = bh_store_workload_foreach(ctx->db, match_ifindex, &b);
	if (err < 0)
		return store_fail(ctx, err, "read workloads");
	if (!b.found)
		return bh_err(ctx, -ENOENT, true, "ifindex %u carries no workload", ifindex);
	bh_loader_open_pinned(ctx);
	fd = ctx->map_fds[BH_M_WORKLOADS];
	if (fd < 0 || bpf_map_lookup_elem(fd, &ifindex, &e))
		return bh_err(ctx, -ENOENT, false, "ifindex %u is not in the workload map", ifindex);
	if (bh_hooks_check(ctx, ifindex, b.hook))
		return bh_err(ctx, -ENOENT, false, "bulkhead programs are not attached to ifindex %u",
			      ifindex);
	return 0;
}

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

/* ns: the namespace's name when labelling a namespace, NULL for a
 * workload. As in the Kubernetes API, kubernetes.io/metadata.name may be
 * "set" to the namespace's own name (a no-op: a sync that copies every
 * label from the API must not fail on it); any other value is refused. */
static int check_label_args(struct bh_ctx *ctx, int nr_set, const struct bh_label *set,
			    int nr_remove, const char *const *remove, const char *ns)
{
	if (nr_set < 0 || nr_remove < 0 || nr_set + nr_remove == 0)
		return bh_err(ctx, -EINVAL, true, "no label to set or remove");
	if (nr_set > BH_MAX_LABELS || nr_remove > BH_MAX_LABELS)
		return bh_err(ctx, -EINVAL, true, "at most %d labels", BH_MAX_LABELS);
	for (int i = 0; i < nr_set; i++) {
		if (ns && !strcmp(set[i].key, NS_NAME_LABEL) && strcmp(set[i].value, ns))
			return bh_err(ctx, -EINVAL, true, NS_NAME_LABEL " is the namespace's name"
				      " (%s), not '%s'", ns, set[i].value);
		for (int j = 0; j < nr_remove; j++)
			if (!strcmp(set[i].key, remove[j]))
				return bh_err(ctx, -EINVAL, true, "label %s both set and removed",
					      set[i].key);
	}
	for (int j = 0; j < nr_remove; j++) {
		struct bh_label l;
		char buf[BH_NAME_MAX + 8];

		snprintf(buf, sizeof(buf), "%s=x", remove[j] ? remove[j] : "");
		if (!remove[j] || bh_label_parse(buf, &l))
			return bh_err(ctx, -EINVAL, true, "bad label key '%s'",
				      remove[j] ? remove[j] : "");
		if (ns && !strcmp(remove[j], NS_NAME_LABEL))
			return bh_err(ctx, -EINVAL, true, NS_NAME_LABEL " cannot be removed");
	}
	return 0;
}

int bh_namespace_relabel(struct bh_ctx *ctx, const char *ns, int nr_set,
			 const struct bh_label *set, int nr_remove, const char *const *remove)
{
	struct bh_tx tx;
	int err;

	if (!name_ok(ns))
		return bh_err(ctx, -EINVAL, true, "bad namespace name '%s'", ns ? ns : "");
	err = check_label_args(ctx, nr_set, set, nr_remove, remove, ns);
	if (err)
		return err;
	if ((err = need_db(ctx)) || (err = bh_ctx_begin_change(ctx, &tx)))
		return err;
	err = bh_store_ns_ensure(ctx->db, ns);
	for (int i = 0; i < nr_set && !err; i++)
		if (strcmp(set[i].key, NS_NAME_LABEL))	/* equal to ns: kept as is */
			err = bh_store_ns_set_label(ctx->db, ns, &set[i]);
	for (int i = 0; i < nr_remove && !err; i++)
		err = bh_store_ns_del_label(ctx->db, ns, remove[i]);
	if (err)
		store_fail(ctx, err, "label the namespace");
	for (int i = 0; i < nr_set && !err; i++)
		if (strcmp(set[i].key, NS_NAME_LABEL))
			err = bh_event_add(ctx, ns, "", "namespace", "info", "label %s=%s",
					   set[i].key, set[i].value);
	for (int i = 0; i < nr_remove && !err; i++)
		err = bh_event_add(ctx, ns, "", "namespace", "info", "label %s removed", remove[i]);
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, NULL, err);
}

int bh_workload_label(struct bh_ctx *ctx, const char *ns, const char *name, int nr_set,
		      const struct bh_label *set, int nr_remove, const char *const *remove)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	int err, count = 0;

	err = check_label_args(ctx, nr_set, set, nr_remove, remove, NULL);
	if (err)
		return err;
	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	for (int i = 0; i < nr_set && !err; i++)
		err = bh_store_workload_set_label(ctx->db, ns, name, &set[i]);
	for (int i = 0; i < nr_remove && !err; i++)
		err = bh_store_workload_del_label(ctx->db, ns, name, remove[i]);
	if (!err)
		err = bh_store_workload_label_count(ctx->db, ns, name, &count);
	if (err)
		store_fail(ctx, err, "label the workload");
	else if (count > BH_MAX_LABELS)
		err = bh_err(ctx, -E2BIG, true, "workload %s/%s would have %d labels (at most %d)",
			     ns, name, count, BH_MAX_LABELS);
	for (int i = 0; i < nr_set && !err; i++)
		err = bh_event_add(ctx, ns, name, "label", "info", "label %s=%s", set[i].key,
				   set[i].value);
	for (int i = 0; i < nr_remove && !err; i++)
		err = bh_event_add(ctx, ns, name, "label", "info", "label %s removed", remove[i]);
	/* Selectors may now pick it or drop it: recompile, swap what changed. */
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}

int bh_namespace_get_labels(struct bh_ctx *ctx, const char *ns, int *nr,
			    struct bh_label *labels)
{
	int err;

	if (!ctx->db)
		return bh_err(ctx, -ENOENT, true, "no bulkhead state in %s", ctx->state_dir);
	err = bh_store_ns_labels(ctx->db, ns, nr, labels);
	return err ? store_fail(ctx, err, "read namespace labels") : 0;
}

int bh_workload_set_ports(struct bh_ctx *ctx, const char *ns, const char *name, int nr,
			  const struct bh_named_port *ports)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	char buf[40];
	int err;

	err = check_ports(ctx, nr, ports);
	if (err)
		return err;
	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	err = bh_store_workload_set_ports(ctx->db, ns, name, nr, ports);
	if (err)
		store_fail(ctx, err, "set the workload's ports");
	for (int i = 0; i < nr && !err; i++)
		err = bh_event_add(ctx, ns, name, "ports", "info", "port %s",
				   bh_named_port_format(&ports[i], buf, sizeof(buf)));
	if (!err && !nr)
		err = bh_event_add(ctx, ns, name, "ports", "info", "no named port");
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}

int bh_workload_identity_arrived(struct bh_ctx *ctx, const char *ns, const char *name)
{
	struct bh_workload_info *w;
	struct bh_tx tx;
	int err;

	err = begin_change(ctx, ns, name, &tx, &w);
	if (err)
		return err;
	if (!w->pending)
		return end_change(ctx, &tx, w, 0);
	err = bh_store_workload_set_pending(ctx->db, ns, name, false);
	if (err)
		store_fail(ctx, err, "clear the pending identity");
	if (!err)
		err = bh_event_add(ctx, ns, name, "identity", "info",
				   "identity arrived: its policy applies");
	if (!err)
		err = bh_policy_sync(ctx);
	return end_change(ctx, &tx, w, err);
}
