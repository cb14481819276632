#!/usr/bin/env bash
# Web benchmark (docs/BENCHMARKS.md): 10,000 devices and 1,000,000 findings in SQLite
# (scripts/bench-web-data.py), `mamori serve` on loopback, wrk with 20 connections for the
# dashboard, the ledger list and the findings list (a logged-in session) and the findings API
# (a bearer token); then the server's peak RSS.
#   scripts/bench-web.sh [DATA_DIR]      (made when missing; needs a release build and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
MAMORI=${MAMORI:-target/release/mamori}
DATA=${1:-target/bench-web-data}
PORT=${PORT:-18181}
if [ ! -e "$DATA/mamori.db" ]; then
  python3 scripts/bench-web-data.py "$DATA" "$MAMORI" > "$DATA.json"
fi
TOKEN=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$DATA.json")
"$MAMORI" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
# A session for the pages: the login form's token, then the login.
JAR=$(mktemp)
PRE=$(curl -s -c "$JAR" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data "username=bench&password=bench-password-2026&csrf=$PRE" "http://127.0.0.1:$PORT/login"
SESSION=$(awk '$6 == "mamori_session" {print $7}' "$JAR")
for path in / /ledger /findings; do
  curl -s -o /dev/null -H "Cookie: mamori_session=$SESSION" "http://127.0.0.1:$PORT$path"   # warm
  echo "== $path"
  wrk -t2 -c20 -d15s --latency -s scripts/wrk-p95.lua -H "Cookie: mamori_session=$SESSION" "http://127.0.0.1:$PORT$path" \
    | grep -E "Requests/sec|p95|Non-2xx|Socket errors"
done
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/findings?limit=50"
echo "== /api/v1/findings?limit=50"
wrk -t2 -c20 -d15s --latency -s scripts/wrk-p95.lua -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/findings?limit=50" \
  | grep -E "Requests/sec|p95|Non-2xx|Socket errors"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status)"
