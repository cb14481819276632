#!/usr/bin/env python3
"""Prints catalogue entries for mamori's default-credential catalogue
(crates/mamori-net/data/default-credentials.toml) from the DefaultCreds-cheat-sheet CSV
(ihebski/DefaultCreds-cheat-sheet, MIT licence), for the vendors a Japanese hospital runs.

This is how the "DefaultCreds" part of the shipped catalogue was written: the hospital
selection, the categories and the protocols are ours; the facts (vendor, user, password) are
the cheat sheet's, and every entry names its row. Run it again only to review; the shipped
file is edited by hand afterwards.

    scripts/catalogue-from-defaultcreds.py ../shared/data/default-creds/DefaultCreds-cheat-sheet/DefaultCreds-Cheat-Sheet.csv

Rows whose value is a description ("serial number of …", "<SEE COMMENT>", a MAC address
rule) and password-only VNC rows are skipped; at most a few rows per vendor are kept, the
shipped entries' (user, password) pairs are not repeated.
"""

import csv
import re
import sys
import tomllib
from pathlib import Path

COMMIT = "2e48382ff862dbd0f58d5c8276876af1396959bd"
URL = "https://github.com/ihebski/DefaultCreds-cheat-sheet"

# prefix of the CSV's productvendor (lower case) -> (vendor as shown, category, at most)
VENDORS = [
    ("allied", "Allied Telesis", "network", 6),
    ("yamaha", "Yamaha", "network", 4),
    ("nec", "NEC", "network", 3),
    ("fujitsu", "Fujitsu", "server-management", 4),
    ("cisco", "Cisco", "network", 12),
    ("juniper", "Juniper Networks", "network", 6),
    ("hp", "HP / HPE", "network", 10),
    ("aruba", "HPE Aruba", "network", 3),
    ("netgear", "NETGEAR", "network", 5),
    ("d-link", "D-Link", "network", 5),
    ("dlink", "D-Link", "network", 3),
    ("tp-link", "TP-Link", "network", 2),
    ("zyxel", "Zyxel", "network", 6),
    ("huawei", "Huawei", "network", 6),
    ("brocade", "Brocade", "network", 4),
    ("extreme", "Extreme Networks", "network", 1),
    ("ruckus", "Ruckus", "network", 1),
    ("ubiquiti", "Ubiquiti", "network", 3),
    ("mikrotik", "MikroTik", "network", 3),
    ("3com", "3Com", "network", 5),
    ("alcatel", "Alcatel-Lucent", "network", 5),
    ("avaya", "Avaya", "network", 4),
    ("polycom", "Polycom", "network", 3),
    ("mitel", "Mitel", "network", 2),
    ("grandstream", "Grandstream", "network", 2),
    ("yealink", "Yealink", "network", 1),
    ("draytek", "DrayTek", "network", 3),
    ("linksys", "Linksys", "network", 3),
    ("asus", "ASUS", "network", 3),
    ("f5", "F5", "network", 3),
    ("riverbed", "Riverbed", "network", 1),
    ("meinberg", "Meinberg", "network", 1),
    ("lantronix", "Lantronix", "network", 4),
    ("digi", "Digi International", "network", 4),
    ("moxa", "Moxa", "network", 3),
    ("perle", "Perle", "network", 1),
    ("fortinet", "Fortinet", "vpn", 6),
    ("sonicwall", "SonicWall", "vpn", 1),
    ("palo", "Palo Alto Networks", "vpn", 1),
    ("watchguard", "WatchGuard", "vpn", 5),
    ("checkpoint", "Check Point", "vpn", 3),
    ("check point", "Check Point", "vpn", 3),
    ("citrix", "Citrix", "vpn", 2),
    ("pulse", "Pulse Secure / Ivanti", "vpn", 1),
    ("sophos", "Sophos", "vpn", 1),
    ("barracuda", "Barracuda", "vpn", 4),
    ("pfsense", "pfSense", "vpn", 2),
    ("opnsense", "OPNsense", "vpn", 1),
    ("ipfire", "IPFire", "vpn", 2),
    ("canon", "Canon", "printer", 5),
    ("ricoh", "Ricoh", "printer", 6),
    ("sharp", "Sharp", "printer", 5),
    ("kyocera", "Kyocera", "printer", 6),
    ("xerox", "Xerox / Fujifilm Business Innovation", "printer", 8),
    ("konica", "Konica Minolta", "printer", 8),
    ("minolta", "Konica Minolta", "printer", 2),
    ("brother", "Brother", "printer", 5),
    ("epson", "Epson", "printer", 2),
    ("lexmark", "Lexmark", "printer", 1),
    ("oki", "OKI", "printer", 1),
    ("toshiba", "Toshiba", "printer", 3),
    ("zebra", "Zebra", "printer", 2),
    ("sato", "SATO", "printer", 2),
    ("intermec", "Intermec", "printer", 2),
    ("apc", "APC (Schneider Electric)", "ups", 8),
    ("eaton", "Eaton", "ups", 1),
    ("liebert", "Vertiv (Liebert)", "ups", 1),
    ("tripp", "Tripp Lite", "ups", 1),
    ("omron", "OMRON", "ups", 1),
    ("honeywell", "Honeywell", "building", 4),
    ("johnson", "Johnson Controls", "building", 1),
    ("schneider", "Schneider Electric", "building", 5),
    ("siemens", "Siemens", "building", 8),
    ("hitachi", "Hitachi", "building", 2),
    ("synology", "Synology", "nas", 2),
    ("qnap", "QNAP", "nas", 2),
    ("netapp", "NetApp", "nas", 4),
    ("buffalo", "Buffalo", "nas", 3),
    ("emc", "Dell EMC", "nas", 4),
    ("axis", "Axis", "camera", 5),
    ("hikvision", "Hikvision", "camera", 1),
    ("dahua", "Dahua", "camera", 1),
    ("panasonic", "Panasonic", "camera", 3),
    ("sony", "Sony", "camera", 3),
    ("bosch", "Bosch", "camera", 4),
    ("vivotek", "Vivotek", "camera", 2),
    ("carestream", "Carestream Health", "pacs", 2),
    ("ge security", "GE Security", "building", 1),
    ("ge,", "GE HealthCare", "medical", 2),
    ("philips", "Philips", "medical", 1),
    ("oracle", "Oracle", "database", 8),
    ("mssql", "Microsoft SQL Server", "database", 6),
    ("microsoft", "Microsoft", "os", 4),
    ("db2", "IBM Db2", "database", 3),
    ("ibm", "IBM", "server-management", 6),
    ("sybase", "SAP Sybase", "database", 3),
    ("postgres", "PostgreSQL", "database", 6),
    ("mysql", "MySQL", "database", 3),
    ("mongo", "MongoDB", "database", 2),
    ("informix", "IBM Informix", "database", 1),
    ("dell", "Dell", "server-management", 6),
    ("idrac", "Dell iDRAC", "server-management", 1),
    ("supermicro", "Supermicro", "server-management", 3),
    ("vmware", "VMware", "server-management", 1),
    ("nutanix", "Nutanix", "server-management", 1),
    ("proxmox", "Proxmox", "server-management", 1),
    ("raritan", "Raritan", "server-management", 2),
    ("avocent", "Avocent (Vertiv)", "server-management", 1),
    ("weblogic", "Oracle WebLogic", "web", 3),
    ("jboss", "JBoss", "web", 2),
    ("websphere", "IBM WebSphere", "web", 1),
    ("jenkins", "Jenkins", "web", 1),
    ("grafana", "Grafana", "web", 1),
    ("zabbix", "Zabbix", "web", 1),
    ("nagios", "Nagios", "web", 1),
    ("kibana", "Kibana", "web", 1),
    ("solarwinds", "SolarWinds", "web", 2),
    ("prtg", "Paessler PRTG", "web", 1),
    ("webmin", "Webmin", "web", 1),
    ("symantec", "Symantec", "web", 2),
    ("trend", "Trend Micro", "web", 3),
    ("mcafee", "McAfee", "web", 2),
]

# Hints in the product text -> checker protocol.
HINTS = [
    ("(ssh)", "ssh"),
    ("(telnet)", "telnet"),
    ("(snmp)", "snmp"),
    ("(mssql)", "mssql"),
    ("(ipmi)", "ipmi"),
    ("(ftp)", "ftp"),
    ("(postgres)", "postgresql"),
    ("(mysql)", "mysql"),
]

DESCRIPTIVE = re.compile(
    r"serial|see comment|mac address|cloud key|random|\(any\)|<.*>|\s{2,}|hostname|\$", re.I
)


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24]


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    path = Path(sys.argv[1])
    shipped = tomllib.loads(
        (Path(__file__).parent.parent / "crates/mamori-net/data/default-credentials.toml").read_text()
    )["entry"]
    seen_ids = {e["id"] for e in shipped}
    seen_pairs = {
        (e["vendor"].split()[0].lower(), e["username"], e["password"]) for e in shipped
    }
    taken = {}
    rows = list(csv.reader(path.open(encoding="utf-8")))
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 3:
            continue
        product, user, password = (x.strip() for x in row)
        low = product.lower() + ","
        match = next((v for v in VENDORS if low.startswith(v[0])), None)
        if match is None:
            continue
        prefix, vendor, category, cap = match
        if taken.get(vendor, 0) >= cap:
            continue
        if DESCRIPTIVE.search(user) or DESCRIPTIVE.search(password.replace("<blank>", "")):
            continue
        if user == "<blank>" and password == "<blank>":
            # "no password at all" is the no-authentication check's business.
            continue
        protocol = next((p for h, p in HINTS if h in product.lower()), "any")
        if protocol == "any" and category == "database" and vendor == "Oracle":
            protocol = "oracle"
        username = "" if user == "<blank>" else user
        key = (vendor.split()[0].lower(), username, password)
        if key in seen_pairs:
            continue
        seen_pairs.add(key)
        base = f"dc-{slug(vendor)}-{slug(username) or 'nouser'}"
        ident, n = base, 2
        while ident in seen_ids:
            ident, n = f"{base}-{n}", n + 1
        seen_ids.add(ident)
        taken[vendor] = taken.get(vendor, 0) + 1
        out.append(
            "\n".join(
                [
                    "[[entry]]",
                    f"id = {quote(ident)}",
                    f"vendor = {quote(vendor)}",
                    f"product = {quote(product)}",
                    f"category = {quote(category)}",
                    f"protocol = {quote(protocol)}",
                    f"username = {quote(username)}",
                    f"password = {quote(password)}",
                    f"source = {quote(f'DefaultCreds-cheat-sheet (ihebski, MIT) commit {COMMIT[:12]}, DefaultCreds-Cheat-Sheet.csv line {line} ({product}) — {URL}')}",
                ]
            )
        )
    print(
        "\n# ---------------------------------------------------------------------------\n"
        "# From the DefaultCreds-cheat-sheet (MIT), selected for hospitals by\n"
        "# scripts/catalogue-from-defaultcreds.py: protocol \"any\" where the sheet does not\n"
        "# say which login; such entries are tried only where the service names the vendor.\n"
    )
    print("\n\n".join(out))
    print(f"# {len(out)} entries", file=sys.stderr)


if __name__ == "__main__":
    main()
