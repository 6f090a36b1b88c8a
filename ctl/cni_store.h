/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: what each ADD attached, in the instance's SQLite store
 * (table cni_attachments), so DEL, CHECK and GC act on exactly that and
 * never on someone else's veth that reuses an ifindex or a name. Callers
 * hold bh_ctx_lock around a read-modify-write.
 */
#ifndef BULKHEAD_CNI_STORE_H
#define BULKHEAD_CNI_STORE_H

#include <net/if.h>

#include "bulkhead.h"

struct sqlite3;

struct cni_record {
	char network[256];
	char container_id[256];
	char ifname[64];		/* CNI_IFNAME, inside the container */
	int ifindex;			/* host veth */
	char veth[IF_NAMESIZE];
	char ns[BH_NAME_MAX + 1];	/* workload */
	char name[BH_NAME_MAX + 1];
};

int cni_store_init(struct sqlite3 *db);
/* -ENOENT if ADD never recorded (network, container_id, ifname). */
int cni_store_get(struct sqlite3 *db, const char *network, const char *container_id,
		  const char *ifname, struct cni_record *out);
int cni_store_put(struct sqlite3 *db, const struct cni_record *r);
int cni_store_del(struct sqlite3 *db, const char *network, const char *container_id,
		  const char *ifname);
/* All records of NETWORK (every network if NULL); *out is malloc'd. */
int cni_store_list(struct sqlite3 *db, const char *network, struct cni_record **out, int *nr);

#endif /* BULKHEAD_CNI_STORE_H */
