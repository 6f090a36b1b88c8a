// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Agent ingest rate: synthetic flow records through the agent's path --
 * decode (cached workload/rule resolver), aggregation, the SQLite flow
 * store (batches of the agent's store.flush_records default, one
 * transaction each) and syslog (RFC 5424 to a
 * local UDP sink drained by a child process) -- on one core. Prints
 * records/s, the syslog records sent and dropped (every loss counted), and
 * the RSS with 100k live flows.
 *
 *   bench_ingest [RECORDS] [LIVE_FLOWS] [udp|unix] [QLEN]
 *                                    defaults 1000000 100000 unix 512
 *
 * A unix datagram socket queues at most net.unix.max_dgram_qlen datagrams
 * (default 10): with the default, how often the sink gets the other core
 * decides the drops, not the agent's path. As root the bench runs in a
 * private network namespace with the limit set to QLEN (as one sets it on
 * a collector host; 0 keeps the system's), so the figure measures the
 * sending side. Drops and queue are printed either way.
 *
 * Syslog is pumped every 256 records, as the agent pumps once per batch
 * of records taken from the ring buffer.
 *
 * Two rates are printed: records per wall-clock second, and records per
 * CPU second of the ingesting process (CLOCK_PROCESS_CPUTIME_ID, kernel
 * time of its send calls included). Other processes share the machine, so
 * the CPU-time rate is the steadier "one core" figure. The last line is a
 * JSON object for bench/run.sh.
 *
 * Detection off and on: the RECORDS are ingested in 8 chunks, alternately
 * without and with the agent's detection step (A B B A A B B A, so drift
 * of the machine cancels out): for every new egress flow (and one that
 * became denied) the baseline lookup (bh_baseline_covers_peer over a
 * 32-entry baseline, the matching entries last) and bh_detect_flow with
 * the rules of docs/agent.md's example (denied_flows 20/10s, scan
 * 20/20/10s with action quarantine, four deny_cidrs, an exempt pattern);
 * each decision is explained (bh_detect_explain) and the slot forgotten, as
 * a release would, so the rules keep counting for the whole run. Only the
 * store and kernel work of an actual quarantine are left out (measured by
 * bench_detect.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_config.h"
#include "baseline.h"
#include "detect.h"
#include "export.h"
#include "flowagg.h"
#include "flowrec.h"
#include "flowstore.h"

#define NR_WORKLOADS 64
#define SINK_BATCH 64

static int fake_workload(void *arg, __u32 slot, struct bh_workload_info *out)
{
	(void)arg;
	if (slot >= NR_WORKLOADS)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->ns, sizeof(out->ns), "bench");
	snprintf(out->name, sizeof(out->name), "w%u", slot);
	out->slot = slot;
	out->identity = BH_ID_WORKLOAD_BASE + slot;
	out->nr_labels = 1;
	snprintf(out->labels[0].key, sizeof(out->labels[0].key), "app");
	snprintf(out->labels[0].value, sizeof(out->labels[0].value), "w%u", slot);
	return 0;
}

static int fake_rule(void *arg, __u32 id, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "bench/p ingress[%u]", id);
	return 0;
}

/* Private netns with its own unix datagram queue limit; -1 if not root. */
static int set_qlen(long qlen)
{
	FILE *f;

	if (qlen <= 0 || unshare(CLONE_NEWNET))
		return -1;
	f = fopen("/proc/sys/net/unix/max_dgram_qlen", "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", qlen);
	return fclose(f) ? -1 : 0;
}

static long get_qlen(void)
{
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static double clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Give the sink what is still queued: wait for the socket to take more
 * (bounded: 5 s), so the counts below add up without a race. */
static void drain(struct bh_syslog *s)
{
	double end = now_s() + 5.0;

	while (bh_syslog_want_write(s) && now_s() < end) {
		struct pollfd p = { .fd = bh_syslog_fd(s), .events = POLLOUT };

		if (p.fd >= 0)
			poll(&p, 1, 100);
		bh_syslog_pump(s);
	}
}

/* VmRSS (now) or VmHWM (peak) of this process, KiB. */
static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && sscanf(line + n, ": %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long rss_kib(void)
{
	return status_kib("VmRSS");
}

/* Flow i of the synthetic traffic: workload i % 64, a /16 of peers. */
static void make_record(struct bh_flow_record *r, uint64_t i, uint64_t flow, __u8 event)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1000000000ULL + i * 1000;
	r->slot = (__u32)(flow % NR_WORKLOADS);
	r->family = 4;
	r->proto = 6;
	r->dir = flow & 1 ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	r->event = event;
	r->verdict = event == BH_E_DENY ? BH_V_DENY : BH_V_ALLOW;
	r->reason = event == BH_E_DENY ? BH_R_DEFAULT_DENY : BH_R_POLICY_ALLOW;
	r->rule_id = event == BH_E_DENY ? 0 : (__u32)(flow % 50) + 1;
	r->packets = event == BH_E_END ? 10 : 1;
	r->bytes = r->packets * 120;
	r->tcp_flags = event == BH_E_END ? 0x1b : 0x02;
	r->peer_identity = BH_ID_WORLD;
	r->mode = BH_MODE_ENFORCE;
	r->saddr[10] = r->saddr[11] = 0xff;
	r->saddr[12] = 10;
	r->saddr[13] = (__u8)(flow % NR_WORKLOADS);
	r->saddr[15] = 2;
	r->daddr[10] = r->daddr[11] = 0xff;
	r->daddr[12] = 172;
	r->daddr[13] = 16;
	r->daddr[14] = (__u8)(flow >> 8);
	r->daddr[15] = (__u8)flow;
	r->sport = (__u16)(32768 + (flow >> 16) % 20000);
	r->dport = (__u16)(flow % 7 == 0 ? 443 : 80);
}

struct pipe {
	struct bh_flowagg *agg;
	struct bh_flowrec *fr;
	struct bh_flowstore *fs;
	struct bh_export x;
	uint64_t flushes, store_errors, written;
	unsigned since_pump;
	uint32_t batch;		/* the agent's store.flush_records default */
	/* detection (NULL: off) */
	struct bh_detect *det;
	struct bh_baseline bl;
	uint64_t decisions;
};

static int flush_one(struct bh_flow *f, void *arg)
{
	struct pipe *p = arg;
	struct bh_flow_view v;
	int err;

	bh_flowrec_decode_flow(p->fr, f, &v);
	err = bh_flowstore_put(p->fs, &v, &f->db_id);
	if (!err)
		p->written++;
	return err;
}

static void flush(struct pipe *p)
{
	int n;

	if (bh_flowstore_begin(p->fs)) {
		p->store_errors++;
		return;
	}
	n = bh_flowagg_flush(p->agg, UINT32_MAX, flush_one, p);
	if (n < 0) {
		bh_flowstore_rollback(p->fs);
		p->store_errors++;
	} else if (bh_flowstore_commit(p->fs)) {
		p->store_errors++;
	}
	p->flushes++;
}

/* The agent's detection step (lib/agent/agent.c, handle_record), without the
 * store and map work of a quarantine. */
static void detect(struct pipe *p, const struct bh_flow *f, const struct bh_flow_view *v,
		   int flags)
{
	struct bh_detect_flow df = {
		.slot = f->slot, .ns = v->ns, .name = v->name, .ts_ms = f->last_ns / 1000000,
		.dir = f->dir, .verdict = f->verdict, .mode = f->mode, .family = f->family,
		.proto = f->proto, .sport = f->sport, .dport = f->dport,
	};
	struct bh_detect_result res[BH_DETECT_RULES];
	char expl[1024];
	int n;

	if (!((flags & BH_AGG_NEW) || ((flags & BH_AGG_VERDICT) && f->verdict == BH_V_DENY)) ||
	    f->dir != BH_DIR_EGRESS || f->verdict == BH_V_QUARANTINE)
		return;
	memcpy(df.src, f->src, 16);
	memcpy(df.peer, bh_flow_peer_addr(f), 16);
	df.outside_baseline = !bh_baseline_covers_peer(&p->bl, BH_DIR_EGRESS, f->proto, f->dport,
							v->peer_wl, df.peer);
	n = bh_detect_flow(p->det, &df, res);
	for (int i = 0; i < n; i++) {
		bh_detect_explain(&res[i], 0, expl, sizeof(expl));
		p->decisions++;
	}
	if (n > 0)
		bh_detect_forget(p->det, f->slot);
}

static void ingest(struct pipe *p, const struct bh_flow_record *r)
{
	struct bh_flow_view v;
	struct bh_flow *f;
	int flags = bh_flowagg_add(p->agg, r, &f);

	if (flags == -ENOSPC) {
		flush(p);
		flags = bh_flowagg_add(p->agg, r, &f);
	}
	bh_flowrec_decode(p->fr, r, &v);
	bh_export_flow(&p->x, &v);
	if (p->det && flags >= 0 && v.wl)
		detect(p, f, &v, flags);
	if (bh_flowagg_dirty(p->agg) >= p->batch)
		flush(p);
	if (++p->since_pump >= 256) {
		bh_syslog_pump(p->x.syslog);
		p->since_pump = 0;
	}
}

/* 32 egress entries; the synthetic peers (172.16.0.0/16, tcp 80 and 443)
 * match the last two, so a covered flow walks the whole list. */
static int make_baseline(struct bh_baseline *b)
{
	b->nr = 32;
	b->entries = calloc(32, sizeof(*b->entries));
	if (!b->entries)
		return -ENOMEM;
	for (int i = 0; i < 32; i++) {
		struct bh_baseline_entry *e = &b->entries[i];

		e->dir = BH_DIR_EGRESS;
		e->peer_kind = BH_PEER_CIDR;
		e->proto = 6;
		if (i < 30) {
			snprintf(e->peer, sizeof(e->peer), "10.%d.0.0/24", 200 + i);
			e->port = 5000 + i;
		} else {
			snprintf(e->peer, sizeof(e->peer), "172.16.0.0/16");
			e->port = i == 30 ? 80 : 443;
		}
		e->cidr_ok = !bh_cidr_parse_addr(e->peer, &e->cidr);
	}
	return 0;
}

static int make_detect(struct bh_detect **out)
{
	static const char yaml[] =
		"quarantine:\n"
		"  denied_flows: {count: 20, seconds: 10}\n"
		"  scan: {distinct_ports: 20, distinct_peers: 20, seconds: 10, action: quarantine}\n"
		"  deny_cidrs: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, \"2001:db8::/32\"]\n"
		"  exempt: [\"kube-system/*\"]\n";
	struct bh_agent_config c;
	struct bh_agent_config_error e;

	bh_agent_config_defaults(&c);
	if (bh_agent_config_parse_buf("bench", yaml, sizeof(yaml) - 1, &c, &e))
		return -EINVAL;
	return bh_detect_new(&c.detect, out);
}

/* The collector: drains a UDP or unix datagram socket on another core
 * and reports what it got. */
static pid_t start_sink(bool udp, const char *upath, char *target, size_t tlen, int report_fd)
{
	int fd = socket(udp ? AF_INET : AF_UNIX, SOCK_DGRAM, 0), rcvbuf = 8 << 20;
	pid_t pid;

	if (fd < 0)
		return -1;
	if (udp) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sa);

		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(fd, (struct sockaddr *)&sa, &len))
			return -1;
		snprintf(target, tlen, "udp://127.0.0.1:%d", ntohs(sa.sin_port));
	} else {
		struct sockaddr_un su = { .sun_family = AF_UNIX };

		snprintf(su.sun_path, sizeof(su.sun_path), "%s", upath);
		unlink(upath);
		if (bind(fd, (struct sockaddr *)&su, sizeof(su)))
			return -1;
		snprintf(target, tlen, "unix:%s", upath);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	pid = fork();
	if (pid == 0) {
		static char buf[SINK_BATCH][BH_SYSLOG_RECORD_MAX + 64];
		struct mmsghdr mm[SINK_BATCH];
		struct iovec iov[SINK_BATCH];
		struct timeval tv = { 1, 0 };
		uint64_t n = 0;
		cpu_set_t cs;
		int r;

		struct sched_param sp = { .sched_priority = 1 };

		CPU_ZERO(&cs);
		CPU_SET(1, &cs);
		sched_setaffinity(0, sizeof(cs), &cs);
		/* The collector is not what is measured: as root it runs
		 * real-time (it sleeps in recvmmsg when idle) so that other
		 * work on its core does not turn into drops here. */
		sched_setscheduler(0, SCHED_FIFO, &sp);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* batches: a unix datagram socket queues only
		 * net.unix.max_dgram_qlen (default 10) datagrams */
		for (int i = 0; i < SINK_BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		while ((r = recvmmsg(fd, mm, SINK_BATCH, MSG_WAITFORONE, NULL)) > 0)
			n += (uint64_t)r;
		if (write(report_fd, &n, sizeof(n)) != sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(fd);
	return pid;
}

int main(int argc, char **argv)
{
	uint64_t nr = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	uint64_t live = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
	bool udp = argc > 3 && !strcmp(argv[3], "udp");
	long qlen = argc > 4 ? strtol(argv[4], NULL, 10) : 512;
	char dbpath[] = "/tmp/bh-bench-ingest-XXXXXX", target[128], upath[64];
	struct bh_flowrec_opts ro = { .resolver = { fake_workload, fake_rule, NULL } };
	struct bh_flowagg_opts ao = { .max_flows = 262144, .idle_ns = 3600ULL * 1000000000ULL };
	struct bh_flowstore_opts so = { .max_flows = 2000000 };
	struct bh_syslog_opts sys = { .format = BH_SYSLOG_RFC5424, .queue_max = 65536 };
	struct bh_syslog_stats st;
	struct bh_flow_record r;
	struct pipe p = { 0 };
	sqlite3 *db;
	int fds[2], fd;
	uint64_t got = 0;
	double t0, t1, c0, c1;
	pid_t sink;
	cpu_set_t cs;
	long rss0, rss1;
	struct bh_detect *det = NULL;
	double wall[2] = { 0, 0 }, cpu[2] = { 0, 0 };
	uint64_t count[2] = { 0, 0 };

	CPU_ZERO(&cs);
	CPU_SET(0, &cs);
	sched_setaffinity(0, sizeof(cs), &cs);
	if (!udp)
		set_qlen(qlen);	/* not root: the system's limit */
	qlen = get_qlen();
	fd = mkstemp(dbpath);
	if (fd < 0 || pipe(fds))
		return 2;
	close(fd);
	snprintf(upath, sizeof(upath), "/tmp/bh-bench-sink-%d.sock", (int)getpid());
	sink = start_sink(udp, upath, target, sizeof(target), fds[1]);
	if (sink < 0) {
		fprintf(stderr, "bench_ingest: cannot start the syslog sink\n");
		return 2;
	}
	sys.target = target;
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    bh_flowstore_open(db, &so, &p.fs) || bh_flowagg_new(&ao, &p.agg) ||
	    bh_flowrec_new(&ro, &p.fr) || bh_syslog_open(&sys, &p.x.syslog)) {
		fprintf(stderr, "bench_ingest: setup failed\n");
		kill(sink, SIGTERM);
		return 2;
	}
	p.x.syslog_flows = true;
	{
		struct bh_agent_config defaults;

		bh_agent_config_defaults(&defaults);
		p.batch = defaults.flush_records;
	}

	/* 1. memory: LIVE flows held in the aggregation table */
	rss0 = rss_kib();
	for (uint64_t i = 0; i < live; i++) {
		make_record(&r, i, i, BH_E_NEW);
		ingest(&p, &r);
	}
	flush(&p);
	drain(p.x.syslog);	/* the flows' memory, not the syslog queue's */
	rss1 = rss_kib();

	/* 2. rate: NR records, 60% new / 30% end / 10% deny over rolling flows,
	 * in 8 chunks: detection off, on, on, off, off, on, on, off */
	if (make_baseline(&p.bl) || make_detect(&det)) {
		fprintf(stderr, "bench_ingest: detection setup failed\n");
		kill(sink, SIGTERM);
		return 2;
	}
	for (int c = 0; c < 8; c++) {
		static const int on_of[8] = { 0, 1, 1, 0, 0, 1, 1, 0 };
		uint64_t from = nr * (uint64_t)c / 8, to = nr * (uint64_t)(c + 1) / 8;
		double w0, u0;

		p.det = on_of[c] ? det : NULL;
		w0 = now_s();
		u0 = cpu_s();
		for (uint64_t i = from; i < to; i++) {
			uint64_t k = i % 10, flow = live + i / 2;
			__u8 ev = k < 6 ? BH_E_NEW : k < 9 ? BH_E_END : BH_E_DENY;

			if (ev != BH_E_NEW)
				flow = live + (i > 10 ? (i - 5) / 2 : 0);
			make_record(&r, live + i, flow, ev);
			ingest(&p, &r);
		}
		flush(&p);
		wall[on_of[c]] += now_s() - w0;
		cpu[on_of[c]] += cpu_s() - u0;
		count[on_of[c]] += to - from;
	}
	t0 = 0;
	t1 = wall[0];
	c0 = 0;
	c1 = cpu[0];
	nr = count[0];
	drain(p.x.syslog);
	bh_syslog_get_stats(p.x.syslog, &st);
	bh_syslog_close(p.x.syslog);
	waitpid(sink, NULL, 0);
	if (read(fds[0], &got, sizeof(got)) != sizeof(got))
		got = 0;

	printf("bench_ingest: sink=%s records=%" PRIu64 " seconds=%.3f records_per_s=%.0f"
	       " cpu_seconds=%.3f records_per_cpu_s=%.0f unix_max_dgram_qlen=%ld\n",
	       udp ? "udp" : "unix", nr, t1 - t0, (double)nr / (t1 - t0), c1 - c0,
	       (double)nr / (c1 - c0), qlen);
	printf("bench_ingest: flows_written=%" PRIu64 " flushes=%" PRIu64 " store_errors=%" PRIu64
	       "\n", p.written, p.flushes, p.store_errors);
	printf("bench_ingest: syslog_sent=%" PRIu64 " syslog_dropped=%" PRIu64
	       " syslog_queued=%" PRIu64 " sink_received=%" PRIu64 " sink_lost=%" PRIu64 "\n",
	       st.sent, st.dropped, st.queued, got, st.sent > got ? st.sent - got : 0);
	{
		struct bh_flowagg_stats as;

		bh_flowagg_get_stats(p.agg, &as);
		printf("bench_ingest: live_flows=%" PRIu64 " rss_kib=%ld rss_growth_kib=%ld;"
		       " whole run: peak_rss_kib=%ld, live flows at the end %" PRIu64
		       " (table max %u), syslog queue bound 16 MiB\n", live, rss1, rss1 - rss0,
		       status_kib("VmHWM"), as.live, ao.max_flows);
	}
	printf("bench_ingest: detection off: %" PRIu64 " records, %.0f per cpu s, %.0f per s;"
	       " on: %" PRIu64 " records, %.0f per cpu s, %.0f per s, %" PRIu64 " decisions;"
	       " on/off (cpu) %.3f\n", count[0], (double)count[0] / cpu[0],
	       (double)count[0] / wall[0], count[1], (double)count[1] / cpu[1],
	       (double)count[1] / wall[1], p.decisions,
	       ((double)count[1] / cpu[1]) / ((double)count[0] / cpu[0]));
	printf("{\"ingest_detect_on_records_per_cpu_s\": %.0f, \"ingest_detect_on_over_off\": %.3f,"
	       " \"ingest_detect_decisions\": %" PRIu64 ",",
	       (double)count[1] / cpu[1], ((double)count[1] / cpu[1]) / ((double)count[0] / cpu[0]),
	       p.decisions);
	printf(" \"ingest_records_per_s\": %.0f, \"ingest_records_per_cpu_s\": %.0f,"
	       " \"ingest_sink\": \"%s\", \"ingest_syslog_sent\": %" PRIu64 ","
	       " \"ingest_syslog_dropped\": %" PRIu64 ", \"ingest_syslog_queued\": %" PRIu64 ","
	       " \"ingest_sink_received\": %" PRIu64 ", \"agent_rss_kib_100k_flows\": %ld,"
	       " \"agent_live_flows\": %" PRIu64 ", \"ingest_peak_rss_kib\": %ld}\n",
	       (double)nr / (t1 - t0), (double)nr / (c1 - c0), udp ? "udp" : "unix", st.sent,
	       st.dropped, st.queued, got, rss1, live, status_kib("VmHWM"));
	bh_flowstore_close(p.fs);
	bh_detect_free(det);
	bh_baseline_free(&p.bl);
	bh_flowagg_free(p.agg);
	bh_flowrec_free(p.fr);
	sqlite3_close(db);
	unlink(dbpath);
	unlink(upath);
	{
		char wal[64];

		snprintf(wal, sizeof(wal), "%s-wal", dbpath);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", dbpath);
		unlink(wal);
	}
	return 0;
}
