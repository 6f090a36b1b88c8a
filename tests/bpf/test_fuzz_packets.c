// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet fuzzing of the data path through BPF_PROG_TEST_RUN.
 *
 * The real XDP and TC programs are loaded with their maps pinned in a
 * private bpffs directory. One workload (10.0.0.1, fd00::1) is enforced,
 * isolated both ways, and allowed one flow: egress TCP to the peer
 * (10.0.0.2 / fd00::2) port 443. Tens of thousands of generated frames
 * (random bytes, every header byte mutated, truncation at every offset,
 * VLAN stacks, IPv6 extension chains past the bound, spoofed sources,
 * fragments out of order, ICMP errors) go through the three programs:
 * XDP container egress, TC container egress, TC container ingress.
 *
 * Every run is checked against tests/fuzz/pkt_oracle.h, a model written
 * independently of lib/bpf/parse.h:
 *   (a) a frame from a source the workload does not own never passes
 *       container egress (ARP from its address or 0.0.0.0 and ND from
 *       link-local/unspecified excepted);
 *   (b) a frame passes only if it is the allowed flow, ARP/ND, or belongs
 *       to a flow the test opened on purpose (reply, later packet, later
 *       fragment, ICMP error sent back to the quoted packet's source);
 *   (c) truncated or malformed frames never pass;
 *   (d) every run is counted under exactly one bh_stats_v3 entry: the
 *       program's direction and a reason that agrees with the verdict;
 *   (e) conntrack state is created only by a packet that opens a flow (a
 *       TCP SYN, an ICMP query request, UDP, SCTP), see or_opens_flow;
 *   (f) layer 2: the workload's MAC (FZ_MAC, bound) is the only Ethernet
 *       source, ARP sender and ND link-layer address it sends, an NA
 *       claims only its addresses, it sends no RA or redirect, ARP/ND are
 *       no longer than they need, and what reaches it is for it.
 * A second peer (ANY4/ANY6) is allowed every protocol by a rule without
 * ports: tunnels and other named protocols to it must still be dropped,
 * and ICMP to it exercises the query kinds.
 * The seed is printed; BH_FUZZ_SEED=N and BH_FUZZ_SCALE=N (iterations
 * multiplier) reproduce or lengthen a run. Needs root (77 without it, a
 * failure in tests/run.sh); programs that do not load are a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "bulkhead_abi.h"
#include "bulkhead.h"
#include "bulkhead_xdp.skel.h"
#include "bulkhead_tc.skel.h"
#include "bpf_test_util.h"
#include "pkt.h"
#include "../fuzz/pkt_oracle.h"

#define FZ_IFINDEX	1u	/* lo: what BPF_PROG_TEST_RUN reports */
#define FZ_SLOT		9u
#define FZ_ID_WL	(BH_ID_WORKLOAD_BASE + FZ_SLOT)
#define FZ_ID_PEER	(BH_ID_WORKLOAD_BASE + 1)
#define FZ_RULE		21u
#define FZ_PORT		443

#define WL4	"10.0.0.1"
#define WL6	"fd00::1"
#define PEER4	"10.0.0.2"
#define PEER6	"fd00::2"
#define ANY4	"10.0.0.4"	/* allowed by a rule without ports */
#define ANY6	"fd00::4"
#define FZ_ID_ANY	(BH_ID_WORKLOAD_BASE + 2)
#define FZ_RULE_ANY	22u

#define FZ_MAC		((const __u8 *)"\x02\0\0\0\0\x01")
#define FZ_OTHER_MAC	((const __u8 *)"\x02\0\0\0\0\x07")
#define FZ_LL6		"fe80::ff:fe00:1"	/* EUI-64 link-local of FZ_MAC */

#define FZ_DEFAULT_SEED	0x62756c6bULL
#define FZ_BUF		(PKT_MAX + 64)
#define FZ_EXAMPLES	3	/* violations printed per (program, kind) */
#define FZ_NSTAT	(2 * BH_R_MAX)	/* a slot's stats: [direction * BH_R_MAX + reason] */

enum fz_prog { P_XDP_EG = 0, P_TC_EG, P_TC_IN, P_NR };
static const char *const prog_name[P_NR] = { "xdp/egress", "tc/egress", "tc/ingress" };
static const __u8 prog_dir[P_NR] = { BH_DIR_EGRESS, BH_DIR_EGRESS, BH_DIR_INGRESS };

struct fz {
	char pin_dir[256];
	struct bulkhead_xdp *xdp;
	struct bulkhead_tc *tc;
	int workloads, ipcache, policy, stats, counters, l2;
	int prog[P_NR];
	__u64 seed, rng;
	unsigned int scale;
	bool trace;		/* BH_FUZZ_TRACE: every run, for debugging */
	struct or_model *m;
	__u64 last_pk[FZ_NSTAT], last_by[FZ_NSTAT];	/* stats after the last run */
	__u64 base_pk[FZ_NSTAT];			/* stats when the suite opened */
	/* totals */
	__u64 runs, refused, passed[P_NR], reason[BH_R_MAX];
	__u64 ok_why[OR_WHY_NR];
	__u64 violations, viol_kind[P_NR][OR_WHY_NR], counting_errors;
};

/* -------------------------------------------------------------- random */
static __u64 rnd(struct fz *z)
{
	__u64 x = (z->rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static __u32 rn(struct fz *z, __u32 n)
{
	return n ? (__u32)(rnd(z) % n) : 0;
}

#define PICK(z, arr) ((arr)[rn((z), sizeof(arr) / sizeof((arr)[0]))])

static const char *const pool4[] = {
	WL4, PEER4, "192.0.2.9", "0.0.0.0", "255.255.255.255", "10.0.0.3", "127.0.0.1",
	"224.0.0.1", "10.1.2.3", "10.0.0.0", ANY4,
};
static const char *const pool6[] = {
	WL6, PEER6, "2001:db8::9", "::", "fe80::1", "ff02::1", "::ffff:10.0.0.1",
	"::ffff:10.0.0.2", "::1", "fd00::1:0", "fe80::ffff:10.0.0.1", ANY6,
};
static const __u16 ports[] = { FZ_PORT, FZ_PORT, 444, 442, 80, 53, 0, 65535, 40000 };
static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP,
			       IPPROTO_ICMPV6, 47, 0, 255 };
static const __u8 ext_types[] = { 0, 43, 44, 51, 60 };
static const __u8 vals[] = { 0, 1, 2, 4, 5, 6, 8, 0x0f, 0x10, 0x11, 0x2c, 0x3a, 0x40, 0x44, 0x45,
			     0x46, 0x4f, 0x50, 0x5f, 0x60, 0x7f, 0x80, 0x86, 0xdd, 0xf0, 0xfe, 0xff };
static const __u16 ethertypes[] = { 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x9100, 0x88cc,
				    0x0000, 0xffff, 0x05dc, 0x8035, 0x0801 };

/* ---------------------------------------------------------------- setup */
static int ip_of(const char *s, struct bh_ip *ip, struct or_addr *oa)
{
	memset(ip, 0, sizeof(*ip));
	memset(oa, 0, sizeof(*oa));
	if (inet_pton(AF_INET, s, &ip->addr[12]) == 1) {
		ip->family = oa->family = 4;
		ip->addr[10] = ip->addr[11] = 0xff;
		memcpy(&oa->a[12], &ip->addr[12], 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->addr) != 1)
		return -EINVAL;
	ip->family = oa->family = 6;
	memcpy(oa->a, ip->addr, 16);
	return 0;
}

static int add_ipcache(struct fz *z, const char *s, int plen, __u32 id)
{
	struct bh_ipcache_key k = { 0 };
	struct bh_ipcache_val v = { .identity = id };
	struct or_addr oa;
	struct bh_ip ip;

	if (ip_of(s, &ip, &oa))
		return -EINVAL;
	memcpy(k.addr, ip.addr, 16);
	k.prefixlen = ip.family == 4 ? 96 + plen : plen;
	return bpf_map_update_elem(z->ipcache, &k, &v, BPF_ANY) ? -errno : 0;
}

static int put_rule(int fd, __u32 plen, __u8 dir, __u32 id, __u8 proto, __u16 port, __u8 verdict,
		    __u32 rule)
{
	struct bh_policy_key k = { .prefixlen = plen, .dir = dir, .proto = proto };
	struct bh_policy_val v = { .verdict = verdict, .audit_verdict = verdict,
				   .rule_id = rule, .audit_rule_id = rule };

	k.identity[0] = id >> 24;
	k.identity[1] = id >> 16;
	k.identity[2] = id >> 8;
	k.identity[3] = id;
	k.port[0] = port >> 8;
	k.port[1] = port & 0xff;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/* Isolated both ways; egress TCP to the peer's port 443, and anything
 * without naming a protocol to the any-peer. */
static int install_policy(struct fz *z)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	__u32 slot = FZ_SLOT;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bh_fz_policy", sizeof(struct bh_policy_key),
			    sizeof(struct bh_policy_val), 16, &o);
	if (fd < 0)
		return -errno;
	err = put_rule(fd, 8, BH_DIR_EGRESS, 0, 0, 0, BH_PV_DEFAULT_DENY, 0);
	if (!err)
		err = put_rule(fd, 8, BH_DIR_INGRESS, 0, 0, 0, BH_PV_DEFAULT_DENY, 0);
	if (!err)
		err = put_rule(fd, 64, BH_DIR_EGRESS, FZ_ID_PEER, IPPROTO_TCP, FZ_PORT,
			       BH_PV_ALLOW, FZ_RULE);
	if (!err)
		err = put_rule(fd, 40, BH_DIR_EGRESS, FZ_ID_ANY, 0, 0, BH_PV_ALLOW, FZ_RULE_ANY);
	if (!err && bpf_map_update_elem(z->policy, &slot, &fd, BPF_ANY))
		err = -errno;
	close(fd);	/* the outer map holds it */
	return err;
}

static int set_workload(struct fz *z)
{
	struct bh_workload w = { .slot = FZ_SLOT, .identity = FZ_ID_WL, .mode = BH_MODE_ENFORCE,
				 .hook = BH_HOOK_XDP, .nr_ips = 2 };
	__u32 ifindex = FZ_IFINDEX;

	if (ip_of(WL4, &w.ips[0], &z->m->own[0]) || ip_of(WL6, &w.ips[1], &z->m->own[1]))
		return -EINVAL;
	z->m->nr_own = 2;
	if (bpf_map_update_elem(z->workloads, &ifindex, &w, BPF_ANY))
		return -errno;
	/* bound to FZ_MAC, not a router; the model knows the same */
	struct bh_l2 l2 = { .flags = BH_L2_F_BOUND };
	__u32 slot = FZ_SLOT;

	memcpy(l2.mac, FZ_MAC, 6);
	memcpy(z->m->mac, FZ_MAC, 6);
	z->m->mac_bound = true;
	return bpf_map_update_elem(z->l2, &slot, &l2, BPF_ANY) ? -errno : 0;
}

/* The slot's entries: pk[dir * BH_R_MAX + reason] */
static int read_stats(struct fz *z, __u64 pk[FZ_NSTAT], __u64 by[FZ_NSTAT])
{
	__u64 v[2];
	__u32 i;
	int err;

	for (i = 0; i < FZ_NSTAT; i++) {
		err = bh_percpu_sum(z->stats, BH_STATS_INDEX(FZ_SLOT, 0, 0) + i, 2, v);
		if (err)
			return err;
		pk[i] = v[0];
		by[i] = v[1];
	}
	return 0;
}

static void fz_close(struct fz *z)
{
	bulkhead_tc__destroy(z->tc);
	bulkhead_xdp__destroy(z->xdp);
	if (z->pin_dir[0])
		bt_bpffs_remove(z->pin_dir);
	free(z->m);
	free(z);
}

static int fz_open(struct fz **out, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bh_ip ip;
	struct fz *z;
	int err;

	*out = NULL;
	z = calloc(1, sizeof(*z));
	if (!z || !(z->m = calloc(1, sizeof(*z->m)))) {
		free(z);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	err = bt_bpffs_dir("fuzz", z->pin_dir, sizeof(z->pin_dir));
	if (err) {
		z->pin_dir[0] = 0;
		snprintf(why, len, "no bpffs directory: %s", strerror(-err));
		goto fail;
	}
	oo.pin_root_path = z->pin_dir;
	z->xdp = bulkhead_xdp__open_opts(&oo);
	z->tc = bulkhead_tc__open_opts(&oo);
	if (!z->xdp || !z->tc) {
		err = -EINVAL;
		snprintf(why, len, "cannot open the BPF objects: %s", strerror(errno));
		goto fail;
	}
	err = bulkhead_xdp__load(z->xdp);	/* creates the pins; TC reuses them */
	if (!err)
		err = bulkhead_tc__load(z->tc);
	if (err) {
		snprintf(why, len, "cannot load the BPF programs: %s", strerror(-err));
		goto fail;
	}
	z->workloads = bpf_map__fd(z->xdp->maps.bh_workloads_v1);
	z->ipcache = bpf_map__fd(z->xdp->maps.bh_ipcache_v1);
	z->policy = bpf_map__fd(z->xdp->maps.bh_policy_v1);
	z->stats = bpf_map__fd(z->xdp->maps.bh_stats_v3);
	z->counters = bpf_map__fd(z->xdp->maps.bh_counters_v1);
	z->l2 = bpf_map__fd(z->xdp->maps.bh_l2_v1);
	z->prog[P_XDP_EG] = bpf_program__fd(z->xdp->progs.bh_xdp_from_container);
	z->prog[P_TC_EG] = bpf_program__fd(z->tc->progs.bh_tc_from_container);
	z->prog[P_TC_IN] = bpf_program__fd(z->tc->progs.bh_tc_to_container);
	if ((err = set_workload(z)) || (err = install_policy(z)) ||
	    (err = add_ipcache(z, PEER4, 32, FZ_ID_PEER)) ||
	    (err = add_ipcache(z, PEER6, 128, FZ_ID_PEER)) ||
	    (err = add_ipcache(z, WL4, 32, FZ_ID_WL)) ||
	    (err = add_ipcache(z, WL6, 128, FZ_ID_WL)) ||
	    (err = add_ipcache(z, "10.1.0.0", 16, BH_ID_CIDR_BASE)) ||
	    (err = add_ipcache(z, ANY4, 32, FZ_ID_ANY)) ||
	    (err = add_ipcache(z, ANY6, 128, FZ_ID_ANY)) ||
	    (err = ip_of(ANY4, &ip, &z->m->any4)) || (err = ip_of(ANY6, &ip, &z->m->any6)) ||
	    (err = ip_of(PEER4, &ip, &z->m->peer4)) || (err = ip_of(PEER6, &ip, &z->m->peer6)) ||
	    (err = read_stats(z, z->last_pk, z->last_by))) {
		snprintf(why, len, "map setup: %s", strerror(-err));
		goto fail;
	}
	memcpy(z->base_pk, z->last_pk, sizeof(z->base_pk));
	z->m->allowed_port = FZ_PORT;
	*out = z;
	return 0;
fail:
	fz_close(z);
	return err;
}

/* -------------------------------------------------------------- running */
static bool reason_passes(__u32 r)
{
	switch (r) {
	case BH_R_POLICY_ALLOW:
	case BH_R_NOT_ISOLATED:
	case BH_R_ESTABLISHED:
	case BH_R_LEARN:
	case BH_R_FORENSICS:
	case BH_R_ARP:
	case BH_R_ND:
		return true;
	default:
		return false;
	}
}

static void hexdump(const __u8 *f, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x%s", f[i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
	if (!len)
		printf("(empty)\n");
}

static void describe(const struct or_pkt *p)
{
	char s[INET6_ADDRSTRLEN] = "?", d[INET6_ADDRSTRLEN] = "?";

	if (p->kind != OR_IP && p->kind != OR_ARP) {
		printf("  oracle: %s (%s)\n", p->kind == OR_MALFORMED ? "malformed" : "not ip/arp",
		       p->why);
		return;
	}
	inet_ntop(p->src.family == 4 ? AF_INET : AF_INET6,
		  p->src.family == 4 ? &p->src.a[12] : p->src.a, s, sizeof(s));
	inet_ntop(p->dst.family == 4 ? AF_INET : AF_INET6,
		  p->dst.family == 4 ? &p->dst.a[12] : p->dst.a, d, sizeof(d));
	printf("  oracle: %s %s -> %s proto %u ports %u -> %u frag %d id %#x icmp %u/%u%s%s\n",
	       p->kind == OR_ARP ? "arp" : (p->src.family == 4 ? "ipv4" : "ipv6"), s, d, p->proto,
	       p->sport, p->dport, p->frag, p->frag_id, p->icmp_type, p->icmp_code,
	       p->icmp_error ? (p->quote.valid ? " icmp-error(quote ok)" : " icmp-error") : "",
	       p->nd ? " nd" : "");
	if (p->icmp_error && p->quote.valid) {
		inet_ntop(p->quote.src.family == 4 ? AF_INET : AF_INET6,
			  p->quote.src.family == 4 ? &p->quote.src.a[12] : p->quote.src.a, s,
			  sizeof(s));
		inet_ntop(p->quote.dst.family == 4 ? AF_INET : AF_INET6,
			  p->quote.dst.family == 4 ? &p->quote.dst.a[12] : p->quote.dst.a, d,
			  sizeof(d));
		printf("  quote: %s -> %s proto %u ports %u -> %u\n", s, d, p->quote.proto,
		       p->quote.sport, p->quote.dport);
	}
}

/*
 * Run one frame through one program and check it. Returns 1 pass, 0 drop,
 * -1 the kernel refused the frame (too short for its skb checks).
 */
static int fz_run1(struct fz *z, enum fz_prog p, const __u8 *f, size_t len, const char *what)
{
	__u64 pk[FZ_NSTAT], by[FZ_NSTAT], created0[2] = { 0 }, created1[2] = { 0 };
	__u32 ret = 0, i, hit = FZ_NSTAT, nhit = 0;
	bool pass, xdp = p == P_XDP_EG;
	struct or_pkt op;
	enum or_why why;
	int err;

	bh_percpu_sum(z->counters, BH_C_CT_CREATE, 1, created0);
	err = bt_run(z->prog[p], f, len, &ret);
	if (err) {
		z->refused++;
		return -1;
	}
	z->runs++;
	if (ret != (xdp ? XDP_PASS : TC_ACT_OK) && ret != (xdp ? XDP_DROP : TC_ACT_SHOT)) {
		printf("COUNTING: %s (%s): return code %u is neither pass nor drop\n",
		       prog_name[p], what, ret);
		z->counting_errors++;
	}
	pass = ret == (xdp ? XDP_PASS : TC_ACT_OK);

	/* (d) exactly one entry counted, the program's direction, with the
	 * frame's bytes */
	if (read_stats(z, pk, by)) {
		z->counting_errors++;
	} else {
		for (i = 0; i < FZ_NSTAT; i++) {
			if (pk[i] == z->last_pk[i])
				continue;
			nhit++;
			hit = i;
			if (pk[i] - z->last_pk[i] != 1 || by[i] - z->last_by[i] != len)
				nhit = 99;
		}
		if (nhit != 1 || reason_passes(hit % BH_R_MAX) != pass ||
		    hit / BH_R_MAX != prog_dir[p]) {
			printf("COUNTING: %s (%s): %u entries moved (last: direction %u reason %u),"
			       " verdict %s\n", prog_name[p], what, nhit, hit / BH_R_MAX,
			       hit % BH_R_MAX, pass ? "pass" : "drop");
			z->counting_errors++;
		} else {
			z->reason[hit % BH_R_MAX]++;
		}
		memcpy(z->last_pk, pk, sizeof(pk));
		memcpy(z->last_by, by, sizeof(by));
	}

	/* (a)-(c) against the model */
	or_parse(f, len, &op);
	why = or_may_pass(z->m, &op, prog_dir[p]);
	if (pass)
		or_observe(z->m, &op);	/* a first fragment counts once it passed */
	/* (e) state only from a packet that opens a flow */
	bh_percpu_sum(z->counters, BH_C_CT_CREATE, 1, created1);
	if (created1[0] != created0[0] && !or_opens_flow(&op)) {
		z->violations++;
		if (z->viol_kind[p][OR_NO_STATE]++ < FZ_EXAMPLES) {
			printf("VIOLATION (%s): %s, %s\n", or_why_name(OR_NO_STATE), prog_name[p],
			       what);
			describe(&op);
		}
	}
	if (z->trace) {
		printf("TRACE %s %s %s reason %u why %s\n", prog_name[p], what,
		       pass ? "PASS" : "drop", hit, or_why_name(why));
		describe(&op);
	}
	if (pass) {
		z->passed[p]++;
		if (or_why_ok(why)) {
			z->ok_why[why]++;
			or_passed(z->m, &op, why, false);
		} else {
			z->violations++;
			or_passed(z->m, &op, why, hit == BH_R_POLICY_ALLOW);
			if (z->viol_kind[p][why]++ < FZ_EXAMPLES) {
				printf("VIOLATION (%s): %s passed %s, %zu bytes, bh reason %s\n",
				       or_why_name(why), prog_name[p], what, len,
				       bh_reason_name((enum bh_reason)hit));
				describe(&op);
				if (op.frag == OR_FRAG_LATER) {
					const struct or_frag_rec *fr = or_frag_find(z->m, &op);

					printf("  model: first fragment %s, ports %u -> %u\n",
					       fr ? "seen" : "not seen", fr ? fr->sport : 0,
					       fr ? fr->dport : 0);
				}
				hexdump(f, len);
			}
		}
	}
	return pass;
}

/* Through the three programs: container egress (XDP, TC), ingress (TC). */
static void fz_run(struct fz *z, const __u8 *f, size_t len, const char *what)
{
	int p;

	for (p = 0; p < P_NR; p++)
		fz_run1(z, (enum fz_prog)p, f, len, what);
}

/* ----------------------------------------------------------- frame tools */
/* Frames are the workload's by default at layer 2: source and destination
 * MAC FZ_MAC, so that egress and ingress runs of one frame both get past
 * the MAC checks; the L2 tests and mutations choose otherwise. */
static int build(const struct pkt_opts *in, __u8 *f)
{
	struct pkt_opts o = *in;
	int n;

	if (!o.smac)
		o.smac = FZ_MAC;
	if (!o.dmac)
		o.dmac = FZ_MAC;
	n = pkt_build(&o, f, PKT_MAX);

	assert_true(n > 0);
	return n;
}

/* Insert a 4-byte VLAN tag after the MAC addresses. */
static size_t add_tag(__u8 *f, size_t len, __u16 tpid, __u16 tci)
{
	if (len < 12 || len + 4 > FZ_BUF)
		return len;
	memmove(f + 16, f + 12, len - 12);
	f[12] = tpid >> 8;
	f[13] = tpid & 0xff;
	f[14] = tci >> 8;
	f[15] = tci & 0xff;
	return len + 4;
}

/* Make the L3 length fields agree with the frame, so mutations reach deeper. */
static void fix_lengths(__u8 *f, size_t len)
{
	__u16 t = (__u16)(f[12] << 8 | f[13]);
	size_t n;

	if (t == 0x0800 && len >= 34) {
		n = len - 14;
		f[16] = n >> 8;
		f[17] = n & 0xff;
	} else if (t == 0x86dd && len >= 54) {
		n = len - 54;
		f[18] = n >> 8;
		f[19] = n & 0xff;
	}
}

static void put_addr(struct fz *z, __u8 *f, size_t len, bool src)
{
	__u16 t = (__u16)(f[12] << 8 | f[13]);
	__u8 a[16];

	if (t == 0x0800 && len >= 34 && inet_pton(AF_INET, PICK(z, pool4), a) == 1)
		memcpy(f + (src ? 26 : 30), a, 4);
	else if (t == 0x86dd && len >= 54 && inet_pton(AF_INET6, PICK(z, pool6), a) == 1)
		memcpy(f + (src ? 22 : 38), a, 16);
	else if (t == 0x0806 && len >= 42 && inet_pton(AF_INET, PICK(z, pool4), a) == 1)
		memcpy(f + (src ? 28 : 38), a, 4);
}

/* Offset of the L4 header for an unfragmented IPv4/IPv6 frame, or 0. */
static size_t l4_off(const __u8 *f, size_t len)
{
	__u16 t;

	if (len < 14)
		return 0;
	t = (__u16)(f[12] << 8 | f[13]);
	if (t == 0x0800 && len >= 34)
		return 14 + (size_t)(f[14] & 0xf) * 4;
	if (t == 0x86dd)
		return 54;
	return 0;
}

/* One structure-aware or blind mutation. */
static size_t mutate(struct fz *z, __u8 *f, size_t len)
{
	size_t l4 = l4_off(f, len);
	__u16 et;

	switch (rn(z, 10)) {
	case 0:		/* any byte, interesting value */
		if (len)
			f[rn(z, (__u32)len)] = PICK(z, vals);
		break;
	case 1:		/* any byte, random */
		if (len)
			f[rn(z, (__u32)len)] = (__u8)rnd(z);
		break;
	case 2:		/* an L3 header byte */
		if (len > 14)
			f[14 + rn(z, (__u32)(len - 14 < 48 ? len - 14 : 48))] =
				rn(z, 2) ? PICK(z, vals) : (__u8)rnd(z);
		break;
	case 3:		/* an L4 header byte */
		if (l4 && l4 < len)
			f[l4 + rn(z, (__u32)(len - l4 < 24 ? len - l4 : 24))] =
				rn(z, 2) ? PICK(z, vals) : (__u8)rnd(z);
		break;
	case 4:		/* truncate */
		len = rn(z, (__u32)len + 1);
		break;
	case 5:		/* trailing bytes, lengths fixed up or not */
		et = (__u16)rn(z, 64);
		if (len + et <= FZ_BUF) {
			for (size_t i = 0; i < et; i++)
				f[len + i] = (__u8)rnd(z);
			len += et;
		}
		if (rn(z, 2))
			fix_lengths(f, len);
		break;
	case 6:		/* VLAN tags */
		len = add_tag(f, len, rn(z, 4) ? PICK(z, ((const __u16[]){ 0x8100, 0x88a8, 0x9100 }))
					       : (__u16)rnd(z), (__u16)rnd(z));
		break;
	case 7:		/* ethertype */
		if (len >= 14) {
			et = PICK(z, ethertypes);
			f[12] = et >> 8;
			f[13] = et & 0xff;
		}
		break;
	case 8:		/* addresses from the pools */
		put_addr(z, f, len, rn(z, 2));
		break;
	default:	/* lengths made consistent */
		fix_lengths(f, len);
		break;
	}
	return len;
}

/* A well-formed frame of some kind, mostly close to the allowed flow. */
static int gen_base(struct fz *z, __u8 *f)
{
	static struct pkt_opts inner;	/* quoted by ICMP errors */
	struct pkt_opts o = { 0 };
	int fam = rn(z, 2) ? 4 : 6, i;
	const char *own = fam == 4 ? WL4 : WL6, *peer = fam == 4 ? PEER4 : PEER6;
	bool in = rn(z, 3) == 0;	/* shaped as ingress (peer -> workload) */

	o.family = fam;
	o.src = in ? peer : own;
	o.dst = in ? own : peer;
	o.proto = IPPROTO_TCP;
	o.sport = in ? FZ_PORT : (__u16)(40000 + rn(z, 8));
	o.dport = in ? (__u16)(40000 + rn(z, 8)) : FZ_PORT;
	o.tcp_flags = PICK(z, ((const __u8[]){ 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x00, 0xff }));
	switch (rn(z, 12)) {
	case 0:		/* other protocol, other port */
		o.proto = PICK(z, protos);
		o.sport = PICK(z, ports);
		o.dport = PICK(z, ports);
		o.icmp_type = (__u8)rnd(z);
		o.icmp_id = (__u16)rnd(z);
		break;
	case 1:		/* addresses from the pools */
		o.src = fam == 4 ? PICK(z, pool4) : PICK(z, pool6);
		o.dst = fam == 4 ? PICK(z, pool4) : PICK(z, pool6);
		break;
	case 2:		/* ARP */
		o.arp = true;
		o.arp_op = (__u16)(1 + rn(z, 2));
		o.src = PICK(z, pool4);
		o.dst = PICK(z, pool4);
		break;
	case 3:		/* neighbour discovery / MLD */
		o.family = 6;
		o.src = PICK(z, pool6);
		o.dst = PICK(z, pool6);
		o.proto = IPPROTO_ICMPV6;
		o.icmp_type = PICK(z, ((const __u8[]){ 133, 134, 135, 136, 137, 143, 128, 1 }));
		break;
	case 4:		/* ICMP error quoting a flow of the allowed kind */
		memset(&inner, 0, sizeof(inner));
		inner.family = fam;
		inner.proto = IPPROTO_TCP;
		inner.src = rn(z, 2) ? own : peer;
		inner.dst = inner.src == own ? peer : own;
		inner.sport = inner.src == own ? (__u16)(40000 + rn(z, 8)) : FZ_PORT;
		inner.dport = inner.src == own ? FZ_PORT : (__u16)(40000 + rn(z, 8));
		o.proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		o.icmp_type = fam == 4 ? PICK(z, ((const __u8[]){ 3, 11, 12, 4, 5 }))
				       : PICK(z, ((const __u8[]){ 1, 2, 3, 4, 128 }));
		o.icmp_code = (__u8)rn(z, 5);
		o.inner = &inner;
		o.src = rn(z, 2) ? o.src : (fam == 4 ? PICK(z, pool4) : PICK(z, pool6));
		o.dst = rn(z, 2) ? o.dst : (fam == 4 ? PICK(z, pool4) : PICK(z, pool6));
		break;
	case 5:		/* IPv6 extension chain, 0..12 headers */
		o.family = 6;
		o.src = in ? PEER6 : WL6;
		o.dst = in ? WL6 : PEER6;
		o.n_ext6 = (__u8)rn(z, PKT_EXT6_MAX + 1);
		for (i = 0; i < o.n_ext6; i++)
			o.ext6[i] = PICK(z, ext_types);
		o.frag_off = rn(z, 3) ? 0 : (__u16)rn(z, 16);
		o.more_frags = rn(z, 2);
		o.frag_id = rn(z, 4);
		break;
	case 6:		/* IPv4 fragment */
		o.frag_off = rn(z, 2) ? 0 : (__u16)rn(z, 16);
		o.more_frags = rn(z, 2);
		o.frag_id = rn(z, 4);
		o.payload = (__u16)(8 * rn(z, 8));
		o.family = 4;
		o.src = in ? PEER4 : WL4;
		o.dst = in ? WL4 : PEER4;
		break;
	case 7:		/* IPv4 options */
		o.family = 4;
		o.src = in ? PEER4 : WL4;
		o.dst = in ? WL4 : PEER4;
		o.ip_opt_words = (__u8)rn(z, 11);
		break;
	case 8:		/* VLAN tag from the builder */
		o.vlan = (__u16)(1 + rn(z, 4094));
		break;
	default:	/* the allowed flow (or its reply) with a payload */
		o.payload = (__u16)rn(z, 64);
		break;
	}
	return build(&o, f);
}

/* ---------------------------------------------------------------- tests */
static struct fz *Z;

static void expect_quiet(struct fz *z, __u64 v0, __u64 c0)
{
	if (z->violations != v0 || z->counting_errors != c0) {
		print_error("%llu violations, %llu counting errors (seed %#llx)\n",
			    (unsigned long long)(z->violations - v0),
			    (unsigned long long)(z->counting_errors - c0),
			    (unsigned long long)z->seed);
		fail();
	}
}

#define BEGIN(z) __u64 v0_ = (z)->violations, c0_ = (z)->counting_errors
#define END(z) expect_quiet((z), v0_, c0_)

/* The flows the later tests rely on: opened on purpose, and they work. */
static void test_open_flows(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int len, p;
	BEGIN(z);

	for (p = 0; p < 2; p++) {
		struct pkt_opts syn = { .family = p ? 6 : 4, .src = p ? WL6 : WL4,
					.dst = p ? PEER6 : PEER4, .proto = IPPROTO_TCP,
					.sport = 40000, .dport = FZ_PORT, .tcp_flags = 0x02 };
		struct pkt_opts ack = syn;

		len = build(&syn, f);
		assert_int_equal(fz_run1(z, P_XDP_EG, f, (size_t)len, "allowed syn"), 1);
		ack.src = syn.dst;
		ack.dst = syn.src;
		ack.sport = FZ_PORT;
		ack.dport = 40000;
		ack.tcp_flags = 0x12;
		len = build(&ack, f);
		assert_int_equal(fz_run1(z, P_TC_IN, f, (size_t)len, "reply syn-ack"), 1);
		syn.sport = 40001;	/* a second flow, through TC this time */
		len = build(&syn, f);
		assert_int_equal(fz_run1(z, P_TC_EG, f, (size_t)len, "allowed syn (tc)"), 1);
		syn.dport = FZ_PORT + 1;
		len = build(&syn, f);
		assert_int_equal(fz_run1(z, P_XDP_EG, f, (size_t)len, "other port"), 0);
	}
	END(z);
}

/* Cutting a well-formed frame anywhere leaves it inconsistent: drop. */
static void test_truncation(void **state)
{
	struct fz *z = *state;
	static const struct pkt_opts q4 = { .family = 4, .src = WL4, .dst = PEER4,
					    .proto = IPPROTO_TCP, .sport = 40000,
					    .dport = FZ_PORT };
	static const struct pkt_opts q6 = { .family = 6, .src = WL6, .dst = PEER6,
					    .proto = IPPROTO_TCP, .sport = 40000,
					    .dport = FZ_PORT };
	const struct pkt_opts tmpl[] = {
		{ .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_TCP, .sport = 40000,
		  .dport = FZ_PORT, .tcp_flags = 0x10, .payload = 12 },
		{ .family = 6, .src = WL6, .dst = PEER6, .proto = IPPROTO_TCP, .sport = 40000,
		  .dport = FZ_PORT, .tcp_flags = 0x10, .payload = 12 },
		{ .family = 4, .src = PEER4, .dst = WL4, .proto = IPPROTO_TCP, .sport = FZ_PORT,
		  .dport = 40000, .tcp_flags = 0x10, .ip_opt_words = 4 },
		{ .family = 6, .src = PEER6, .dst = WL6, .proto = IPPROTO_TCP, .sport = FZ_PORT,
		  .dport = 40000, .tcp_flags = 0x10, .ext6 = { 0, 43, 51, 60 }, .n_ext6 = 4 },
		{ .family = 6, .src = WL6, .dst = PEER6, .proto = IPPROTO_TCP, .sport = 40000,
		  .dport = FZ_PORT, .ext6 = { 60, 44 }, .n_ext6 = 2, .more_frags = true,
		  .frag_id = 77, .payload = 16 },
		{ .family = 4, .src = PEER4, .dst = WL4, .proto = IPPROTO_ICMP, .icmp_type = 3,
		  .icmp_code = 4, .inner = &q4 },
		{ .family = 6, .src = PEER6, .dst = WL6, .proto = IPPROTO_ICMPV6, .icmp_type = 2,
		  .inner = &q6 },
		{ .family = 6, .src = "fe80::1", .dst = "ff02::1", .proto = IPPROTO_ICMPV6,
		  .icmp_type = 135 },
		{ .arp = true, .src = WL4, .dst = PEER4 },
		{ .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_UDP, .sport = 1,
		  .dport = 53, .payload = 8 },
		{ .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_SCTP, .sport = 1,
		  .dport = FZ_PORT },
	};
	__u8 f[FZ_BUF];
	size_t t, cut;
	int len, p, r;
	__u64 wrong = 0, n = 0;
	BEGIN(z);

	for (t = 0; t < sizeof(tmpl) / sizeof(tmpl[0]); t++) {
		len = build(&tmpl[t], f);
		for (cut = 0; cut < (size_t)len; cut++) {
			for (p = 0; p < P_NR; p++) {
				r = fz_run1(z, (enum fz_prog)p, f, cut, "truncated");
				n += r >= 0;
				if (r == 1 && wrong++ < 5)
					print_error("template %zu cut at %zu passed %s\n", t, cut,
						    prog_name[p]);
			}
		}
	}
	print_message("truncation: %llu runs, %llu passed\n", (unsigned long long)n,
		      (unsigned long long)wrong);
	assert_int_equal(wrong, 0);
	END(z);
}

/* Every header byte of a few templates set to interesting values. */
static void test_header_bytes(void **state)
{
	struct fz *z = *state;
	static const struct pkt_opts q4 = { .family = 4, .src = WL4, .dst = PEER4,
					    .proto = IPPROTO_TCP, .sport = 40000,
					    .dport = FZ_PORT };
	const struct pkt_opts tmpl[] = {
		{ .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_TCP, .sport = 40002,
		  .dport = FZ_PORT, .tcp_flags = 0x02, .payload = 4 },
		{ .family = 6, .src = WL6, .dst = PEER6, .proto = IPPROTO_TCP, .sport = 40002,
		  .dport = FZ_PORT, .tcp_flags = 0x02, .ext6 = { 0, 44 }, .n_ext6 = 2 },
		{ .family = 4, .src = PEER4, .dst = WL4, .proto = IPPROTO_ICMP, .icmp_type = 3,
		  .inner = &q4 },
		{ .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_TCP, .sport = 40003,
		  .dport = FZ_PORT, .more_frags = true, .frag_id = 9, .payload = 8 },
		{ .arp = true, .src = WL4, .dst = PEER4 },
	};
	__u8 f[FZ_BUF], orig[FZ_BUF];
	size_t t, off, v, hdr;
	int len;
	BEGIN(z);

	for (t = 0; t < sizeof(tmpl) / sizeof(tmpl[0]); t++) {
		len = build(&tmpl[t], orig);
		hdr = (size_t)len < 14 + 80 ? (size_t)len : 14 + 80;
		for (off = 12; off < hdr; off++) {
			for (v = 0; v < sizeof(vals) + 2; v++) {
				memcpy(f, orig, (size_t)len);
				f[off] = v < sizeof(vals) ? vals[v] : (__u8)(orig[off] ^ (v == sizeof(vals) ? 1 : 0x80));
				fz_run(z, f, (size_t)len, "header byte");
			}
		}
	}
	END(z);
}

/* IPv6 extension chains of every length up to and past the bound. */
static void test_ext_chains(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int n, k, i, len, r;
	BEGIN(z);

	for (n = 0; n <= PKT_EXT6_MAX; n++) {
		for (k = 0; k < 12; k++) {
			struct pkt_opts o = { .family = 6, .src = WL6, .dst = PEER6,
					      .proto = IPPROTO_TCP, .sport = 41000,
					      .dport = FZ_PORT, .tcp_flags = 0x02 };

			o.n_ext6 = (__u8)n;
			bool routing = false;

			for (i = 0; i < n; i++) {	/* no fragment header: all L4 is there */
				o.ext6[i] = PICK(z, ((const __u8[]){ 0, 43, 51, 60 }));
				routing |= o.ext6[i] == 43;
			}
			len = build(&o, f);
			r = fz_run1(z, P_XDP_EG, f, (size_t)len, "ext chain");
			/* a routing header is refused at any length */
			if (r != (n <= BH_IPV6_EXT_MAX && !routing)) {
				print_error("chain of %d: %s\n", n, r ? "passed" : "dropped");
				fail();
			}
			fz_run1(z, P_TC_EG, f, (size_t)len, "ext chain");
			fz_run1(z, P_TC_IN, f, (size_t)len, "ext chain");
			/* and with random bytes in the extension headers */
			for (i = 0; i < 4 && len > 54; i++)
				f[54 + rn(z, (__u32)(len - 54))] = (__u8)rnd(z);
			fz_run(z, f, (size_t)len, "ext chain mutated");
		}
	}
	END(z);
}

/* Tagged frames: single, double (QinQ), pre-standard, any inner type. */
static void test_vlan(void **state)
{
	struct fz *z = *state;
	static const __u16 tpid[] = { 0x8100, 0x88a8, 0x9100 };
	__u8 f[FZ_BUF];
	size_t len;
	int i, t, p, r;
	BEGIN(z);

	for (i = 0; i < 400; i++) {
		len = (size_t)gen_base(z, f);
		for (t = 0; t <= (int)rn(z, 3); t++)
			len = add_tag(f, len, PICK(z, tpid), (__u16)rnd(z));
		for (p = 0; p < P_NR; p++) {
			r = fz_run1(z, (enum fz_prog)p, f, len, "vlan");
			if (r == 1) {
				print_error("tagged frame passed %s\n", prog_name[p]);
				fail();
			}
		}
	}
	END(z);
}

/* Every source in the pools, every protocol: egress passes only own. */
static void test_spoof(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	size_t s, d, pr;
	int len;
	BEGIN(z);

	for (s = 0; s < sizeof(pool4) / sizeof(pool4[0]); s++) {
		struct pkt_opts a = { .arp = true, .src = pool4[s], .dst = PEER4 };

		len = build(&a, f);
		fz_run(z, f, (size_t)len, "arp sender");
		for (d = 0; d < sizeof(pool4) / sizeof(pool4[0]); d++) {
			for (pr = 0; pr < sizeof(protos); pr++) {
				struct pkt_opts o = { .family = 4, .src = pool4[s], .dst = pool4[d],
						      .proto = protos[pr], .sport = 40010,
						      .dport = FZ_PORT, .tcp_flags = 0x02,
						      .icmp_type = 8 };

				len = build(&o, f);
				fz_run(z, f, (size_t)len, "spoof v4");
			}
		}
	}
	for (s = 0; s < sizeof(pool6) / sizeof(pool6[0]); s++) {
		for (d = 0; d < sizeof(pool6) / sizeof(pool6[0]); d++) {
			for (pr = 0; pr < sizeof(protos) + 3; pr++) {
				struct pkt_opts o = { .family = 6, .src = pool6[s], .dst = pool6[d],
						      .proto = pr < sizeof(protos) ? protos[pr]
									   : IPPROTO_ICMPV6,
						      .sport = 40010, .dport = FZ_PORT,
						      .tcp_flags = 0x02,
						      .icmp_type = pr < sizeof(protos) ? 128
							: (__u8)(135 + pr - sizeof(protos)) };

				len = build(&o, f);
				fz_run(z, f, (size_t)len, "spoof v6");
			}
		}
	}
	END(z);
}

/* Datagrams whose fragments come in any order, ids reused and colliding. */
static void test_fragments(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int i, j, k, len, order[4];
	BEGIN(z);

	for (i = 0; i < 600; i++) {
		int fam = rn(z, 2) ? 4 : 6;
		bool allowed = rn(z, 2);
		__u32 id = rn(z, 6);
		struct pkt_opts fr[4];

		for (j = 0; j < 4; j++) {
			struct pkt_opts *o = &fr[j];

			memset(o, 0, sizeof(*o));
			o->family = fam;
			o->src = fam == 4 ? (rn(z, 8) ? WL4 : PICK(z, pool4))
					  : (rn(z, 8) ? WL6 : PICK(z, pool6));
			o->dst = fam == 4 ? PEER4 : PEER6;
			if (rn(z, 4) == 0) {	/* towards the workload */
				o->dst = o->src;
				o->src = fam == 4 ? PEER4 : PEER6;
			}
			o->proto = allowed ? IPPROTO_TCP : PICK(z, protos);
			o->sport = (__u16)(42000 + rn(z, 4));
			o->dport = allowed ? FZ_PORT : PICK(z, ports);
			o->frag_id = id;
			o->payload = (__u16)(8 * (1 + rn(z, 4)));
			o->frag_off = j == 0 ? 0 : (__u16)(j * 5);
			o->more_frags = j < 3;
			if (fam == 6) {
				o->ext6[0] = 44;
				o->n_ext6 = 1;
				if (rn(z, 4) == 0) {
					o->ext6[1] = 60;	/* options after the fragment header */
					o->n_ext6 = 2;
				}
			}
			order[j] = j;
		}
		for (j = 3; j > 0; j--) {	/* shuffle */
			k = (int)rn(z, (__u32)j + 1);
			int t = order[j];
			order[j] = order[k];
			order[k] = t;
		}
		for (j = 0; j < 4; j++) {
			len = build(&fr[order[j]], f);
			fz_run1(z, (enum fz_prog)rn(z, P_NR), f, (size_t)len, "fragment");
		}
		/* late repeats: after the first fragment was seen */
		len = build(&fr[1 + rn(z, 3)], f);
		fz_run(z, f, (size_t)len, "fragment repeat");
	}
	END(z);
}

/* Structure-aware mutation of generated frames, then blind random bytes. */
static void test_mutations(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	size_t len;
	unsigned int i, n = 6000 * z->scale, k, m;
	BEGIN(z);

	for (i = 0; i < n; i++) {
		len = (size_t)gen_base(z, f);
		m = rn(z, 4);
		for (k = 0; k < m; k++)
			len = mutate(z, f, len);
		fz_run(z, f, len, m ? "mutated" : "generated");
	}
	for (i = 0; i < 1500 * z->scale; i++) {
		len = rn(z, 160);
		for (k = 0; k < len; k++)
			f[k] = (__u8)rnd(z);
		if (len >= 14 && rn(z, 2)) {	/* get past the ethertype often */
			__u16 et = PICK(z, ethertypes);

			f[12] = et >> 8;
			f[13] = et & 0xff;
			if (rn(z, 2))
				fix_lengths(f, len);
		}
		fz_run(z, f, len, "random bytes");
	}
	END(z);
}

/*
 * Found by this fuzzer. An ICMP error whose quote names an open flow
 * passes as BH_R_ESTABLISHED whatever its outer destination: a workload
 * with one allowed connection can send ICMP errors, with any payload
 * after the 28-byte quote, to any address (here the world), although its
 * egress is isolated. Linux conntrack only relates an error whose outer
 * destination is the quoted packet's source (nf_conntrack_inet_error).
 */
static void test_bypass_icmp_error_relay(void **state)
{
	struct fz *z = *state;
	struct pkt_opts syn = { .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_TCP,
				.sport = 40100, .dport = FZ_PORT, .tcp_flags = 0x02 };
	/* what the peer sent the workload: the error "quotes" it */
	struct pkt_opts quoted = { .family = 4, .src = PEER4, .dst = WL4, .proto = IPPROTO_TCP,
				   .sport = FZ_PORT, .dport = 40100, .tcp_flags = 0x12 };
	struct pkt_opts relay = { .family = 4, .src = WL4, .dst = "192.0.2.9",
				  .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
				  .inner = &quoted, .payload = 512 };
	struct pkt_opts honest = relay;
	__u8 f[FZ_BUF];
	int len, p, r, bad = 0;

	len = build(&syn, f);
	assert_int_equal(fz_run1(z, P_XDP_EG, f, (size_t)len, "relay: open flow"), 1);
	honest.dst = PEER4;	/* the same error back to the peer: related, fine */
	honest.payload = 0;
	len = build(&honest, f);
	assert_int_equal(fz_run1(z, P_XDP_EG, f, (size_t)len, "relay: honest error"), 1);
	len = build(&relay, f);
	for (p = P_XDP_EG; p <= P_TC_EG; p++) {
		r = fz_run1(z, (enum fz_prog)p, f, (size_t)len, "relay: error to the world");
		if (r != 0) {
			print_error("%s passed an ICMP error from %s to %s quoting the open flow "
				    "%s:%u <-> %s:%u, %d bytes (want drop)\n", prog_name[p],
				    relay.src, relay.dst, WL4, 40100, PEER4, FZ_PORT, len);
			bad++;
		}
	}
	if (bad) {
		hexdump(f, (size_t)len);
		fail_msg("BYPASS: egress ICMP error relay past an isolated egress policy");
	}
}

/*
 * Found by this fuzzer. IPv6 packets carrying IPv4-mapped addresses
 * (::ffff:a.b.c.d, never valid on the wire, RFC 4291 2.5.5.2) are judged
 * as the IPv4 address: the ipcache gives an IPv6 destination the IPv4
 * peer's identity (a new flow passes as policy-allow), and conntrack
 * matches an IPv6 packet against an IPv4 flow (a reply passes into the
 * container as established).
 */
static void test_bypass_v4_mapped(void **state)
{
	struct fz *z = *state;
	struct pkt_opts v6 = { .family = 6, .src = WL6, .dst = "::ffff:10.0.0.2",
			       .proto = IPPROTO_TCP, .sport = 40200, .dport = FZ_PORT,
			       .tcp_flags = 0x02 };
	struct pkt_opts syn4 = { .family = 4, .src = WL4, .dst = PEER4, .proto = IPPROTO_TCP,
				 .sport = 40201, .dport = FZ_PORT, .tcp_flags = 0x02 };
	struct pkt_opts reply6 = { .family = 6, .src = "::ffff:10.0.0.2",
				   .dst = "::ffff:10.0.0.1", .proto = IPPROTO_TCP,
				   .sport = FZ_PORT, .dport = 40201, .tcp_flags = 0x12 };
	__u8 f[FZ_BUF];
	int len, r1, r2;

	len = build(&v6, f);
	r1 = fz_run1(z, P_XDP_EG, f, (size_t)len, "mapped: new flow");
	if (r1)
		hexdump(f, (size_t)len);
	len = build(&syn4, f);
	assert_int_equal(fz_run1(z, P_XDP_EG, f, (size_t)len, "mapped: ipv4 flow"), 1);
	len = build(&reply6, f);
	r2 = fz_run1(z, P_TC_IN, f, (size_t)len, "mapped: ipv6 reply to ipv4 flow");
	if (r2)
		hexdump(f, (size_t)len);
	if (r1 || r2)
		fail_msg("CONFUSION: ipv6 to ::ffff:10.0.0.2 egress %s; ipv6 'reply' to an "
			 "ipv4 flow ingress %s (want both dropped)", r1 ? "PASSED" : "dropped",
			 r2 ? "PASSED" : "dropped");
}

/*
 * Layer 2 attacks and their near misses: Ethernet and ARP sender MACs,
 * ND link-layer options, NA targets, router messages, sizes, and frames
 * to the workload with other MACs or destinations, in random mixes.
 */
static void test_l2(void **state)
{
	static const __u8 *const macs[] = {
		(const __u8 *)"\x02\0\0\0\0\x01", (const __u8 *)"\x02\0\0\0\0\x07",
		(const __u8 *)"\xff\xff\xff\xff\xff\xff", (const __u8 *)"\x33\x33\0\0\0\x01",
		(const __u8 *)"\x01\0\x5e\0\0\xfb", (const __u8 *)"\0\0\0\0\0\0",
	};
	static const char *const ll6[] = { FZ_LL6, "fe80::1", "fe80::ff:fe00:7", "::" };
	static const char *const dst6[] = { "ff02::1", "ff02::2", "ff02::1:ff00:1", "ff02::16",
					    WL6, PEER6, FZ_LL6, "fe80::2" };
	static const char *const dst4[] = { WL4, PEER4, "10.0.0.3", "255.255.255.255",
					    "224.0.0.251", "10.1.2.3" };
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int i, len;
	BEGIN(z);

	for (i = 0; i < 3000 * (int)z->scale; i++) {
		struct pkt_opts o = { 0 };
		const char *tg;

		o.smac = rn(z, 3) ? FZ_MAC : PICK(z, macs);
		o.dmac = rn(z, 3) ? FZ_MAC : PICK(z, macs);
		switch (rn(z, 5)) {
		case 0:		/* ARP, sender MAC and size varied */
			o.arp = true;
			o.arp_op = (__u16)(1 + rn(z, 2));
			o.src = rn(z, 4) ? WL4 : PICK(z, pool4);
			o.dst = PICK(z, dst4);
			o.lladdr = rn(z, 3) ? NULL : PICK(z, macs);
			o.payload = (__u16)(rn(z, 2) ? 0 : rn(z, 40));
			break;
		case 1:		/* ND of every type, options and targets varied */
		case 2:
			o.family = 6;
			o.proto = IPPROTO_ICMPV6;
			o.icmp_type = (__u8)(133 + rn(z, 5));
			o.hop_limit = rn(z, 6) ? 255 : 64;
			o.src = rn(z, 2) ? PICK(z, ll6) : (rn(z, 2) ? WL6 : PEER6);
			o.dst = PICK(z, dst6);
			tg = rn(z, 2) ? PICK(z, dst6) : PICK(z, ll6);
			o.nd_target = strchr(tg, ':') ? tg : NULL;
			o.lladdr = rn(z, 2) ? NULL : (rn(z, 2) ? FZ_MAC : PICK(z, macs));
			o.nd_extra = (__u8)(rn(z, 3) ? 0 : rn(z, 4));
			o.payload = (__u16)(rn(z, 5) ? 0 : 8 * rn(z, 4));
			if (rn(z, 8) == 0) {
				o.ext6[0] = PICK(z, ext_types);
				o.n_ext6 = 1;
			}
			break;
		case 3:		/* MLD reports of any length, and ICMP redirects */
			if (rn(z, 2)) {
				o.family = 6;
				o.proto = IPPROTO_ICMPV6;
				o.icmp_type = 143;
				o.hop_limit = 1;
				o.src = PICK(z, ll6);
				o.dst = "ff02::16";
				o.payload = (__u16)(20 * rn(z, 20));
			} else {
				o.family = 4;
				o.proto = IPPROTO_ICMP;
				o.icmp_type = 5;
				o.src = WL4;
				o.dst = PICK(z, dst4);
			}
			break;
		default:	/* ordinary traffic to odd destinations and MACs */
			o.family = rn(z, 2) ? 4 : 6;
			o.proto = rn(z, 2) ? IPPROTO_UDP : IPPROTO_TCP;
			o.src = o.family == 4 ? (rn(z, 2) ? WL4 : PEER4) : (rn(z, 2) ? WL6 : PEER6);
			o.dst = o.family == 4 ? PICK(z, dst4) : PICK(z, dst6);
			o.sport = (__u16)(40000 + rn(z, 4));
			o.dport = rn(z, 2) ? FZ_PORT : PICK(z, ports);
			o.tcp_flags = 0x02;
			break;
		}
		len = pkt_build(&o, f, PKT_MAX);
		if (len > 0)
			fz_run(z, f, (size_t)len, "l2");
	}
	END(z);
}

/* (d) over the whole run, then the figures. */
/* ICMP kinds: every query kind opened to the any-peer, then every ICMP
 * type back with the same identifier; only the reply of the request's
 * kind may pass, and only requests may create state (e). */
static void test_icmp_kinds(void **state)
{
	static const __u8 req4[] = { 8, 13, 15, 17 }, req6[] = { 128, 139 };
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int fam, k, t, len;
	BEGIN(z);

	for (fam = 4; fam <= 6; fam += 2) {
		const __u8 *req = fam == 4 ? req4 : req6;
		int nreq = fam == 4 ? 4 : 2;

		for (k = 0; k < nreq; k++) {
			__u16 id = (__u16)rnd(z);
			struct pkt_opts o = { .family = fam, .src = fam == 4 ? WL4 : WL6,
					      .dst = fam == 4 ? ANY4 : ANY6,
					      .proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
					      .icmp_type = req[k], .icmp_id = id };

			len = build(&o, f);
			assert_int_equal(fz_run1(z, k & 1 ? P_TC_EG : P_XDP_EG, f, (size_t)len,
						 "icmp query"), 1);
			o.src = fam == 4 ? ANY4 : ANY6;
			o.dst = fam == 4 ? WL4 : WL6;
			for (t = 0; t < 256; t++) {
				o.icmp_type = (__u8)t;
				o.hop_limit = t >= 133 && t <= 137 ? 255 : 0;
				len = build(&o, f);
				fz_run1(z, P_TC_IN, f, (size_t)len, "icmp type back");
			}
			/* and every type out, with the identifier bytes of a
			 * type/code, which must open nothing but queries */
			o.src = fam == 4 ? WL4 : WL6;
			o.dst = fam == 4 ? ANY4 : ANY6;
			for (t = 0; t < 256; t++) {
				o.icmp_type = (__u8)t;
				o.icmp_id = (__u16)(req[k] << 8);
				len = build(&o, f);
				fz_run1(z, P_XDP_EG, f, (size_t)len, "icmp type out");
			}
		}
	}
	END(z);
}

/* TCP handshake: every flag combination opens (or not) a flow to the
 * any-peer; the reply tells whether state was made (b) and (e) decide. */
static void test_handshake(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int fl, fam, len;
	BEGIN(z);

	for (fam = 4; fam <= 6; fam += 2) {
		for (fl = 0; fl < 64; fl++) {
			struct pkt_opts o = { .family = fam, .src = fam == 4 ? WL4 : WL6,
					      .dst = fam == 4 ? ANY4 : ANY6, .proto = IPPROTO_TCP,
					      .sport = (__u16)(20000 + fl), .dport = 8080,
					      .tcp_flags = (__u8)fl };

			len = build(&o, f);
			assert_int_equal(fz_run1(z, fl & 1 ? P_TC_EG : P_XDP_EG, f, (size_t)len,
						 "tcp flags out"), 1);
			o.src = fam == 4 ? ANY4 : ANY6;
			o.dst = fam == 4 ? WL4 : WL6;
			o.sport = 8080;
			o.dport = (__u16)(20000 + fl);
			o.tcp_flags = 0x12;
			len = build(&o, f);
			fz_run1(z, P_TC_IN, f, (size_t)len, "tcp syn-ack back");
		}
	}
	END(z);
}

/* Encapsulation: every IP protocol number to (and from) the any-peer,
 * whose rule names no protocol. */
static void test_encap(void **state)
{
	struct fz *z = *state;
	__u8 f[FZ_BUF];
	int pr, fam, len;
	BEGIN(z);

	for (fam = 4; fam <= 6; fam += 2) {
		for (pr = 0; pr < 256; pr++) {
			struct pkt_opts o = { .family = fam, .src = fam == 4 ? WL4 : WL6,
					      .dst = fam == 4 ? ANY4 : ANY6, .proto = (__u8)pr,
					      .sport = 1, .dport = 4789, .payload = 40 };

			if (fam == 6 && (pr == 0 || pr == 43 || pr == 44 || pr == 51 || pr == 60))
				continue;	/* extension headers, not protocols */
			len = build(&o, f);
			fz_run(z, f, (size_t)len, "ip protocol");
			o.src = fam == 4 ? ANY4 : ANY6;
			o.dst = fam == 4 ? WL4 : WL6;
			len = build(&o, f);
			fz_run1(z, P_TC_IN, f, (size_t)len, "ip protocol in");
		}
	}
	END(z);
}

static void test_summary(void **state)
{
	struct fz *z = *state;
	__u64 pk[FZ_NSTAT], by[FZ_NSTAT], total = 0, counted = 0, n;
	__u32 r;
	int p, w;

	assert_int_equal(read_stats(z, pk, by), 0);
	printf("seed %#llx: %llu runs (%llu refused by the kernel as too short)\n",
	       (unsigned long long)z->seed, (unsigned long long)z->runs,
	       (unsigned long long)z->refused);
	printf("passed: xdp/egress %llu, tc/egress %llu, tc/ingress %llu\n",
	       (unsigned long long)z->passed[0], (unsigned long long)z->passed[1],
	       (unsigned long long)z->passed[2]);
	for (w = 0; w <= OR_OK_RELATED; w++)
		printf("  passes explained as %-20s %llu\n", or_why_name((enum or_why)w),
		       (unsigned long long)z->ok_why[w]);
	for (r = 0; r < BH_R_MAX; r++) {
		n = pk[r] - z->base_pk[r] + pk[BH_R_MAX + r] - z->base_pk[BH_R_MAX + r];
		total += n;
		counted += z->reason[r];
		printf("  reason %-2u %-14s %llu\n", r, bh_reason_name((enum bh_reason)r),
		       (unsigned long long)n);
	}
	for (p = 0; p < P_NR; p++)
		for (w = OR_NO_MALFORMED; w < OR_WHY_NR; w++)
			if (z->viol_kind[p][w])
				printf("  VIOLATIONS %s %s: %llu\n", prog_name[p],
				       or_why_name((enum or_why)w),
				       (unsigned long long)z->viol_kind[p][w]);
	printf("violations %llu, counting errors %llu\n", (unsigned long long)z->violations,
	       (unsigned long long)z->counting_errors);
	fflush(stdout);
	assert_int_equal(total, z->runs);
	assert_int_equal(counted, z->runs);
	assert_int_equal(z->counting_errors, 0);
}

static int group_setup(void **state)
{
	*state = Z;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flows),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_ext_chains),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_spoof),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_bypass_icmp_error_relay),
		cmocka_unit_test(test_bypass_v4_mapped),
		cmocka_unit_test(test_icmp_kinds),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_encap),
		cmocka_unit_test(test_l2),
		cmocka_unit_test(test_summary),
	};
	const char *e;
	char why[256] = "";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("skip: BPF_PROG_TEST_RUN needs root\n");
		return 77;
	}
	if (fz_open(&Z, why, sizeof(why))) {
		/* bulkhead's own programs must load: never a skip */
		printf("FAIL: %s\n", why);
		return 1;
	}
	e = getenv("BH_FUZZ_SEED");
	Z->seed = e ? strtoull(e, NULL, 0) : FZ_DEFAULT_SEED;
	Z->rng = Z->seed;
	e = getenv("BH_FUZZ_SCALE");
	Z->scale = e && atoi(e) > 0 ? (unsigned int)atoi(e) : 1;
	Z->trace = getenv("BH_FUZZ_TRACE") != NULL;
	if (getenv("BH_FUZZ_ONLY"))	/* run one test by name */
		cmocka_set_test_filter(getenv("BH_FUZZ_ONLY"));
	printf("packet fuzz: seed %#llx (BH_FUZZ_SEED), scale %u (BH_FUZZ_SCALE)\n",
	       (unsigned long long)Z->seed, Z->scale);
	rc = cmocka_run_group_tests_name("bpf_fuzz_packets", tests, group_setup, NULL);
	fz_close(Z);
	return rc ? 1 : 0;
}
