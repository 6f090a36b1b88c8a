// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Metrics: exact text exposition rendering (escaping, grouping, values)
 * and real scrapes of the HTTP server over loopback, including clients
 * that misbehave (silent, too large, not reading, too many). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "k8s.h"
#include "metrics.h"
#include "syslog.h"

static void test_render_exact(void **state)
{
	struct bh_metrics *m;
	struct bh_metric_label l1[2] = {
		{ "workload", "ns/we\"ird\\name\nx" }, { "reason", "policy-deny" },
	};
	struct bh_metric_label l2[2] = { { "workload", "a/b" }, { "reason", "learn" } };
	char *out;
	size_t len;
	const char *want =
		"# HELP t_packets_total Packets, per \\\\ and\\nnewline \"quoted\"\n"
		"# TYPE t_packets_total counter\n"
		"t_packets_total{workload=\"ns/we\\\"ird\\\\name\\nx\",reason=\"policy-deny\"} 12\n"
		"t_packets_total{workload=\"a/b\",reason=\"learn\"} 0\n"
		"# HELP t_up Up\n"
		"# TYPE t_up gauge\n"
		"t_up 1\n"
		"t_up 0.5\n"
		"# TYPE t_nohelp untyped\n"
		"t_nohelp NaN\n"
		"t_nohelp +Inf\n"
		"t_nohelp -Inf\n"
		"t_nohelp 1e+20\n"
		"t_nohelp 9007199254740991\n"
		"t_nohelp 0.1\n";

	(void)state;
	assert_int_equal(bh_metrics_new(&m), 0);
	assert_int_equal(bh_metrics_add(m, "t_packets_total", BH_METRIC_COUNTER,
					"Packets, per \\ and\nnewline \"quoted\"", l1, 2, 12), 0);
	assert_int_equal(bh_metrics_add(m, "t_up", BH_METRIC_GAUGE, "Up", NULL, 0, 1), 0);
	/* Same family later: grouped with its first samples. */
	assert_int_equal(bh_metrics_add(m, "t_packets_total", BH_METRIC_COUNTER, NULL, l2, 2, 0),
			 0);
	assert_int_equal(bh_metrics_add(m, "t_up", BH_METRIC_GAUGE, "ignored", NULL, 0, 0.5), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0, NAN), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0,
					INFINITY), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0,
					-INFINITY), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0, 1e20), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0,
					9007199254740991.0), 0);
	assert_int_equal(bh_metrics_add(m, "t_nohelp", BH_METRIC_UNTYPED, NULL, NULL, 0, 0.1), 0);
	assert_int_equal(bh_metrics_count(m), 10);

	assert_int_equal(bh_metrics_render(m, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);

	/* begin empties the registry. */
	bh_metrics_begin(m);
	assert_int_equal(bh_metrics_count(m), 0);
	assert_int_equal(bh_metrics_render(m, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	bh_metrics_free(m);
}

static void test_invalid(void **state)
{
	struct bh_metrics *m;
	struct bh_metric_label bad_name[1] = { { "bad-name", "v" } };
	struct bh_metric_label reserved[1] = { { "__name__", "v" } };
	struct bh_metric_label digit[1] = { { "1x", "v" } };
	struct bh_metric_label null_val[1] = { { "ok", NULL } };

	(void)state;
	assert_int_equal(bh_metrics_new(&m), 0);
	assert_int_equal(bh_metrics_add(m, "", BH_METRIC_GAUGE, NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "9lives", BH_METRIC_GAUGE, NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "a b", BH_METRIC_GAUGE, NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "x{y}", BH_METRIC_GAUGE, NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "ok:colon_1", BH_METRIC_GAUGE, NULL, NULL, 0, 1), 0);
	assert_int_equal(bh_metrics_add(m, "l", BH_METRIC_GAUGE, NULL, bad_name, 1, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "l", BH_METRIC_GAUGE, NULL, reserved, 1, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "l", BH_METRIC_GAUGE, NULL, digit, 1, 1), -EINVAL);
	assert_int_equal(bh_metrics_add(m, "l", BH_METRIC_GAUGE, NULL, null_val, 1, 1), -EINVAL);
	/* A family keeps its type. */
	assert_int_equal(bh_metrics_add(m, "ok:colon_1", BH_METRIC_COUNTER, NULL, NULL, 0, 1),
			 -EINVAL);
	assert_int_equal(bh_metrics_count(m), 1);
	bh_metrics_free(m);
}

static void test_collect_agent(void **state)
{
	struct bh_syslog_stats st = { .sent = 7, .dropped = 3, .queued = 2, .reconnects = 1,
				      .connected = true, .tls_failures = 2 };
	struct bh_k8s_stats ks = { .lists = 6, .watches = 7, .events = 120, .reconciles = 9 };
	struct bh_metrics_agent a = { .version = "v1.2-3-gabc", .start_time = 1700000000.0,
				      .quarantines = 4, .flows_live = 9, .records = 11,
				      .stream_clients = 1, .stream_lost = 8, .syslog = &st };
	struct bh_metrics *m;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(bh_metrics_new(&m), 0);
	assert_int_equal(bh_metrics_collect_agent(m, &a), 0);
	assert_int_equal(bh_metrics_add_flows(m, "prod", "web", BH_DIR_EGRESS, BH_V_WOULD_DENY, 5),
			 0);
	assert_int_equal(bh_metrics_add_flows(m, "prod", "web", BH_DIR_INGRESS, BH_V_ALLOW, 6), 0);
	assert_int_equal(bh_metrics_render(m, &out, &len), 0);
	/* up is what Prometheus' own up{} says: no bulkhead_agent_up */
	assert_null(strstr(out, "bulkhead_agent_up"));
	assert_non_null(strstr(out, "# TYPE bulkhead_build_info gauge\n"
				    "bulkhead_build_info{version=\"v1.2-3-gabc\",libbpf=\""));
	assert_non_null(strstr(out, "# TYPE bulkhead_agent_start_time_seconds gauge\n"
				    "bulkhead_agent_start_time_seconds 1700000000\n"));
	assert_non_null(strstr(out, "# TYPE bulkhead_quarantines_total counter\n"
				    "bulkhead_quarantines_total 4\n"));
	assert_non_null(strstr(out, "\nbulkhead_agent_records_total 11\n"));
	assert_non_null(strstr(out, "\nbulkhead_flow_stream_clients 1\n"));
	assert_non_null(strstr(out, "\nbulkhead_flow_stream_lost_records_total 8\n"));
	assert_non_null(strstr(out, "\nbulkhead_syslog_queue_messages 2\n"));
	assert_non_null(strstr(out, "\nbulkhead_syslog_messages_sent_total 7\n"));
	assert_non_null(strstr(out, "\nbulkhead_syslog_messages_dropped_total 3\n"));
	assert_non_null(strstr(out, "\nbulkhead_syslog_connected 1\n"));
	assert_non_null(strstr(out, "\nbulkhead_syslog_tls_failures_total 2\n"));
	assert_non_null(strstr(out, "# TYPE bulkhead_flows_total counter\n"
				    "bulkhead_flows_total{namespace=\"prod\",workload=\"web\","
				    "direction=\"egress\",verdict=\"would-deny\"} 5\n"
				    "bulkhead_flows_total{namespace=\"prod\",workload=\"web\","
				    "direction=\"ingress\",verdict=\"allow\"} 6\n"));
	/* no JSON-lines file: no jsonl series; no Kubernetes watch: no k8s series */
	assert_null(strstr(out, "jsonl"));
	assert_null(strstr(out, "bulkhead_k8s_"));
	free(out);

	/* Without syslog: no syslog series at all (absent, not zero). */
	a.syslog = NULL;
	a.jsonl = true;
	a.jsonl_errors = 3;
	bh_metrics_begin(m);
	assert_int_equal(bh_metrics_collect_agent(m, &a), 0);
	assert_int_equal(bh_metrics_render(m, &out, &len), 0);
	assert_null(strstr(out, "syslog"));
	assert_non_null(strstr(out, "\nbulkhead_jsonl_write_errors_total 3\n"));
	free(out);

	/* With the Kubernetes watch: its requests and events as counters. */
	a.k8s = &ks;
	bh_metrics_begin(m);
	assert_int_equal(bh_metrics_collect_agent(m, &a), 0);
	assert_int_equal(bh_metrics_render(m, &out, &len), 0);
	assert_non_null(strstr(out, "# TYPE bulkhead_k8s_list_requests_total counter\n"
				    "bulkhead_k8s_list_requests_total 6\n"));
	assert_non_null(strstr(out, "\nbulkhead_k8s_watch_requests_total 7\n"));
	assert_non_null(strstr(out, "\nbulkhead_k8s_watch_events_total 120\n"));
	assert_non_null(strstr(out, "\nbulkhead_k8s_reconciles_total 9\n"));
	free(out);
	bh_metrics_free(m);
}

/* ------------------------------------------------------------ server */
struct scrape_arg {
	int calls;
	int fail;
	int big;	/* samples to add: a response larger than socket buffers */
};

static int collect(struct bh_metrics *m, void *arg)
{
	struct scrape_arg *s = arg;
	struct bh_metric_label l[1] = { { "workload", "ns/\"x\"" } };
	char v[64];
	int i, err;

	s->calls++;
	if (s->fail)
		return -EIO;
	err = bh_metrics_add(m, "bulkhead_agent_up", BH_METRIC_GAUGE, "up", NULL, 0, 1);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_quarantined", BH_METRIC_GAUGE, "q", l, 1, 1);
	for (i = 0; !err && i < s->big; i++) {
		struct bh_metric_label bl[1] = { { "n", v } };

		snprintf(v, sizeof(v), "sample-%08d-padding-padding-padding", i);
		err = bh_metrics_add(m, "t_big", BH_METRIC_GAUGE, NULL, bl, 1, i);
	}
	return err;
}

static int connect_rcvbuf(int port, int rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	/* Before connect, so the window it announces stays small. */
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Loopback connect of a non-blocking socket completes or is in
	 * progress; the listen backlog takes it either way. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

static int connect_to(int port)
{
	return connect_rcvbuf(port, 0);
}

static void send_all(int fd, const char *s, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0;
	int tries;

	for (tries = 0; off < n && tries < 1000; tries++) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		if (w > 0)
			off += w;
		else
			poll(&p, 1, 10);
	}
	assert_int_equal(off, n);
}

/* Drive the server and read the client's response until the server
 * closes it. Bounded: at most `rounds` waits of 20 ms. */
static char *pump_response(struct bh_metrics_server *srv, int fd, size_t *len, int rounds)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int i;

	assert_non_null(buf);
	for (i = 0; i < rounds; i++) {
		struct pollfd p[2] = {
			{ .fd = bh_metrics_server_fd(srv), .events = POLLIN },
			{ .fd = fd, .events = POLLIN },
		};
		ssize_t r;

		poll(p, 2, 20);
		assert_true(bh_metrics_handle(srv) >= 0);
		for (;;) {
			if (cap - n < 4096) {
				cap *= 2;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
			r = recv(fd, buf + n, cap - n - 1, 0);
			if (r <= 0)
				break;
			n += r;
		}
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
	}
	fail_msg("no complete response after %d rounds (%zu bytes)", rounds, n);
	return NULL;
}

struct http_resp {
	int status;
	char ctype[128];
	long clen;
	const char *body;
};

static void parse_http(char *raw, struct http_resp *r)
{
	char *hend = strstr(raw, "\r\n\r\n"), *line, *save;

	assert_non_null(hend);
	*hend = '\0';
	r->body = hend + 4;
	r->clen = -1;
	line = strtok_r(raw, "\r\n", &save);
	assert_non_null(line);
	assert_int_equal(sscanf(line, "HTTP/1.1 %d", &r->status), 1);
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		if (!strncasecmp(line, "Content-Type: ", 14))
			snprintf(r->ctype, sizeof(r->ctype), "%s", line + 14);
		else if (!strncasecmp(line, "Content-Length: ", 16))
			r->clen = atol(line + 16);
	}
}

static struct bh_metrics_server *start(struct scrape_arg *a, int timeout_ms, int max_conns)
{
	struct bh_metrics_server_opts o = { .listen = "127.0.0.1:0", .collect = collect,
					    .arg = a, .timeout_ms = timeout_ms,
					    .max_conns = max_conns };
	struct bh_metrics_server *srv;

	assert_int_equal(bh_metrics_server_open(&o, &srv), 0);
	assert_true(bh_metrics_server_port(srv) > 0);
	return srv;
}

static void scrape(struct bh_metrics_server *srv, const char *req, struct http_resp *r,
		   char **raw)
{
	size_t len;
	int fd = connect_to(bh_metrics_server_port(srv));

	send_all(fd, req, strlen(req));
	*raw = pump_response(srv, fd, &len, 500);
	close(fd);
	parse_http(*raw, r);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_scrape(void **state)
{
	int fds_before = count_fds();
	struct scrape_arg a = { 0 };
	struct bh_metrics_server *srv = start(&a, 0, 0);
	struct http_resp r;
	char *raw;

	(void)state;
	scrape(srv, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(r.clen, strlen(r.body));
	assert_string_equal(r.body,
			    "# HELP bulkhead_agent_up up\n"
			    "# TYPE bulkhead_agent_up gauge\n"
			    "bulkhead_agent_up 1\n"
			    "# HELP bulkhead_quarantined q\n"
			    "# TYPE bulkhead_quarantined gauge\n"
			    "bulkhead_quarantined{workload=\"ns/\\\"x\\\"\"} 1\n");
	assert_int_equal(a.calls, 1);
	free(raw);

	/* HTTP/1.0, a query string, bare newlines: still a scrape. */
	scrape(srv, "GET /metrics?x=1 HTTP/1.0\n\n", &r, &raw);
	assert_int_equal(r.status, 200);
	assert_int_equal(a.calls, 2);
	free(raw);

	scrape(srv, "HEAD /metrics HTTP/1.1\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 200);
	assert_true(r.clen > 0);
	assert_string_equal(r.body, "");
	free(raw);

	scrape(srv, "GET / HTTP/1.1\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 404);
	free(raw);
	scrape(srv, "POST /metrics HTTP/1.1\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 405);
	free(raw);
	scrape(srv, "garbage\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 400);
	free(raw);

	a.fail = 1;
	scrape(srv, "GET /metrics HTTP/1.1\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 500);
	free(raw);
	assert_int_equal(bh_metrics_server_conns(srv), 0);
	bh_metrics_server_close(srv);
	/* Every socket, the epoll fd and the timerfd are closed. */
	assert_int_equal(count_fds(), fds_before);
}

static void test_oversized_request(void **state)
{
	struct scrape_arg a = { 0 };
	struct bh_metrics_server *srv = start(&a, 0, 0);
	char big[BH_METRICS_REQ_MAX + 100];
	struct http_resp r;
	size_t len;
	char *raw;
	int fd;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	fd = connect_to(bh_metrics_server_port(srv));
	send_all(fd, big, sizeof(big));
	raw = pump_response(srv, fd, &len, 500);
	close(fd);
	/* The server may reset the connection after its answer, as it does
	 * not read the rest; when the answer arrived, it is 431. */
	if (len) {
		parse_http(raw, &r);
		assert_int_equal(r.status, 431);
	}
	assert_int_equal(a.calls, 0);
	free(raw);
	assert_int_equal(bh_metrics_server_conns(srv), 0);
	bh_metrics_server_close(srv);
}

/* A client that connects and says nothing holds one slot until its
 * deadline; meanwhile other scrapes are served. */
static void test_silent_client(void **state)
{
	struct scrape_arg a = { 0 };
	struct bh_metrics_server *srv = start(&a, 300, 0);
	struct http_resp r;
	size_t len;
	char *raw;
	int idle, i;

	(void)state;
	idle = connect_to(bh_metrics_server_port(srv));
	send_all(idle, "GET /met", 8);
	for (i = 0; i < 50 && bh_metrics_server_conns(srv) < 1; i++) {
		struct pollfd p = { .fd = bh_metrics_server_fd(srv), .events = POLLIN };

		poll(&p, 1, 20);
		bh_metrics_handle(srv);
	}
	assert_int_equal(bh_metrics_server_conns(srv), 1);

	scrape(srv, "GET /metrics HTTP/1.1\r\n\r\n", &r, &raw);
	assert_int_equal(r.status, 200);
	free(raw);

	/* The idle one is closed at its deadline (the timerfd wakes us). */
	raw = pump_response(srv, idle, &len, 500);
	assert_int_equal(len, 0);
	free(raw);
	close(idle);
	assert_int_equal(bh_metrics_server_conns(srv), 0);
	bh_metrics_server_close(srv);
}

/* Beyond max_conns a connection is closed at once, unanswered. */
static void test_max_conns(void **state)
{
	struct scrape_arg a = { 0 };
	struct bh_metrics_server *srv = start(&a, 0, 2);
	int fds[3], i;
	size_t len;
	char *raw;

	(void)state;
	for (i = 0; i < 3; i++) {
		fds[i] = connect_to(bh_metrics_server_port(srv));
		for (int j = 0; j < 50 && bh_metrics_server_conns(srv) < (i < 2 ? i + 1 : 2); j++) {
			struct pollfd p = { .fd = bh_metrics_server_fd(srv), .events = POLLIN };

			poll(&p, 1, 20);
			bh_metrics_handle(srv);
		}
	}
	assert_int_equal(bh_metrics_server_conns(srv), 2);
	raw = pump_response(srv, fds[2], &len, 100);
	assert_int_equal(len, 0);
	free(raw);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	bh_metrics_server_close(srv);
}

/* A client that asks for a large answer and reads nothing for a while:
 * bh_metrics_handle returns at once each time (it never waits for the
 * socket), and the full answer arrives once the client reads. */
static void test_slow_reader(void **state)
{
	struct scrape_arg a = { .big = 100000 };
	struct bh_metrics_server *srv = start(&a, 10000, 0);
	struct http_resp r;
	int fd, i, rcv = 4096;
	size_t len;
	char *raw;

	(void)state;
	fd = connect_rcvbuf(bh_metrics_server_port(srv), rcv);
	send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	for (i = 0; i < 20; i++) {
		struct pollfd p = { .fd = bh_metrics_server_fd(srv), .events = POLLIN };

		poll(&p, 1, 10);
		assert_true(bh_metrics_handle(srv) >= 0);
	}
	/* Still open: the answer (> 5 MB) cannot fit in the socket buffers. */
	assert_int_equal(bh_metrics_server_conns(srv), 1);
	assert_int_equal(a.calls, 1);

	raw = pump_response(srv, fd, &len, 3000);
	close(fd);
	assert_true(len > 5000000);
	parse_http(raw, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.clen, strlen(r.body));
	assert_non_null(strstr(r.body, "t_big{n=\"sample-00099999-padding-padding-padding\"} 99999\n"));
	free(raw);
	assert_int_equal(bh_metrics_server_conns(srv), 0);
	bh_metrics_server_close(srv);
}

static void test_listen_parse(void **state)
{
	struct scrape_arg a = { 0 };
	struct bh_metrics_server_opts o = { .collect = collect, .arg = &a };
	struct bh_metrics_server *srv;
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "example.invalid:9109", "::1:9109", "[::1]9109", "[nope]:1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.listen = bad[i];
		assert_int_equal(bh_metrics_server_open(&o, &srv), -EINVAL);
	}
	o.listen = "localhost:0";
	assert_int_equal(bh_metrics_server_open(&o, &srv), 0);
	bh_metrics_server_close(srv);
	o.listen = "[::1]:0";
	if (bh_metrics_server_open(&o, &srv) == 0)	/* IPv6 may be disabled */
		bh_metrics_server_close(srv);
	o.listen = "127.0.0.1:0";
	o.collect = NULL;
	assert_int_equal(bh_metrics_server_open(&o, &srv), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_collect_agent),
		cmocka_unit_test(test_scrape),
		cmocka_unit_test(test_oversized_request),
		cmocka_unit_test(test_silent_client),
		cmocka_unit_test(test_max_conns),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
