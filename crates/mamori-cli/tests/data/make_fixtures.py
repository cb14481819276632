#!/usr/bin/env python3
"""Writes ledger workbooks with writers other than mamori's own (openpyxl, and
msoffcrypto-tool for encryption), for the interoperability and bad-input tests.

Usage: make_fixtures.py OUTDIR
"""
import datetime
import io
import sys

import msoffcrypto
import openpyxl
from msoffcrypto.format.ooxml import OOXMLFile

out = sys.argv[1]

# 1. A normal ledger as another tool writes it: title row, Japanese headers with
#    synonyms, date cells, number cells, an empty row, 50 devices.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "台帳"
ws.append(["医療機器・情報機器台帳 (令和8年度)"])
ws.append(["管理番号", "種別", "機器名称", "設置部署", "IP Address", "OS", "Ver.", "サポート終了日", "担当者", "購入金額"])
for i in range(1, 51):
    ws.append([
        f"OP-{i:03d}",
        ["サーバ", "端末PC", "ネットワーク機器", "医療機器", "IoT機器"][i % 5],
        f"機器{i}",
        ["放射線科", "内科", "医事課"][i % 3],
        f"127.20.0.{i}",
        "Windows 10 Pro",
        "22H2",
        datetime.date(2025, 10, 14),
        "山田 花子",
        150000 + i,
    ])
    if i == 25:
        ws.append([])
wb.save(f"{out}/openpyxl-ledger.xlsx")

# 2. A formula written by a tool that never calculates it: no cached value.
wb = openpyxl.Workbook()
ws = wb.active
ws.append(["管理番号", "機器名", "備考"])
ws.append(["F-001", "サーバ", "ok"])
ws.append(["F-002", '=CONCATENATE("端末","PC")', "formula without value"])
wb.save(f"{out}/openpyxl-formula.xlsx")

# 3. Merged header cells: 「ネットワーク」 spans the IP and MAC columns, and the
#    sub-headers are on a second row.
wb = openpyxl.Workbook()
ws = wb.active
ws.append(["管理番号", "機器名", "ネットワーク", None])
ws.merge_cells("C1:D1")
ws.append([None, None, "IP", "MAC"])
ws.append(["M-001", "サーバ", "127.0.0.1", "00:11:22:33:44:55"])
wb.save(f"{out}/openpyxl-merged.xlsx")

# 4. A password-protected workbook (Excel's "Encrypt with password").
plain = io.BytesIO()
wb = openpyxl.Workbook()
wb.active.append(["管理番号", "機器名"])
wb.active.append(["E-001", "サーバ"])
wb.save(plain)
plain.seek(0)
with open(f"{out}/encrypted.xlsx", "wb") as f:
    OOXMLFile(plain).encrypt("himitsu-password", f)
