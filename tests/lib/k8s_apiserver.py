#!/usr/bin/env python3
"""A stand-in Kubernetes API server for bulkhead's tests (a test double).

No real API server exists where the tests run. This one serves what
bulkhead's agent uses, the way the real one answers it:

  GET  /api/v1/namespaces, /api/v1/pods, /api/v1/services,
       /apis/networking.k8s.io/v1/networkpolicies,
       /apis/discovery.k8s.io/v1/endpointslices,
       /apis/bulkhead.io/v1/bulkheadpolicies
       - a list: {"kind": "PodList", "metadata": {"resourceVersion": RV},
         "items": [...]}; a list with resourceVersion older than the
         compaction floor answers 410 Gone (reason Expired);
       - ?limit=N[&continue=TOKEN]: a list in pages of N items, ordered
         by namespace/name, every page from the same snapshot (the first
         page's); metadata.continue names the next page and
         metadata.remainingItemCount what is left; a TOKEN whose snapshot
         is gone (compaction, or /_test/expire-lists) answers 410 Gone
         (reason Expired), as the real server does;
       - ?watch=1&resourceVersion=RV[&allowWatchBookmarks=true]
         [&timeoutSeconds=N]: a chunked stream of JSON lines
         {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}
         replaying every change after RV, then live changes; BOOKMARK
         lines every --bookmark-seconds when asked for; RV older than the
         floor: one ERROR line carrying a Status with code 410, then the
         stream ends (what the real server does for an expired watch).
  POST /api/v1/namespaces/NS/events   recorded (kubectl describe's source)

Authentication as configured: --token T requires "Authorization: Bearer
T"; --client-ca F (with --tls-cert/--tls-key) requires a client
certificate signed by F. Without --tls-cert it serves plain http.

Test control (same listener, no authentication, under /_test/):
  POST /_test/put      {"resource": R, "object": {...}}   add or replace
  POST /_test/delete   {"resource": R, "namespace": NS, "name": N}
  POST /_test/compact  the floor moves to the current RV: older watches
                       and lists get 410 Gone
  POST /_test/expire-lists  every paged list's snapshot is gone: its next
                       page answers 410 Gone; with {"after": N} the
                       snapshots go once N more pages of paged lists
                       have been served
  POST /_test/token    {"token": T}: from now on only T is accepted (a rotated
                       service account token)
  POST /_test/cut      close every open watch stream now; with {"hold": true}
                       new watches get 503 until POST /_test/release
  GET  /_test/stats    request counts (lists, later pages of lists, watches,
                       by resource; refused for their token), the Events
                       received, the current RV, open watches
State survives a restart when --state FILE is given (objects and RV, as
etcd keeps them); the change history does not, so after a restart every
older resourceVersion is expired (410), as a fresh watch cache would say.

Usage: k8s_apiserver.py serve --listen 127.0.0.1:PORT [--tls-cert F
       --tls-key F] [--client-ca F] [--token T] [--state FILE]
       [--bookmark-seconds S] [--control 127.0.0.1:PORT]
       k8s_apiserver.py ctl URL put|delete|compact|expire-lists|token|cut|release|
       stats [JSON]
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCES = {
    # path prefix -> (resource, apiVersion, list kind, object kind, namespaced)
    "/api/v1/namespaces": ("namespaces", "v1", "NamespaceList", "Namespace", False),
    "/api/v1/pods": ("pods", "v1", "PodList", "Pod", True),
    "/api/v1/services": ("services", "v1", "ServiceList", "Service", True),
    "/apis/networking.k8s.io/v1/networkpolicies":
        ("networkpolicies", "networking.k8s.io/v1", "NetworkPolicyList", "NetworkPolicy", True),
    "/apis/discovery.k8s.io/v1/endpointslices":
        ("endpointslices", "discovery.k8s.io/v1", "EndpointSliceList", "EndpointSlice", True),
    "/apis/bulkhead.io/v1/bulkheadpolicies":
        ("bulkheadpolicies", "bulkhead.io/v1", "BulkheadPolicyList", "BulkheadPolicy", True),
}
BY_RESOURCE = {v[0]: (k,) + v for k, v in RESOURCES.items()}


class State:
    def __init__(self, path):
        self.path = path
        self.cond = threading.Condition()
        self.rv = 1
        self.objects = {r: {} for r in BY_RESOURCE}   # resource -> key -> obj
        self.history = []                              # (rv, resource, type, obj)
        self.floor = 0                                 # history starts after it
        self.cut_gen = 0
        self.hold = False                              # refuse new watches (503)
        self.stats = {"lists": {}, "pages": {}, "watches": {}, "events": [], "requests": 0,
                      "unauthorized": 0}
        self.open_watches = 0
        self.uid = 0
        self.snapshots = {}                            # list token id -> (rv, items)
        self.snap_id = 0
        self.expire_after = None                       # pages until the snapshots go
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            self.rv = saved["rv"]
            self.uid = saved.get("uid", 0)
            for r, objs in saved["objects"].items():
                self.objects[r] = objs
            self.floor = self.rv      # history lost: every older RV expired

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "uid": self.uid, "objects": self.objects}, f)
        os.replace(tmp, self.path)

    @staticmethod
    def key(obj):
        md = obj.get("metadata", {})
        return "%s/%s" % (md.get("namespace", ""), md["name"])

    def put(self, resource, obj):
        with self.cond:
            objs = self.objects[resource]
            k = self.key(obj)
            self.rv += 1
            md = obj.setdefault("metadata", {})
            old = objs.get(k)
            md["resourceVersion"] = str(self.rv)
            if old:
                md["uid"] = old["metadata"]["uid"]
            else:
                self.uid += 1
                md.setdefault("uid", "uid-%d" % self.uid)
            objs[k] = obj
            self.history.append((self.rv, resource, "MODIFIED" if old else "ADDED", obj))
            self.save()
            self.cond.notify_all()
            return self.rv

    def delete(self, resource, ns, name):
        with self.cond:
            k = "%s/%s" % (ns or "", name)
            obj = self.objects[resource].pop(k, None)
            if obj is None:
                return None
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.history.append((self.rv, resource, "DELETED", obj))
            self.save()
            self.cond.notify_all()
            return self.rv

    def compact(self):
        with self.cond:
            self.floor = self.rv
            self.history = []
            self.snapshots = {i: v for i, v in self.snapshots.items() if v[0] >= self.floor}
            self.cond.notify_all()

    def cut(self):
        with self.cond:
            self.cut_gen += 1
            self.cond.notify_all()


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bulkhead-test-apiserver"

    def log_message(self, fmt, *args):
        if os.environ.get("K8S_APISERVER_LOG"):
            sys.stderr.write("apiserver: " + fmt % args + "\n")

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        token = self.server.opts.token
        if token and self.headers.get("Authorization") != "Bearer " + token:
            st = self.server.state
            with st.cond:
                st.stats["unauthorized"] += 1
            self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    # ------------------------------------------------------------ control
    def control(self, method, path):
        st = self.server.state
        if method == "GET" and path == "/_test/stats":
            with st.cond:
                s = dict(st.stats, rv=st.rv, open_watches=st.open_watches, floor=st.floor)
                self.send_json(200, json.loads(json.dumps(s)))
            return
        body = self.read_body() if method == "POST" else {}
        if path == "/_test/put":
            self.send_json(200, {"rv": st.put(body["resource"], body["object"])})
        elif path == "/_test/delete":
            rv = st.delete(body["resource"], body.get("namespace"), body["name"])
            self.send_json(200 if rv else 404, {"rv": rv})
        elif path == "/_test/compact":
            st.compact()
            self.send_json(200, {"floor": st.floor})
        elif path == "/_test/token":
            st.api_opts.token = body["token"]     # a rotated service account token
            self.send_json(200, {})
        elif path == "/_test/expire-lists":
            with st.cond:
                if body.get("after"):
                    st.expire_after = int(body["after"])
                else:
                    st.snapshots = {}
            self.send_json(200, {})
        elif path == "/_test/cut":
            with st.cond:
                st.hold = bool(body.get("hold"))
            st.cut()
            self.send_json(200, {})
        elif path == "/_test/release":
            with st.cond:
                st.hold = False
            self.send_json(200, {})
        else:
            self.send_json(404, status(404, "NotFound", path))

    # --------------------------------------------------------------- API
    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_test/"):
            return self.control("POST", u.path)
        if not self.authorized():
            return
        parts = u.path.strip("/").split("/")
        # api/v1/namespaces/NS/events
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "events":
            ev = self.read_body()
            st = self.server.state
            with st.cond:
                st.stats["requests"] += 1
                st.stats["events"].append(ev)
            ev.setdefault("metadata", {})["resourceVersion"] = "1"
            return self.send_json(201, ev)
        self.send_json(404, status(404, "NotFound", u.path))

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_test/"):
            return self.control("GET", u.path)
        if not self.authorized():
            return
        if u.path not in RESOURCES:
            return self.send_json(404, status(404, "NotFound", u.path))
        resource, api, list_kind, kind, _ = RESOURCES[u.path]
        q = urllib.parse.parse_qs(u.query)
        rv = q.get("resourceVersion", [""])[0]
        st = self.server.state
        with st.cond:
            st.stats["requests"] += 1
        if q.get("watch", [""])[0] in ("1", "true"):
            return self.watch(resource, api, kind, rv, q)
        with st.cond:
            if q.get("continue", [""])[0]:    # a later page of a list
                st.stats["pages"][resource] = st.stats["pages"].get(resource, 0) + 1
            else:
                st.stats["lists"][resource] = st.stats["lists"].get(resource, 0) + 1
            if rv and rv != "0" and int(rv) < st.floor:
                return self.send_json(410, status(410, "Expired", "too old resource version"))
            page = self.list_page(st, resource, q)
            if page is None:
                return self.send_json(410, status(410, "Expired", "the provided continue "
                                                  "parameter is too old"))
            rv, items, md = page
            md["resourceVersion"] = str(rv)
            self.send_json(200, {"kind": list_kind, "apiVersion": api,
                                 "metadata": md, "items": items})

    @staticmethod
    def list_page(st, resource, q):
        """(rv, items, metadata) of the page q asks for; None: expired.
        Called under st.cond."""
        limit = int(q.get("limit", ["0"])[0] or 0)
        token = q.get("continue", [""])[0]
        if token:
            try:
                sid, off = (int(x) for x in token.split(":", 1))
            except ValueError:
                return None
            if sid not in st.snapshots:
                return None
            rv, items = st.snapshots[sid]
        else:
            rv, off = st.rv, 0
            items = []
            for k in sorted(st.objects[resource]):
                o = dict(st.objects[resource][k])
                o.pop("kind", None)
                o.pop("apiVersion", None)
                items.append(o)
            if not limit or limit >= len(items):
                return rv, items, {}
            st.snap_id += 1
            sid = st.snap_id
            st.snapshots[sid] = (rv, items)
        end = off + limit if limit else len(items)
        md = {}
        if end < len(items):
            md = {"continue": "%d:%d" % (sid, end), "remainingItemCount": len(items) - end}
        else:
            st.snapshots.pop(sid, None)
        if st.expire_after is not None:     # counts the pages of paged lists only
            st.expire_after -= 1
            if st.expire_after <= 0:
                st.snapshots, st.expire_after = {}, None
        return rv, items[off:end], md

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, resource, api, kind, rv, q):
        st = self.server.state
        bookmarks = q.get("allowWatchBookmarks", [""])[0] == "true"
        timeout = float(q.get("timeoutSeconds", ["0"])[0] or 0)
        period = self.server.opts.bookmark_seconds
        with st.cond:
            st.stats["watches"][resource] = st.stats["watches"].get(resource, 0) + 1
            if st.hold:
                return self.send_json(503, status(503, "ServiceUnavailable", "held by the test"))
            start = int(rv) if rv not in ("", "0") else st.rv
            expired = start < st.floor
            gen = st.cut_gen
            st.open_watches += 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if expired:
                self.chunk({"type": "ERROR",
                            "object": status(410, "Expired", "too old resource version")})
                self.wfile.write(b"0\r\n\r\n")
                return
            sent = start
            t0 = last_bm = time.monotonic()
            while True:
                with st.cond:
                    pending = [h for h in st.history if h[0] > sent and h[1] == resource]
                    if not pending and st.cut_gen == gen:
                        st.cond.wait(0.2)
                        pending = [h for h in st.history if h[0] > sent and h[1] == resource]
                    cut = st.cut_gen != gen
                    cur = st.rv
                for h in pending:
                    o = dict(h[3], kind=kind, apiVersion=api)
                    self.chunk({"type": h[2], "object": o})
                    sent = h[0]
                if cut:
                    return      # connection dropped without the final chunk
                now = time.monotonic()
                if bookmarks and period and now - last_bm >= period:
                    sent = max(sent, cur)
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api,
                        "metadata": {"resourceVersion": str(sent)}}})
                    last_bm = now
                if timeout and now - t0 >= timeout:
                    self.wfile.write(b"0\r\n\r\n")
                    return
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        finally:
            with st.cond:
                st.open_watches -= 1
            self.close_connection = True


def serve(opts):
    host, port = opts.listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    srv.opts = opts
    srv.state = State(opts.state)
    srv.state.api_opts = opts
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        if opts.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if opts.control:
        chost, cport = opts.control.rsplit(":", 1)
        csrv = ThreadingHTTPServer((chost, int(cport)), Handler)
        csrv.daemon_threads = True
        csrv.opts = argparse.Namespace(token=None, bookmark_seconds=opts.bookmark_seconds)
        csrv.state = srv.state
        threading.Thread(target=csrv.serve_forever, args=(0.1,), daemon=True).start()
    print("listening", flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


def ctl(url, op, arg):
    data = arg.encode() if arg is not None else (b"{}" if op != "stats" else None)
    req = urllib.request.Request(url.rstrip("/") + "/_test/" + op, data=data,
                                 method="GET" if op == "stats" else "POST")
    ctx = ssl._create_unverified_context() if url.startswith("https") else None
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        sys.stdout.write(r.read().decode() + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", required=True)
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--client-ca")
    s.add_argument("--token")
    s.add_argument("--state")
    s.add_argument("--control", help="plain-http listener for /_test/ (with TLS)")
    s.add_argument("--bookmark-seconds", type=float, default=1.0)
    c = sub.add_parser("ctl")
    c.add_argument("url")
    c.add_argument("op", choices=["put", "delete", "compact", "expire-lists", "token", "cut",
                                  "release", "stats"])
    c.add_argument("json", nargs="?")
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)
    else:
        ctl(a.url, a.op, a.json)


if __name__ == "__main__":
    main()
