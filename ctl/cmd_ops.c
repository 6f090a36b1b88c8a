// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `bulkhead capture NS/NAME --out FILE.pcap [--seconds N] [--max-bytes M]`
 * and `bulkhead map [--namespace NS] [--format dot|svg] [--out FILE]`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent_config.h"
#include "capture.h"
#include "cmd_ops.h"
#include "netmap.h"

/* ------------------------------------------------------------ capture */

/* Set by SIGINT/SIGTERM so the capture stops and flushes its file. */
static volatile sig_atomic_t capture_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

static const char *stop_name(enum bh_capture_stop s)
{
	switch (s) {
	case BH_CAPTURE_STOP_TIME: return "time";
	case BH_CAPTURE_STOP_SIZE: return "size";
	case BH_CAPTURE_STOP_SIGNAL: return "signal";
	case BH_CAPTURE_STOP_IFACE: return "interface-gone";
	}
	return "unknown";
}

int bh_cmd_capture(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ 0 },
	};
	struct bh_capture_opts o = { .stop = &capture_stop };
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term;
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1], ifname[16];
	struct bh_capture_result res;
	const char *wl = NULL;
	struct json_object *obj;
	struct bh_ctx *ctx;
	uint64_t v;
	int c, st, err;

	while ((c = bh_cli_getopt(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.path = optarg;
			break;
		case 's':
			/* whole seconds: "30", "30s", "2m" */
			if (bh_parse_duration_ms(optarg, &v) || v < 1000 || v % 1000 ||
			    v > 86400 * 1000ULL)
				return bh_cli_fail(BH_EXIT_USER, "--seconds: expected 1 to 86400"
						   " whole seconds, got '%s'", optarg);
			o.seconds = v / 1000;
			break;
		case 'm':
			if (bh_parse_size(optarg, &v) || v < BH_CAPTURE_MIN_BYTES)
				return bh_cli_fail(BH_EXIT_USER, "--max-bytes: expected a size of at"
						   " least %d bytes (e.g. 10MiB), got '%s'",
						   BH_CAPTURE_MIN_BYTES, optarg);
			o.max_bytes = v;
			break;
		default:
			return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead " BH_CAPTURE_USAGE);
		}
	}
	if (optind - 1 < argc)
		wl = argv[optind - 1];
	if (!wl || optind < argc || !o.path)
		return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead " BH_CAPTURE_USAGE);
	st = bh_cli_split_workload(wl, ns, sizeof(ns), name, sizeof(name));
	if (st)
		return st;

	st = bh_cli_open(cli, true, &ctx);
	if (st)
		return st;
	err = bh_capture_workload_ifname(ctx, ns, name, ifname, sizeof(ifname));
	if (err == -ENOENT) {
		bh_ctx_close(ctx);
		return bh_cli_fail(BH_EXIT_USER, "no workload %s/%s", ns, name);
	}
	if (err) {
		st = bh_cli_ctx_fail(ctx, err, "looking up the workload");
		bh_ctx_close(ctx);
		return st;
	}
	/* The capture needs no state: do not hold the store for its length. */
	bh_ctx_close(ctx);

	o.ifname = ifname;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	err = bh_capture_run(&o, &res);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (err == -ENODEV)
		return bh_cli_fail(BH_EXIT_SYSTEM, "%s/%s: interface %s not found (%s)", ns, name,
				   ifname, res.error);
	if (err == -EPERM)
		return bh_cli_fail(BH_EXIT_SYSTEM, "capture on %s: permission denied (run as"
				   " root): %s", ifname, res.error);
	if (err)
		return bh_cli_fail(BH_EXIT_SYSTEM, "capture on %s: %s", ifname,
				   res.error[0] ? res.error : strerror(-err));

	obj = json_object_new_object();
	json_object_object_add(obj, "workload", json_object_new_string(wl));
	json_object_object_add(obj, "interface", json_object_new_string(ifname));
	json_object_object_add(obj, "file", json_object_new_string(o.path));
	json_object_object_add(obj, "packets", json_object_new_uint64(res.packets));
	json_object_object_add(obj, "bytes", json_object_new_uint64(res.file_bytes));
	json_object_object_add(obj, "kernel_dropped", json_object_new_uint64(res.kernel_dropped));
	json_object_object_add(obj, "stopped", json_object_new_string(stop_name(res.stopped)));
	return bh_cli_done(cli, obj, "captured %llu packets on %s to %s (%llu bytes, stopped: %s%s)",
			   (unsigned long long)res.packets, ifname, o.path,
			   (unsigned long long)res.file_bytes, stop_name(res.stopped),
			   res.kernel_dropped ? ", kernel dropped some" : "");
}

/* ---------------------------------------------------------------- map */

/* Write the whole buffer; -errno on failure. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

/* Output to FILE goes to FILE.tmp first and is renamed into place on
 * success, so a failed render never leaves half a map behind. */
static int map_emit(const char *dot, size_t len, bool svg, const char *out, char *err,
		    size_t errlen)
{
	char tmp[PATH_MAX];
	int fd = STDOUT_FILENO, rc;

	if (out) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= sizeof(tmp))
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	} else {
		fflush(stdout);
	}
	rc = svg ? bh_netmap_graphviz(dot, len, "svg", fd, err, errlen) : write_all(fd, dot, len);
	if (!out)
		return rc;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, out))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int bh_cmd_map(struct bh_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "since", required_argument, NULL, 's' },
		{ 0 },
	};
	static const char *const formats[] = { "dot", "svg", NULL };
	struct bh_netmap_opts mo = { 0 };
	const char *format = NULL, *out = NULL;
	struct bh_netmap_stats ms;
	struct bh_netmap *nm = NULL;
	struct bh_ctx *ctx;
	char *dot = NULL, err[256] = "";
	size_t len;
	bool svg;
	uint64_t v;
	int c, st, rc;

	while ((c = bh_cli_getopt(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			mo.ns = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's': {
			struct timeval now;

			if (bh_parse_duration_ms(optarg, &v))
				return bh_cli_fail(BH_EXIT_USER, "--since: expected a duration such"
						   " as 30m, 2h, 7d, got '%s'", optarg);
			gettimeofday(&now, NULL);
			mo.since_ms = (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000 - (int64_t)v;
			break;
		}
		default:
			return bh_cli_fail(BH_EXIT_USER, "usage: bulkhead " BH_MAP_USAGE);
		}
	}
	if (optind - 1 < argc)
		return bh_cli_fail(BH_EXIT_USER, "unexpected argument '%s'; usage: bulkhead "
				   BH_MAP_USAGE, argv[optind - 1]);
	/* Without --format, an --out ending in .svg means SVG. */
	if (!format)
		format = out && ends_with(out, ".svg") ? "svg" : "dot";
	rc = bh_cli_match(format, formats);
	if (rc < 0)
		return bh_cli_fail(BH_EXIT_USER, "--format: expected dot or svg, got '%s'", format);
	svg = rc == 1;

	st = bh_cli_open(cli, true, &ctx);
	if (st)
		return st;
	rc = bh_netmap_new(&mo, &nm);
	if (!rc)
		rc = bh_netmap_load(ctx, nm);
	if (rc) {
		st = bh_cli_ctx_fail(ctx, rc, "reading workloads and flows");
		goto out;
	}
	rc = bh_netmap_dot(nm, &dot, &len);
	if (rc) {
		st = bh_cli_fail(BH_EXIT_SYSTEM, "rendering the map: %s", strerror(-rc));
		goto out;
	}
	bh_netmap_get_stats(nm, &ms);
	rc = map_emit(dot, len, svg, out, err, sizeof(err));
	if (rc == -ENOENT && svg && err[0]) {
		st = bh_cli_fail(BH_EXIT_SYSTEM, "%s", err);
		goto out;
	}
	if (rc) {
		st = bh_cli_fail(BH_EXIT_SYSTEM, "%s%s%s", out ? out : "map",
				 err[0] ? ": dot: " : ": ", err[0] ? err : strerror(-rc));
		goto out;
	}
	st = BH_EXIT_OK;
	/* A summary only when the map went to a file: stdout is the map. */
	if (out) {
		struct json_object *obj = json_object_new_object();

		json_object_object_add(obj, "file", json_object_new_string(out));
		json_object_object_add(obj, "format", json_object_new_string(formats[svg]));
		json_object_object_add(obj, "workloads", json_object_new_int(ms.workloads));
		json_object_object_add(obj, "peers", json_object_new_int(ms.peers));
		json_object_object_add(obj, "edges", json_object_new_int(ms.edges));
		json_object_object_add(obj, "flows", json_object_new_uint64(ms.flows));
		st = bh_cli_done(cli, obj, "map written to %s: %d workloads, %d outside peers,"
				 " %d edges from %llu flows", out, ms.workloads, ms.peers, ms.edges,
				 (unsigned long long)ms.flows);
	}
out:
	free(dot);
	bh_netmap_free(nm);
	bh_ctx_close(ctx);
	return st;
}
