// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-packet cost of the data path with BPF_PROG_TEST_RUN.
 *
 * In one run, beside the same peers (an empty XDP program, an empty TC
 * program, xdp-filter's default-deny (allow-list) program from Debian's xdp-tools with 10
 * and 10k IPv4 entries), it measures bulkhead's container-egress programs
 * (XDP and TC) for:
 *   established  a packet of a flow already in conntrack (repeat >= 10^6)
 *   denied       a new flow the policy denies; nothing is created, so every
 *                repetition walks parse, ipcache and policy (repeat >= 10^6)
 *   new flow     an allowed first packet. BPF_PROG_TEST_RUN with repeat
 *                replays one packet, which is established after its first
 *                repetition, so instead every packet is its own test run
 *                (repeat = 1) with a fresh 5-tuple; the kernel's own timer
 *                around that single run is read. That timer costs a fixed
 *                overhead (two clock reads), measured the same way on the
 *                empty program and subtracted. Conntrack is emptied between
 *                rounds so inserts never hit LRU eviction, and the flow
 *                record ring is drained, so every new flow writes its record.
 * at 10, 1k, 100k and 1M policy entries (10 ipcache prefixes) and with 10,
 * 10k and 100k ipcache prefixes (1k policy entries). Then the fair shares
 * (lib/bpf/share.h):
 *   denied_flood_pps_ratio  packets/s one core drops for a workload flooding
 *                new denied flows (single runs, fresh tuples), over the same
 *                for an empty XDP drop program
 *   victim_ct_survival  share of a workload's 1000 established flows whose
 *                reply still passes after another workload opened 1.125 x
 *                BH_CT_SIZE new flows (target 1.0)
 * The workload's MAC is bound (lib/bpf/l2.h), so every figure includes the
 * layer 2 checks.
 *
 * The programs and maps are bulkhead's own (loaded by libbulkhead into a
 * private bpffs dir); the maps are filled directly, as the compiler's output
 * would fill them. Output: human-readable lines, then one JSON line.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>

#include "bulkhead.h"
#include "l2id.h"
#include "maps.h"
#include "median.h"
#include "prog_lines.h"
#include "pkt.h"

#define IFINDEX_LO	1	/* test runs see the loopback device */
#define WL_SLOT		0
#define FLOOD_SLOT	1	/* a second workload, the flooder (no policy map: all allowed) */
#define WL_ID		(BH_ID_WORKLOAD_BASE + WL_SLOT)
#define PEER_ID		BH_ID_CIDR_BASE
#define ALLOWED_PORT	80
#define DENIED_PORT	81
#define NEW_ROUND	50000	/* fresh tuples between conntrack flushes (< BH_CT_SHARE) */
#define XDPF_MAX	10000	/* filter_ipv4's max_entries in xdp-tools */

struct opts {
	unsigned int repeat;	/* repetitions of one batched test run */
	int runs;		/* batched runs per figure (median) */
	unsigned int new_flows;	/* single runs per new-flow figure */
	bool quick;		/* smaller sweep, for a smoke test */
	const char *profile;	/* only this figure, for a profiler (bench_where.sh) */
	const char *lines;	/* with profile: the program's line table here */
};

struct bench {
	struct opts o;
	struct bh_ctx *ctx;
	char bpffs[128], state[128];
	int prog_xdp, prog_tc;		/* bulkhead container egress */
	int prog_tc_in;			/* container ingress (replies) */
	int empty_xdp, empty_tc, drop_xdp;
	int m_wl, m_ipc, m_pol, m_ct, m_ct4, m_rl;
	int inner;			/* the workload's current policy map */
	struct ring_buffer *rb;
	unsigned long records;
	__u32 flow_seq;			/* source of fresh tuples */
	int warnings;
	bool no_flow_cache;		/* load with `flow_cache = off` */
	FILE *json;			/* memstream collecting "key":value */
	char *json_buf;
	size_t json_len;
	int nr_json;
};

struct pkt {
	unsigned char b[64];
	__u32 len;
};

/* ---------------------------------------------------------------- output */
static void put(struct bench *b, const char *key, double v)
{
	fprintf(b->json, "%s\"%s\": %.3f", b->nr_json++ ? ", " : "", key, v);
}

/* Instructions the verifier processed for one loaded program (its global
 * functions included): how far it is from the limit of 10^6. */
static double verified_insns(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? -1.0 : (double)info.verified_insns;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- packets */
#define WL_ADDR		0x0ac80002u	/* 10.200.0.2, the workload */
#define FLOOD_ADDR	0x0ac80003u	/* 10.200.0.3, the flooding workload */
#define PEER_ADDR	0x0ac9000au	/* 10.201.0.10, in 10.201.0.0/16 */
#define WL_MAC		((const __u8 *)"\x02\x00\x00\x00\x00\x02")
#define PEER_MAC	((const __u8 *)"\x02\x00\x00\x00\x00\x01")

/* A 64-byte Ethernet/IPv4/TCP frame, built by the tests' packet builder
 * (tests/lib/pkt.h): addresses in host order. */
static void mk_tcp(struct pkt *p, __u32 saddr, __u32 daddr, __u16 sport, __u16 dport,
		   __u8 flags)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct in_addr s = { htonl(saddr) }, d = { htonl(daddr) };
	struct pkt_opts o = {
		.family = 4, .src = src, .dst = dst, .proto = IPPROTO_TCP,
		.sport = sport, .dport = dport, .tcp_flags = flags,
		.payload = sizeof(p->b) - 14 - 20 - 20,
	};
	int n;

	inet_ntop(AF_INET, &s, src, sizeof(src));
	inet_ntop(AF_INET, &d, dst, sizeof(dst));
	memset(p, 0, sizeof(*p));
	/* the workload's MAC (bound at setup) on its side of the frame */
	o.smac = saddr == WL_ADDR || saddr == FLOOD_ADDR ? WL_MAC : PEER_MAC;
	o.dmac = saddr == WL_ADDR || saddr == FLOOD_ADDR ? PEER_MAC : WL_MAC;
	n = pkt_build(&o, p->b, sizeof(p->b));
	p->len = n > 0 ? (__u32)n : 0;
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_ACK 0x10

/* ---------------------------------------------------------------- test runs */
/* One batched run: kernel-measured ns per repetition, or a negative errno. */
static int run_batch(int prog, const struct pkt *p, unsigned int repeat, __u32 *retval,
		     double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = p->b, .data_size_in = p->len,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog, &t);

	if (err)
		return -errno;
	*retval = t.retval;
	*ns = t.duration;
	return 0;
}

static int run_once(int prog, const struct pkt *p, __u32 *retval, __u32 *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = p->b, .data_size_in = p->len, .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &t))
		return -errno;
	*retval = t.retval;
	*ns = t.duration;
	return 0;
}

/* Median over o.runs batched runs; checks the verdict every time. */
static double measure(struct bench *b, const char *what, int prog, const struct pkt *p,
		      __u32 want)
{
	double v[16];
	int n = b->o.runs > 16 ? 16 : b->o.runs;

	for (int i = 0; i < n; i++) {
		__u32 ret = 0;

		if (run_batch(prog, p, b->o.repeat, &ret, &v[i])) {
			fprintf(stderr, "bench_prog: %s: test run failed: %m\n", what);
			b->warnings++;
			return -1;
		}
		if (ret != want) {
			fprintf(stderr, "bench_prog: WARNING %s: verdict %u, expected %u\n",
				what, ret, want);
			b->warnings++;
		}
	}
	return bh_median(v, n);
}

static int drain_cb(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	(*(unsigned long *)ctx)++;
	return 0;
}

/* Empty a map (conntrack, deny rate limit, ipcache) without timing it:
 * collect every key first, as deleting while walking restarts the walk. */
static void flush_map(int fd, size_t key_size)
{
	size_t cap = 1024, n = 0;
	char *keys = malloc(cap * key_size), *prev = NULL;

	if (!keys)
		return;
	while (bpf_map_get_next_key(fd, prev, keys + n * key_size) == 0) {
		prev = keys + n * key_size;
		if (++n == cap) {
			char *k = realloc(keys, 2 * cap * key_size);

			if (!k)
				break;
			keys = k;
			cap *= 2;
			prev = keys + (n - 1) * key_size;
		}
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

/* Empty conntrack: IPv6 flows in bh_ct_v3, IPv4 ones in bh_ct4_v2; then
 * recount the workloads' shares, as the agent does (lib/bpf/share.h). */
static void flush_ct(struct bench *b)
{
	flush_map(b->m_ct, sizeof(struct bh_ct_key));
	flush_map(b->m_ct4, sizeof(struct bh_ct4_key));
	if (bh_maps_ct_changed(b->ctx) || bh_ct_share_recount(b->ctx))
		fprintf(stderr, "bench_prog: %s\n", bh_ctx_error(b->ctx));
}

/* Fresh allowed tuple number i: distinct source port and peer address. */
static void mk_new_flow(struct pkt *p, __u32 i)
{
	__u16 sport = 1024 + i % 60000;
	__u32 daddr = PEER_ADDR + 256 * (i / 60000 % 200);

	mk_tcp(p, WL_ADDR, daddr, sport, ALLOWED_PORT, TH_SYN);
}

/* Median kernel-timed cost of single runs of fresh allowed flows. */
static double measure_new(struct bench *b, const char *what, int prog, __u32 want)
{
	unsigned int n = b->o.new_flows;
	__u32 *v = calloc(n, sizeof(*v));
	double med = -1;
	struct pkt p;

	if (!v)
		return -1;
	flush_ct(b);
	for (unsigned int i = 0; i < n; i++) {
		__u32 ret = 0;

		if (i && i % NEW_ROUND == 0)
			flush_ct(b);
		if (b->rb && i % 1000 == 0)
			ring_buffer__consume(b->rb);
		mk_new_flow(&p, b->flow_seq++);
		if (run_once(prog, &p, &ret, &v[i])) {
			fprintf(stderr, "bench_prog: %s: test run failed: %m\n", what);
			b->warnings++;
			goto out;
		}
		if (ret != want && i < 4) {
			fprintf(stderr, "bench_prog: WARNING %s: verdict %u, expected %u\n",
				what, ret, want);
			b->warnings++;
		}
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	med = v[n / 2];
out:
	if (b->rb)
		ring_buffer__consume(b->rb);
	flush_ct(b);
	free(v);
	return med;
}

/* Median single-run cost of a program whose verdict needs no state. */
static double measure_single(struct bench *b, int prog, const struct pkt *p)
{
	unsigned int n = b->o.new_flows;
	__u32 *v = calloc(n, sizeof(*v));
	double med = -1;

	if (!v)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		__u32 ret;

		if (run_once(prog, p, &ret, &v[i]))
			goto out;
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	med = v[n / 2];
out:
	free(v);
	return med;
}

/* ---------------------------------------------------------------- peers */
static int load_empty(enum bpf_prog_type type, int retval)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = retval },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(type, "bh_bench_empty", "GPL", insns, 2, NULL);

	return fd < 0 ? -errno : fd;
}

static const char *find_xdp_filter(void)
{
	static char path[256];
	static const char *const pats[] = {
		"/usr/lib/*/bpf/xdpfilt_dny_all.o",
		"/usr/lib/bpf/xdpfilt_dny_all.o",
		"/usr/local/lib/bpf/xdpfilt_dny_all.o",
		"/usr/local/lib/*/bpf/xdpfilt_dny_all.o",
	};

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		glob_t g;

		if (glob(pats[i], 0, NULL, &g) == 0 && g.gl_pathc) {
			snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
			globfree(&g);
			return path;
		}
		globfree(&g);
	}
	return NULL;
}

/* xdp-filter's default-deny program ("all" features: Ethernet, IPv4/IPv6,
 * ports) as `xdp-filter load --policy deny` attaches it, with n IPv4
 * source addresses allowed; the measured packet comes from one of them.
 * The flag bits are xdp-filter's: 1 = match as source, 2 = as dest. */
static int bench_xdp_filter(struct bench *b, double out[2])
{
	const char *path = find_xdp_filter();
	static const int sizes[2] = { 10, XDPF_MAX };
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int ncpu = libbpf_num_possible_cpus();
	__u64 *val;
	int err, fd;

	out[0] = out[1] = -1;
	if (!path) {
		fprintf(stderr, "bench_prog: xdp-filter's object not found (apt-get install xdp-tools)\n");
		return -ENOENT;
	}
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return -errno;
	/* no pinning: this copy is private to the benchmark */
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bench_prog: cannot load %s: %s\n", path, strerror(-err));
		goto out;
	}
	prog = bpf_object__next_program(obj, NULL);
	map = bpf_object__find_map_by_name(obj, "filter_ipv4");
	if (!prog || !map) {
		err = -ENOENT;
		goto out;
	}
	fd = bpf_map__fd(map);
	val = calloc(ncpu, sizeof(*val));
	if (!val) {
		err = -ENOMEM;
		goto out;
	}
	for (int c = 0; c < ncpu; c++)
		val[c] = 1;	/* MAP_FLAG_SRC */
	for (int s = 0, have = 0; s < 2; s++) {
		for (; have < sizes[s]; have++) {
			/* the packet's source first, then 172.16.x.y fillers */
			__u32 a = htonl(have ? 0xac100000u + have : WL_ADDR);

			if (bpf_map_update_elem(fd, &a, val, BPF_ANY)) {
				err = -errno;
				break;
			}
		}
		if (err)
			break;
		struct pkt p;

		mk_tcp(&p, WL_ADDR, PEER_ADDR, 40000, ALLOWED_PORT, TH_ACK);
		out[s] = measure(b, "xdp-filter", bpf_program__fd(prog), &p, XDP_PASS);
	}
	free(val);
out:
	bpf_object__close(obj);
	return err;
}

/* ---------------------------------------------------------------- maps */
static void mapped(__u8 addr[16], __u32 v4)
{
	memset(addr, 0, 16);
	addr[10] = addr[11] = 0xff;
	v4 = htonl(v4);
	memcpy(addr + 12, &v4, 4);
}

static int ipcache_put(int fd, __u32 v4, int plen, __u32 id)
{
	struct bh_ipcache_key k = { .prefixlen = 96 + plen };
	struct bh_ipcache_val v = { .identity = id };

	mapped(k.addr, v4 & (plen ? ~0u << (32 - plen) : 0));
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/* The kernel's own account of a map's memory (fdinfo "memlock"), -1 if
 * unknown. */
static long long map_memlock(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* xorshift: reproducible pseudo-random filler prefixes */
static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The workload's /32, the peer's /16 and n-2 random prefixes (/16../32)
 * outside 10.0.0.0/8 with their own identities. */
static int fill_ipcache(struct bench *b, int n)
{
	__u32 seed = 0x9e3779b9;
	int err;

	flush_map(b->m_ipc, sizeof(struct bh_ipcache_key));
	err = ipcache_put(b->m_ipc, WL_ADDR, 32, WL_ID);
	if (!err)
		err = ipcache_put(b->m_ipc, PEER_ADDR, 16, PEER_ID);
	for (int i = 2; !err && i < n; i++) {
		__u32 a = rnd(&seed);
		int plen = 16 + rnd(&seed) % 17;

		if ((a >> 24) == 10)
			a ^= 0x01000000;
		err = ipcache_put(b->m_ipc, a, plen, BH_ID_CIDR_BASE + i);
	}
	return err;
}

static void pkey(struct bh_policy_key *k, int plen, __u8 dir, __u32 id, __u8 proto, __u16 port)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	k->dir = dir;
	id = htonl(id);
	memcpy(k->identity, &id, 4);
	k->proto = proto;
	k->port[0] = port >> 8;
	k->port[1] = port & 0xff;
}

/* A new inner map with n entries, swapped into the workload's slot:
 * default deny both ways (isolated), the peer allowed on TCP 80, and
 * n-3 allow entries for other identities and ports in the egress
 * direction (the one measured), spread as a compiled policy would be
 * (8 ports per identity). */
static int fill_policy(struct bench *b, int n)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct bh_policy_key k;
	struct bh_policy_val v = { .verdict = BH_PV_ALLOW, .audit_verdict = BH_PV_ALLOW };
	struct bh_policy_val dd = { .verdict = BH_PV_DEFAULT_DENY,
				    .audit_verdict = BH_PV_DEFAULT_DENY };
	__u32 slot = WL_SLOT;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bh_bench_pol", sizeof(k), sizeof(v),
			    n + 16, &mo);
	if (fd < 0)
		return -errno;
	pkey(&k, 8, BH_DIR_EGRESS, 0, 0, 0);
	err = bpf_map_update_elem(fd, &k, &dd, BPF_ANY);
	pkey(&k, 8, BH_DIR_INGRESS, 0, 0, 0);
	err = err ?: bpf_map_update_elem(fd, &k, &dd, BPF_ANY);
	v.rule_id = v.audit_rule_id = 1;
	pkey(&k, 64, BH_DIR_EGRESS, PEER_ID, IPPROTO_TCP, ALLOWED_PORT);
	err = err ?: bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	for (int i = 3; !err && i < n; i++) {
		v.rule_id = v.audit_rule_id = i;
		pkey(&k, 64, BH_DIR_EGRESS, PEER_ID + 1 + i / 8,
		     i % 3 ? IPPROTO_TCP : IPPROTO_UDP, 1000 + (i % 8) * 7);
		err = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	}
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bpf_map_update_elem(b->m_pol, &slot, &fd, BPF_ANY)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (b->inner >= 0)
		close(b->inner);
	b->inner = fd;
	return 0;
}

/* The workload on the test runs' interface (lo): slot, address, hook, and
 * its MAC bound as attach binds it, so the figures include the check. */
static int set_workload_slot(struct bench *b, enum bh_hook hook, __u32 slot, __u32 addr)
{
	__u32 key = IFINDEX_LO;
	struct bh_workload w = {
		.slot = slot, .identity = BH_ID_WORKLOAD_BASE + slot, .mode = BH_MODE_ENFORCE,
		.hook = hook, .nr_ips = 1,
	};

	w.ips[0].family = 4;
	mapped(w.ips[0].addr, addr);
	if (bpf_map_update_elem(b->m_wl, &key, &w, BPF_ANY))
		return -errno;
	return 0;
}

static int set_workload(struct bench *b, enum bh_hook hook)
{
	return set_workload_slot(b, hook, WL_SLOT, WL_ADDR);
}

/* ---------------------------------------------------------------- setup */
static int obj_get(struct bench *b, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", b->bpffs, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int setup(struct bench *b)
{
	struct bh_ctx_opts co = { .bpffs = b->bpffs, .state_dir = b->state };
	int err;

	snprintf(b->bpffs, sizeof(b->bpffs), "/sys/fs/bpf/bh-bench-%d", getpid());
	snprintf(b->state, sizeof(b->state), "/tmp/bh-bench-%d", getpid());
	if (mkdir(b->state, 0700) && errno != EEXIST)
		return -errno;
	if (b->no_flow_cache) {
		char path[200];
		FILE *f;

		snprintf(path, sizeof(path), "%s/config", b->state);
		f = fopen(path, "w");
		if (!f || fputs("flow_cache = off\n", f) < 0 || fclose(f)) {
			fprintf(stderr, "bench_prog: cannot write %s: %m\n", path);
			return -EIO;
		}
	}
	err = bh_ctx_open(&co, &b->ctx);
	if (err) {
		fprintf(stderr, "bench_prog: cannot open a bulkhead context: %s\n", strerror(-err));
		return err;
	}
	err = bh_ctx_load(b->ctx);
	if (err) {
		fprintf(stderr, "bench_prog: %s\n", bh_ctx_error(b->ctx));
		return err;
	}
	b->prog_xdp = obj_get(b, BH_PIN_PROG_XDP);
	b->prog_tc = obj_get(b, BH_PIN_PROG_TC_EGRESS);
	b->prog_tc_in = obj_get(b, BH_PIN_PROG_TC_INGRESS);
	b->m_wl = bh_map_fd(b->ctx, BH_MAP_WORKLOADS);
	b->m_ipc = bh_map_fd(b->ctx, BH_MAP_IPCACHE);
	b->m_pol = bh_map_fd(b->ctx, BH_MAP_POLICY);
	b->m_ct = bh_map_fd(b->ctx, BH_MAP_CT);
	b->m_ct4 = bh_map_fd(b->ctx, BH_MAP_CT4);
	b->m_rl = bh_map_fd(b->ctx, BH_MAP_DENY_RL);
	if (b->prog_xdp < 0 || b->prog_tc < 0 || b->prog_tc_in < 0 || b->m_wl < 0 ||
	    b->m_ipc < 0 || b->m_pol < 0 || b->m_ct < 0 || b->m_ct4 < 0 || b->m_rl < 0) {
		fprintf(stderr, "bench_prog: programs or maps missing in %s\n", b->bpffs);
		return -ENOENT;
	}
	int flows = bh_map_fd(b->ctx, BH_MAP_FLOWS);

	if (flows >= 0)
		b->rb = ring_buffer__new(flows, drain_cb, &b->records, NULL);
	if (bh_l2_slot_set(b->ctx, WL_SLOT, WL_MAC, false) ||
	    bh_l2_slot_set(b->ctx, FLOOD_SLOT, WL_MAC, false)) {
		fprintf(stderr, "bench_prog: %s\n", bh_ctx_error(b->ctx));
		return -EIO;
	}
	b->empty_xdp = load_empty(BPF_PROG_TYPE_XDP, XDP_PASS);
	b->drop_xdp = load_empty(BPF_PROG_TYPE_XDP, XDP_DROP);
	b->empty_tc = load_empty(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
	if (b->empty_xdp < 0 || b->empty_tc < 0) {
		fprintf(stderr, "bench_prog: cannot load the empty programs\n");
		return -EINVAL;
	}
	return 0;
}

static void teardown(struct bench *b)
{
	if (b->rb)
		ring_buffer__free(b->rb);
	int fds[] = { b->prog_xdp, b->prog_tc, b->prog_tc_in, b->empty_xdp, b->empty_tc, b->inner,
		      b->drop_xdp };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (b->ctx) {
		bh_reset(b->ctx);
		bh_ctx_close(b->ctx);
	}
	b->rb = NULL;
	b->ctx = NULL;
	b->prog_xdp = b->prog_tc = b->prog_tc_in = b->empty_xdp = b->empty_tc = b->inner = -1;
	b->drop_xdp = -1;
	rmdir(b->bpffs);
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->state);
	if (system(cmd))
		fprintf(stderr, "bench_prog: could not remove %s\n", b->state);
}

/* ---------------------------------------------------------------- sweep */
struct figures {
	double est[2], newf[2], deny[2];	/* [0] XDP, [1] TC */
};

/* Establish the measured flow: SYN out, SYN-ACK back, ACK out. */
static void establish(struct bench *b, int prog_out, __u32 pass)
{
	struct pkt p;
	__u32 ret;
	double ns;

	mk_tcp(&p, WL_ADDR, PEER_ADDR, 40000, ALLOWED_PORT, TH_SYN);
	run_batch(prog_out, &p, 1, &ret, &ns);
	if (ret != pass) {
		fprintf(stderr, "bench_prog: WARNING the SYN of the measured flow got verdict %u\n", ret);
		b->warnings++;
	}
	mk_tcp(&p, PEER_ADDR, WL_ADDR, ALLOWED_PORT, 40000, TH_SYN | TH_ACK);
	run_batch(b->prog_tc_in, &p, 1, &ret, &ns);
	if (ret != TC_ACT_OK) {
		fprintf(stderr, "bench_prog: WARNING the SYN-ACK of the measured flow got verdict %u\n", ret);
		b->warnings++;
	}
}

static double median3(double a, double b, double c)
{
	if (a > b) {
		double t = a;

		a = b;
		b = t;
	}
	return c < a ? a : c > b ? b : c;
}

/*
 * The established figure is measured three times, before the denied and
 * after each other measurement, a few seconds apart, and the middle one
 * kept: at ~40 ns a packet, the five runs of one measurement take 0.2 s,
 * and one burst of other work on this shared machine moved a whole
 * measurement by 40 % (51 ns against 36 in the runs before and after).
 */
static int sweep_point(struct bench *b, struct figures *f, const char *label)
{
	static const char *const hook[2] = { "xdp", "tc" };
	struct pkt est, deny;
	double e[3];

	mk_tcp(&est, WL_ADDR, PEER_ADDR, 40000, ALLOWED_PORT, TH_ACK);
	mk_tcp(&deny, WL_ADDR, PEER_ADDR, 40001, DENIED_PORT, TH_SYN);
	for (int h = 0; h < 2; h++) {
		int prog = h ? b->prog_tc : b->prog_xdp;
		__u32 pass = h ? TC_ACT_OK : XDP_PASS, drop = h ? TC_ACT_SHOT : XDP_DROP;
		char what[96], what_est[96];

		if (set_workload(b, h ? BH_HOOK_TC : BH_HOOK_XDP))
			return -errno;
		flush_ct(b);
		establish(b, prog, pass);
		snprintf(what_est, sizeof(what_est), "%s established %s", hook[h], label);
		e[0] = measure(b, what_est, prog, &est, pass);
		snprintf(what, sizeof(what), "%s denied %s", hook[h], label);
		f->deny[h] = measure(b, what, prog, &deny, drop);
		e[1] = measure(b, what_est, prog, &est, pass);
		snprintf(what, sizeof(what), "%s new flow %s", hook[h], label);
		f->newf[h] = measure_new(b, what, prog, pass);
		e[2] = measure(b, what_est, prog, &est, pass);
		f->est[h] = median3(e[0], e[1], e[2]);
		flush_map(b->m_rl, sizeof(struct bh_ct_key));
	}
	return 0;
}

static const char *count_name(int n)
{
	switch (n) {
	case 10: return "10";
	case 1000: return "1k";
	case 10000: return "10k";
	case 100000: return "100k";
	case 1000000: return "1m";
	default: return "n";
	}
}

/* One sweep point: measure, take the per-run overhead off the new-flow
 * figures (each new flow is its own run), print the row. */
static int measure_point(struct bench *b, struct figures *f, const char *label,
			 double over_xdp, double over_tc)
{
	int err = sweep_point(b, f, label);

	if (err)
		return err;
	f->newf[0] -= over_xdp;
	f->newf[1] -= over_tc;
	printf("  %-34s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", label, f->est[0], f->est[1],
	       f->newf[0], f->newf[1], f->deny[0], f->deny[1]);
	return 0;
}

/*
 * The 1k entries / 10 prefixes point again, in a fresh instance whose
 * programs were loaded with `flow_cache = off`: no cache and no look at
 * the frame before the parser, so every packet is parsed and judged in
 * the judge function. (A cache miss costs less: it looks conntrack up
 * before the parser; a repeated packet of one flow cannot measure that.)
 */
static int point_without_cache(struct bench *b, double over_xdp, double over_tc)
{
	struct figures f;
	int err;

	teardown(b);
	b->no_flow_cache = true;
	err = setup(b) ?: fill_policy(b, 1000) ?: fill_ipcache(b, 10);
	if (err)
		return err;
	err = measure_point(b, &f, "1k entries, 10 prefixes, cache off", over_xdp, over_tc);
	if (err)
		return err;
	put(b, "xdp_established_nocache_ns", f.est[0]);
	put(b, "tc_established_nocache_ns", f.est[1]);
	put(b, "xdp_new_flow_nocache_ns", f.newf[0]);
	put(b, "tc_new_flow_nocache_ns", f.newf[1]);
	put(b, "xdp_denied_nocache_ns", f.deny[0]);
	put(b, "tc_denied_nocache_ns", f.deny[1]);
	return 0;
}

/* Its JSON keys: {xdp,tc}_{established,new_flow,denied}_ns_{pol,ipc}SIZE. */
static void put_point(struct bench *b, const struct figures *f, const char *axis, int n)
{
	static const char *const kind[3] = { "established", "new_flow", "denied" };
	const double *vals[3] = { f->est, f->newf, f->deny };
	char key[64];

	for (int h = 0; h < 2; h++)
		for (int k = 0; k < 3; k++) {
			snprintf(key, sizeof(key), "%s_%s_ns_%s%s", h ? "tc" : "xdp", kind[k], axis,
				 count_name(n));
			put(b, key, vals[k][h]);
		}
}

/*
 * A workload floods new denied flows (a fresh tuple every packet, so every
 * one is a deny rate-limit miss wanting an insert and a record): single
 * XDP runs, the per-run timer overhead taken off, against the empty XDP
 * drop program measured batched, in packets/s of one core. The first
 * BH_SHARE_REC_BURST flows use up the workload's record budget; the
 * median is the steady state after it.
 */
static int denied_flood(struct bench *b, double over_xdp, double *ratio)
{
	unsigned int n = b->o.new_flows;
	__u32 *v = calloc(n, sizeof(*v)), ret;
	double empty, med;
	struct pkt p;

	if (!v)
		return -ENOMEM;
	if (set_workload(b, BH_HOOK_XDP)) {
		free(v);
		return -errno;
	}
	flush_map(b->m_rl, sizeof(struct bh_ct_key));
	mk_tcp(&p, WL_ADDR, PEER_ADDR, 40000, DENIED_PORT, TH_SYN);
	empty = measure(b, "empty xdp drop", b->drop_xdp, &p, XDP_DROP);
	for (unsigned int i = 0; i < n; i++) {
		mk_tcp(&p, WL_ADDR, PEER_ADDR + 256 * (i / 60000 % 200), 1024 + i % 60000,
		       DENIED_PORT, TH_SYN);
		if (run_once(b->prog_xdp, &p, &ret, &v[i])) {
			free(v);
			return -errno;
		}
		if (ret != XDP_DROP && i < 4) {
			fprintf(stderr, "bench_prog: WARNING denied flood: verdict %u\n", ret);
			b->warnings++;
		}
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	med = v[n / 2] - over_xdp;
	free(v);
	flush_map(b->m_rl, sizeof(struct bh_ct_key));
	if (b->rb)
		ring_buffer__consume(b->rb);
	*ratio = med > 0 ? empty / med : -1;
	printf("  denied flood (new denied flows, XDP): %.1f ns = %.0f kpps/core; empty XDP drop "
	       "%.1f ns = %.0f kpps; ratio %.3f\n", med, 1e6 / med, empty, 1e6 / empty, *ratio);
	put(b, "denied_flood_ns", med);
	put(b, "xdp_drop_empty_ns", empty);
	return 0;
}

/*
 * The victim (WL_SLOT) establishes VICTIM_FLOWS TCP flows; another
 * workload (FLOOD_SLOT, same interface, its own address, no policy:
 * everything allowed) then opens more new flows than conntrack holds.
 * Afterwards each victim flow gets a reply (peer -> workload, ACK): the
 * victim's ingress is isolated, so it passes only if its entry survived.
 * The share of replies that pass is victim_ct_survival (target 1.0).
 */
#define VICTIM_FLOWS	1000
static int victim_survival(struct bench *b, double *survival)
{
	unsigned int flood = BH_CT_SIZE + BH_CT_SIZE / 8, passed = 0;
	__u32 ret, ns;
	struct pkt p;
	double d;

	flush_ct(b);
	if (set_workload(b, BH_HOOK_XDP))
		return -errno;
	for (int i = 0; i < VICTIM_FLOWS; i++) {
		mk_tcp(&p, WL_ADDR, PEER_ADDR, 30000 + i, ALLOWED_PORT, TH_SYN);
		run_batch(b->prog_xdp, &p, 1, &ret, &d);
		mk_tcp(&p, PEER_ADDR, WL_ADDR, ALLOWED_PORT, 30000 + i, TH_SYN | TH_ACK);
		run_batch(b->prog_tc_in, &p, 1, &ret, &d);
		mk_tcp(&p, WL_ADDR, PEER_ADDR, 30000 + i, ALLOWED_PORT, TH_ACK);
		run_batch(b->prog_xdp, &p, 1, &ret, &d);
	}
	if (set_workload_slot(b, BH_HOOK_XDP, FLOOD_SLOT, FLOOD_ADDR))
		return -errno;
	for (unsigned int i = 0; i < flood; i++) {
		mk_tcp(&p, FLOOD_ADDR, PEER_ADDR + 256 * (i / 60000 % 200), 1024 + i % 60000,
		       ALLOWED_PORT, TH_SYN);
		if (run_once(b->prog_xdp, &p, &ret, &ns))
			return -errno;
		if (b->rb && i % 4096 == 0)
			ring_buffer__consume(b->rb);
	}
	if (set_workload(b, BH_HOOK_XDP))
		return -errno;
	for (int i = 0; i < VICTIM_FLOWS; i++) {
		mk_tcp(&p, PEER_ADDR, WL_ADDR, ALLOWED_PORT, 30000 + i, TH_ACK);
		run_batch(b->prog_tc_in, &p, 1, &ret, &d);
		passed += ret == TC_ACT_OK;
	}
	*survival = (double)passed / VICTIM_FLOWS;
	printf("  victim conntrack survival: %u of %d established flows pass after another "
	       "workload opened %u new flows (conntrack holds %u)\n", passed, VICTIM_FLOWS, flood,
	       BH_CT_SIZE);
	flush_ct(b);
	return 0;
}

/*
 * --profile WHAT: only one figure at the headline's 1k policy entries and
 * 10 prefixes, so that a sampling profiler running beside it
 * (bench/bench_where.sh) sees that path and nothing else of ours:
 *   xdp-new, tc-new        new flows (o.new_flows single runs)
 *   xdp-denied, tc-denied  one denied flow repeated (batched runs)
 * Prints the figure and its JSON ({"profile_ns": ...}). With --lines FILE,
 * the program's source lines by JIT address go to FILE first
 * (prog_lines.h), for bench/perf_where.py --lines.
 */
static int profile_one(struct bench *b, double over_xdp, double over_tc)
{
	const char *w = b->o.profile;
	int tc = !strncmp(w, "tc-", 3);
	int prog = tc ? b->prog_tc : b->prog_xdp;
	__u32 pass = tc ? TC_ACT_OK : XDP_PASS, drop = tc ? TC_ACT_SHOT : XDP_DROP;
	double ns;
	struct pkt p;
	int err;

	if (strcmp(w, "xdp-new") && strcmp(w, "tc-new") && strcmp(w, "xdp-denied") &&
	    strcmp(w, "tc-denied")) {
		fprintf(stderr, "bench_prog: --profile takes xdp-new, tc-new, xdp-denied or tc-denied\n");
		return -EINVAL;
	}
	if (b->o.lines)
		bh_lines_write(prog, b->o.lines);	/* without it, no call sites: not fatal */
	err = fill_ipcache(b, 10) ?: fill_policy(b, 1000);
	if (err)
		return err;
	if (set_workload(b, tc ? BH_HOOK_TC : BH_HOOK_XDP))
		return -errno;
	if (strstr(w, "-new")) {
		ns = measure_new(b, w, prog, pass) - (tc ? over_tc : over_xdp);
	} else {
		mk_tcp(&p, WL_ADDR, PEER_ADDR, 40001, DENIED_PORT, TH_SYN);
		ns = measure(b, w, prog, &p, drop);
		flush_map(b->m_rl, sizeof(struct bh_ct_key));
	}
	printf("  %s: %.1f ns per packet\n", w, ns);
	put(b, "profile_ns", ns);
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--repeat N] [--runs N] [--new-flows N] [--quick]\n"
		"  --repeat N     repetitions per batched test run (default 1000000)\n"
		"  --runs N       batched runs per figure, median taken (default 5)\n"
		"  --new-flows N  fresh flows per new-flow figure (default 200000)\n"
		"  --quick        only 10 and 1k policy entries, 10 prefixes (smoke test)\n"
		"  --profile WHAT only one figure, for a profiler: xdp-new, tc-new, xdp-denied,\n"
		"                 tc-denied (bench/bench_where.sh)\n"
		"  --lines FILE   with --profile: the program's source lines by JIT address\n"
		"                 to FILE (bench/perf_where.py --lines)\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'n' },
		{ "new-flows", required_argument, NULL, 'f' },
		{ "quick", no_argument, NULL, 'q' },
		{ "profile", required_argument, NULL, 'p' },
		{ "lines", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench b = {
		.o = { .repeat = 1000000, .runs = 5, .new_flows = 200000 },
		.prog_xdp = -1, .prog_tc = -1, .prog_tc_in = -1, .empty_xdp = -1, .empty_tc = -1,
		.inner = -1, .drop_xdp = -1,
	};
	static const int pol_sizes[] = { 10, 1000, 100000, 1000000 };
	static const int ipc_sizes[] = { 10, 10000, 100000 };
	struct figures base = { 0 }, ref = { 0 }, f;
	double xf[2], e_xdp, e_tc, s_xdp, s_tc, over_xdp, over_tc;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': b.o.repeat = strtoul(optarg, NULL, 0); break;
		case 'n': b.o.runs = atoi(optarg); break;
		case 'f': b.o.new_flows = strtoul(optarg, NULL, 0); break;
		case 'q': b.o.quick = true; break;
		case 'p': b.o.profile = optarg; break;
		case 'l': b.o.lines = optarg; break;
		default: usage(argv[0]); return c == 'h' ? 0 : 1;
		}
	}
	if (!b.o.repeat || b.o.runs < 1 || b.o.new_flows < 1) {
		usage(argv[0]);
		return 1;
	}
	b.json = open_memstream(&b.json_buf, &b.json_len);
	if (!b.json)
		return 2;
	err = setup(&b);
	if (err)
		goto out;

	printf("per-packet cost, BPF_PROG_TEST_RUN: batched figures are the median of %d runs of "
	       "%u repetitions; new-flow figures the median of %u single runs\n",
	       b.o.runs, b.o.repeat, b.o.new_flows);
	{
		struct pkt p;

		mk_tcp(&p, WL_ADDR, PEER_ADDR, 40000, ALLOWED_PORT, TH_ACK);
		e_xdp = measure(&b, "empty xdp", b.empty_xdp, &p, XDP_PASS);
		e_tc = measure(&b, "empty tc", b.empty_tc, &p, TC_ACT_OK);
		s_xdp = measure_single(&b, b.empty_xdp, &p);
		s_tc = measure_single(&b, b.empty_tc, &p);
	}
	/* the fixed cost the single-run timer adds, beyond the batched figure */
	over_xdp = s_xdp - e_xdp;
	over_tc = s_tc - e_tc;
	printf("  empty XDP program            %7.1f ns   (single run: %.0f ns)\n", e_xdp, s_xdp);
	printf("  empty TC program             %7.1f ns   (single run: %.0f ns)\n", e_tc, s_tc);
	put(&b, "xdp_empty_ns", e_xdp);
	put(&b, "tc_empty_ns", e_tc);
	put(&b, "single_run_overhead_xdp_ns", over_xdp);
	put(&b, "single_run_overhead_tc_ns", over_tc);
	if (b.o.profile) {
		err = profile_one(&b, over_xdp, over_tc);
		goto out;
	}

	err = bench_xdp_filter(&b, xf);
	printf("  xdp-filter, allowed packet   %7.1f ns (10 entries)  %7.1f ns (10k entries)\n",
	       xf[0], xf[1]);
	put(&b, "xdp_filter_10_ns", xf[0]);
	put(&b, "xdp_filter_10k_ns", xf[1]);

	/* policy sweep at 10 ipcache prefixes */
	err = fill_ipcache(&b, 10);
	if (err)
		goto out;
	printf("  %-34s %9s %9s %9s %9s %9s %9s\n", "bulkhead (ns/packet)", "xdp est", "tc est",
	       "xdp new", "tc new", "xdp deny", "tc deny");
	for (size_t i = 0; i < sizeof(pol_sizes) / sizeof(pol_sizes[0]); i++) {
		char label[64];
		int n = pol_sizes[i];

		if (b.o.quick && n > 1000)
			break;
		err = fill_policy(&b, n);
		if (err) {
			fprintf(stderr, "bench_prog: cannot fill %d policy entries: %s\n", n, strerror(-err));
			goto out;
		}
		snprintf(label, sizeof(label), "%s policy entries, 10 prefixes", count_name(n));
		err = measure_point(&b, &f, label, over_xdp, over_tc);
		if (err)
			goto out;
		if (n == 10)
			base = f;
		if (n == 1000000 || (b.o.quick && n == 1000))
			ref = f;
		put_point(&b, &f, "pol", n);
	}
	put(&b, "scaling_established_1m_over_10", ref.est[0] / base.est[0]);
	put(&b, "scaling_new_flow_1m_over_10", ref.newf[0] / base.newf[0]);
	put(&b, "scaling_denied_1m_over_10", ref.deny[0] / base.deny[0]);
	put(&b, "tc_scaling_established_1m_over_10", ref.est[1] / base.est[1]);
	put(&b, "tc_scaling_new_flow_1m_over_10", ref.newf[1] / base.newf[1]);

	/* ipcache sweep at 1k policy entries; the headline figures are the
	 * 1k entries / 10k prefixes point */
	err = fill_policy(&b, 1000);
	if (err)
		goto out;
	struct figures head = { 0 }, at10 = { 0 }, at100k = { 0 };
	long long ipc_bytes_100k = -1;

	for (size_t i = 0; i < sizeof(ipc_sizes) / sizeof(ipc_sizes[0]); i++) {
		char label[64];
		int n = ipc_sizes[i];

		if (b.o.quick && n > 10)
			break;
		err = fill_ipcache(&b, n);
		if (err) {
			fprintf(stderr, "bench_prog: cannot fill %d prefixes: %s\n", n, strerror(-err));
			goto out;
		}
		snprintf(label, sizeof(label), "1k policy entries, %s prefixes", count_name(n));
		err = measure_point(&b, &f, label, over_xdp, over_tc);
		if (err)
			goto out;
		if (n == 10000 || (b.o.quick && n == 10))
			head = f;
		if (n == 10)
			at10 = f;
		if (n == 100000) {
			at100k = f;
			ipc_bytes_100k = map_memlock(b.m_ipc);
		}
		put_point(&b, &f, "ipc", n);
	}
	/* 100k ipcache entries, each its own identity: what 100k remote pod
	 * identities (peers) put into the ipcache */
	if (at10.est[0] > 0 && at100k.est[0] > 0) {
		put(&b, "scaling_established_100k_identities_over_10", at100k.est[0] / at10.est[0]);
		put(&b, "tc_scaling_established_100k_identities_over_10", at100k.est[1] / at10.est[1]);
		put(&b, "ipcache_bytes_100k_identities", (double)ipc_bytes_100k);
		printf("  100k identities in the ipcache: established %.2f x (XDP), %.2f x (TC) the"
		       " 10-entry cost; map memory %lld bytes\n", at100k.est[0] / at10.est[0],
		       at100k.est[1] / at10.est[1], ipc_bytes_100k);
	}
	put(&b, "xdp_established_ns", head.est[0]);
	put(&b, "tc_established_ns", head.est[1]);
	put(&b, "xdp_new_flow_ns", head.newf[0]);
	put(&b, "tc_new_flow_ns", head.newf[1]);
	put(&b, "xdp_denied_ns", head.deny[0]);
	put(&b, "tc_denied_ns", head.deny[1]);
	/* against the cheaper xdp-filter figure: the stricter ratio */
	double xfmin = xf[0] > 0 && (xf[1] <= 0 || xf[0] < xf[1]) ? xf[0] : xf[1];

	put(&b, "established_over_xdp_filter", xfmin > 0 ? head.est[0] / xfmin : -1);
	put(&b, "verified_insns_xdp", verified_insns(b.prog_xdp));
	put(&b, "verified_insns_tc_from_container", verified_insns(b.prog_tc));
	put(&b, "verified_insns_tc_to_container", verified_insns(b.prog_tc_in));
	printf("  verifier: XDP %.0f, TC from container %.0f, TC to container %.0f instructions "
	       "processed (limit 1000000)\n", verified_insns(b.prog_xdp), verified_insns(b.prog_tc),
	       verified_insns(b.prog_tc_in));
	printf("  headline (1k policy entries, 10k prefixes): XDP established %.1f ns = %.2f x "
	       "xdp-filter (%.1f ns); scaling 1M/10 entries: established %.2f, new flow %.2f\n",
	       head.est[0], xfmin > 0 ? head.est[0] / xfmin : -1, xfmin,
	       ref.est[0] / base.est[0], ref.newf[0] / base.newf[0]);
	{
		double ratio = -1, surv = -1;

		err = fill_ipcache(&b, 10) ?: denied_flood(&b, over_xdp, &ratio) ?:
		      victim_survival(&b, &surv);
		if (err)
			goto out;
		put(&b, "denied_flood_pps_ratio", ratio);
		put(&b, "victim_ct_survival", surv);
	}
	err = point_without_cache(&b, over_xdp, over_tc);
	if (err)
		goto out;
	put(&b, "prog_warnings", b.warnings);
	if (b.warnings)
		printf("  %d WARNINGS above: a verdict was not the expected one, figures may not "
		       "measure the intended path\n", b.warnings);
	err = 0;
out:
	teardown(&b);
	fclose(b.json);
	if (!err)
		printf("{%s}\n", b.json_buf);
	free(b.json_buf);
	return err ? 2 : 0;
}
