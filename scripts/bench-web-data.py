#!/usr/bin/env python3
"""Makes the web benchmark's store (docs/BENCHMARKS.md): 10,000 devices imported through
`mamori ledger import`, then 1,000,000 findings written straight into the SQLite file (a
benchmark fixture only: matching 1,000,000 real findings would take the feeds of several
years). Also a user `bench` (operator) with the password `bench-password-2026` and an API
token, printed last.

    scripts/bench-web-data.py DATA_DIR [MAMORI]
"""

import json
import random
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

DATA = Path(sys.argv[1])
MAMORI = sys.argv[2] if len(sys.argv) > 2 else "target/release/mamori"
DEVICES = 10_000
FINDINGS = 1_000_000
random.seed(2026)


def run(*args, **kw):
    return subprocess.run([MAMORI, "--data-dir", str(DATA), *args], check=True, capture_output=True, text=True, **kw)


with tempfile.TemporaryDirectory() as tmp:
    pw = Path(tmp, "pw")
    pw.write_text("bench-admin-password-2026\n")
    run("init", "--admin-password-file", str(pw))
    kinds = ["サーバ", "端末PC", "ネットワーク機器", "医療機器", "IoT機器", "検査機器付属"]
    depts = ["医事課", "放射線科", "検査科", "病棟3F", "病棟4F", "情報システム室", "薬剤部", "外来"]
    csv = Path(tmp, "ledger.csv")
    with csv.open("w", encoding="utf-8") as f:
        f.write("管理番号,機器名,機器種別,部署,IPアドレス,OS,OSバージョン\n")
        for i in range(DEVICES):
            f.write(f"D-{i:05d},機器{i},{random.choice(kinds)},{random.choice(depts)},127.50.{i // 250}.{i % 250 + 1},Windows,10\n")
    run("ledger", "import", str(csv))
    pw2 = Path(tmp, "pw2")
    pw2.write_text("bench-password-2026\n")
    run("user", "add", "bench", "--role", "operator", "--new-password-file", str(pw2))
    token = json.loads(run("--json", "token", "create", "bench", "--for", "bench").stdout)["token"]

db = sqlite3.connect(DATA / "mamori.db")
assets = [r[0] for r in db.execute("SELECT id FROM assets")]
levels = ["urgent"] * 5 + ["high"] * 20 + ["medium"] * 45 + ["low"] * 30
states = ["new"] * 60 + ["investigating"] * 15 + ["asked_vendor"] * 10 + ["fix_planned"] * 10 + ["not_affected"] * 5
now = datetime.now(timezone.utc)
rows = []
seen = set()
i = 0
while len(rows) < FINDINGS:
    i += 1
    asset = random.choice(assets)
    comp = f"a:vendor{random.randrange(400)}:product{random.randrange(50)}"
    vuln = f"CVE-{random.randrange(2015, 2027)}-{random.randrange(1, 60000)}"
    if (asset, comp, vuln) in seen:
        continue
    seen.add((asset, comp, vuln))
    level = random.choice(levels)
    score = {"urgent": 90, "high": 70, "medium": 50, "low": 20}[level] + random.random() * 9
    first = (now - timedelta(days=random.randrange(400))).isoformat().replace("+00:00", "Z")
    rows.append((asset, comp, f"product {comp.split(':')[2]} 1.{random.randrange(20)}", None, None, "sbom", vuln,
                 "open", "high", round(score, 1), level, 1 if random.random() < 0.02 else 0, "[]", "{}",
                 None, first, first, None, None, random.choice(states), None, None, "vuln"))
db.executemany(
    "INSERT INTO findings (asset, component_key, component, version, cpe, source, vuln, status, confidence,"
    " score, level, kev, sources, evidence, reason, first_seen, last_seen, resolved_at, digest, state,"
    " planned_date, flag, category) VALUES (" + ",".join("?" * 23) + ")",
    rows,
)
db.commit()
db.execute("ANALYZE")
db.close()
print(json.dumps({"devices": DEVICES, "findings": FINDINGS, "token": token}))
