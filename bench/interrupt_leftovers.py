#!/usr/bin/env python3
"""Bytes left behind when `memtk convert` is interrupted (issue #16).

Converts SNAPSHOT with each MEMTK binary to a snapviewer .zip, JSON and a
database, sends SIGINT after a fixed delay and reports what is left in the
output folder. Compare an old build with a new one in the same minute.

usage: interrupt_leftovers.py SNAPSHOT MEMTK [MEMTK ...]
  e.g. python3 scripts/gen_snapshot.py -n 200000 -o /tmp/b200k.pickle
       bench/interrupt_leftovers.py /tmp/b200k.pickle old/memtk build/apps/memtk
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

snap = sys.argv[1]
for b in sys.argv[2:]:
    for name, args, delay in [("snapviewer zip", ["--to", "snapviewer", "-o", "X/x.zip"], 6.0),
                              ("json", ["--to", "json", "-o", "X/x.json"], 2.0),
                              ("db", ["-o", "X/x.db"], 0.4)]:
        d = tempfile.mkdtemp()
        p = subprocess.Popen([b, "convert", snap] + [a.replace("X", d) for a in args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        rc = p.wait()
        left = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print("%s %-15s SIGINT after %.1f s: exit %d, left %d bytes in %d files" %
              (b, name, delay, rc, left, len(os.listdir(d))))
        shutil.rmtree(d)
