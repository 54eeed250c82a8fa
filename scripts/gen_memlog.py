#!/usr/bin/env python3
"""Writes a memlog CSV (and its log CSV) of a synthetic, known shape.

The shape is what `memtk stats` must find, so tests can check it:
  - 2 s at a baseline of 150 MiB,
  - start-up: two checkpoint loads, +600 MiB at 5 s and +500 MiB at 12 s,
    each logged just before, then a ramp of +350 MiB to a plateau at
    1.6 GiB by 20 s,
  - steady growth of --growth MiB/hour with +-3 MiB of noise,
  - a 300 MiB spike at 60% of the run, gone two samples later, and one of
    500 MiB at 80% that only hwm_bytes (VmHWM) saw,
  - a final drop over the last 2 s to 20 MiB.
Deterministic (seeded). Used by the golden tests (small) and the benchmark
(--rows 8000000 makes about 1 GB).

--ramp MIB_PER_S writes a short run of another shape instead: 100 MiB plus a
straight ramp of that many MiB/s with +-1 MiB of noise (0: flat), no log. It
is the "5 s run" of issue #17, whose growth must be given per second (or not
at all when flat or too short).
--cpu adds the cpu_percent column (one decimal, as memlog writes it since
issue #17); without it the CSV has the older columns only.

usage: gen_memlog.py OUT.csv [--rows N] [--interval S] [--growth MIB_PER_HOUR] [--no-log]
                     [--ramp MIB_PER_S] [--cpu]
"""
import argparse
import datetime
import random

MIB = 1 << 20
START = 1795300000.0  # 2026-11-21T22:26:40Z


def iso(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(round(t * 1000)) % 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--growth", type=float, default=600.0)
    ap.add_argument("--no-log", action="store_true")
    ap.add_argument("--ramp", type=float)
    ap.add_argument("--cpu", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(42)
    if a.ramp is not None:
        return ramp(a, rnd)
    n, dt = a.rows, a.interval
    duration = (n - 1) * dt
    spike_at = int(n * 0.6)
    drop_from = duration - 2.0
    log = []
    hwm = 0
    with open(a.out, "w", newline="") as f:
        f.write("time_utc,unix_s,elapsed_s,rss_bytes,hwm_bytes,swap_bytes,procs,mem_available_bytes,cgroup_bytes\n")
        buf = []
        for i in range(n):
            t = i * dt
            if t < 5.0:
                v = 150 * MIB
            elif t < 12.0:
                v = 750 * MIB
            elif t < 20.0:
                v = 1250 * MIB + int((t - 12.0) / 8.0 * 350 * MIB)
            else:
                v = 1600 * MIB + int(a.growth * MIB * (t - 20.0) / 3600.0)
            if t >= 20.0:
                v += rnd.randint(-3 * MIB, 3 * MIB)
            if i in (spike_at, spike_at + 1):
                v += 300 * MIB
            if t > drop_from:
                frac = min(1.0, (t - drop_from) / 2.0)
                v = int(v * (1 - frac) + 20 * MIB * frac)
            hwm = max(hwm, v)
            spike = 500 * MIB if i == int(n * 0.8) else 0  # a spike only VmHWM saw
            hwm = max(hwm, v + spike)
            procs = 1 if t < 3.0 or t > duration - 0.5 else 3
            avail = 30000 * MIB - v
            unix = START + t
            buf.append("%s,%.6f,%.6f,%d,%d,0,%d,%d,%d\n" % (iso(unix), unix, t, v, hwm, procs, avail, v + 40 * MIB))
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    if a.no_log:
        return
    def line(t, stream, text):
        log.append((t, stream, text))
    line(0.05, "stdout", "starting train.py, 3 epochs")
    line(4.95, "stdout", "loading checkpoint shard 1/2")
    line(11.95, "stderr", 'warning: shard 2/2 is "large", this may take a while')
    line(19.0, "stdout", "model ready")
    for k, t in enumerate(range(30, int(duration) - 2, 30)):
        line(float(t), "stdout", "step %d, loss %.3f" % ((k + 1) * 100, 2.0 / (k + 1)))
    line(spike_at * dt - 0.05, "stdout", "evaluating on held-out set")
    line(duration * 0.5, "mark", "epoch 2")
    line(drop_from, "stdout", "done, saving")
    log.sort()
    path = a.out[:-4] + ".log.csv" if a.out.endswith(".csv") else a.out + ".log.csv"
    with open(path, "w", newline="") as f:
        f.write("time_utc,unix_s,elapsed_s,stream,line\n")
        for t, stream, text in log:
            unix = START + t
            f.write('%s,%.6f,%.6f,%s,"%s"\n' % (iso(unix), unix, t, stream, text.replace('"', '""')))


def ramp(a, rnd):
    cpu_head = ",cpu_percent" if a.cpu else ""
    with open(a.out, "w", newline="") as f:
        f.write("time_utc,unix_s,elapsed_s,rss_bytes,hwm_bytes,swap_bytes,procs%s,mem_available_bytes\n" % cpu_head)
        hwm = 0
        for i in range(a.rows):
            t = i * a.interval
            v = 100 * MIB + int(a.ramp * MIB * t) + rnd.randint(-MIB, MIB)
            hwm = max(hwm, v)
            # A busy first half, then mostly waiting; empty in the first row
            # (memlog has no interval to measure CPU over yet).
            cpu = "" if i == 0 else "%.1f" % ((95.0 if t < a.rows * a.interval / 2 else 12.5) + rnd.randint(-50, 50) / 10)
            unix = START + t
            f.write("%s,%.6f,%.6f,%d,%d,0,1%s,%d\n" % (iso(unix), unix, t, v, hwm, "," + cpu if a.cpu else "",
                                                       30000 * MIB - v))


if __name__ == "__main__":
    main()
