#!/usr/bin/env bash
# Network-audit benchmarks (docs/BENCHMARKS.md), on loopback only:
#   bench-scan.sh rate      — `mamori scan run --rate R` keeps R probes/s (R = 50, 100, 500, 1000)
#   bench-scan.sh nmap      — 1,024 addresses × 100 ports with 40 listeners: mamori vs nmap -sT -T4
# Needs a release build (cargo build --release) and, for `nmap`, Debian's nmap.
# Addresses: 127.44.0.0/22 and 127.45.0.0/25, which nothing else on the machine uses; port 2024
# (another listener on every address of this machine) is never in the port list.
set -euo pipefail
cd "$(dirname "$0")/.."
MAMORI=${MAMORI:-target/release/mamori}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# 100 TCP ports: the default hospital list, then 8001-… to make up 100 (never 2024).
PORTS=$(python3 - <<'EOF'
import re, subprocess
src = open("crates/mamori-net/src/ports.rs", encoding="utf-8").read()
ports = [int(m) for m in re.findall(r"^\s+(\d+) Tcp ", src, re.M)]
extra = [p for p in range(8001, 9000) if p not in ports and p != 2024]
ports = (ports + extra)[:100]
assert len(ports) == 100 and 2024 not in ports
print(",".join(map(str, ports)))
EOF
)

data() { local d="$WORK/data-$1"; rm -rf "$d"; "$MAMORI" --data-dir "$d" init >/dev/null 2>&1; echo "$d"; }

rate() {
  # 100 addresses × 10 closed ports = 1,000 probes. Besides mamori's own count, the kernel's
  # count of TCP connection attempts (scripts/tcp-opens.py) gives an independent rate and the
  # busiest one-second window (no bursts).
  for r in 50 100 500 1000; do
    for run in 1 2 3; do
      d=$(data rate)
      python3 scripts/tcp-opens.py sample "$WORK/samples.txt" &
      sampler=$!
      sleep 0.3
      "$MAMORI" --data-dir "$d" --json scan run --scope 127.45.0.1-100 --ports 23,24,25,26,27,28,29,30,31,32 \
        --rate "$r" --concurrency 256 --per-host 2 --no-identify > "$WORK/summary.json"
      sleep 0.3
      kill "$sampler"; wait "$sampler" 2>/dev/null || true
      mine=$(python3 -c "import json; s=json.load(open('$WORK/summary.json')); print(f\"mamori {s['probes']} probes in {s['seconds']:.3f} s = {s['probes']/s['seconds']:.1f}/s ({(s['probes']/s['seconds']/$r-1)*100:+.1f}%)\")")
      echo "rate $r run $run: $mine; $(python3 scripts/tcp-opens.py report "$r" "$WORK/samples.txt")"
    done
  done
}

nmap_vs_mamori() {
  # 40 listeners spread over the /22, on ports of the list.
  python3 - "$PORTS" > "$WORK/listeners.txt" <<'EOF' &
import random, select, socket, sys
ports = [int(p) for p in sys.argv[1].split(",")]
random.seed(2026)
socks = []
for _ in range(40):
    while True:
        addr = f"127.44.{random.randrange(4)}.{random.randrange(1, 255)}"
        port = random.choice(ports)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
        except OSError:
            s.close()
            continue
        s.listen(512)
        socks.append(s)
        print(f"{addr} {port}", flush=True)
        break
while True:
    for s in select.select(socks, [], [])[0]:
        c, _ = s.accept()
        c.close()
EOF
  sleep 1
  sort "$WORK/listeners.txt" > "$WORK/expected.txt"
  echo "listeners: $(wc -l < "$WORK/expected.txt")"
  for run in 1 2 3 4 5; do
    start=$(date +%s.%N)
    nmap -sT -T4 -n -Pn -p "$PORTS" 127.44.0.0/22 -oX "$WORK/nmap.xml" >/dev/null
    end=$(date +%s.%N)
    nmap_s=$(echo "$end - $start" | bc)
    python3 - "$WORK/nmap.xml" > "$WORK/nmap.txt" <<'EOF'
import sys, xml.etree.ElementTree as ET
for h in ET.parse(sys.argv[1]).getroot().iter("host"):
    addr = h.find("address").get("addr")
    for p in h.iter("port"):
        if p.find("state").get("state") == "open":
            print(addr, p.get("portid"))
EOF
    sort -o "$WORK/nmap.txt" "$WORK/nmap.txt"
    d=$(data nmap)
    start=$(date +%s.%N)
    "$MAMORI" --data-dir "$d" --json scan run --scope 127.44.0.0/22 --ports "$PORTS" --rate 0 \
      --concurrency 512 --per-host 8 --timeout-ms 1000 --no-identify > "$WORK/summary.json"
    end=$(date +%s.%N)
    mamori_s=$(echo "$end - $start" | bc)
    id=$(python3 -c "import json; print(json.load(open('$WORK/summary.json'))['id'])")
    "$MAMORI" --data-dir "$d" --json scan show "$id" | python3 -c "
import json, sys
for h in json.load(sys.stdin)['hosts']:
    for p in h['result']['ports']:
        if p['state'] == 'open':
            print(h['addr'], p['port'])" | sort > "$WORK/mamori.txt"
    same=$(cmp -s "$WORK/nmap.txt" "$WORK/mamori.txt" && echo identical || echo DIFFERENT)
    expected=$(cmp -s "$WORK/expected.txt" "$WORK/mamori.txt" && echo "= listeners" || echo "≠ listeners")
    echo "run $run: nmap ${nmap_s}s ($(wc -l < "$WORK/nmap.txt") open), mamori ${mamori_s}s ($(wc -l < "$WORK/mamori.txt") open), open ports $same, mamori $expected, ratio nmap/mamori $(echo "scale=2; $nmap_s / $mamori_s" | bc)"
  done
}

case "${1:-}" in
  rate) rate ;;
  nmap) nmap_vs_mamori ;;
  *) echo "usage: $0 rate|nmap" >&2; exit 2 ;;
esac
