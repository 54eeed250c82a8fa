#!/usr/bin/env python3
"""memtk memlog end to end (issue #3), with tests/helpers/memhog.c as the
process of known behaviour: peak within 5% of baseline + 200 MiB and the drop
seen; children, grandchildren and a double-forked orphan counted; exit
status and signals passed through; output passed through byte for byte and
logged line by line in order; --mark; --pid; the machine; kill -9 of memtk.
Issue #17: the machine only with --machine; -o - refused (no files named
"-"); no 0 B row after the command exits; cpu_percent; --plot.

usage: memlog_cli.py MEMTK MEMHOG
"""
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

MEMTK, MEMHOG = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
MIB = 1 << 20
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def memlog(out, *args, **kw):
    return subprocess.run([MEMTK, "memlog", "-q", "-o", out] + list(args), capture_output=True, timeout=60, **kw)


def stats_json(path, *args):
    p = subprocess.run([MEMTK, "stats", path, "--json"] + list(args), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


# Jumps asked of stats for the allocation check: more than a recording of a
# few seconds at 10 ms has runs, so every run is listed.
ALL_JUMPS = 1000
# Longest flat spell inside one allocation: a preemption of memhog (a few
# samples), far shorter than its pauses between phases (hundreds of ms).
MAX_FLAT_S = 0.2


def allocation_rise(s, r):
    """memhog's allocation in stats `s` of the CSV rows `r`, as (the jumps that
    make it up, in time order, or None; what is wrong). A sample taken while
    memhog is preempted mid-allocation repeats the last value and so ends a
    run (a flat sample ends a rise, docs/MEMLOG.md): the 200 MiB rise may be
    split, but the level holds, so each part starts where the one before it
    ended, and the CSV's samples between them are all at that level. The
    allocation is the largest jump with the jumps joined to it that way; it
    must rise by more than 190 MiB, up to the peak, and no other jump may
    rise by 190 MiB."""
    jumps = s["jumps"]
    if not jumps:
        return None, "no jumps"
    if len(jumps) >= ALL_JUMPS:
        return None, "more than %d jumps: not every run listed" % (ALL_JUMPS - 1)
    by_time = sorted(jumps, key=lambda j: j["from_s"])
    lo = hi = next(i for i, j in enumerate(by_time) if j is jumps[0])

    def joins(a, b):
        # A preemption holds the level for a few samples; memhog's own
        # start-up rise, before its "baseline" pause, is further away and
        # must not count towards the 200 MiB.
        return a["to_bytes"] == b["from_bytes"] and b["from_s"] - a["to_s"] <= MAX_FLAT_S

    while lo > 0 and joins(by_time[lo - 1], by_time[lo]):
        lo -= 1
    while hi + 1 < len(by_time) and joins(by_time[hi], by_time[hi + 1]):
        hi += 1
    parts = by_time[lo:hi + 1]
    t0 = float(r[0]["elapsed_s"])
    for a, b in zip(parts, parts[1:]):
        between = [int(x["rss_bytes"]) for x in r
                   if a["to_s"] - 1e-4 <= float(x["elapsed_s"]) - t0 <= b["from_s"] + 1e-4]
        if len(between) < 2 or any(v != a["to_bytes"] for v in between):
            return None, "the samples from %.3f s to %.3f s are not flat: %s" % (a["to_s"], b["from_s"], between)
    rise = sum(j["bytes"] for j in parts)
    if rise <= 190 * MIB:
        return None, "%.1f MiB in %d jump(s), not over 190 MiB" % (rise / MIB, len(parts))
    if parts[-1]["to_bytes"] != s["peak"]["bytes"]:
        return None, "ends at %d B, not at the peak %d B" % (parts[-1]["to_bytes"], s["peak"]["bytes"])
    other = [j["bytes"] for j in by_time[:lo] + by_time[hi + 1:] if j["bytes"] >= 190 * MIB]
    if other:
        return None, "another jump of %.1f MiB" % (other[0] / MIB)
    return parts, "%.1f MiB in %d jump(s)" % (rise / MIB, len(parts))


def write_memlog(path, mib, interval=0.01):
    """A memlog CSV (the columns stats needs) of one process at `mib` MiB per sample."""
    with open(path, "w", newline="") as f:
        f.write("time_utc,unix_s,elapsed_s,rss_bytes,procs\n")
        for i, v in enumerate(mib):
            t = i * interval
            f.write("%s,%.6f,%.6f,%d,1\n" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1.7e9 + t)) +
                                            ".%03dZ" % (round(t * 1000) % 1000), 1.7e9 + t, t, int(v * MIB)))


with tempfile.TemporaryDirectory() as d:
    # 1. 200 MiB: peak, drop, log lines around it.
    out = os.path.join(d, "alloc.csv")
    p = memlog(out, "--interval", "10ms", "--", MEMHOG, "alloc", "200", "600", "400")
    check(p.returncode == 0, "alloc: exit status 0")
    check(p.stdout == b"baseline\nallocated\nfreed\n", "alloc: stdout passed through unchanged")
    r = rows(out)
    rss = [int(x["rss_bytes"]) for x in r]
    peak_i = max(range(len(rss)), key=lambda i: rss[i])
    log = rows(os.path.join(d, "alloc.log.csv"))
    # memhog's RSS only grows until its allocation is complete, so the least
    # RSS before the peak is its baseline. (Rows picked by the time of the
    # "allocated" line were not: on a loaded machine touching 200 MiB takes
    # long enough that "shortly before that line" is mid-allocation.)
    before = [int(x["rss_bytes"]) for x in r[:peak_i] if int(x["procs"]) == 1]
    baseline = min(before) if before else 0
    want = baseline + 200 * MIB
    check(before and abs(rss[peak_i] - want) <= 0.05 * want,
          "alloc: peak %.1f MiB within 5%% of baseline %.1f MiB + 200 MiB" % (rss[peak_i] / MIB, baseline / MIB))
    after = [int(x["rss_bytes"]) for x in r[peak_i:] if int(x["procs"]) == 1]
    check(after and min(after) < baseline + 10 * MIB, "alloc: the drop after free is recorded")
    t = [float(x["elapsed_s"]) for x in r]
    check(all(b > a for a, b in zip(t, t[1:])), "alloc: elapsed_s strictly increasing")
    gaps = sorted(b - a for a, b in zip(t, t[1:]))
    check(abs(gaps[len(gaps) // 2] - 0.010) < 0.002, "alloc: median interval 10 ms (got %.4f)" % gaps[len(gaps) // 2])
    # Issue #17: the sample after the exit, with the tree gone, is not a row
    # (it read as "end 0 B, lowest 0 B").
    check(all(int(x["procs"]) >= 1 for x in r), "alloc: no row of the empty tree after the exit")
    s = stats_json(out, "--top", str(ALL_JUMPS))
    check(s["peak"]["bytes"] == rss[peak_i], "alloc: stats peak equals the CSV's maximum")
    # On a loaded machine memhog may be preempted while it touches the 200
    # MiB: then the rise is more than one jump (allocation_rise).
    parts, why = allocation_rise(s, r)
    check(parts is not None, "alloc: the largest jump is the allocation, split only by flat samples: " + why)
    check(any(l["line"] == "allocated" for j in (parts or [])[-1:] for l in j["log_lines"]) or
          s["peak"]["last_log_line"]["line"] == "allocated", "alloc: 'allocated' is the log line at the jump/peak")
    # The drop starts at the last bucket within 10% of the highest level
    # (docs/MEMLOG.md), so it is at least 90% of the 200 MiB freed. (It used
    # to end at the 0 B row after the exit, issue #17, and so always looked
    # larger.)
    check(s["final_drop"] is not None and s["final_drop"]["bytes"] > 0.85 * 200 * MIB,
          "alloc: stats sees the final drop")

    # 1b. allocation_rise on hand-made recordings (no processes): a rise split
    # by flat samples is one allocation (the largest jump alone is 100 MiB);
    # split by a fall, or beside another 195 MiB jump, it is not.
    rise = [1] * 20 + [1 + 10 * i for i in range(1, 11)]
    # Each refusal must be for its own reason (the `why` it gives).
    cases = (("split by 3 flat samples", rise + [101] * 3 + [101 + 10 * i for i in range(1, 11)] + [201] * 20,
              "MiB in 2 jump(s)"),
             ("split by a fall", rise + [97] * 3 + [97 + 10.4 * i for i in range(1, 11)] + [201] * 20,
              "not over 190 MiB"),
             ("beside another 195 MiB jump", rise + [201] * 3 + [1] * 5 + [196] + [1] * 5, "another jump"),
             ("a start-up rise 1 s before", [1] * 5 + [3] * 100 + [3 + 9.45 * i for i in range(1, 21)] + [192] * 20,
              "not over 190 MiB"))
    for name, mib, want_why in cases:
        ok = name == cases[0][0]
        path = os.path.join(d, "hand.csv")
        write_memlog(path, mib + [1] * 10)
        hs = stats_json(path, "--top", str(ALL_JUMPS))
        parts, why = allocation_rise(hs, rows(path))
        check((parts is not None) == ok and want_why in why and (not ok or hs["jumps"][0]["bytes"] < 190 * MIB),
              "allocation_rise, %s: %s (%s)" % (name, "accepted" if ok else "refused", why))

    # 2. Children, grandchildren and a double-forked orphan all count.
    out = os.path.join(d, "tree.csv")
    p = memlog(out, "--interval", "10ms", "--", MEMHOG, "tree", "3", "30", "800")
    check(p.returncode == 0, "tree: exit status 0")
    r = rows(out)
    check(max(int(x["procs"]) for x in r) >= 8, "tree: 1 + 3 children + 3 grandchildren + 1 orphan seen")
    check(max(int(x["rss_bytes"]) for x in r) >= 7 * 30 * MIB * 0.95, "tree: memory of all 7 allocating processes")

    # 3. Exit status and signals pass through.
    out = os.path.join(d, "x.csv")
    check(memlog(out, "--", "sh", "-c", "exit 7").returncode == 7, "exit status 7 passed through")
    check(memlog(out, "--", "sh", "-c", "kill -TERM $$").returncode == 143, "killed by SIGTERM: 128+15")
    p = memlog(os.path.join(d, "nf.csv"), "--", os.path.join(d, "no-such-command"))
    check(p.returncode == 127, "command not found: 127")
    check(b"cannot run" in p.stderr and b"No such file or directory" in p.stderr, "command not found: says why")
    check(not os.path.exists(os.path.join(d, "nf.csv")) and not os.path.exists(os.path.join(d, "nf.log.csv")),
          "command not found: no CSV left behind")
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        out = os.path.join(d, "sig.csv")
        proc = subprocess.Popen([MEMTK, "memlog", "-q", "-o", out, "--interval", "5ms", "--", MEMHOG, "sleep", "20000"])
        time.sleep(0.5)
        t0 = time.time()
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        check(rc == code and time.time() - t0 < 3, "%s to memtk is forwarded: exit %d" % (sig.name, rc))
        with open(out, "rb") as f:
            data = f.read()
        check(data.endswith(b"\n") and len(rows(out)) > 20, "%s: CSV closed cleanly" % sig.name)

    # 4. Output lines: passed through exactly, logged in order with timestamps.
    out = os.path.join(d, "lines.csv")
    p = memlog(out, "--", MEMHOG, "lines", "40")
    expect_out = b"".join(b'line %d, "quoted"\n' % i for i in range(0, 40, 2)) + \
        b"nul\0byte\rprogress\r\nlast-without-newline"
    expect_err = b"".join(b'line %d, "quoted"\n' % i for i in range(1, 40, 2))
    check(p.stdout == expect_out, "lines: stdout byte for byte")
    check(p.stderr == expect_err, "lines: stderr byte for byte")
    log = rows(os.path.join(d, "lines.log.csv"))
    texts = [x["line"] for x in log]
    check(texts[:40] == ['line %d, "quoted"' % i for i in range(40)], "lines: 40 lines in order")
    check(texts[40:] == ["nul\0byte", "progress", "last-without-newline"], "lines: CR, CRLF, no final newline")
    check([x["stream"] for x in log[:4]] == ["stdout", "stderr", "stdout", "stderr"], "lines: streams recorded")
    el = [float(x["elapsed_s"]) for x in log]
    check(all(b >= a for a, b in zip(el, el[1:])) and el[39] - el[0] > 0.15, "lines: timestamps in order")

    # 5. --mark from another process while recording.
    out = os.path.join(d, "mark.csv")
    proc = subprocess.Popen([MEMTK, "memlog", "-q", "-o", out, "--", MEMHOG, "sleep", "1200"])
    time.sleep(0.6)
    m = subprocess.run([MEMTK, "memlog", "--mark", "epoch 2, \"warm\"", "--into", out], capture_output=True)
    check(m.returncode == 0, "mark: exit 0")
    check(proc.wait(timeout=10) == 0, "mark: recording ends normally")
    log = rows(os.path.join(d, "mark.log.csv"))
    marks = [x for x in log if x["stream"] == "mark"]
    check(len(marks) == 1 and marks[0]["line"] == 'epoch 2, "warm"', "mark: one mark row with the text")
    check(marks and 0.4 < float(marks[0]["elapsed_s"]) < 1.2, "mark: elapsed on the recording's clock")
    check(stats_json(out)["marks_total"] == 1, "mark: stats counts it")
    m = subprocess.run([MEMTK, "memlog", "--mark", "x", "--into", os.path.join(d, "none.csv")], capture_output=True,
                       text=True)
    check(m.returncode == 1 and m.stderr == "memtk memlog: %s: No such file or directory\n" % os.path.join(d, "none.csv"),
          "mark: into a missing recording is one error line")

    # 6. --pid: attach to a running process; stop when it exits.
    out = os.path.join(d, "pid.csv")
    target = subprocess.Popen([MEMHOG, "alloc", "50", "300", "100"], stdout=subprocess.DEVNULL)
    p = memlog(out, "--pid", str(target.pid), "--interval", "10ms")
    target.wait()
    check(p.returncode == 0, "pid: exit 0 when the process ends")
    check(max(int(x["rss_bytes"]) for x in rows(out)) >= 50 * MIB, "pid: its 50 MiB seen")
    target = subprocess.Popen([MEMHOG, "tree", "2", "20", "600"])
    p = memlog(out, "--pid", str(target.pid), "--children", "--interval", "10ms")
    target.wait()
    r = rows(out)
    check(p.returncode == 0 and max(int(x["procs"]) for x in r) >= 5, "pid --children: its descendants counted")
    hwm_ok = all(int(x["hwm_bytes"]) >= int(x["rss_bytes"]) for x in r)
    check(hwm_ok, "pid --children: hwm_bytes never below rss_bytes")

    # 7. The machine, for a fixed duration.
    out = os.path.join(d, "machine.csv")
    t0 = time.time()
    p = memlog(out, "--interval", "50ms", "--duration", "0.5s", "--machine")
    r = rows(out)
    check(p.returncode == 0 and 0.4 < time.time() - t0 < 5, "machine: --duration stops it")
    check("used_bytes" in r[0] and len(r) >= 8 and int(r[0]["used_bytes"]) > 0, "machine: used_bytes sampled")
    late = [x for x in r if float(x["elapsed_s"]) >= 0.1]
    check(r[0]["cpu_percent"] == "" and late and all(x["cpu_percent"] != "" and float(x["cpu_percent"]) >= 0
                                                     for x in late), "machine: cpu_percent from 100 ms on")
    # Issue #17: no target no longer means the machine, silently, until Ctrl-C.
    p = subprocess.run([MEMTK, "memlog", "-o", os.path.join(d, "none.csv"), "--duration", "0.2s"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "--machine" in p.stderr and not os.path.exists(os.path.join(d, "none.csv")),
          "no command, no --pid, no --machine: usage error naming --machine: %r" % p.stderr)
    # -o - used to create files named "-" and "-.log.csv".
    p = subprocess.run([MEMTK, "memlog", "-o", "-", "--", MEMHOG, "sleep", "10"], capture_output=True, text=True,
                       timeout=60, cwd=d)
    check(p.returncode == 2 and "-o - (stdout) is not supported" in p.stderr and
          not os.path.exists(os.path.join(d, "-")) and not os.path.exists(os.path.join(d, "-.log.csv")),
          "-o -: refused, no files named '-': %r" % p.stderr)

    # Issue #17: the sample after the command exited is not a 0 B row, and
    # cpu_percent sees a busy loop (% of one core, summed over the tree).
    out = os.path.join(d, "exit.csv")
    busy = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = memlog(out, "--interval", "20ms", "--", "sh", "-c", busy)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of memtk and the shell together (memtk reaps the shell).
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    r = rows(out)
    check(p.returncode == 0 and len(r) >= 5, "busy loop recorded (%d rows)" % len(r))
    check(all(int(x["procs"]) >= 1 and int(x["rss_bytes"]) > 0 for x in r),
          "no row of an empty tree (0 B) after the command exited: last %s" % (r[-1] if r else None))
    # cpu_percent integrated over time is the loop's CPU time: at most what
    # memtk and the shell used together, and most of it (a shared machine
    # may give the loop a small share of a core, so no absolute threshold).
    t = [float(x["elapsed_s"]) for x in r]
    integral = sum(float(x["cpu_percent"]) / 100 * (t[i] - t[i - 1]) for i, x in enumerate(r) if i and x["cpu_percent"])
    check(r[0]["cpu_percent"] == "" and 0.5 * used - 0.05 <= integral <= 1.1 * used + 0.05,
          "cpu_percent of a busy shell loop integrates to its CPU time: %.2f s of %.2f s" % (integral, used))
    s = stats_json(out)
    check(s["end_bytes"] > 0 and s["min_bytes"] > 0, "stats: end and lowest are not 0 B")

    # --plot: record and draw in one command, with render-png's options.
    out, png = os.path.join(d, "plot.csv"), os.path.join(d, "plot.png")
    p = subprocess.run([MEMTK, "memlog", "-o", out, "--plot", png, "--width", "640", "--height", "360", "--column",
                        "rss_bytes,cpu_percent", "--interval", "10ms", "--", MEMHOG, "alloc", "50", "200", "100"],
                       capture_output=True, text=True, timeout=60)
    head = open(png, "rb").read(24) if os.path.exists(png) else b""
    check(p.returncode == 0 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[16:24] == (640).to_bytes(4, "big") +
          (360).to_bytes(4, "big") and ("%s: " % png) in p.stderr, "--plot: a 640x360 PNG beside the CSV: %r" % p.stderr)
    p = subprocess.run([MEMTK, "memlog", "-o", out, "--plot", png, "--column", "no_such", "--", MEMHOG, "sleep", "10"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "--plot:" in p.stderr and "no_such" in p.stderr and len(rows(out)) >= 1,
          "--plot with a bad column: the recording stands, the error is named, exit 1: %r" % p.stderr)

    # 8. kill -9 of memtk loses at most the row being written.
    out = os.path.join(d, "k9.csv")
    proc = subprocess.Popen([MEMTK, "memlog", "-q", "-o", out, "--interval", "1ms", "--", MEMHOG, "sleep", "5000"])
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    s = subprocess.run([MEMTK, "stats", out, "--json"], capture_output=True, text=True)
    check(s.returncode == 0 and json.loads(s.stdout)["samples"] > 100, "kill -9: the CSV still reads")

    # 9. Issue #16: when memtk is killed, the command does not live on writing
    # into a pipe nobody reads: it gets SIGTERM.
    pidfile = os.path.join(d, "child.pid")
    proc = subprocess.Popen([MEMTK, "memlog", "-q", "-o", os.path.join(d, "orphan.csv"), "--", "sh", "-c",
                             "echo $$ > %s; exec %s sleep 20000" % (pidfile, MEMHOG)])
    deadline = time.time() + 10
    while not (os.path.exists(pidfile) and open(pidfile).read().strip()) and time.time() < deadline:
        time.sleep(0.01)
    child = int(open(pidfile).read())
    proc.kill()
    proc.wait()
    gone = False
    for _ in range(300):
        try:
            os.kill(child, 0)
            with open("/proc/%d/stat" % child) as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    gone = True
                    break
        except (ProcessLookupError, FileNotFoundError):
            gone = True
            break
        time.sleep(0.01)
    if not gone:
        os.kill(child, signal.SIGKILL)
    check(gone, "kill -9 of memtk: the command ends with it (no writer into a closed pipe)")

    # 10. Descendants that outlive the command are reported.
    out = os.path.join(d, "outlive.csv")
    p = subprocess.run([MEMTK, "memlog", "-q", "-o", out, "--", "sh", "-c", "%s sleep 1500 & exit 0" % MEMHOG],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "1 processes started by the command outlived it" in p.stderr and
          "(memhog)" in p.stderr, "a descendant outliving the command is named: %r" % p.stderr)

    # 11. A full disk while recording: the command runs to its end, then memlog
    # says so and exits non-zero. A 16 KiB tmpfs where root may mount one;
    # else a FIFO whose reader goes away (EPIPE: the same write error path).
    mnt = os.path.join(d, "small")
    os.mkdir(mnt)
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt],
                                                   capture_output=True).returncode == 0
    try:
        if mounted:
            out = os.path.join(mnt, "full.csv")
            # 16 KiB hold ~150 rows: 3 s at 1 ms fill it even on a loaded machine.
            p = subprocess.run([MEMTK, "memlog", "-q", "--no-gpu", "--interval", "1ms", "-o", out, "--", MEMHOG,
                                "sleep", "3000"], capture_output=True, text=True, timeout=60)
            what = "full disk (tmpfs)"
            want = "No space left on device"
        else:
            out = os.path.join(d, "fifo.csv")
            os.mkfifo(out)
            proc = subprocess.Popen([MEMTK, "memlog", "-q", "--no-gpu", "--interval", "1ms", "-o", out, "--", MEMHOG,
                                     "sleep", "1500"], stderr=subprocess.PIPE, text=True)
            with open(out, "rb") as f:
                f.read(4096)
            stderr = proc.communicate(timeout=60)[1]
            p = subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr)
            what = "unwritable CSV (FIFO closed)"
            want = "Broken pipe"
        check(p.returncode == 1 and ("%s: %s" % (out, want)) in p.stderr and "recording stopped" in p.stderr,
              "%s: exit 1 with a message naming the file after the command ends: %r" % (what, p.stderr))
    finally:
        if mounted:
            subprocess.run(["umount", mnt])

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all passed")
