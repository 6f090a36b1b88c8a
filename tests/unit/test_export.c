// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's exports (lib/agent/export.c): CEF and JSON messages parse back to
 * exactly the values given, with the injection attempts the RFC 5424 tests
 * use (a name that carries a whole forged record, a label that closes the
 * SD element, |, \, =, CR/LF, control bytes); the CEF parser here is an
 * independent reading of the CEF escaping rules. Then real delivery over a
 * unix datagram socket: RFC 5424 structured data under the configured
 * enterprise number with the documented parameters (docs/syslog.md), CEF
 * and JSON as the MSG of an RFC 5424 record, and labels left out when
 * they would not fit a record.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "export.h"

/* The same hostile strings as tests/netns/test_syslog_rsyslog.sh. */
#define EVIL_NAME "web\n<14>1 2024-01-01T00:00:00.000000+00:00 evil bh-test 1 flow " \
		  "[flow@32473 seq=\"9999\"] forged|CEF:0|x|y|z|1|n|10|admin=yes"
#define EVIL_LABEL "x\"] [forged@1 admin=\"yes\"] a\\b=c|d\r\n"
/* what survives: CR/LF and other controls are escaped (CEF, JSON) */

static struct bh_workload_info wl, peer;
static struct bh_flow_view view;

static void make_view(void)
{
	memset(&wl, 0, sizeof(wl));
	memset(&peer, 0, sizeof(peer));
	snprintf(wl.ns, sizeof(wl.ns), "shop");
	snprintf(wl.name, sizeof(wl.name), "%s", EVIL_NAME);
	wl.nr_labels = 2;
	snprintf(wl.labels[0].key, sizeof(wl.labels[0].key), "app");
	snprintf(wl.labels[0].value, sizeof(wl.labels[0].value), "%s", EVIL_LABEL);
	snprintf(wl.labels[1].key, sizeof(wl.labels[1].key), "tier");
	snprintf(wl.labels[1].value, sizeof(wl.labels[1].value), "front");
	snprintf(peer.ns, sizeof(peer.ns), "shop");
	snprintf(peer.name, sizeof(peer.name), "db");
	peer.nr_labels = 1;
	snprintf(peer.labels[0].key, sizeof(peer.labels[0].key), "app");
	snprintf(peer.labels[0].value, sizeof(peer.labels[0].value), "db");
	memset(&view, 0, sizeof(view));
	view.wl = &wl;
	view.peer_wl = &peer;
	snprintf(view.ns, sizeof(view.ns), "%s", wl.ns);
	snprintf(view.name, sizeof(view.name), "%s", wl.name);
	view.dir = "egress";
	view.family = 4;
	view.proto = IPPROTO_TCP;
	snprintf(view.src, sizeof(view.src), "10.104.1.10");
	snprintf(view.dst, sizeof(view.dst), "10.104.1.20");
	view.sport = 40001;
	view.dport = 5432;
	snprintf(view.peer, sizeof(view.peer), "shop/db");
	view.peer_identity = 0x101;
	view.verdict = BH_V_DENY;
	view.verdict_name = "deny";
	view.reason = "policy-deny";
	snprintf(view.rule, sizeof(view.rule), "shop/db-in ingress[1]");
	view.packets = 3;
	view.bytes = 222;
	view.tcp_flags = 0x02;
	view.first_ms = view.last_ms = 1714564800250LL;
	view.event = "new";
}

/* ------------------------------------------------------------ CEF parser
 * Written from the CEF specification, not from lib/agent/cef.c: header fields
 * are split at '|' not preceded by a backslash and unescape \\ and \|;
 * the extension is "key=value" pairs where a key is [A-Za-z0-9_]+ and a
 * value runs to the space before the next key; values unescape \\, \=,
 * \n and \r. */
struct cef {
	char hdr[8][512];
	int nr_ext;
	char key[64][64];
	char val[64][1024];
};

static const char *cef_get(const struct cef *c, const char *k)
{
	for (int i = 0; i < c->nr_ext; i++)
		if (!strcmp(c->key[i], k))
			return c->val[i];
	return NULL;
}

static void cef_parse(const char *line, struct cef *c)
{
	const char *p = line;
	int f = 0;

	memset(c, 0, sizeof(*c));
	for (; f < 7; f++) {
		size_t o = 0;

		while (*p && *p != '|') {
			if (*p == '\\' && (p[1] == '\\' || p[1] == '|'))
				p++;
			else if (*p == '\\')
				fail_msg("header: bad escape in %s", line);
			c->hdr[f][o++] = *p++;
		}
		if (*p != '|')
			fail_msg("header field %d not ended by '|': %s", f, line);
		p++;
	}
	/* extension */
	while (*p) {
		const char *k = p;
		size_t kl = 0, o = 0;

		while ((k[kl] >= 'a' && k[kl] <= 'z') || (k[kl] >= 'A' && k[kl] <= 'Z') ||
		       (k[kl] >= '0' && k[kl] <= '9') || k[kl] == '_')
			kl++;
		if (!kl || k[kl] != '=')
			fail_msg("extension: expected key= at '%s'", p);
		snprintf(c->key[c->nr_ext], sizeof(c->key[0]), "%.*s", (int)kl, k);
		p = k + kl + 1;
		for (;;) {
			if (!*p)
				break;
			if (*p == ' ') {
				/* a new pair starts if a key and '=' follow */
				const char *q = p + 1;

				while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
				       (*q >= '0' && *q <= '9') || *q == '_')
					q++;
				if (q > p + 1 && *q == '=') {
					p++;
					break;
				}
			}
			if (*p == '=')
				fail_msg("extension: unescaped '=' in the value of %s: %s",
					 c->key[c->nr_ext], line);
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					c->val[c->nr_ext][o++] = '\n';
				else if (*p == 'r')
					c->val[c->nr_ext][o++] = '\r';
				else if (*p == '\\' || *p == '=')
					c->val[c->nr_ext][o++] = *p;
				else
					fail_msg("extension: bad escape \\%c", *p);
				p++;
				continue;
			}
			c->val[c->nr_ext][o++] = *p++;
		}
		c->nr_ext++;
	}
}

static void no_raw_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("raw control byte 0x%02x at offset %zu", *p,
				 (size_t)(p - (const unsigned char *)s));
}

static void test_cef_flow(void **state)
{
	struct bh_export x = { .node = "node|1\\x", .version = "v1.0" };
	char line[4096], wlname[600];
	struct cef *c = calloc(1, sizeof(*c));

	(void)state;
	make_view();
	assert_true(bh_export_flow_cef(&x, &view, line, sizeof(line)) > 0);
	no_raw_controls(line);
	cef_parse(line, c);
	assert_string_equal(c->hdr[0], "CEF:0");
	assert_string_equal(c->hdr[1], "bulkhead");
	assert_string_equal(c->hdr[2], "bulkhead");
	assert_string_equal(c->hdr[3], "v1.0");
	assert_string_equal(c->hdr[4], "flow:deny");
	assert_string_equal(c->hdr[5], "flow deny");
	assert_string_equal(c->hdr[6], "6");
	/* every value comes back exactly, \r\n included */
	snprintf(wlname, sizeof(wlname), "shop/%s", EVIL_NAME);
	assert_string_equal(cef_get(c, "workload"), wlname);
	assert_string_equal(cef_get(c, "name"), EVIL_NAME);
	assert_string_equal(cef_get(c, "labels"), "app=" EVIL_LABEL ",tier=front");
	assert_string_equal(cef_get(c, "dvchost"), "node|1\\x");
	assert_string_equal(cef_get(c, "src"), "10.104.1.10");
	assert_string_equal(cef_get(c, "spt"), "40001");
	assert_string_equal(cef_get(c, "dpt"), "5432");
	assert_string_equal(cef_get(c, "proto"), "tcp");
	assert_string_equal(cef_get(c, "act"), "deny");
	assert_string_equal(cef_get(c, "deviceDirection"), "1");
	assert_string_equal(cef_get(c, "rt"), "1714564800250");
	assert_string_equal(cef_get(c, "peer_namespace"), "shop");
	assert_string_equal(cef_get(c, "peer_labels"), "app=db");
	assert_string_equal(cef_get(c, "rule"), "shop/db-in ingress[1]");
	assert_string_equal(cef_get(c, "packets"), "3");
	/* nothing forged: no key the hostile strings spell */
	assert_null(cef_get(c, "admin"));
	assert_null(cef_get(c, "seq"));
	free(c);
}

static void test_cef_event_and_icmp(void **state)
{
	struct bh_export x = { 0 };
	char line[4096];
	struct cef *c = calloc(1, sizeof(*c));

	(void)state;
	assert_true(bh_export_event_cef(&x, "shop", EVIL_NAME, "quarantine", "alert",
					"auto: " EVIL_LABEL, 1000, line, sizeof(line)) > 0);
	no_raw_controls(line);
	cef_parse(line, c);
	assert_string_equal(c->hdr[3], "0");
	assert_string_equal(c->hdr[4], "event:quarantine");
	assert_string_equal(c->hdr[6], "9");
	assert_string_equal(cef_get(c, "msg"), "auto: " EVIL_LABEL);
	assert_string_equal(cef_get(c, "name"), EVIL_NAME);
	assert_null(cef_get(c, "admin"));

	make_view();
	view.proto = IPPROTO_ICMP;
	view.sport = 77;
	view.dport = 3 << 8 | 3;
	assert_true(bh_export_flow_cef(&x, &view, line, sizeof(line)) > 0);
	cef_parse(line, c);
	assert_null(cef_get(c, "spt"));
	assert_null(cef_get(c, "dpt"));
	assert_string_equal(cef_get(c, "icmp"), "destination-unreachable/port-unreachable");
	assert_string_equal(cef_get(c, "icmp_type"), "3");
	free(c);
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static void test_json_flow(void **state)
{
	struct bh_export x = { .node = "node-1" };
	json_object *o, *back, *l;
	const char *s;
	char wlname[600];

	(void)state;
	make_view();
	o = bh_export_flow_json(&x, &view, false);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	no_raw_controls(s);
	back = json_tokener_parse(s);
	assert_non_null(back);
	snprintf(wlname, sizeof(wlname), "shop/%s", EVIL_NAME);
	assert_string_equal(jstr(back, "type"), "flow");
	assert_string_equal(jstr(back, "event"), "new");
	assert_string_equal(jstr(back, "node"), "node-1");
	assert_string_equal(jstr(back, "time"), "2024-05-01T12:00:00.250Z");
	assert_string_equal(jstr(back, "workload"), wlname);
	assert_string_equal(jstr(back, "namespace"), "shop");
	assert_string_equal(jstr(back, "name"), EVIL_NAME);
	assert_true(json_object_object_get_ex(back, "labels", &l));
	assert_string_equal(jstr(l, "app"), EVIL_LABEL);
	assert_string_equal(jstr(back, "peer_name"), "db");
	assert_true(json_object_object_get_ex(back, "peer_labels", &l));
	assert_string_equal(jstr(l, "app"), "db");
	assert_string_equal(jstr(back, "dport"), "5432");
	assert_string_equal(jstr(back, "verdict"), "deny");
	assert_null(jstr(back, "admin"));
	json_object_put(back);
	json_object_put(o);

	o = bh_export_event_json(&x, "", "", "records-lost", "warning", "3 lost\n" EVIL_LABEL, 5);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	no_raw_controls(s);
	back = json_tokener_parse(s);
	assert_string_equal(jstr(back, "type"), "event");
	assert_string_equal(jstr(back, "detail"), "3 lost\n" EVIL_LABEL);
	assert_null(jstr(back, "workload"));	/* a node event */
	json_object_put(back);
	json_object_put(o);
}

/* ------------------------------------------------- delivery over a socket */
struct sink {
	char dir[32], path[64];
	int fd;
};

static void sink_open(struct sink *k)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(k->dir, sizeof(k->dir), "/tmp/bh-export-XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	snprintf(k->path, sizeof(k->path), "%s/sock", k->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", k->path);
	k->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(k->fd >= 0);
	assert_int_equal(bind(k->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

static void sink_close(struct sink *k)
{
	close(k->fd);
	unlink(k->path);
	rmdir(k->dir);
}

/* Pump until one datagram arrives (bounded), return it. */
static void receive(struct sink *k, struct bh_syslog *s, char *buf, size_t len)
{
	ssize_t n = -1;

	for (int i = 0; i < 100 && n < 0; i++) {
		bh_syslog_pump(s);
		n = recv(k->fd, buf, len - 1, MSG_DONTWAIT);
		if (n < 0)
			usleep(10000);
	}
	assert_true(n > 0);
	buf[n] = '\0';
}

static struct bh_syslog *open_to(struct sink *k)
{
	char target[160];
	struct bh_syslog_opts o = { .target = target, .hostname = "node-1" };
	struct bh_syslog *s;

	snprintf(target, sizeof(target), "unix:%s", k->path);
	assert_int_equal(bh_syslog_open(&o, &s), 0);
	return s;
}

/* MSG of an RFC 5424 record without structured data: after "... - ". */
static const char *msg_of(const char *rec)
{
	int sp = 0;

	for (const char *p = rec; *p; p++)
		if (*p == ' ' && ++sp == 7)
			return p + 1;
	return NULL;
}

static void test_rfc5424_params(void **state)
{
	/* the parameters docs/syslog.md lists for flow@EID, in order */
	static const char *const names[] = {
		"workload", "namespace", "name", "labels", "node", "event", "dir", "proto", "src",
		"sport", "dst", "dport", "peer", "peer_namespace", "peer_name", "peer_labels",
		"peer_identity", "verdict", "reason", "rule", "packets", "bytes", "tcp_flags",
		"ts_ms", NULL,
	};
	struct sink k;
	struct bh_export x = { .enterprise_id = 4711, .node = "node-1", .syslog_flows = true };
	char rec[8192], *p;

	(void)state;
	make_view();
	snprintf(wl.name, sizeof(wl.name), "web");
	snprintf(view.name, sizeof(view.name), "web");
	sink_open(&k);
	x.syslog = open_to(&k);
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	assert_non_null(strstr(rec, " flow [flow@4711 workload=\"shop/web\" "));
	/* the label that tries to close the element stays a value */
	assert_non_null(strstr(rec, "labels=\"app=x\\\"\\] [forged@1 admin=\\\"yes\\\"\\] a\\\\b=c|d??,tier=front\""));
	p = strstr(rec, "[flow@4711 ");
	for (int i = 0; names[i]; i++) {
		char want[64];
		char *q;

		snprintf(want, sizeof(want), " %s=\"", names[i]);
		q = strstr(p, want);
		if (!q)
			fail_msg("parameter %s missing: %s", names[i], rec);
		p = q + 1;	/* in the documented order */
	}
	assert_int_equal(bh_export_event(&x, "shop", "web", "deviation", "warning", "odd"), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	assert_non_null(strstr(rec, " deviation [event@4711 workload=\"shop/web\" namespace=\"shop\""
				    " name=\"web\" node=\"node-1\" kind=\"deviation\""
				    " severity=\"warning\" detail=\"odd\"]"));
	bh_syslog_close(x.syslog);
	sink_close(&k);
}

static void test_cef_json_records(void **state)
{
	struct sink k;
	struct bh_export x = { .node = "node-1", .syslog_flows = true, .format = BH_EXPORT_CEF };
	char rec[8192];
	struct cef *c = calloc(1, sizeof(*c));
	json_object *o;

	(void)state;
	make_view();
	sink_open(&k);
	x.syslog = open_to(&k);
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	/* one line, header then "-" for no structured data, then CEF */
	no_raw_controls(rec);
	assert_non_null(strstr(rec, " flow - CEF:0|bulkhead|"));
	cef_parse(msg_of(rec), c);
	assert_string_equal(cef_get(c, "name"), EVIL_NAME);

	x.format = BH_EXPORT_JSON;
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	no_raw_controls(rec);
	o = json_tokener_parse(msg_of(rec));
	assert_non_null(o);
	assert_string_equal(jstr(o, "name"), EVIL_NAME);
	json_object_put(o);

	/* 64 long labels do not fit a record: it goes without them */
	wl.nr_labels = BH_MAX_LABELS;
	for (int i = 0; i < BH_MAX_LABELS; i++) {
		snprintf(wl.labels[i].key, sizeof(wl.labels[i].key),
			 "example.com/a-rather-long-label-key-number-%02d", i);
		memset(wl.labels[i].value, 'v', sizeof(wl.labels[i].value) - 1);
	}
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	o = json_tokener_parse(msg_of(rec));
	assert_non_null(o);
	assert_null(jstr(o, "labels"));
	assert_string_equal(jstr(o, "verdict"), "deny");
	json_object_put(o);
	x.format = BH_EXPORT_CEF;
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	cef_parse(msg_of(rec), c);
	assert_null(cef_get(c, "labels"));
	assert_string_equal(cef_get(c, "verdict"), "deny");
	x.format = BH_EXPORT_RFC5424;
	assert_int_equal(bh_export_flow(&x, &view), 0);
	receive(&k, x.syslog, rec, sizeof(rec));
	assert_null(strstr(rec, " labels="));
	assert_non_null(strstr(rec, " peer_labels=\"app=db\""));
	assert_non_null(strstr(rec, "verdict=\"deny\""));
	assert_int_equal(x.syslog_errors, 0);
	bh_syslog_close(x.syslog);
	sink_close(&k);
	free(c);
}

static void test_format_names(void **state)
{
	enum bh_export_format f;

	(void)state;
	assert_int_equal(bh_export_format_parse("cef", &f), 0);
	assert_int_equal(f, BH_EXPORT_CEF);
	assert_int_equal(bh_export_format_parse("JSON", &f), 0);
	assert_int_equal(f, BH_EXPORT_JSON);
	assert_int_equal(bh_export_format_parse("leef", &f), -EINVAL);
	assert_string_equal(bh_export_format_name(BH_EXPORT_RFC3164), "rfc3164");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cef_flow),
		cmocka_unit_test(test_cef_event_and_icmp),
		cmocka_unit_test(test_json_flow),
		cmocka_unit_test(test_rfc5424_params),
		cmocka_unit_test(test_cef_json_records),
		cmocka_unit_test(test_format_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
