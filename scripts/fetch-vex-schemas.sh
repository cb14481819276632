#!/usr/bin/env bash
# The official schemas the VEX export is validated against, from Python wheels that ship them:
# CycloneDX 1.5/1.6 (and the SPDX and JSF schemas they reference) from cyclonedx-python-lib
# (Apache-2.0), CSAF 2.0 with the CVSS schemas it references from csaf-vex (MIT).
# Usage: scripts/fetch-vex-schemas.sh DIR
set -euo pipefail
dir="${1:?usage: fetch-vex-schemas.sh DIR}"
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" \
  "cyclonedx-python-lib==11.12.0" "csaf-vex==0.1.0b5"
python3 - "$tmp" "$dir" <<'PY'
import sys, zipfile, pathlib
tmp, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for wheel in tmp.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith(".json") and ("/schema/_res/" in name or "/verification/schemas/" in name):
                (out / pathlib.Path(name).name).write_bytes(z.read(name))
PY
ls "$dir"
