/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The policy model, its parsers and the compiler to map entries.
 *
 * Two input formats, both YAML (libyaml), several documents per file:
 *   - Kubernetes networking.k8s.io/v1 NetworkPolicy
 *   - bulkhead.io/v1 Policy / ClusterPolicy (docs/policy.md): explicit deny,
 *     ICMP types, cluster-wide scope, per-policy audit.
 * Both parse into the same model (struct bh_policy). The compiler turns
 * policies + workloads + namespaces into ipcache entries and one sorted
 * entry list per workload (lib/bulkhead_abi.h describes the key layout and
 * the lookup the data path does). This layer never touches the kernel:
 * it is pure and unit-tested without root.
 */
#ifndef BULKHEAD_POLICY_H
#define BULKHEAD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "bulkhead_abi.h"
#include "labels.h"

/* A parse or compile error: names the file, the line and the field. */
struct bh_policy_error {
	char file[256];
	int line;		/* 1-based, 0 if unknown */
	int column;
	char field[128];	/* dotted path, e.g. spec.ingress[0].ports[1].endPort */
	char msg[256];
};

/* "FILE:LINE:COL: FIELD: MSG" */
const char *bh_policy_error_format(const struct bh_policy_error *e, char *buf, size_t len);

/* ------------------------------------------------------------------ model */
enum bh_sel_op { BH_SEL_IN, BH_SEL_NOT_IN, BH_SEL_EXISTS, BH_SEL_DOES_NOT_EXIST };

struct bh_sel_expr {
	char key[BH_NAME_MAX + 1];
	enum bh_sel_op op;
	int nr_values;
	char (*values)[64];
};

/* A Kubernetes LabelSelector. present=false means "no selector given"
 * (distinct from the empty selector {}, which selects everything). */
struct bh_selector {
	bool present;
	int nr_match;
	struct bh_label *match;		/* matchLabels */
	int nr_expr;
	struct bh_sel_expr *expr;	/* matchExpressions */
};

struct bh_cidr {
	struct bh_ip addr;		/* network address, IPv4-mapped */
	int prefixlen;			/* of the real family (0..32 or 0..128) */
};

struct bh_peer {
	struct bh_selector pod;		/* podSelector / selector */
	struct bh_selector ns;		/* namespaceSelector */
	bool has_cidr;
	struct bh_cidr cidr;		/* ipBlock.cidr */
	int nr_except;
	struct bh_cidr *except;
	bool host;			/* native `host: {}`: the node (compile.c) */
};

struct bh_port {
	__u8 proto;			/* IPPROTO_*, 0 = any (TCP/UDP/SCTP/ICMP) */
	bool has_port;
	__u16 port, end_port;		/* inclusive; ICMP: type<<8|code range */
	/* a named port (has_port false): resolved per pod by the compiler
	 * against bh_compile_workload.named_ports; never "every port" */
	char name[BH_PORT_NAME_MAX + 1];
};

/* Is s an IANA service name (a valid port name)? */
bool bh_port_name_ok(const char *s);
/* "NAME=PORT[/PROTO]" (PROTO TCP, UDP or SCTP, default TCP; lower case
 * accepted) into *out. -EINVAL with a reason in err on bad input. */
int bh_named_port_parse(const char *s, struct bh_named_port *out, char *err, size_t errlen);
/* "NAME=PORT/PROTO", as bh_named_port_parse reads it. */
const char *bh_named_port_format(const struct bh_named_port *p, char *buf, size_t len);

enum bh_action { BH_ACTION_ALLOW = 0, BH_ACTION_DENY = 1 };

/* A protocol other than TCP, UDP, SCTP and ICMP: it passes only by a rule
 * that names it (ipProtocols), never by a rule without ports. */
bool bh_proto_is_named(__u8 proto);

struct bh_rule {
	enum bh_action action;
	int line;			/* where the rule starts, for messages */
	/* nr_peers == 0 && !peers_present: all peers (K8s: from/to absent).
	 * peers_present && nr_peers == 0: no peer (K8s `from: []` = all). */
	bool peers_present;
	int nr_peers;
	struct bh_peer *peers;
	int nr_ports;			/* 0: all protocols and ports */
	struct bh_port *ports;
};

enum bh_policy_kind { BH_POLICY_K8S, BH_POLICY_NATIVE, BH_POLICY_NATIVE_CLUSTER };

struct bh_policy {
	enum bh_policy_kind kind;
	char ns[BH_NAME_MAX + 1];	/* "" for cluster-wide */
	char name[BH_NAME_MAX + 1];
	bool audit;			/* evaluated and recorded, not enforced */
	struct bh_selector selector;	/* podSelector / spec.selector */
	struct bh_selector ns_selector;	/* ClusterPolicy only: which namespaces */
	bool types_ingress, types_egress;	/* effective policyTypes */
	int nr_ingress, nr_egress;
	struct bh_rule *ingress, *egress;
	char *source;			/* the document's own YAML text */
	char file[256];
	int line;
};

struct bh_policy_set {
	int nr;
	struct bh_policy *items;
};

/* Parse every document of a file (or buffer; name is used in errors).
 * On error: -EINVAL, *err filled, nothing allocated. */
int bh_policy_parse_file(const char *path, struct bh_policy_set *out,
			 struct bh_policy_error *err);
int bh_policy_parse_buf(const char *name, const char *buf, size_t len,
			struct bh_policy_set *out, struct bh_policy_error *err);
void bh_policy_set_free(struct bh_policy_set *set);

/* ------------------------------------------------------------- compiler */
struct bh_compile_workload {
	const char *ns, *name;
	__u32 slot, identity;
	int nr_labels;
	const struct bh_label *labels;
	int nr_ips;
	const struct bh_ip *ips;
	/* named ports: a rule's `port: NAME` matches this workload's port of
	 * that name and protocol (ingress: the selected workload's; egress:
	 * each peer's); a workload without the name matches none */
	int nr_named_ports;
	const struct bh_named_port *named_ports;
	/* the posture of a pod whose identity has not arrived yet
	 * (unknown_pod: deny): closed both ways, whatever selects it, but
	 * DNS (UDP/TCP 53) to the cluster DNS pods (kube-system,
	 * k8s-app=kube-dns). Local workloads only. */
	bool pending;
};

struct bh_compile_namespace {
	const char *name;
	int nr_labels;
	const struct bh_label *labels;	/* incl. kubernetes.io/metadata.name */
};

/* The store allocates stable ids; the compiler asks for them. */
struct bh_compile_ids {
	int (*cidr_identity)(void *arg, const struct bh_cidr *cidr, __u32 *id);
	int (*rule_id)(void *arg, const struct bh_policy *p, enum bh_dir dir,
		       int rule_index, __u32 *id);
	void *arg;
};

/* The quarantine exception: reachable while quarantined. */
struct bh_forensics {
	bool enabled;
	struct bh_cidr cidr;
	int nr_ports;
	struct bh_port *ports;
};

struct bh_compile_input {
	int nr_workloads;
	const struct bh_compile_workload *workloads;
	int nr_namespaces;
	const struct bh_compile_namespace *namespaces;
	int nr_policies;
	const struct bh_policy *policies;
	/* Peers (lib/core/peers.h): selectable and in the ipcache like workloads,
	 * but compiled into no map of their own (slot unused). Their
	 * identities are the caller's (one per namespace + label set). */
	int nr_peers;
	const struct bh_compile_workload *peers;
	struct bh_compile_ids ids;
	struct bh_forensics forensics;
	/* The node's own addresses, for the `host` peer class (with the
	 * fixed ranges of bh_host_ranges, compile.c); the caller's. */
	int nr_host_addrs;
	const struct bh_ip *host_addrs;
};

struct bh_policy_entry {
	struct bh_policy_key key;
	struct bh_policy_val val;
};

struct bh_ipcache_entry {
	struct bh_ipcache_key key;
	struct bh_ipcache_val val;
};

struct bh_compiled_workload {
	__u32 slot;
	size_t nr;
	struct bh_policy_entry *entries;
};

struct bh_compile_output {
	size_t nr_ipcache;
	struct bh_ipcache_entry *ipcache;	/* workload IPs + every CIDR */
	int nr_workloads;			/* same order as input */
	struct bh_compiled_workload *workloads;
	struct bh_compiled_workload quarantine;	/* the deny-all map */
};

int bh_compile(const struct bh_compile_input *in, struct bh_compile_output *out,
	       struct bh_policy_error *err);
void bh_compile_output_free(struct bh_compile_output *out);

/* Evaluate one flow against one compiled workload exactly as the data
 * path does (same two lookups, same precedence). Used by `policy test`,
 * by unit tests and by baseline export checks. */
struct bh_eval_result {
	enum bh_pverdict verdict, audit_verdict;
	__u32 rule_id, audit_rule_id;
	bool isolated;			/* a policy selects it for the direction */
	bool audit_isolated;		/* the same, audit policies included */
};
void bh_eval(const struct bh_compiled_workload *w, enum bh_dir dir, __u32 peer_identity,
	     __u8 proto, __u16 port, struct bh_eval_result *res);
/* The ipcache lookup: identity of an address (BH_ID_WORLD if none). */
__u32 bh_eval_identity(const struct bh_compile_output *out, const __u8 addr[16]);

/* CIDR blocks. "ADDR/PLEN" (host bits cleared, as Kubernetes does);
 * _addr also takes a bare address (/32 or /128). -EINVAL on bad input. */
int bh_cidr_parse(const char *s, struct bh_cidr *out);
int bh_cidr_parse_addr(const char *s, struct bh_cidr *out);
/* "ADDR[/PLEN]" as written: prefixlen -1 if absent. The parser above. */
int bh_cidr_split(const char *s, struct bh_ip *ip, int *prefixlen);
/* Is an IPv4-mapped/IPv6 address inside the block? */
bool bh_cidr_has_addr(const struct bh_cidr *c, const __u8 addr[16]);

/* What-if (policy/whatif.c, `policy test`): candidates applied on top of
 * in's policies (a candidate replaces the policy of the same ns/name),
 * compiled with local ids (in's ids and forensics are not used); then
 * flows of in's workloads judged as the data path would. The whatif
 * points into in and cand: they outlive it. */
struct bh_whatif_rule {
	const struct bh_policy *policy;
	enum bh_dir dir;
	int index;
	bool candidate;		/* a rule of the candidates */
	__u64 hits;		/* flows it decided (as verdict or audit) */
};

struct bh_whatif {
	struct bh_compile_output out;	/* workloads in in's order */
	int nr_rules;
	struct bh_whatif_rule *rules;	/* by rule id - 1 */
	int nr_pol, nr_cand;
	struct bh_policy *pol;
	__u32 next_cidr;
	bool compiled;
};

int bh_whatif_build(struct bh_whatif *w, const struct bh_compile_input *in,
		    const struct bh_policy_set *cand, struct bh_policy_error *err);
/* Judge one flow of workload index i with the peer's address (IPv4-mapped);
 * counts the deciding rules' hits. True if the flow would be denied. */
bool bh_whatif_judge(struct bh_whatif *w, int i, enum bh_dir dir, const __u8 peer[16],
		     __u8 proto, __u16 port, struct bh_eval_result *res);
void bh_whatif_free(struct bh_whatif *w);

/* Does a selector match a label set? */
bool bh_selector_match(const struct bh_selector *sel, int nr, const struct bh_label *labels);

/* ------------------------------------------------- additions (policy helper) */
/* Free one policy's members (bh_policy_set_free calls it for each item). */
void bh_policy_free(struct bh_policy *p);

/* ------------------------------------------------- additions (CLI habits)
 * (the kubectl-style selector string parser is in the core,
 * lib/core/selector_string.c: it checks label syntax with the core's
 * bh_label_parse) */
void bh_selector_free(struct bh_selector *s);
/* metadata.labels of a stored policy's source (its own YAML text), for
 * `policy list -l`. *nr in: room in labels, out: labels found (extra
 * ones are ignored). A source without labels gives 0. */
int bh_policy_source_labels(const char *source, int *nr, struct bh_label *labels);

/* Notes on the API above (policy/ implementation):
 * - bh_eval on a direction nothing isolates and nothing denies gives
 *   verdict BH_PV_ALLOW, rule_id 0, isolated false (audit fields alike).
 * - bh_compile_ids callbacks may be NULL: CIDR identities are then
 *   BH_ID_CIDR_BASE + index in sorted order, rule ids 1, 2, ... (tests).
 * - CIDR identities are requested in sorted (address, prefix) order, once
 *   per distinct block; rule ids once per rule of a direction the rule
 *   counts for (K8s rules outside policyTypes are skipped). */

#endif /* BULKHEAD_POLICY_H */
