/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow filters as `bulkhead flows` takes them (the habits of hubble
 * observe): --verdict, --reason, --proto, --port, --from/--to (NS/NAME, a
 * label selector or an address/CIDR), -n, --since/--until, --rule. Every
 * given filter must match (and); a list (--verdict deny,would-deny)
 * matches any of its items (or).
 *
 * The filter is pure: it judges a struct bh_flow_match, which the CLI
 * fills from a stored row (labels from the workload registry) or from a
 * streamed JSON record (labels in the record), so stored and followed
 * flows are filtered alike. tests/unit/test_flowfilter.c runs it over a
 * recorded set of flows with known answers.
 */
#ifndef BULKHEAD_FLOWFILTER_H
#define BULKHEAD_FLOWFILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead.h"
#include "policy.h"

/* One side of a flow. */
struct bh_flow_endpoint {
	const char *addr;		/* the address, text */
	const char *ns, *name;		/* the workload at that address, or NULL */
	int nr_labels;
	const struct bh_label *labels;
};

struct bh_flow_match {
	const char *ns, *name;		/* the flow's workload */
	const char *dir;		/* ingress | egress */
	int proto;
	int sport, dport;		/* ICMP: not ports (never match --port) */
	struct bh_flow_endpoint from, to;	/* initiator, responder */
	const char *verdict, *reason, *rule;
	int64_t first_ms, last_ms;
};

enum bh_peer_kind { BH_PEER_SPEC_WORKLOAD, BH_PEER_SPEC_SELECTOR, BH_PEER_SPEC_CIDR };

struct bh_peer_spec {
	bool set;
	enum bh_peer_kind kind;
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];	/* WORKLOAD */
	struct bh_selector sel;				/* SELECTOR */
	__u8 net[16];					/* CIDR, IPv4-mapped */
	int prefix;					/* 0..128 over net */
};

#define BH_FILTER_MAX_ITEMS 16

struct bh_flow_filter {
	const char *ns;				/* -n */
	const char *wl_ns, *wl_name;		/* --workload */
	int nr_verdicts;
	char verdicts[BH_FILTER_MAX_ITEMS][24];
	int nr_reasons;
	char reasons[BH_FILTER_MAX_ITEMS][24];
	int proto;				/* -1: any */
	int port;				/* -1: any */
	struct bh_peer_spec from, to;
	int64_t since_ms, until_ms;		/* 0: open */
	const char *rule;			/* NULL: any */
};

void bh_flow_filter_init(struct bh_flow_filter *f);
void bh_flow_filter_free(struct bh_flow_filter *f);

/* Option parsers: 0, or -EINVAL with a message (naming the value) in
 * err. now_ms anchors durations ("5m" = 5 minutes before now_ms). */
int bh_flow_filter_verdicts(struct bh_flow_filter *f, const char *list, char *err, size_t len);
int bh_flow_filter_reasons(struct bh_flow_filter *f, const char *list, char *err, size_t len);
int bh_flow_filter_proto(struct bh_flow_filter *f, const char *s, char *err, size_t len);
int bh_flow_filter_port(struct bh_flow_filter *f, const char *s, char *err, size_t len);
int bh_flow_filter_peer(struct bh_peer_spec *p, const char *s, char *err, size_t len);
int bh_flow_filter_time(int64_t *out_ms, const char *s, int64_t now_ms, char *err, size_t len);

bool bh_flow_filter_match(const struct bh_flow_filter *f, const struct bh_flow_match *m);

#endif /* BULKHEAD_FLOWFILTER_H */
