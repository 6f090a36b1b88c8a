// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * capture_spawn NS NAME: test_capture's driver of the agent's capture API
 * (bh_capture_spawn): starts a 2 s capture of workload NS/NAME in a child,
 * waits for it, prints the file's path. Exit 0, or 1 if the spawn failed,
 * 2 on bad arguments, 3 if the child failed.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "bulkhead.h"
#include "capture.h"
int main(int argc, char **argv)
{
	struct bh_capture_spawn_opts o = { .seconds = 2, .max_bytes = 1 << 20 };
	struct bh_ctx_opts co = { .read_only = true };
	struct bh_ctx *ctx;
	char path[4096];
	int status, err;
	pid_t pid;

	if (argc != 3 || bh_ctx_open(&co, &ctx))
		return 2;
	err = bh_capture_spawn(ctx, argv[1], argv[2], &o, &pid, path, sizeof(path));
	if (err) {
		fprintf(stderr, "spawn: %s\n", strerror(-err));
		return 1;
	}
	/* The caller is free while the child captures: it reaps later. */
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 3;
	printf("%s\n", path);
	bh_ctx_close(ctx);
	return 0;
}
