// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One resource: list, then watch from the list's resourceVersion, as
 * client-go's reflector does:
 *   - the watch asks for bookmarks, so an idle resource's resourceVersion
 *     still advances and a reconnect resumes close to now;
 *   - a watch that ends (server timeout, cut connection, server restart)
 *     is reopened from the last resourceVersion seen: no relist, no lost
 *     event (the server replays what happened since);
 *   - 410 Gone (HTTP status, or an ERROR event with code 410) means that
 *     resourceVersion is compacted away: list again and replace the cache;
 *   - a list comes in pages (limit/continue, kubernetes.chunk_size items
 *     each), so neither the API server nor the agent holds a whole large
 *     list in one response; a page whose snapshot expired (410) starts the
 *     list again from its first page;
 *   - failures back off exponentially (250 ms to 30 s) with +-50 % jitter,
 *     so that a restarted API server is not hit by every node at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_int.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	30000
#define MAX_LINE	(64 << 20)	/* one watch event; larger is an error */
#define LIST_RESTARTS	3		/* a list restarted after 410 on a later page */

struct xfer {
	struct k8s_res *r;
	char *buf;
	size_t len, cap;
	bool watch;
	bool gone;			/* ERROR event with code 410 */
	bool failed;			/* bad event: reconnect */
	unsigned events;
};

static int append(struct xfer *x, const char *d, size_t n)
{
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 65536;
		char *nb;

		while (cap < x->len + n + 1)
			cap *= 2;
		if (cap > MAX_LINE + 1)
			return -E2BIG;
		nb = realloc(x->buf, cap);
		if (!nb)
			return -ENOMEM;
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, d, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return 0;
}

static const char *meta_str(json_object *o, const char *key)
{
	json_object *md, *v;

	if (!json_object_object_get_ex(o, "metadata", &md) ||
	    !json_object_object_get_ex(md, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int obj_key(json_object *o, char *buf, size_t len)
{
	const char *ns = meta_str(o, "namespace"), *name = meta_str(o, "name");

	if (!name || !*name)
		return -EINVAL;
	snprintf(buf, len, "%s/%s", ns ? ns : "", name);
	return 0;
}

/* One watch line: {"type": ..., "object": {...}}. */
static void handle_event(struct xfer *x, const char *line)
{
	struct k8s_res *r = x->r;
	struct k8s *k = r->k;
	json_object *ev = json_tokener_parse(line), *type, *obj;
	const char *t, *rv;
	char key[600];

	if (!ev || !json_object_object_get_ex(ev, "type", &type) ||
	    !json_object_object_get_ex(ev, "object", &obj) || !json_object_is_type(obj, json_type_object)) {
		x->failed = true;
		k8s_log(k, false, "kubernetes: %s watch: malformed event, reconnecting", r->name);
		json_object_put(ev);
		return;
	}
	t = json_object_get_string(type);
	if (!strcmp(t, "ERROR")) {
		json_object *code;

		if (json_object_object_get_ex(obj, "code", &code) && json_object_get_int(code) == 410)
			x->gone = true;
		else
			x->failed = true;
		json_object_put(ev);
		return;
	}
	rv = meta_str(obj, "resourceVersion");
	pthread_mutex_lock(&k->mu);
	if (rv)
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
	if (strcmp(t, "BOOKMARK") && !obj_key(obj, key, sizeof(key))) {
		if (!strcmp(t, "DELETED"))
			json_object_object_del(r->cache, key);
		else
			json_object_object_add(r->cache, key, json_object_get(obj));
		k->gen++;
		k->stats.events++;
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->mu);
	x->events++;
	json_object_put(ev);
}

static size_t on_data(char *d, size_t sz, size_t nm, void *arg)
{
	struct xfer *x = arg;
	size_t n = sz * nm;

	if (append(x, d, n))
		return 0;	/* aborts the transfer */
	if (!x->watch)
		return n;
	for (;;) {
		char *nl = memchr(x->buf, '\n', x->len);

		if (!nl)
			break;
		*nl = '\0';
		if (nl != x->buf)
			handle_event(x, x->buf);
		x->len -= (size_t)(nl + 1 - x->buf);
		memmove(x->buf, nl + 1, x->len);
		if (x->gone || x->failed)
			return 0;
	}
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct xfer *x = arg;
	bool stop;

	(void)a, (void)b, (void)c, (void)d;
	pthread_mutex_lock(&x->r->k->mu);
	stop = x->r->k->stop;
	pthread_mutex_unlock(&x->r->k->mu);
	return stop;
}

/* One request; *status = HTTP status (0: no answer). */
static int request(struct k8s_res *r, CURL *h, const char *pq, struct xfer *x, long *status)
{
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	int err;

	curl_easy_reset(h);
	*status = 0;
	err = bh_k8s_conn_setup(&r->k->conn, h, pq, &hdrs);
	if (err) {
		k8s_log(r->k, false, "kubernetes: %s: cannot prepare the request: %s", r->name,
			strerror(-err));
		return err;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!x->watch)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_OK || (x->watch && (x->gone || x->failed) && rc == CURLE_WRITE_ERROR))
		return 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return -ECANCELED;
	if (!(x->watch && (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
			   rc == CURLE_GOT_NOTHING)))
		k8s_log(r->k, false, "kubernetes: %s: %s", r->name, curl_easy_strerror(rc));
	return -EIO;
}

/* The path and query of a list page: ?limit=N and the previous page's
 * continue token (escaped), or the path alone when chunk is 0. */
static int list_query(CURL *h, const char *path, unsigned chunk, const char *cont, char *pq,
		      size_t len)
{
	char *esc = NULL;
	int n;

	if (!chunk)
		n = snprintf(pq, len, "%s", path);
	else if (!cont[0])
		n = snprintf(pq, len, "%s?limit=%u", path, chunk);
	else {
		esc = curl_easy_escape(h, cont, 0);
		if (!esc)
			return -ENOMEM;
		n = snprintf(pq, len, "%s?limit=%u&continue=%s", path, chunk, esc);
		curl_free(esc);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * One page of a list: its items added to fresh, its resourceVersion into
 * rv (every page of a list carries the snapshot's), its continue token
 * into cont ("" on the last page). *gone: the server answered 410 (the
 * list's snapshot or RV was compacted away).
 */
static int list_page(struct k8s_res *r, CURL *h, const char *pq, json_object *fresh, char *rv,
		     size_t rv_len, char *cont, size_t cont_len, bool *gone)
{
	struct k8s *k = r->k;
	struct xfer x = { .r = r };
	json_object *doc = NULL, *items, *md, *jrv, *jc;
	long status;
	int err;

	err = request(r, h, pq, &x, &status);
	if (!err && status != 200) {
		k8s_log(k, false, "kubernetes: list %s: HTTP %ld", r->name, status);
		*gone = status == 410;
		err = -EIO;
	}
	if (!err && (!(doc = json_tokener_parse(x.buf ? x.buf : "")) ||
		     !json_object_object_get_ex(doc, "items", &items) ||
		     !json_object_is_type(items, json_type_array) ||
		     !json_object_object_get_ex(doc, "metadata", &md) ||
		     !json_object_object_get_ex(md, "resourceVersion", &jrv))) {
		k8s_log(k, false, "kubernetes: list %s: not a list", r->name);
		err = -EPROTO;
	}
	free(x.buf);
	if (err) {
		json_object_put(doc);
		return err;
	}
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *o = json_object_array_get_idx(items, i);
		char key[600];

		if (!obj_key(o, key, sizeof(key)) &&
		    json_object_object_add(fresh, key, json_object_get(o))) {
			json_object_put(doc);
			return -ENOMEM;
		}
	}
	snprintf(rv, rv_len, "%s", json_object_get_string(jrv));
	cont[0] = 0;
	if (json_object_object_get_ex(md, "continue", &jc) && json_object_get_string_len(jc)) {
		if ((size_t)json_object_get_string_len(jc) >= cont_len) {
			k8s_log(k, false, "kubernetes: list %s: continue token too long", r->name);
			json_object_put(doc);
			return -EPROTO;
		}
		snprintf(cont, cont_len, "%s", json_object_get_string(jc));
	}
	json_object_put(doc);
	return 0;
}

/*
 * List, in pages of k->chunk_size items (limit/continue, as kubectl does),
 * then replace the cache with the items and remember the list's RV. A 410
 * on a later page (its snapshot compacted away meanwhile) starts the list
 * again from the first page, as the API conventions ask; a 410 on the
 * first page is the caller's (*gone).
 */
static int do_list(struct k8s_res *r, CURL *h, bool *gone)
{
	struct k8s *k = r->k;
	json_object *fresh = NULL;
	char rv[64], cont[2048], pq[3000];
	int err, restarts = 0;

	*gone = false;
	cont[0] = 0;
	for (;;) {
		bool later = cont[0] != 0;

		if (!later) {
			/* a list request: its first page */
			pthread_mutex_lock(&k->mu);
			k->stats.lists++;
			pthread_mutex_unlock(&k->mu);
			json_object_put(fresh);
			fresh = json_object_new_object();
			if (!fresh)
				return -ENOMEM;
		}
		err = list_query(h, r->path, k->chunk_size, cont, pq, sizeof(pq));
		if (!err)
			err = list_page(r, h, pq, fresh, rv, sizeof(rv), cont, sizeof(cont), gone);
		if (err == -EIO && *gone && later && restarts++ < LIST_RESTARTS) {
			k8s_log(k, false, "kubernetes: list %s: the list's snapshot expired"
				" (410 Gone), listing again from the start", r->name);
			*gone = false;
			cont[0] = 0;
			continue;
		}
		if (err || !cont[0])
			break;
	}
	if (err) {
		json_object_put(fresh);
		return err;
	}
	pthread_mutex_lock(&k->mu);
	json_object_put(r->cache);
	r->cache = fresh;
	snprintf(r->rv, sizeof(r->rv), "%s", rv);
	r->synced = true;
	k->gen++;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->mu);
	return 0;
}

/* Watch from r->rv until the stream ends. 1: relist (410). */
static int do_watch(struct k8s_res *r, CURL *h, unsigned seed, unsigned *events)
{
	struct k8s *k = r->k;
	struct xfer x = { .r = r, .watch = true };
	char pq[700];
	long status;
	int err;

	pthread_mutex_lock(&k->mu);
	k->stats.watches++;
	/* the server ends a watch after timeoutSeconds: 5 to 10 minutes,
	 * spread so that nodes do not reconnect in step */
	snprintf(pq, sizeof(pq), "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
		 "&timeoutSeconds=%u", r->path, r->rv, 300 + seed % 300);
	pthread_mutex_unlock(&k->mu);
	err = request(r, h, pq, &x, &status);
	*events = x.events;
	free(x.buf);
	if (err)
		return err;
	if (status == 410 || x.gone)
		return 1;
	if (status != 200) {
		k8s_log(k, false, "kubernetes: watch %s: HTTP %ld", r->name, status);
		return -EIO;
	}
	return x.failed ? -EPROTO : 0;
}

void *k8s_watch_main(void *arg)
{
	struct k8s_res *r = arg;
	struct k8s *k = r->k;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(r - k->res) * 2654435761u;
	long backoff = 0;
	bool need_list = true;
	CURL *h = curl_easy_init();

	if (!h) {
		k8s_log(k, false, "kubernetes: %s: cannot create a curl handle", r->name);
		return NULL;
	}
	for (;;) {
		bool stop, gone = false;
		unsigned events = 0;
		int err;

		pthread_mutex_lock(&k->mu);
		stop = k->stop;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;
		if (need_list) {
			err = do_list(r, h, &gone);
			if (!err)
				need_list = false;
		} else {
			err = do_watch(r, h, rand_r(&seed), &events);
			if (err == 1) {
				k8s_log(k, false, "kubernetes: %s: resourceVersion expired (410 Gone),"
					" listing again", r->name);
				need_list = true;
				err = 0;
			}
		}
		if (err == -ECANCELED)
			break;
		if (!err || events) {
			backoff = 0;
			continue;
		}
		/* an ordinary reconnect resumes the watch at once the first
		 * time; repeated failures wait longer */
		backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		pthread_mutex_lock(&k->mu);
		k8s_wait_ms(k, backoff / 2 + (long)(rand_r(&seed) % (unsigned)backoff));
		pthread_mutex_unlock(&k->mu);
	}
	curl_easy_cleanup(h);
	return NULL;
}
