#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Drive a CNI plugin chain the way libcni v1.1.2 (podman 4.3.1) does.

  ADD    plugins in order, each given the previous one's result as
         prevResult; stop at the first error; cache the final result
  DEL    plugins in reverse, each given the *cached* result (none when
         there is no cache or the list is older than 0.4.0); stop at the
         first error; then drop the cache
  CHECK  plugins in order with the cached result (none if no cache)
  VERSION  every plugin, stdin {"cniVersion": list version}; fails like
         libcni's ValidateNetworkList if one does not support it
  GC     (1.1) every plugin, with cni.dev/attachments and
         cni.dev/valid-attachments listing the valid attachments; like
         libcni HEAD, stale cached attachments are DELeted first unless
         --no-cached-del
  STATUS (1.1) every plugin

A plugin's stdin is its conflist entry plus the list's name and
cniVersion (and prevResult). The environment is the caller's plus the six
CNI_* variables (--clear-env: only PATH and those, as podman's cleanup
process does). On a plugin failure its error JSON is printed with an added
"plugin" key and the exit status is 1; usage errors exit 2.
`cni_driver.py hooks IFNAME` (a test helper) prints the program ids on
IFNAME's tcx hooks and clsact filters. Stdlib only.
"""
import argparse
import ctypes
import json
import os
import socket
import subprocess
import sys
import time


def load_list(path):
    with open(path) as f:
        conf = json.load(f)
    if "plugins" not in conf:  # a single .conf: a list of one
        conf = {"cniVersion": conf.get("cniVersion"), "name": conf.get("name"), "plugins": [conf]}
    return conf


def version_ge(a, b):
    def parts(v):
        return tuple(int(x) for x in (v or "0.0.0").split("."))
    return parts(a) >= parts(b)


def find_plugin(cni_path, ptype):
    for d in cni_path.split(":"):
        p = os.path.join(d, ptype)
        if d and os.access(p, os.X_OK):
            return p
    raise SystemExit(f"cni_driver: plugin {ptype!r} not found in {cni_path}")


class Driver:
    def __init__(self, a):
        self.a = a
        self.conf = load_list(a.conflist)
        self.name = self.conf["name"]
        self.version = self.conf.get("cniVersion") or "0.1.0"
        # Trace files are numbered across invocations sharing a --trace dir.
        self.step = len([f for f in os.listdir(a.trace) if f.endswith(".in")]) if a.trace else 0

    def cache_path(self):
        return os.path.join(self.a.cache_dir, f"{self.name}-{self.a.cid}-{self.a.ifname}")

    def env(self, command, full=True):
        if self.a.clear_env:
            env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        else:
            env = dict(os.environ)
        if full:
            env.update({
                "CNI_COMMAND": command,
                "CNI_CONTAINERID": self.a.cid or "",
                "CNI_NETNS": self.a.netns or "",
                "CNI_IFNAME": self.a.ifname or "",
                "CNI_ARGS": self.a.args or "",
                "CNI_PATH": self.a.cni_path,
            })
        else:  # GC and STATUS: command and path only
            for k in ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"):
                env.pop(k, None)
            env.update({"CNI_COMMAND": command, "CNI_PATH": self.a.cni_path})
        return env

    def stdin_for(self, plugin, extra):
        d = dict(plugin)
        d["name"] = self.name
        d["cniVersion"] = self.version
        d.update(extra)
        return json.dumps(d)

    def run(self, plugin, command, extra, full_env=True):
        exe = find_plugin(self.a.cni_path, plugin["type"])
        stdin = self.stdin_for(plugin, extra)
        t0 = time.perf_counter()
        p = subprocess.run([exe], input=stdin.encode(), capture_output=True,
                           env=self.env(command, full_env), timeout=60)
        ms = (time.perf_counter() - t0) * 1000.0
        self.step += 1
        if self.a.timing:
            with open(self.a.timing, "a") as f:
                f.write(json.dumps({"command": command, "plugin": plugin["type"], "cid": self.a.cid,
                                    "ms": round(ms, 3), "rc": p.returncode}) + "\n")
        if self.a.trace:
            base = os.path.join(self.a.trace, f"{self.step:02d}-{plugin['type']}-{command}")
            with open(base + ".in", "w") as f:
                f.write(stdin)
            with open(base + ".out", "wb") as f:
                f.write(p.stdout)
            with open(base + ".err", "wb") as f:
                f.write(p.stderr)
        if p.returncode != 0:
            try:
                err = json.loads(p.stdout or p.stderr)
            except ValueError:
                err = {"code": 999, "msg": "plugin failed without error JSON",
                       "details": (p.stdout or p.stderr).decode(errors="replace")}
            err["plugin"] = plugin["type"]
            print(json.dumps(err))
            sys.exit(1)
        return p.stdout

    def cached_result(self):
        try:
            with open(self.cache_path()) as f:
                return json.load(f).get("result")
        except FileNotFoundError:
            return None

    def add(self):
        prev = None
        for plugin in self.conf["plugins"]:
            extra = {"prevResult": prev} if prev is not None else {}
            out = self.run(plugin, "ADD", extra)
            res = json.loads(out) if out.strip() else None
            if res is not None:
                res.setdefault("cniVersion", self.version)
                prev = res
        os.makedirs(self.a.cache_dir, exist_ok=True)
        with open(self.cache_path(), "w") as f:
            json.dump({"kind": "cniCacheV1", "containerId": self.a.cid, "ifName": self.a.ifname,
                       "networkName": self.name, "cniArgs": self.a.args, "result": prev}, f)
        print(json.dumps(prev))

    def delete(self):
        cached = self.cached_result() if version_ge(self.version, "0.4.0") else None
        extra = {"prevResult": cached} if cached is not None else {}
        for plugin in reversed(self.conf["plugins"]):
            self.run(plugin, "DEL", extra)
        try:
            os.unlink(self.cache_path())
        except FileNotFoundError:
            pass

    def check(self):
        if not version_ge(self.version, "0.4.0"):
            raise SystemExit("cni_driver: CHECK needs cniVersion >= 0.4.0")
        cached = self.cached_result()
        extra = {"prevResult": cached} if cached is not None else {}
        for plugin in self.conf["plugins"]:
            self.run(plugin, "CHECK", extra)

    def version_cmd(self):
        answers = []
        for plugin in self.conf["plugins"]:
            exe = find_plugin(self.a.cni_path, plugin["type"])
            env = self.env("VERSION")
            env.update({"CNI_NETNS": "dummy", "CNI_IFNAME": "dummy", "CNI_PATH": "dummy",
                        "CNI_CONTAINERID": ""})
            p = subprocess.run([exe], input=json.dumps({"cniVersion": self.version}).encode(),
                               capture_output=True, env=env, timeout=60)
            if p.returncode != 0:
                print(p.stdout.decode(errors="replace"))
                sys.exit(1)
            info = json.loads(p.stdout)
            info["plugin"] = plugin["type"]
            answers.append(info)
        print(json.dumps(answers))
        for info in answers:
            if self.version not in info.get("supportedVersions", []):
                sys.exit(1)

    def gc(self):
        valid = []
        for item in filter(None, (self.a.valid or "").split(",")):
            cid, _, ifname = item.partition(":")
            valid.append({"containerID": cid, "ifname": ifname})
        if not self.a.no_cached_del:
            prefix = f"{self.name}-"
            for fn in sorted(os.listdir(self.a.cache_dir)) if os.path.isdir(self.a.cache_dir) else []:
                if not fn.startswith(prefix):
                    continue
                with open(os.path.join(self.a.cache_dir, fn)) as f:
                    c = json.load(f)
                if {"containerID": c["containerId"], "ifname": c["ifName"]} in valid:
                    continue
                self.a.cid, self.a.ifname, self.a.args = c["containerId"], c["ifName"], c.get("cniArgs")
                self.a.netns = ""
                self.delete()
        extra = {"cni.dev/attachments": valid, "cni.dev/valid-attachments": valid}
        for plugin in self.conf["plugins"]:
            self.run(plugin, "GC", extra, full_env=False)

    def status(self):
        for plugin in self.conf["plugins"]:
            self.run(plugin, "STATUS", {}, full_env=False)


def tcx_prog_ids(ifname):
    """Program ids on the tcx ingress/egress hooks of IFNAME (bpftool 7.1
    predates tcx): BPF_PROG_QUERY through syscall(2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    ifindex = socket.if_nametoindex(ifname)
    out = {}
    for hook, attach_type in (("tcx_ingress", 46), ("tcx_egress", 47)):
        ids = (ctypes.c_uint32 * 64)()
        attr = (ctypes.c_uint8 * 128)()
        ctypes.c_uint32.from_buffer(attr, 0).value = ifindex
        ctypes.c_uint32.from_buffer(attr, 4).value = attach_type
        ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(ids)
        ctypes.c_uint32.from_buffer(attr, 24).value = 64
        # SYS_bpf is 321 on x86_64, 280 on arm64; BPF_PROG_QUERY = 16
        nr = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
        if libc.syscall(nr, 16, ctypes.byref(attr), 128) != 0:
            raise OSError(ctypes.get_errno(), f"BPF_PROG_QUERY {hook} on {ifname}")
        cnt = ctypes.c_uint32.from_buffer(attr, 24).value
        out[hook] = list(ids[:cnt])
    return out


def clsact_prog_ids(ifname):
    """Program ids of the bpf filters on IFNAME's clsact ingress/egress
    (tc's JSON), [] where there is no clsact qdisc."""
    out = {}
    for hook, parent in (("clsact_ingress", "ingress"), ("clsact_egress", "egress")):
        r = subprocess.run(["tc", "-j", "filter", "show", "dev", ifname, parent],
                           capture_output=True, text=True, check=False)
        filters = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []
        out[hook] = [f["options"]["prog"]["id"] for f in filters
                     if "id" in f.get("options", {}).get("prog", {})]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    if len(sys.argv) == 3 and sys.argv[1] == "hooks":  # test helper, not libcni
        print(json.dumps({**tcx_prog_ids(sys.argv[2]), **clsact_prog_ids(sys.argv[2])}))
        return
    ap.add_argument("command", choices=["add", "del", "check", "version", "gc", "status"])
    ap.add_argument("--conflist", required=True)
    ap.add_argument("--cni-path", default="/usr/lib/cni")
    ap.add_argument("--cache-dir", required=True, help="libcni's results cache (own dir in tests)")
    ap.add_argument("--cid", default="")
    ap.add_argument("--netns", default="")
    ap.add_argument("--ifname", default="eth0")
    ap.add_argument("--args", default="", help="CNI_ARGS")
    ap.add_argument("--valid", default="", help="GC: cid:ifname,cid:ifname")
    ap.add_argument("--no-cached-del", action="store_true")
    ap.add_argument("--clear-env", action="store_true")
    ap.add_argument("--trace", help="dir: save each plugin's stdin/stdout/stderr")
    ap.add_argument("--timing", help="file: append one JSON line per plugin exec (wall ms)")
    a = ap.parse_args()
    if a.trace:
        os.makedirs(a.trace, exist_ok=True)
    d = Driver(a)
    {"add": d.add, "del": d.delete, "check": d.check, "version": d.version_cmd,
     "gc": d.gc, "status": d.status}[a.command]()


if __name__ == "__main__":
    main()
