#!/usr/bin/env python3
"""render-png end to end, checked with an independent PNG decoder (zlib +
the five PNG filters, written here) and an independent replay of PyTorch's
viewer (process_alloc_data) over Python's own pickle:

- sample.pickle drawn one pixel column per trace event: every column's inked
  height equals the live bytes after that event, to within one pixel;
- the legend shows colours that are in the plot; same bytes on every run;
  database and pickle give the same pixels;
- the memlog chart keeps a one-sample spike (min..max per pixel column), and
  draws a line through sparse samples (50 samples over 800 px: every column
  between the first and the last sample is inked; issue #17), cpu_percent in
  its own colour against a percent axis;
- errors: one line, exit 1 (2 for usage), no output file left;
- every real snapshot in ../shared/data/snapshots/ renders (timeline and
  segments) with the peak `memtk stats` reports (skipped when absent);
- pixel hashes (of decoded pixels, so zlib versions do not matter) match
  tests/render_hashes.txt; `--update` rewrites it.

usage: render_png.py MEMTK [--update]
"""
import hashlib
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import zlib

import real_inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
HASHES = os.path.join(ROOT, "tests", "render_hashes.txt")
WHITE, GRID, INK = (255, 255, 255), (226, 226, 226), (40, 40, 40)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def decode_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, w, h = 8, b"", 0, 0
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + n]
        (crc,) = struct.unpack(">I", data[at + 8 + n:at + 12 + n])
        assert zlib.crc32(kind + body) == crc, "bad CRC in " + kind.decode()
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "not 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    raw = zlib.decompress(idat)
    stride = w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def px(rows, x, y):
    return tuple(rows[y][x * 3:x * 3 + 3])


def render(memtk, args, out):
    return subprocess.run([memtk, "render-png"] + args + ["-o", out], capture_output=True, text=True)


def plot_area(w, h, rows):
    """The plot: right of the y axis line, above the x axis line (both INK)."""
    axis_x = next(x for x in range(w) if sum(px(rows, x, y) == INK for y in range(h)) > h // 2)
    axis_y = next(y for y in range(h - 1, -1, -1) if sum(px(rows, x, y) == INK for x in range(w)) > w // 2)
    top = next(y for y in range(h) if px(rows, axis_x, y) == INK)
    return axis_x + 1, top, axis_y - 1  # first plot column, top row, bottom row


def viewer_totals(snap, device=0):
    """Live bytes after each trace event (process_alloc_data, values only)."""
    trace = snap["device_traces"][device]
    addr_live, pre, steps = {}, [], []
    for i, e in enumerate(trace):
        a = e["action"]
        if a == "alloc":
            addr_live[e["addr"]] = e["size"]
            steps.append((i, e["size"]))
        elif a in ("free", "free_completed"):
            if e["addr"] in addr_live:
                steps.append((i, -addr_live.pop(e["addr"])))
            else:
                pre.append(e["size"])
                steps.append((i, -e["size"]))
    total = sum(pre)
    for seg in snap["segments"]:
        if seg["device"] == device:
            for b in seg["blocks"]:
                if b["state"] == "active_allocated" and b["address"] not in addr_live:
                    total += b["requested_size"]
    out, k = [], 0
    for i in range(len(trace)):
        while k < len(steps) and steps[k][0] == i:
            total += steps[k][1]
            k += 1
        out.append(total)
    return out


def load_snapshot(path):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import check_peak
    snap = check_peak.load(path)
    return {"segments": snap, "device_traces": []} if isinstance(snap, list) else snap


def reserved_peak(snap, device):
    """The most reserved bytes at any instant, the start included (issue #16),
    from byte counts alone: the segments at the end, less what the trace
    reserved (segment_alloc, segment_map), plus what it released
    (segment_free, segment_unmap), is what was reserved at the start."""
    trace = snap["device_traces"][device] if device < len(snap["device_traces"]) else []
    sign = {"segment_alloc": 1, "segment_map": 1, "segment_free": -1, "segment_unmap": -1}
    deltas = [sign[e["action"]] * e["size"] for e in trace if e.get("action") in sign]
    total = sum(s["total_size"] for s in snap["segments"] if s.get("device") == device) - sum(deltas)
    peak = total
    for d in deltas:
        total += d
        peak = max(peak, total)
    return peak


def test_segments_fixtures(memtk, tmp):
    """Issue #16: --view segments peaks at the start when the trace opens with
    a segment_free, and follows segment_map/segment_unmap."""
    for name, want in (("starts_with_frees.pickle", 42 << 20), ("expandable.pickle", 64 << 20)):
        path = os.path.join(DATA, name)
        check(reserved_peak(load_snapshot(path), 0) == want, "%s: the replay agrees with gen_fixtures.py" % name)
        p = render(memtk, ["--view", "segments", path], os.path.join(tmp, "seg.png"))
        check(p.returncode == 0 and "(%d bytes)" % want in p.stderr, "%s: segments peak %d: %s" % (name, want, p.stderr))


def test_empty(memtk, tmp):
    """Issue #16: no trace and no segments draws a valid picture, exit 0 (CI
    renders every snapshot of a run); asking for a device of it is still an
    error."""
    out = os.path.join(tmp, "empty.png")
    p = render(memtk, [os.path.join(DATA, "no_data.pickle")], out)
    check(p.returncode == 0, "empty snapshot: exit 0: " + p.stderr)
    check(p.stderr.strip().endswith("empty.png: empty snapshot (no trace events or segments)"),
          "empty snapshot: summary says so: " + p.stderr)
    if p.returncode == 0:
        w, h, rows = decode_png(open(out, "rb").read())
        x0, top, bottom = plot_area(w, h, rows)
        inked = {px(rows, x, y) for y in range(top + 1, bottom) for x in range(x0, w - 30)} - {WHITE}
        check((w, h) == (1600, 900) and inked, "empty snapshot: a frame with a message in it")
    p = render(memtk, ["--device", "0", os.path.join(DATA, "no_data.pickle")], out)
    check(p.returncode == 1 and "no trace events or segments to draw" in p.stderr,
          "empty snapshot, --device 0: one line: " + p.stderr)


def test_sample_columns(memtk, tmp):
    with open(os.path.join(DATA, "sample.pickle"), "rb") as f:
        snap = pickle.load(f)
    totals = viewer_totals(snap)
    out = os.path.join(tmp, "cols.png")
    # Plot width = image width - 102 (left 78 + right 24): one column per event.
    p = render(memtk, ["--width", str(len(totals) + 102), "--legend", "0", os.path.join(DATA, "sample.pickle")], out)
    check(p.returncode == 0, "sample renders: " + p.stderr)
    w, h, rows = decode_png(open(out, "rb").read())
    x0, top, bottom = plot_area(w, h, rows)
    check(x0 == 78, "plot starts at x=78 (got %d)" % x0)
    plot_h = bottom - top + 1
    peak = max(totals)
    y_max = max(plot_h, peak + peak // 20)
    lane = top - 6  # marker ticks sit just above the plot (annotation ends are shorter)
    checked = 0
    for c, live in enumerate(totals):
        x = x0 + c
        if px(rows, x, lane) != WHITE:
            continue  # a marker line crosses this column
        want = live * plot_h / y_max
        if want > plot_h - 45:
            continue  # labels at the top of the plot
        inked = sum(px(rows, x, y) not in (WHITE, GRID) for y in range(top + 40, bottom + 1))
        if abs(inked - want) > 1:
            check(False, "column %d: %d inked rows, live bytes say %.2f" % (c, inked, want))
            break
        checked += 1
    check(checked > len(totals) * 0.8, "checked %d of %d columns" % (checked, len(totals)))
    check(("peak 15.1 GiB (%d bytes)" % peak) in p.stderr, "summary names the peak: " + p.stderr.strip())


def test_legend_determinism_db(memtk, tmp):
    src = os.path.join(DATA, "sample.pickle")
    a, b = os.path.join(tmp, "a.png"), os.path.join(tmp, "b.png")
    check(render(memtk, ["--title", "t", src], a).returncode == 0, "render a")
    check(render(memtk, ["--title", "t", src], b).returncode == 0, "render b")
    check(open(a, "rb").read() == open(b, "rb").read(), "same bytes on every run")
    w, h, rows = decode_png(open(a, "rb").read())
    x0, top, bottom = plot_area(w, h, rows)
    plot_colours = {px(rows, x, y) for y in range(top + 40, bottom, 7) for x in range(x0, w - 30, 3)}
    legend = {px(rows, x, y) for y in range(bottom + 40, h) for x in range(x0, w)}
    shared = (legend & plot_colours) - {WHITE, GRID, INK}
    check(len(shared) >= 3, "legend swatches use plot colours (%d shared)" % len(shared))
    db = os.path.join(tmp, "s.db")
    subprocess.run([memtk, "convert", src, "-o", db, "--quiet"], check=True)
    c = os.path.join(tmp, "c.png")
    check(render(memtk, ["--title", "t", db], c).returncode == 0, "render from db")
    check(decode_png(open(c, "rb").read())[2] == rows, "database and pickle draw the same pixels")


def test_memlog(memtk, tmp):
    out = os.path.join(tmp, "m.png")
    p = render(memtk, ["--width", "800", "--height", "400", os.path.join(DATA, "memlog", "train.csv")], out)
    check(p.returncode == 0, "memlog renders: " + p.stderr)
    w, h, rows = decode_png(open(out, "rb").read())
    blue = (31, 119, 180)
    x0, top, bottom = plot_area(w, h, rows)
    highest = min((y for y in range(top, bottom + 1) for x in range(x0, w) if px(rows, x, y) == blue), default=None)
    # The generated recording has a single-sample 300 MiB spike at 180 s; at
    # 800 px each column covers ~5 samples, and min..max keeps the spike.
    m = re.search(r"peak [0-9.]+ GiB", p.stderr)
    check(m is not None, "memlog summary: " + p.stderr)
    check(highest is not None and highest <= top + (bottom - top) * 0.1, "the spike reaches the top of the plot")


def test_memlog_line(memtk, tmp):
    # Issue #17: at 100 ms a 5 s recording was drawn as scattered dots.
    out = os.path.join(tmp, "line.png")
    p = render(memtk, ["--width", "800", "--height", "400", "--column", "rss_bytes,cpu_percent",
                       os.path.join(DATA, "memlog", "short_ramp.csv")], out)
    check(p.returncode == 0, "short memlog renders: " + p.stderr)
    w, h, rows = decode_png(open(out, "rb").read())
    blue, orange = (31, 119, 180), (255, 127, 14)
    x0, top, bottom = plot_area(w, h, rows)
    cols = [x for x in range(x0, w) if any(px(rows, x, y) == blue for y in range(top, bottom + 1))]
    check(len(cols) > 100, "the rss line spans the plot (%d columns)" % len(cols))
    ocols = [x for x in range(x0, w) if any(px(rows, x, y) == orange for y in range(top, bottom + 1))]
    # Where the cpu line crosses it, orange (drawn later) may cover the blue.
    gaps = [x for x in range(cols[0], cols[-1] + 1) if x not in set(cols) and x not in set(ocols)] if cols else []
    check(not gaps, "no gap in the line through the samples: %s" % gaps[:10])
    check(len(ocols) > 100, "cpu_percent is drawn too (%d columns)" % len(ocols))


def test_errors(memtk, tmp):
    out = os.path.join(tmp, "e.png")
    cases = [
        (["data/truncated.pickle"], 1, "truncated"),
        (["data/not_a_snapshot.txt"], 1, "not a PyTorch memory snapshot"),
        (["data/empty.pickle"], 1, "empty"),
        (["--device", "7", "data/sample.pickle"], 1, "device 7 has no trace events or segments (devices: 0, 1)"),
        (["--x", "time", "data/no_time.pickle"], 1, "have no time_us; use --x event"),
        (["--width", "50", "data/sample.pickle"], 2, ""),
        (["--from", "10", "--to", "5", "data/sample.pickle"], 2, "empty window"),
        # Wholly past the trace's end: refused like a backwards window, not drawn as a flat picture.
        (["--from", "120000", "--to", "180000", "data/sample.pickle"], 2, "device 0's trace spans events 0 to 1500"),
        (["--x", "time", "--from", "100", "data/sample.pickle"], 2, "empty window: --from 100: device 0's trace spans"),
        (["--from", "100000", "data/memlog/train.csv"], 2, "the recording spans 0 to 299.900 s"),
    ]
    for args, code, text in cases:
        args = [a if not a.startswith("data/") else os.path.join(ROOT, a) for a in args]
        p = render(memtk, args, out)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == code, "%s: exit %d (want %d): %s" % (args, p.returncode, code, p.stderr.strip()))
        if code == 1:
            check(len(lines) == 1 and lines[0].startswith("memtk render-png: ") and text in lines[0],
                  "%s: one line naming the problem: %r" % (args, p.stderr))
        else:
            check(text in p.stderr, "%s: usage error says %r: %r" % (args, text, p.stderr))
        check(not os.path.exists(out), "%s: no output left" % args)
        check(not any(n.startswith(".e.png") for n in os.listdir(tmp)), "%s: no temp file left" % args)


def pixel_hashes(memtk, tmp):
    cases = {
        "sample.timeline": ["--title", "sample", os.path.join(DATA, "sample.pickle")],
        "sample.segments.time": ["--title", "sample", "--view", "segments", "--x", "time",
                                 os.path.join(DATA, "sample.pickle")],
        "newest.timeline": ["--title", "newest", "--width", "640", "--height", "360",
                            os.path.join(DATA, "newest.pickle")],
        "train.memlog": ["--title", "train", "--columns", "rss_bytes,hwm_bytes",
                         os.path.join(DATA, "memlog", "train.csv")],
        "short_ramp.memlog.cpu": ["--title", "short", "--width", "800", "--height", "400", "--column",
                                  "rss_bytes,cpu_percent", os.path.join(DATA, "memlog", "short_ramp.csv")],
        "short_flat.memlog.cpu_only": ["--title", "flat", "--width", "640", "--height", "360", "--column",
                                       "cpu_percent", os.path.join(DATA, "memlog", "short_flat.csv")],
    }
    got = {}
    for name, args in cases.items():
        out = os.path.join(tmp, name + ".png")
        p = render(memtk, args, out)
        check(p.returncode == 0, name + ": " + p.stderr)
        if p.returncode == 0:
            w, h, rows = decode_png(open(out, "rb").read())
            got[name] = "%dx%d %s" % (w, h, hashlib.sha256(b"".join(rows)).hexdigest())
    return got


def test_real(memtk, tmp):
    snapshots = real_inputs.real_snapshots()
    if snapshots is None:
        return
    import json
    n = 0
    for name, path in snapshots:
        stats = subprocess.run([memtk, "stats", "--json", path], capture_output=True, text=True)
        devices = json.loads(stats.stdout)["devices"] if stats.returncode == 0 else []
        for view in ("timeline", "segments"):
            out = os.path.join(tmp, "real.png")
            p = render(memtk, ["--view", view, "--width", "800", "--height", "450", path], out)
            if not devices:
                # Issue #16: an empty snapshot is data: a picture that says so.
                check(p.returncode == 0 and "empty snapshot" in p.stderr and decode_png(open(out, "rb").read())[:2] ==
                      (800, 450), "%s: an empty snapshot renders: %s" % (name, p.stderr))
                continue
            check(p.returncode == 0, "%s --view %s: %s" % (name, view, p.stderr.strip()))
            if p.returncode != 0:
                continue
            w, h, _ = decode_png(open(out, "rb").read())
            check((w, h) == (800, 450), name + ": size")
            dev = int(re.search(r"of device (\d+)", p.stderr).group(1))
            if view == "timeline":
                want = next(x["peak"]["bytes"] for x in devices if x["device"] == dev)
                check("(%d bytes)" % want in p.stderr, "%s: peak %d as stats says: %s" % (name, want, p.stderr.strip()))
            else:
                want = reserved_peak(load_snapshot(path), dev)
                check("(%d bytes)" % want in p.stderr,
                      "%s: segments peak %d as the reserved bytes say: %s" % (name, want, p.stderr.strip()))
        n += 1
    print("real snapshots rendered: %d" % n)


def main():
    memtk = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        test_sample_columns(memtk, tmp)
        test_legend_determinism_db(memtk, tmp)
        test_memlog(memtk, tmp)
        test_memlog_line(memtk, tmp)
        test_errors(memtk, tmp)
        test_segments_fixtures(memtk, tmp)
        test_empty(memtk, tmp)
        got = pixel_hashes(memtk, tmp)
        test_real(memtk, tmp)
    text = "".join("%s %s\n" % kv for kv in sorted(got.items()))
    if update:
        open(HASHES, "w").write(text)
        print("updated", HASHES)
    else:
        want = open(HASHES).read() if os.path.exists(HASHES) else ""
        check(text == want, "pixel hashes differ from tests/render_hashes.txt (run with --update if intended):\n" + text)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
