#!/usr/bin/env python3
"""Check a memtk database against what Python's own pickle module reads.

usage: check_db.py SNAPSHOT DB

Compares, exactly: event counts per (device, action); per event its action,
addr, size, time_us and number of frames (in order); segment and block counts
and size sums per device; frames of every block; annotation count. Exits 1
with a description of the first differences.
"""
import collections
import gzip
import json
import pickle
import sqlite3
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:1] == b"\x80":
        return pickle.loads(data)
    return json.loads(data)


def main():
    snap_path, db_path = sys.argv[1], sys.argv[2]
    snap = load(snap_path)
    db = sqlite3.connect(db_path)
    errors = []

    def check(what, want, got):
        if want != got:
            errors.append("%s: python %r, memtk %r" % (what, want, got))

    if isinstance(snap, list):
        snap = {"segments": snap}
    traces = snap.get("device_traces", [])
    want_events = []
    for dev, trace in enumerate(traces):
        for e in trace:
            want_events.append((dev, e["action"], e.get("addr"), e.get("size"), e.get("time_us"),
                                len(e.get("frames", []))))
    got_events = db.execute(
        "SELECT e.device, e.action, e.addr, e.size, e.time_us, coalesce(s.depth, 0) "
        "FROM events e LEFT JOIN stacks s ON s.id = e.stack_id WHERE e.host = 0 ORDER BY e.id").fetchall()
    check("event count", len(want_events), len(got_events))
    check("events per (device, action)", sorted(collections.Counter((e[0], e[1]) for e in want_events).items()),
          sorted(collections.Counter((e[0], e[1]) for e in got_events).items()))
    mism = [(i, w, tuple(g)) for i, (w, g) in enumerate(zip(want_events, got_events)) if w != tuple(g)]
    if mism:
        errors.append("%d events differ, first: #%d python %r memtk %r" % (len(mism), *mism[0]))

    segs = snap.get("segments", [])
    check("segment count", len(segs), db.execute("SELECT count(*) FROM segments WHERE host = 0").fetchone()[0])
    want = collections.Counter()
    for s in segs:
        want[s.get("device", 0)] += s["total_size"]
    got = dict(db.execute("SELECT device, sum(total_size) FROM segments WHERE host = 0 GROUP BY device").fetchall())
    check("segment total_size per device", dict(want), got)
    blocks = [(s.get("device", 0), b) for s in segs for b in s.get("blocks", [])]
    check("block count", len(blocks), db.execute("SELECT count(*) FROM blocks").fetchone()[0])
    check("block size sum", sum(b["size"] for _, b in blocks),
          db.execute("SELECT coalesce(sum(size), 0) FROM blocks").fetchone()[0])
    want_bf = [len(b["frames"]) if "frames" in b else (len(b["history"][-1]["frames"]) if b.get("history") else 0)
               for _, b in blocks]
    got_bf = [r[0] for r in db.execute(
        "SELECT coalesce(s.depth, 0) FROM blocks b LEFT JOIN stacks s ON s.id = b.stack_id ORDER BY b.id")]
    check("frames per block", want_bf, got_bf)
    check("annotation count", len(snap.get("external_annotations", [])),
          db.execute("SELECT count(*) FROM annotations").fetchone()[0])
    # Every frame of every alloc event, by content.
    frames_db = {r[0]: (r[1], r[2], r[3]) for r in db.execute("SELECT id, filename, line, name FROM frames")}
    stack_db = collections.defaultdict(list)
    for sid, pos, fid in db.execute("SELECT stack_id, position, frame_id FROM stack_frames ORDER BY stack_id, position"):
        stack_db[sid].append(frames_db[fid])
    ev_stacks = [r[0] for r in db.execute("SELECT stack_id FROM events WHERE host = 0 ORDER BY id")]
    bad = 0
    i = 0
    for trace in traces:
        for e in trace:
            want_f = [(f["filename"], f["line"], f["name"]) for f in e.get("frames", [])]
            got_f = stack_db.get(ev_stacks[i], []) if i < len(ev_stacks) else None
            if want_f != got_f:
                bad += 1
            i += 1
    if bad:
        errors.append("%d events have different frames" % bad)
    if errors:
        print("%s: MISMATCH\n  " % snap_path + "\n  ".join(errors))
        sys.exit(1)
    print("%s: ok (%d events, %d segments, %d blocks)" % (snap_path, len(want_events), len(segs), len(blocks)))


if __name__ == "__main__":
    main()
