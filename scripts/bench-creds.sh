#!/usr/bin/env bash
# Default-credential benchmark (docs/BENCHMARKS.md), on loopback only: 50 real services on
# 127.46.0.1-50 — 30 nginx sites with HTTP Basic authentication whose realms name
# catalogue vendors, 10 vsftpd servers and 10 snmpd agents — checked with the shipped
# catalogue by `mamori scan run --creds` under the default approval (3 attempts per account,
# 1 s between attempts to one device). Some services keep a default; the rest were changed.
# It prints the run's time and, from the servers' own logs, the most attempts any account
# of any device saw.
#   bench-creds.sh [RUNS]      (default 3; needs a release build and root for the servers)
set -euo pipefail
cd "$(dirname "$0")/.."
MAMORI=${MAMORI:-target/release/mamori}
RUNS=${1:-3}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Realms: the vendors and products a hospital's web consoles name (catalogue vendors).
REALMS=("APC Network Management Card" "Canon Remote UI" "RICOH Web Image Monitor" "Brother HL" \
  "Konica Minolta PageScope" "Sharp MX" "Kyocera Command Center" "Xerox CentreWare" "Dell iDRAC" \
  "Supermicro IPMI" "Axis camera" "Hikvision" "Panasonic network camera" "Allied Telesis switch" \
  "Cisco router" "Yamaha RTX" "NEC UNIVERGE" "Fortinet FortiGate" "Synology DiskStation" "QNAP NAS" \
  "Buffalo TeraStation" "Eaton Network-M2" "Siemens Desigo" "Honeywell WEBs" "GE HealthCare Centricity" \
  "Orthanc" "Epson printer" "Zyxel" "Juniper" "NetApp ONTAP")
# The accounts each site really has; sites 1, 8, 15 and 26 keep a catalogue default.
declare -A DEFAULT=([1]="apc:apc" [8]="admin:1111" [15]="cisco:cisco" [26]="orthanc:orthanc")

mkdir -p "$WORK/www" "$WORK/nginx-tmp"
echo ok > "$WORK/www/index.html"
{
  echo "daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;"
  echo "events { worker_connections 1024; }"
  echo "http { log_format auth '\$server_addr \$remote_user \$status'; client_body_temp_path $WORK/nginx-tmp;"
  echo "  proxy_temp_path $WORK/nginx-tmp; fastcgi_temp_path $WORK/nginx-tmp; uwsgi_temp_path $WORK/nginx-tmp; scgi_temp_path $WORK/nginx-tmp;"
  for i in $(seq 1 30); do
    cred=${DEFAULT[$i]:-"admin:changed-$RANDOM-$i"}
    user=${cred%%:*}; pass=${cred#*:}
    echo "$user:$(openssl passwd -apr1 "$pass")" > "$WORK/htpasswd-$i"
    echo "  server { listen 127.46.0.$i:80; access_log $WORK/access.log auth; root $WORK/www;"
    echo "    location / { auth_basic \"${REALMS[$((i-1))]}\"; auth_basic_user_file $WORK/htpasswd-$i; } }"
  done
  echo "}"
} > "$WORK/nginx.conf"
/usr/sbin/nginx -c "$WORK/nginx.conf" -p "$WORK" 2>"$WORK/nginx.out" &

mkdir -p "$WORK/ftp-empty" "$WORK/ftp-root"
for i in $(seq 31 40); do
  anon=NO; [ "$i" -le 33 ] && anon=YES
  cat > "$WORK/vsftpd-$i.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.46.0.$i
background=NO
anonymous_enable=$anon
anon_root=$WORK/ftp-root
no_anon_password=YES
local_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=$WORK/ftp-empty
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$WORK/vsftpd-$i.log
max_per_ip=50
EOF
  /usr/sbin/vsftpd "$WORK/vsftpd-$i.conf" &
done

for i in $(seq 41 50); do
  community=public; [ "$i" -gt 43 ] && community="ward-$RANDOM-ro"
  printf 'rocommunity %s 127.0.0.0/8\nsysDescr APC Web/SNMP Management Card\nsysName ups-%s\n' "$community" "$i" > "$WORK/snmpd-$i.conf"
  /usr/sbin/snmpd -f -Lf "$WORK/snmpd-$i.log" -C -c "$WORK/snmpd-$i.conf" -p "$WORK/snmpd-$i.pid" "udp:127.46.0.$i:161" &
done

# Wait for every TCP service.
for i in $(seq 1 40); do
  port=80; [ "$i" -gt 30 ] && port=21
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.46.0.$i/$port") 2>/dev/null && break; sleep 0.1; done
done
sleep 1

for run in $(seq 1 "$RUNS"); do
  d="$WORK/data-$run"; rm -rf "$d"
  "$MAMORI" --data-dir "$d" init >/dev/null 2>&1
  "$MAMORI" --data-dir "$d" creds approve --scope 127.46.0.0/24 --note benchmark >/dev/null
  : > "$WORK/access.log"; for i in $(seq 31 40); do : > "$WORK/vsftpd-$i.log"; done
  start=$(date +%s.%N)
  "$MAMORI" --data-dir "$d" --json scan run --scope 127.46.0.1-50 --ports 21,80,U:161 --rate 200 --creds > "$WORK/summary.json"
  end=$(date +%s.%N)
  python3 - "$WORK" "$start" "$end" "$run" <<'EOF'
import collections, json, re, sys, glob
work, start, end, run = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = json.load(open(f"{work}/summary.json"))
c = s["creds"]
# Server side: nginx logs "$server_addr $remote_user $status" per request; vsftpd logs
# each USER command.
per = collections.Counter()
for line in open(f"{work}/access.log"):
    addr, rest = line.split(" ", 1)
    user, status = rest.rstrip("\n").rsplit(" ", 1)
    if user != "-":
        per[(addr, "http", user)] += 1
for f in glob.glob(f"{work}/vsftpd-*.log"):
    for m in re.finditer(r'Client "([^"]+)", "USER ([^"]+)"', open(f).read()):
        per[(f, "ftp", m.group(2))] += 1
worst = max(per.values()) if per else 0
print(f"run {run}: {end - start:.1f} s wall; services checked {c['services']} on {c['hosts']} hosts; "
      f"{c['attempts']} attempts; default credentials {c['default_credentials']}, no auth {c['no_auth']}; "
      f"mamori's max per account {c['max_per_account']}; servers' max per account {worst} "
      f"over {len(per)} (device, account) pairs")
EOF
done
