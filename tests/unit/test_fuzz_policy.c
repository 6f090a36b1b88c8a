// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policy parser and compiler fuzzing, bounded: the repository's YAML
 * fixtures (tests/unit/data/ and docs/examples/, *.yaml) mutated byte by
 * byte and line by line a few thousand times, plus hand-made hostile
 * inputs (deep nesting, alias bombs, huge scalars, NULs, many documents).
 * Every input goes through tests/fuzz/policy_check.h: no crash, every
 * failure names file, line and field or message, parsed sources parse
 * again, compiled entries are well-formed. `make fuzz` builds this test
 * with -fsanitize=address,undefined; `make test` with the normal flags.
 * BH_FUZZ_SEED=N and BH_FUZZ_SCALE=N reproduce or lengthen a run.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../fuzz/policy_check.h"

#define MAX_SEEDS	32
#define MAX_INPUT	(64 * 1024)

struct seed {
	char path[256];
	char *buf;
	size_t len;
};

struct fp {
	int nr;
	struct seed seeds[MAX_SEEDS];
	uint64_t seed, rng;
	unsigned int scale;
	struct pf_stats st;
	char *buf;		/* the current input, MAX_INPUT + 1 */
	/* broken invariants, one line per kind (first example printed) */
	int nr_kinds;
	char kinds[16][48];
	unsigned long kind_count[16], failures;
};

static uint64_t rnd(struct fp *z)
{
	uint64_t x = (z->rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t rn(struct fp *z, size_t n)
{
	return n ? (size_t)(rnd(z) % n) : 0;
}

#define PICK(z, a) ((a)[rn((z), sizeof(a) / sizeof((a)[0]))])

/* YAML-significant bytes and the policy vocabulary, to get past syntax. */
static const char bytes[] = ":-{}[],\"'#&*!|>%@` \t\n\r\\?0123456789.\x00\xff\xc3";
static const char *const words[] = {
	"apiVersion", "kind", "metadata", "name", "namespace", "spec", "podSelector",
	"namespaceSelector", "selector", "matchLabels", "matchExpressions", "key", "operator",
	"values", "In", "NotIn", "Exists", "DoesNotExist", "policyTypes", "Ingress", "Egress",
	"ingress", "egress", "from", "to", "ipBlock", "cidr", "except", "ports", "port",
	"endPort", "protocol", "TCP", "UDP", "SCTP", "ICMP", "ICMPv6", "icmp", "type", "code",
	"action", "deny", "allow", "audit", "true", "false", "NetworkPolicy", "Policy",
	"ClusterPolicy", "networking.k8s.io/v1", "bulkhead.io/v1",
};
static const char *const values[] = {
	"0", "-1", "1", "65535", "65536", "4294967296", "99999999999999999999999", "1e3",
	"0x50", "080", "+80", "80.0", "~", "null", "''", "\"\"", "[]", "{}", "[80]", "{a: b}",
	"10.0.0.0/8", "10.0.0.0/33", "10.0.0.1/32", "0.0.0.0/0", "::/0", "fd00::/129",
	"::ffff:10.0.0.0/104", "1.2.3.4", "256.0.0.0/8", "10.0.0.0/-1", "/8", "10.0.0.0/",
	"*x", "&x y", "!!binary aGk=", "!!str 80", "\"\\u0000\"", "\"\\xff\"", "yes", "No",
	"TCP", "tcp", "ICMPv6", "http", "In", "Exists", "a/b/c", "-", "? k", "|\n  x",
	"\"a\nb\"", "é", "255", "128", "-0", "0o17",
};

static void seeds_load(struct fp *z)
{
	static const char *const globs[] = { "tests/unit/data/*.yaml", "docs/examples/*.yaml" };
	size_t g, i;

	for (g = 0; g < sizeof(globs) / sizeof(globs[0]); g++) {
		glob_t gl;

		if (glob(globs[g], 0, NULL, &gl))
			continue;
		for (i = 0; i < gl.gl_pathc && z->nr < MAX_SEEDS; i++) {
			struct seed *s = &z->seeds[z->nr];
			FILE *f = fopen(gl.gl_pathv[i], "rb");
			long n;

			if (!f)
				continue;
			if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < MAX_INPUT &&
			    fseek(f, 0, SEEK_SET) == 0 && (s->buf = malloc((size_t)n + 1)) &&
			    fread(s->buf, 1, (size_t)n, f) == (size_t)n) {
				s->buf[n] = 0;
				s->len = (size_t)n;
				snprintf(s->path, sizeof(s->path), "%s", gl.gl_pathv[i]);
				z->nr++;
			} else {
				free(s->buf);
				s->buf = NULL;
			}
			fclose(f);
		}
		globfree(&gl);
	}
}

/* ------------------------------------------------------------ mutation */
/* Replace [at, at+del) of buf (length *len) with ins. */
static void splice(char *buf, size_t *len, size_t at, size_t del, const char *ins, size_t n)
{
	if (at > *len)
		at = *len;
	if (del > *len - at)
		del = *len - at;
	if (*len - del + n > MAX_INPUT)
		return;
	memmove(buf + at + n, buf + at + del, *len - at - del);
	memcpy(buf + at, ins, n);
	*len = *len - del + n;
}

/* [start, end) of the line holding byte at, end includes the newline */
static void line_of(const char *buf, size_t len, size_t at, size_t *start, size_t *end)
{
	size_t s = at, e = at;

	while (s > 0 && buf[s - 1] != '\n')
		s--;
	while (e < len && buf[e] != '\n')
		e++;
	*start = s;
	*end = e < len ? e + 1 : e;
}

static void mutate(struct fp *z, char *buf, size_t *len)
{
	size_t at = rn(z, *len + 1), s, e, s2, e2, n;
	char tmp[512];
	const char *w;

	switch (rn(z, 12)) {
	case 0:		/* replace a byte */
		if (*len)
			buf[rn(z, *len)] = PICK(z, bytes);
		break;
	case 1:		/* flip a bit */
		if (*len)
			buf[rn(z, *len)] ^= (char)(1 << rn(z, 8));
		break;
	case 2:		/* insert a byte */
		tmp[0] = PICK(z, bytes);
		splice(buf, len, at, 0, tmp, 1);
		break;
	case 3:		/* delete a run of bytes */
		splice(buf, len, at, 1 + rn(z, 8), "", 0);
		break;
	case 4:		/* delete a line */
		line_of(buf, *len, at, &s, &e);
		splice(buf, len, s, e - s, "", 0);
		break;
	case 5:		/* duplicate a line */
		line_of(buf, *len, at, &s, &e);
		n = e - s < sizeof(tmp) ? e - s : sizeof(tmp);
		memcpy(tmp, buf + s, n);
		splice(buf, len, e, 0, tmp, n);
		break;
	case 6:		/* move a line elsewhere */
		line_of(buf, *len, at, &s, &e);
		n = e - s < sizeof(tmp) ? e - s : sizeof(tmp);
		memcpy(tmp, buf + s, n);
		splice(buf, len, s, e - s, "", 0);
		line_of(buf, *len, rn(z, *len + 1), &s2, &e2);
		splice(buf, len, s2, 0, tmp, n);
		break;
	case 7:		/* indent or dedent a line */
		line_of(buf, *len, at, &s, &e);
		if (rn(z, 2))
			splice(buf, len, s, 0, "  ", rn(z, 2) + 1);
		else if (e > s && buf[s] == ' ')
			splice(buf, len, s, 1 + (e > s + 1 && buf[s + 1] == ' '), "", 0);
		break;
	case 8:		/* a scalar after ": " or "- " replaced */
		line_of(buf, *len, at, &s, &e);
		for (s2 = s; s2 + 1 < e && !(buf[s2] == ':' && buf[s2 + 1] == ' ') &&
			     !(buf[s2] == '-' && buf[s2 + 1] == ' '); s2++)
			;
		if (s2 + 1 < e) {
			w = PICK(z, values);
			e2 = e > s2 + 2 && buf[e - 1] == '\n' ? e - 1 : e;
			splice(buf, len, s2 + 2, e2 > s2 + 2 ? e2 - s2 - 2 : 0, w, strlen(w));
		}
		break;
	case 9:		/* a key or word inserted */
		w = PICK(z, words);
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s%s", w, rn(z, 2) ? ": " : "");
		splice(buf, len, at, 0, tmp, n);
		break;
	case 10:	/* a line from another seed */
		if (z->nr) {
			const struct seed *o = &z->seeds[rn(z, (size_t)z->nr)];

			line_of(o->buf, o->len, rn(z, o->len), &s, &e);
			splice(buf, len, at, 0, o->buf + s, e - s);
		}
		break;
	default:	/* a document separator or an end marker */
		w = PICK(z, ((const char *const[]){ "\n---\n", "\n...\n", "---", "\n%YAML 1.1\n",
						      "\n- \n", "{", "[" }));
		splice(buf, len, at, 0, w, strlen(w));
		break;
	}
}

/* Check one input; a broken invariant is printed the first time its
 * kind is seen and counted, so one known bug does not hide the others.
 * Each test ends with expect_none(). */
static void check(struct fp *z, const char *buf, size_t len, const char *what)
{
	const char *why = pf_check(buf, len, &z->st);
	char kind[48];
	size_t i, n;
	int k;

	if (!why)
		return;
	z->failures++;
	/* the kind: the message up to its first quote (the input-specific part) */
	n = strcspn(why, "\"");
	snprintf(kind, sizeof(kind), "%.*s", (int)(n < sizeof(kind) - 1 ? n : sizeof(kind) - 1), why);
	for (k = 0; k < z->nr_kinds && strcmp(z->kinds[k], kind); k++)
		;
	if (k < z->nr_kinds) {
		z->kind_count[k]++;
		return;
	}
	if (k < 16) {
		snprintf(z->kinds[k], sizeof(z->kinds[k]), "%s", kind);
		z->kind_count[k] = 1;
		z->nr_kinds++;
	}
	print_error("%s (seed %#llx): %s\n--- input (%zu bytes, C-escaped) ---\n", what,
		    (unsigned long long)z->seed, why, len);
	for (i = 0; i < len && i < 4096; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' || (c >= 0x20 && c < 0x7f && c != '\\'))
			print_error("%c", c);
		else
			print_error("\\x%02x", c);
	}
	print_error("\n--- end ---\n");
}

static void expect_none(struct fp *z, unsigned long before)
{
	int k;

	if (z->failures == before)
		return;
	for (k = 0; k < z->nr_kinds; k++)
		print_error("  %lu x %s\n", z->kind_count[k], z->kinds[k]);
	z->nr_kinds = 0;	/* the next test counts its own */
	fail_msg("%lu inputs broke an invariant", z->failures - before);
}

/* ---------------------------------------------------------------- tests */
static void test_seeds_hold(void **state)
{
	struct fp *z = *state;
	int i;

	unsigned long f0 = z->failures;

	assert_true(z->nr >= 3);	/* the fixtures are where we expect them */
	for (i = 0; i < z->nr; i++)
		check(z, z->seeds[i].buf, z->seeds[i].len, z->seeds[i].path);
	expect_none(z, f0);
}

static void test_mutated_fixtures(void **state)
{
	struct fp *z = *state;
	unsigned long i, n = 4000UL * z->scale;
	unsigned long f0 = z->failures;
	size_t len;
	int k, m;

	for (i = 0; i < n; i++) {
		const struct seed *s = &z->seeds[rn(z, (size_t)z->nr)];

		memcpy(z->buf, s->buf, s->len);
		len = s->len;
		m = 1 + (int)rn(z, i % 4 == 3 ? 16 : 4);
		for (k = 0; k < m; k++)
			mutate(z, z->buf, &len);
		z->buf[len] = 0;
		check(z, z->buf, len, "mutated fixture");
	}
	print_message("%lu inputs: %lu parsed (%lu policies), %lu rejected; compile %lu ok "
		      "(%lu entries), %lu rejected\n", z->st.inputs, z->st.parse_ok,
		      z->st.policies, z->st.parse_err, z->st.compile_ok, z->st.entries,
		      z->st.compile_err);
	/* a fuzzer that never gets past the syntax proves little */
	assert_true(z->st.parse_ok > n / 20);
	assert_true(z->st.compile_ok > n / 20);
	expect_none(z, f0);
}

/* Truncation at every byte of every fixture. */
static void test_truncated_fixtures(void **state)
{
	struct fp *z = *state;
	unsigned long f0 = z->failures;
	size_t cut;
	int i;

	for (i = 0; i < z->nr; i++)
		for (cut = 0; cut < z->seeds[i].len; cut++)
			check(z, z->seeds[i].buf, cut, "truncated fixture");
	expect_none(z, f0);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail,
		    size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *b = malloc(hl + ul * times + tl + 1);

	assert_non_null(b);
	memcpy(b, head, hl);
	for (i = 0; i < times; i++)
		memcpy(b + hl + i * ul, unit, ul);
	memcpy(b + hl + ul * times, tail, tl + 1);
	*len = hl + ul * times + tl;
	return b;
}

#define K8S "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n"

/* Inputs built to hurt: depth, expansion, size, odd bytes, many parts. */
static void test_hostile_inputs(void **state)
{
	struct fp *z = *state;
	static const char nul[] = K8S "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n"
				  "    - port: 8\0" "0\n";
	static const char bomb[] =
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c]\n"
		"e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	static const char *const small[] = {
		"", "\n", "---", "...", "\xef\xbb\xbf" K8S "spec: {podSelector: {}}\n",
		"\xff\xfe\x00\x00", "%YAML 9.9\n---\na: b\n", "%TAG ! tag:x,2000:\n--- !x\na: b\n",
		K8S "spec: !!map {podSelector: {}}\n", K8S "spec:\n  podSelector: {}\n  ingress: 7\n",
		K8S "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n      endPort: 65535\n",
		K8S "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http, endPort: 9}\n",
		K8S "spec:\n  podSelector:\n    matchLabels: {\"\": \"\"}\n",
		K8S "spec:\n  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/7]}\n",
		"apiVersion: bulkhead.io/v1\nkind: Policy\nmetadata: {name: x}\nspec:\n  selector: {}\n"
		"  ingress:\n  - icmp:\n    - {type: 256, code: -1}\n",
		"? [a, b]\n: c\n", "a: b\na: c\n", "[a, b]\n", "'unterminated\n", "\"\\q\"\n",
		K8S "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Ingress, Egress, Sideways]\n",
	};
	unsigned long f0 = z->failures;
	size_t len, i;
	char *b;

	check(z, nul, sizeof(nul) - 1, "NUL inside a document");
	check(z, bomb, sizeof(bomb) - 1, "alias expansion");
	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++)
		check(z, small[i], strlen(small[i]), "hostile input");

	b = repeat("", "[", 100000, "", &len);
	check(z, b, len, "deep flow nesting");
	free(b);
	b = repeat("a:\n", " b:\n", 2000, "", &len);	/* not nesting: same indent */
	check(z, b, len, "long mapping");
	free(b);
	b = repeat(K8S "spec:\n  podSelector: {}\n  ingress:\n", "  - ports: [{port: 1}]\n", 5000,
		   "", &len);
	check(z, b, len, "many rules");
	free(b);
	b = repeat(K8S "  namespace: ", "n", 100000, "\nspec: {podSelector: {}}\n", &len);
	check(z, b, len, "huge scalar");
	free(b);
	b = repeat("", "---\n", 20000, "", &len);
	check(z, b, len, "many empty documents");
	free(b);
	{	/* nesting one level deeper than the limit, by indentation */
		size_t d, off = 0;

		b = malloc(200 * 200);
		assert_non_null(b);
		for (d = 0; d < 120; d++)
			off += (size_t)sprintf(b + off, "%*sk%zu:\n", (int)d, "", d);
		check(z, b, off, "deep block nesting");
		free(b);
	}
	expect_none(z, f0);
}

/*
 * Found by this fuzzer. policy/yaml_doc.c cuts each document's source
 * with libyaml's mark.index, which counts characters, not bytes: every
 * multi-byte UTF-8 character before a document's end shifts the cut by
 * one byte. policy/sync.c compiles that stored source again on every
 * sync, so a comment in a non-ASCII language can silently drop the last
 * rule of a policy: here the explicit deny of port 22.
 */
static void test_utf8_source_keeps_every_rule(void **state)
{
	static const char head[] = "apiVersion: bulkhead.io/v1\nkind: Policy\nmetadata:\n"
				   "  name: ssh\n  namespace: shop\n  # ";
	static const char body[] = "\nspec:\n  selector: {}\n  ingress:\n  - action: allow\n"
				   "    ports: [{port: 80}]\n";
	static const char tail[] = "  - action: deny\n    ports: [{port: 22}]\n";
	char buf[1024];
	struct bh_policy_set set, again;
	struct bh_policy_error err;
	size_t n = 0, i;

	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", head);
	for (i = 0; i < strlen(tail); i++)	/* one lost byte per character */
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\xc3\xa9");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", body, tail);
	assert_int_equal(bh_policy_parse_buf(PF_NAME, buf, n, &set, &err), 0);
	assert_int_equal(set.nr, 1);
	assert_int_equal(set.items[0].nr_ingress, 2);
	assert_int_equal(bh_policy_parse_buf(PF_NAME, set.items[0].source,
					     strlen(set.items[0].source), &again, &err), 0);
	if (again.nr != 1 || again.items[0].nr_ingress != 2) {
		print_error("stored source:\n%s\n", set.items[0].source);
		bh_policy_set_free(&again);
		bh_policy_set_free(&set);
		fail_msg("BUG: the stored source of a policy with UTF-8 text lost its deny rule");
	}
	bh_policy_set_free(&again);
	bh_policy_set_free(&set);
}

static int setup(void **state)
{
	struct fp *z = calloc(1, sizeof(*z));
	const char *e;

	if (!z || !(z->buf = malloc(MAX_INPUT + 1))) {
		free(z);
		return -1;
	}
	seeds_load(z);
	e = getenv("BH_FUZZ_SEED");
	z->seed = e ? strtoull(e, NULL, 0) : 0x706f6c6963ULL;
	z->rng = z->seed;
	e = getenv("BH_FUZZ_SCALE");
	z->scale = e && atoi(e) > 0 ? (unsigned int)atoi(e) : 1;
	printf("policy fuzz: %d fixtures, seed %#llx (BH_FUZZ_SEED), scale %u (BH_FUZZ_SCALE)\n",
	       z->nr, (unsigned long long)z->seed, z->scale);
	*state = z;
	return 0;
}

static int teardown(void **state)
{
	struct fp *z = *state;
	int i;

	for (i = 0; i < z->nr; i++)
		free(z->seeds[i].buf);
	free(z->buf);
	free(z);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds_hold),
		cmocka_unit_test(test_truncated_fixtures),
		cmocka_unit_test(test_mutated_fixtures),
		cmocka_unit_test(test_hostile_inputs),
		cmocka_unit_test(test_utf8_source_keeps_every_rule),
	};

	return cmocka_run_group_tests_name("policy_fuzz", tests, setup, teardown);
}
