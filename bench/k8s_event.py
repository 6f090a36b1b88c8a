#!/usr/bin/env python3
"""k8s_event_to_map: a pod label change in the API until the data path
decides with it, against the stand-in API server (tests/lib/k8s_apiserver.py).

  populate CTL_URL PODS POLICIES     namespaces, PODS pods, POLICIES
                                     NetworkPolicies (before the agent starts)
  measure CTL_URL IPCACHE_PIN N      N label changes of one remote pod; each
                                     is timed from the API write until the
                                     pod's address has its new identity in
                                     the pinned ipcache (the last map the sync
                                     writes: the policy maps are swapped
                                     before it); prints p50/p99 in ms
  steady CTL_URL SECONDS             API requests made by the agent in
                                     SECONDS of steady state, per minute

The ipcache is read with the bpf() system call (ctypes), polled every
0.5 ms, so the figure's resolution is about 0.5 ms.
"""
import ctypes
import json
import os
import socket
import struct
import sys
import time
import urllib.request

NSS = 50
APPS = 100


def ctl(url, op, body=None):
    data = json.dumps(body).encode() if body is not None else (None if op == "stats" else b"{}")
    req = urllib.request.Request(url + "/_test/" + op, data=data,
                                 method="GET" if op == "stats" else "POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def pod_ip(i):
    return "10.106.%d.%d" % (i // 250, i % 250 + 1)


def pod(i, app):
    return {"metadata": {"name": "p%d" % i, "namespace": "ns%d" % (i % NSS),
                         "labels": {"app": "app%d" % app, "tier": "t%d" % (i % 3)}},
            "spec": {"nodeName": "node-2"},
            "status": {"phase": "Running", "podIPs": [{"ip": pod_ip(i)}]}}


def populate(url, pods, policies):
    for n in range(NSS):
        ctl(url, "put", {"resource": "namespaces", "object": {"metadata": {
            "name": "ns%d" % n, "labels": {"team": "team%d" % (n % 5)}}}})
    for i in range(pods):
        ctl(url, "put", {"resource": "pods", "object": pod(i, i % APPS)})
    for k in range(policies):
        ctl(url, "put", {"resource": "networkpolicies", "object": {
            "metadata": {"name": "np%d" % k, "namespace": "ns%d" % (k % NSS)},
            "spec": {"podSelector": {"matchLabels": {"app": "app%d" % (k % APPS)}},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {},
                                            "podSelector": {"matchLabels": {
                                                "app": "app%d" % ((k * 7 + 1) % APPS)}}}],
                                  "ports": [{"protocol": "TCP", "port": 80 + k % 10}]}]}}})


# ------------------------------------------------------------- bpf()
libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321          # x86_64
BPF_MAP_LOOKUP_ELEM, BPF_OBJ_GET = 1, 7


def bpf(cmd, attr):
    r = libc.syscall(NR_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    attr = (ctypes.c_uint64 * 3)()
    attr[0] = ctypes.cast(p, ctypes.c_void_p).value
    return bpf(BPF_OBJ_GET, attr)


def identity_of(fd, ip):
    key = ctypes.create_string_buffer(struct.pack("=I", 128) + b"\0" * 10 + b"\xff\xff" +
                                      socket.inet_aton(ip), 20)
    val = ctypes.create_string_buffer(8)
    attr = (ctypes.c_uint64 * 4)()
    attr[0] = fd
    attr[1] = ctypes.cast(key, ctypes.c_void_p).value
    attr[2] = ctypes.cast(val, ctypes.c_void_p).value
    try:
        bpf(BPF_MAP_LOOKUP_ELEM, attr)
    except OSError:
        return None
    return struct.unpack("=I", val.raw[:4])[0]


def measure(url, pin, n):
    fd = obj_get(pin)
    i = 17                                  # a remote pod: ns17/p17
    ip = pod_ip(i)
    t_end = time.monotonic() + 60
    while identity_of(fd, ip) is None and time.monotonic() < t_end:
        time.sleep(0.05)
    lat = []
    for r in range(n):
        before = identity_of(fd, ip)
        app = (i % APPS) if r % 2 else (i % APPS) + 1    # toggles between two label sets
        t0 = time.monotonic()
        ctl(url, "put", {"resource": "pods", "object": pod(i, app)})
        deadline = t0 + 10
        while identity_of(fd, ip) == before and time.monotonic() < deadline:
            time.sleep(0.0005)
        t1 = time.monotonic()
        if identity_of(fd, ip) == before:
            print("change %d: not seen within 10 s" % r, file=sys.stderr)
            continue
        lat.append((t1 - t0) * 1000)
        time.sleep(0.05)
    lat.sort()
    if not lat:
        print(json.dumps({}))
        return 1
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("event to map: %d changes, p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (len(lat), p50, p99, lat[-1]))
    print(json.dumps({"k8s_event_to_map_p50_ms": round(p50, 2),
                      "k8s_event_to_map_p99_ms": round(p99, 2)}))
    return 0


def steady(url, secs):
    s0 = ctl(url, "stats")
    time.sleep(secs)
    s1 = ctl(url, "stats")
    req = s1["requests"] - s0["requests"]
    lists = sum(s1["lists"].values()) - sum(s0["lists"].values())
    per_min = req * 60.0 / secs
    print("steady state: %d API requests in %d s (%d lists) = %.1f per minute"
          % (req, secs, lists, per_min))
    print(json.dumps({"k8s_api_requests_per_node_per_min": round(per_min, 2),
                      "k8s_api_lists_in_steady_state": lists}))


def main(a):
    if a[1] == "populate":
        populate(a[2], int(a[3]), int(a[4]))
    elif a[1] == "measure":
        return measure(a[2], a[3], int(a[4]))
    elif a[1] == "steady":
        steady(a[2], int(a[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
