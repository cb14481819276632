#!/usr/bin/env python3
"""Writes a 10,000-row, 24-column ledger with openpyxl, for the end-to-end CLI benchmark in
docs/BENCHMARKS.md. Usage: make-ledger-10k.py OUT.xlsx   (needs `pip install openpyxl`)"""
import datetime
import sys

import openpyxl

wb = openpyxl.Workbook()
ws = wb.active
ws.append(["管理番号", "機器種別", "機器名", "部署", "設置場所", "管理責任者", "メーカー", "型番",
           "OS・ファームウェア", "バージョン", "ソフトウェア", "IPアドレス", "MACアドレス", "状態",
           "保守事業者", "リモートメンテナンス", "外部接続", "サポート終了日", "稼働時間帯", "重要度",
           "患者情報", "起動時パスワード", "出荷時パスワード変更", "備考"])
kinds = ["サーバ", "端末PC", "ネットワーク機器", "医療機器", "IoT機器", "検査機器付属"]
for i in range(10000):
    ws.append([f"B-{i:05d}", kinds[i % 6], f"電子カルテ端末 {i}", ["内科", "外科", "放射線科", "医事課"][i % 4],
               f"本館{i % 5 + 1}F", "山田 太郎", "富士通", "ESPRIMO D7012", "Windows 11 Pro", "23H2",
               "Google Chrome 120.0.6099.110; Microsoft Office 2019", f"127.30.{i // 256}.{i % 256}",
               f"02:00:00:00:{i // 256:02x}:{i % 256:02x}", "稼働中", "みどりメディカル", "無", "無",
               datetime.date(2026, 11, 10), "外来", "中", "有", "設定済", "変更済", "備考テキスト"])
wb.save(sys.argv[1])
