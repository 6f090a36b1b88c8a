// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Field walking and the parts both policy formats share. */
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

/* ------------------------------------------------------------ field path */
size_t pc_push(struct pc_ctx *c, const char *key)
{
	size_t saved = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s",
			 c->len ? "." : "", key);

	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return saved;
}

size_t pc_push_idx(struct pc_ctx *c, int idx)
{
	size_t saved = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%d]", idx);

	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return saved;
}

void pc_pop(struct pc_ctx *c, size_t saved)
{
	c->len = saved;
	c->path[saved] = '\0';
}

static int vfail(struct pc_ctx *c, const struct yd_node *n, const char *key,
		 const char *fmt, va_list ap)
{
	char msg[sizeof(c->err->msg)];
	size_t saved = c->len;
	int ret;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (key)
		pc_push(c, key);
	ret = bh_perr(c->err, c->file, n ? n->line : 0, n ? n->col : 0, c->path, "%s", msg);
	pc_pop(c, saved);
	return ret;
}

int pc_fail(struct pc_ctx *c, const struct yd_node *n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(c, n, NULL, fmt, ap);
	va_end(ap);
	return ret;
}

int pc_fail_at(struct pc_ctx *c, const struct yd_node *n, const char *key,
	       const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(c, n, key, fmt, ap);
	va_end(ap);
	return ret;
}

/* --------------------------------------------------------------- scalars */
static const char *type_name(const struct yd_node *n)
{
	if (yd_is_null(n))
		return "null";
	return n->type == YD_MAP ? "a mapping" : n->type == YD_SEQ ? "a list" : "a scalar";
}

int pc_map(struct pc_ctx *c, const struct yd_node *n, const char *const *allowed)
{
	size_t i, j;
	const char *const *a;

	if (n->type != YD_MAP)
		return pc_fail(c, n, "must be a mapping, not %s", type_name(n));
	for (i = 0; i < n->nr; i++) {
		const struct yd_node *k = n->keys[i];

		for (a = allowed; *a && strcmp(*a, k->str); a++)
			;
		if (!*a)
			return pc_fail_at(c, k, k->str, "unknown field \"%s\"", k->str);
		for (j = 0; j < i; j++)
			if (!strcmp(n->keys[j]->str, k->str))
				return pc_fail_at(c, k, k->str, "duplicate field \"%s\"",
						  k->str);
	}
	return 0;
}

int pc_seq(struct pc_ctx *c, const struct yd_node *n)
{
	if (n->type == YD_SEQ || yd_is_null(n))
		return 0;
	return pc_fail(c, n, "must be a list, not %s", type_name(n));
}

int pc_str(struct pc_ctx *c, const struct yd_node *n, char *out, size_t len)
{
	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a non-empty string, not %s", type_name(n));
	if (!n->str[0])
		return pc_fail(c, n, "must not be empty");
	if (strlen(n->str) >= len)
		return pc_fail(c, n, "too long (at most %zu characters)", len - 1);
	memcpy(out, n->str, strlen(n->str) + 1);
	return 0;
}

int pc_uint(struct pc_ctx *c, const struct yd_node *n, unsigned long min,
	    unsigned long max, unsigned long *out)
{
	const char *s = n->str;
	unsigned long v = 0;

	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a number, not %s", type_name(n));
	if (!n->plain)
		return pc_fail(c, n, "must be a number, not the string \"%s\"", s);
	if (!*s)
		return pc_fail(c, n, "must be a number");
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return pc_fail(c, n, "\"%s\" is not a number", n->str);
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return pc_fail(c, n, "%s is out of range %lu..%lu", n->str, min, max);
	*out = v;
	return 0;
}

int pc_bool(struct pc_ctx *c, const struct yd_node *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" };
	static const char *const f[] = { "false", "False", "FALSE" };
	int i;

	if (n->type == YD_SCALAR && n->plain) {
		for (i = 0; i < 3; i++) {
			if (!strcmp(n->str, t[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(n->str, f[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return pc_fail(c, n, "must be true or false");
}

/* ----------------------------------------------------------------- names */
static bool alnum_lower(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

bool pc_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pc_dns_subdomain(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (!alnum_lower(s[i]) && s[i] != '-' && s[i] != '.')
			return false;
		if (s[i] == '.' && (!alnum_lower(s[i - 1]) || !alnum_lower(s[i + 1])))
			return false;
	}
	return true;
}

/* A label name or value: alphanumerics, '-', '_', '.', alphanumeric at
 * both ends, at most 63 characters. */
static bool label_word(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool pc_label_value_ok(const char *s)
{
	return !*s || label_word(s, strlen(s));
}

bool pc_label_key_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];
	size_t pl;

	if (!slash)
		return label_word(s, strlen(s));
	pl = (size_t)(slash - s);
	if (pl == 0 || pl >= sizeof(prefix))
		return false;
	memcpy(prefix, s, pl);
	prefix[pl] = '\0';
	return pc_dns_subdomain(prefix) && label_word(slash + 1, strlen(slash + 1));
}

/* ------------------------------------------------------------- metadata */
/* A map of label keys to values (matchLabels, metadata.labels). */
static int label_map(struct pc_ctx *c, const struct yd_node *n, int *nr,
		     struct bh_label **out, bool annotations)
{
	size_t i, j;
	struct bh_label *l = NULL;

	if (n->type != YD_MAP)
		return pc_fail(c, n, "must be a mapping, not %s", type_name(n));
	if (!annotations && n->nr > BH_MAX_LABELS)
		return pc_fail(c, n, "too many labels (at most %d)", BH_MAX_LABELS);
	if (out && n->nr) {
		l = calloc(n->nr, sizeof(*l));
		if (!l)
			return -ENOMEM;
	}
	for (i = 0; i < n->nr; i++) {
		const struct yd_node *k = n->keys[i], *v = n->items[i];
		const char *val = yd_is_null(v) ? "" : v->str;

		for (j = 0; j < i; j++)
			if (!strcmp(n->keys[j]->str, k->str))
				goto dup;
		if (!pc_label_key_ok(k->str) && !(annotations && k->str[0] &&
						  strlen(k->str) <= BH_NAME_MAX)) {
			pc_fail_at(c, k, k->str, "invalid label key \"%s\"", k->str);
			goto fail;
		}
		if (v->type != YD_SCALAR) {
			pc_fail_at(c, v, k->str, "must be a string, not %s", type_name(v));
			goto fail;
		}
		if (!annotations && !pc_label_value_ok(val)) {
			pc_fail_at(c, v, k->str, "invalid label value \"%s\" (at most 63 "
				   "alphanumerics, '-', '_' or '.', alphanumeric at both ends)",
				   val);
			goto fail;
		}
		if (l) {
			snprintf(l[i].key, sizeof(l[i].key), "%s", k->str);
			snprintf(l[i].value, sizeof(l[i].value), "%s", val);
		}
		continue;
dup:
		pc_fail_at(c, k, k->str, "duplicate field \"%s\"", k->str);
		goto fail;
	}
	if (out) {
		*out = l;
		*nr = (int)n->nr;
	}
	return 0;
fail:
	free(l);
	return -EINVAL;
}

int pc_metadata(struct pc_ctx *c, const struct yd_node *n, bool cluster, struct bh_policy *p)
{
	static const char *const fields[] = { "name", "namespace", "labels", "annotations", NULL };
	const struct yd_node *v;
	size_t saved = pc_push(c, "metadata");
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		goto out;
	v = yd_map_get(n, "name");
	if (!v) {
		ret = pc_fail_at(c, n, "name", "required field missing");
		goto out;
	}
	pc_push(c, "name");
	ret = pc_str(c, v, p->name, sizeof(p->name));
	if (!ret && !pc_dns_subdomain(p->name))
		ret = pc_fail(c, v, "\"%s\" is not a valid name (lowercase alphanumerics, "
			      "'-' and '.', at most 253)", p->name);
	pc_pop(c, saved);
	pc_push(c, "metadata");
	if (ret)
		goto out;

	v = yd_map_get(n, "namespace");
	if (v && cluster) {
		ret = pc_fail_at(c, v, "namespace",
				 "a ClusterPolicy is cluster-wide and has no namespace "
				 "(use spec.namespaceSelector)");
		goto out;
	}
	if (!cluster && (!v || yd_is_null(v))) {
		snprintf(p->ns, sizeof(p->ns), "default");
	} else if (v) {
		pc_push(c, "namespace");
		ret = pc_str(c, v, p->ns, sizeof(p->ns));
		if (!ret && !pc_dns_label(p->ns))
			ret = pc_fail(c, v, "\"%s\" is not a valid namespace name (lowercase "
				      "alphanumerics and '-', at most 63)", p->ns);
		pc_pop(c, saved);
		pc_push(c, "metadata");
		if (ret)
			goto out;
	}
	v = yd_map_get(n, "labels");
	if (v && !yd_is_null(v)) {
		pc_push(c, "labels");
		ret = label_map(c, v, NULL, NULL, false);
		if (ret)
			goto out;
		pc_pop(c, saved);
		pc_push(c, "metadata");
	}
	v = yd_map_get(n, "annotations");
	if (v && !yd_is_null(v)) {
		pc_push(c, "annotations");
		ret = label_map(c, v, NULL, NULL, true);
	}
out:
	pc_pop(c, saved);
	return ret;
}

/* ------------------------------------------------------------- selectors */
static const struct {
	const char *name;
	enum bh_sel_op op;
} sel_ops[] = {
	{ "In", BH_SEL_IN },
	{ "NotIn", BH_SEL_NOT_IN },
	{ "Exists", BH_SEL_EXISTS },
	{ "DoesNotExist", BH_SEL_DOES_NOT_EXIST },
};

static int sel_expr(struct pc_ctx *c, const struct yd_node *n, struct bh_sel_expr *e)
{
	static const char *const fields[] = { "key", "operator", "values", NULL };
	const struct yd_node *k, *op, *vals;
	size_t saved = c->len, i, j;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	k = yd_map_get(n, "key");
	op = yd_map_get(n, "operator");
	vals = yd_map_get(n, "values");
	if (!k)
		return pc_fail_at(c, n, "key", "required field missing");
	if (!op)
		return pc_fail_at(c, n, "operator", "required field missing");
	pc_push(c, "key");
	ret = pc_str(c, k, e->key, sizeof(e->key));
	if (!ret && !pc_label_key_ok(e->key))
		ret = pc_fail(c, k, "invalid label key \"%s\"", e->key);
	pc_pop(c, saved);
	if (ret)
		return ret;

	for (i = 0; i < sizeof(sel_ops) / sizeof(sel_ops[0]); i++)
		if (op->type == YD_SCALAR && !strcmp(op->str, sel_ops[i].name))
			break;
	if (i == sizeof(sel_ops) / sizeof(sel_ops[0]))
		return pc_fail_at(c, op, "operator", "must be In, NotIn, Exists or "
				  "DoesNotExist, not \"%s\"",
				  op->type == YD_SCALAR ? op->str : type_name(op));
	e->op = sel_ops[i].op;

	pc_push(c, "values");
	if (vals) {
		ret = pc_seq(c, vals);
		if (ret)
			goto out;
	}
	if (e->op == BH_SEL_IN || e->op == BH_SEL_NOT_IN) {
		if (!vals || vals->type != YD_SEQ || !vals->nr) {
			ret = pc_fail(c, vals ? vals : n, "operator %s needs at least one value",
				      op->str);
			goto out;
		}
	} else if (vals && vals->type == YD_SEQ && vals->nr) {
		ret = pc_fail(c, vals, "operator %s takes no values", op->str);
		goto out;
	}
	if (!vals || vals->type != YD_SEQ || !vals->nr)
		goto out;
	e->values = calloc(vals->nr, sizeof(*e->values));
	if (!e->values) {
		ret = -ENOMEM;
		goto out;
	}
	e->nr_values = (int)vals->nr;
	for (i = 0; i < vals->nr; i++) {
		const struct yd_node *v = vals->items[i];
		size_t s2 = pc_push_idx(c, (int)i);

		if (v->type != YD_SCALAR || yd_is_null(v))
			ret = pc_fail(c, v, "must be a string, not %s", type_name(v));
		else if (!pc_label_value_ok(v->str))
			ret = pc_fail(c, v, "invalid label value \"%s\"", v->str);
		for (j = 0; !ret && j < i; j++)
			if (!strcmp(e->values[j], v->str))
				ret = pc_fail(c, v, "duplicate value \"%s\"", v->str);
		if (ret)
			goto out;
		snprintf(e->values[i], sizeof(e->values[i]), "%s", v->str);
		pc_pop(c, s2);
	}
out:
	pc_pop(c, saved);
	return ret;
}

int pc_selector(struct pc_ctx *c, const struct yd_node *n, struct bh_selector *sel)
{
	static const char *const fields[] = { "matchLabels", "matchExpressions", NULL };
	const struct yd_node *ml, *me;
	size_t saved = c->len, i;
	int ret;

	memset(sel, 0, sizeof(*sel));
	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	sel->present = true;
	ml = yd_map_get(n, "matchLabels");
	if (ml && !yd_is_null(ml)) {
		pc_push(c, "matchLabels");
		ret = label_map(c, ml, &sel->nr_match, &sel->match, false);
		pc_pop(c, saved);
		if (ret)
			goto fail;
	}
	me = yd_map_get(n, "matchExpressions");
	if (me) {
		pc_push(c, "matchExpressions");
		ret = pc_seq(c, me);
		if (ret)
			goto fail;
		if (me->type == YD_SEQ && me->nr) {
			sel->expr = calloc(me->nr, sizeof(*sel->expr));
			if (!sel->expr) {
				ret = -ENOMEM;
				goto fail;
			}
			for (i = 0; i < me->nr; i++) {
				size_t s2 = pc_push_idx(c, (int)i);

				ret = sel_expr(c, me->items[i], &sel->expr[i]);
				sel->nr_expr = (int)i + 1;
				if (ret)
					goto fail;
				pc_pop(c, s2);
			}
		}
		pc_pop(c, saved);
	}
	return 0;
fail:
	pc_pop(c, saved);
	bh_selector_free(sel);
	return ret;
}

/* ----------------------------------------------------------------- peers */
static int cidr_field(struct pc_ctx *c, const struct yd_node *n, struct bh_cidr *out)
{
	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a CIDR string, not %s", type_name(n));
	if (bh_cidr_parse(n->str, out))
		return pc_fail(c, n, "\"%s\" is not a valid CIDR (e.g. 10.0.0.0/8 or "
			       "fd00::/64)", n->str);
	return 0;
}

static int ip_block(struct pc_ctx *c, const struct yd_node *n, struct bh_peer *p)
{
	static const char *const fields[] = { "cidr", "except", NULL };
	const struct yd_node *cidr, *ex;
	size_t saved = c->len, i;
	char buf[64];
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	cidr = yd_map_get(n, "cidr");
	if (!cidr)
		return pc_fail_at(c, n, "cidr", "required field missing");
	pc_push(c, "cidr");
	ret = cidr_field(c, cidr, &p->cidr);
	pc_pop(c, saved);
	if (ret)
		return ret;
	p->has_cidr = true;
	ex = yd_map_get(n, "except");
	if (!ex)
		return 0;
	pc_push(c, "except");
	ret = pc_seq(c, ex);
	if (ret || ex->type != YD_SEQ || !ex->nr)
		goto out;
	p->except = calloc(ex->nr, sizeof(*p->except));
	if (!p->except) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ex->nr; i++) {
		struct bh_cidr *e = &p->except[i];

		pc_push_idx(c, (int)i);
		ret = cidr_field(c, ex->items[i], e);
		if (ret)
			goto out;
		p->nr_except = (int)i + 1;
		/* Kubernetes: each except must lie strictly inside cidr. */
		if (!bh_cidr_contains(&p->cidr, e) || e->prefixlen == p->cidr.prefixlen) {
			snprintf(buf, sizeof(buf), "%s", cidr->str);
			ret = pc_fail(c, ex->items[i], "%s is not strictly inside the "
				      "ipBlock cidr %s", ex->items[i]->str, buf);
			goto out;
		}
		pc_pop(c, saved);
		pc_push(c, "except");
	}
out:
	pc_pop(c, saved);
	return ret;
}

static int peer(struct pc_ctx *c, const struct yd_node *n, struct bh_peer *p)
{
	static const char *const fields[] = { "podSelector", "namespaceSelector", "ipBlock",
					      NULL };
	const struct yd_node *ps, *ns, *ib;
	size_t saved = c->len;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	ps = yd_map_get(n, "podSelector");
	ns = yd_map_get(n, "namespaceSelector");
	ib = yd_map_get(n, "ipBlock");
	if (ps && yd_is_null(ps))
		ps = NULL;
	if (ns && yd_is_null(ns))
		ns = NULL;
	if (ib && yd_is_null(ib))
		ib = NULL;
	if (!ps && !ns && !ib)
		return pc_fail(c, n, "a peer needs podSelector, namespaceSelector or ipBlock");
	if (ib && (ps || ns))
		return pc_fail_at(c, ib, "ipBlock", "ipBlock cannot be combined with "
				  "podSelector or namespaceSelector in one peer (use two peers)");
	if (ps) {
		pc_push(c, "podSelector");
		ret = pc_selector(c, ps, &p->pod);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	if (ns) {
		pc_push(c, "namespaceSelector");
		ret = pc_selector(c, ns, &p->ns);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	if (ib) {
		pc_push(c, "ipBlock");
		ret = ip_block(c, ib, p);
		pc_pop(c, saved);
	}
	return ret;
}

int pc_peers(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	size_t saved = c->len, i;
	int ret;

	ret = pc_seq(c, n);
	if (ret)
		return ret;
	r->peers_present = true;
	if (n->type != YD_SEQ || !n->nr)
		return 0;
	r->peers = calloc(n->nr, sizeof(*r->peers));
	if (!r->peers)
		return -ENOMEM;
	for (i = 0; i < n->nr; i++) {
		pc_push_idx(c, (int)i);
		r->nr_peers = (int)i + 1;
		ret = peer(c, n->items[i], &r->peers[i]);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

/* ----------------------------------------------------------------- ports */
static int add_ports(struct bh_rule *r, size_t more)
{
	struct bh_port *p = realloc(r->ports, (size_t)r->nr_ports * sizeof(*p) +
				    more * sizeof(*p));

	if (!p)
		return -ENOMEM;
	r->ports = p;
	memset(p + r->nr_ports, 0, more * sizeof(*p));
	return 0;
}

static int port_entry(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt)
{
	static const char *const fields[] = { "protocol", "port", "endPort", NULL };
	static const struct { const char *name; __u8 proto; } protos[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, { "SCTP", IPPROTO_SCTP },
	};
	const struct yd_node *pr, *po, *ep;
	unsigned long v;
	size_t i;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	pr = yd_map_get(n, "protocol");
	po = yd_map_get(n, "port");
	ep = yd_map_get(n, "endPort");
	pt->proto = IPPROTO_TCP;	/* Kubernetes default */
	if (pr && !yd_is_null(pr)) {
		for (i = 0; i < 3; i++)
			if (pr->type == YD_SCALAR && !strcmp(pr->str, protos[i].name))
				break;
		if (i == 3) {
			if (c->native && pr->type == YD_SCALAR &&
			    (!strcmp(pr->str, "ICMP") || !strcmp(pr->str, "ICMPv6")))
				return pc_fail_at(c, pr, "protocol", "ICMP goes in the rule's "
						  "icmp list, not in ports");
			return pc_fail_at(c, pr, "protocol", "must be TCP, UDP or SCTP, not "
					  "\"%s\"", pr->type == YD_SCALAR ? pr->str :
					  type_name(pr));
		}
		pt->proto = protos[i].proto;
	}
	if (po && !yd_is_null(po)) {
		if (po->type == YD_SCALAR &&
		    (!po->plain || isalpha((unsigned char)po->str[0])))
			return pc_fail_at(c, po, "port", "named port \"%s\" is not supported: "
					  "bulkhead does not know container port names, use "
					  "the number", po->str);
		ret = pc_uint(c, po, 1, 65535, &v);
		if (ret)
			return pc_fail_at(c, po, "port", "%s", c->err->msg);
		pt->has_port = true;
		pt->port = pt->end_port = (__u16)v;
	}
	if (ep && !yd_is_null(ep)) {
		if (!pt->has_port)
			return pc_fail_at(c, ep, "endPort", "endPort requires port");
		ret = pc_uint(c, ep, 1, 65535, &v);
		if (ret)
			return pc_fail_at(c, ep, "endPort", "%s", c->err->msg);
		if (v < pt->port)
			return pc_fail_at(c, ep, "endPort", "endPort %lu is below port %u",
					  v, pt->port);
		pt->end_port = (__u16)v;
	}
	return 0;
}

int pc_ports(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	size_t saved = c->len, i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	ret = add_ports(r, n->nr);
	if (ret)
		return ret;
	for (i = 0; i < n->nr; i++) {
		pc_push_idx(c, (int)i);
		ret = port_entry(c, n->items[i], &r->ports[r->nr_ports]);
		pc_pop(c, saved);
		if (ret)
			return ret;
		r->nr_ports++;
	}
	return 0;
}

static int icmp_entry(struct pc_ctx *c, const struct yd_node *n, struct bh_port *pt)
{
	static const char *const fields[] = { "protocol", "type", "code", NULL };
	const struct yd_node *pr, *ty, *co;
	unsigned long type = 0, code = 0;
	size_t saved = c->len;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	pr = yd_map_get(n, "protocol");
	ty = yd_map_get(n, "type");
	co = yd_map_get(n, "code");
	pt->proto = IPPROTO_ICMP;
	if (pr && !yd_is_null(pr)) {
		if (pr->type == YD_SCALAR && !strcmp(pr->str, "ICMPv6"))
			pt->proto = IPPROTO_ICMPV6;
		else if (pr->type != YD_SCALAR || strcmp(pr->str, "ICMP"))
			return pc_fail_at(c, pr, "protocol", "must be ICMP or ICMPv6, not \"%s\"",
					  pr->type == YD_SCALAR ? pr->str : type_name(pr));
	}
	if (co && !ty)
		return pc_fail_at(c, co, "code", "code requires type");
	if (!ty)
		return 0;
	pc_push(c, "type");
	ret = pc_uint(c, ty, 0, 255, &type);
	pc_pop(c, saved);
	if (ret)
		return ret;
	pt->has_port = true;
	pt->port = (__u16)(type << 8);
	pt->end_port = (__u16)(type << 8 | 0xff);
	if (!co)
		return 0;
	pc_push(c, "code");
	ret = pc_uint(c, co, 0, 255, &code);
	pc_pop(c, saved);
	if (ret)
		return ret;
	pt->port = pt->end_port = (__u16)(type << 8 | code);
	return 0;
}

int pc_icmp(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	size_t saved = c->len, i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	ret = add_ports(r, n->nr);
	if (ret)
		return ret;
	for (i = 0; i < n->nr; i++) {
		pc_push_idx(c, (int)i);
		ret = icmp_entry(c, n->items[i], &r->ports[r->nr_ports]);
		pc_pop(c, saved);
		if (ret)
			return ret;
		r->nr_ports++;
	}
	return 0;
}
