/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Names and labels: the part of the policy model the core's API shares
 * (workloads and namespaces carry labels; selectors match them).
 */
#ifndef BULKHEAD_LABELS_H
#define BULKHEAD_LABELS_H

#define BH_NAME_MAX		253
#define BH_MAX_LABELS		64

struct bh_label {
	char key[BH_NAME_MAX + 1];
	char value[64];
};

/* A container port's name (Kubernetes spec.containers[].ports[].name, or
 * `attach --port NAME=PORT[/PROTO]`): rules that say `port: NAME` resolve
 * through it, per pod. The name is an IANA service name: 1..15 of
 * [a-z0-9-], at least one letter, no leading, trailing or double '-'. */
#define BH_PORT_NAME_MAX	15
#define BH_MAX_NAMED_PORTS	32

struct bh_named_port {
	char name[BH_PORT_NAME_MAX + 1];
	unsigned char proto;		/* IPPROTO_TCP, _UDP or _SCTP */
	unsigned short port;		/* 1..65535 */
};

#endif /* BULKHEAD_LABELS_H */
