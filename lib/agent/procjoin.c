// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The process behind a flow; see procjoin.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "procjoin.h"
#include "sockproc.h"
#include "strbuf.h"

#define NS_CACHE	1024	/* namespaces: inode -> nsid, direct mapped */
#define PID_CACHE	1024	/* processes read from /proc, direct mapped */
#define PID_CACHE_NS	5000000000ULL	/* how long one read of /proc serves */

struct pj_key {
	__s32 nsid;
	__u8 proto;
	__u8 pad;
	__u16 own_port, peer_port;
	__u8 own[16], peer[16];
};

struct pj_entry {
	struct pj_key key;
	struct bh_proc_info *info;
	struct pj_entry *hnext;			/* bucket chain */
	struct pj_entry *older, *newer;		/* age list */
};

struct pj_pid {
	__u32 tgid;
	__u64 cgroup_id, at_ns;
	char comm[16], kexe[32];
	struct bh_proc_info *info;
};

struct bh_procjoin {
	struct bh_sockproc *sp;			/* NULL: table only */
	struct ring_buffer *rb;
	uint32_t max, nr, nbuckets;
	struct pj_entry **buckets;
	struct pj_entry *oldest, *newest;
	__u64 own_netns;
	struct { __u64 ino, at_ns; int nsid; } ns[NS_CACHE];
	struct pj_pid pids[PID_CACHE];
	struct bh_procjoin_stats st;
};

void bh_proc_ref(struct bh_proc_info *p)
{
	if (p)
		p->refs++;
}

void bh_proc_unref(struct bh_proc_info *p)
{
	if (p && !--p->refs)
		free(p);
}

const char *bh_proc_str(const struct bh_proc_info *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s, pid %u)", p->exe, p->comm, p->pid);
	return buf;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static uint32_t key_hash(const struct pj_key *k)
{
	const __u8 *b = (const __u8 *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* An unspecified address (0.0.0.0 mapped, or ::) is kept as all zero. */
static void addr_norm(__u8 dst[16], const __u8 src[16])
{
	static const __u8 zero[16], any4[16] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(src, zero, 16) || !memcmp(src, any4, 16))
		memset(dst, 0, 16);
	else
		memcpy(dst, src, 16);
}

static void key_make(struct pj_key *k, int nsid, int proto, const __u8 own[16], int own_port,
		     const __u8 peer[16], int peer_port)
{
	memset(k, 0, sizeof(*k));
	k->nsid = nsid;
	k->proto = (__u8)proto;
	k->own_port = (__u16)own_port;
	k->peer_port = (__u16)peer_port;
	if (own)
		addr_norm(k->own, own);
	if (peer)
		addr_norm(k->peer, peer);
	if (!peer_port)
		memset(k->peer, 0, 16);	/* no peer: not connected */
}

static struct pj_entry **bucket_of(struct bh_procjoin *pj, const struct pj_key *k)
{
	return &pj->buckets[key_hash(k) & (pj->nbuckets - 1)];
}

static void age_unlink(struct bh_procjoin *pj, struct pj_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		pj->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		pj->newest = e->older;
	e->older = e->newer = NULL;
}

static void age_push(struct bh_procjoin *pj, struct pj_entry *e)
{
	e->older = pj->newest;
	e->newer = NULL;
	if (pj->newest)
		pj->newest->newer = e;
	else
		pj->oldest = e;
	pj->newest = e;
}

static void entry_drop(struct bh_procjoin *pj, struct pj_entry *e)
{
	struct pj_entry **pp = bucket_of(pj, &e->key);

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	age_unlink(pj, e);
	bh_proc_unref(e->info);
	free(e);
	pj->nr--;
}

static struct pj_entry *lookup(struct bh_procjoin *pj, const struct pj_key *k)
{
	for (struct pj_entry *e = *bucket_of(pj, k); e; e = e->hnext)
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	return NULL;
}

static int put(struct bh_procjoin *pj, const struct pj_key *k, struct bh_proc_info *info)
{
	struct pj_entry *e = lookup(pj, k);

	if (e) {
		bh_proc_unref(e->info);
		age_unlink(pj, e);
	} else {
		if (pj->nr >= pj->max) {
			entry_drop(pj, pj->oldest);
			pj->st.evicted++;
		}
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = *k;
		e->hnext = *bucket_of(pj, k);
		*bucket_of(pj, k) = e;
		pj->nr++;
	}
	e->info = info;
	bh_proc_ref(info);
	age_push(pj, e);
	pj->st.kept++;
	return 0;
}

int bh_procjoin_add(struct bh_procjoin *pj, const struct bh_sockproc_rec *r, int nsid,
		    const struct bh_proc_info *info)
{
	struct bh_proc_info *p = malloc(sizeof(*p));
	struct pj_key k;
	int err;

	if (!p)
		return -ENOMEM;
	*p = *info;
	p->refs = 1;
	key_make(&k, nsid, r->key.proto, r->key.laddr, r->key.lport, r->key.raddr, r->key.rport);
	err = put(pj, &k, p);
	bh_proc_unref(p);
	return err;
}

struct bh_proc_info *bh_procjoin_find(struct bh_procjoin *pj, int nsid, int proto,
				      const __u8 own[16], int own_port, const __u8 peer[16],
				      int peer_port)
{
	struct pj_key k;
	struct pj_entry *e;

	key_make(&k, nsid, proto, own, own_port, peer, peer_port);
	e = lookup(pj, &k);
	if (!e && (proto == 17 || proto == 6)) {
		/* a UDP socket that is not connected, or a TCP listener (its
		 * connections are not recorded one by one), bound to the
		 * address or to any. A TCP client never matches a listener
		 * here: its own port cannot be one a listener of the same
		 * address holds. */
		key_make(&k, nsid, proto, own, own_port, NULL, 0);
		e = lookup(pj, &k);
		if (!e) {
			key_make(&k, nsid, proto, NULL, own_port, NULL, 0);
			e = lookup(pj, &k);
		}
	}
	if (!e)
		return NULL;
	pj->st.joined++;
	return e->info;
}

/* ---------------------------------------------------- namespaces, /proc */
static int nsid_of(struct bh_procjoin *pj, __u64 ino, __u32 tgid)
{
	unsigned int i = (unsigned int)(ino % NS_CACHE);
	char path[64];
	struct stat stb;
	int fd, nsid;

	/* a namespace without an id (no veth of ours points into it) is
	 * asked again after a second, not for every record */
	if (pj->ns[i].ino == ino &&
	    (pj->ns[i].nsid >= 0 || mono_ns() - pj->ns[i].at_ns < 1000000000ULL))
		return pj->ns[i].nsid;
	snprintf(path, sizeof(path), "/proc/%u/ns/net", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;	/* gone already */
	if (fstat(fd, &stb) || stb.st_ino != ino) {
		close(fd);	/* moved on to another namespace */
		return -ENOENT;
	}
	nsid = bh_netns_nsid(fd);
	close(fd);
	pj->ns[i].ino = ino;
	pj->ns[i].nsid = nsid >= 0 ? nsid : -ENOENT;
	pj->ns[i].at_ns = mono_ns();
	return nsid;
}

/* Full path of the executable and the cgroup, from /proc while the
 * process lives; the kernel's file name otherwise. */
static void proc_read(const struct bh_sockproc_val *v, struct bh_proc_info *p)
{
	char path[64], buf[512];
	ssize_t n;
	FILE *f;

	memset(p, 0, sizeof(*p));
	p->pid = v->tgid;
	p->cgroup_id = v->cgroup_id;
	memcpy(p->comm, v->comm, sizeof(v->comm) - 1);
	memcpy(p->exe, v->exe, sizeof(v->exe) - 1);
	snprintf(path, sizeof(path), "/proc/%u/exe", v->tgid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		const char *base;

		buf[n] = '\0';
		base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		/* the same program (the kernel's name may be truncated) */
		if (v->exe[0] && !strncmp(base, v->exe, strnlen(v->exe, sizeof(v->exe) - 1)))
			bh_str_copy(p->exe, sizeof(p->exe), buf);
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", v->tgid);
	f = fopen(path, "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (!strncmp(buf, "0::", 3)) {
				buf[strcspn(buf, "\n")] = '\0';
				bh_str_copy(p->cgroup, sizeof(p->cgroup), buf + 3);
				break;
			}
		fclose(f);
	}
}

static struct bh_proc_info *proc_info(struct bh_procjoin *pj, const struct bh_sockproc_val *v)
{
	struct pj_pid *c = &pj->pids[v->tgid % PID_CACHE];
	__u64 now = mono_ns();
	struct bh_proc_info *p;

	if (c->info && c->tgid == v->tgid && c->cgroup_id == v->cgroup_id &&
	    now - c->at_ns < PID_CACHE_NS && !memcmp(c->comm, v->comm, sizeof(c->comm)) &&
	    !memcmp(c->kexe, v->exe, sizeof(c->kexe)))
		return c->info;
	p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	proc_read(v, p);
	p->refs = 1;
	bh_proc_unref(c->info);
	c->info = p;
	c->tgid = v->tgid;
	c->cgroup_id = v->cgroup_id;
	c->at_ns = now;
	memcpy(c->comm, v->comm, sizeof(c->comm));
	memcpy(c->kexe, v->exe, sizeof(c->kexe));
	return p;
}

static int on_record(void *arg, void *data, size_t size)
{
	struct bh_procjoin *pj = arg;
	struct bh_sockproc_rec r;
	struct bh_proc_info *p;
	struct pj_key k;
	int nsid;

	if (size < sizeof(r))
		return 0;
	memcpy(&r, data, sizeof(r));
	pj->st.records++;
	if (r.key.netns == pj->own_netns) {
		pj->st.host++;
		return 0;
	}
	nsid = nsid_of(pj, r.key.netns, r.val.tgid);
	if (nsid < 0) {
		pj->st.no_nsid++;
		return 0;
	}
	p = proc_info(pj, &r.val);
	if (!p)
		return 0;
	key_make(&k, nsid, r.key.proto, r.key.laddr, r.key.lport, r.key.raddr, r.key.rport);
	put(pj, &k, p);
	return 0;
}

/* ------------------------------------------------------------ life */
int bh_procjoin_new(const struct bh_procjoin_opts *opts, struct bh_procjoin **out)
{
	struct bh_procjoin *pj = calloc(1, sizeof(*pj));
	struct stat stb;

	if (!pj)
		return -ENOMEM;
	pj->max = opts && opts->max_entries ? opts->max_entries : 65536;
	pj->nbuckets = 1;
	while (pj->nbuckets < pj->max)
		pj->nbuckets <<= 1;
	pj->buckets = calloc(pj->nbuckets, sizeof(*pj->buckets));
	if (!pj->buckets) {
		free(pj);
		return -ENOMEM;
	}
	if (!stat("/proc/self/ns/net", &stb))
		pj->own_netns = stb.st_ino;
	*out = pj;
	return 0;
}

int bh_procjoin_open(const struct bh_procjoin_opts *opts, struct bh_procjoin **out)
{
	struct bh_procjoin *pj;
	int err = bh_procjoin_new(opts, &pj);

	if (err)
		return err;
	err = bh_sockproc_open(&pj->sp);
	if (!err) {
		pj->rb = ring_buffer__new(bh_sockproc_ring_fd(pj->sp), on_record, pj, NULL);
		if (!pj->rb)
			err = -errno ? -errno : -ENOMEM;
	}
	if (err) {
		bh_procjoin_close(pj);
		return err;
	}
	*out = pj;
	return 0;
}

void bh_procjoin_close(struct bh_procjoin *pj)
{
	if (!pj)
		return;
	ring_buffer__free(pj->rb);
	bh_sockproc_close(pj->sp);
	while (pj->oldest)
		entry_drop(pj, pj->oldest);
	for (int i = 0; i < PID_CACHE; i++)
		bh_proc_unref(pj->pids[i].info);
	free(pj->buckets);
	free(pj);
}

int bh_procjoin_fd(const struct bh_procjoin *pj)
{
	return pj->rb ? ring_buffer__epoll_fd(pj->rb) : -1;
}

bool bh_procjoin_udp(const struct bh_procjoin *pj)
{
	return pj->sp && bh_sockproc_udp(pj->sp);
}

int bh_procjoin_poll(struct bh_procjoin *pj)
{
	return pj->rb ? ring_buffer__consume(pj->rb) : 0;
}

void bh_procjoin_get_stats(const struct bh_procjoin *pj, struct bh_procjoin_stats *st)
{
	*st = pj->st;
	st->lost = pj->sp ? bh_sockproc_lost(pj->sp) : 0;
}
