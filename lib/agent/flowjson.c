// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The shared flow fields (flowjson.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "flowjson.h"
#include "procjoin.h"

const char *bh_time_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
	return buf;
}

void bh_flow_fields_from_view(const struct bh_flow_view *v, const char *node,
			      struct bh_flow_fields *f)
{
	*f = (struct bh_flow_fields){
		.ts_ms = v->last_ms, .node = node, .ns = v->ns, .name = v->name,
		.dir = v->dir, .family = v->family, .proto = v->proto,
		.src = v->src, .dst = v->dst, .sport = v->sport, .dport = v->dport,
		.peer = v->peer, .peer_identity = v->peer_identity,
		.verdict = v->verdict_name, .reason = v->reason, .rule = v->rule,
		.packets = v->packets, .bytes = v->bytes, .tcp_flags = v->tcp_flags,
	};
	if (v->proc) {
		f->pid = v->proc->pid;
		f->comm = v->proc->comm;
		f->exe = v->proc->exe;
		f->cgroup = v->proc->cgroup;
	}
	if (v->wl) {
		f->nr_labels = v->wl->nr_labels;
		f->labels = v->wl->labels;
	}
	if (v->peer_wl) {
		f->peer_ns = v->peer_wl->ns;
		f->peer_name = v->peer_wl->name;
		f->nr_peer_labels = v->peer_wl->nr_labels;
		f->peer_labels = v->peer_wl->labels;
	}
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static json_object *labels_json(int nr, const struct bh_label *l)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < nr; i++)
		json_object_object_add(o, l[i].key, json_object_new_string(l[i].value));
	return o;
}

void bh_flow_fields_json(const struct bh_flow_fields *f, json_object *o, bool without_labels)
{
	char buf[2 * BH_NAME_MAX + 2], pbuf[16];

	add_str(o, "time", bh_time_iso(f->ts_ms, buf, sizeof(buf)));
	add_int(o, "ts_ms", f->ts_ms);
	if (f->node)
		add_str(o, "node", f->node);
	snprintf(buf, sizeof(buf), "%s/%s", f->ns, f->name);
	add_str(o, "workload", buf);
	add_str(o, "namespace", f->ns);
	add_str(o, "name", f->name);
	if (!without_labels)
		json_object_object_add(o, "labels", labels_json(f->nr_labels, f->labels));
	add_str(o, "dir", f->dir);
	add_int(o, "family", f->family);
	add_str(o, "proto", bh_proto_str(f->proto, pbuf, sizeof(pbuf)));
	add_str(o, "src", f->src);
	if (bh_proto_is_icmp(f->proto)) {
		int type = (f->dport >> 8) & 0xff, code = f->dport & 0xff;

		json_object_object_add(o, "sport", NULL);
		add_str(o, "dst", f->dst);
		json_object_object_add(o, "dport", NULL);
		add_int(o, "icmp_type", type);
		add_int(o, "icmp_code", code);
		add_str(o, "icmp", bh_icmp_name(f->proto, type, code, buf, sizeof(buf)));
	} else {
		add_int(o, "sport", f->sport);
		add_str(o, "dst", f->dst);
		add_int(o, "dport", f->dport);
	}
	add_str(o, "peer", f->peer);
	add_str(o, "peer_namespace", f->peer_ns);
	add_str(o, "peer_name", f->peer_name);
	if (!without_labels)
		json_object_object_add(o, "peer_labels",
				       f->peer_ns ? labels_json(f->nr_peer_labels, f->peer_labels)
						  : NULL);
	add_int(o, "peer_identity", f->peer_identity);
	add_str(o, "verdict", f->verdict);
	add_str(o, "reason", f->reason);
	add_str(o, "rule", f->rule);
	add_int(o, "packets", (int64_t)f->packets);
	add_int(o, "bytes", (int64_t)f->bytes);
	add_int(o, "tcp_flags", f->tcp_flags);
	if (f->pid > 0) {
		add_int(o, "pid", f->pid);
		add_str(o, "comm", f->comm);
		add_str(o, "exe", f->exe);
		add_str(o, "cgroup", f->cgroup && f->cgroup[0] ? f->cgroup : NULL);
	} else {
		json_object_object_add(o, "pid", NULL);
		json_object_object_add(o, "comm", NULL);
		json_object_object_add(o, "exe", NULL);
		json_object_object_add(o, "cgroup", NULL);
	}
}
