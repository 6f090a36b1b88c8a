#!/usr/bin/python3
"""`podman run` arguments for one container of a DaemonSet's pod template.

  ds_to_podman.py DAEMONSET.yaml CONTAINER MAPFILE

Prints the arguments, one per line: privileged and host network as the
pod spec says, one -v per volumeMount (hostPath volumes mapped to host
directories, configMap volumes to directories holding the ConfigMap's
files: MAPFILE lines "VOLUME=HOSTDIR" give both), -e per env entry, then
the image and the command. Environment lines "NAME=VALUE" after the
MAPFILE's volume lines (prefixed "env:") override the manifest's env
value (a test's own pin dir instead of the node's). A stand-in for the
kubelet: it reads exactly the fields it maps, and refuses others.
"""
import socket
import sys
import yaml

ds = yaml.safe_load(open(sys.argv[1]))
want = sys.argv[2]
vol_map, env_over = {}, {}
for line in open(sys.argv[3]):
    line = line.strip()
    if line.startswith("env:"):
        k, v = line[4:].split("=", 1)
        env_over[k] = v
    elif line:
        k, v = line.split("=", 1)
        vol_map[k] = v
spec = ds["spec"]["template"]["spec"]
vols = {v["name"]: v for v in spec["volumes"]}
cs = [c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == want]
if not cs:
    sys.exit(f"no container {want}")
c = cs[0]
known = {"name", "image", "imagePullPolicy", "command", "args", "env", "securityContext",
         "volumeMounts", "ports", "readinessProbe", "livenessProbe", "resources"}
extra = set(c) - known
if extra:
    sys.exit(f"unmapped container fields: {sorted(extra)}")
out = []
if c.get("securityContext", {}).get("privileged"):
    out.append("--privileged")
if spec.get("hostNetwork"):
    out += ["--network", "host"]
for m in c.get("volumeMounts", []):
    v = vols[m["name"]]
    if "hostPath" not in v and "configMap" not in v:
        sys.exit(f"volume {m['name']}: only hostPath and configMap are mapped")
    src = vol_map[m["name"]]
    opts = []
    if m.get("readOnly"):
        opts.append("ro")
    if m.get("mountPropagation") == "Bidirectional":
        opts.append("rshared")
    out += ["-v", f"{src}:{m['mountPath']}" + (":" + ",".join(opts) if opts else "")]
def env_value(e):
    """value, or what the kubelet would put for the one fieldRef we use"""
    if "value" in e:
        return e["value"]
    ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if ref == "spec.nodeName":
        return socket.gethostname()
    sys.exit(f"env {e['name']}: only value and fieldRef spec.nodeName are mapped")


for e in c.get("env", []):
    out += ["-e", f"{e['name']}={env_over.get(e['name']) or env_value(e)}"]
for k, v in env_over.items():
    if k not in [e["name"] for e in c.get("env", [])]:
        out += ["-e", f"{k}={v}"]
out += ["--entrypoint", c["command"][0], c["image"]] + c["command"][1:] + c.get("args", [])
print("\n".join(out))
