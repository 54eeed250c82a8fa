#!/usr/bin/env bash
# `memtk query` in pipes: a reader that stops early (`| head`) ends the query
# quietly with status 0, whether SIGPIPE is default or ignored by the parent;
# a query of many rows streams (memory stays flat).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$MEMTK" convert -q "$root/data/sample.pickle" -o "$tmp/s.db"
# 3000 events x 3000 = 9M rows: far more than head reads.
sql='SELECT a.id, b.id FROM events a, events b'
set +o pipefail
"$MEMTK" query "$tmp/s.db" --sql "$sql" 2> "$tmp/err1" | head -n 2 > "$tmp/out1"
status=${PIPESTATUS[0]}
set -o pipefail
[ "$(wc -l < "$tmp/out1")" -eq 2 ] || { echo "FAIL: expected 2 lines"; exit 1; }
[ ! -s "$tmp/err1" ] || { echo "FAIL: stderr not empty: $(cat "$tmp/err1")"; exit 1; }
[ "$status" -eq 0 ] || { echo "FAIL: exit status $status after the pipe closed"; exit 1; }
# Same with SIGPIPE ignored by the parent (as Python's subprocess does).
python3 - "$MEMTK" "$tmp/s.db" "$sql" <<'PY'
import signal, subprocess, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
p = subprocess.Popen([sys.argv[1], "query", sys.argv[2], "--sql", sys.argv[3], "--format", "json"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, restore_signals=False)
p.stdout.readline()
p.stdout.close()
err = p.stderr.read()
rc = p.wait()
if rc != 0 or err:
    sys.exit("FAIL: ignored SIGPIPE: exit %d, stderr %r" % (rc, err))
PY
# Streaming: 9M CSV rows through wc, peak RSS well under what buffering would take.
/usr/bin/time -f "%M" -o "$tmp/rss" "$MEMTK" query "$tmp/s.db" --sql "$sql" | wc -l > "$tmp/n"
[ "$(cat "$tmp/n")" -eq 9000001 ] || { echo "FAIL: row count $(cat "$tmp/n")"; exit 1; }
rss=$(tail -n 1 "$tmp/rss")
[ "$rss" -lt 65536 ] || { echo "FAIL: peak RSS ${rss} KB for a streamed query"; exit 1; }
echo "ok: pipes close cleanly; 9M rows streamed in ${rss} KB peak RSS"
