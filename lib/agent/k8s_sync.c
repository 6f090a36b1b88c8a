// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The watch cache -> bulkhead's state, level-triggered: on every cache
 * change (and once a second, for workloads attached meanwhile) make
 * bulkhead match what the API says, changing only what differs:
 *   1. namespace labels (namespaces bulkhead has but the API has not are
 *      left alone);
 *   2. the labels of this node's workloads whose NS/NAME is a pod;
 *   3. NetworkPolicies and BulkheadPolicies, one `policy apply` per object
 *      (all-or-nothing); an object bulkhead refuses is logged and reported
 *      as a Kubernetes Event on it, its previous version (if any) stays in
 *      force; objects gone from the API are deleted, but only those the
 *      watch applied (table k8s_policies), never CLI-applied ones.
 * Each change goes through the ordinary library calls, which recompile and
 * swap only the maps whose entries changed (policy/sync.c).
 * Nothing is removed before the resource's first list: an empty cache is
 * not an empty API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "k8s_int.h"
#include "k8s_service.h"
#include "peers.h"
#include "sync.h"

#define NS_NAME_LABEL	"kubernetes.io/metadata.name"

struct labelset {
	int nr;
	struct bh_label l[BH_MAX_LABELS];
	int nr_bad;			/* labels bulkhead refuses, skipped */
	char bad[256];			/* the first one, for the log */
	bool too_many;
	int nr_ports;			/* pods: named container ports */
	struct bh_named_port ports[BH_MAX_NAMED_PORTS];
};

struct want_pol {
	char key[600];			/* "np:NS/NAME" or "bp:NS/NAME" */
	struct k8s_ref ref;
	char *doc;			/* the document `policy apply` gets */
};

struct rs {				/* the reconcile thread's own state */
	struct k8s *k;
	struct bh_ctx *ctx;
	json_object *tried;		/* key -> doc last applied or refused */
	uint64_t peers_gen;		/* pods cache generation last made peers */
	int peers_wl;			/* local workload count then */
	struct k8s_svc_state svc;	/* k8s_service.c */
};

/* ---------------------------------------------------------------- peers
 * Every pod that is not a workload of this node, with an address and a
 * network of its own: other nodes' pods, and this node's pods bulkhead
 * did not attach. Host-network pods are left out: their address is the
 * node's, which no pod identity may claim (docs/kubernetes.md). */
static void labels_from(json_object *obj, struct labelset *out);

struct peer_set {
	int nr, cap;
	struct bh_peer_rec *v;
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct bh_label *)a)->key, ((const struct bh_label *)b)->key);
}

/* Append ip to out if it is an address (the API's text is data: a bad one
 * is skipped, never allowed to hold back every other pod's identity). */
static size_t add_ip(char *out, size_t len, size_t n, json_object *ip)
{
	struct bh_ip parsed;
	const char *s;

	if (!json_object_is_type(ip, json_type_string))
		return n;
	s = json_object_get_string(ip);
	if (strlen(s) >= 64 || bh_ip_parse(s, &parsed) || n + strlen(s) + 2 > len)
		return n;
	return n + (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", s);
}

static bool pod_ips(json_object *pod, char *out, size_t len)
{
	json_object *st, *ips, *v, *spec;
	size_t n = 0;

	out[0] = '\0';
	if (json_object_object_get_ex(pod, "spec", &spec) &&
	    json_object_object_get_ex(spec, "hostNetwork", &v) && json_object_get_boolean(v))
		return false;
	if (!json_object_object_get_ex(pod, "status", &st))
		return false;
	if (json_object_object_get_ex(st, "phase", &v) &&
	    (!strcmp(json_object_get_string(v), "Succeeded") ||
	     !strcmp(json_object_get_string(v), "Failed")))
		return false;	/* finished: its address is free for others */
	if (json_object_object_get_ex(st, "podIPs", &ips) && json_object_is_type(ips, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(ips) && i < BH_MAX_WORKLOAD_IPS; i++) {
			json_object *ip;

			if (json_object_object_get_ex(json_object_array_get_idx(ips, i), "ip", &ip))
				n = add_ip(out, len, n, ip);
		}
	} else if (json_object_object_get_ex(st, "podIP", &v)) {
		n = add_ip(out, len, n, v);
	}
	return n > 0;
}

static void peers_free(struct peer_set *ps)
{
	for (int i = 0; i < ps->nr; i++) {
		free((char *)ps->v[i].ns);
		free((char *)ps->v[i].name);
		free((char *)ps->v[i].ips);
		free((char *)ps->v[i].labels);
		free((char *)ps->v[i].ports);
	}
	free(ps->v);
}

/* Under k->mu. */
static void collect_peers(json_object *pods, json_object *local, struct peer_set *ps)
{
	struct labelset *ls = malloc(sizeof(*ls));

	if (!ls)
		return;
	json_object_object_foreach(pods, key, pod) {
		char ips[4 * 64 + 8], *labels, *nsn, *slash;
		struct bh_named_port np[BH_MAX_NAMED_PORTS];
		size_t n = 0;

		if (json_object_object_get_ex(local, key, NULL) || !pod_ips(pod, ips, sizeof(ips)))
			continue;
		if (!(nsn = strdup(key)) || !(slash = strchr(nsn, '/'))) {
			free(nsn);
			continue;
		}
		labels_from(pod, ls);
		qsort(ls->l, (size_t)ls->nr, sizeof(ls->l[0]), cmp_label);
		labels = malloc((size_t)ls->nr * (BH_NAME_MAX + 66) + 1);
		if (!labels) {
			free(nsn);
			continue;
		}
		labels[0] = '\0';
		for (int i = 0; i < ls->nr; i++)
			n += (size_t)sprintf(labels + n, "%s=%s\n", ls->l[i].key, ls->l[i].value);
		if (ps->nr == ps->cap) {
			void *nv = realloc(ps->v, (size_t)(ps->cap = ps->cap ? ps->cap * 2 : 256) *
					   sizeof(*ps->v));

			if (!nv) {
				free(nsn);
				free(labels);
				break;
			}
			ps->v = nv;
		}
		*slash = '\0';
		ps->v[ps->nr++] = (struct bh_peer_rec){ .ns = nsn, .name = strdup(slash + 1),
							.ips = strdup(ips), .labels = labels,
							.ports = k8s_ports_text(np,
								k8s_pod_ports(pod, np, BH_MAX_NAMED_PORTS)) };
	}
	free(ls);
}

static void sync_peers(struct rs *s, struct peer_set *ps)
{
	int changed = 0;

	for (int i = 0; i < ps->nr; i++)
		if (!ps->v[i].name || !ps->v[i].ips || !ps->v[i].ports)
			return;		/* out of memory: next pass */
	if (bh_peers_replace(s->ctx, ps->nr, ps->v, &changed))
		k8s_log(s->k, false, "kubernetes: pod identities not updated: %s",
			bh_ctx_error(s->ctx));
}

/* --------------------------------------------------------------- labels */
static void labels_from(json_object *obj, struct labelset *out)
{
	json_object *md, *labels;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(obj, "metadata", &md) ||
	    !json_object_object_get_ex(md, "labels", &labels) ||
	    !json_object_is_type(labels, json_type_object))
		return;
	json_object_object_foreach(labels, key, val) {
		char kv[BH_NAME_MAX + 80];

		if (out->nr == BH_MAX_LABELS) {
			out->too_many = true;
			break;
		}
		snprintf(kv, sizeof(kv), "%s=%s", key,
			 json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "");
		if (!json_object_is_type(val, json_type_string) || strlen(key) > BH_NAME_MAX ||
		    bh_label_parse(kv, &out->l[out->nr])) {
			if (!out->nr_bad++)
				snprintf(out->bad, sizeof(out->bad), "%s", key);
			continue;
		}
		out->nr++;
	}
}

static const struct bh_label *find_label(int nr, const struct bh_label *l, const char *key)
{
	for (int i = 0; i < nr; i++)
		if (!strcmp(l[i].key, key))
			return &l[i];
	return NULL;
}

/* Labels to set (in want, not equal in have) and keys to remove (in have,
 * not in want). keep: a key never removed. */
static void label_diff(const struct labelset *want, int nr_have, const struct bh_label *have,
		       const char *keep, int *nr_set, struct bh_label *set, int *nr_rm,
		       const char **rm)
{
	*nr_set = *nr_rm = 0;
	for (int i = 0; i < want->nr; i++) {
		const struct bh_label *h = find_label(nr_have, have, want->l[i].key);

		if (!h || strcmp(h->value, want->l[i].value))
			set[(*nr_set)++] = want->l[i];
	}
	for (int i = 0; i < nr_have; i++)
		if (!find_label(want->nr, want->l, have[i].key) && (!keep || strcmp(have[i].key, keep)))
			rm[(*nr_rm)++] = have[i].key;
}

/* ----------------------------------------------------------- namespaces */
struct ns_want {
	char name[254];
	struct labelset ls;
};

static void sync_namespaces(struct rs *s, struct ns_want *want, int nr)
{
	struct bh_label *have = calloc(BH_MAX_LABELS + 1, sizeof(*have));
	struct bh_label *set = calloc(BH_MAX_LABELS, sizeof(*set));
	const char *rm[BH_MAX_LABELS + 1];

	for (int i = 0; have && set && i < nr; i++) {
		int nr_have = BH_MAX_LABELS + 1, nr_set, nr_rm;

		if (bh_namespace_get_labels(s->ctx, want[i].name, &nr_have, have))
			nr_have = 0;
		label_diff(&want[i].ls, nr_have, have, NS_NAME_LABEL, &nr_set, set, &nr_rm, rm);
		if (!nr_set && !nr_rm)
			continue;
		if (want[i].ls.nr_bad)
			k8s_log(s->k, false, "kubernetes: namespace %s: label %s skipped: not a label"
				" bulkhead accepts", want[i].name, want[i].ls.bad);
		if (bh_namespace_relabel(s->ctx, want[i].name, nr_set, set, nr_rm, rm))
			k8s_log(s->k, false, "kubernetes: namespace %s: labels not updated: %s",
				want[i].name, bh_ctx_error(s->ctx));
		else
			k8s_log(s->k, false, "kubernetes: namespace %s: labels updated", want[i].name);
	}
	free(have);
	free(set);
}

/* ------------------------------------------------------------ workloads */
struct wl_list {
	int nr;
	struct bh_workload_info *w;
};

static int add_wl(const struct bh_workload_info *w, void *arg)
{
	struct wl_list *l = arg;
	struct bh_workload_info *n = realloc(l->w, (size_t)(l->nr + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->w = n;
	l->w[l->nr++] = *w;
	return 0;
}

/* A pod attached before the agent knew it (unknown_pod: deny) leaves the
 * posture once its labels and ports are in place. */
static void settle(struct rs *s, const struct bh_workload_info *w)
{
	if (!w->pending)
		return;
	if (bh_workload_identity_arrived(s->ctx, w->ns, w->name))
		k8s_log(s->k, false, "kubernetes: pod %s/%s: still closed: %s", w->ns, w->name,
			bh_ctx_error(s->ctx));
	else
		k8s_log(s->k, false, "kubernetes: pod %s/%s: identity arrived, its policy applies",
			w->ns, w->name);
}

static void sync_workloads(struct rs *s, struct wl_list *wl, struct labelset *want,
			   const bool *has_pod)
{
	struct bh_label *set = calloc(BH_MAX_LABELS, sizeof(*set));
	const char *rm[BH_MAX_LABELS];

	for (int i = 0; set && i < wl->nr; i++) {
		const struct bh_workload_info *w = &wl->w[i];
		int nr_set, nr_rm;

		if (!has_pod[i])
			continue;	/* no pod by that name: attached by hand */
		if (want[i].nr_ports != w->nr_ports ||
		    memcmp(want[i].ports, w->ports, sizeof(w->ports[0]) * (size_t)w->nr_ports)) {
			if (bh_workload_set_ports(s->ctx, w->ns, w->name, want[i].nr_ports,
						  want[i].ports))
				k8s_log(s->k, false, "kubernetes: pod %s/%s: ports not updated: %s",
					w->ns, w->name, bh_ctx_error(s->ctx));
			else
				k8s_log(s->k, false, "kubernetes: pod %s/%s: named ports updated",
					w->ns, w->name);
		}
		label_diff(&want[i], w->nr_labels, w->labels, NULL, &nr_set, set, &nr_rm, rm);
		if (!nr_set && !nr_rm) {
			settle(s, w);
			continue;
		}
		if (want[i].nr_bad)
			k8s_log(s->k, false, "kubernetes: pod %s/%s: label %s skipped: not a label"
				" bulkhead accepts", w->ns, w->name, want[i].bad);
		if (want[i].too_many)
			k8s_log(s->k, false, "kubernetes: pod %s/%s: more than %d labels, the rest"
				" skipped", w->ns, w->name, BH_MAX_LABELS);
		if (bh_workload_label(s->ctx, w->ns, w->name, nr_set, set, nr_rm, rm)) {
			k8s_log(s->k, false, "kubernetes: pod %s/%s: labels not updated: %s", w->ns,
				w->name, bh_ctx_error(s->ctx));
			continue;	/* a pending pod opens only with its labels in place */
		}
		k8s_log(s->k, false, "kubernetes: pod %s/%s: labels updated", w->ns, w->name);
		settle(s, w);
	}
	free(set);
}

/* ------------------------------------------------------------- policies */
static int origin_set(sqlite3 *db, const char *ns, const char *name, const char *kind, bool add)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, add ? "INSERT OR REPLACE INTO k8s_policies(ns, name, kind)"
				" VALUES(?, ?, ?)" : "DELETE FROM k8s_policies WHERE ns = ? AND name = ?",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (add)
		sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static bool origin_has(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;
	bool r;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM k8s_policies WHERE ns = ? AND name = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

static void ref_from(json_object *obj, const char *kind, const char *api, struct k8s_ref *r)
{
	json_object *md, *v;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->api_version = api;
	if (!json_object_object_get_ex(obj, "metadata", &md))
		return;
#define CP(f, key) if (json_object_object_get_ex(md, key, &v)) \
		snprintf(r->f, sizeof(r->f), "%s", json_object_get_string(v))
	CP(ns, "namespace");
	CP(name, "name");
	CP(uid, "uid");
	CP(rv, "resourceVersion");
#undef CP
}

/* The document `policy apply` gets: JSON is YAML; only the fields a
 * policy file has (the server's metadata and status are not policy). */
static char *policy_doc(json_object *obj, bool native, const struct k8s_ref *r)
{
	json_object *doc = json_object_new_object(), *md = json_object_new_object(), *spec;
	char *out;

	if (!doc || !md) {
		json_object_put(doc);
		json_object_put(md);
		return NULL;
	}
	json_object_object_add(doc, "apiVersion",
			       json_object_new_string(native ? "bulkhead.io/v1" : "networking.k8s.io/v1"));
	json_object_object_add(doc, "kind",
			       json_object_new_string(native ? "Policy" : "NetworkPolicy"));
	json_object_object_add(md, "name", json_object_new_string(r->name));
	json_object_object_add(md, "namespace", json_object_new_string(r->ns));
	json_object_object_add(doc, "metadata", md);
	if (json_object_object_get_ex(obj, "spec", &spec))
		json_object_object_add(doc, "spec", json_object_get(spec));
	out = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);	/* drops our reference to spec again */
	return out;
}

static void refuse(struct rs *s, const struct want_pol *p, const char *why)
{
	char msg[1024];
	bool had = origin_has(bh_ctx_db(s->ctx), p->ref.ns, p->ref.name);

	snprintf(msg, sizeof(msg), "bulkhead cannot enforce this %s exactly, so it enforces none"
		 " of this version%s: %s", p->ref.kind,
		 had ? " (the previous version stays in force)" : "", why);
	k8s_log(s->k, false, "kubernetes: %s %s/%s not enforced: %s", p->ref.kind, p->ref.ns,
		p->ref.name, why);
	k8s_post_event(s->k, &p->ref, "NotEnforced", msg);
}

static void apply_policy(struct rs *s, const struct want_pol *p, bool conflict)
{
	struct bh_apply_result res;
	json_object *prev;
	char name[700];

	if (json_object_object_get_ex(s->tried, p->key, &prev) &&
	    !strcmp(json_object_get_string(prev), p->doc))
		return;		/* this version was applied (or refused) already */
	if (conflict) {
		refuse(s, p, "a NetworkPolicy of the same namespace and name exists; bulkhead"
		       " keeps one policy per namespace and name");
		json_object_object_add(s->tried, p->key, json_object_new_string(p->doc));
		return;
	}
	snprintf(name, sizeof(name), "kubernetes %s %s/%s", p->ref.kind, p->ref.ns, p->ref.name);
	if (bh_policy_apply_buf(s->ctx, name, p->doc, strlen(p->doc), &res)) {
		if (!bh_ctx_error_is_user(s->ctx)) {
			/* the system failed, not the policy: try again later */
			k8s_log(s->k, false, "kubernetes: %s %s/%s: %s", p->ref.kind, p->ref.ns,
				p->ref.name, bh_ctx_error(s->ctx));
			return;
		}
		refuse(s, p, bh_ctx_error(s->ctx));
	} else {
		if (res.nr && res.items[0].change != BH_APPLY_UNCHANGED)
			k8s_log(s->k, false, "kubernetes: %s %s/%s applied", p->ref.kind, p->ref.ns,
				p->ref.name);
		bh_apply_result_free(&res);
		origin_set(bh_ctx_db(s->ctx), p->ref.ns, p->ref.name, p->ref.kind, true);
	}
	json_object_object_add(s->tried, p->key, json_object_new_string(p->doc));
}

struct gone_arg {
	int nr, cap;
	char (*keys)[2][254];
};

static void delete_gone(struct rs *s, const struct want_pol *want, int nr)
{
	sqlite3 *db = bh_ctx_db(s->ctx);
	sqlite3_stmt *st;
	struct gone_arg g = { 0 };

	if (sqlite3_prepare_v2(db, "SELECT ns, name FROM k8s_policies", -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ns = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		bool keep = false;

		for (int i = 0; i < nr && !keep; i++)
			keep = !strcmp(want[i].ref.ns, ns) && !strcmp(want[i].ref.name, name);
		if (keep)
			continue;
		if (g.nr == g.cap) {
			void *n = realloc(g.keys, (size_t)(g.cap = g.cap ? g.cap * 2 : 8) * sizeof(*g.keys));

			if (!n)
				break;
			g.keys = n;
		}
		snprintf(g.keys[g.nr][0], 254, "%s", ns);
		snprintf(g.keys[g.nr][1], 254, "%s", name);
		g.nr++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < g.nr; i++) {
		char key[600];
		int err = bh_policy_delete(s->ctx, g.keys[i][0], g.keys[i][1]);

		if (err && err != -ENOENT) {
			k8s_log(s->k, false, "kubernetes: policy %s/%s: delete failed: %s",
				g.keys[i][0], g.keys[i][1], bh_ctx_error(s->ctx));
			continue;
		}
		origin_set(db, g.keys[i][0], g.keys[i][1], NULL, false);
		snprintf(key, sizeof(key), "np:%s/%s", g.keys[i][0], g.keys[i][1]);
		json_object_object_del(s->tried, key);
		key[0] = 'b';
		json_object_object_del(s->tried, key);
		k8s_log(s->k, false, "kubernetes: policy %s/%s deleted (gone from the API)",
			g.keys[i][0], g.keys[i][1]);
	}
	free(g.keys);
}

/* ------------------------------------------------------------- one pass */
static void reconcile(struct rs *s)
{
	struct k8s *k = s->k;
	struct wl_list wl = { 0 };
	struct ns_want *nsw = NULL;
	struct labelset *podw = NULL;
	bool *has_pod = NULL, ns_ok, pods_ok, pol_ok;
	struct want_pol *pw = NULL;
	struct peer_set ps = { 0 };
	bool do_peers = false;
	int nr_ns = 0, nr_pw = 0, cap_pw = 0;

	if (bh_workload_foreach(s->ctx, add_wl, &wl))
		k8s_log(k, false, "kubernetes: cannot read workloads: %s", bh_ctx_error(s->ctx));
	podw = calloc((size_t)wl.nr + 1, sizeof(*podw));
	has_pod = calloc((size_t)wl.nr + 1, sizeof(*has_pod));

	pthread_mutex_lock(&k->mu);
	ns_ok = k->res[K8S_NAMESPACES].synced;
	pods_ok = k->res[K8S_PODS].synced;
	pol_ok = k->res[K8S_NETPOLS].synced && k->res[K8S_BHPOLS].synced;
	if (ns_ok) {
		nsw = calloc((size_t)json_object_object_length(k->res[K8S_NAMESPACES].cache) + 1,
			     sizeof(*nsw));
		json_object_object_foreach(k->res[K8S_NAMESPACES].cache, key, obj) {
			(void)key;
			if (!nsw)
				break;
			struct k8s_ref r;

			ref_from(obj, "Namespace", "v1", &r);
			snprintf(nsw[nr_ns].name, sizeof(nsw[nr_ns].name), "%s", r.name);
			labels_from(obj, &nsw[nr_ns].ls);
			nr_ns++;
		}
	}
	/* peers only when pods or the local workloads changed */
	if (pods_ok && (s->peers_gen != k->gen || s->peers_wl != wl.nr)) {
		json_object *local = json_object_new_object();

		for (int i = 0; local && i < wl.nr; i++) {
			char key[600];

			snprintf(key, sizeof(key), "%s/%s", wl.w[i].ns, wl.w[i].name);
			json_object_object_add(local, key, NULL);
		}
		if (local) {
			collect_peers(k->res[K8S_PODS].cache, local, &ps);
			do_peers = true;
			s->peers_gen = k->gen;
			s->peers_wl = wl.nr;
		}
		json_object_put(local);
	}
	for (int i = 0; pods_ok && podw && has_pod && i < wl.nr; i++) {
		char key[600];
		json_object *obj;

		snprintf(key, sizeof(key), "%s/%s", wl.w[i].ns, wl.w[i].name);
		if (json_object_object_get_ex(k->res[K8S_PODS].cache, key, &obj)) {
			has_pod[i] = true;
			labels_from(obj, &podw[i]);
			podw[i].nr_ports = k8s_pod_ports(obj, podw[i].ports, BH_MAX_NAMED_PORTS);
		}
	}
	for (int pass = 0; pol_ok && pass < 2; pass++) {
		json_object *cache = k->res[pass ? K8S_BHPOLS : K8S_NETPOLS].cache;

		json_object_object_foreach(cache, key, obj) {
			struct want_pol *p;

			if (nr_pw == cap_pw) {
				void *n = realloc(pw, (size_t)(cap_pw = cap_pw ? cap_pw * 2 : 64) * sizeof(*pw));

				if (!n)
					break;
				pw = n;
			}
			p = &pw[nr_pw];
			if (pass)
				ref_from(obj, "BulkheadPolicy", "bulkhead.io/v1", &p->ref);
			else
				ref_from(obj, "NetworkPolicy", "networking.k8s.io/v1", &p->ref);
			snprintf(p->key, sizeof(p->key), "%s:%s", pass ? "bp" : "np", key);
			p->doc = policy_doc(obj, pass, &p->ref);
			if (p->doc)
				nr_pw++;
		}
	}
	pthread_mutex_unlock(&k->mu);

	if (ns_ok && nsw)
		sync_namespaces(s, nsw, nr_ns);
	if (pods_ok && podw && has_pod)
		sync_workloads(s, &wl, podw, has_pod);
	if (do_peers)
		sync_peers(s, &ps);
	peers_free(&ps);
	k8s_services_sync(k, s->ctx, &s->svc);
	if (pol_ok) {
		for (int i = 0; i < nr_pw; i++) {
			bool conflict = false;

			/* NetworkPolicies come first in pw: a BulkheadPolicy
			 * of the same NS/NAME is the one refused */
			for (int j = 0; j < i && pw[i].key[0] == 'b' && !conflict; j++)
				conflict = pw[j].key[0] == 'n' && !strcmp(pw[j].ref.ns, pw[i].ref.ns) &&
					   !strcmp(pw[j].ref.name, pw[i].ref.name);
			apply_policy(s, &pw[i], conflict);
		}
		delete_gone(s, pw, nr_pw);
	}
	for (int i = 0; i < nr_pw; i++)
		free(pw[i].doc);
	free(pw);
	free(nsw);
	free(podw);
	free(has_pod);
	free(wl.w);
}

void *k8s_sync_main(void *arg)
{
	struct k8s *k = arg;
	struct bh_ctx_opts o = { .bpffs = k->bpffs[0] ? k->bpffs : NULL,
				 .state_dir = k->state_dir[0] ? k->state_dir : NULL };
	struct rs s = { .k = k };
	uint64_t seen = 0;
	int err;

	err = bh_ctx_open(&o, &s.ctx);
	s.tried = json_object_new_object();
	if (err || !s.tried) {
		k8s_log(k, false, "kubernetes: reconcile cannot start: %s",
			s.ctx ? bh_ctx_error(s.ctx) : strerror(-err));
		bh_ctx_close(s.ctx);
		json_object_put(s.tried);
		return NULL;
	}
	for (;;) {
		bool all = true;
		uint64_t gen;

		pthread_mutex_lock(&k->mu);
		if (k->gen == seen && !k->stop)
			k8s_wait_ms(k, 1000);
		if (k->stop) {
			pthread_mutex_unlock(&k->mu);
			break;
		}
		gen = k->gen;
		for (int i = 0; i < K8S_NR; i++)
			all &= k->res[i].synced;
		pthread_mutex_unlock(&k->mu);
		reconcile(&s);
		seen = gen;
		pthread_mutex_lock(&k->mu);
		if (gen != k->gen)
			k->stats.reconciles++;
		if (all)
			k->ready = true;
		pthread_mutex_unlock(&k->mu);
	}
	json_object_put(s.tried);
	bh_ctx_close(s.ctx);
	return NULL;
}
