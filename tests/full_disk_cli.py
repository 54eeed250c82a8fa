#!/usr/bin/env python3
"""A full disk (issue #16): every output says which file it could not write,
exits 1 and leaves nothing behind (no temp file, no empty bundle directory).

Needs a small filesystem: a 256 KiB tmpfs, which root can mount. Elsewhere
the test is skipped (exit 77).

usage: full_disk_cli.py MEMTK
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
GEN = os.path.join(ROOT, "scripts", "gen_snapshot.py")


def main():
    memtk = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        mnt = os.path.join(tmp, "full")
        os.mkdir(mnt)
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                                               capture_output=True).returncode != 0:
            print("skipped: cannot mount a small tmpfs (needs root)")
            return 77
        try:
            big = os.path.join(tmp, "big.pickle")
            subprocess.check_call([sys.executable, GEN, "-n", "20000", "--seed", "4", "-o", big])
            sample = os.path.join(DATA, "sample.pickle")
            cases = [
                ("convert --to db", ["convert", sample, "-o", mnt + "/s.db"], mnt + "/s.db: "),
                ("convert json input --to db", ["convert", os.path.join(DATA, "small.json"), "-o", mnt + "/j.db"],
                 mnt + "/j.db: "),
                ("convert --to snapviewer dir", ["convert", big, "--to", "snapviewer", "-o", mnt + "/bundle"],
                 mnt + "/bundle/"),
                ("convert --to snapviewer zip", ["convert", big, "--to", "snapviewer", "-o", mnt + "/b.zip"],
                 mnt + "/b.zip: "),
                ("convert --to json", ["convert", big, "--to", "json", "-o", mnt + "/s.json"], mnt + "/s.json: "),
                ("convert --to chrome-trace", ["convert", big, "--to", "chrome-trace", "-o", mnt + "/t.json"],
                 mnt + "/t.json: "),
                ("query cache", ["query", "--cache-dir", mnt + "/cache", "--at-peak", sample], mnt + "/cache/sample-"),
            ]
            for name, args, names in cases:
                p = subprocess.run([memtk] + args, capture_output=True, text=True, timeout=120)
                left = [x for x in os.listdir(mnt) if x != "cache"]
                if os.path.isdir(mnt + "/cache"):
                    left += ["cache/" + x for x in os.listdir(mnt + "/cache")]
                ok = p.returncode == 1 and p.stderr.count("\n") == 1 and names in p.stderr and not left
                print("%-30s exit %d, %r, left %s -> %s" % (name, p.returncode, p.stderr.strip(), left or "nothing",
                                                           "ok" if ok else "FAIL"))
                failures += not ok
        finally:
            subprocess.run(["umount", mnt])
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
