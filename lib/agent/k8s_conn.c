// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* kubeconfig and service account -> a libcurl request (k8s_conn.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "k8s_conn.h"
#include "memfd.h"
#include "yaml_doc.h"

int bh_base64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0;
	int bits = 0;
	char *buf = malloc(n / 4 * 3 + 4);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		int v;

		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else if (ch == '=' || ch == '\n' || ch == '\r' || ch == ' ')
			continue;
		else {
			free(buf);
			return -EINVAL;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)(acc >> bits & 0xff);
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
		if (n > (1 << 20)) {	/* a kubeconfig or token is small */
			free(buf);
			fclose(f);
			return -EFBIG;
		}
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

struct kc {
	const char *path;
	char *dir;			/* relative paths are relative to the file */
	char *msg;
	size_t len;
};

static int kc_fail(struct kc *k, const struct yd_node *n, const char *field, int err,
		   const char *what)
{
	snprintf(k->msg, k->len, "%s:%d: %s: %s", k->path, n ? n->line : 0, field, what);
	return err;
}

static const char *str_of(const struct yd_node *map, const char *key)
{
	const struct yd_node *v = yd_map_get(map, key);

	return v && v->type == YD_SCALAR && !yd_is_null(v) ? v->str : NULL;
}

/* The entry of list `what` (clusters, users, contexts) named name. */
static const struct yd_node *named(struct kc *k, const struct yd_node *root, const char *what,
				   const char *inner, const char *name, int *err)
{
	const struct yd_node *list = yd_map_get(root, what);

	*err = 0;
	if (!list || list->type != YD_SEQ) {
		*err = kc_fail(k, list ? list : root, what, -EINVAL, "expected a list");
		return NULL;
	}
	for (size_t i = 0; i < list->nr; i++) {
		const char *n = str_of(list->items[i], "name");

		if (n && !strcmp(n, name)) {
			const struct yd_node *v = yd_map_get(list->items[i], inner);

			if (!v || v->type != YD_MAP) {
				char f[128];

				snprintf(f, sizeof(f), "%s[%zu].%s", what, i, inner);
				*err = kc_fail(k, list->items[i], f, -EINVAL, "expected a mapping");
				return NULL;
			}
			return v;
		}
	}
	{
		char m[300];

		snprintf(m, sizeof(m), "no entry named '%s'", name);
		*err = kc_fail(k, list, what, -EINVAL, m);
	}
	return NULL;
}

static void abs_path(struct kc *k, const char *p, char *out, size_t len)
{
	if (p[0] == '/')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "%s/%s", k->dir, p);
}

/* data into an anonymous memory file that b names by path */
static int blob_memfd(struct bh_k8s_blob *b, const char *data, size_t len)
{
	int fd = bh_memfd_with("bulkhead-kubeconfig", data, len);

	if (fd < 0)
		return fd;
	b->memfd = fd;
	snprintf(b->file, sizeof(b->file), "/proc/self/fd/%d", fd);
	return 0;
}

/* KEY (a path) or KEY-data (base64 PEM) into b. */
static int blob(struct kc *k, const struct yd_node *map, const char *field, const char *key,
		struct bh_k8s_blob *b)
{
	char dkey[64], f[128];
	const char *file = str_of(map, key), *data;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	data = str_of(map, dkey);
	if (data) {
		char *pem;
		size_t len;
		int err;

		snprintf(f, sizeof(f), "%s.%s", field, dkey);
		if (bh_base64_decode(data, &pem, &len))
			return kc_fail(k, yd_map_get(map, dkey), f, -EINVAL, "not base64");
		err = blob_memfd(b, pem, len);
		free(pem);
		if (err)
			return kc_fail(k, yd_map_get(map, dkey), f, err, "cannot keep it in memory");
		return 0;
	}
	if (file)
		abs_path(k, file, b->file, sizeof(b->file));
	return 0;
}

int bh_k8s_conn_kubeconfig(const char *path, struct bh_k8s_conn *c, char *msg, size_t len)
{
	struct kc k = { .path = path, .msg = msg, .len = len };
	struct bh_policy_error perr = { 0 };
	const struct yd_node *root, *ctx, *cl, *user;
	struct yd_stream ys = { 0 };
	const char *cur, *v;
	char *buf = NULL, *slash;
	size_t blen;
	int err;

	memset(c, 0, sizeof(*c));
	c->ca.memfd = c->cert.memfd = c->key.memfd = -1;
	err = read_file(path, &buf, &blen);
	if (err) {
		snprintf(msg, len, "%s: cannot read the kubeconfig: %s", path, strerror(-err));
		return err;
	}
	err = yd_load(path, buf, blen, &ys, &perr);
	free(buf);
	if (err) {
		bh_policy_error_format(&perr, msg, len);
		return err;
	}
	k.dir = strdup(path);
	if (!k.dir) {
		yd_stream_free(&ys);
		return -ENOMEM;
	}
	slash = strrchr(k.dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(k.dir, ".");
	root = ys.nr ? ys.docs[0].root : NULL;
	if (!root || root->type != YD_MAP) {
		err = kc_fail(&k, root, "(document)", -EINVAL, "expected a kubeconfig mapping");
		goto out;
	}
	cur = str_of(root, "current-context");
	if (!cur) {
		err = kc_fail(&k, root, "current-context", -EINVAL, "missing");
		goto out;
	}
	ctx = named(&k, root, "contexts", "context", cur, &err);
	if (!ctx)
		goto out;
	v = str_of(ctx, "cluster");
	if (!v) {
		err = kc_fail(&k, ctx, "context.cluster", -EINVAL, "missing");
		goto out;
	}
	cl = named(&k, root, "clusters", "cluster", v, &err);
	if (!cl)
		goto out;
	v = str_of(cl, "server");
	if (!v || (strncmp(v, "https://", 8) && strncmp(v, "http://", 7))) {
		err = kc_fail(&k, cl, "cluster.server", -EINVAL, "expected an https:// (or http://) URL");
		goto out;
	}
	snprintf(c->server, sizeof(c->server), "%s", v);
	while (c->server[0] && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	v = str_of(cl, "insecure-skip-tls-verify");
	c->insecure = v && !strcmp(v, "true");
	err = blob(&k, cl, "cluster", "certificate-authority", &c->ca);
	if (err)
		goto out;
	v = str_of(ctx, "user");
	if (v) {
		user = named(&k, root, "users", "user", v, &err);
		if (!user)
			goto out;
		if (yd_map_get(user, "exec") || yd_map_get(user, "auth-provider")) {
			err = kc_fail(&k, user, "user", -EINVAL, "exec and auth-provider users are not"
				      " supported: use a token or a client certificate");
			goto out;
		}
		if ((v = str_of(user, "token")))
			snprintf(c->token, sizeof(c->token), "%s", v);
		if ((v = str_of(user, "tokenFile")))
			abs_path(&k, v, c->token_file, sizeof(c->token_file));
		err = blob(&k, user, "user", "client-certificate", &c->cert);
		if (!err)
			err = blob(&k, user, "user", "client-key", &c->key);
		if (err)
			goto out;
		if (!c->cert.file[0] != !c->key.file[0]) {
			err = kc_fail(&k, user, "user", -EINVAL,
				      "client-certificate and client-key go together");
			goto out;
		}
	}
out:
	free(k.dir);
	yd_stream_free(&ys);
	if (err)
		bh_k8s_conn_free(c);
	return err;
}

int bh_k8s_conn_incluster(const char *sa_dir, struct bh_k8s_conn *c, char *msg, size_t len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	memset(c, 0, sizeof(*c));
	c->ca.memfd = c->cert.memfd = c->key.memfd = -1;
	if (!host || !*host || !port || !*port) {
		snprintf(msg, len, "no kubernetes.kubeconfig in the config and not in a cluster"
			 " (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset)");
		return -EINVAL;
	}
	snprintf(c->server, sizeof(c->server), strchr(host, ':') ? "https://[%s]:%s" :
		 "https://%s:%s", host, port);
	snprintf(c->token_file, sizeof(c->token_file), "%s/token", sa_dir);
	snprintf(c->ca.file, sizeof(c->ca.file), "%s/ca.crt", sa_dir);
	if (access(c->token_file, R_OK)) {
		snprintf(msg, len, "%s: cannot read the service account token: %m", c->token_file);
		return -errno;
	}
	return 0;
}

void bh_k8s_conn_free(struct bh_k8s_conn *c)
{
	struct bh_k8s_blob *b[] = { &c->ca, &c->cert, &c->key };

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		if (b[i]->memfd >= 0)
			close(b[i]->memfd);
		b[i]->memfd = -1;
		b[i]->file[0] = '\0';
	}
}

static void set_blob(CURL *h, CURLoption file_opt, const struct bh_k8s_blob *b)
{
	if (b->file[0])
		curl_easy_setopt(h, file_opt, b->file);
}

int bh_k8s_conn_setup(const struct bh_k8s_conn *c, CURL *h, const char *path_query,
		      struct curl_slist **hdrs)
{
	char url[4096];
	char *tok = NULL, *hdr;
	const char *t = c->token[0] ? c->token : NULL;
	struct curl_slist *l = NULL;
	int err;

	snprintf(url, sizeof(url), "%s%s", c->server, path_query);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	set_blob(h, CURLOPT_CAINFO, &c->ca);
	set_blob(h, CURLOPT_SSLCERT, &c->cert);
	set_blob(h, CURLOPT_SSLKEY, &c->key);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->token_file[0]) {
		err = read_file(c->token_file, &tok, NULL);
		if (err)
			return err;
		tok[strcspn(tok, "\r\n")] = '\0';
		t = tok;
	}
	l = curl_slist_append(l, "Accept: application/json");
	if (t && *t) {
		if (asprintf(&hdr, "Authorization: Bearer %s", t) < 0) {
			free(tok);
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		l = curl_slist_append(l, hdr);
		free(hdr);
	}
	free(tok);
	if (!l)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	*hdrs = l;
	return 0;
}
