#!/usr/bin/env python3
"""Golden tests: input -> memtk command -> expected output.

Each case is a folder tests/golden/<subcommand>/<case>/ with
  cmd              memtk arguments, one line, shell-quoted; {data} is the data/
                   folder, {out} a fresh temporary folder
  query            optional SQL run on {out}/out.db (or on the database the
                   optional file `db` names, relative to {out}) after the
                   command; its rows are appended to stdout as CSV (the
                   perfetto input -> query -> CSV pattern, instead of
                   comparing binary databases)
  copy             optional lines "SRC DST": copies data/SRC to {out}/DST before
                   the command (for commands that write into their input)
  show             optional list of text files (relative to {out}) whose
                   contents are appended to stdout, for outputs that are files
  env              optional lines "NAME=VALUE" set in the command's environment
                   (MEMTK_USER_CODE and MEMTK_LIBRARY are otherwise unset)
  expected.stdout  expected.stderr  expected.exit
Volatile text (timings, temp paths, the version) is normalised. On mismatch
the actual output is written beside the expected as *.actual.

usage: run_golden.py MEMTK [--update] [CASE_FILTER]
"""
import csv
import io
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
GOLDEN = os.path.join(ROOT, "tests", "golden")


def normalise(text, out):
    text = text.replace(out, "{out}").replace(DATA, "{data}")
    text = re.sub(r"in \d+\.\d+ s", "in <T> s", text)
    # memtk --version: the build type and library versions depend on the build.
    text = re.sub(r"^memtk [0-9][^ ]* \(\w+ build\)$", "memtk <V> (<BUILD> build)", text, flags=re.M)
    text = re.sub(r"^SQLite [0-9.]+, zlib [0-9.]+[^,]*, libzip [0-9.]+$", "SQLite <V>, zlib <V>, libzip <V>", text,
                  flags=re.M)
    # Cached databases are named <stem>-<content hash>-memtk<version>.db.
    text = re.sub(r"-[0-9a-f]{16}-memtk[^/\s]+\.db", "-<hash>-memtk<V>.db", text)
    return text


def run_case(memtk, case_dir):
    with open(os.path.join(case_dir, "cmd")) as f:
        cmd = f.read().strip()
    with tempfile.TemporaryDirectory() as out:
        args = [a.replace("{data}", DATA).replace("{out}", out) for a in shlex.split(cmd)]
        cpath = os.path.join(case_dir, "copy")
        if os.path.exists(cpath):
            for line in open(cpath).read().splitlines():
                if line.strip():
                    src, dst = line.split()
                    shutil.copyfile(os.path.join(DATA, src), os.path.join(out, dst))
        env = dict(os.environ, LC_ALL="C", COLUMNS="100")
        # Attribution settings of whoever runs the tests must not leak in.
        for k in ("MEMTK_USER_CODE", "MEMTK_LIBRARY"):
            env.pop(k, None)
        epath = os.path.join(case_dir, "env")
        if os.path.exists(epath):
            for line in open(epath).read().splitlines():
                if line.strip():
                    k, v = line.split("=", 1)
                    env[k] = v
        p = subprocess.run([memtk] + args, capture_output=True, text=True, env=env, timeout=120)
        stdout = p.stdout
        spath = os.path.join(case_dir, "show")
        if os.path.exists(spath) and p.returncode == 0:
            for name in open(spath).read().split():
                with open(os.path.join(out, name)) as f:
                    stdout += "== %s\n%s\n" % (name, f.read())
        qpath = os.path.join(case_dir, "query")
        if os.path.exists(qpath) and p.returncode == 0:
            with open(qpath) as f:
                sql = f.read()
            dbpath = os.path.join(case_dir, "db")
            dbname = open(dbpath).read().strip() if os.path.exists(dbpath) else "out.db"
            db = sqlite3.connect(os.path.join(out, dbname))
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            for stmt in [s.strip() for s in sql.split(";") if s.strip()]:
                cur = db.execute(stmt)
                w.writerow([d[0] for d in cur.description])
                for row in cur:
                    w.writerow(row)
            db.close()
            stdout += buf.getvalue()
        return normalise(stdout, out), normalise(p.stderr, out), "%d\n" % p.returncode


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    update = "--update" in sys.argv
    memtk = os.path.abspath(args[0])
    flt = args[1] if len(args) > 1 else ""
    cases = sorted(os.path.join(dp) for dp, dn, fn in os.walk(GOLDEN) if "cmd" in fn)
    failed = 0
    ran = 0
    for case in cases:
        name = os.path.relpath(case, GOLDEN)
        if flt not in name:
            continue
        ran += 1
        got = run_case(memtk, case)
        ok = True
        for suffix, text in zip(("stdout", "stderr", "exit"), got):
            exp_path = os.path.join(case, "expected." + suffix)
            if update:
                with open(exp_path, "w") as f:
                    f.write(text)
                continue
            want = open(exp_path).read() if os.path.exists(exp_path) else ""
            act_path = exp_path.replace("expected.", "actual.")
            if want != text:
                ok = False
                with open(act_path, "w") as f:
                    f.write(text)
                print("FAIL %s: %s differs (see %s)" % (name, suffix, os.path.relpath(act_path, ROOT)))
            elif os.path.exists(act_path):
                os.remove(act_path)
        if not ok:
            failed += 1
    print("%d passed, %d failed" % (ran - failed, failed))
    sys.exit(1 if failed or ran == 0 else 0)


if __name__ == "__main__":
    main()
