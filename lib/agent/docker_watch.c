// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Following Docker Engine (see docker_watch.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "config.h"
#include "docker_api.h"
#include "docker_gate.h"
#include "docker_ports.h"
#include "docker_watch.h"
#include "netns_veth.h"
#include "store.h"

struct bh_docker_watch {
	struct bh_ctx *ctx;
	sqlite3 *db;
	char socket[108];
	char ns[BH_NAME_MAX + 1];
	enum bh_mode mode;
	bh_docker_log_fn log;
	void *log_arg;
	struct bh_docker_stream *stream;
	int epfd;			/* the stream's fd and the ports' */
	char gate[BH_GATE_TABLE_LEN];
	struct bh_gate_ports *ports;	/* bridges, attached ports, link thread */
	bool connected, lost_reported;
};

/* One container this agent attached (table docker_attachments). */
struct row {
	char id[BH_DOCKER_ID_LEN + 1];
	char ns[BH_NAME_MAX + 1];
	char name[BH_NAME_MAX + 1];
	char ifname[IF_NAMESIZE];
	uint32_t ifindex;
};

static void logf_(struct bh_docker_watch *w, const char *ns, const char *name, const char *kind,
		  const char *sev, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void logf_(struct bh_docker_watch *w, const char *ns, const char *name, const char *kind,
		  const char *sev, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (w->log)
		w->log(w->log_arg, ns, name, kind, sev, detail);
}

/* ------------------------------------------------------------- store */
static int schema(sqlite3 *db)
{
	static const char schema_v1[] =
		"CREATE TABLE IF NOT EXISTS docker_attachments("
		" container_id TEXT PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL,"
		" ifname TEXT NOT NULL, ifindex INTEGER NOT NULL)";
	static const char *const migrations[] = { schema_v1 };

	return bh_store_schema(db, "docker_attachments", migrations, 1);
}

static void row_from_stmt(sqlite3_stmt *st, struct row *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(r->ns, sizeof(r->ns), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(r->name, sizeof(r->name), "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(r->ifname, sizeof(r->ifname), "%s", (const char *)sqlite3_column_text(st, 3));
	r->ifindex = (uint32_t)sqlite3_column_int64(st, 4);
}

static int row_get(sqlite3 *db, const char *id, struct row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT container_id, ns, name, ifname, ifindex FROM "
			       "docker_attachments WHERE container_id = ?", -1, &st, NULL))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_from_stmt(st, r);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int row_put(sqlite3 *db, const struct row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO docker_attachments VALUES(?,?,?,?,?)",
			       -1, &st, NULL))
		return -EIO;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->ifname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->ifindex);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int row_del(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "DELETE FROM docker_attachments WHERE container_id = ?", -1,
			       &st, NULL))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* All rows, in a malloc'd array (*nr of them). */
static int rows_all(sqlite3 *db, struct row **out, int *nr)
{
	sqlite3_stmt *st;
	struct row *rows = NULL;
	int n = 0, cap = 0, rc;

	*out = NULL;
	*nr = 0;
	if (sqlite3_prepare_v2(db, "SELECT container_id, ns, name, ifname, ifindex FROM "
			       "docker_attachments ORDER BY container_id", -1, &st, NULL))
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct row *nr2;

			cap = cap ? 2 * cap : 16;
			nr2 = realloc(rows, (size_t)cap * sizeof(*rows));
			if (!nr2) {
				rc = SQLITE_NOMEM;
				break;
			}
			rows = nr2;
		}
		row_from_stmt(st, &rows[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(rows);
		return -EIO;
	}
	*out = rows;
	*nr = n;
	return 0;
}

/* -------------------------------------------------------------- gate */
static void gate_block(struct bh_docker_watch *w, uint32_t ifindex, bool block)
{
	int err = block ? bh_gate_ports_close(w->ports, ifindex) :
			  bh_gate_ports_open(w->ports, ifindex);

	if (err)
		logf_(w, "", "", "docker", "alert", "gate %s: cannot %s ifindex %u: %s", w->gate,
		      block ? "block" : "open", ifindex, strerror(-err));
}

static void follow_bridge(struct bh_docker_watch *w, const char *name)
{
	uint32_t ifindex = if_nametoindex(name);

	if (ifindex && bh_gate_ports_follow(w->ports, ifindex) == -ENOSPC)
		logf_(w, "", "", "docker", "alert", "too many Docker bridges; %s not followed",
		      name);
}

/* ------------------------------------------------------------- JSON */
static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* The bridge device of a Docker bridge network, "" for other drivers. */
static void bridge_of(struct json_object *net, char out[IF_NAMESIZE])
{
	const char *id = get_str(net, "Id"), *opt;

	out[0] = '\0';
	if (strcmp(get_str(net, "Driver"), "bridge"))
		return;
	opt = get_str(get(net, "Options"), "com.docker.network.bridge.name");
	if (*opt)
		snprintf(out, IF_NAMESIZE, "%s", opt);
	else if (strlen(id) >= 12)
		snprintf(out, IF_NAMESIZE, "br-%.12s", id);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* ------------------------------------------------------ attach/detach */
static void container_stop(struct bh_docker_watch *w, const char *id, const char *why)
{
	struct row r;
	int err;

	if (row_get(w->db, id, &r))
		return;
	/* a veth that outlives its attachment is blocked first, so it never
	 * passes frames unjudged */
	if (if_nametoindex(r.ifname) == r.ifindex)
		gate_block(w, r.ifindex, true);
	err = bh_workload_detach_ifindex(w->ctx, r.ifindex, r.ifname);
	if (err && err != -ENOENT)
		logf_(w, r.ns, r.name, "docker", "warning", "container %.12s: detach from %s: %s",
		      id, r.ifname, bh_ctx_error(w->ctx));
	row_del(w->db, id);
	logf_(w, r.ns, r.name, "docker", "info", "container %.12s %s: detached from %s", id, why,
	      r.ifname);
}

/* The workload of a container: label bulkhead.io/workload=NS/NAME, or
 * the agent's namespace and the container's name. */
static int workload_of(struct bh_docker_watch *w, struct json_object *c, char *ns, char *name,
		       char *why, size_t len)
{
	const char *wl = get_str(get(get(c, "Config"), "Labels"), BH_DOCKER_WORKLOAD_LABEL);
	const char *cname = get_str(c, "Name");

	if (*wl) {
		const char *slash = strchr(wl, '/');

		if (!slash || slash == wl || !slash[1] || strchr(slash + 1, '/') ||
		    (size_t)(slash - wl) > BH_NAME_MAX || strlen(slash + 1) > BH_NAME_MAX) {
			snprintf(why, len, "label %s=\"%s\" is not NS/NAME", BH_DOCKER_WORKLOAD_LABEL,
				 wl);
			return -EINVAL;
		}
		snprintf(ns, BH_NAME_MAX + 1, "%.*s", (int)(slash - wl), wl);
		snprintf(name, BH_NAME_MAX + 1, "%s", slash + 1);
		return 0;
	}
	if (*cname == '/')
		cname++;
	snprintf(ns, BH_NAME_MAX + 1, "%s", w->ns);
	snprintf(name, BH_NAME_MAX + 1, "%s", cname);
	return 0;
}

/* Docker labels that are valid workload labels; the others are named in
 * skipped (image labels such as maintainer="A <a@b>" are common). */
static void labels_of(struct json_object *c, struct bh_attach_opts *o, char *skipped,
		      size_t len)
{
	struct json_object *labels = get(get(c, "Config"), "Labels");
	size_t used = 0;

	skipped[0] = '\0';
	if (!labels || !json_object_is_type(labels, json_type_object))
		return;
	json_object_object_foreach(labels, key, val) {
		char kv[BH_NAME_MAX + 80];
		const char *v = json_object_is_type(val, json_type_string)
					? json_object_get_string(val) : "";

		if (!strcmp(key, BH_DOCKER_WORKLOAD_LABEL))
			continue;	/* names the workload; NS/NAME is no label value */
		if (o->nr_labels < BH_MAX_LABELS &&
		    snprintf(kv, sizeof(kv), "%s=%s", key, v) < (int)sizeof(kv) &&
		    !bh_label_parse(kv, &o->labels[o->nr_labels])) {
			o->nr_labels++;
			continue;
		}
		if (used < len)
			used += (size_t)snprintf(skipped + used, len - used, "%s%s",
						 used ? ", " : "", key);
	}
}

/* The container's network: the first (by name) with an address. */
static struct json_object *network_of(struct json_object *c, const char **netname)
{
	struct json_object *nets = get(get(c, "NetworkSettings"), "Networks");

	if (!nets || !json_object_is_type(nets, json_type_object))
		return NULL;
	json_object_object_foreach(nets, key, n) {
		if (*get_str(n, "MacAddress") &&
		    (*get_str(n, "IPAddress") || *get_str(n, "GlobalIPv6Address"))) {
			*netname = key;
			return n;
		}
	}
	return NULL;
}

static void container_start(struct bh_docker_watch *w, const char *id)
{
	struct bh_attach_opts *o = NULL;
	struct json_object *c = NULL, *state, *net;
	struct bh_host_veth veth;
	struct row r, old;
	const char *netname = "", *ip4, *ip6;
	char path[128], msg[512], skipped[256] = "", ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	uint8_t mac[6];
	int err, pid;

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	err = bh_docker_get(w->socket, path, &c, msg, sizeof(msg));
	if (err == -ENOENT)
		return;		/* already removed: its destroy event follows */
	if (err) {
		logf_(w, "", "", "docker", "warning", "container %.12s: %s", id, msg);
		return;
	}
	state = get(c, "State");
	pid = json_object_get_int(get(state, "Pid"));
	if (!json_object_get_boolean(get(state, "Running")) || pid <= 0)
		goto out;	/* died meanwhile: its die event follows */
	if (workload_of(w, c, ns, name, msg, sizeof(msg))) {
		logf_(w, "", "", "docker", "warning", "container %.12s not attached: %s", id, msg);
		goto out;
	}
	net = network_of(c, &netname);
	if (!net)
		goto out;	/* host or none network: no veth of ours */
	if (parse_mac(get_str(net, "MacAddress"), mac)) {
		logf_(w, ns, name, "docker", "warning", "container %.12s: bad MAC address \"%s\"", id,
		      get_str(net, "MacAddress"));
		goto out;
	}
	err = bh_netns_host_veth(pid, mac, &veth);
	if (err) {
		logf_(w, ns, name, "docker", "warning",
		      "container %.12s not attached: its veth on network %s: %s", id, netname,
		      strerror(-err));
		goto out;
	}
	if (!row_get(w->db, id, &old)) {
		if (old.ifindex == veth.ifindex) {
			struct bh_workload_info *wi = malloc(sizeof(*wi));
			bool same = wi && !bh_workload_get(w->ctx, old.ns, old.name, wi) &&
				    wi->ifindex == veth.ifindex;

			free(wi);
			if (same) {
				/* attached before (restart of the agent): keep it */
				gate_block(w, veth.ifindex, false);
				goto out;
			}
		}
		container_stop(w, id, "restarted");
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		goto out;
	o->ifname = veth.ifname;
	o->ns = ns;
	o->name = name;
	o->mode = w->mode;
	ip4 = get_str(net, "IPAddress");
	ip6 = get_str(net, "GlobalIPv6Address");
	if (*ip4 && !bh_ip_parse(ip4, &o->ips[o->nr_ips]))
		o->nr_ips++;
	if (*ip6 && !bh_ip_parse(ip6, &o->ips[o->nr_ips]))
		o->nr_ips++;
	labels_of(c, o, skipped, sizeof(skipped));
	err = bh_config_default_hook(w->ctx, &o->hook);
	if (!err)
		err = bh_workload_attach(w->ctx, o);
	if (err) {
		/* the gate keeps the container cut off */
		logf_(w, ns, name, "docker", "alert",
		      "container %.12s not attached (its traffic stays blocked): %s", id,
		      bh_ctx_error(w->ctx));
		goto out;
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	snprintf(r.name, sizeof(r.name), "%s", name);
	memcpy(r.ifname, veth.ifname, IF_NAMESIZE);
	r.ifindex = veth.ifindex;
	if (row_put(w->db, &r))
		logf_(w, ns, name, "docker", "warning", "container %.12s: cannot record the "
		      "attachment; a restarted agent may not detach it", id);
	if (veth.master[0])
		follow_bridge(w, veth.master);
	gate_block(w, veth.ifindex, false);	/* programs in place: let it through */
	logf_(w, ns, name, "docker", "info", "container %.12s started: attached to %s (%s in the "
	      "container, network %s, bridge %s)%s%s", id, veth.ifname, veth.inner, netname,
	      veth.master[0] ? veth.master : "-", skipped[0] ? "; labels not usable as workload "
	      "labels: " : "", skipped);
out:
	free(o);
	json_object_put(c);
}

/* --------------------------------------------------------- networks */
static void network_event(struct bh_docker_watch *w, const struct bh_docker_ev *ev)
{
	struct json_object *n = NULL;
	char path[128], msg[512], br[IF_NAMESIZE];

	if (!strcmp(ev->action, "destroy"))
		return;		/* the bridge's RTM_DELLINK unfollows it */
	snprintf(path, sizeof(path), "/networks/%s", ev->id);
	if (bh_docker_get(w->socket, path, &n, msg, sizeof(msg)))
		return;
	bridge_of(n, br);
	if (br[0])
		follow_bridge(w, br);
	json_object_put(n);
}

/* ------------------------------------------------------- reconcile */
static void reconcile(struct bh_docker_watch *w)
{
	struct json_object *nets = NULL, *cs = NULL;
	uint32_t bridges[BH_DOCKER_MAX_CONTAINERS];
	struct row *rows = NULL;
	int nr_rows = 0, nr_bridges = 0, nr_pending = 0, err;
	char msg[512];
	size_t n;

	if (bh_docker_get(w->socket, "/networks", &nets, msg, sizeof(msg)) ||
	    bh_docker_get(w->socket, "/containers/json", &cs, msg, sizeof(msg))) {
		logf_(w, "", "", "docker", "warning", "cannot list Docker's state: %s", msg);
		goto out;
	}
	n = json_object_is_type(nets, json_type_array) ? json_object_array_length(nets) : 0;
	for (size_t i = 0; i < n && nr_bridges < BH_DOCKER_MAX_CONTAINERS; i++) {
		char br[IF_NAMESIZE];
		uint32_t ifindex;

		bridge_of(json_object_array_get_idx(nets, i), br);
		if (br[0] && (ifindex = if_nametoindex(br)))
			bridges[nr_bridges++] = ifindex;
	}
	/* blocks first what nobody attached yet (new since the last run) */
	if (bh_gate_ports_set_bridges(w->ports, bridges, nr_bridges))
		logf_(w, "", "", "docker", "alert", "too many Docker bridges; some not followed");
	/* what died while we were away */
	if (!rows_all(w->db, &rows, &nr_rows)) {
		size_t nc = json_object_is_type(cs, json_type_array) ?
			    json_object_array_length(cs) : 0;

		for (int i = 0; i < nr_rows; i++) {
			bool running = false;

			for (size_t j = 0; j < nc && !running; j++)
				running = !strcmp(get_str(json_object_array_get_idx(cs, j), "Id"),
						  rows[i].id);
			if (!running)
				container_stop(w, rows[i].id, "gone while the agent was away");
		}
	}
	/* what started while we were away (or is new to us) */
	n = json_object_is_type(cs, json_type_array) ? json_object_array_length(cs) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = get_str(json_object_array_get_idx(cs, i), "Id");

		if (strlen(id) == BH_DOCKER_ID_LEN)
			container_start(w, id);
	}
	/* the gate's set, exactly: ports of followed bridges not attached */
	err = bh_gate_ports_sync(w->ports, &nr_pending);
	free(rows);
	rows = NULL;
	rows_all(w->db, &rows, &nr_rows);
	if (err)
		logf_(w, "", "", "docker", "alert", "gate %s: %s", w->gate, strerror(-err));
	else
		logf_(w, "", "", "docker", "info", "in step with Docker: %d bridge networks, %d "
		      "containers attached, %d ports blocked", bh_gate_ports_nr_bridges(w->ports),
		      nr_rows, nr_pending);
out:
	free(rows);
	json_object_put(nets);
	json_object_put(cs);
}

/* ----------------------------------------------------------- events */
void bh_docker_watch_handle(struct bh_docker_watch *w)
{
	struct bh_docker_ev ev;
	struct epoll_event evs[2];
	char msg[256];

	epoll_wait(w->epfd, evs, 2, 0);
	while (bh_gate_ports_report(w->ports, msg, sizeof(msg)))
		logf_(w, "", "", "docker", "alert", "%s", msg);
	while (bh_docker_stream_read(w->stream, &ev) == 1) {
		switch (ev.kind) {
		case BH_DOCKER_EV_CONNECTED:
			if (w->lost_reported)
				logf_(w, "", "", "docker", "notice", "Docker event stream back on %s",
				      w->socket);
			w->connected = true;
			w->lost_reported = false;
			reconcile(w);
			break;
		case BH_DOCKER_EV_LOST:
			if (!w->lost_reported)
				logf_(w, "", "", "docker", "warning", "%s (%s); retrying", ev.detail,
				      w->socket);
			w->connected = false;
			w->lost_reported = true;
			break;
		case BH_DOCKER_EV_CONTAINER:
			if (!strcmp(ev.action, "start"))
				container_start(w, ev.id);
			else if (!strcmp(ev.action, "die") || !strcmp(ev.action, "destroy"))
				container_stop(w, ev.id, ev.action[0] == 'd' && ev.action[1] == 'i'
							 ? "died" : "destroyed");
			break;
		case BH_DOCKER_EV_NETWORK:
			if (!strcmp(ev.action, "create") || !strcmp(ev.action, "connect") ||
			    !strcmp(ev.action, "destroy"))
				network_event(w, &ev);
			break;
		}
	}
}

int bh_docker_watch_fd(const struct bh_docker_watch *w)
{
	return w->epfd;
}

/* The link thread starts before the first look at Docker, with the ports
 * attached before (an agent restart) open. */
static int start_ports(struct bh_docker_watch *w)
{
	struct row *rows = NULL;
	uint32_t *open;
	int nr = 0, err;

	err = rows_all(w->db, &rows, &nr);
	if (err)
		return err;
	open = calloc((size_t)nr + 1, sizeof(*open));
	if (!open) {
		free(rows);
		return -ENOMEM;
	}
	for (int i = 0; i < nr; i++)
		open[i] = rows[i].ifindex;
	err = bh_gate_ports_start(w->gate, open, nr, &w->ports);
	free(open);
	free(rows);
	return err;
}

int bh_docker_watch_open(struct bh_ctx *ctx, const struct bh_docker_watch_opts *o,
			 struct bh_docker_watch **out, char *msg, size_t len)
{
	struct bh_docker_watch *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ctx = ctx;
	w->db = bh_ctx_db(ctx);
	w->mode = o->mode;
	w->log = o->log;
	w->log_arg = o->log_arg;
	snprintf(w->socket, sizeof(w->socket), "%s", o->socket);
	snprintf(w->ns, sizeof(w->ns), "%s", o->ns);
	bh_docker_gate_name(bh_ctx_state_dir(ctx), w->gate);
	err = !w->db ? -ENOENT : schema(w->db);
	if (err) {
		snprintf(msg, len, "docker: cannot prepare the docker_attachments table");
		free(w);
		return err;
	}
	w->epfd = -1;
	/* the gate exists before the first port needs blocking */
	err = bh_docker_gate_ensure(w->gate);
	if (err) {
		snprintf(msg, len, "docker: cannot create the nftables table bridge %s: %s", w->gate,
			 strerror(-err));
		goto fail;
	}
	err = start_ports(w);
	if (err) {
		snprintf(msg, len, "docker: cannot watch network links: %s", strerror(-err));
		goto fail;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		err = -errno;
		snprintf(msg, len, "docker: epoll: %s", strerror(errno));
		goto fail;
	}
	err = bh_docker_stream_start(w->socket, &w->stream);
	if (err) {
		snprintf(msg, len, "docker: cannot start the event reader: %s", strerror(-err));
		goto fail;
	}
	{
		struct epoll_event e1 = { .events = EPOLLIN }, e2 = { .events = EPOLLIN };

		epoll_ctl(w->epfd, EPOLL_CTL_ADD, bh_gate_ports_fd(w->ports), &e1);
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, bh_docker_stream_fd(w->stream), &e2);
	}
	*out = w;
	return 0;
fail:
	bh_gate_ports_stop(w->ports);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w);
	return err;
}

void bh_docker_watch_close(struct bh_docker_watch *w)
{
	if (!w)
		return;
	bh_docker_stream_stop(w->stream);
	bh_gate_ports_stop(w->ports);
	close(w->epfd);
	free(w);
}
