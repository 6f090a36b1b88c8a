/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internal to the policy parsers: the walking context (file name, dotted
 * field path, error record), field checks shared by both formats, and the
 * parts of the model both formats share (selectors, peers, ports, ipBlock).
 *
 *   parse_common.c    path, errors, scalar and structure checks
 *   parse_names.c     Kubernetes names, label maps
 *   parse_document.c  the shared frame: top level, metadata, spec, rule lists
 *   parse_selector.c  LabelSelector
 *   parse_peer.c      from/to peers, ipBlock
 *   parse_ports.c     ports and ICMP types
 *   parse_k8s.c, parse_native.c  what differs between the two formats
 */
#ifndef BH_PARSE_COMMON_H
#define BH_PARSE_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "yaml_doc.h"

/* error.c: fill *e and return -EINVAL. */
int bh_perr(struct bh_policy_error *e, const char *file, int line, int col,
	    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

struct pc_ctx {
	const char *file;
	struct bh_policy_error *err;
	char path[sizeof(((struct bh_policy_error *)0)->field)];
	size_t len;
	bool native;			/* bulkhead.io/v1 document */
};

/* Field path: push returns the previous length, pop restores it. */
size_t pc_push(struct pc_ctx *c, const char *key);
size_t pc_push_idx(struct pc_ctx *c, int idx);
void pc_pop(struct pc_ctx *c, size_t saved);

/* Report an error at node n for the field `key` below the current path
 * (NULL: the current path itself). Returns -EINVAL. */
int pc_fail_at(struct pc_ctx *c, const struct yd_node *n, const char *key,
	       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define pc_fail(c, n, ...) pc_fail_at(c, n, NULL, __VA_ARGS__)

/* n must be a mapping whose keys are all in allowed (NULL-terminated),
 * each at most once. Unknown fields are refused, naming the field. */
int pc_map(struct pc_ctx *c, const struct yd_node *n, const char *const *allowed);
/* n must be a sequence; a YAML null counts as an empty one. */
int pc_seq(struct pc_ctx *c, const struct yd_node *n);
/* Scalars. pc_str refuses null and empty strings. */
int pc_str(struct pc_ctx *c, const struct yd_node *n, char *out, size_t len);
int pc_uint(struct pc_ctx *c, const struct yd_node *n, unsigned long min,
	    unsigned long max, unsigned long *out);
int pc_bool(struct pc_ctx *c, const struct yd_node *n, bool *out);
/* "null", "a mapping", "a list" or "a scalar", for messages. */
const char *pc_type_name(const struct yd_node *n);

/* Kubernetes naming rules. */
bool pc_dns_subdomain(const char *s);
bool pc_dns_label(const char *s);
bool pc_label_key_ok(const char *s);
bool pc_label_value_ok(const char *s);
/* A map of label keys to string values, kept in *out and *nr when out is
 * set. annotations: free-text values, keys need only be short. */
int pc_label_map(struct pc_ctx *c, const struct yd_node *n, int *nr, struct bh_label **out,
		 bool annotations);

/* metadata: name (required), namespace (namespaced: default "default";
 * cluster: refused), labels and annotations (checked, not kept). */
int pc_metadata(struct pc_ctx *c, const struct yd_node *n, bool cluster,
		struct bh_policy *p);

/* Reads a rule's fields besides action and line (path at the rule). */
typedef int (*pc_rule_fn)(struct pc_ctx *c, const struct yd_node *n, bool ingress,
			  struct bh_rule *r);
/* Reads spec fields of one format (path "spec"). */
typedef int (*pc_spec_fn)(struct pc_ctx *c, const struct yd_node *spec, struct bh_policy *p);

/* What tells the two formats apart inside the frame they share. */
struct pc_format {
	const char *const *spec_fields;	/* allowed in spec, NULL-terminated */
	const char *selector_key;	/* the workload selector, required */
	const char *selector_missing;	/* the message when it is absent */
	const char *const *ingress_fields, *const *egress_fields; /* allowed in a rule */
	pc_rule_fn rule;
	pc_spec_fn before_rules;	/* optional, after the selector */
	pc_spec_fn after_rules;		/* optional */
};
/* The document root: top-level fields, metadata (p->kind already set,
 * ClusterPolicy has no namespace), spec: its workload selector,
 * f->before_rules, spec.ingress and spec.egress (each rule allow unless
 * f->rule says otherwise), f->after_rules. */
int pc_document(struct pc_ctx *c, const struct yd_node *root, const struct pc_format *f,
		struct bh_policy *p);
/* Field key of a rule, when present (null included), read by fn. */
int pc_rule_field(struct pc_ctx *c, const struct yd_node *rule, const char *key,
		  int (*fn)(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r),
		  struct bh_rule *r);
/* The fields every rule has: its peers (from or to) and ports. */
int pc_rule_traffic(struct pc_ctx *c, const struct yd_node *n, bool ingress, struct bh_rule *r);

/* A LabelSelector mapping (n not null). */
int pc_selector(struct pc_ctx *c, const struct yd_node *n, struct bh_selector *sel);
/* The selector in field key of map, if present and not null. */
int pc_selector_in(struct pc_ctx *c, const struct yd_node *map, const char *key,
		   struct bh_selector *sel);
/* from/to: a sequence of peers (null = absent). */
int pc_peers(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r);
/* ports: TCP/UDP/SCTP entries, appended to r->ports. */
/* A list of port-like entries (ports, ICMP types, IP protocols), each read
 * by fn and appended to r->ports. */
typedef int (*pc_port_entry_fn)(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt);
int pc_port_list(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r,
		 pc_port_entry_fn fn);
int pc_ports(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r);
/* icmp (native): ICMP/ICMPv6 type/code entries, appended to r->ports. */
int pc_icmp(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r);
/* ipProtocols (native): other IP protocols by name or number, appended to
 * r->ports (parse_ipproto.c). */
int pc_ip_protocols(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r);

/* Is inner inside outer (same family, prefix at least as long)? */
bool bh_cidr_contains(const struct bh_cidr *outer, const struct bh_cidr *inner);
/* Is address a (family 4 or 6, IPv4-mapped) inside c? */
bool bh_cidr_has_ip(const struct bh_cidr *c, const struct bh_ip *a);
/* Address text without the IPv4-mapped prefix (buf >= 46 bytes). */
const char *bh_ip_fmt(const struct bh_ip *ip, char *buf, size_t len);
/* Prefix length in the 128-bit (IPv4-mapped) space. */
int bh_cidr_plen128(const struct bh_cidr *c);

/* The two document parsers (parse_k8s.c, parse_native.c). root is the
 * document mapping; apiVersion/kind are already checked. */
int bh_parse_k8s(struct pc_ctx *c, const struct yd_node *root, struct bh_policy *p);
int bh_parse_native(struct pc_ctx *c, const struct yd_node *root, bool cluster,
		    struct bh_policy *p);

/* model.c */
void bh_selector_free(struct bh_selector *s);
void bh_rule_free(struct bh_rule *r);

#endif /* BH_PARSE_COMMON_H */
