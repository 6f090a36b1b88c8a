// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow and event export to syslog (RFC 5424, RFC 3164, CEF, JSON) and
 * JSON lines; see export.h and docs/syslog.md. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "cef.h"
#include "export.h"
#include "procjoin.h"
#include "flowjson.h"

static const char *const format_names[] = { "rfc5424", "rfc3164", "cef", "json", NULL };

int bh_export_format_parse(const char *s, enum bh_export_format *out)
{
	for (int i = 0; format_names[i]; i++) {
		if (!strcasecmp(s, format_names[i])) {
			*out = (enum bh_export_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bh_export_format_name(enum bh_export_format f)
{
	return f <= BH_EXPORT_JSON ? format_names[f] : "?";
}

enum bh_syslog_sev bh_export_severity(const char *s)
{
	if (!strcmp(s, "alert"))
		return BH_SEV_ALERT;
	if (!strcmp(s, "warning"))
		return BH_SEV_WARNING;
	if (!strcmp(s, "notice"))
		return BH_SEV_NOTICE;
	if (!strcmp(s, "err") || !strcmp(s, "error"))
		return BH_SEV_ERR;
	return BH_SEV_INFO;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decimal without printf: one flow record made nine snprintf calls and
 * printf was the largest single item of the ingest profile. */
static char *u64_str(uint64_t v, char *buf, size_t len)
{
	char *p = buf + len;

	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v && p > buf);
	return p;
}

static char *i64_str(int64_t v, char *buf, size_t len)
{
	char *p = u64_str(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, buf, len);

	if (v < 0 && p > buf)
		*--p = '-';
	return p;
}

struct sbuf {
	char *p;
	size_t len, cap;	/* cap excludes the NUL */
};

static void sb_put(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > b->cap - b->len)
		n = b->cap - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* "k=v,k=v" (SD-PARAM and CEF values; escaped by their writers), or NULL
 * when longer than max: a cut list would name labels wrongly, so it is
 * left out whole (JSON keeps every label). */
static const char *labels_str(int nr, const struct bh_label *l, char *buf, size_t len,
			      size_t max)
{
	struct sbuf b = { .p = buf, .cap = len - 1 };

	buf[0] = '\0';
	for (int i = 0; i < nr; i++) {
		if (i)
			sb_put(&b, ",");
		sb_put(&b, l[i].key);
		sb_put(&b, "=");
		sb_put(&b, l[i].value);
	}
	return b.len >= b.cap || b.len > max ? NULL : buf;
}

/* "flow@EID": built without printf, it is on every record's path. */
static const char *sd_id(const struct bh_export *x, const char *what, char *buf, size_t len)
{
	char n[16];
	struct sbuf b = { .p = buf, .cap = len - 1 };

	buf[0] = '\0';
	sb_put(&b, what);
	sb_put(&b, "@");
	sb_put(&b, u64_str(x->enterprise_id ? x->enterprise_id : BH_DEFAULT_ENTERPRISE_ID, n,
			   sizeof(n)));
	return buf;
}

/* "ns/name" without printf */
static const char *wl_str(const char *ns, const char *name, char *buf, size_t len)
{
	struct sbuf b = { .p = buf, .cap = len - 1 };

	buf[0] = '\0';
	sb_put(&b, ns);
	sb_put(&b, "/");
	sb_put(&b, name);
	return buf;
}

static int jsonl_put(struct bh_export *x, json_object *o)
{
	int err = bh_jsonl_write(x->jsonl, o);

	if (err)
		x->errors++;
	return err;
}

/* ----------------------------------------------------------- JSON */
json_object *bh_export_flow_json(const struct bh_export *x, const struct bh_flow_view *v,
				 bool without_labels)
{
	struct bh_flow_fields f;
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	bh_flow_fields_from_view(v, x->node, &f);
	json_object_object_add(o, "type", json_object_new_string("flow"));
	json_object_object_add(o, "event", json_object_new_string(v->event ? v->event : ""));
	bh_flow_fields_json(&f, o, without_labels);
	return o;
}

json_object *bh_export_event_json(const struct bh_export *x, const char *ns, const char *name,
				  const char *kind, const char *severity, const char *detail,
				  int64_t ts_ms)
{
	json_object *o = json_object_new_object();
	char buf[2 * BH_NAME_MAX + 2];

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string("event"));
	json_object_object_add(o, "time",
			       json_object_new_string(bh_time_iso(ts_ms, buf, sizeof(buf))));
	json_object_object_add(o, "ts_ms", json_object_new_int64(ts_ms));
	if (x->node)
		json_object_object_add(o, "node", json_object_new_string(x->node));
	/* node events belong to no workload */
	snprintf(buf, sizeof(buf), "%s%s%s", ns, *ns ? "/" : "", name);
	json_object_object_add(o, "workload", *ns ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "namespace", *ns ? json_object_new_string(ns) : NULL);
	json_object_object_add(o, "name", *ns ? json_object_new_string(name) : NULL);
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "severity", json_object_new_string(severity));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	return o;
}

/* ------------------------------------------------------------ CEF */
static int verdict_severity(enum bh_verdict v)
{
	switch (v) {
	case BH_V_ALLOW: return 1;
	case BH_V_WOULD_DENY: return 5;
	case BH_V_DENY: return 6;
	case BH_V_DROP: return 6;
	case BH_V_SPOOF: return 8;
	case BH_V_QUARANTINE: return 9;
	default: return 5;
	}
}

static int event_severity(const char *s)
{
	switch (bh_export_severity(s)) {
	case BH_SEV_ALERT: return 9;
	case BH_SEV_ERR: return 8;
	case BH_SEV_WARNING: return 6;
	case BH_SEV_NOTICE: return 4;
	default: return 2;
	}
}

static void cef_header(const struct bh_export *x, struct bh_cef *c, const char *sig,
		       const char *name, int sev)
{
	bh_cef_header(c, "bulkhead", "bulkhead", x->version ? x->version : "0", sig, name, sev);
}

static int cef_flow(const struct bh_export *x, const struct bh_flow_view *v, char *buf,
		    size_t len, bool without_labels)
{
	char sig[64], name[64], pbuf[16], tmp[1024];
	struct bh_cef c;

	bh_cef_init(&c, buf, len);
	snprintf(sig, sizeof(sig), "flow:%s", v->verdict_name);
	snprintf(name, sizeof(name), "flow %s", v->verdict_name);
	cef_header(x, &c, sig, name, verdict_severity(v->verdict));
	/* CEF dictionary keys first (rt, dvchost, src, spt, dst, dpt, proto,
	 * act, deviceDirection, cnt, in), then the flow field names */
	bh_cef_ext_int(&c, "rt", v->last_ms);
	if (x->node)
		bh_cef_ext(&c, "dvchost", x->node);
	bh_cef_ext(&c, "src", v->src);
	if (!bh_proto_is_icmp(v->proto))
		bh_cef_ext_int(&c, "spt", v->sport);
	bh_cef_ext(&c, "dst", v->dst);
	if (!bh_proto_is_icmp(v->proto))
		bh_cef_ext_int(&c, "dpt", v->dport);
	bh_cef_ext(&c, "proto", bh_proto_str(v->proto, pbuf, sizeof(pbuf)));
	bh_cef_ext(&c, "act", v->verdict_name);
	bh_cef_ext_int(&c, "deviceDirection", strcmp(v->dir, "egress") == 0 ? 1 : 0);
	bh_cef_ext_int(&c, "cnt", (long long)v->packets);
	bh_cef_ext_int(&c, "in", (long long)v->bytes);
	snprintf(tmp, sizeof(tmp), "%s/%s", v->ns, v->name);
	bh_cef_ext(&c, "workload", tmp);
	bh_cef_ext(&c, "namespace", v->ns);
	bh_cef_ext(&c, "name", v->name);
	if (!without_labels && v->wl &&
	    labels_str(v->wl->nr_labels, v->wl->labels, tmp, sizeof(tmp), sizeof(tmp) - 1))
		bh_cef_ext(&c, "labels", tmp);
	bh_cef_ext(&c, "event", v->event ? v->event : "");
	bh_cef_ext(&c, "dir", v->dir);
	if (bh_proto_is_icmp(v->proto)) {
		bh_cef_ext_int(&c, "icmp_type", (v->dport >> 8) & 0xff);
		bh_cef_ext_int(&c, "icmp_code", v->dport & 0xff);
		bh_cef_ext(&c, "icmp", bh_icmp_name(v->proto, (v->dport >> 8) & 0xff,
						    v->dport & 0xff, tmp, sizeof(tmp)));
	}
	bh_cef_ext(&c, "peer", v->peer);
	if (v->peer_wl) {
		bh_cef_ext(&c, "peer_namespace", v->peer_wl->ns);
		bh_cef_ext(&c, "peer_name", v->peer_wl->name);
		if (!without_labels && labels_str(v->peer_wl->nr_labels, v->peer_wl->labels, tmp,
						  sizeof(tmp), sizeof(tmp) - 1))
			bh_cef_ext(&c, "peer_labels", tmp);
	}
	bh_cef_ext_int(&c, "peer_identity", v->peer_identity);
	bh_cef_ext(&c, "verdict", v->verdict_name);
	bh_cef_ext(&c, "reason", v->reason);
	bh_cef_ext(&c, "rule", v->rule);
	bh_cef_ext_int(&c, "packets", (long long)v->packets);
	bh_cef_ext_int(&c, "bytes", (long long)v->bytes);
	bh_cef_ext_int(&c, "tcp_flags", v->tcp_flags & 0xff);
	return c.overflow ? -EMSGSIZE : (int)c.len;
}

int bh_export_flow_cef(const struct bh_export *x, const struct bh_flow_view *v, char *buf,
		       size_t len)
{
	int n = cef_flow(x, v, buf, len, false);

	return n == -EMSGSIZE ? cef_flow(x, v, buf, len, true) : n;
}

int bh_export_event_cef(const struct bh_export *x, const char *ns, const char *name,
			const char *kind, const char *severity, const char *detail, int64_t ts_ms,
			char *buf, size_t len)
{
	char sig[64], tmp[2 * BH_NAME_MAX + 2];
	struct bh_cef c;

	bh_cef_init(&c, buf, len);
	snprintf(sig, sizeof(sig), "event:%s", kind);
	cef_header(x, &c, sig, kind, event_severity(severity));
	bh_cef_ext_int(&c, "rt", ts_ms);
	if (x->node)
		bh_cef_ext(&c, "dvchost", x->node);
	if (*ns) {
		snprintf(tmp, sizeof(tmp), "%s/%s", ns, name);
		bh_cef_ext(&c, "workload", tmp);
		bh_cef_ext(&c, "namespace", ns);
		bh_cef_ext(&c, "name", name);
	}
	bh_cef_ext(&c, "kind", kind);
	bh_cef_ext(&c, "severity", severity);
	bh_cef_ext(&c, "msg", detail);
	/* an event too long for a record keeps its header and keys; the
	 * detail text is what gives way */
	return c.len ? (int)c.len : -EMSGSIZE;
}

/* --------------------------------------------------------- syslog */
/* Room for a CEF or JSON MSG: the record limit minus a 5424 header. */
#define MSG_ROOM (BH_SYSLOG_RECORD_MAX - 400)

static int syslog_msg(struct bh_export *x, enum bh_syslog_sev sev, const char *msgid,
		      const char *msg)
{
	return bh_syslog_send(x->syslog, sev, msgid, NULL, NULL, 0, msg);
}

static int syslog_flow_sd(struct bh_export *x, const struct bh_flow_view *v)
{
	char sp[8], dp[8], pk[24], by[24], fl[8], id[16], ts[24], it[8], ic[8], msg[768];
	char wl[2 * BH_NAME_MAX + 2], lab[1024], plab[1024], icmp[96], sid[48], pbuf[8], pid[16];
	const char *proto = bh_proto_str(v->proto, pbuf, sizeof(pbuf));
	bool icmp_flow = bh_proto_is_icmp(v->proto);
	const char *sport = u64_str((uint64_t)v->sport, sp, sizeof(sp));
	const char *dport = u64_str((uint64_t)v->dport, dp, sizeof(dp));
	struct sbuf m = { .p = msg, .cap = sizeof(msg) - 1 };
	struct bh_sd_param p[32];
	int n = 0, err;

	p[n++] = (struct bh_sd_param){ "workload", wl_str(v->ns, v->name, wl, sizeof(wl)) };
	p[n++] = (struct bh_sd_param){ "namespace", v->ns };
	p[n++] = (struct bh_sd_param){ "name", v->name };
	if (v->wl && labels_str(v->wl->nr_labels, v->wl->labels, lab, sizeof(lab),
				BH_SYSLOG_VALUE_MAX))
		p[n++] = (struct bh_sd_param){ "labels", lab };
	if (x->node)
		p[n++] = (struct bh_sd_param){ "node", x->node };
	p[n++] = (struct bh_sd_param){ "event", v->event };
	p[n++] = (struct bh_sd_param){ "dir", v->dir };
	p[n++] = (struct bh_sd_param){ "proto", proto };
	p[n++] = (struct bh_sd_param){ "src", v->src };
	if (!icmp_flow)
		p[n++] = (struct bh_sd_param){ "sport", sport };
	p[n++] = (struct bh_sd_param){ "dst", v->dst };
	if (!icmp_flow) {
		p[n++] = (struct bh_sd_param){ "dport", dport };
	} else {
		int type = (v->dport >> 8) & 0xff, code = v->dport & 0xff;

		p[n++] = (struct bh_sd_param){ "icmp_type", u64_str((uint64_t)type, it, sizeof(it)) };
		p[n++] = (struct bh_sd_param){ "icmp_code", u64_str((uint64_t)code, ic, sizeof(ic)) };
		p[n++] = (struct bh_sd_param){ "icmp", bh_icmp_name(v->proto, type, code, icmp,
								    sizeof(icmp)) };
	}
	p[n++] = (struct bh_sd_param){ "peer", v->peer };
	if (v->peer_wl) {
		p[n++] = (struct bh_sd_param){ "peer_namespace", v->peer_wl->ns };
		p[n++] = (struct bh_sd_param){ "peer_name", v->peer_wl->name };
		if (labels_str(v->peer_wl->nr_labels, v->peer_wl->labels, plab, sizeof(plab),
			       BH_SYSLOG_VALUE_MAX))
			p[n++] = (struct bh_sd_param){ "peer_labels", plab };
	}
	p[n++] = (struct bh_sd_param){ "peer_identity", u64_str(v->peer_identity, id, sizeof(id)) };
	p[n++] = (struct bh_sd_param){ "verdict", v->verdict_name };
	p[n++] = (struct bh_sd_param){ "reason", v->reason };
	p[n++] = (struct bh_sd_param){ "rule", v->rule };
	p[n++] = (struct bh_sd_param){ "packets", u64_str(v->packets, pk, sizeof(pk)) };
	p[n++] = (struct bh_sd_param){ "bytes", u64_str(v->bytes, by, sizeof(by)) };
	p[n++] = (struct bh_sd_param){ "tcp_flags", u64_str((uint64_t)(v->tcp_flags & 0xff), fl,
							     sizeof(fl)) };
	p[n++] = (struct bh_sd_param){ "ts_ms", i64_str(v->last_ms, ts, sizeof(ts)) };
	if (v->proc) {
		/* the process behind the flow (procjoin.h) */
		p[n++] = (struct bh_sd_param){ "pid", u64_str(v->proc->pid, pid, sizeof(pid)) };
		p[n++] = (struct bh_sd_param){ "comm", v->proc->comm };
		p[n++] = (struct bh_sd_param){ "exe", v->proc->exe };
		if (v->proc->cgroup[0])
			p[n++] = (struct bh_sd_param){ "cgroup", v->proc->cgroup };
	}

	/* "ns/name verdict dir src:sport -> dst:dport proto" */
	msg[0] = '\0';
	sb_put(&m, wl);
	sb_put(&m, " ");
	sb_put(&m, v->verdict_name);
	sb_put(&m, " ");
	sb_put(&m, v->dir);
	sb_put(&m, " ");
	sb_put(&m, v->src);
	if (!icmp_flow) {
		sb_put(&m, ":");
		sb_put(&m, sport);
	}
	sb_put(&m, " -> ");
	sb_put(&m, v->dst);
	if (!icmp_flow) {
		sb_put(&m, ":");
		sb_put(&m, dport);
	}
	sb_put(&m, " ");
	sb_put(&m, proto);
	if (icmp_flow) {
		sb_put(&m, " ");
		sb_put(&m, icmp);
	}
	sd_id(x, "flow", sid, sizeof(sid));
	err = bh_syslog_send(x->syslog, v->verdict == BH_V_ALLOW ? BH_SEV_INFO : BH_SEV_NOTICE,
			     "flow", sid, p, n, msg);
	if (err == -EMSGSIZE) {
		/* many long labels: the record goes without them */
		int k = 0;

		for (int i = 0; i < n; i++)
			if (strcmp(p[i].name, "labels") && strcmp(p[i].name, "peer_labels"))
				p[k++] = p[i];
		err = bh_syslog_send(x->syslog,
				     v->verdict == BH_V_ALLOW ? BH_SEV_INFO : BH_SEV_NOTICE,
				     "flow", sid, p, k, msg);
	}
	return err;
}

static int syslog_flow(struct bh_export *x, const struct bh_flow_view *v)
{
	enum bh_syslog_sev sev = v->verdict == BH_V_ALLOW ? BH_SEV_INFO : BH_SEV_NOTICE;
	char buf[MSG_ROOM];
	int n;

	switch (x->format) {
	case BH_EXPORT_CEF:
		n = bh_export_flow_cef(x, v, buf, sizeof(buf));
		return n < 0 ? n : syslog_msg(x, sev, "flow", buf);
	case BH_EXPORT_JSON: {
		json_object *o = bh_export_flow_json(x, v, false);
		const char *s;
		int err;

		if (!o)
			return -ENOMEM;
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (strlen(s) >= sizeof(buf)) {
			json_object_put(o);
			o = bh_export_flow_json(x, v, true);
			if (!o)
				return -ENOMEM;
			s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
		}
		err = syslog_msg(x, sev, "flow", s);
		json_object_put(o);
		return err;
	}
	default:
		return syslog_flow_sd(x, v);
	}
}

int bh_export_flow(struct bh_export *x, const struct bh_flow_view *v)
{
	int err = 0;

	if (x->syslog && x->syslog_flows) {
		err = syslog_flow(x, v);
		if (err)
			x->syslog_errors++;
	}
	if (x->jsonl) {
		json_object *o = bh_export_flow_json(x, v, false);

		if (!o)
			return -ENOMEM;
		err = jsonl_put(x, o) ?: err;
		json_object_put(o);
	}
	return err;
}

static int syslog_event(struct bh_export *x, const char *ns, const char *name, const char *kind,
			const char *severity, const char *detail, int64_t ts)
{
	enum bh_syslog_sev sev = bh_export_severity(severity);
	char msg[1400], sid[48], wl[2 * BH_NAME_MAX + 2];

	switch (x->format) {
	case BH_EXPORT_CEF: {
		char buf[MSG_ROOM];
		int n = bh_export_event_cef(x, ns, name, kind, severity, detail, ts, buf,
					    sizeof(buf));

		return n < 0 ? n : syslog_msg(x, sev, kind, buf);
	}
	case BH_EXPORT_JSON: {
		json_object *o = bh_export_event_json(x, ns, name, kind, severity, detail, ts);
		int err;

		if (!o)
			return -ENOMEM;
		err = syslog_msg(x, sev, kind, json_object_to_json_string_ext(
					 o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return err;
	}
	default: {
		struct bh_sd_param p[8];
		int n = 0;

		snprintf(wl, sizeof(wl), "%s%s%s", ns, *ns ? "/" : "", name);
		if (*ns) {
			p[n++] = (struct bh_sd_param){ "workload", wl };
			p[n++] = (struct bh_sd_param){ "namespace", ns };
			p[n++] = (struct bh_sd_param){ "name", name };
		}
		if (x->node)
			p[n++] = (struct bh_sd_param){ "node", x->node };
		p[n++] = (struct bh_sd_param){ "kind", kind };
		p[n++] = (struct bh_sd_param){ "severity", severity };
		p[n++] = (struct bh_sd_param){ "detail", detail };
		snprintf(msg, sizeof(msg), "%s%s%s: %s", wl, *ns ? " " : "", kind, detail);
		return bh_syslog_send(x->syslog, sev, kind, sd_id(x, "event", sid, sizeof(sid)), p,
				      n, msg);
	}
	}
}

int bh_export_event(struct bh_export *x, const char *ns, const char *name, const char *kind,
		    const char *severity, const char *detail)
{
	int64_t ts = wall_ms();
	int err = 0;

	if (x->syslog) {
		err = syslog_event(x, ns, name, kind, severity, detail, ts);
		if (err)
			x->syslog_errors++;
	}
	if (x->jsonl) {
		json_object *o = bh_export_event_json(x, ns, name, kind, severity, detail, ts);

		if (!o)
			return -ENOMEM;
		err = jsonl_put(x, o) ?: err;
		json_object_put(o);
	}
	return err;
}
