#!/usr/bin/env python3
"""Interrupted runs leave nothing (issue #16).

Sends SIGINT, SIGTERM and SIGHUP to memtk in the middle of `convert` (every
--to, the snapviewer bundle as a directory and as a zip, several inputs into
a directory it makes, with its missing parents), of `query`'s cache
conversion (also into -o DIR/ with missing parents) and of `render-png`, and checks that the output folder is empty
afterwards and that memtk died by the signal (a shell shows 130/143/129).

"In the middle" is made deterministic where it can be: the snapshot is fed
through stdin, half of it first, and the signal is sent once memtk's temp
file exists, while it waits for the rest. Outputs that are only created
after the whole input is read (the SnapViewer bundle, the PNG, query's
cache, which must hash a file first) are interrupted as soon as their temp
file appears; a run that finishes first is retried.

usage: interrupt_cli.py MEMTK
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "scripts", "gen_snapshot.py")
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def entries(d):
    out = []
    for dirpath, dirs, files in os.walk(d):
        out += [os.path.relpath(os.path.join(dirpath, x), d) for x in dirs + files]
    return sorted(out)


def interrupt(memtk, args, watch, sig, stdin_data=None, tries=5, after=None):
    """Runs memtk ARGS, sends SIG once something appears under WATCH (or,
    with AFTER, that many seconds after start). Returns (returncode,
    leftovers, seconds from start to signal)."""
    for attempt in range(tries):
        p = subprocess.Popen([memtk] + args, stdin=subprocess.PIPE if stdin_data else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        feeder = None
        released = threading.Event()
        if stdin_data:
            def feed():
                try:
                    half = len(stdin_data) // 2
                    p.stdin.write(stdin_data[:half])
                    p.stdin.flush()
                    released.wait(30)
                    p.stdin.write(stdin_data[half:])
                    p.stdin.close()
                except (BrokenPipeError, ValueError):
                    pass
            feeder = threading.Thread(target=feed)
            feeder.start()
        start = time.monotonic()
        sent = None
        while p.poll() is None and time.monotonic() - start < 60:
            if (after is None and entries(watch)) or (after is not None and time.monotonic() - start >= after):
                p.send_signal(sig)
                sent = time.monotonic() - start
                break
            time.sleep(0.002)
        released.set()
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        if feeder:
            feeder.join()
        p.stderr.close()
        if rc == 0:
            # Finished before the signal landed: nothing was interrupted.
            for x in entries(watch):
                path = os.path.join(watch, x)
                if os.path.isfile(path):
                    os.remove(path)
            for x in reversed(entries(watch)):
                os.rmdir(os.path.join(watch, x))
            continue
        return rc, entries(watch), sent
    raise RuntimeError("memtk %s finished every time before it could be interrupted" % args)


def main():
    memtk = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        snap = os.path.join(tmp, "big.pickle")
        # ~2.7 MB, 30,000 events: reading takes a fraction of a second, the
        # SnapViewer bundle (~70 MB of allocations.json) noticeably longer.
        subprocess.check_call([sys.executable, GEN, "-n", "30000", "--seed", "16", "-o", snap])
        data = open(snap, "rb").read()
        with open(snap + ".copy", "wb") as f:
            f.write(data)
        cases = [
            ("convert --to db", ["convert", "-", "-o", "{out}/x.db"], True),
            ("convert --to json", ["convert", "-", "--to", "json", "-o", "{out}/x.json.gz"], True),
            # chrome-trace reads its input twice, so not from stdin.
            ("convert --to chrome-trace", ["convert", snap, "--to", "chrome-trace", "-o", "{out}/x.trace.json"], False),
            ("convert --to snapviewer (zip)", ["convert", snap, "--to", "snapviewer", "-o", "{out}/x.zip"], False),
            ("convert --to snapviewer (dir)", ["convert", snap, "--to", "snapviewer", "-o", "{out}/bundle"], False),
            ("query (cache conversion)", ["query", "--cache-dir", "{out}/cache", "--at-peak", snap], False),
            # Several inputs into a directory convert makes: it goes too.
            ("convert several -o DIR", ["convert", snap, snap + ".copy", "-o", "{out}/dir"], False),
            # -o DIR/ with missing parents: every level made goes.
            ("convert several -o DIR/A/B/", ["convert", snap, snap + ".copy", "-o", "{out}/dir/a/b/"], False),
            ("query -o DIR/A/ (cache)",
             ["query", "--cache-dir", "{out}/cache", "--at-peak", snap, "-o", "{out}/q/a/"], False),
            # render-png creates its file only to write the encoded PNG at the
            # end (a window of microseconds): it is interrupted while it waits
            # for the second half of its input.
            ("render-png", ["render-png", "-", "-o", "{out}/x.png"], "after"),
        ]
        for name, args, via_stdin in cases:
            for sig in SIGNALS:
                out = tempfile.mkdtemp(dir=tmp)
                argv = [a.replace("{out}", out) for a in args]
                rc, left, sent = interrupt(memtk, argv, out, sig, data if via_stdin else None,
                                           after=0.3 if via_stdin == "after" else None)
                # The cache directory itself may stay (it is the user's cache).
                left = [x for x in left if x != "cache"]
                size = sum(os.path.getsize(os.path.join(out, x)) for x in left if os.path.isfile(os.path.join(out, x)))
                ok = rc == -sig and not left
                shell_rc = 128 + sig if rc < 0 and -rc == sig else rc
                print("%-32s %-8s signal at %s: exit %s (shell: %s), left %s (%d bytes) -> %s" %
                      (name, signal.Signals(sig).name, "%.3f s" % sent if sent is not None else "end", rc, shell_rc,
                       left or "nothing", size, "ok" if ok else "FAIL"))
                failures += not ok
        # Not a signal: every input failing leaves no empty output directory.
        out = tempfile.mkdtemp(dir=tmp)
        p = subprocess.run([memtk, "convert", os.path.join(ROOT, "data", "evil.pickle"),
                            os.path.join(ROOT, "data", "truncated.pickle"), "-o", out + "/dir"], capture_output=True)
        ok = p.returncode == 1 and not entries(out)
        print("%-32s exit %d, left %s -> %s" % ("convert several, all failing", p.returncode, entries(out) or "nothing",
                                               "ok" if ok else "FAIL"))
        failures += not ok
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
