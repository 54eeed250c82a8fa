#!/usr/bin/env python3
"""`memtk diff` and multi-input `stats` from the command line (issue #19).

On the generated fixtures (always):
  - every gate metric, as bytes/count and as a percentage, passes with the
    limit at the change itself and trips (exit 3) with the limit one byte
    (count) or 0.01% lower: a change one step above the limit fails;
  - directory pairing reports the files missing on either side;
  - exit codes: 1 for inputs of different kinds or a missing file, 2 for a
    bad --fail-on.
On the real snapshots in ../shared/data/snapshots/ (skipped, with a message,
when absent): for pairs of neighbours in name order (which include pairs with
different device counts: 3 devices vs 1, device 1 vs device 0, none vs one)
the peak change of each device equals the difference of the two `stats`
peaks (0 for a device missing on one side), reserved/allocated/allocs/OOMs
equal `stats`' figures, and a snapshot compared with itself changes nothing
and passes every gate. Multi-input `stats` rows equal single `stats` runs.

usage: diff_cli.py MEMTK [SNAPSHOT_DIR]
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
SNAPSHOT_METRICS = ["peak", "reserved", "allocated", "fragmentation", "allocs", "alloc_bytes", "oom"]
failures = []


def run(memtk, *args):
    return subprocess.run([memtk, *args], capture_output=True, text=True, timeout=300)


def check(cond, what):
    if not cond:
        failures.append(what)


def diff_json(memtk, base, new, *extra):
    p = run(memtk, "diff", base, new, "--json", *extra)
    check(p.returncode in (0, 3), "diff %s %s exited %d: %s" % (base, new, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout) if p.returncode in (0, 3) else None


def stats_json(memtk, path):
    p = run(memtk, "stats", "--json", path)
    check(p.returncode == 0, "stats %s exited %d: %s" % (path, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout) if p.returncode == 0 else None


def gates_at_the_limit(memtk):
    base, new = os.path.join(DATA, "diff", "base.pickle"), os.path.join(DATA, "diff", "new.pickle")
    d = diff_json(memtk, base, new)
    for dev in d["pairs"][0]["devices"]:
        for name in SNAPSHOT_METRICS:
            m = dev["metrics"][name]
            if m["change"] <= 0:
                continue
            args = ["--device", str(dev["device"])]
            at, above = "%s>%d" % (name, m["change"]), "%s>%d" % (name, m["change"] - 1)
            p_at = run(memtk, "diff", base, new, "--fail-on", at, *args).returncode
            p_above = run(memtk, "diff", base, new, "--fail-on", above, *args).returncode
            check(p_at == 0, "%s on device %d: change %d, --fail-on %s exited %d (want 0)"
                  % (name, dev["device"], m["change"], at, p_at))
            check(p_above == 3, "%s on device %d: change %d, --fail-on %s exited %d (want 3)"
                  % (name, dev["device"], m["change"], above, p_above))
            # Percent, exact in hundredths: floor(change * 10000 / base).
            h, exact = divmod(m["change"] * 10000, m["base"])
            pct = lambda x: "%s>%d.%02d%%" % (name, x // 100, x % 100)
            ok_limit, bad_limit = (pct(h), pct(h - 1)) if exact == 0 else (pct(h + 1), pct(h))
            r_ok = run(memtk, "diff", base, new, "--fail-on", ok_limit, *args).returncode
            r_bad = run(memtk, "diff", base, new, "--fail-on", bad_limit, *args).returncode
            check(r_ok == 0, "%s: --fail-on %s exited %d (want 0)" % (name, ok_limit, r_ok))
            check(r_bad == 3, "%s: --fail-on %s exited %d (want 3)" % (name, bad_limit, r_bad))


def memlog_gates_at_the_limit(memtk):
    base, new = os.path.join(DATA, "memlog", "train.csv"), os.path.join(DATA, "diff", "train_grown.csv")
    d = diff_json(memtk, base, new)
    changed = 0
    for name, m in d["pairs"][0]["memlog"]["metrics"].items():
        if m["change"] <= 0:
            continue
        changed += 1
        unit = "ms" if name == "duration" else ""  # a bare duration is seconds
        for limit, want in ((m["change"], 0), (m["change"] - 1, 3)):
            expr = "%s>%d%s" % (name, limit, unit)
            rc = run(memtk, "diff", base, new, "--fail-on", expr).returncode
            check(rc == want, "memlog %s: change %d, --fail-on %s exited %d (want %d)" % (name, m["change"], expr, rc, want))
    check(changed >= 3, "memlog pair: only %d metrics changed" % changed)


def directories_and_errors(memtk):
    d = diff_json(memtk, os.path.join(DATA, "diff", "runs_base"), os.path.join(DATA, "diff", "runs_new"))
    check([p["name"] for p in d["pairs"]] == ["rank0.pickle", "rank1.pickle"], "paired: %s" % d["pairs"])
    check(d["only_in_base"] == ["rank2.pickle"] and d["only_in_new"] == ["rank3.pickle"],
          "unpaired: %s %s" % (d["only_in_base"], d["only_in_new"]))
    cases = [
        (["diff", os.path.join(DATA, "memlog", "train.csv"), os.path.join(DATA, "diff", "base.pickle")], 1),
        (["diff", os.path.join(DATA, "diff", "base.pickle"), os.path.join(DATA, "diff", "missing.pickle")], 1),
        (["diff", os.path.join(DATA, "diff", "base.pickle"), os.path.join(DATA, "diff", "new.pickle"),
          "--fail-on", "peak>>5%"], 2),
        (["diff", os.path.join(DATA, "diff", "base.pickle"), os.path.join(DATA, "diff", "new.pickle"),
          "--fail-on", "heap>5%"], 2),
    ]
    for args, want in cases:
        p = run(memtk, *args)
        lines = p.stderr.strip().splitlines()
        hint = ["Run 'memtk diff --help' for usage."] if want == 2 else []  # usage errors end with it
        check(p.returncode == want and len(lines) == 1 + len(hint) and lines[1:] == hint and p.stdout == "",
              "%s: exit %d (want %d), stderr %r, stdout %r" % (" ".join(args), p.returncode, want, p.stderr, p.stdout))


def real_pairs(memtk, snap_dir):
    files = sorted(os.path.join(snap_dir, f) for f in os.listdir(snap_dir) if not f.endswith(".md"))
    stats = {f: stats_json(memtk, f) for f in files}
    pairs = [(files[i], files[(i + 1) % len(files)]) for i in range(len(files))]
    device_counts_differ = 0
    for base, new in pairs:
        sb, sn = stats[base], stats[new]
        d = diff_json(memtk, base, new)
        if not (sb and sn and d):
            continue
        db = {x["device"]: x for x in sb["devices"]}
        dn = {x["device"]: x for x in sn["devices"]}
        device_counts_differ += set(db) != set(dn)
        got = {x["device"]: x for x in d["pairs"][0]["devices"]}
        check(set(got) == set(db) | set(dn), "%s vs %s: devices %s, stats %s | %s"
              % (base, new, sorted(got), sorted(db), sorted(dn)))
        for dev, x in got.items():
            pb = db[dev]["peak"]["bytes"] if dev in db else 0
            pn = dn[dev]["peak"]["bytes"] if dev in dn else 0
            m = x["metrics"]
            check(m["peak"]["change"] == pn - pb, "%s vs %s device %d: peak change %d, stats %d - %d"
                  % (base, new, dev, m["peak"]["change"], pn, pb))
            for key, fig in (("reserved", lambda s: s["segments"]["reserved"]),
                             ("allocated", lambda s: s["segments"]["allocated"]),
                             ("allocs", lambda s: s["allocs"]), ("alloc_bytes", lambda s: s["alloc_bytes"]),
                             ("oom", lambda s: len(s["ooms"]))):
                want_b = fig(db[dev]) if dev in db else 0
                want_n = fig(dn[dev]) if dev in dn else 0
                check((m[key]["base"], m[key]["new"]) == (want_b, want_n), "%s vs %s device %d: %s %s, stats %s"
                      % (base, new, dev, key, (m[key]["base"], m[key]["new"]), (want_b, want_n)))
            check(x["in_base"] == (dev in db) and x["in_new"] == (dev in dn), "%s vs %s: in_base/in_new" % (base, new))
    check(device_counts_differ >= 2, "only %d real pairs with different devices" % device_counts_differ)
    gates = sum((["--fail-on", "%s>0" % m, "--fail-on", "%s>0%%" % m] for m in SNAPSHOT_METRICS), [])
    for f in files:
        d = diff_json(memtk, f, f, *gates)
        if not d:
            continue
        check(not d["gate"]["failed"], "%s vs itself: gate failed" % f)
        for x in d["pairs"][0]["devices"]:
            check(all(v["change"] == 0 for v in x["metrics"].values()), "%s vs itself: device %d changed"
                  % (f, x["device"]))
            t = x["sites"]["totals"]
            check(t["grown"] + t["shrunk"] + t["new"] + t["gone"] == 0 and x["only_in_new_total"] == 0,
                  "%s vs itself: sites changed %s" % (f, t))
    # One table over all of them equals the single runs.
    for jobs in ("1", "2"):
        p = run(memtk, "stats", "--json", "-j", jobs, *files)
        check(p.returncode == 0, "stats of %d files -j %s exited %d: %s" % (len(files), jobs, p.returncode, p.stderr))
        if p.returncode:
            continue
        rows = json.loads(p.stdout)["rows"]
        want = [(f, x["device"], x["peak"]["bytes"]) for f in files if stats[f] for x in stats[f]["devices"]]
        check([(r["source"], r["device"], r["peak_bytes"]) for r in rows] == want, "multi-input stats rows differ")
    print("real snapshots: %d pairs (%d with different devices), %d self-comparisons"
          % (len(pairs), device_counts_differ, len(files)))


def main():
    memtk = os.path.abspath(sys.argv[1])
    snap_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data", "snapshots")
    gates_at_the_limit(memtk)
    memlog_gates_at_the_limit(memtk)
    directories_and_errors(memtk)
    if os.path.isdir(snap_dir):
        real_pairs(memtk, snap_dir)
    else:
        print("skipped the real-snapshot pairs: %s does not exist" % snap_dir)
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
