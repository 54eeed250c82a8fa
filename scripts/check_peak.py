#!/usr/bin/env python3
"""Cross-check `memtk stats --json` peaks against an independent reading.

Loads each snapshot with Python's own pickle module (JSON too) and replays,
per device, the Active Memory Timeline the way PyTorch's viewer lays it out
(process_alloc_data in torch/utils/viz/MemoryViz.js, after annotate_snapshot
folds free_requested+free_completed). The peak is the largest total at any
instant, the state before the first action included (the viewer's max_size
looks only after actions and so misses memory held at the start; issue #16);
the earliest of equal maxima wins. Compared with memtk's figures: peak bytes,
the trace index of the event after which it holds (None: the start), the
number of allocations live at it, bytes live at the end, alloc and free
events; and for every OOM `stats` lists (issue #17) the bytes and
allocations live at that instant (the state after the actions before it).

usage: check_peak.py MEMTK SNAPSHOT...    (exit 1 on any mismatch)
"""
import gzip
import json
import pickle
import subprocess
import sys


def load(path):
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:1] == b"\x80":
        return pickle.loads(data)
    return json.loads(data)


def viewer_peak(snap, device):
    """process_alloc_data(snapshot, device, plot_segments=false), values only."""
    trace = snap["device_traces"][device] if device < len(snap["device_traces"]) else []
    elements = []  # sizes
    initially = []
    actions = []  # (element, trace index)
    addr_to_alloc = {}
    for i, e in enumerate(trace):
        a = e.get("action")
        if a == "alloc":
            elements.append(e["size"])
            addr_to_alloc[e["addr"]] = len(elements) - 1
            actions.append((len(elements) - 1, i))
        elif a in ("free", "free_completed"):
            if e["addr"] in addr_to_alloc:
                actions.append((addr_to_alloc.pop(e["addr"]), i))
            else:
                elements.append(e["size"])
                initially.append(len(elements) - 1)
                actions.append((len(elements) - 1, i))
    for seg in snap["segments"]:
        if seg.get("device") != device:
            continue
        addr = seg["address"]
        for b in seg.get("blocks", []):
            baddr = b.get("address", addr)
            addr += b["size"]
            if b.get("state") == "active_allocated" and baddr not in addr_to_alloc:
                req = b.get("requested_size") or b["size"]
                elements.append(req)
                initially.append(len(elements) - 1)
    # (The viewer moves one initial element into `actions` when there are
    # none, so that its graph is not blank; the start holds the same total.)
    live = set(initially)
    total = sum(elements[el] for el in initially)
    peak, peak_idx, peak_live = total, None, len(live)
    ooms = [i for i, e in enumerate(trace) if e.get("action") == "oom"]
    oom_live = {}  # trace index -> (bytes, allocations) live at it
    for el, i in actions:
        while ooms and ooms[0] < i:
            oom_live[ooms.pop(0)] = (total, len(live))
        if el in live:
            live.discard(el)
            total -= elements[el]
        else:
            live.add(el)
            total += elements[el]
        if total > peak:
            peak, peak_idx, peak_live = total, i, len(live)
    for i in ooms:
        oom_live[i] = (total, len(live))
    allocs = sum(1 for e in trace if e.get("action") == "alloc")
    frees = sum(1 for e in trace if e.get("action") in ("free", "free_completed"))
    return (peak, peak_idx, peak_live, total, allocs, frees), oom_live


def main():
    memtk, paths = sys.argv[1], sys.argv[2:]
    bad = 0
    for path in paths:
        snap = load(path)
        if isinstance(snap, list):
            snap = {"segments": snap, "device_traces": []}
        out = subprocess.run([memtk, "stats", "--json", path], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL {path}: memtk stats exit {out.returncode}: {out.stderr.strip()}")
            bad += 1
            continue
        report = json.loads(out.stdout)
        got = {d["device"]: d for d in report["devices"]}
        listed = {(o["device"], o["event_idx"]): (o["live_bytes"], o["live_allocations"])
                  for o in report.get("ooms", [])}
        devices = set(range(len(snap.get("device_traces", []))))
        devices |= {s.get("device") for s in snap["segments"]}
        for dev in sorted(d for d in devices if d is not None):
            want, oom_live = viewer_peak(snap, dev)
            d = got.get(dev)
            mine = ((d["peak"]["bytes"], d["peak"]["event_idx"], d["live_at_peak"], d["end_bytes"], d["allocs"],
                     d["frees"]) if d else (0, None, 0, 0, 0, 0))
            status = "ok  " if mine == want else "FAIL"
            if mine != want:
                bad += 1
            print(f"{status} {path} device {dev}: peak/at/live/end/allocs/frees python {want} memtk {mine}")
            for idx, live in sorted(oom_live.items()):
                if (dev, idx) not in listed:
                    continue  # stats lists the first --top OOMs
                ok = listed[(dev, idx)] == live
                bad += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {path} device {dev} OOM at d{dev}:{idx}: live bytes/allocations "
                      f"python {live} memtk {listed[(dev, idx)]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
