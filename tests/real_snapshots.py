#!/usr/bin/env python3
"""Convert every real snapshot in ../shared/data/snapshots/ and check each
database against Python's pickle (scripts/check_db.py); check `memtk stats`
peaks against an independent Python replay of PyTorch's viewer
(scripts/check_peak.py); check that stats of the database equal stats of the
snapshot, that the live-at-peak rows add up to the peak, and that `query`
answers. On snapshots with OOMs (issue #17): the first OOM and who held the
memory then are within the first 25 lines of `memtk stats`, and `query
--at-oom K` lists exactly the bytes `stats` says were live at OOM K. Every
--site variant gives the same sites from the snapshot and from its database,
and `query` ranks the site `stats` ranks first (issue #18, with
Constructor-Sun's OOM credited to the user's models.py). Folded stacks at the
peak (`query --at-peak --format folded`) add up to stats' peak on every
device, and `convert --to pprof` decodes with `protoc --decode` with an
inuse_space total per device equal to the same peak (issue #18). Skips, with
a message, when the folder does not exist (it is never copied into the repo).

Golden files: tests/real_snapshots/<file>.stats.json (`stats --json --top 5`,
source removed) and <file>.at_peak.csv (`query --at-peak --top 5`) are compared
too; `--update` rewrites them (they hold memtk's answers, not the snapshots).

usage: real_snapshots.py MEMTK [SNAPSHOT_DIR] [--update]
"""
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import check_peak  # noqa: E402  (the snapshot loader)

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


def segsum_totals(path):
    """Per device (reserved, allocated, free) the way PyTorch's
    torch.cuda._memory_viz.segsum adds them up: 'allocated' is the requested
    size of every active_allocated block, 'free' the rest of the reserved
    bytes. None for a device whose segments' own allocated_size and
    requested_size disagree with their blocks (a synthetic file) or that has
    active_pending_free blocks (segsum counts those as free, the segments'
    requested_size does not)."""
    snap = check_peak.load(path)
    segs = snap if isinstance(snap, list) else snap["segments"]
    out = {}
    for s in segs:
        d = out.setdefault(s.get("device"), {"reserved": 0, "allocated": 0, "fields": [0, 0], "blocks": [0, 0]})
        d["reserved"] += s["total_size"]
        d["fields"][0] += s.get("allocated_size", 0)
        d["fields"][1] += s.get("requested_size", 0)
        for b in s.get("blocks", []):
            if b["state"] == "active_allocated":
                req = b.get("requested_size") or (b["history"][0]["real_size"] if "history" in b else b["size"])
                d["allocated"] += req
                d["blocks"][0] += b["size"]
                d["blocks"][1] += req
            elif b["state"] != "inactive":
                d["blocks"] = None
    return {dev: (d["reserved"], d["allocated"], d["reserved"] - d["allocated"]) if d["blocks"] == d["fields"] else None
            for dev, d in out.items()}


def check_segsum(memtk, src):
    """Issue #16: stats names both meanings of 'allocated'; its requested
    figures are segsum's allocated and free."""
    p = subprocess.run([memtk, "stats", "--json", src], capture_output=True, text=True)
    if p.returncode != 0:
        return []
    problems = []
    want = segsum_totals(src)
    for d in json.loads(p.stdout)["devices"]:
        g, w = d["segments"], want.get(d["device"])
        if w is None:
            continue
        got = (g.get("reserved", 0), g.get("allocated_requested", 0), g.get("free_requested", 0))
        if got != w:
            problems.append("device %d: reserved/allocated/free %s, segsum says %s" % (d["device"], got, w))
        if g and (g["allocated_rounded"], g["free_rounded"]) != (g["allocated"], g["free"]):
            problems.append("device %d: allocated_rounded/free_rounded differ from allocated/free" % d["device"])
    return problems


def check_stats_and_query(memtk, src, db):
    problems = check_segsum(memtk, src)
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


def folded_totals(text):
    """Bytes per device of folded stacks: lines that start with a "device N"
    frame count for N; without such frames there is one device (None)."""
    totals = {}
    for line in text.splitlines():
        stack, weight = line.rsplit(" ", 1)
        first = stack.split(";", 1)[0]
        dev = int(first[7:]) if re.fullmatch(r"device \d+", first) else None
        totals[dev] = totals.get(dev, 0) + int(weight)
    return totals


def pprof_inuse(text):
    """inuse_space (the first value) per device label of `protoc --decode`
    text of a profile."""
    strings = [json.loads(m) for m in re.findall(r'^string_table: (".*")$', text, re.M)]
    totals = {}
    for sample in re.findall(r"^sample \{\n(.*?)^\}", text, re.M | re.S):
        values = [int(v) for v in re.findall(r"^  value: (-?\d+)$", sample, re.M)]
        label = re.search(r"^    str: (\d+)$", sample, re.M)
        dev = strings[int(label.group(1))] if label else None
        totals[dev] = totals.get(dev, 0) + values[0]
    return totals


def check_flame(memtk, src, tmp):
    problems = []
    p = subprocess.run([memtk, "stats", "--json", src], capture_output=True, text=True)
    if p.returncode != 0:
        return problems
    peaks = {d["device"]: d["peak"]["bytes"] for d in json.loads(p.stdout)["devices"]}
    q = subprocess.run([memtk, "query", src, "--at-peak", "--format", "folded"], capture_output=True, text=True)
    if q.returncode != 0:
        return ["query --at-peak --format folded exited %d: %s" % (q.returncode, q.stderr.strip())]
    got = folded_totals(q.stdout)
    if None in got:
        got = {d: got[None] for d in peaks}  # one device: no device frames
    want = {d: b for d, b in peaks.items() if b}
    if {d: b for d, b in got.items() if b} != want:
        problems.append("folded totals at the peak %s, stats says %s" % (got, want))
    if not shutil.which("protoc"):
        print("SKIP pprof decode: protoc not installed")
        return problems
    out = os.path.join(tmp, "p.pb.gz")
    c = subprocess.run([memtk, "convert", "-q", src, "--to", "pprof", "-o", out], capture_output=True, text=True)
    if c.returncode != 0:
        return problems + ["convert --to pprof exited %d: %s" % (c.returncode, c.stderr.strip())]
    proto = os.path.join(ROOT, "lib", "src", "export")
    d = subprocess.run(["protoc", "--decode", "perftools.profiles.Profile", "-I", proto,
                        os.path.join(proto, "profile.proto")], input=gzip.open(out).read(), capture_output=True)
    if d.returncode != 0:
        return problems + ["protoc --decode failed: %s" % d.stderr.decode().strip()]
    inuse = pprof_inuse(d.stdout.decode())
    want = {"cuda:%d" % dev: b for dev, b in peaks.items() if b}
    if {k: v for k, v in inuse.items() if v} != want:
        problems.append("pprof inuse_space %s, stats' peaks %s" % (inuse, want))
    return problems


def check_ooms(memtk, src, db):
    a, err = stats_json(memtk, src)
    if a is None or not a["ooms"]:
        return []
    problems = []
    first = a["ooms"][0]
    text = subprocess.run([memtk, "stats", src], capture_output=True, text=True).stdout.splitlines()[:25]
    want = "OOM 1 on device %d at event %s (id %d" % (first["device"], first["event"], first["event_id"])
    if not any(line.lstrip().startswith(want) for line in text):
        problems.append("the first 25 lines of stats do not name OOM 1 (%s)" % want)
    if first["live_by_site"] and not any(first["live_by_site"][0]["site"] in line for line in text):
        problems.append("the first 25 lines of stats do not show who held memory at OOM 1")
    if first["request_site"] and not any(("requested at " + first["request_site"]["site"]) in line for line in text):
        problems.append("the first 25 lines of stats do not say where OOM 1's request was made")
    con = sqlite3.connect(db)
    for o in a["ooms"]:
        # The failed request's site exactly when its event carries frames.
        depth = con.execute("SELECT s.depth FROM events e JOIN stacks s ON s.id = e.stack_id WHERE e.id = ?",
                            (o["event_id"],)).fetchone()
        has_frames = bool(depth and depth[0])
        r = o["request_site"]
        if has_frames != (r is not None) or (r is not None and r["bytes"] != o["requested_bytes"]):
            problems.append("OOM %d: request_site %s, event stack depth %s" % (o["n"], r, depth))
        q = subprocess.run([memtk, "query", "--at-oom", str(o["n"]), "--format", "csv", db],
                           capture_output=True, text=True)
        rows = q.stdout.splitlines()[1:]
        got = (len(rows), sum(int(r.split(",")[4]) for r in rows)) if q.returncode == 0 else q.stderr.strip()
        if got != (o["live_allocations"], o["live_bytes"]):
            problems.append("query --at-oom %d: %s, stats says %s" % (o["n"], got, (o["live_allocations"],
                                                                                   o["live_bytes"])))
    con.close()
    return problems


def top_sites_by_query(memtk, db, extra):
    """device -> (site, bytes) of `query --at-peak --top 1` per device."""
    out = {}
    con = sqlite3.connect(db)
    devices = [d for (d,) in con.execute("SELECT device FROM peaks ORDER BY device")]
    con.close()
    for dev in devices:
        q = subprocess.run([memtk, "query", "--at-peak", "--top", "1", "--format", "csv", "--device", str(dev), db] +
                           extra, capture_output=True, text=True)
        rows = [r for r in q.stdout.splitlines()[1:] if r]
        if q.returncode == 0 and rows:
            _device, _allocs, nbytes, site = rows[0].split(",", 3)
            # NULL (no frames) is how SQL says stats' "<no frames>".
            out[dev] = (site.strip('"') or "<no frames>", int(nbytes))
    return out


# Issue #18: one site rule everywhere. Each variant must give the same
# answer from the pickle and from its database, and `query --at-peak --top`
# must name the site `stats` ranks first.
SITE_VARIANTS = ([], ["--site", "innermost"], ["--site", "stack"], ["--library", r"models\.py|cezo_fl"])


def check_attribution(memtk, name, src, db):
    problems = []
    for extra in SITE_VARIANTS:
        a = subprocess.run([memtk, "stats", "--json", "--top", "3", src] + extra, capture_output=True, text=True)
        b = subprocess.run([memtk, "stats", "--json", "--top", "3", db] + extra, capture_output=True, text=True)
        if a.returncode != 0 or b.returncode != 0:
            problems.append("stats %s exited %d/%d" % (" ".join(extra), a.returncode, b.returncode))
            continue
        da, dbj = json.loads(a.stdout), json.loads(b.stdout)
        for d in (da, dbj):
            for k in ("source", "format", "data_problems"):
                d.pop(k, None)
        if da != dbj:
            problems.append("stats %s: the database's sites differ from the snapshot's" % " ".join(extra))
        if "--site" in extra and "stack" in extra:
            continue  # query groups stacks by their label, stats by stack id
        by_query = top_sites_by_query(memtk, db, extra)
        for dev in da["devices"]:
            sites = dev["peak_by_site"]
            if not sites or dev["device"] not in by_query:
                continue
            want = (sites[0]["site"], sites[0]["bytes"])
            # Equal bytes may rank in another order: compare the bytes, and
            # the site when it is the only one with those bytes.
            got = by_query[dev["device"]]
            tied = sum(1 for x in sites if x["bytes"] == want[1]) > 1
            if got[1] != want[1] or (not tied and got[0] != want[0]):
                problems.append("device %d %s: query's top site %s, stats' %s" %
                                (dev["device"], " ".join(extra), got, want))
    if name.startswith("Constructor-Sun"):
        # The OOM of issue #18: device 1's peak was credited to
        # torch/nn/functional.py:1701:relu; it belongs to the user's models.py.
        d = json.loads(subprocess.run([memtk, "stats", "--json", "--device", "1", src],
                                      capture_output=True, text=True).stdout)["devices"][0]
        top = d["peak_by_site"][0]
        if not top["site"].endswith("/CurProject/src/train/models.py:174:update_nodes"):
            problems.append("device 1's top site is %s, not models.py:174" % top["site"])
        relu = [x for x in d["peak_by_site"] if x["called"] and x["called"].endswith("torch/nn/functional.py:1701:relu")]
        if not relu or not relu[0]["site"].endswith("/CurProject/src/train/models.py:181:update_nodes"):
            problems.append("relu at device 1's peak is not credited to models.py:181: %s" % relu)
        if any(x["site"].endswith("functional.py:1701:relu") for x in d["peak_by_site"]):
            problems.append("device 1 still names functional.py:1701:relu as a site")
        text = subprocess.run([memtk, "stats", "--device", "1", src], capture_output=True, text=True).stdout
        if "models.py:181:update_nodes \u2192 torch/nn/functional.py:1701:relu" not in text:
            problems.append("stats text does not show models.py:181:update_nodes \u2192 torch/nn/functional.py:1701:relu")
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
            problems += check_ooms(memtk, src, db)
            problems += check_golden(memtk, f, src, db, update)
            problems += check_flame(memtk, src, out)
            problems += check_attribution(memtk, f, src, db)
            for p in problems:
                print("FAIL %s: %s" % (f, p))
            if problems:
                failed += 1
    print("%d passed, %d failed" % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
