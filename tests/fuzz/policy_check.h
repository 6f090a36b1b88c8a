/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What must hold for ANY policy input, whatever its bytes. Shared by
 * tests/unit/test_fuzz_policy.c (cmocka, mutated fixtures) and
 * tests/fuzz/fuzz_policy.c (libFuzzer). pf_check() returns NULL when
 * every invariant holds, else a description of the broken one:
 *   - parsing fails with -EINVAL, allocates nothing, and names the file,
 *     a line > 0 and a field or a message;
 *   - a parsed policy names its file and line, keeps its source, and
 *     that source parses again on its own into the same policy;
 *   - compiling against a few workloads either succeeds with well-formed
 *     map entries (prefix lengths, directions, verdicts the data path
 *     knows) or fails with a message (and a line when it names a file);
 *   - evaluating flows against the result stays in range.
 * Crashes, leaks and undefined behaviour are the sanitizers' part.
 */
#ifndef BH_POLICY_CHECK_H
#define BH_POLICY_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define PF_NAME "fuzz.yaml"

struct pf_stats {
	unsigned long inputs, parse_ok, parse_err, compile_ok, compile_err, policies, entries;
};

struct pf_env {
	struct bh_label wl_labels[4][3];
	struct bh_ip wl_ips[4];
	struct bh_compile_workload wl[4];
	struct bh_label ns_labels[3][2];
	struct bh_compile_namespace ns[3];
};

static inline void pf_label(struct bh_label *l, const char *k, const char *v)
{
	snprintf(l->key, sizeof(l->key), "%s", k);
	snprintf(l->value, sizeof(l->value), "%s", v);
}

static inline void pf_ip4(struct bh_ip *ip, unsigned char last)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	ip->addr[10] = ip->addr[11] = 0xff;
	ip->addr[12] = 10;
	ip->addr[15] = last;
}

/* Workloads whose labels match the selectors the fixtures use. */
static inline void pf_env_init(struct pf_env *e)
{
	static const char *const ns[3] = { "shop", "default", "kube-system" };
	static const char *const wl_ns[4] = { "shop", "shop", "default", "kube-system" };
	static const char *const wl_name[4] = { "web", "db", "lb", "dns" };
	static const char *const app[4] = { "web", "db", "lb", "prom" };
	int i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 3; i++) {
		pf_label(&e->ns_labels[i][0], "kubernetes.io/metadata.name", ns[i]);
		pf_label(&e->ns_labels[i][1], "team", i ? "ops" : "web");
		e->ns[i].name = ns[i];
		e->ns[i].nr_labels = 2;
		e->ns[i].labels = e->ns_labels[i];
	}
	for (i = 0; i < 4; i++) {
		pf_label(&e->wl_labels[i][0], "app", app[i]);
		pf_label(&e->wl_labels[i][1], "tier", i & 1 ? "back" : "front");
		pf_label(&e->wl_labels[i][2], "example.com/owned", "yes");
		pf_ip4(&e->wl_ips[i], (unsigned char)(i + 1));
		e->wl[i].ns = wl_ns[i];
		e->wl[i].name = wl_name[i];
		e->wl[i].slot = (__u32)i;
		e->wl[i].identity = BH_ID_WORKLOAD_BASE + (__u32)i;
		e->wl[i].nr_labels = 3;
		e->wl[i].labels = e->wl_labels[i];
		e->wl[i].nr_ips = 1;
		e->wl[i].ips = &e->wl_ips[i];
	}
	/* one IPv6 workload */
	memset(&e->wl_ips[3], 0, sizeof(e->wl_ips[3]));
	e->wl_ips[3].family = 6;
	e->wl_ips[3].addr[0] = 0xfd;
	e->wl_ips[3].addr[15] = 4;
}

static inline const char *pf_check_error(const struct bh_policy_error *err, const char *what)
{
	static char buf[1024];
	char line[600];

	bh_policy_error_format(err, line, sizeof(line));	/* must not crash */
	if (strcmp(err->file, PF_NAME)) {
		snprintf(buf, sizeof(buf), "%.32s error does not name the file: \"%.600s\"", what, line);
		return buf;
	}
	if (err->line <= 0) {
		snprintf(buf, sizeof(buf), "%.32s error has no line: \"%.600s\"", what, line);
		return buf;
	}
	if (!err->field[0] && !err->msg[0]) {
		snprintf(buf, sizeof(buf), "%.32s error has neither field nor message", what);
		return buf;
	}
	return NULL;
}

/* The document's own text is stored and parsed again later (apply,
 * export): alone, it must give the same policy. */
static inline const char *pf_check_source(const struct bh_policy *p)
{
	static char buf[1024];
	struct bh_policy_set again;
	struct bh_policy_error err;
	const struct bh_policy *q;
	const char *why = NULL;
	int ret;

	if (!p->source)
		return "parsed policy without source";
	memset(&err, 0, sizeof(err));
	ret = bh_policy_parse_buf(PF_NAME, p->source, strlen(p->source), &again, &err);
	if (ret) {
		char line[600];

		snprintf(buf, sizeof(buf), "stored source of %.64s/%.64s does not parse again: %.600s",
			 p->ns, p->name, bh_policy_error_format(&err, line, sizeof(line)));
		return buf;
	}
	q = again.nr == 1 ? &again.items[0] : NULL;
	if (!q)
		why = "stored source does not hold exactly one policy";
	else if (q->kind != p->kind || strcmp(q->ns, p->ns) || strcmp(q->name, p->name) ||
		 q->audit != p->audit || q->types_ingress != p->types_ingress ||
		 q->types_egress != p->types_egress || q->nr_ingress != p->nr_ingress ||
		 q->nr_egress != p->nr_egress)
		why = "stored source parses into a different policy";
	bh_policy_set_free(&again);
	return why;
}

static inline bool pf_pv_ok(__u8 v)
{
	return v <= BH_PV_DEFAULT_DENY;
}

static inline const char *pf_check_compiled(const struct bh_compile_output *out, int nr_wl,
					    struct pf_stats *st)
{
	static const __u8 protos[] = { 0, 1, 6, 17, 58, 132 };
	static const __u16 ports[] = { 0, 22, 53, 80, 443, 1000, 2047, 5432, 65535 };
	struct bh_eval_result r;
	size_t i;
	int w, d, k, n;

	if (out->nr_workloads != nr_wl)
		return "compile output has the wrong number of workloads";
	for (i = 0; i < out->nr_ipcache; i++)
		if (out->ipcache[i].key.prefixlen > 128)
			return "ipcache prefix longer than 128";
	for (w = 0; w < nr_wl; w++) {
		const struct bh_compiled_workload *cw = &out->workloads[w];

		st->entries += cw->nr;
		for (i = 0; i < cw->nr; i++) {
			const struct bh_policy_entry *e = &cw->entries[i];
			__u32 pl = e->key.prefixlen;

			if (pl != 8 && (pl < 40 || pl > 64))
				return "policy entry with a prefix length the data path never uses";
			if (e->key.dir != BH_DIR_INGRESS && e->key.dir != BH_DIR_EGRESS)
				return "policy entry with an unknown direction";
			if (!pf_pv_ok(e->val.verdict) || !pf_pv_ok(e->val.audit_verdict))
				return "policy entry with an unknown verdict";
		}
		for (d = 0; d < 2; d++)
			for (k = 0; k < (int)sizeof(protos); k++)
				for (n = 0; n < (int)(sizeof(ports) / sizeof(ports[0])); n++) {
					bh_eval(cw, (enum bh_dir)d, BH_ID_WORLD, protos[k], ports[n], &r);
					if (!pf_pv_ok(r.verdict) || !pf_pv_ok(r.audit_verdict) ||
					    r.verdict == BH_PV_NONE)
						return "evaluation gives a verdict out of range";
					bh_eval(cw, (enum bh_dir)d, BH_ID_WORKLOAD_BASE + (__u32)(n & 3),
						protos[k], ports[n], &r);
					if (!pf_pv_ok(r.verdict) || r.verdict == BH_PV_NONE)
						return "evaluation gives a verdict out of range";
				}
	}
	for (i = 0; i < out->quarantine.nr; i++)
		if (out->quarantine.entries[i].key.prefixlen > 64)
			return "quarantine entry longer than 64";
	return NULL;
}

static inline const char *pf_check(const char *buf, size_t len, struct pf_stats *st)
{
	static char msg[600];
	struct bh_policy_set set;
	struct bh_policy_error err;
	struct bh_compile_input in;
	struct bh_compile_output out;
	struct pf_env env;
	const char *why = NULL;
	int ret, i;

	st->inputs++;
	memset(&err, 0, sizeof(err));
	ret = bh_policy_parse_buf(PF_NAME, buf, len, &set, &err);
	if (ret) {
		st->parse_err++;
		if (ret != -EINVAL) {
			snprintf(msg, sizeof(msg), "parse returned %d, not -EINVAL", ret);
			return msg;
		}
		if (set.nr || set.items)
			return "failed parse left policies behind";
		return pf_check_error(&err, "parse");
	}
	st->parse_ok++;
	st->policies += (unsigned long)set.nr;
	for (i = 0; i < set.nr && !why; i++) {
		const struct bh_policy *p = &set.items[i];

		if (!p->name[0])
			why = "parsed policy without a name";
		else if (strcmp(p->file, PF_NAME) || p->line <= 0)
			why = "parsed policy does not name its file and line";
		else
			why = pf_check_source(p);
	}
	if (why) {
		bh_policy_set_free(&set);
		return why;
	}

	pf_env_init(&env);
	memset(&in, 0, sizeof(in));
	in.nr_workloads = 4;
	in.workloads = env.wl;
	in.nr_namespaces = 3;
	in.namespaces = env.ns;
	in.nr_policies = set.nr;
	in.policies = set.items;
	memset(&err, 0, sizeof(err));
	ret = bh_compile(&in, &out, &err);
	if (ret) {
		st->compile_err++;
		if (!err.msg[0])
			why = "compile error without a message";
		else if (err.file[0] && err.line <= 0)
			why = "compile error names a file but no line";
	} else {
		st->compile_ok++;
		why = pf_check_compiled(&out, in.nr_workloads, st);
		bh_compile_output_free(&out);
	}
	bh_policy_set_free(&set);
	return why;
}

#endif /* BH_POLICY_CHECK_H */
