// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * JSON-lines writer: one object per line whatever the strings contain,
 * size-bounded rotation to PATH.1, reopen on a SIGHUP-style request.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "jsonl.h"

struct fx {
	char dir[64];
	char path[128];
	char path1[140];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bh-jsonl-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/events.jsonl", f->dir);
	snprintf(f->path1, sizeof(f->path1), "%s.1", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	unlink(f->path);
	unlink(f->path1);
	snprintf(p, sizeof(p), "%s/moved", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Lines of a file, each parsed; returns the count (max n). */
static int read_lines(const char *path, struct json_object **objs, int n)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	int i = 0;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		size_t len = strlen(line);

		assert_true(len > 0 && line[len - 1] == '\n');
		line[len - 1] = '\0';
		assert_null(strchr(line, '\n'));
		if (i < n) {
			objs[i] = json_tokener_parse(line);
			assert_non_null(objs[i]);
		}
		i++;
	}
	fclose(fp);
	return i;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static struct json_object *obj_seq(int seq, const char *pad)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seq", json_object_new_int(seq));
	json_object_object_add(o, "pad", json_object_new_string(pad));
	return o;
}

static void test_one_object_per_line(void **state)
{
	static const char *const nasty[] = {
		"plain", "new\nline", "cr\rlf\r\n", "quote\"and\\backslash", "nul\x01\x1f ctl",
		"{\"forged\": 1}\n{\"seq\": 99}", "path/with/slashes", "caf\xc3\xa9",
	};
	enum { N = sizeof(nasty) / sizeof(nasty[0]) };
	struct bh_jsonl_opts o = { 0 };
	struct bh_jsonl_stats st;
	struct json_object *got[N + 2];
	struct fx *f = *state;
	struct bh_jsonl *j;
	int i, n;

	o.path = f->path;
	assert_int_equal(bh_jsonl_open(&o, &j), 0);
	for (i = 0; i < (int)N; i++) {
		struct json_object *obj = json_object_new_object();

		json_object_object_add(obj, "i", json_object_new_int(i));
		json_object_object_add(obj, "v", json_object_new_string(nasty[i]));
		/* Keys are escaped too. */
		json_object_object_add(obj, nasty[i], json_object_new_boolean(1));
		assert_int_equal(bh_jsonl_write(j, obj), 0);
		json_object_put(obj);
	}
	bh_jsonl_get_stats(j, &st);
	assert_int_equal(st.lines, N);
	assert_int_equal(st.rotations, 0);
	assert_int_equal((long)st.size, file_size(f->path));
	bh_jsonl_close(j);

	n = read_lines(f->path, got, N + 2);
	assert_int_equal(n, N);
	for (i = 0; i < n; i++) {
		struct json_object *v;

		assert_true(json_object_object_get_ex(got[i], "i", &v));
		assert_int_equal(json_object_get_int(v), i);
		assert_true(json_object_object_get_ex(got[i], "v", &v));
		assert_string_equal(json_object_get_string(v), nasty[i]);
		assert_true(json_object_object_get_ex(got[i], nasty[i], &v));
		json_object_put(got[i]);
	}
}

static void test_refuses(void **state)
{
	struct bh_jsonl_opts o = { .max_bytes = 64 };
	struct fx *f = *state;
	struct json_object *arr, *big;
	struct bh_jsonl *j;
	char pad[100];

	o.path = f->path;
	assert_int_equal(bh_jsonl_open(&o, &j), 0);
	arr = json_object_new_array();
	assert_int_equal(bh_jsonl_write(j, arr), -EINVAL);
	assert_int_equal(bh_jsonl_write(j, NULL), -EINVAL);
	json_object_put(arr);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	big = obj_seq(1, pad);
	assert_int_equal(bh_jsonl_write(j, big), -EMSGSIZE);
	json_object_put(big);
	assert_int_equal(file_size(f->path), 0);
	assert_int_equal(file_size(f->path1), -1);
	bh_jsonl_close(j);

	o.path = "/nonexistent-bh-dir/x.jsonl";
	assert_int_equal(bh_jsonl_open(&o, &j), -ENOENT);
	o.path = "";
	assert_int_equal(bh_jsonl_open(&o, &j), -EINVAL);
	assert_int_equal(bh_jsonl_open(NULL, &j), -EINVAL);
}

/* PATH never exceeds max_bytes; the older lines move to PATH.1 and the
 * generation before that is gone. */
static void test_rotation(void **state)
{
	enum { MAX = 300, N = 40 };
	struct bh_jsonl_opts o = { .max_bytes = MAX };
	struct json_object *got[N];
	struct bh_jsonl_stats st;
	struct fx *f = *state;
	struct bh_jsonl *j;
	int i, n0, n1, first1, first0;
	struct json_object *v;

	o.path = f->path;
	/* An existing file counts: 280 bytes already there. */
	{
		FILE *fp = fopen(f->path, "w");
		char old[280];

		memset(old, 'o', sizeof(old));
		old[sizeof(old) - 1] = '\n';
		fwrite(old, 1, sizeof(old), fp);
		fclose(fp);
	}
	assert_int_equal(bh_jsonl_open(&o, &j), 0);
	for (i = 0; i < N; i++) {
		struct json_object *obj = obj_seq(i, "0123456789abcdef0123456789");

		assert_int_equal(bh_jsonl_write(j, obj), 0);
		json_object_put(obj);
		assert_true(file_size(f->path) <= MAX);
		if (i == 0) {
			/* 280 + this line > 300: rotated before writing. */
			assert_int_equal(file_size(f->path1), 280);
		}
	}
	bh_jsonl_get_stats(j, &st);
	assert_true(st.rotations >= 2);
	assert_int_equal(st.lines, N);
	bh_jsonl_close(j);

	/* PATH.1 then PATH hold consecutive seqs ending at N-1. */
	n1 = read_lines(f->path1, got, N);
	assert_true(n1 > 0);
	assert_true(json_object_object_get_ex(got[0], "seq", &v));
	first1 = json_object_get_int(v);
	assert_true(first1 > 0);	/* older generations are gone */
	for (i = 0; i < n1; i++) {
		assert_true(json_object_object_get_ex(got[i], "seq", &v));
		assert_int_equal(json_object_get_int(v), first1 + i);
		json_object_put(got[i]);
	}
	n0 = read_lines(f->path, got, N);
	assert_true(n0 > 0);
	assert_true(json_object_object_get_ex(got[0], "seq", &v));
	first0 = json_object_get_int(v);
	assert_int_equal(first0, first1 + n1);
	for (i = 0; i < n0; i++) {
		assert_true(json_object_object_get_ex(got[i], "seq", &v));
		assert_int_equal(json_object_get_int(v), first0 + i);
		json_object_put(got[i]);
	}
	assert_int_equal(first0 + n0, N);
	assert_true(file_size(f->path1) <= MAX);
}

static struct bh_jsonl *hup_target;

static void on_hup(int sig)
{
	(void)sig;
	bh_jsonl_request_reopen(hup_target);
}

/* logrotate moves the file and sends SIGHUP: later lines go to a new
 * file at PATH, none are lost. */
static void test_reopen_on_hup(void **state)
{
	struct bh_jsonl_opts o = { 0 };
	struct sigaction sa = { .sa_handler = on_hup }, old;
	struct fx *f = *state;
	struct json_object *got[4], *obj, *v;
	struct bh_jsonl *j;
	char moved[160];

	o.path = f->path;
	snprintf(moved, sizeof(moved), "%s/moved", f->dir);
	assert_int_equal(bh_jsonl_open(&o, &j), 0);
	hup_target = j;
	assert_int_equal(sigaction(SIGHUP, &sa, &old), 0);

	obj = obj_seq(1, "a");
	assert_int_equal(bh_jsonl_write(j, obj), 0);
	json_object_put(obj);
	assert_int_equal(rename(f->path, moved), 0);
	/* Before the signal the old file still gets lines. */
	obj = obj_seq(2, "b");
	assert_int_equal(bh_jsonl_write(j, obj), 0);
	json_object_put(obj);
	assert_int_equal(raise(SIGHUP), 0);
	obj = obj_seq(3, "c");
	assert_int_equal(bh_jsonl_write(j, obj), 0);
	json_object_put(obj);
	sigaction(SIGHUP, &old, NULL);
	bh_jsonl_close(j);

	assert_int_equal(read_lines(moved, got, 4), 2);
	assert_true(json_object_object_get_ex(got[1], "seq", &v));
	assert_int_equal(json_object_get_int(v), 2);
	json_object_put(got[0]);
	json_object_put(got[1]);
	assert_int_equal(read_lines(f->path, got, 4), 1);
	assert_true(json_object_object_get_ex(got[0], "seq", &v));
	assert_int_equal(json_object_get_int(v), 3);
	json_object_put(got[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_object_per_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_on_hup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
