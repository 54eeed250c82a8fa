#!/usr/bin/env python3
"""Issue #16: every hostile input ends in bounded time and memory, cleanly.

Generates the family with scripts/gen_hostile.py, then runs `memtk stats`
and `memtk convert --to db|json|chrome-trace|snapviewer` on each file and
checks, per run:
  - the exit status the table below expects: 1 for inputs memtk refuses
    (with exactly one stderr line naming the file and a byte offset or
    line:col), 0 for inputs whose oversized values are skipped;
  - under 20 s wall time and 300 MB peak RSS (os.wait4 of that child);
  - no leftover files: a refused convert leaves its output directory and
    TMPDIR empty; a successful one leaves only its output.

usage: hostile_inputs.py MEMTK [--small] [--report] [--dir DIR] [--runs stats,db,...]
  --small   256 MiB gzip bombs instead of 1 GiB (ctest: the machine is shared)
  --dir     use the inputs already generated there
  --runs    only these of stats, db, json, chrome, snapviewer
  --report  print time and RSS per run, check nothing (for docs/BENCHMARKS.md;
            runs under a 4 GiB address-space limit and a 60 s timeout so
            an old build cannot take the machine down)
"""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MAX_SECONDS = 20
MAX_RSS_MB = 300

# file -> (exit status, pattern the one stderr line must match, or None)
LOC = r"(byte \d+|\d+:\d+)"
EXPECT = {
    "memo_bomb.pickle": (1, r"memo_bomb\.pickle: .*block list.* at byte \d+"),
    "history_bomb.pickle": (1, r"history_bomb\.pickle: .*history.* at byte \d+"),
    "extras_bomb.pickle": (1, r"extras_bomb\.pickle: .* at byte \d+"),
    "reduce_bomb.pickle": (1, r"reduce_bomb\.pickle: .* at byte \d+"),
    "string_bomb.pickle.gz": (0, None),
    "string_bomb.json.gz": (0, None),
    "escapes_bomb.json.gz": (0, None),
    "number_bomb.json.gz": (1, r"number_bomb\.json\.gz:1:\d+: no JSON value ends within"),
    "big_long4.pickle": (1, r"big_long4\.pickle: integer of 1048576 bytes .* at byte \d+"),
    "big_long1.pickle": (0, None),
    "deep.json": (0, None),
    "too_deep.json": (1, r"too_deep\.json:1:\d+: JSON nested deeper than 10000 levels"),
    "trailer_cut.pickle.gz": (1, r"trailer_cut\.pickle\.gz: truncated gzip stream at compressed byte \d+$"),
    "bad_crc.pickle.gz": (1, r"bad_crc\.pickle\.gz: corrupt gzip data at compressed byte \d+: incorrect data check"),
}

RUNS = [
    ("stats", lambda f, out: ["stats", f]),
    ("db", lambda f, out: ["convert", f, "-o", os.path.join(out, "out.db")]),
    ("json", lambda f, out: ["convert", f, "--to", "json", "-o", os.path.join(out, "out.json")]),
    ("chrome", lambda f, out: ["convert", f, "--to", "chrome-trace", "-o", os.path.join(out, "out.trace.json")]),
    ("snapviewer", lambda f, out: ["convert", f, "--to", "snapviewer", "-o", os.path.join(out, "out.zip")]),
]


def run(cmd, env, report):
    """Runs cmd; returns (exit status, stderr text, seconds, peak RSS in MB)."""
    def limits():
        # A 512 KiB stack: deep input must not depend on recursion (issue #16).
        resource.setrlimit(resource.RLIMIT_STACK, (512 << 10, 512 << 10))
        if report:
            resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, preexec_fn=limits)
    deadline = t0 + 60
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.kill(p.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.02)
    secs = time.monotonic() - t0
    rc = os.waitstatus_to_exitcode(status)
    err.seek(0)
    return rc, err.read().decode("utf-8", "replace"), secs, usage.ru_maxrss / 1024


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    small, report = "--small" in sys.argv, "--report" in sys.argv
    memtk = os.path.abspath(args[0])
    work = tempfile.mkdtemp(prefix="memtk-hostile-")
    try:
        inputs = os.path.join(work, "in")
        if "--dir" in sys.argv:
            inputs = sys.argv[sys.argv.index("--dir") + 1]
        else:
            subprocess.check_call([sys.executable, os.path.join(ROOT, "scripts", "gen_hostile.py"), "-o", inputs]
                                  + (["--small"] if small else []))
        failures = []
        runs = RUNS
        if "--runs" in sys.argv:
            wanted = sys.argv[sys.argv.index("--runs") + 1].split(",")
            runs = [r for r in RUNS if r[0] in wanted]
        for name, (want_rc, pattern) in sorted(EXPECT.items()):
            path = os.path.join(inputs, name)
            for label, argv in runs:
                out = os.path.join(work, "out")
                tmp = os.path.join(work, "tmp")
                for d in (out, tmp):
                    shutil.rmtree(d, ignore_errors=True)
                    os.makedirs(d)
                env = dict(os.environ, TMPDIR=tmp, LC_ALL="C")
                rc, err, secs, rss = run([memtk] + argv(path, out), env, report)
                line = f"{name:24} {label:10} exit {rc:3}  {secs:6.2f} s  {rss:7.0f} MB"
                if report:
                    first = err.strip().splitlines()[0][:110] if err.strip() else ""
                    print(f"{line}  {first}", flush=True)
                    continue
                print(line, flush=True)
                problems = []
                if rc != want_rc:
                    problems.append(f"exit {rc}, expected {want_rc}")
                if secs > MAX_SECONDS:
                    problems.append(f"took {secs:.1f} s (limit {MAX_SECONDS})")
                if rss > MAX_RSS_MB:
                    problems.append(f"peak RSS {rss:.0f} MB (limit {MAX_RSS_MB})")
                if want_rc == 1:
                    lines = err.rstrip("\n").split("\n")
                    if len(lines) != 1 or not re.search(pattern, lines[0]) or not re.search(LOC, lines[0]):
                        problems.append(f"stderr is not one clean line matching {pattern!r}: {err!r}")
                    if os.listdir(out):
                        problems.append(f"left files in the output directory: {os.listdir(out)}")
                elif label != "stats" and len(os.listdir(out)) != 1:
                    problems.append(f"output directory holds {os.listdir(out)}")
                if os.listdir(tmp):
                    problems.append(f"left files in TMPDIR: {os.listdir(tmp)}")
                for p in problems:
                    failures.append(f"{name} {label}: {p}")
                    print(f"  FAIL: {p}", flush=True)
        if failures:
            print(f"{len(failures)} failure(s)")
            return 1
        print("all hostile inputs bounded and clean")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
