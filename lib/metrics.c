// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Prometheus metrics: registry and text rendering (exposition format
 * 0.0.4), the collectors for kernel and agent figures, and a non-blocking
 * HTTP server for GET /metrics. See metrics.h for the contract. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead.h"
#include "metrics.h"
#include "syslog.h"

/* ------------------------------------------------------------- buffer */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_reserve(struct sbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->err || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* Label values escape \, " and newline; help text escapes \ and newline
 * (format 0.0.4). Any other byte goes through as is: the format is UTF-8
 * and a stray byte cannot end a line or a value. */
static void sb_escape(struct sbuf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(b, "\\\\");
		else if (*s == '\n')
			sb_puts(b, "\\n");
		else if (*s == '"' && quote)
			sb_puts(b, "\\\"");
		else
			sb_putc(b, *s);
	}
}

/* Shortest text that reads back as the same double; integers without an
 * exponent up to 2^53, the special values as Prometheus spells them. */
static void sb_value(struct sbuf *b, double v)
{
	char tmp[40];

	if (isnan(v)) {
		sb_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(tmp, sizeof(tmp), "%.0f", v);
	} else {
		snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof(tmp), "%.17g", v);
	}
	sb_puts(b, tmp);
}

/* ----------------------------------------------------------- registry */
struct sample {
	char *labels;		/* rendered "{a=\"b\"}" or "" */
	double value;
};

struct family {
	char *name;
	char *help;
	enum bh_metric_type type;
	struct sample *samples;
	size_t nr, cap;
};

struct bh_metrics {
	struct family *fams;
	size_t nr, cap;
	size_t samples;
};

int bh_metrics_new(struct bh_metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void bh_metrics_begin(struct bh_metrics *m)
{
	size_t i, j;

	for (i = 0; i < m->nr; i++) {
		for (j = 0; j < m->fams[i].nr; j++)
			free(m->fams[i].samples[j].labels);
		free(m->fams[i].samples);
		free(m->fams[i].name);
		free(m->fams[i].help);
	}
	m->nr = 0;
	m->samples = 0;
}

void bh_metrics_free(struct bh_metrics *m)
{
	if (!m)
		return;
	bh_metrics_begin(m);
	free(m->fams);
	free(m);
}

size_t bh_metrics_count(const struct bh_metrics *m)
{
	return m->samples;
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     *p == '_' || (colon && *p == ':');
		bool digit = *p >= '0' && *p <= '9';

		if (!alpha && !(digit && p != s))
			return false;
	}
	return true;
}

static const char *type_name(enum bh_metric_type t)
{
	switch (t) {
	case BH_METRIC_COUNTER: return "counter";
	case BH_METRIC_GAUGE: return "gauge";
	default: return "untyped";
	}
}

static struct family *family_get(struct bh_metrics *m, const char *name,
				 enum bh_metric_type type, const char *help, int *err)
{
	struct family *f;
	size_t i;

	/* Linear from the end: collectors add one family's samples in a row. */
	for (i = m->nr; i-- > 0;) {
		f = &m->fams[i];
		if (strcmp(f->name, name))
			continue;
		if (f->type != type) {
			*err = -EINVAL;
			return NULL;
		}
		if (!f->help && help && !(f->help = strdup(help))) {
			*err = -ENOMEM;
			return NULL;
		}
		return f;
	}
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct family *n = realloc(m->fams, cap * sizeof(*n));

		if (!n)
			goto nomem;
		m->fams = n;
		m->cap = cap;
	}
	f = &m->fams[m->nr];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->name = strdup(name);
	f->help = help ? strdup(help) : NULL;
	if (!f->name || (help && !f->help)) {
		free(f->name);
		free(f->help);
		goto nomem;
	}
	m->nr++;
	return f;
nomem:
	*err = -ENOMEM;
	return NULL;
}

int bh_metrics_add(struct bh_metrics *m, const char *name, enum bh_metric_type type,
		   const char *help, const struct bh_metric_label *labels, int nr_labels,
		   double value)
{
	struct sbuf lb = { 0 };
	struct family *f;
	int i, err = 0;

	if (!name_ok(name, true) || nr_labels < 0 || (nr_labels && !labels) ||
	    (unsigned)type > BH_METRIC_UNTYPED)
		return -EINVAL;
	for (i = 0; i < nr_labels; i++) {
		if (!name_ok(labels[i].name, false) || !strncmp(labels[i].name, "__", 2) ||
		    !labels[i].value)
			return -EINVAL;
		sb_putc(&lb, i ? ',' : '{');
		sb_puts(&lb, labels[i].name);
		sb_puts(&lb, "=\"");
		sb_escape(&lb, labels[i].value, true);
		sb_putc(&lb, '"');
	}
	if (nr_labels)
		sb_putc(&lb, '}');
	else
		sb_puts(&lb, "");
	if (lb.err)
		goto out;

	f = family_get(m, name, type, help, &err);
	if (!f)
		goto out;
	if (f->nr == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct sample *n = realloc(f->samples, cap * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		f->samples = n;
		f->cap = cap;
	}
	f->samples[f->nr].labels = lb.p;
	f->samples[f->nr].value = value;
	f->nr++;
	m->samples++;
	return 0;
out:
	free(lb.p);
	return err ? err : lb.err;
}

int bh_metrics_render(const struct bh_metrics *m, char **buf, size_t *len)
{
	struct sbuf b = { 0 };
	size_t i, j;

	sb_reserve(&b, 4096);
	sb_puts(&b, "");
	for (i = 0; i < m->nr; i++) {
		const struct family *f = &m->fams[i];

		if (f->help) {
			sb_puts(&b, "# HELP ");
			sb_puts(&b, f->name);
			sb_putc(&b, ' ');
			sb_escape(&b, f->help, false);
			sb_putc(&b, '\n');
		}
		sb_puts(&b, "# TYPE ");
		sb_puts(&b, f->name);
		sb_putc(&b, ' ');
		sb_puts(&b, type_name(f->type));
		sb_putc(&b, '\n');
		for (j = 0; j < f->nr; j++) {
			sb_puts(&b, f->name);
			sb_puts(&b, f->samples[j].labels);
			sb_putc(&b, ' ');
			sb_value(&b, f->samples[j].value);
			sb_putc(&b, '\n');
		}
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

/* --------------------------------------------------------- collectors */
struct kernel_walk {
	struct bh_ctx *ctx;
	struct bh_metrics *m;
	int nr;
	int err;
};

static int kernel_workload(const struct bh_workload_info *w, void *arg)
{
	struct kernel_walk *k = arg;
	struct bh_workload_stats st;
	char wl[2 * BH_NAME_MAX + 2];
	struct bh_metric_label lab[2] = { { "workload", wl }, { "reason", NULL } };
	int r, err;

	snprintf(wl, sizeof(wl), "%s/%s", w->ns, w->name);
	k->nr++;
	err = bh_metrics_add(k->m, "bulkhead_quarantined", BH_METRIC_GAUGE,
			     "1 if the workload is quarantined", lab, 1, w->quarantined);
	if (err)
		goto fail;
	/* No stats map (nothing loaded yet, read-only context): no verdicts
	 * to report, which is not an error for a scrape. */
	if (bh_stats_workload(k->ctx, w->slot, &st))
		return 0;
	for (r = 0; r < BH_R_MAX; r++) {
		if (!st.reason[r].packets && !st.reason[r].bytes)
			continue;
		lab[1].value = bh_reason_name(r);
		err = bh_metrics_add(k->m, "bulkhead_verdict_packets_total", BH_METRIC_COUNTER,
				     "Packets judged by the data path, per workload and reason",
				     lab, 2, (double)st.reason[r].packets);
		if (!err)
			err = bh_metrics_add(k->m, "bulkhead_verdict_bytes_total",
					     BH_METRIC_COUNTER,
					     "Bytes judged by the data path, per workload and reason",
					     lab, 2, (double)st.reason[r].bytes);
		if (err)
			goto fail;
	}
	return 0;
fail:
	k->err = err;
	return 1;
}

int bh_metrics_collect_kernel(struct bh_ctx *ctx, struct bh_metrics *m)
{
	struct kernel_walk k = { .ctx = ctx, .m = m };
	__u64 c[BH_C_MAX];
	int err;

	err = bh_workload_foreach(ctx, kernel_workload, &k);
	if (k.err)
		return k.err;
	if (err < 0)
		return err;
	err = bh_metrics_add(m, "bulkhead_workloads", BH_METRIC_GAUGE,
			     "Workloads registered in this instance", NULL, 0, k.nr);
	if (err)
		return err;
	if (bh_stats_counters(ctx, c))
		return 0;	/* maps not loaded: nothing counted yet */
	err = bh_metrics_add(m, "bulkhead_records_total", BH_METRIC_COUNTER,
			     "Flow records written to the ring buffer", NULL, 0,
			     (double)c[BH_C_RECORDS]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_records_lost_total", BH_METRIC_COUNTER,
				     "Flow records lost because the ring buffer was full",
				     NULL, 0, (double)c[BH_C_RECORDS_LOST]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_conntrack_full_total", BH_METRIC_COUNTER,
				     "Conntrack inserts that failed", NULL, 0,
				     (double)c[BH_C_CT_FULL]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_no_workload_packets_total",
				     BH_METRIC_COUNTER,
				     "Packets on an interface with no registered workload",
				     NULL, 0, (double)c[BH_C_NO_WORKLOAD]);
	return err;
}

int bh_metrics_collect_agent(struct bh_metrics *m, const struct bh_metrics_agent *a)
{
	const struct bh_syslog_stats *s = a->syslog;
	int err;

	err = bh_metrics_add(m, "bulkhead_agent_up", BH_METRIC_GAUGE,
			     "1 while the agent is running", NULL, 0, 1);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_start_time_seconds", BH_METRIC_GAUGE,
				     "Start time of the agent, seconds since the epoch",
				     NULL, 0, a->start_time);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_quarantines_total", BH_METRIC_COUNTER,
				     "Quarantines decided by this agent", NULL, 0,
				     (double)a->quarantines);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_flows_live", BH_METRIC_GAUGE,
				     "Flows aggregated in the agent's memory", NULL, 0,
				     (double)a->flows_live);
	if (err || !s)
		return err;
	err = bh_metrics_add(m, "bulkhead_syslog_queue", BH_METRIC_GAUGE,
			     "Syslog records waiting to be sent", NULL, 0, (double)s->queued);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_sent_total", BH_METRIC_COUNTER,
				     "Syslog records sent", NULL, 0, (double)s->sent);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_dropped_total", BH_METRIC_COUNTER,
				     "Syslog records dropped (queue full or collector gone)",
				     NULL, 0, (double)s->dropped);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_reconnects_total", BH_METRIC_COUNTER,
				     "Reconnections to the syslog collector", NULL, 0,
				     (double)s->reconnects);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_connected", BH_METRIC_GAUGE,
				     "1 while connected to the syslog collector", NULL, 0,
				     s->connected);
	return err;
}

int bh_metrics_add_flows(struct bh_metrics *m, const char *ns, const char *name,
			 enum bh_verdict verdict, uint64_t count)
{
	char wl[2 * BH_NAME_MAX + 2];
	struct bh_metric_label lab[2] = {
		{ "workload", wl }, { "verdict", bh_verdict_name(verdict) },
	};

	snprintf(wl, sizeof(wl), "%s/%s", ns, name);
	return bh_metrics_add(m, "bulkhead_flows_total", BH_METRIC_COUNTER,
			      "Flows seen starting, per workload and verdict", lab, 2,
			      (double)count);
}

/* ------------------------------------------------------------- server */
enum conn_state { C_READ, C_WRITE };

struct conn {
	int fd;
	enum conn_state state;
	struct timespec deadline;
	char req[BH_METRICS_REQ_MAX];
	size_t req_len;
	char *out;		/* response: headers + body */
	size_t out_len, out_off;
	struct conn *next;
};

struct bh_metrics_server {
	int epfd;
	int lfd;
	int tfd;		/* timerfd: earliest connection deadline */
	int port;
	int timeout_ms;
	int max_conns;
	int nr_conns;
	bh_metrics_collect_fn collect;
	void *arg;
	struct bh_metrics *reg;
	struct conn *conns;
};

/* epoll data tags: the listening socket and the timer are told apart
 * from connections, whose data.ptr is the struct conn. */
static char tag_listen, tag_timer;

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *colon, *hs = s;
	size_t hl;
	char *end;
	long port;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = rb - hs;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		hl = colon - s;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535)
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (hl == 0 || !strcmp(host, "0.0.0.0") || !strcmp(host, "*")) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		*sl = sizeof(*in);
	} else if (*s != '[' && inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*sl = sizeof(*in);
	} else if (*s == '[' && inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*sl = sizeof(*in6);
	} else if (!strcmp(host, "localhost")) {
		/* No resolver in the agent's loop: localhost is the only name. */
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sl = sizeof(*in);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int ep_add(int epfd, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int bh_metrics_server_open(const struct bh_metrics_server_opts *opts,
			   struct bh_metrics_server **out)
{
	struct sockaddr_storage ss;
	struct bh_metrics_server *srv;
	socklen_t sl;
	int one = 1, err;

	if (!opts->collect)
		return -EINVAL;
	err = parse_listen(opts->listen ? opts->listen : BH_METRICS_DEFAULT_LISTEN, &ss, &sl);
	if (err)
		return err;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->epfd = srv->lfd = srv->tfd = -1;
	srv->collect = opts->collect;
	srv->arg = opts->arg;
	srv->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : BH_METRICS_DEFAULT_TIMEOUT_MS;
	srv->max_conns = opts->max_conns > 0 ? opts->max_conns : BH_METRICS_DEFAULT_MAX_CONNS;
	err = bh_metrics_new(&srv->reg);
	if (err)
		goto fail;

	srv->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0)
		goto fail_errno;
	/* A restarted agent must rebind while old connections sit in TIME_WAIT. */
	setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv->lfd, (struct sockaddr *)&ss, sl) || listen(srv->lfd, 64))
		goto fail_errno;
	if (getsockname(srv->lfd, (struct sockaddr *)&ss, &sl))
		goto fail_errno;
	srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->epfd < 0 || srv->tfd < 0)
		goto fail_errno;
	err = ep_add(srv->epfd, srv->lfd, EPOLLIN, &tag_listen);
	if (!err)
		err = ep_add(srv->epfd, srv->tfd, EPOLLIN, &tag_timer);
	if (err)
		goto fail;
	*out = srv;
	return 0;
fail_errno:
	err = -errno;
fail:
	bh_metrics_server_close(srv);
	return err;
}

static void conn_close(struct bh_metrics_server *srv, struct conn *c)
{
	struct conn **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	/* close() removes the fd from the epoll set. */
	close(c->fd);
	free(c->out);
	free(c);
	srv->nr_conns--;
}

void bh_metrics_server_close(struct bh_metrics_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_close(srv, srv->conns);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->tfd >= 0)
		close(srv->tfd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	bh_metrics_free(srv->reg);
	free(srv);
}

int bh_metrics_server_fd(const struct bh_metrics_server *srv)
{
	return srv->epfd;
}

int bh_metrics_server_port(const struct bh_metrics_server *srv)
{
	return srv->port;
}

int bh_metrics_server_conns(const struct bh_metrics_server *srv)
{
	return srv->nr_conns;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* Arm the timer for the earliest deadline (or disarm). */
static void timer_rearm(struct bh_metrics_server *srv)
{
	struct itimerspec its = { 0 };
	struct conn *c;
	uint64_t junk;

	/* Consume an expiry that fired, or the fd stays readable. */
	if (read(srv->tfd, &junk, sizeof(junk)) < 0) {
		/* EAGAIN: nothing expired */
	}
	for (c = srv->conns; c; c = c->next)
		if (!its.it_value.tv_sec || ts_cmp(&c->deadline, &its.it_value) < 0)
			its.it_value = c->deadline;
	timerfd_settime(srv->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void conn_accept(struct bh_metrics_server *srv)
{
	int i;

	/* Bounded: a flood of connects is handled a batch per call. */
	for (i = 0; i < 64; i++) {
		struct conn *c;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;	/* EAGAIN, or a per-connection error: try next time */
		if (srv->nr_conns >= srv->max_conns || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READ;
		clock_gettime(CLOCK_MONOTONIC, &c->deadline);
		c->deadline.tv_sec += srv->timeout_ms / 1000;
		c->deadline.tv_nsec += (long)(srv->timeout_ms % 1000) * 1000000L;
		if (c->deadline.tv_nsec >= 1000000000L) {
			c->deadline.tv_sec++;
			c->deadline.tv_nsec -= 1000000000L;
		}
		if (ep_add(srv->epfd, fd, EPOLLIN | EPOLLRDHUP, c)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		srv->conns = c;
		srv->nr_conns++;
	}
}

static int respond(struct conn *c, const char *status, const char *ctype,
		   const char *body, size_t blen, bool head)
{
	struct sbuf b = { 0 };
	char hdr[256];

	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", status, ctype, blen);
	sb_reserve(&b, strlen(hdr) + blen);
	sb_puts(&b, hdr);
	if (!head)
		sb_putn(&b, body, blen);
	if (b.err)
		return b.err;
	c->out = b.p;
	c->out_len = b.len;
	c->out_off = 0;
	c->state = C_WRITE;
	return 0;
}

static int respond_text(struct conn *c, const char *status, const char *msg, bool head)
{
	return respond(c, status, "text/plain; charset=utf-8", msg, strlen(msg), head);
}

/* The request is complete in c->req (NUL-terminated): build the answer. */
static int conn_answer(struct bh_metrics_server *srv, struct conn *c)
{
	char method[16], target[1024], version[16];
	bool head;
	char *body = NULL, *q;
	size_t blen;
	int err;

	if (sscanf(c->req, "%15s %1023s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7))
		return respond_text(c, "400 Bad Request", "bad request\n", false);
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head)
		return respond_text(c, "405 Method Not Allowed", "only GET\n", false);
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (strcmp(target, "/metrics"))
		return respond_text(c, "404 Not Found", "try /metrics\n", head);

	bh_metrics_begin(srv->reg);
	if (srv->collect(srv->reg, srv->arg))
		return respond_text(c, "500 Internal Server Error", "collect failed\n", head);
	err = bh_metrics_render(srv->reg, &body, &blen);
	bh_metrics_begin(srv->reg);	/* free the samples until the next scrape */
	if (err)
		return respond_text(c, "500 Internal Server Error", "render failed\n", head);
	err = respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen, head);
	free(body);
	return err;
}

/* Returns 1 when the connection is finished (close it), 0 to keep it. */
static int conn_read(struct bh_metrics_server *srv, struct conn *c)
{
	ssize_t n;

	for (;;) {
		size_t room = sizeof(c->req) - 1 - c->req_len;

		if (!room) {
			/* Too big: answer and close; the rest is never read. */
			if (respond_text(c, "431 Request Header Fields Too Large", "too large\n",
					 false))
				return 1;
			return 0;
		}
		n = recv(c->fd, c->req + c->req_len, room, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		if (n == 0)
			return 1;	/* closed before a full request */
		c->req_len += n;
		c->req[c->req_len] = '\0';
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
			return conn_answer(srv, c) ? 1 : 0;
	}
}

/* Returns 1 when done (or broken), 0 when the socket is full. */
static int conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		c->out_off += n;
	}
	shutdown(c->fd, SHUT_WR);
	return 1;
}

static int conn_event(struct bh_metrics_server *srv, struct conn *c, uint32_t events,
		      int *served)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int done;

	if (c->state == C_READ) {
		if (events & (EPOLLERR | EPOLLHUP))
			return 1;
		done = conn_read(srv, c);
		if (done || c->state == C_READ)
			return done;
		/* Answer ready: stop reading, write when the socket takes it. */
		if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev))
			return 1;
	}
	done = conn_write(c);
	if (done && c->out_off == c->out_len)
		(*served)++;
	return done;
}

int bh_metrics_handle(struct bh_metrics_server *srv)
{
	struct epoll_event evs[32];
	struct timespec now;
	struct conn *c, *next;
	int n, i, served = 0;

	n = epoll_wait(srv->epfd, evs, 32, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == &tag_listen)
			conn_accept(srv);
		else if (p != &tag_timer && conn_event(srv, p, evs[i].events, &served))
			conn_close(srv, p);
	}
	/* Deadlines: whatever state, a connection past it is closed. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (ts_cmp(&c->deadline, &now) <= 0)
			conn_close(srv, c);
	}
	timer_rearm(srv);
	return served;
}
