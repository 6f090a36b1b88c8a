// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Services -> frontends (k8s_service.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_service.h"
#include "services.h"

/* addresses of one Service taken: 2 ClusterIPs, the rest external and
 * load balancer IPs */
#define SVC_ADDRS_MAX	16

struct fe_list {
	int nr, cap;
	struct bh_svc_frontend *v;
};

static int fe_add(struct fe_list *l, const char *ip, int port, uint8_t proto)
{
	if (l->nr == l->cap) {
		void *n = realloc(l->v, (size_t)(l->cap = l->cap ? l->cap * 2 : 64) * sizeof(*l->v));

		if (!n)
			return -ENOMEM;
		l->v = n;
	}
	snprintf(l->v[l->nr].addr, sizeof(l->v[l->nr].addr), "%s", ip);
	l->v[l->nr].port = (uint16_t)port;
	l->v[l->nr].proto = proto;
	l->nr++;
	return 0;
}

/* "TCP" (also the default), "UDP", "SCTP"; 0 for anything else. */
static uint8_t proto_of(json_object *port)
{
	json_object *p;
	const char *s;

	if (!json_object_object_get_ex(port, "protocol", &p))
		return IPPROTO_TCP;
	s = json_object_get_string(p);
	if (!s || !strcmp(s, "TCP"))
		return IPPROTO_TCP;
	if (!strcmp(s, "UDP"))
		return IPPROTO_UDP;
	if (!strcmp(s, "SCTP"))
		return IPPROTO_SCTP;
	return 0;
}

/* Up to max strings of the array under key in obj into v; returns how
 * many. What is not a string is skipped. */
static int strings_of(json_object *obj, const char *key, const char **v, int max)
{
	json_object *a;
	int n = 0;

	if (!json_object_object_get_ex(obj, key, &a) || !json_object_is_type(a, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a) && n < max; i++)
		if (json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
			v[n++] = json_object_get_string(json_object_array_get_idx(a, i));
	return n;
}

/*
 * The addresses kube-proxy translates for one Service, on this node, for
 * traffic from its pods: the ClusterIPs, the external IPs and the load
 * balancer's ingress IPs (kube-proxy short-circuits those in-cluster).
 * Headless Services ("None") and ExternalName ones have none: kube-proxy
 * leaves them alone.
 */
static int service_addrs(json_object *svc, json_object *spec, const char **v, int max)
{
	json_object *one, *status, *lb, *ingress, *type;
	int n;

	if (json_object_object_get_ex(spec, "type", &type) &&
	    !strcmp(json_object_get_string(type) ?: "", "ExternalName"))
		return 0;
	n = strings_of(spec, "clusterIPs", v, max);
	if (!n && json_object_object_get_ex(spec, "clusterIP", &one) &&
	    json_object_is_type(one, json_type_string))
		v[n++] = json_object_get_string(one);
	if (n && !strcmp(v[0], "None"))
		return 0;
	n += strings_of(spec, "externalIPs", v + n, max - n);
	if (json_object_object_get_ex(svc, "status", &status) &&
	    json_object_object_get_ex(status, "loadBalancer", &lb) &&
	    json_object_object_get_ex(lb, "ingress", &ingress) &&
	    json_object_is_type(ingress, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(ingress) && n < max; i++) {
			json_object *ip;

			if (json_object_object_get_ex(json_object_array_get_idx(ingress, i), "ip",
						      &ip) &&
			    json_object_is_type(ip, json_type_string))
				v[n++] = json_object_get_string(ip);
		}
	}
	return n;
}

/* Every (address, port, protocol) of one Service (service_addrs). The
 * API's text is data: what is not an address or a port is skipped (core
 * checks the addresses again). */
static int service_frontends(json_object *svc, struct fe_list *out)
{
	json_object *spec, *ports;
	const char *ipv[SVC_ADDRS_MAX];
	int nr_ip;

	if (!json_object_object_get_ex(svc, "spec", &spec) ||
	    !json_object_object_get_ex(spec, "ports", &ports) ||
	    !json_object_is_type(ports, json_type_array))
		return 0;
	nr_ip = service_addrs(svc, spec, ipv, SVC_ADDRS_MAX);
	for (int i = 0; i < nr_ip; i++) {
		struct bh_ip parsed;

		if (!ipv[i][0] || !strcmp(ipv[i], "None") || strlen(ipv[i]) >= 64 ||
		    bh_ip_parse(ipv[i], &parsed))
			continue;
		for (size_t j = 0; j < json_object_array_length(ports); j++) {
			json_object *p = json_object_array_get_idx(ports, j), *num;
			uint8_t proto = proto_of(p);
			int port;

			if (!proto || !json_object_object_get_ex(p, "port", &num) ||
			    !json_object_is_type(num, json_type_int))
				continue;
			port = json_object_get_int(num);
			if (port < 1 || port > 65535)
				continue;
			if (fe_add(out, ipv[i], port, proto))
				return -ENOMEM;
		}
	}
	return 0;
}

void k8s_services_sync(struct k8s *k, struct bh_ctx *ctx, struct k8s_svc_state *st)
{
	struct fe_list l = { 0 };
	int err = 0, changed = 0;
	bool synced;

	if (st->hook_failed)
		return;
	pthread_mutex_lock(&k->mu);
	synced = k->res[K8S_SERVICES].synced;
	if (synced) {
		json_object_object_foreach(k->res[K8S_SERVICES].cache, key, svc) {
			(void)key;
			if ((err = service_frontends(svc, &l)))
				break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	/* the hook is attached with the first frontend, not before: a node
	 * without Services has no program in its netfilter path */
	if (synced && !err && l.nr && !st->hook_ok) {
		if (bh_svc_hook_ensure(ctx)) {
			st->hook_failed = true;
			k8s_log(k, false, "kubernetes: Services: egress to a ClusterIP stays judged on"
				" the ClusterIP, not on the backend: %s", bh_ctx_error(ctx));
		} else {
			st->hook_ok = true;
		}
	}
	if (synced && !err && st->hook_ok) {
		if (bh_svc_frontends_set(ctx, l.nr, l.v, &changed))
			k8s_log(k, false, "kubernetes: Services: frontends not updated: %s",
				bh_ctx_error(ctx));
		else if (changed)
			k8s_log(k, false, "kubernetes: Services: %d frontends judged after kube-proxy's"
				" DNAT", l.nr);
		st->last_nr = l.nr;
	}
	free(l.v);
}
