#!/usr/bin/env python3
"""The kernel's count of TCP connection attempts, for the scan rate benchmark.

  tcp-opens.py sample FILE          — write "time count" of Tcp ActiveOpens (/proc/net/snmp)
                                       every 50 ms until killed
  tcp-opens.py report RATE FILE     — the connects the samples saw, their rate from the first to
                                       the last, and the busiest one-second window

Independent of mamori's own counters: it is what the machine actually sent.
"""
import sys
import time


def opens():
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("ActiveOpens")])


def sample(path):
    with open(path, "w") as out:
        while True:
            out.write(f"{time.monotonic():.4f} {opens()}\n")
            out.flush()
            time.sleep(0.05)


def report(rate, path):
    pts = [tuple(map(float, l.split())) for l in open(path) if l.strip()]
    base = pts[0][1]
    moving = [(t, n - base) for t, n in pts]
    total = moving[-1][1]
    first = next(t for t, n in moving if n > 0)
    last = next(t for t, n in moving if n >= total)
    kernel_rate = (total - 1) / (last - first) if last > first else float("nan")
    peak = 0
    for i, (t, n) in enumerate(moving):
        for t2, n2 in moving[i:]:
            if t2 - t > 1.0:
                break
            peak = max(peak, n2 - n)
    print(f"kernel {total:.0f} connects, {kernel_rate:.1f}/s ({(kernel_rate / rate - 1) * 100:+.1f}%), "
          f"busiest second {peak:.0f}")


if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(sys.argv[2])
    else:
        report(float(sys.argv[2]), sys.argv[3])
