/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: the CNI commands. ctl/bulkhead-cni.c reads the
 * environment and stdin into a cni_run, calls one of these, and prints
 * run->out (success) or the CNI error JSON built from run->err.
 */
#ifndef BULKHEAD_CNI_CMD_H
#define BULKHEAD_CNI_CMD_H

#include "cni_conf.h"

struct cni_env {
	const char *command;		/* CNI_COMMAND */
	const char *container_id;	/* CNI_CONTAINERID */
	const char *netns;		/* CNI_NETNS */
	const char *ifname;		/* CNI_IFNAME */
	const char *args;		/* CNI_ARGS */
};

struct cni_run {
	struct cni_env env;
	struct cni_conf conf;		/* parsed stdin (not for VERSION) */
	struct cni_error err;		/* set when a command fails */
	char *out;			/* malloc'd stdout on success, or NULL */
	bool counted;			/* cni_count_into() ran (cni_count.h) */
};

/* Each returns 0 or a negative errno with run->err filled in. */
int cni_cmd_add(struct cni_run *run);
int cni_cmd_del(struct cni_run *run);
int cni_cmd_check(struct cni_run *run);
int cni_cmd_gc(struct cni_run *run);
int cni_cmd_status(struct cni_run *run);

#endif /* BULKHEAD_CNI_CMD_H */
