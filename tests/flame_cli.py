#!/usr/bin/env python3
"""Flame graphs end to end (issue #18): `render-png --view flame` and
`--view flame-segments`, `query --format folded`, `convert --to pprof`.

- pictures: the root bar spans the plot, the title total is the peak (or the
  reserved bytes), same bytes on every run; pixel hashes (of decoded pixels)
  match tests/flame_hashes.txt (`--update` rewrites it);
- pprof decodes with `protoc --decode` against lib/src/export/profile.proto
  (skipped when protoc is absent) and tests/flame/small.pprof.txt holds the
  decoded text of data/small.pickle's profile;
- folded stacks of a database equal those of its snapshot;
- every real snapshot in ../shared/data/snapshots/ draws a flame whose total
  is `memtk stats`' peak (skipped when the folder is absent).

usage: flame_cli.py MEMTK [--update]
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import real_inputs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render_png import decode_png  # noqa: E402  (the independent PNG decoder)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
HASHES = os.path.join(ROOT, "tests", "flame_hashes.txt")
PPROF_TEXT = os.path.join(ROOT, "tests", "flame", "small.pprof.txt")
PROTO_DIR = os.path.join(ROOT, "lib", "src", "export")
ROOT_BAR = (196, 196, 196)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def render(memtk, args, out):
    return subprocess.run([memtk, "render-png"] + args + ["-o", out], capture_output=True, text=True)


def stats(memtk, path):
    p = subprocess.run([memtk, "stats", "--json", path], capture_output=True, text=True)
    return {d["device"]: d for d in json.loads(p.stdout)["devices"]} if p.returncode == 0 else {}


def test_pictures(memtk, tmp, update):
    sample = os.path.join(DATA, "sample.pickle")
    want = stats(memtk, sample)
    cases = {
        "sample.flame.peak": ["--view", "flame", "--title", "sample", sample],
        "sample.flame.event": ["--view", "flame", "--at", "event:700", "--device", "1", "--width", "900",
                               "--height", "500", sample],
        "sample.flame_segments": ["--view", "flame-segments", "--title", "sample", sample],
        "newest.flame.end": ["--view", "flame", "--at", "end", "--width", "640", "--height", "360",
                             os.path.join(DATA, "newest.pickle")],
    }
    got = {}
    for name, args in cases.items():
        out = os.path.join(tmp, name + ".png")
        p = render(memtk, args, out)
        check(p.returncode == 0, name + ": " + p.stderr)
        if p.returncode != 0:
            continue
        data = open(out, "rb").read()
        w, h, rows = decode_png(data)
        got[name] = "%dx%d %s" % (w, h, hashlib.sha256(b"".join(rows)).hexdigest())
        # The root bar: the whole plot width, one row below the title.
        bar = rows[58 + 8]
        xs = [x for x in range(w) if tuple(bar[3 * x:3 * x + 3]) == ROOT_BAR]
        check(xs and xs[0] == 10 and xs[-1] >= w - 12, "%s: root bar spans the plot (%s..%s)" %
              (name, xs[:1], xs[-1:]))
        again = os.path.join(tmp, name + ".again.png")
        render(memtk, args, again)
        check(open(again, "rb").read() == data, name + ": same bytes on every run")
    p = render(memtk, ["--view", "flame", sample], os.path.join(tmp, "d.png"))
    check("(%d bytes)" % want[0]["peak"]["bytes"] in p.stderr, "flame total is stats' peak: " + p.stderr)
    p = render(memtk, ["--view", "flame-segments", "--device", "1", sample], os.path.join(tmp, "s.png"))
    check("(%d bytes)" % want[1]["segments"]["reserved"] in p.stderr,
          "flame-segments total is the reserved bytes: " + p.stderr)
    # Bad input: one line, exit 1 (2 for usage, then the --help hint), no file.
    for args, code in ((["--view", "flame", "--at", "event:1500", "--device", "0", sample], 1),
                       (["--view", "flame", "--device", "9", sample], 1),
                       (["--view", "flame", "--at", "later", sample], 2),
                       (["--view", "flame", "--x", "time", sample], 2)):
        out = os.path.join(tmp, "e.png")
        p = render(memtk, args, out)
        hint = ["Run 'memtk render-png --help' for usage."] if code == 2 else []
        lines = p.stderr.strip().splitlines()
        check(p.returncode == code and len(lines) == 1 + len(hint) and lines[1:] == hint and not os.path.exists(out),
              "%s: exit %d, one line, no file: %r" % (args, p.returncode, p.stderr))
    text = "".join("%s %s\n" % kv for kv in sorted(got.items()))
    if update:
        open(HASHES, "w").write(text)
        print("updated", HASHES)
    else:
        old = open(HASHES).read() if os.path.exists(HASHES) else ""
        check(text == old, "pixel hashes differ from tests/flame_hashes.txt (--update if intended):\n" + text)


def decode_pprof(path):
    raw = gzip.open(path).read()
    p = subprocess.run(["protoc", "--decode", "perftools.profiles.Profile", "-I", PROTO_DIR,
                        os.path.join(PROTO_DIR, "profile.proto")], input=raw, capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_pprof(memtk, tmp, update):
    if not shutil.which("protoc"):
        print("skip: protoc not installed; pprof not decoded")
        return
    out = os.path.join(tmp, "small.pb.gz")
    p = subprocess.run([memtk, "convert", "-q", os.path.join(DATA, "small.pickle"), "--to", "pprof", "-o", out],
                       capture_output=True, text=True)
    check(p.returncode == 0, "convert --to pprof: " + p.stderr)
    rc, text, err = decode_pprof(out)
    check(rc == 0, "protoc --decode: " + err)
    if update:
        os.makedirs(os.path.dirname(PPROF_TEXT), exist_ok=True)
        open(PPROF_TEXT, "w").write(text)
    else:
        check(text == open(PPROF_TEXT).read(), "decoded pprof differs from tests/flame/small.pprof.txt")


def test_folded_db(memtk, tmp):
    """Folded stacks of a database equal those of its snapshot (ReadInput
    replays the database into the same sink)."""
    src = os.path.join(DATA, "sample.pickle")
    db = os.path.join(tmp, "s.db")
    subprocess.run([memtk, "convert", "-q", src, "-o", db], check=True)
    for q in (["--at-peak"], [], ["--live-at-event", "d1:700"], ["--live-at-event", "2200"],
              ["--live-at-us", "1700000000151224"]):
        a, b = (subprocess.run([memtk, "query", x, "--format", "folded"] + q, capture_output=True, text=True)
                for x in (src, db))
        check(a.returncode == 0 and a.stdout and a.stdout == b.stdout, "folded %s: database and pickle agree" % q)


def test_real(memtk, tmp):
    snapshots = real_inputs.real_snapshots()
    if snapshots is None:
        return
    n = 0
    for name, path in snapshots:
        devices = stats(memtk, path)
        for view in ("flame", "flame-segments"):
            out = os.path.join(tmp, "real.png")
            p = render(memtk, ["--view", view, "--width", "800", "--height", "450", path], out)
            check(p.returncode == 0, "%s --view %s: %s" % (name, view, p.stderr.strip()))
            m = re.search(r"of device (\d+) .*\((\d+) bytes\)", p.stderr)
            if p.returncode != 0 or not m:
                continue
            check(decode_png(open(out, "rb").read())[:2] == (800, 450), name + ": size")
            dev, total = int(m.group(1)), int(m.group(2))
            want = devices[dev]["peak"]["bytes"] if view == "flame" else devices[dev]["segments"]["reserved"]
            check(total == want, "%s --view %s: total %d, stats says %d" % (name, view, total, want))
        n += 1
    print("real snapshots drawn as flames: %d" % n)


def main():
    memtk = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        test_pictures(memtk, tmp, update)
        test_pprof(memtk, tmp, update)
        test_folded_db(memtk, tmp)
        test_real(memtk, tmp)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
