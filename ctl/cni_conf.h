/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: what the runtime hands the plugin, parsed. Pure parsing
 * (json-c, no system calls) so the cases are unit tests: the network
 * config on stdin with its prevResult and GC attachment lists, CNI_ARGS,
 * and the JSON the plugin prints back (result, VERSION, CNI errors).
 *
 * Config keys of the bulkhead-cni entry (docs/cni.md):
 *   namespace  workload namespace when CNI_ARGS has no K8S_POD_NAMESPACE
 *   mode       learn | monitor | enforce (default enforce)
 *   hook       tc | xdp (default: BULKHEAD_HOOK, else the state dir's
 *              config `hook`, else tc — as `bulkhead attach`)
 *   labels     {"k": "v"} static labels for every workload of the network
 *   stateDir   overrides BULKHEAD_STATE_DIR
 *   bpffs      overrides BULKHEAD_BPFFS
 * plus the CONVENTIONS.md `args.cni.labels` [{"key","value"}].
 */
#ifndef BULKHEAD_CNI_CONF_H
#define BULKHEAD_CNI_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "bulkhead.h"

struct json_object;

/* Error codes of the CNI spec (§ "Error"), then bulkhead's own (100+). */
enum cni_code {
	CNI_E_VERSION = 1,		/* incompatible CNI version */
	CNI_E_FIELD = 2,		/* unsupported field in network config */
	CNI_E_CONTAINER = 3,		/* container unknown or does not exist */
	CNI_E_ENV = 4,			/* invalid environment variables */
	CNI_E_IO = 5,			/* I/O failure */
	CNI_E_DECODE = 6,		/* failed to decode content */
	CNI_E_CONFIG = 7,		/* invalid network config */
	CNI_E_TRY_LATER = 11,
	CNI_E_NOT_READY = 50,		/* STATUS: plugin not available */
	CNI_E_ATTACH = 100,		/* bulkhead could not register/attach */
	CNI_E_VETH = 101,		/* host veth not found or not acceptable */
	CNI_E_NOT_ATTACHED = 102,	/* CHECK: programs missing */
	CNI_E_NOT_REGISTERED = 103,	/* CHECK: workload missing */
	CNI_E_STORE = 104,		/* attachment record store */
};

/* The versions this plugin speaks; the first entry is the newest. */
extern const char *const cni_versions[];
#define CNI_VERSION_LATEST "1.1.0"
bool cni_version_supported(const char *v);

struct cni_error {
	int code;			/* enum cni_code, 0 = no error */
	char msg[256];
	char details[1024];
};

/* Fill E and return -err (err a positive errno), for
 * `return cni_fail(e, -EINVAL, CNI_E_CONFIG, "msg", "details %s", x)`. */
int cni_fail(struct cni_error *e, int err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define CNI_MAX_IFACES 16
struct cni_iface {
	char name[64];
	bool sandbox;			/* has a non-empty "sandbox": container side */
	bool has_mac;			/* "mac" given: the interface's MAC */
	__u8 mac[6];
};

/* The fields of prevResult bulkhead needs. */
struct cni_prev {
	bool present;
	int nr_ifaces;
	struct cni_iface ifaces[CNI_MAX_IFACES];
	int nr_ips;
	struct bh_ip ips[BH_MAX_WORKLOAD_IPS];
};

struct cni_attachment_ref {
	char container_id[256];
	char ifname[64];
};

struct cni_conf {
	struct json_object *root;	/* the whole stdin, owned */
	char version[16];		/* cniVersion */
	char network[256];		/* "name" of the network (list) */
	char ns[BH_NAME_MAX + 1];	/* "namespace", default "default" */
	enum bh_mode mode;
	enum bh_hook hook;
	bool hook_set;			/* "hook" given; else the instance default */
	char state_dir[PATH_MAX];	/* "" = not set */
	char bpffs[PATH_MAX];
	int nr_labels;			/* "labels" + args.cni.labels */
	struct bh_label labels[BH_MAX_LABELS];
	/* GC: cni.dev/attachments and cni.dev/valid-attachments, merged. */
	bool has_valid;
	int nr_valid;
	struct cni_attachment_ref *valid;
};

/* Parse the network config. Error codes: 6 not JSON or not an object,
 * 1 missing/unknown cniVersion, 7 a bad key. prevResult is not looked at
 * (DEL must work without it): see cni_prev_parse. */
int cni_conf_parse(const char *buf, size_t len, struct cni_conf *c, struct cni_error *e);
/* CNI_CONF_LENIENT (DEL, GC): a bad workload key (namespace, mode, hook,
 * labels, args) leaves its default instead of failing, so a config that
 * ADD refused can still be cleaned up; the keys that find the instance
 * (cniVersion, name, stateDir, bpffs) must still be valid. */
#define CNI_CONF_LENIENT 0x1
int cni_conf_parse_ex(const char *buf, size_t len, unsigned int flags, struct cni_conf *c,
		      struct cni_error *e);
void cni_conf_free(struct cni_conf *c);

/* Parse c->root's prevResult. Absent: p->present = false, 0. Malformed:
 * code 7. IPs taken are those on a sandbox interface or on none named. */
int cni_prev_parse(const struct cni_conf *c, struct cni_prev *p, struct cni_error *e);

/* Is (cid, ifname) in the GC list? */
bool cni_conf_is_valid_attachment(const struct cni_conf *c, const char *cid,
				  const char *ifname);

struct cni_args {
	char pod_ns[BH_NAME_MAX + 1];	/* K8S_POD_NAMESPACE, "" if absent */
	char pod_name[BH_NAME_MAX + 1];	/* K8S_POD_NAME */
	int nr_labels;			/* BH_LABELS=k:v,k2:v2 */
	struct bh_label labels[BH_MAX_LABELS];
};

/* Parse CNI_ARGS "K=V;K=V" leniently: each pair splits at its first '='
 * and unknown keys are ignored. A bad BH_LABELS is code 4 (environment). */
int cni_args_parse(const char *s, struct cni_args *a, struct cni_error *e);

/* Add or replace KEY=VALUE in a label list; -EINVAL bad label, -E2BIG full. */
int cni_label_set(struct bh_label *labels, int *nr, const char *key, const char *value);

/* The workload identity for an ADD: K8S_POD_NAMESPACE/K8S_POD_NAME if
 * given, else the config namespace and the first 12 characters of the
 * container id. Names are made valid: characters outside [A-Za-z0-9._-]
 * become '-', leading/trailing non-alphanumerics go, at most BH_NAME_MAX.
 * Labels: config, then CNI_ARGS (later wins). */
int cni_workload_identity(const struct cni_conf *c, const struct cni_args *a,
			  const char *container_id, char ns[BH_NAME_MAX + 1],
			  char name[BH_NAME_MAX + 1], struct bh_label *labels, int *nr_labels,
			  struct cni_error *e);

/* JSON the plugin prints; *out is malloc'd, NUL-terminated. */
/* prevResult unchanged, but with cniVersion = the input's. */
int cni_result_json(const struct cni_conf *c, char **out);
int cni_version_json(const char *input_version, char **out);
int cni_error_json(const struct cni_error *e, const char *version, char **out);

#endif /* BULKHEAD_CNI_CONF_H */
