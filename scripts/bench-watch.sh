#!/usr/bin/env bash
# Operating-hours watch benchmark (docs/BENCHMARKS.md): `mamori watch --interval 60` over 2,000
# in-scope loopback devices (127.47.0.1–127.47.7.250, each with a listener on port 8080) for
# ROUNDS rounds; reports CPU use (user + system time over wall time, from /proc) and peak RSS.
# Loopback only; needs a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
MAMORI=${MAMORI:-$PWD/target/release/mamori}
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
ulimit -n 16384

python3 - > "$WORK/ledger.csv" <<'PY'
print("管理番号,機器名,機器種別,部署,IPアドレス,稼働時間帯")
for i in range(2000):
    print(f"PC-{i:04d},端末{i},端末PC,外来,127.47.{i // 250}.{i % 250 + 1},外来")
PY
python3 - <<'PY' &
import select, socket
socks = []
for i in range(2000):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((f"127.47.{i // 250}.{i % 250 + 1}", 8080))
    s.listen(64)
    s.setblocking(False)
    socks.append(s)
ep = select.epoll()
for s in socks:
    ep.register(s.fileno(), select.EPOLLIN)
by_fd = {s.fileno(): s for s in socks}
while True:
    for fd, _ in ep.poll():
        try:
            c, _ = by_fd[fd].accept()
            c.close()
        except BlockingIOError:
            pass
PY
sleep 2
D="$WORK/data"
"$MAMORI" --data-dir "$D" init > /dev/null 2>&1
"$MAMORI" --data-dir "$D" ledger import "$WORK/ledger.csv" > /dev/null
"$MAMORI" --data-dir "$D" schedule set 外来 --weekly "mon-fri 08:30-17:30" > /dev/null
scope=$(python3 -c "print(','.join(f'127.47.{b}.1-250' for b in range(8)))")
"$MAMORI" --data-dir "$D" --json scan run --scope "$scope" --ports 8080 --rate 0 --no-identify \
  | python3 -c "import json,sys; s=json.load(sys.stdin); print(f'scan: {s[\"hosts\"]} hosts, {s[\"open_ports\"]} open, {s[\"seconds\"]:.1f} s')"

# /usr/bin/time gives the process's own user and system time and its peak RSS at exit.
start=$(date +%s.%N)
/usr/bin/time -f "%U %S %M" -o "$WORK/time.txt" \
  "$MAMORI" --data-dir "$D" watch --interval 60 --rounds "$ROUNDS" > "$WORK/watch.log" 2>&1
end=$(date +%s.%N)
read -r user sys rss < "$WORK/time.txt"
wall=$(echo "$end - $start" | bc)
cpu=$(echo "$user + $sys" | bc)
cat "$WORK/watch.log"
echo "watch: $ROUNDS rounds in ${wall} s wall (the last round's probes end the run), CPU ${cpu} s (user $user, system $sys) = $(echo "scale=2; 100 * $cpu / $wall" | bc)% of one core, peak RSS $((rss / 1024)) MB"
