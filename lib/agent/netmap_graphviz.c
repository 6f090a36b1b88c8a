// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Graphviz: DOT text to SVG (or any format) through the `dot` program. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memfd.h"
#include "netmap.h"

int bh_netmap_graphviz(const char *dot, size_t len, const char *format, int out_fd,
		       char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char targ[24];
	char *argv[] = { "dot", targ, NULL };
	extern char **environ;
	int in_fd, err_fd, status, rc;
	const char *p;
	pid_t pid;

	if (errlen)
		err[0] = '\0';
	if (!format || !*format || strlen(format) > 16 || out_fd < 1 || out_fd == 2)
		return -EINVAL;
	for (p = format; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return -EINVAL;
	snprintf(targ, sizeof(targ), "-T%s", format);

	/* The DOT text and dot's complaints go through memory files: no pipe,
	 * so no deadlock on a large graph and no SIGPIPE if dot dies. */
	in_fd = bh_memfd_with("bh-netmap-dot", dot, len);
	if (in_fd < 0)
		return in_fd;
	err_fd = memfd_create("bh-netmap-err", MFD_CLOEXEC);
	if (err_fd < 0) {
		rc = -errno;
		close(in_fd);
		return rc;
	}
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (!rc)
		rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in_fd);
	if (rc) {
		close(err_fd);
		if (rc == ENOENT)
			snprintf(err, errlen, "Graphviz 'dot' not found in PATH"
				 " (install graphviz, or use --format dot)");
		return -rc;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = -errno;
			close(err_fd);
			return rc;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close(err_fd);
		return 0;
	}
	if (errlen) {
		ssize_t n = pread(err_fd, err, errlen - 1, 0);
		char *nl;

		err[n > 0 ? n : 0] = '\0';
		nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		if (!err[0])
			snprintf(err, errlen, "dot %s %d", WIFEXITED(status) ? "exited" : "killed by signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	close(err_fd);
	return -EIO;
}
