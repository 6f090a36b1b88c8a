// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Agent configuration: YAML (libyaml document API, for node line numbers)
 * into struct bh_agent_config. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "agent_config.h"

#define CFG_MAX_FILE	(1 << 20)

struct cfg_parser {
	yaml_document_t *doc;
	struct bh_agent_config *c;
	struct bh_agent_config_error *err;
	bool cidr_seen;		/* a deny_cidrs mapping item named its cidr */
};

void bh_agent_config_defaults(struct bh_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->syslog_format = BH_EXPORT_RFC5424;
	c->syslog_flows = true;
	c->enterprise_id = BH_DEFAULT_ENTERPRISE_ID;
	c->log_level = BH_LOG_INFO;
	c->max_flows = 1000000;
	c->max_age_ms = 7ULL * 24 * 3600 * 1000;
	c->flush_ms = 200;
	c->flush_records = 4000;	/* bench_ingest: 1000 -> 4000 saved ~15% CPU */
	c->max_live_flows = 262144;
	c->idle_timeout_ms = 120 * 1000;
	c->cidr_prefix_v4 = 32;
	c->cidr_prefix_v6 = 128;
	c->detect.denied_seconds = 10;
	c->detect.denied_action = BH_DETECT_ACTION_QUARANTINE;
	c->detect.scan_seconds = 10;
	c->detect.scan_action = BH_DETECT_ACTION_ALERT;	/* fan-out is common: watch first */
	c->detect.cidr_action = BH_DETECT_ACTION_QUARANTINE;
	c->capture_seconds = 30;
	c->capture_max_bytes = 10 << 20;
	c->deviation_rate = 60;
	snprintf(c->docker_socket, sizeof(c->docker_socket), "/run/docker.sock");
	snprintf(c->docker_namespace, sizeof(c->docker_namespace), "docker");
	c->docker_mode = BH_MODE_ENFORCE;
	c->k8s_chunk_size = BH_K8S_CHUNK_DEFAULT;
}

const char *bh_agent_config_error_format(const struct bh_agent_config_error *e,
					 char *buf, size_t len)
{
	if (e->field[0])
		snprintf(buf, len, "%s:%d: %s: %s", e->file, e->line, e->field, e->msg);
	else
		snprintf(buf, len, "%s:%d: %s", e->file, e->line, e->msg);
	return buf;
}

static int cfg_fail(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cfg_fail(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		    const char *fmt, ...)
{
	va_list ap;

	p->err->line = n ? (int)n->start_mark.line + 1 : 0;
	snprintf(p->err->field, sizeof(p->err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ------------------------------------------------------------ scalars */
int bh_parse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p) {
		char *end;
		unsigned long long v;
		uint64_t unit;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno)
			return -EINVAL;
		if (strncmp(end, "ms", 2) == 0) {
			unit = 1;
			end += 2;
		} else if (*end == 's' || *end == '\0') {
			unit = 1000;
			end += *end ? 1 : 0;
		} else if (*end == 'm') {
			unit = 60 * 1000;
			end++;
		} else if (*end == 'h') {
			unit = 3600 * 1000;
			end++;
		} else if (*end == 'd') {
			unit = 24 * 3600 * 1000;
			end++;
		} else {
			return -EINVAL;
		}
		if (v > UINT64_MAX / unit / 2)
			return -ERANGE;
		total += v * unit;
		p = end;
	}
	*ms = total;
	return 0;
}

int bh_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mul = 1ULL << 10; break;
		case 'm': mul = 1ULL << 20; break;
		case 'g': mul = 1ULL << 30; break;
		default: return -EINVAL;
		}
		end++;
		if (strcasecmp(end, "ib") && strcasecmp(end, "b") && *end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*bytes = v * mul;
	return 0;
}

int bh_syslog_format_parse(const char *s, enum bh_export_format *out)
{
	return bh_export_format_parse(s, out);
}

int bh_log_level_parse(const char *s, enum bh_log_level *out)
{
	static const char *const names[] = { "error", "warning", "info", "debug", NULL };

	for (int i = 0; names[i]; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum bh_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_str(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		   char *out, size_t len)
{
	const char *s = scalar(n);

	if (!s)
		return cfg_fail(p, n, field, "expected a string");
	if (strlen(s) >= len)
		return cfg_fail(p, n, field, "too long (max %zu)", len - 1);
	strcpy(out, s);
	return 0;
}

static int get_u64(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return cfg_fail(p, n, field, "expected a non-negative integer");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return cfg_fail(p, n, field, "expected a non-negative integer, got \"%s\"", s);
	if (v < min || v > max)
		return cfg_fail(p, n, field, "%llu out of range [%llu, %llu]", v,
				(unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int get_u32(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = get_u64(p, n, field, min, max, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

static int get_bool(struct cfg_parser *p, const yaml_node_t *n, const char *field, bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")))
		*out = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")))
		*out = false;
	else
		return cfg_fail(p, n, field, "expected true or false");
	return 0;
}

static int get_duration(struct cfg_parser *p, const yaml_node_t *n, const char *field,
			uint64_t *ms)
{
	const char *s = scalar(n);

	if (!s || bh_parse_duration_ms(s, ms))
		return cfg_fail(p, n, field, "expected a duration such as 10s, 5m, 7d");
	return 0;
}

/* ------------------------------------------------------------ mappings */
typedef int (*cfg_key_fn)(struct cfg_parser *p, const char *key, yaml_node_t *val,
			  const char *field);

/* Calls fn for each key of mapping n; unknown keys are reported by fn. */
static int each_key(struct cfg_parser *p, yaml_node_t *n, const char *field, cfg_key_fn fn)
{
	yaml_node_pair_t *pair;

	if (!n || n->type != YAML_MAPPING_NODE)
		return cfg_fail(p, n, field, "expected a mapping");
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *key = scalar(k);
		char sub[128];
		int err;

		if (!key)
			return cfg_fail(p, k, field, "expected a string key");
		snprintf(sub, sizeof(sub), "%s%s%s", field, *field ? "." : "", key);
		err = fn(p, key, v, sub);
		if (err)
			return err;
	}
	return 0;
}

static int unknown(struct cfg_parser *p, yaml_node_t *v, const char *field)
{
	return cfg_fail(p, v, field, "unknown key");
}

static int tls_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	struct bh_agent_config *c = p->c;

	if (!strcmp(key, "ca"))
		return get_str(p, v, f, c->tls_ca, sizeof(c->tls_ca));
	if (!strcmp(key, "cert"))
		return get_str(p, v, f, c->tls_cert, sizeof(c->tls_cert));
	if (!strcmp(key, "key"))
		return get_str(p, v, f, c->tls_key, sizeof(c->tls_key));
	if (!strcmp(key, "server_name"))
		return get_str(p, v, f, c->tls_server_name, sizeof(c->tls_server_name));
	return unknown(p, v, f);
}

static int log_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "level")) {
		const char *s = scalar(v);

		if (!s || bh_log_level_parse(s, &p->c->log_level))
			return cfg_fail(p, v, f, "expected error, warning, info or debug");
		return 0;
	}
	return unknown(p, v, f);
}

static int syslog_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	struct bh_agent_config *c = p->c;

	if (!strcmp(key, "target"))
		return get_str(p, v, f, c->syslog_target, sizeof(c->syslog_target));
	if (!strcmp(key, "format")) {
		const char *s = scalar(v);

		if (!s || bh_syslog_format_parse(s, &c->syslog_format))
			return cfg_fail(p, v, f, "expected rfc5424, rfc3164, cef or json");
		return 0;
	}
	if (!strcmp(key, "queue"))
		return get_u32(p, v, f, 1, 1u << 24, &c->syslog_queue);
	if (!strcmp(key, "flows"))
		return get_bool(p, v, f, &c->syslog_flows);
	if (!strcmp(key, "enterprise_id"))
		/* an IANA Private Enterprise Number (RFC 5424 §7.2.2) */
		return get_u32(p, v, f, 1, 0x7fffffff, &c->enterprise_id);
	if (!strcmp(key, "tls")) {
		/* tls: {} is the system trust store, no client certificate */
		c->syslog_tls = true;
		return each_key(p, v, f, tls_key);
	}
	return unknown(p, v, f);
}

static int retention_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "max_flows"))
		return get_u64(p, v, f, 1, 1ULL << 40, &p->c->max_flows);
	if (!strcmp(key, "max_age")) {
		int err = get_duration(p, v, f, &p->c->max_age_ms);

		if (!err && p->c->max_age_ms < 1000)
			return cfg_fail(p, v, f, "must be at least 1s");
		return err;
	}
	return unknown(p, v, f);
}

static int store_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "flush_ms"))
		return get_u32(p, v, f, 10, 10000, &p->c->flush_ms);
	if (!strcmp(key, "flush_records"))
		return get_u32(p, v, f, 1, 1000000, &p->c->flush_records);
	return unknown(p, v, f);
}

static int flows_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "max_live"))
		return get_u32(p, v, f, 16, 1u << 24, &p->c->max_live_flows);
	if (!strcmp(key, "idle_timeout"))
		return get_duration(p, v, f, &p->c->idle_timeout_ms);
	return unknown(p, v, f);
}

static int baseline_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	uint32_t x = 0;
	int err;

	if (!strcmp(key, "cidr_prefix_v4")) {
		err = get_u32(p, v, f, 0, 32, &x);
		if (!err)
			p->c->cidr_prefix_v4 = (int)x;
		return err;
	}
	if (!strcmp(key, "cidr_prefix_v6")) {
		err = get_u32(p, v, f, 0, 128, &x);
		if (!err)
			p->c->cidr_prefix_v6 = (int)x;
		return err;
	}
	return unknown(p, v, f);
}

static int get_action(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		      enum bh_detect_action *out)
{
	const char *s = scalar(n);

	if (!s || bh_detect_action_parse(s, out))
		return cfg_fail(p, n, field, "expected alert or quarantine");
	return 0;
}

static int denied_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	struct bh_detect_opts *d = &p->c->detect;

	if (!strcmp(key, "action"))
		return get_action(p, v, f, &d->denied_action);
	if (!strcmp(key, "count"))
		return get_u32(p, v, f, 1, BH_DETECT_MAX_COUNT, &d->denied_count);
	if (!strcmp(key, "seconds"))
		return get_u32(p, v, f, 1, 86400, &d->denied_seconds);
	return unknown(p, v, f);
}

static int scan_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	struct bh_detect_opts *d = &p->c->detect;

	if (!strcmp(key, "distinct_ports"))
		return get_u32(p, v, f, 2, BH_DETECT_MAX_DISTINCT, &d->scan_ports);
	if (!strcmp(key, "distinct_peers"))
		return get_u32(p, v, f, 2, BH_DETECT_MAX_DISTINCT, &d->scan_peers);
	if (!strcmp(key, "seconds"))
		return get_u32(p, v, f, 1, 86400, &d->scan_seconds);
	if (!strcmp(key, "action"))
		return get_action(p, v, f, &d->scan_action);
	return unknown(p, v, f);
}

static int capture_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "seconds"))
		return get_u32(p, v, f, 1, 3600, &p->c->capture_seconds);
	if (!strcmp(key, "max_bytes")) {
		const char *s = scalar(v);

		if (!s || bh_parse_size(s, &p->c->capture_max_bytes) ||
		    p->c->capture_max_bytes < 1024)
			return cfg_fail(p, v, f, "expected a size of at least 1024 (bytes, or 10MiB)");
		return 0;
	}
	return unknown(p, v, f);
}

/* Iterate a sequence of scalars. */
static int each_item(struct cfg_parser *p, yaml_node_t *n, const char *field,
		     int (*fn)(struct cfg_parser *p, yaml_node_t *item, const char *field))
{
	yaml_node_item_t *it;
	int i = 0;

	if (!n || n->type != YAML_SEQUENCE_NODE)
		return cfg_fail(p, n, field, "expected a list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		char sub[128];
		int err;

		snprintf(sub, sizeof(sub), "%s[%d]", field, i);
		err = fn(p, yaml_document_get_node(p->doc, *it), sub);
		if (err)
			return err;
	}
	return 0;
}

static int get_action(struct cfg_parser *p, const yaml_node_t *n, const char *field,
		      enum bh_detect_action *out);

/* an item of deny_cidrs given as {cidr: ADDR/PLEN, action: alert|quarantine} */
static int deny_cidr_entry_key(struct cfg_parser *p, const char *key, yaml_node_t *v,
			       const char *f)
{
	struct bh_detect_opts *d = &p->c->detect;
	const char *s = scalar(v);

	if (!strcmp(key, "cidr")) {
		if (!s || bh_cidr_parse_addr(s, &d->deny_cidrs[d->nr_deny_cidrs]))
			return cfg_fail(p, v, f, "expected an address or CIDR such as 192.0.2.0/24");
		p->cidr_seen = true;
		return 0;
	}
	if (!strcmp(key, "action"))
		return get_action(p, v, f, &d->deny_cidr_actions[d->nr_deny_cidrs]);
	return unknown(p, v, f);
}

static int deny_cidr_item(struct cfg_parser *p, yaml_node_t *n, const char *f)
{
	struct bh_detect_opts *d = &p->c->detect;
	const char *s = scalar(n);

	if (d->nr_deny_cidrs >= BH_DETECT_MAX_CIDRS)
		return cfg_fail(p, n, f, "at most %d CIDRs", BH_DETECT_MAX_CIDRS);
	if (n && n->type == YAML_MAPPING_NODE) {
		int err;

		p->cidr_seen = false;
		err = each_key(p, n, f, deny_cidr_entry_key);
		if (err)
			return err;
		if (!p->cidr_seen)
			return cfg_fail(p, n, f, "expected cidr: ADDR/PLEN in this mapping");
		d->nr_deny_cidrs++;
		return 0;
	}
	if (!s || bh_cidr_parse_addr(s, &d->deny_cidrs[d->nr_deny_cidrs]))
		return cfg_fail(p, n, f, "expected an address or CIDR such as 192.0.2.0/24,"
				" or {cidr: ..., action: ...}");
	d->nr_deny_cidrs++;
	return 0;
}

static int exempt_item(struct cfg_parser *p, yaml_node_t *n, const char *f)
{
	struct bh_detect_opts *d = &p->c->detect;
	const char *s = scalar(n);

	if (d->nr_exempt >= BH_DETECT_MAX_EXEMPT)
		return cfg_fail(p, n, f, "at most %d patterns", BH_DETECT_MAX_EXEMPT);
	if (!s || !strchr(s, '/'))
		return cfg_fail(p, n, f, "expected a NS/NAME pattern such as kube-system/*");
	return get_str(p, n, f, d->exempt[d->nr_exempt++], sizeof(d->exempt[0]));
}

/* deny_cidrs: {cidrs: [...], action: alert|quarantine} */
static int deny_cidrs_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "cidrs"))
		return each_item(p, v, f, deny_cidr_item);
	if (!strcmp(key, "action"))
		return get_action(p, v, f, &p->c->detect.cidr_action);
	return unknown(p, v, f);
}

static int quarantine_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "denied_flows"))
		return each_key(p, v, f, denied_key);
	if (!strcmp(key, "scan"))
		return each_key(p, v, f, scan_key);
	if (!strcmp(key, "deny_cidrs")) {
		/* a list of CIDRs, or a mapping with the list and an action */
		if (v && v->type == YAML_MAPPING_NODE)
			return each_key(p, v, f, deny_cidrs_key);
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return cfg_fail(p, v, f, "expected a list of CIDRs, or a mapping"
					" {cidrs: [...], action: alert|quarantine}");
		return each_item(p, v, f, deny_cidr_item);
	}
	if (!strcmp(key, "dry_run"))
		return get_bool(p, v, f, &p->c->detect.dry_run);
	if (!strcmp(key, "exempt"))
		return each_item(p, v, f, exempt_item);
	if (!strcmp(key, "capture")) {
		p->c->capture = true;
		return each_key(p, v, f, capture_key);
	}
	return unknown(p, v, f);
}

static int deviations_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "max_per_minute"))
		return get_u32(p, v, f, 1, 100000, &p->c->deviation_rate);
	return unknown(p, v, f);
}

static int metrics_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "listen"))
		return get_str(p, v, f, p->c->metrics_listen, sizeof(p->c->metrics_listen));
	return unknown(p, v, f);
}

static int docker_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	struct bh_agent_config *c = p->c;
	const char *s = scalar(v);

	if (!strcmp(key, "socket")) {
		if (!s || s[0] != '/')
			return cfg_fail(p, v, f, "expected an absolute path to Docker's API socket");
		return get_str(p, v, f, c->docker_socket, sizeof(c->docker_socket));
	}
	if (!strcmp(key, "namespace")) {
		struct bh_label l;
		char kv[BH_NAME_MAX + 64];

		/* a namespace name is a label value (kubernetes.io/metadata.name) */
		snprintf(kv, sizeof(kv), "ns=%s", s ? s : "");
		if (!s || !*s || strchr(s, '/') || bh_label_parse(kv, &l))
			return cfg_fail(p, v, f, "expected a namespace name such as docker");
		return get_str(p, v, f, c->docker_namespace, sizeof(c->docker_namespace));
	}
	if (!strcmp(key, "mode")) {
		if (!s || bh_mode_parse(s, &c->docker_mode))
			return cfg_fail(p, v, f, "expected learn, monitor or enforce");
		return 0;
	}
	return unknown(p, v, f);
}

static int k8s_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "kubeconfig"))
		return get_str(p, v, f, p->c->k8s_kubeconfig, sizeof(p->c->k8s_kubeconfig));
	if (!strcmp(key, "node"))
		return get_str(p, v, f, p->c->k8s_node, sizeof(p->c->k8s_node));
	if (!strcmp(key, "chunk_size"))
		return get_u32(p, v, f, 0, BH_K8S_CHUNK_MAX, &p->c->k8s_chunk_size);
	return unknown(p, v, f);
}

static int top_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *f)
{
	if (!strcmp(key, "syslog")) {
		/* shorthand: syslog: "udp://127.0.0.1:514" */
		if (scalar(v))
			return get_str(p, v, f, p->c->syslog_target, sizeof(p->c->syslog_target));
		return each_key(p, v, f, syslog_key);
	}
	if (!strcmp(key, "jsonl"))
		return get_str(p, v, f, p->c->jsonl, sizeof(p->c->jsonl));
	if (!strcmp(key, "retention"))
		return each_key(p, v, f, retention_key);
	if (!strcmp(key, "store"))
		return each_key(p, v, f, store_key);
	if (!strcmp(key, "flows"))
		return each_key(p, v, f, flows_key);
	if (!strcmp(key, "baseline"))
		return each_key(p, v, f, baseline_key);
	if (!strcmp(key, "quarantine"))
		return each_key(p, v, f, quarantine_key);
	if (!strcmp(key, "deviations"))
		return each_key(p, v, f, deviations_key);
	if (!strcmp(key, "metrics"))
		return each_key(p, v, f, metrics_key);
	if (!strcmp(key, "node"))
		return get_str(p, v, f, p->c->node, sizeof(p->c->node));
	if (!strcmp(key, "log"))
		return each_key(p, v, f, log_key);
	if (!strcmp(key, "docker")) {
		p->c->docker = true;
		return each_key(p, v, f, docker_key);
	}
	if (!strcmp(key, "kubernetes")) {
		p->c->k8s = true;
		/* "kubernetes:" alone (null) or {}: in-cluster, default node */
		if (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)
			return 0;
		return each_key(p, v, f, k8s_key);
	}
	return unknown(p, v, f);
}

int bh_agent_config_parse_buf(const char *name, const char *buf, size_t len,
			      struct bh_agent_config *c, struct bh_agent_config_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct cfg_parser p = { .doc = &doc, .c = c, .err = err };
	yaml_node_t *root;
	int ret;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", name);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err->line = (int)parser.problem_mark.line + 1;
		snprintf(err->msg, sizeof(err->msg), "YAML: %s",
			 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		ret = 0;	/* empty file: defaults */
	else if (root->type == YAML_SCALAR_NODE && !*scalar(root))
		ret = 0;
	else
		ret = each_key(&p, root, "", top_key);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int bh_agent_config_load(const char *path, struct bh_agent_config *c,
			 struct bh_agent_config_error *err)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int ret;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (!f) {
		ret = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		return ret;
	}
	buf = malloc(CFG_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f) || n > CFG_MAX_FILE) {
		snprintf(err->msg, sizeof(err->msg), "%s",
			 n > CFG_MAX_FILE ? "file larger than 1 MiB" : "read error");
		ret = n > CFG_MAX_FILE ? -EFBIG : -EIO;
	} else {
		ret = bh_agent_config_parse_buf(path, buf, n, c, err);
	}
	free(buf);
	fclose(f);
	return ret;
}
