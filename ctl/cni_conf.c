/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bulkhead-cni: parsing what the runtime sends, and the JSON sent back. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cni_conf.h"
#include "l2id.h"
#include "policy.h"

const char *const cni_versions[] = {
	"1.1.0", "1.0.0", "0.4.0", "0.3.1", "0.3.0", NULL,
};

bool cni_version_supported(const char *v)
{
	for (int i = 0; v && cni_versions[i]; i++)
		if (!strcmp(v, cni_versions[i]))
			return true;
	return false;
}

int cni_fail(struct cni_error *e, int err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->details[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(e->details, sizeof(e->details), fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -err;
}

/* Copy a JSON string member into buf. 0 found, -ENOENT absent,
 * -EINVAL not a string or too long. */
static int get_str(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	if (strlen(s) >= len)
		return -EINVAL;
	strcpy(buf, s);
	return 0;
}

int cni_label_set(struct bh_label *labels, int *nr, const char *key, const char *value)
{
	struct bh_label l;
	char kv[BH_NAME_MAX + 1 + 64 + 1];
	int err;

	if (strchr(key, '=') || (size_t)snprintf(kv, sizeof(kv), "%s=%s", key, value) >= sizeof(kv))
		return -EINVAL;
	err = bh_label_parse(kv, &l);
	if (err)
		return err;
	for (int i = 0; i < *nr; i++) {
		if (!strcmp(labels[i].key, l.key)) {
			labels[i] = l;
			return 0;
		}
	}
	if (*nr >= BH_MAX_LABELS)
		return -E2BIG;
	labels[(*nr)++] = l;
	return 0;
}

static int parse_labels_object(struct json_object *o, struct cni_conf *c, struct cni_error *e)
{
	if (!json_object_is_type(o, json_type_object))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"labels\" must be an object of strings");
	json_object_object_foreach(o, k, v) {
		if (!json_object_is_type(v, json_type_string))
			return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
					"label \"%s\": value must be a string", k);
		if (cni_label_set(c->labels, &c->nr_labels, k, json_object_get_string(v)))
			return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
					"bad label \"%s\"=\"%s\"", k, json_object_get_string(v));
	}
	return 0;
}

/* CONVENTIONS.md: "args": {"cni": {"labels": [{"key": K, "value": V}]}} */
static int parse_args_labels(struct json_object *root, struct cni_conf *c, struct cni_error *e)
{
	struct json_object *args, *cni, *labels;
	size_t n;

	if (!json_object_object_get_ex(root, "args", &args) ||
	    !json_object_is_type(args, json_type_object) ||
	    !json_object_object_get_ex(args, "cni", &cni) ||
	    !json_object_is_type(cni, json_type_object) ||
	    !json_object_object_get_ex(cni, "labels", &labels))
		return 0;
	if (!json_object_is_type(labels, json_type_array))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"args.cni.labels must be an array of {key, value}");
	n = json_object_array_length(labels);
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(labels, i);
		char key[BH_NAME_MAX + 1], val[64];

		if (!json_object_is_type(l, json_type_object) ||
		    get_str(l, "key", key, sizeof(key)) || get_str(l, "value", val, sizeof(val)))
			return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
					"args.cni.labels[%zu] needs string key and value", i);
		if (cni_label_set(c->labels, &c->nr_labels, key, val))
			return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
					"bad label \"%s\"=\"%s\" in args.cni.labels", key, val);
	}
	return 0;
}

/* GC lists: [{"containerID": ..., "ifname": ...}] under either key. */
static int parse_gc_list(struct json_object *root, const char *key, struct cni_conf *c,
			 struct cni_error *e)
{
	struct json_object *list;
	struct cni_attachment_ref *grown;
	size_t n;

	if (!json_object_object_get_ex(root, key, &list) ||
	    json_object_is_type(list, json_type_null))
		return 0;
	if (!json_object_is_type(list, json_type_array))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"%s\" must be an array", key);
	c->has_valid = true;
	n = json_object_array_length(list);
	if (!n)
		return 0;
	grown = realloc(c->valid, (c->nr_valid + n) * sizeof(*grown));
	if (!grown)
		return cni_fail(e, ENOMEM, CNI_E_IO, "out of memory", NULL);
	c->valid = grown;
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(list, i);
		struct cni_attachment_ref *r = &c->valid[c->nr_valid];

		if (!json_object_is_type(a, json_type_object) ||
		    get_str(a, "containerID", r->container_id, sizeof(r->container_id)) ||
		    get_str(a, "ifname", r->ifname, sizeof(r->ifname)))
			return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
					"%s[%zu] needs string containerID and ifname", key, i);
		c->nr_valid++;
	}
	return 0;
}

static int parse_path_key(struct json_object *root, const char *key, char *buf, size_t len,
			  struct cni_error *e)
{
	int err = get_str(root, key, buf, len);

	if (err == -ENOENT)
		return 0;
	if (err || buf[0] != '/')
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"%s\" must be an absolute path", key);
	return 0;
}

/* The keys that describe workloads: DEL and GC need none of them. */
static int parse_workload_keys(struct cni_conf *c, struct cni_error *e)
{
	struct json_object *v;
	char s[32];
	int err;

	err = get_str(c->root, "namespace", c->ns, sizeof(c->ns));
	if ((err && err != -ENOENT) || !c->ns[0])
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"namespace\" must be a non-empty string");
	err = get_str(c->root, "mode", s, sizeof(s));
	if (err != -ENOENT && (err || bh_mode_parse(s, &c->mode)))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"mode\" must be learn, monitor or enforce");
	err = get_str(c->root, "hook", s, sizeof(s));
	if (err != -ENOENT && (err || bh_hook_parse(s, &c->hook)))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
				"\"hook\" must be tc or xdp");
	c->hook_set = err != -ENOENT;
	if (json_object_object_get_ex(c->root, "labels", &v) &&
	    (err = parse_labels_object(v, c, e)))
		return err;
	return parse_args_labels(c->root, c, e);
}

static void workload_defaults(struct cni_conf *c)
{
	strcpy(c->ns, "default");
	c->mode = BH_MODE_ENFORCE;
	c->hook = BH_HOOK_TC;
	c->hook_set = false;
	c->nr_labels = 0;
}

int cni_conf_parse(const char *buf, size_t len, struct cni_conf *c, struct cni_error *e)
{
	return cni_conf_parse_ex(buf, len, 0, c, e);
}

int cni_conf_parse_ex(const char *buf, size_t len, unsigned int flags, struct cni_conf *c,
		      struct cni_error *e)
{
	struct json_tokener *tok;
	int err;

	memset(c, 0, sizeof(*c));
	workload_defaults(c);

	tok = json_tokener_new();
	if (!tok)
		return cni_fail(e, ENOMEM, CNI_E_IO, "out of memory", NULL);
	c->root = json_tokener_parse_ex(tok, buf, (int)len);
	if (!c->root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) < len) {
		/* Trailing whitespace after the object is fine; anything else is not. */
		size_t end = c->root ? json_tokener_get_parse_end(tok) : 0;

		while (c->root && end < len && strchr(" \t\r\n", buf[end]))
			end++;
		if (!c->root || end < len) {
			err = cni_fail(e, EINVAL, CNI_E_DECODE, "failed to decode network config",
				       "%s", c->root ? "trailing data after the JSON object"
						     : json_tokener_error_desc(json_tokener_get_error(tok)));
			json_tokener_free(tok);
			goto fail;
		}
	}
	json_tokener_free(tok);
	if (!json_object_is_type(c->root, json_type_object)) {
		err = cni_fail(e, EINVAL, CNI_E_DECODE, "failed to decode network config",
			       "stdin is not a JSON object");
		goto fail;
	}

	err = get_str(c->root, "cniVersion", c->version, sizeof(c->version));
	if (err == -ENOENT) {
		err = cni_fail(e, EINVAL, CNI_E_VERSION, "incompatible CNI versions",
			       "config has no cniVersion; supported: 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0");
		goto fail;
	}
	if (err || !cni_version_supported(c->version)) {
		err = cni_fail(e, EINVAL, CNI_E_VERSION, "incompatible CNI versions",
			       "config version \"%s\", plugin supports 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0",
			       err ? "?" : c->version);
		goto fail;
	}
	err = get_str(c->root, "name", c->network, sizeof(c->network));
	if (err || !c->network[0]) {
		err = cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid network config",
			       "\"name\" (the network name) must be a non-empty string");
		goto fail;
	}
	if ((err = parse_path_key(c->root, "stateDir", c->state_dir, sizeof(c->state_dir), e)) ||
	    (err = parse_path_key(c->root, "bpffs", c->bpffs, sizeof(c->bpffs), e)) ||
	    (err = parse_gc_list(c->root, "cni.dev/attachments", c, e)) ||
	    (err = parse_gc_list(c->root, "cni.dev/valid-attachments", c, e)))
		goto fail;
	err = parse_workload_keys(c, e);
	if (err && (flags & CNI_CONF_LENIENT)) {
		memset(e, 0, sizeof(*e));
		workload_defaults(c);
		err = 0;
	}
	if (err)
		goto fail;
	return 0;
fail:
	cni_conf_free(c);
	return err;
}

void cni_conf_free(struct cni_conf *c)
{
	if (c->root)
		json_object_put(c->root);
	c->root = NULL;
	free(c->valid);
	c->valid = NULL;
	c->nr_valid = 0;
}

bool cni_conf_is_valid_attachment(const struct cni_conf *c, const char *cid, const char *ifname)
{
	for (int i = 0; i < c->nr_valid; i++)
		if (!strcmp(c->valid[i].container_id, cid) && !strcmp(c->valid[i].ifname, ifname))
			return true;
	return false;
}

/* "10.0.0.2/24" -> bh_ip (the interface's address, not the network);
 * "::ffff:10.0.0.2" is the IPv4 address, as bh_ip_parse has it. */
static int parse_cidr_ip(const char *s, struct bh_ip *ip)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	int plen, err = bh_cidr_split(s, ip, &plen);

	if (err || plen < 0)
		return -EINVAL;
	if (ip->family == 6 && !memcmp(ip->addr, mapped, 12))
		ip->family = 4;
	return 0;
}

#define PREV_BAD(...) cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid prevResult", __VA_ARGS__)

static int prev_ifaces(struct json_object *pr, struct cni_prev *p, struct cni_error *e)
{
	struct json_object *ifs, *sb;
	size_t n;

	if (!json_object_object_get_ex(pr, "interfaces", &ifs) ||
	    json_object_is_type(ifs, json_type_null))
		return 0;
	if (!json_object_is_type(ifs, json_type_array))
		return PREV_BAD("\"interfaces\" must be an array");
	n = json_object_array_length(ifs);
	if (n > CNI_MAX_IFACES)
		return PREV_BAD("more than %d interfaces", CNI_MAX_IFACES);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(ifs, i);
		struct cni_iface *f = &p->ifaces[i];

		if (!json_object_is_type(o, json_type_object) ||
		    get_str(o, "name", f->name, sizeof(f->name)) || !f->name[0])
			return PREV_BAD("interfaces[%zu] needs a name", i);
		if (json_object_object_get_ex(o, "sandbox", &sb) &&
		    !json_object_is_type(sb, json_type_null)) {
			if (!json_object_is_type(sb, json_type_string))
				return PREV_BAD("interfaces[%zu].sandbox must be a string", i);
			f->sandbox = json_object_get_string_len(sb) > 0;
		}
		if (json_object_object_get_ex(o, "mac", &sb) &&
		    !json_object_is_type(sb, json_type_null)) {
			if (!json_object_is_type(sb, json_type_string) ||
			    bh_mac_parse(json_object_get_string(sb), f->mac))
				return PREV_BAD("interfaces[%zu].mac must be a unicast MAC", i);
			f->has_mac = true;
		}
		p->nr_ifaces++;
	}
	return 0;
}

static int prev_ips(struct json_object *pr, struct cni_prev *p, struct cni_error *e)
{
	struct json_object *ips, *idx;
	char addr[64];
	size_t n;

	if (!json_object_object_get_ex(pr, "ips", &ips) ||
	    json_object_is_type(ips, json_type_null))
		return 0;
	if (!json_object_is_type(ips, json_type_array))
		return PREV_BAD("\"ips\" must be an array");
	n = json_object_array_length(ips);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(ips, i);
		struct bh_ip ip;

		if (!json_object_is_type(o, json_type_object) ||
		    get_str(o, "address", addr, sizeof(addr)) || parse_cidr_ip(addr, &ip))
			return PREV_BAD("ips[%zu].address must be an address with a prefix length", i);
		if (json_object_object_get_ex(o, "interface", &idx) &&
		    !json_object_is_type(idx, json_type_null)) {
			int64_t k;

			if (!json_object_is_type(idx, json_type_int))
				return PREV_BAD("ips[%zu].interface must be an index", i);
			k = json_object_get_int64(idx);
			if (k < 0 || k >= p->nr_ifaces)
				return PREV_BAD("ips[%zu].interface %lld is out of range", i,
						(long long)k);
			/* An address of a host-side interface (a gateway on the
			 * bridge) is not the workload's. */
			if (!p->ifaces[k].sandbox)
				continue;
		}
		if (p->nr_ips >= BH_MAX_WORKLOAD_IPS)
			return PREV_BAD("more than %d addresses for one workload",
					BH_MAX_WORKLOAD_IPS);
		p->ips[p->nr_ips++] = ip;
	}
	return 0;
}

int cni_prev_parse(const struct cni_conf *c, struct cni_prev *p, struct cni_error *e)
{
	struct json_object *pr;
	int err;

	memset(p, 0, sizeof(*p));
	if (!json_object_object_get_ex(c->root, "prevResult", &pr) ||
	    json_object_is_type(pr, json_type_null))
		return 0;
	if (!json_object_is_type(pr, json_type_object))
		return PREV_BAD("prevResult must be an object");
	p->present = true;
	if ((err = prev_ifaces(pr, p, e)) || (err = prev_ips(pr, p, e)))
		return err;
	return 0;
}

int cni_args_parse(const char *s, struct cni_args *a, struct cni_error *e)
{
	char *dup, *save = NULL, *pair;
	int err = 0;

	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return 0;
	dup = strdup(s);
	if (!dup)
		return cni_fail(e, ENOMEM, CNI_E_IO, "out of memory", NULL);
	for (pair = strtok_r(dup, ";", &save); pair && !err; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '='), *val;

		if (!eq)
			continue;	/* lenient: Go plugins would fail, we ignore it */
		*eq = '\0';
		val = eq + 1;
		if (!strcmp(pair, "K8S_POD_NAMESPACE")) {
			if (strlen(val) >= sizeof(a->pod_ns))
				err = cni_fail(e, EINVAL, CNI_E_ENV, "invalid CNI_ARGS",
					       "K8S_POD_NAMESPACE is too long");
			else
				strcpy(a->pod_ns, val);
		} else if (!strcmp(pair, "K8S_POD_NAME")) {
			if (strlen(val) >= sizeof(a->pod_name))
				err = cni_fail(e, EINVAL, CNI_E_ENV, "invalid CNI_ARGS",
					       "K8S_POD_NAME is too long");
			else
				strcpy(a->pod_name, val);
		} else if (!strcmp(pair, "BH_LABELS")) {
			char *save2 = NULL, *kv;

			for (kv = strtok_r(val, ",", &save2); kv && !err;
			     kv = strtok_r(NULL, ",", &save2)) {
				char *colon = strchr(kv, ':');

				if (colon)
					*colon = '\0';
				if (!colon || cni_label_set(a->labels, &a->nr_labels, kv, colon + 1))
					err = cni_fail(e, EINVAL, CNI_E_ENV, "invalid CNI_ARGS",
						       "BH_LABELS wants k:v,k2:v2 with valid labels, got \"%s%s%s\"",
						       kv, colon ? ":" : "", colon ? colon + 1 : "");
			}
		}
	}
	free(dup);
	return err;
}

/* Keep [A-Za-z0-9._-] (what a workload name allows), other characters
 * become '-'; the name starts and ends with a letter or digit. */
static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static int make_name(const char *in, size_t max, char *out)
{
	size_t n = 0, start = 0;

	while (in[start] && !name_char(in[start]))
		start++;
	for (size_t i = start; in[i] && n < max; i++) {
		char ch = in[i];

		out[n++] = name_char(ch) || ch == '.' || ch == '_' || ch == '-' ? ch : '-';
	}
	while (n && !name_char(out[n - 1]))
		n--;
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

int cni_workload_identity(const struct cni_conf *c, const struct cni_args *a,
			  const char *container_id, char ns[BH_NAME_MAX + 1],
			  char name[BH_NAME_MAX + 1], struct bh_label *labels, int *nr_labels,
			  struct cni_error *e)
{
	const char *n = a->pod_name[0] ? a->pod_name : container_id;
	size_t max = a->pod_name[0] ? BH_NAME_MAX : 12;

	if (make_name(a->pod_ns[0] ? a->pod_ns : c->ns, BH_NAME_MAX, ns))
		return cni_fail(e, EINVAL, CNI_E_CONFIG, "invalid workload namespace",
				"\"%s\" has no usable character",
				a->pod_ns[0] ? a->pod_ns : c->ns);
	if (make_name(n, max, name))
		return cni_fail(e, EINVAL, a->pod_name[0] ? CNI_E_ENV : CNI_E_CONTAINER,
				"invalid workload name", "\"%s\" has no usable character", n);
	*nr_labels = 0;
	for (int i = 0; i < c->nr_labels; i++)
		cni_label_set(labels, nr_labels, c->labels[i].key, c->labels[i].value);
	for (int i = 0; i < a->nr_labels; i++)
		if (cni_label_set(labels, nr_labels, a->labels[i].key, a->labels[i].value))
			return cni_fail(e, E2BIG, CNI_E_CONFIG, "too many labels",
					"at most %d labels per workload", BH_MAX_LABELS);
	return 0;
}

static int dup_json(struct json_object *o, char **out)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);

	*out = s ? strdup(s) : NULL;
	return *out ? 0 : -ENOMEM;
}

int cni_result_json(const struct cni_conf *c, char **out)
{
	struct json_object *pr, *copy = NULL;
	int err;

	*out = NULL;
	if (!json_object_object_get_ex(c->root, "prevResult", &pr) ||
	    !json_object_is_type(pr, json_type_object))
		return -ENOENT;
	if (json_object_deep_copy(pr, &copy, NULL) < 0)
		return -ENOMEM;
	/* libcni converts prevResult to the config's version before it
	 * hands it on, so only the version tag may differ. */
	json_object_object_add(copy, "cniVersion", json_object_new_string(c->version));
	err = dup_json(copy, out);
	json_object_put(copy);
	return err;
}

int cni_version_json(const char *input_version, char **out)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int err;

	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "cniVersion", json_object_new_string(
		input_version && *input_version ? input_version : CNI_VERSION_LATEST));
	/* Oldest first, as the reference plugins list them. */
	for (int i = (int)(sizeof(cni_versions) / sizeof(cni_versions[0])) - 2; i >= 0; i--)
		json_object_array_add(arr, json_object_new_string(cni_versions[i]));
	json_object_object_add(o, "supportedVersions", arr);
	err = dup_json(o, out);
	json_object_put(o);
	return err;
}

int cni_error_json(const struct cni_error *e, const char *version, char **out)
{
	struct json_object *o = json_object_new_object();
	int err;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "cniVersion", json_object_new_string(
		version && cni_version_supported(version) ? version : CNI_VERSION_LATEST));
	json_object_object_add(o, "code", json_object_new_int(e->code));
	json_object_object_add(o, "msg", json_object_new_string(e->msg));
	if (e->details[0])
		json_object_object_add(o, "details", json_object_new_string(e->details));
	err = dup_json(o, out);
	json_object_put(o);
	return err;
}
