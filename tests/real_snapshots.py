#!/usr/bin/env python3
"""Convert every real snapshot in ../shared/data/snapshots/ and check each
database against Python's pickle (scripts/check_db.py); check `memtk stats`
peaks against an independent Python replay of PyTorch's viewer
(scripts/check_peak.py); check that stats of the database equal stats of the
snapshot, that the live-at-peak rows add up to the peak, and that `query`
answers. Skips, with a message, when the folder does not exist (it is never
copied into the repo).

Golden files: tests/real_snapshots/<file>.stats.json (`stats --json --top 5`,
source removed) and <file>.at_peak.csv (`query --at-peak --top 5`) are compared
too; `--update` rewrites them (they hold memtk's answers, not the snapshots).

usage: real_snapshots.py MEMTK [SNAPSHOT_DIR] [--update]
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats_json(memtk, path):
    p = subprocess.run([memtk, "stats", "--json", path], capture_output=True, text=True)
    if p.returncode != 0:
        return None, "stats %s exited %d: %s" % (path, p.returncode, p.stderr.strip())
    d = json.loads(p.stdout)
    d.pop("source")
    d.pop("format")
    # A database's counters include convert's allocation matcher as well.
    d.pop("data_problems")
    return d, None


def check_stats_and_query(memtk, src, db):
    problems = []
    c = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check_peak.py"), memtk, src],
                       capture_output=True, text=True)
    if c.returncode != 0:
        problems.append("peak differs from Python's replay:\n" + c.stdout + c.stderr)
    a, err_a = stats_json(memtk, src)
    b, err_b = stats_json(memtk, db)
    problems += [e for e in (err_a, err_b) if e]
    if a is not None and b is not None and a != b:
        problems.append("stats of the database differ from stats of the snapshot")
    con = sqlite3.connect(db)
    for device, peak, n in con.execute("SELECT device, peak_bytes, live_at_peak FROM peaks"):
        got_n, got_sum = con.execute("SELECT count(*), coalesce(sum(size), 0) FROM peak_allocations "
                                     "WHERE device = ?", (device,)).fetchone()
        if (got_n, got_sum) != (n, peak):
            problems.append("device %d: peak_allocations %s, peaks says %s" % (device, (got_n, got_sum), (n, peak)))
    con.close()
    q = subprocess.run([memtk, "query", "--at-peak", "--top", "3", "--format", "csv", db],
                       capture_output=True, text=True)
    if q.returncode != 0:
        problems.append("query --at-peak exited %d: %s" % (q.returncode, q.stderr.strip()))
    return problems


GOLDEN = os.path.join(ROOT, "tests", "real_snapshots")


def check_golden(memtk, name, src, db, update):
    """memtk's answers for this snapshot against the committed ones."""
    problems = []
    stats = subprocess.run([memtk, "stats", "--json", "--top", "5", src], capture_output=True, text=True)
    d = json.loads(stats.stdout) if stats.returncode == 0 else {}
    d.pop("source", None)
    got = {"stats.json": json.dumps(d, indent=1, sort_keys=True) + "\n"}
    q = subprocess.run([memtk, "query", "--at-peak", "--top", "5", "--format", "csv", db],
                       capture_output=True, text=True)
    got["at_peak.csv"] = q.stdout
    for suffix, text in got.items():
        path = os.path.join(GOLDEN, "%s.%s" % (name, suffix))
        if update:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            continue
        try:
            with open(path) as f:
                want = f.read()
        except FileNotFoundError:
            problems.append("no golden %s (run with --update)" % os.path.relpath(path, ROOT))
            continue
        if want != text:
            with open(path + ".actual", "w") as f:
                f.write(text)
            problems.append("differs from %s (actual written beside it)" % os.path.relpath(path, ROOT))
    return problems


def main():
    update = "--update" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    memtk = os.path.abspath(args[0])
    snap_dir = args[1] if len(args) > 1 else os.path.join(ROOT, "..", "shared", "data", "snapshots")
    if not os.path.isdir(snap_dir):
        print("SKIP: %s does not exist; no real snapshots to test" % snap_dir)
        return 0
    files = sorted(f for f in os.listdir(snap_dir) if not f.endswith(".md"))
    failed = 0
    with tempfile.TemporaryDirectory() as out:
        for f in files:
            src = os.path.join(snap_dir, f)
            db = os.path.join(out, f + ".db")
            p = subprocess.run([memtk, "convert", "-q", src, "-o", db], capture_output=True, text=True)
            if p.returncode != 0:
                print("FAIL %s: convert exited %d: %s" % (f, p.returncode, p.stderr.strip()))
                failed += 1
                continue
            c = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check_db.py"), src, db],
                               capture_output=True, text=True)
            print(c.stdout.strip().replace(snap_dir + "/", ""))
            problems = [] if c.returncode == 0 else ["database differs from pickle"]
            problems += check_stats_and_query(memtk, src, db)
            problems += check_golden(memtk, f, src, db, update)
            for p in problems:
                print("FAIL %s: %s" % (f, p))
            if problems:
                failed += 1
    print("%d passed, %d failed" % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
