// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Threads, readiness and Events for the Kubernetes watch (k8s.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s_int.h"

static const struct {
	const char *name, *path;
} resources[K8S_NR] = {
	[K8S_NAMESPACES] = { "namespaces", "/api/v1/namespaces" },
	[K8S_PODS] = { "pods", "/api/v1/pods" },
	[K8S_NETPOLS] = { "networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies" },
	[K8S_BHPOLS] = { "bulkheadpolicies", "/apis/bulkhead.io/v1/bulkheadpolicies" },
	[K8S_SERVICES] = { "services", "/api/v1/services" },
	[K8S_SLICES] = { "endpointslices", "/apis/discovery.k8s.io/v1/endpointslices" },
};

static size_t discard(char *d, size_t sz, size_t nm, void *arg)
{
	(void)d, (void)arg;
	return sz * nm;
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

int k8s_post_event(struct k8s *k, const struct k8s_ref *ref, const char *reason,
		   const char *message)
{
	json_object *ev = json_object_new_object(), *io = json_object_new_object();
	json_object *emd = json_object_new_object(), *src = json_object_new_object();
	const char *ns = ref->ns[0] ? ref->ns : "default", *name = ref->name;
	const char *kind = ref->kind, *api_version = ref->api_version;
	const char *uid = ref->uid, *rv = ref->rv;
	struct curl_slist *hdrs = NULL;
	char pq[400], ts[32], gen[300];
	time_t now = time(NULL);
	struct tm tm;
	long status = 0;
	CURL *h;
	int err = 0;

	if (!ev || !io || !emd || !src) {
		json_object_put(ev);
		json_object_put(io);
		json_object_put(emd);
		json_object_put(src);
		return -ENOMEM;
	}
	snprintf(gen, sizeof(gen), "%s.", name);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(emd, "generateName", jstr(gen));
	json_object_object_add(emd, "namespace", jstr(ns));
	json_object_object_add(io, "apiVersion", jstr(api_version));
	json_object_object_add(io, "kind", jstr(kind));
	json_object_object_add(io, "namespace", jstr(ns));
	json_object_object_add(io, "name", jstr(name));
	json_object_object_add(io, "uid", jstr(uid));
	json_object_object_add(io, "resourceVersion", jstr(rv));
	json_object_object_add(src, "component", jstr("bulkhead"));
	json_object_object_add(src, "host", jstr(k->node));
	json_object_object_add(ev, "apiVersion", jstr("v1"));
	json_object_object_add(ev, "kind", jstr("Event"));
	json_object_object_add(ev, "metadata", emd);
	json_object_object_add(ev, "involvedObject", io);
	json_object_object_add(ev, "reason", jstr(reason));
	json_object_object_add(ev, "message", jstr(message));
	json_object_object_add(ev, "type", jstr("Warning"));
	json_object_object_add(ev, "source", src);
	json_object_object_add(ev, "reportingComponent", jstr("bulkhead.io/agent"));
	json_object_object_add(ev, "reportingInstance", jstr(k->node));
	json_object_object_add(ev, "firstTimestamp", jstr(ts));
	json_object_object_add(ev, "lastTimestamp", jstr(ts));
	json_object_object_add(ev, "count", json_object_new_int(1));
	snprintf(pq, sizeof(pq), "/api/v1/namespaces/%s/events", ns);
	h = curl_easy_init();
	if (!h) {
		json_object_put(ev);
		return -ENOMEM;
	}
	err = bh_k8s_conn_setup(&k->conn, h, pq, &hdrs);
	if (!err) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS,
				 json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
		if (curl_easy_perform(h) != CURLE_OK)
			err = -EIO;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (!err && status / 100 != 2)
			err = -EIO;
	}
	if (err)
		k8s_log(k, false, "kubernetes: cannot post an Event on %s %s/%s (HTTP %ld)", kind, ns,
			name, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	json_object_put(ev);
	return err;
}

bool bh_k8s_synced(const struct bh_k8s *kk)
{
	struct k8s *k = (struct k8s *)kk;
	bool r;

	if (!k)
		return false;
	pthread_mutex_lock(&k->mu);
	r = k->ready;
	pthread_mutex_unlock(&k->mu);
	return r;
}

void bh_k8s_get_stats(const struct bh_k8s *kk, struct bh_k8s_stats *out)
{
	struct k8s *k = (struct k8s *)kk;

	memset(out, 0, sizeof(*out));
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	*out = k->stats;
	pthread_mutex_unlock(&k->mu);
}

void bh_k8s_stop(struct bh_k8s *kk)
{
	struct k8s *k = (struct k8s *)kk;

	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->mu);
	for (int i = 0; i < K8S_NR; i++)
		if (k->res[i].started)
			pthread_join(k->res[i].thread, NULL);
	if (k->sync_started)
		pthread_join(k->sync_thread, NULL);
	k8s_podsock_stop(k);
	for (int i = 0; i < K8S_NR; i++)
		json_object_put(k->res[i].cache);
	bh_k8s_conn_free(&k->conn);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

int bh_k8s_start(const struct bh_k8s_opts *o, struct bh_k8s **out, char *msg, size_t len)
{
	struct k8s *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	const char *node = o->node && *o->node ? o->node : getenv("NODE_NAME");
	int err;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->podsock_fd = -1;
	k->chunk_size = o->chunk_size;
	if (node && *node)
		snprintf(k->node, sizeof(k->node), "%s", node);
	else if (gethostname(k->node, sizeof(k->node) - 1))
		snprintf(k->node, sizeof(k->node), "localhost");
	snprintf(k->bpffs, sizeof(k->bpffs), "%s", o->bpffs ? o->bpffs : "");
	snprintf(k->state_dir, sizeof(k->state_dir), "%s", o->state_dir ? o->state_dir : "");
	k->log = o->log;
	k->log_arg = o->log_arg;
	if (o->kubeconfig && *o->kubeconfig)
		err = bh_k8s_conn_kubeconfig(o->kubeconfig, &k->conn, msg, len);
	else
		err = bh_k8s_conn_incluster(BH_K8S_SA_DIR, &k->conn, msg, len);
	if (err) {
		free(k);
		return err;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < K8S_NR; i++) {
		struct k8s_res *r = &k->res[i];

		r->name = resources[i].name;
		r->path = resources[i].path;
		r->k = k;
		r->cache = json_object_new_object();
		if (!r->cache || pthread_create(&r->thread, NULL, k8s_watch_main, r)) {
			snprintf(msg, len, "kubernetes: cannot start the %s watch", r->name);
			bh_k8s_stop((struct bh_k8s *)k);
			return -ENOMEM;
		}
		r->started = true;
	}
	if (pthread_create(&k->sync_thread, NULL, k8s_sync_main, k)) {
		snprintf(msg, len, "kubernetes: cannot start the reconcile thread");
		bh_k8s_stop((struct bh_k8s *)k);
		return -ENOMEM;
	}
	k->sync_started = true;
	/* last: a lookup answers from caches the watches fill */
	err = k8s_podsock_start(k, msg, len);
	if (err) {
		bh_k8s_stop((struct bh_k8s *)k);
		return err;
	}
	*out = (struct bh_k8s *)k;
	return 0;
}
