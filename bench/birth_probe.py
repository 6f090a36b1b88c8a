#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Pods closed at birth: how soon a pending pod opens (bench/bench_birth.sh).

  birth_probe.py CONTROL_URL POD_JSON... (one "IP|JSON" argument per pod)

For each pod, in turn: the pod is attached pending (not in the API); put
it into the stand-in API server, then connect from here to IP:80 every
5 ms (20 ms timeout) until a connection succeeds. Prints one line per pod
and a JSON line with k8s_birth_open_p50_ms / _max_ms / _p99_ms.
"""
import json
import socket
import sys
import time
import urllib.request


def put(url, obj):
    req = urllib.request.Request(url.rstrip("/") + "/_test/put",
                                 data=json.dumps({"resource": "pods", "object": obj}).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def opens(ip, deadline):
    while time.monotonic() < deadline:
        s = socket.socket()
        s.settimeout(0.02)
        try:
            s.connect((ip, 80))
            return True
        except OSError:
            time.sleep(0.005)
        finally:
            s.close()
    return False


def main(argv):
    url, out = argv[1], []
    for arg in argv[2:]:
        ip, obj = arg.split("|", 1)
        t0 = time.monotonic()
        put(url, json.loads(obj))
        if not opens(ip, t0 + 10):
            print(f"{ip}: did not open in 10 s")
            return 1
        ms = (time.monotonic() - t0) * 1000
        out.append(ms)
        print(f"{ip}: open {ms:.1f} ms after the pod reached the API")
    out.sort()
    p = lambda q: out[min(len(out) - 1, int(round(q * (len(out) - 1))))]
    print(f"{len(out)} pods: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {out[-1]:.1f} ms")
    print(json.dumps({"k8s_birth_open_p50_ms": round(p(0.5), 1),
                      "k8s_birth_open_p99_ms": round(p(0.99), 1),
                      "k8s_birth_open_max_ms": round(out[-1], 1)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
