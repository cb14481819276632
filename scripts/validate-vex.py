#!/usr/bin/env python3
"""Validates a VEX document against the official JSON schema, offline.

usage: validate-vex.py SCHEMA_DIR (cyclonedx|csaf) FILE
SCHEMA_DIR holds the schemas fetched by scripts/fetch-vex-schemas.sh. Prints "valid" and exits
0, or prints each error with its JSON path and exits 1.
"""
import json
import pathlib
import sys
from urllib.parse import urljoin

import jsonschema
import referencing.jsonschema
from referencing import Registry, Resource

schema_dir, kind, path = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
doc = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def load(name):
    return json.loads((schema_dir / name).read_text(encoding="utf-8"))


if kind == "cyclonedx":
    spec = doc.get("specVersion", "1.5")
    schema = load(f"bom-{spec}.SNAPSHOT.schema.json")
    base = schema.get("$id", "")
    extra = {
        urljoin(base, "spdx.SNAPSHOT.schema.json"): load("spdx.SNAPSHOT.schema.json"),
        urljoin(base, "jsf-0.82.SNAPSHOT.schema.json"): load("jsf-0.82.SNAPSHOT.schema.json"),
    }
    validator_class = jsonschema.Draft7Validator
elif kind == "csaf":
    schema = load("csaf_2_0.json")
    extra = {
        "https://www.first.org/cvss/cvss-v2.0.json": load("cvss_v2_0.json"),
        "https://www.first.org/cvss/cvss-v3.0.json": load("cvss_v3_0.json"),
        "https://www.first.org/cvss/cvss-v3.1.json": load("cvss_v3_1.json"),
    }
    validator_class = jsonschema.Draft202012Validator
else:
    sys.exit(f"unknown kind {kind}")

spec_of = {
    jsonschema.Draft7Validator: referencing.jsonschema.DRAFT7,
    jsonschema.Draft202012Validator: referencing.jsonschema.DRAFT202012,
}[validator_class]
registry = Registry().with_resources(
    (uri, Resource.from_contents(s, default_specification=spec_of)) for uri, s in extra.items()
)
validator = validator_class(schema, registry=registry)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print(f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}")
if errors:
    sys.exit(1)
print("valid")
