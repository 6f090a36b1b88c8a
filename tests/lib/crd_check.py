#!/usr/bin/python3
"""Checks of a CustomResourceDefinition without an API server.

  crd_check.py structural CRD.yaml
      the rules of a structural schema (apiextensions.k8s.io/v1): every
      node has a type (or x-kubernetes-int-or-string), properties and
      additionalProperties never together, metadata only {type: object}.
  crd_check.py validate CRD.yaml OBJECT.yaml...
      each object (every document) against the schema: types, enums,
      required, minimum/maximum, unknown fields (which the API server
      would prune). Prints PATH: problem and exits 1 on the first bad one.

A stand-in for the API server's own checks: the subset the CRD uses.
"""
import sys
import yaml


def walk_structural(node, path, errs):
    if not isinstance(node, dict):
        errs.append(f"{path}: schema node is not a mapping")
        return
    if "type" not in node and not node.get("x-kubernetes-int-or-string"):
        errs.append(f"{path}: no type")
    if "properties" in node and "additionalProperties" in node:
        errs.append(f"{path}: properties and additionalProperties together")
    for k, v in node.get("properties", {}).items():
        walk_structural(v, f"{path}.{k}", errs)
    if isinstance(node.get("additionalProperties"), dict):
        walk_structural(node["additionalProperties"], f"{path}.*", errs)
    if "items" in node:
        walk_structural(node["items"], f"{path}[]", errs)


TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def check(value, schema, path):
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            return f"{path}: must be an integer or a string"
        return None
    t = schema.get("type")
    if t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{path}: must be an integer"
        if "minimum" in schema and value < schema["minimum"]:
            return f"{path}: below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{path}: above {schema['maximum']}"
    elif t in TYPES and not isinstance(value, TYPES[t]):
        return f"{path}: must be {t}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: must be one of {schema['enum']}"
    if t == "object" and path != ".metadata":
        for r in schema.get("required", []):
            if r not in value:
                return f"{path}.{r}: required"
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                e = check(v, props[k], f"{path}.{k}")
            elif isinstance(addl, dict):
                e = check(v, addl, f"{path}.{k}")
            elif props is not None:
                e = f"{path}.{k}: unknown field (the API server would prune it)"
            else:
                e = None
            if e:
                return e
    if t == "array":
        for i, v in enumerate(value):
            e = check(v, schema["items"], f"{path}[{i}]")
            if e:
                return e
    return None


def main():
    crd = yaml.safe_load(open(sys.argv[2]))
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    if sys.argv[1] == "structural":
        errs = []
        walk_structural(schema, "", errs)
        md = schema.get("properties", {}).get("metadata")
        if md != {"type": "object"}:
            errs.append(".metadata: must be exactly {type: object}")
        for e in errs:
            print(e)
        return 1 if errs else 0
    for f in sys.argv[3:]:
        for doc in yaml.safe_load_all(open(f)):
            if doc is None:
                continue
            e = check(doc, schema, "")
            if e:
                print(f"{f}: {e}")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
