#!/usr/bin/env bash
# Writers behind a long import (docs/BENCHMARKS.md, "Writers wait"): one ledger import of
# ROWS rows holds the store's write lock while WRITERS `mamori ledger add` commands run at
# once; counts the writers that failed and those that said they waited.
#   scripts/bench-writers.sh [ROWS] [WRITERS]      (after cargo build --release)
set -euo pipefail
ROWS=${1:-100000}
WRITERS=${2:-100}
M=${MAMORI:-target/release/mamori}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$M" --data-dir "$W/d" init >/dev/null 2>&1
python3 - "$W/ledger.csv" "$ROWS" <<'PY'
import sys
path, rows = sys.argv[1], int(sys.argv[2])
with open(path, "w", encoding="utf-8") as f:
    f.write("管理番号,機器名,機器種別,部署,設置場所,メーカー,型番,OS,バージョン,IPアドレス\n")
    for i in range(rows):
        f.write(f"PC-{i:06d},受付端末,端末PC,医事課,1F受付,富士通,ESPRIMO D7012,Windows 11 Pro,23H2,"
                f"127.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}\n")
PY
start=$(date +%s.%N)
/usr/bin/time -f 'import: %e s %M KB' "$M" --lang en --data-dir "$W/d" ledger import "$W/ledger.csv" >"$W/import.out" 2>"$W/import.err" &
imp=$!
# Start the writers once the import holds the lock (its note is posted then).
for _ in $(seq 1 6000); do [ -e "$W/d/mamori.db.writer" ] && break; sleep 0.01; done
lock=$(date +%s.%N)
for i in $(seq 1 "$WRITERS"); do
  ( "$M" --lang en --data-dir "$W/d" ledger add "W-$i" --name "追加 $i" >"$W/w$i.out" 2>"$W/w$i.err"; echo $? >"$W/w$i.rc" ) &
done
wait
end=$(date +%s.%N)
failed=0; waited=0
for i in $(seq 1 "$WRITERS"); do
  [ "$(cat "$W/w$i.rc")" = 0 ] || failed=$((failed + 1))
  grep -q '^waiting: ' "$W/w$i.err" && waited=$((waited + 1))
done
tail -1 "$W/import.err"
awk -v s="$start" -v l="$lock" -v e="$end" 'BEGIN { printf "import held the lock from %.1f s; all done at %.1f s\n", l - s, e - s }'
echo "writers: $WRITERS, failed: $failed, said they waited: $waited"
echo "devices now: $("$M" --json --data-dir "$W/d" ledger list | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
