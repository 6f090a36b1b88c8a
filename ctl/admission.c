// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* AdmissionReview in, AdmissionReview out (admission.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admission.h"
#include "policy.h"

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Which objects are ours to judge. */
static bool is_policy(const char *api, const char *kind)
{
	return api && kind &&
	       ((!strcmp(api, "networking.k8s.io/v1") && !strcmp(kind, "NetworkPolicy")) ||
		(!strcmp(api, "bulkhead.io/v1") && !strcmp(kind, "BulkheadPolicy")));
}

/* The document bulkhead's parser reads: see admission.h. The namespace
 * comes from the request when the object omits it (a CREATE through a
 * namespaced URL), the name from generateName when the server has not
 * made one yet. */
static struct json_object *policy_document(struct json_object *obj, const char *req_ns)
{
	struct json_object *doc = json_object_new_object(), *md = json_object_new_object();
	struct json_object *omd = get(obj, "metadata"), *v;
	static const char *const copy[] = { "apiVersion", "kind", "spec" };
	static const char *const md_copy[] = { "name", "namespace", "labels", "annotations" };

	for (size_t i = 0; i < 3; i++)
		if ((v = get(obj, copy[i])))
			json_object_object_add(doc, copy[i], json_object_get(v));
	for (size_t i = 0; i < 4; i++)
		if ((v = get(omd, md_copy[i])))
			json_object_object_add(md, md_copy[i], json_object_get(v));
	if (!get(md, "name") && get_str(omd, "generateName")) {
		char name[300];

		snprintf(name, sizeof(name), "%sx", get_str(omd, "generateName"));
		json_object_object_add(md, "name", json_object_new_string(name));
	}
	if (!get(md, "namespace") && req_ns && *req_ns)
		json_object_object_add(md, "namespace", json_object_new_string(req_ns));
	json_object_object_add(doc, "metadata", md);
	return doc;
}

/* The answer: allowed, or denied with the field and reason (as a
 * metav1.Status with one cause, which kubectl prints). */
static struct json_object *answer(const char *uid, const struct bh_policy_error *denied)
{
	struct json_object *rev = json_object_new_object(), *resp = json_object_new_object();

	json_object_object_add(rev, "apiVersion", json_object_new_string("admission.k8s.io/v1"));
	json_object_object_add(rev, "kind", json_object_new_string("AdmissionReview"));
	json_object_object_add(resp, "uid", json_object_new_string(uid));
	json_object_object_add(resp, "allowed", json_object_new_boolean(!denied));
	if (denied) {
		struct json_object *st = json_object_new_object(), *det = json_object_new_object();
		struct json_object *causes = json_object_new_array(), *cause;
		char msg[512];

		snprintf(msg, sizeof(msg), "bulkhead cannot enforce this policy exactly: %s%s%s",
			 denied->field, denied->field[0] ? ": " : "", denied->msg);
		json_object_object_add(st, "code", json_object_new_int(422));
		json_object_object_add(st, "reason", json_object_new_string("Invalid"));
		json_object_object_add(st, "message", json_object_new_string(msg));
		cause = json_object_new_object();
		json_object_object_add(cause, "reason", json_object_new_string("FieldValueInvalid"));
		json_object_object_add(cause, "field", json_object_new_string(denied->field));
		json_object_object_add(cause, "message", json_object_new_string(denied->msg));
		json_object_array_add(causes, cause);
		json_object_object_add(det, "causes", causes);
		json_object_object_add(st, "details", det);
		json_object_object_add(resp, "status", st);
	}
	json_object_object_add(rev, "response", resp);
	return rev;
}

/* Judge one object: 0 allowed; 1 denied (*e filled). */
static int judge(struct json_object *obj, const char *req_ns, struct bh_policy_error *e)
{
	struct json_object *doc = policy_document(obj, req_ns);
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	struct bh_policy_set set = { 0 };
	int err;

	/* JSON is YAML: the very parser `policy apply` runs. */
	err = bh_policy_parse_buf("object", text, strlen(text), &set, e);
	json_object_put(doc);
	if (err == -ENOMEM)
		return -ENOMEM;
	bh_policy_set_free(&set);
	return err ? 1 : 0;
}

int bh_admission_review(const char *body, size_t len, char **response, char *msg,
			size_t msg_len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *req, *obj, *out;
	struct bh_policy_error e = { 0 };
	const char *uid, *op, *api, *kind;
	int verdict = 0;

	*response = NULL;
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(msg, msg_len, "the body is not JSON (%s)",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(root);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	api = get_str(root, "apiVersion");
	kind = get_str(root, "kind");
	if (!api || strcmp(api, "admission.k8s.io/v1") || !kind || strcmp(kind, "AdmissionReview")) {
		snprintf(msg, msg_len, "expected an admission.k8s.io/v1 AdmissionReview");
		json_object_put(root);
		return -EINVAL;
	}
	req = get(root, "request");
	uid = get_str(req, "uid");
	if (!uid) {
		snprintf(msg, msg_len, "request.uid missing");
		json_object_put(root);
		return -EINVAL;
	}
	op = get_str(req, "operation");
	obj = get(req, "object");
	api = get_str(obj, "apiVersion");
	kind = get_str(obj, "kind");
	if (op && (!strcmp(op, "CREATE") || !strcmp(op, "UPDATE")) && is_policy(api, kind)) {
		verdict = judge(obj, get_str(req, "namespace"), &e);
		if (verdict < 0) {
			json_object_put(root);
			return verdict;
		}
	}
	out = answer(uid, verdict ? &e : NULL);
	*response = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(root);
	return *response ? 0 : -ENOMEM;
}
