#!/usr/bin/env python3
"""Convert every real snapshot in ../shared/data/snapshots/ and check each
database against Python's pickle (scripts/check_db.py). Skips, with a
message, when the folder does not exist (it is never copied into the repo).

usage: real_snapshots.py MEMTK [SNAPSHOT_DIR]
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    memtk = os.path.abspath(sys.argv[1])
    snap_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data", "snapshots")
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
            if c.returncode != 0:
                failed += 1
    print("%d passed, %d failed" % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
