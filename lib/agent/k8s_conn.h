/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the API server is and how to authenticate: from a kubeconfig (its
 * current context) or from the in-cluster service account. Only the
 * fields bulkhead uses are read; an exec/auth-provider user is refused
 * (bulkhead runs no external programs).
 */
#ifndef BULKHEAD_AGENT_K8S_CONN_H
#define BULKHEAD_AGENT_K8S_CONN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#define BH_K8S_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"

/* A CA, certificate or key for libcurl, always as a path: a *-data key is
 * decoded into an anonymous memory file (memfd) named by its
 * /proc/self/fd path, because libcurl's in-memory options are not
 * supported by every TLS backend (GnuTLS, bulkhead's one TLS library,
 * has none for the CA). */
struct bh_k8s_blob {
	char file[PATH_MAX];		/* a path ("" if none) */
	int memfd;			/* the memory file behind file, or -1 */
};

struct bh_k8s_conn {
	char server[512];		/* "https://host:port" (or http:// for tests) */
	struct bh_k8s_blob ca, cert, key;
	char token[8192];		/* a bearer token given inline */
	char token_file[PATH_MAX];	/* re-read for every request */
	bool insecure;			/* insecure-skip-tls-verify */
};

/* Fill c from the kubeconfig at path. Errors (-EINVAL, -ENOENT...) put
 * "PATH:LINE: FIELD: what" in msg. */
int bh_k8s_conn_kubeconfig(const char *path, struct bh_k8s_conn *c, char *msg, size_t len);
/* In-cluster: KUBERNETES_SERVICE_HOST/_PORT, sa_dir/token and sa_dir/ca.crt. */
int bh_k8s_conn_incluster(const char *sa_dir, struct bh_k8s_conn *c, char *msg, size_t len);
void bh_k8s_conn_free(struct bh_k8s_conn *c);

/* Set URL (server + path_query), TLS and authentication on h; the
 * Authorization header goes into *hdrs (the caller frees it after the
 * transfer). The token file is read here, so a rotated token is picked up
 * by the next request. */
int bh_k8s_conn_setup(const struct bh_k8s_conn *c, CURL *h, const char *path_query,
		      struct curl_slist **hdrs);

/* Standard base64 (kubeconfig *-data fields); -EINVAL on bad input. */
int bh_base64_decode(const char *in, char **out, size_t *outlen);

#endif /* BULKHEAD_AGENT_K8S_CONN_H */
