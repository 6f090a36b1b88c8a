// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's `kubernetes:` config keys and the kubeconfig reader: current
 * context, server, CA/cert/key as files (relative to the kubeconfig) or
 * base64 data, tokens; errors name the file, the line and the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_config.h"
#include "k8s_conn.h"

static const char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/bh-kc-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_keys(void **state)
{
	struct bh_agent_config c;
	struct bh_agent_config_error e;
	const char *y1 = "kubernetes:\n  kubeconfig: /etc/k\n  node: w1\n";
	const char *y2 = "kubernetes: {}\n";
	const char *y3 = "kubernetes:\n  nodes: w1\n";
	char buf[512];

	(void)state;
	bh_agent_config_defaults(&c);
	assert_false(c.k8s);
	assert_int_equal(bh_agent_config_parse_buf("a.yaml", y1, strlen(y1), &c, &e), 0);
	assert_true(c.k8s);
	assert_string_equal(c.k8s_kubeconfig, "/etc/k");
	assert_string_equal(c.k8s_node, "w1");
	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_parse_buf("a.yaml", y2, strlen(y2), &c, &e), 0);
	assert_true(c.k8s);
	assert_string_equal(c.k8s_kubeconfig, "");
	bh_agent_config_defaults(&c);
	assert_int_equal(bh_agent_config_parse_buf("a.yaml", y3, strlen(y3), &c, &e), -EINVAL);
	bh_agent_config_error_format(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, "a.yaml:2"));
	assert_non_null(strstr(buf, "kubernetes.nodes"));
}

/* a *-data field reaches libcurl as a file holding exactly the PEM */
static void assert_file_holds(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

static void test_kubeconfig(void **state)
{
	/* "hello\n" and "key" in base64 */
	const char *kc =
		"apiVersion: v1\nkind: Config\ncurrent-context: b\n"
		"contexts:\n- name: a\n  context: {cluster: c1, user: u1}\n"
		"- name: b\n  context: {cluster: c2, user: u2}\n"
		"clusters:\n- name: c1\n  cluster: {server: 'https://one:6443'}\n"
		"- name: c2\n  cluster:\n    server: https://two:6443/\n"
		"    certificate-authority-data: aGVsbG8K\n"
		"users:\n- name: u1\n  user: {token: nope}\n"
		"- name: u2\n  user: {token: t0k, client-certificate: c.pem, client-key-data: a2V5}\n";
	struct bh_k8s_conn c;
	char msg[512], *dir, want[600];
	const char *path = write_tmp(kc);

	(void)state;
	assert_int_equal(bh_k8s_conn_kubeconfig(path, &c, msg, sizeof(msg)), 0);
	assert_string_equal(c.server, "https://two:6443");	/* trailing / dropped */
	assert_file_holds(c.ca.file, "hello\n");
	assert_string_equal(c.token, "t0k");
	dir = strdup(path);
	*strrchr(dir, '/') = '\0';
	snprintf(want, sizeof(want), "%s/c.pem", dir);
	assert_string_equal(c.cert.file, want);
	assert_file_holds(c.key.file, "key");
	assert_false(c.insecure);
	bh_k8s_conn_free(&c);
	free(dir);
	unlink(path);
}

static void test_kubeconfig_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "clusters: []\n", "current-context: missing" },
		{ "current-context: x\ncontexts: []\n", "contexts: no entry named 'x'" },
		{ "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {server: ftp://h}\n", ":7: cluster.server" },
		{ "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"
		  "clusters:\n- name: c\n  cluster: {server: https://h}\n"
		  "users:\n- name: u\n  user: {exec: {command: aws}}\n", "exec and auth-provider" },
		{ "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {server: https://h, certificate-authority-data: '!!'}\n",
		  "cluster.certificate-authority-data: not base64" },
		{ "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"
		  "clusters:\n- name: c\n  cluster: {server: https://h}\n"
		  "users:\n- name: u\n  user: {client-certificate: c.pem}\n", "go together" },
	};
	struct bh_k8s_conn c;
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_tmp(cases[i].text);

		assert_int_equal(bh_k8s_conn_kubeconfig(path, &c, msg, sizeof(msg)), -EINVAL);
		if (!strstr(msg, cases[i].want) || strncmp(msg, path, strlen(path)))
			fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].want);
		unlink(path);
	}
	assert_int_equal(bh_k8s_conn_kubeconfig("/nonexistent/kc", &c, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/kc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_kubeconfig_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
