#!/usr/bin/env python3
"""Tests of `memtk convert --to snapviewer|json|chrome-trace`.

SnapViewer bundle: allocations.json must equal, byte for byte, what
SnapViewer's convert_snap.py writes with orjson. The reference here is a
literal model of its process_alloc_data (lists, linear search, nothing
clever), written from the description of the algorithm; elements.db rows
must match the entries (size, first/last timestep) and carry the entry's own
call stack. A tiny hand-checked trace pins exact timesteps/offsets. The zip
holds the same bytes as the directory.

JSON: the output read by Python's json equals the snapshot read by Python's
pickle (tuples as lists), and converting it back gives the same database.

Chrome trace: valid JSON; per device the counters step at exactly the
alloc/free/segment events, never go negative, and end at the segments'
allocated/reserved totals; oom/snapshot instants and annotation slices are
all there.

Runs over the project's fixtures and every real snapshot in
../shared/data/snapshots/ (skipped with a message when absent).

usage: exports.py MEMTK
"""
import collections
import gzip
import io
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

import real_inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from check_db import load  # noqa: E402  (pickle / JSON, gzip'd or not)
FIXTURES = ["sample.pickle", "small.pickle", "small.json", "small.pickle.gz", "legacy.pickle", "newest.pickle",
            "no_time.pickle", "protocol5.pickle", "bigint.pickle", "bare_list.pickle", "pickle_named.json"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(memtk, *args):
    return subprocess.run([memtk, *args], capture_output=True, text=True)


def snapviewer_model(trace):
    """convert_snap.py's timeline, the slow and obvious way."""
    elements, initially, actions, by_addr = [], [], [], {}
    for e in trace:
        if e["action"] == "alloc":
            elements.append(e)
            by_addr[e["addr"]] = len(elements) - 1
            actions.append(len(elements) - 1)
        elif e["action"] in ("free", "free_completed"):
            if e["addr"] in by_addr:
                actions.append(by_addr.pop(e["addr"]))
            else:
                elements.append(e)
                initially.append(len(elements) - 1)
                actions.append(len(elements) - 1)
    stack, out, t, total = [], [], 0, 0  # stack: (elem, entry) bottom to top
    for el in reversed(initially):
        entry = {"elem": el, "timesteps": [t], "offsets": [total], "size": elements[el]["size"], "color": el}
        stack.append((el, entry))
        out.append(entry)
        total += elements[el]["size"]
    for el in actions:
        size = elements[el]["size"]
        pos = [i for i, (x, _) in enumerate(stack) if x == el]
        if not pos:
            entry = {"elem": el, "timesteps": [t], "offsets": [total], "size": size, "color": el}
            stack.append((el, entry))
            out.append(entry)
            total += size
            t += 1
            continue
        i = pos[-1]
        _, gone = stack.pop(i)
        gone["timesteps"].append(t)
        gone["offsets"].append(gone["offsets"][-1])
        if i < len(stack):
            for _, entry in stack[i:]:
                entry["timesteps"] += [t, t + 3]
                entry["offsets"] += [entry["offsets"][-1], entry["offsets"][-1] - size]
            t += 3
        total -= size
        t += 1
    for _, entry in stack:
        entry["timesteps"].append(t)
        entry["offsets"].append(entry["offsets"][-1])
    return out, elements


def callstack(frames):
    return "\n".join("(%d) %s:%s:%s" % (i, f["filename"], f["line"], f.get("name", "")) for i, f in enumerate(frames))


def check_bundle_dir(name, d, trace):
    want, elements = snapviewer_model(trace)
    want_bytes = json.dumps(want, separators=(",", ":")).encode()
    got = open(os.path.join(d, "allocations.json"), "rb").read()
    if got != want_bytes:
        i = next((k for k in range(min(len(got), len(want_bytes))) if got[k] != want_bytes[k]), None)
        fail("%s: allocations.json differs from convert_snap.py's (%d vs %d bytes, first at byte %s: %r vs %r)" %
             (name, len(got), len(want_bytes), i, got[max(0, (i or 0) - 40):(i or 0) + 40],
              want_bytes[max(0, (i or 0) - 40):(i or 0) + 40]))
        return None
    con = sqlite3.connect(os.path.join(d, "elements.db"))
    rows = con.execute("SELECT idx, size, start_time, end_time, callstack FROM allocs ORDER BY idx").fetchall()
    schema = con.execute("SELECT sql FROM sqlite_master WHERE name = 'allocs'").fetchone()[0]
    con.close()
    if "idx INTEGER PRIMARY KEY" not in schema or "callstack TEXT" not in schema:
        fail("%s: elements.db schema %r" % (name, schema))
    want_rows = [(i, w["size"], w["timesteps"][0], w["timesteps"][-1], callstack(elements[w["elem"]].get("frames", [])))
                 for i, w in enumerate(want)]
    if rows != want_rows:
        bad = next(i for i, (a, b) in enumerate(zip(rows + [None] * len(want_rows), want_rows)) if a != b)
        fail("%s: elements.db row %d: memtk %r, expected %r" % (name, bad, rows[bad] if bad < len(rows) else None,
                                                                 want_rows[bad]))
    return got


def tiny_hand_checked(memtk, tmp):
    # a(100) b(10) c(1); free a: b and c slide down by 100; free before
    # recording of x(5) puts x at the bottom first.
    frames = [{"filename": "t.py", "line": 1, "name": "f"}]
    trace = [
        {"action": "alloc", "addr": 1, "size": 100, "stream": 0, "frames": frames},
        {"action": "alloc", "addr": 2, "size": 10, "stream": 0, "frames": frames},
        {"action": "alloc", "addr": 3, "size": 1, "stream": 0, "frames": frames},
        {"action": "free_completed", "addr": 1, "size": 100, "stream": 0, "frames": frames},
        {"action": "free_completed", "addr": 9, "size": 5, "stream": 0, "frames": []},
    ]
    path = os.path.join(tmp, "tiny.json")
    with open(path, "w") as f:
        json.dump({"segments": [], "device_traces": [trace]}, f)
    out = os.path.join(tmp, "tiny_bundle")
    p = run(memtk, "convert", "-q", path, "--to", "snapviewer", "-o", out)
    if p.returncode != 0:
        return fail("tiny: exit %d: %s" % (p.returncode, p.stderr))
    got = json.load(open(os.path.join(out, "allocations.json")))
    # x lives from t=0 at offset 0 (5 bytes), so a starts at 5.
    want = [
        {"elem": 3, "timesteps": [0, 7], "offsets": [0, 0], "size": 5, "color": 3},
        {"elem": 0, "timesteps": [0, 3], "offsets": [5, 5], "size": 100, "color": 0},
        {"elem": 1, "timesteps": [1, 3, 6, 7, 10, 11], "offsets": [105, 105, 5, 5, 0, 0], "size": 10, "color": 1},
        {"elem": 2, "timesteps": [2, 3, 6, 7, 10, 11], "offsets": [115, 115, 15, 15, 10, 10], "size": 1, "color": 2},
    ]
    if got != want:
        fail("tiny: allocations.json\n  got  %s\n  want %s" % (got, want))


def check_snapviewer(memtk, name, path, snap, tmp):
    traces = snap.get("device_traces", []) if isinstance(snap, dict) else []
    devices = [i for i, t in enumerate(traces) if t]
    if not devices:
        p = run(memtk, "convert", "-q", path, "--to", "snapviewer", "-o", os.path.join(tmp, "none.zip"))
        if p.returncode != 1 or "has no trace events" not in p.stderr or os.path.exists(os.path.join(tmp, "none.zip")):
            fail("%s: no trace: want exit 1 'has no trace events', got %d %r" % (name, p.returncode, p.stderr))
        return
    for dev in devices[:2]:
        d = os.path.join(tmp, "bundle%d" % dev)
        p = run(memtk, "convert", "-q", path, "--to", "snapviewer", "--device", str(dev), "-o", d)
        if p.returncode != 0:
            fail("%s: --to snapviewer --device %d exited %d: %s" % (name, dev, p.returncode, p.stderr))
            continue
        got = check_bundle_dir("%s device %d" % (name, dev), d, traces[dev])
        z = os.path.join(tmp, "bundle%d.zip" % dev)
        p = run(memtk, "convert", "-q", path, "--to", "snapviewer", "--device", str(dev), "-o", z)
        if p.returncode != 0:
            fail("%s: zip exited %d: %s" % (name, p.returncode, p.stderr))
            continue
        with zipfile.ZipFile(z) as zf:
            names = sorted(zf.namelist())
            if names != ["allocations.json", "elements.db"]:
                fail("%s: zip members %s" % (name, names))
            elif got is not None and zf.read("allocations.json") != got:
                fail("%s: zip's allocations.json differs from the directory's" % name)
            elif zf.read("elements.db") != open(os.path.join(d, "elements.db"), "rb").read():
                # Same rows are what matters; the bytes match too since both come from one writer.
                fail("%s: zip's elements.db differs from the directory's" % name)
            if any(i.compress_type != zipfile.ZIP_DEFLATED for i in zf.infolist()):
                fail("%s: zip members not deflated" % name)


def normalize(x):
    if isinstance(x, (list, tuple)):
        return [normalize(v) for v in x]
    if isinstance(x, dict):
        return {k: normalize(v) for k, v in x.items()}
    return x


TABLES_SKIPPED_META = {"source", "format", "bytes_decoded", "bare_segment_list", "keys_seen"}


def db_rows(db):
    con = sqlite3.connect(db)
    out = {}
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if t == "meta":
            rows = con.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
            out[t] = [r for r in rows if r[0] not in TABLES_SKIPPED_META]
            keys = dict(rows).get("keys_seen")
            out["keys_seen"] = {k: sorted(v) for k, v in json.loads(keys).items()} if keys else None
        else:
            out[t] = sorted(con.execute("SELECT * FROM %s" % t).fetchall(), key=repr)
    con.close()
    return out


def check_json(memtk, name, path, snap, tmp):
    out = os.path.join(tmp, "snap.json.gz")
    p = run(memtk, "convert", "-q", path, "--to", "json", "-o", out)
    if p.returncode != 0:
        return fail("%s: --to json exited %d: %s" % (name, p.returncode, p.stderr))
    with gzip.open(out, "rb") as f:
        got = json.load(f)
    if snap is not None:
        want = normalize({"segments": snap} if isinstance(snap, list) else snap)
        if got != want:
            diff = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
            fail("%s: JSON differs from what pickle reads, in keys %s" % (name, sorted(diff)))
    a, b = os.path.join(tmp, "a.db"), os.path.join(tmp, "b.db")
    for src, db in ((path, a), (out, b)):
        p = run(memtk, "convert", "-q", src, "-o", db)
        if p.returncode != 0:
            return fail("%s: convert %s exited %d: %s" % (name, src, p.returncode, p.stderr))
    ra, rb = db_rows(a), db_rows(b)
    if isinstance(snap, list):
        ra.pop("keys_seen"), rb.pop("keys_seen")
    for t in ra:
        if ra[t] != rb.get(t):
            fail("%s: round trip through JSON changes table %s" % (name, t))
    plain = run(memtk, "convert", "-q", path, "--to", "json", "-o", "-")
    if plain.returncode != 0 or json.loads(plain.stdout) != got:
        fail("%s: --to json -o - differs from the .gz output" % name)


def check_chrome(memtk, name, path, snap, tmp):
    out = os.path.join(tmp, "trace.json")
    p = run(memtk, "convert", "-q", path, "--to", "chrome-trace", "--with-stacks", "-o", out)
    if p.returncode != 0:
        return fail("%s: --to chrome-trace exited %d: %s" % (name, p.returncode, p.stderr))
    doc = json.load(open(out))
    events = doc["traceEvents"]
    if not isinstance(snap, dict):
        return
    traces = snap.get("device_traces", [])
    final = collections.defaultdict(lambda: [0, 0])
    for s in snap.get("segments", []):
        final[s.get("device", 0)][0] += s.get("allocated_size", 0)
        final[s.get("device", 0)][1] += s.get("total_size", 0)
    has_segments = {s.get("device", 0) for s in snap.get("segments", [])}
    for dev, trace in enumerate(traces):
        if not trace:
            continue
        changes = {"alloc": "allocated", "free_completed": "allocated", "free": "allocated",
                   "segment_alloc": "reserved", "segment_free": "reserved", "segment_map": "reserved",
                   "segment_unmap": "reserved"}
        for track in ("allocated", "reserved"):
            want_n = 1 + sum(1 for e in trace if changes.get(e["action"]) == track and e.get("size", 0) != 0)
            vals = [e["args"]["bytes"] for e in events if e.get("ph") == "C" and e["pid"] == dev and e["name"] == track]
            if len(vals) != want_n:
                fail("%s: device %d: %d %s counter events, expected %d" % (name, dev, len(vals), track, want_n))
                continue
            if min(vals) < 0:
                fail("%s: device %d: %s goes negative" % (name, dev, track))
            want_end = final[dev][0 if track == "allocated" else 1]
            if dev in has_segments and vals[-1] != want_end and vals[-1] - vals[0] >= -vals[0]:
                # The end is the segments' total unless the baseline had to be raised to stay >= 0.
                base_ok = vals[-1] > want_end
                if not base_ok:
                    fail("%s: device %d: %s ends at %d, segments say %d" % (name, dev, track, vals[-1], want_end))
        for action in ("oom", "snapshot"):
            want_n = sum(1 for e in trace if e["action"] == action)
            got_n = sum(1 for e in events if e.get("ph") == "i" and e["pid"] == dev and e["name"] == action)
            if got_n != want_n:
                fail("%s: device %d: %d %s instants, expected %d" % (name, dev, got_n, action, want_n))
    ann = [a for a in snap.get("external_annotations", []) if a.get("stage") in ("START", "END") and "time_us" in a]
    got_be = sum(1 for e in events if e.get("ph") in ("B", "E"))
    if got_be != len(ann):
        fail("%s: %d begin/end events, expected %d" % (name, got_be, len(ann)))


def main():
    memtk = os.path.abspath(sys.argv[1])
    inputs = [(f, os.path.join(ROOT, "data", f)) for f in FIXTURES]
    inputs += real_inputs.real_snapshots() or []
    with tempfile.TemporaryDirectory() as tmp:
        tiny_hand_checked(memtk, tmp)
        for name, path in inputs:
            try:
                snap = load(path)
            except Exception as e:  # e.g. TorchScript globals Python cannot resolve
                print("%s: Python cannot load it (%s): model checks skipped" % (name, e))
                snap = None
            sub = os.path.join(tmp, name)
            os.mkdir(sub)
            if snap is not None:
                check_snapviewer(memtk, name, path, snap, sub)
            check_json(memtk, name, path, snap, sub)
            check_chrome(memtk, name, path, snap, sub)
            print("ok" if not failures else "..", name)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("exports: all %d inputs ok" % len(inputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
