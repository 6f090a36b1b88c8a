// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow and event export to syslog and JSON lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "export.h"

#define SD_FLOW		"flow@32473"
#define SD_EVENT	"event@32473"

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

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
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

static int jsonl_put(struct bh_export *x, json_object *o)
{
	int err = bh_jsonl_write(x->jsonl, o);

	if (err)
		x->errors++;
	json_object_put(o);
	return err;
}

int bh_export_flow(struct bh_export *x, const struct bh_flow_view *v)
{
	char pbuf[8];
	const char *proto = bh_proto_str(v->proto, pbuf, sizeof(pbuf));
	int err = 0;

	if (x->syslog && x->syslog_flows) {
		char sp[8], dp[8], pk[24], by[24], fl[8], id[16], ts[24], msg[768];
		const char *sport = u64_str((uint64_t)v->sport, sp, sizeof(sp));
		const char *dport = u64_str((uint64_t)v->dport, dp, sizeof(dp));
		const char *tsv = i64_str(v->last_ms, ts, sizeof(ts));
		struct sbuf m = { .p = msg, .cap = sizeof(msg) - 1 };
		struct bh_sd_param p[] = {
			{ "ns", v->ns }, { "name", v->name }, { "event", v->event },
			{ "dir", v->dir }, { "proto", proto }, { "src", v->src },
			{ "sport", sport }, { "dst", v->dst }, { "dport", dport },
			{ "peer", v->peer },
			{ "identity", u64_str(v->peer_identity, id, sizeof(id)) },
			{ "verdict", v->verdict_name }, { "reason", v->reason }, { "rule", v->rule },
			{ "packets", u64_str(v->packets, pk, sizeof(pk)) },
			{ "bytes", u64_str(v->bytes, by, sizeof(by)) },
			{ "tcp_flags", u64_str((uint64_t)(v->tcp_flags & 0xff), fl, sizeof(fl)) },
			{ "ts_ms", tsv },
		};

		/* "ns/name verdict dir src:sport -> dst:dport proto" */
		msg[0] = '\0';
		sb_put(&m, v->ns);
		sb_put(&m, "/");
		sb_put(&m, v->name);
		sb_put(&m, " ");
		sb_put(&m, v->verdict_name);
		sb_put(&m, " ");
		sb_put(&m, v->dir);
		sb_put(&m, " ");
		sb_put(&m, v->src);
		sb_put(&m, ":");
		sb_put(&m, sport);
		sb_put(&m, " -> ");
		sb_put(&m, v->dst);
		sb_put(&m, ":");
		sb_put(&m, dport);
		sb_put(&m, " ");
		sb_put(&m, proto);
		err = bh_syslog_send(x->syslog,
				     v->verdict == BH_V_ALLOW ? BH_SEV_INFO : BH_SEV_NOTICE,
				     "flow", SD_FLOW, p, (int)(sizeof(p) / sizeof(p[0])), msg);
	}
	if (x->jsonl) {
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		add_str(o, "type", "flow");
		add_int(o, "ts_ms", v->last_ms);
		add_str(o, "ns", v->ns);
		add_str(o, "name", v->name);
		add_str(o, "event", v->event);
		add_str(o, "dir", v->dir);
		add_int(o, "family", v->family);
		add_str(o, "proto", proto);
		add_str(o, "src", v->src);
		add_int(o, "sport", v->sport);
		add_str(o, "dst", v->dst);
		add_int(o, "dport", v->dport);
		add_str(o, "peer", v->peer);
		add_int(o, "peer_identity", v->peer_identity);
		add_str(o, "verdict", v->verdict_name);
		add_str(o, "reason", v->reason);
		add_str(o, "rule", v->rule);
		add_int(o, "packets", (int64_t)v->packets);
		add_int(o, "bytes", (int64_t)v->bytes);
		add_int(o, "tcp_flags", v->tcp_flags);
		err = jsonl_put(x, o) ?: err;
	}
	return err;
}

int bh_export_event(struct bh_export *x, const char *ns, const char *name, const char *kind,
		    const char *severity, const char *detail)
{
	int err = 0;

	if (x->syslog) {
		char msg[1400];
		struct bh_sd_param p[] = {
			{ "ns", ns }, { "name", name }, { "kind", kind },
			{ "severity", severity }, { "detail", detail },
		};

		snprintf(msg, sizeof(msg), "%s%s%s %s: %s", ns, *ns ? "/" : "", name, kind, detail);
		err = bh_syslog_send(x->syslog, bh_export_severity(severity), kind, SD_EVENT, p,
				     (int)(sizeof(p) / sizeof(p[0])), msg);
	}
	if (x->jsonl) {
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		add_str(o, "type", "event");
		add_int(o, "ts_ms", wall_ms());
		add_str(o, "ns", ns);
		add_str(o, "name", name);
		add_str(o, "kind", kind);
		add_str(o, "severity", severity);
		add_str(o, "detail", detail);
		err = jsonl_put(x, o) ?: err;
	}
	return err;
}
