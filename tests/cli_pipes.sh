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

# The query cache (issue #16): --no-cache leaves nothing anywhere; the cache
# keeps to its bound, least recently used first.
mkdir "$tmp/snaps" "$tmp/cache" "$tmp/tmpdir"
for s in sample small legacy; do cp "$root/data/$s.pickle" "$tmp/snaps/"; done
TMPDIR="$tmp/tmpdir" XDG_CACHE_HOME="$tmp/xdg" "$MEMTK" query --no-cache --at-peak "$tmp/snaps/sample.pickle" > /dev/null
left=$(ls -A "$tmp/snaps" "$tmp/tmpdir" | grep -v -e '\.pickle$' -e '^$' -e ':$' || true)
[ -z "$left" ] && [ ! -e "$tmp/xdg" ] || { echo "FAIL: --no-cache left: $left $(ls -A "$tmp/xdg" 2>/dev/null)"; exit 1; }
for s in sample small legacy; do
  "$MEMTK" query --cache-dir "$tmp/cache" --sql 'SELECT 1' "$tmp/snaps/$s.pickle" > /dev/null
  sleep 0.01
done
[ "$(ls "$tmp/cache" | wc -l)" -eq 3 ] || { echo "FAIL: expected 3 cached databases"; ls -l "$tmp/cache"; exit 1; }
# Used in the order sample, small, legacy, sample: small is now the least
# recently used, so a bound of sample + legacy evicts just small.
"$MEMTK" query --cache-dir "$tmp/cache" --sql 'SELECT 1' "$tmp/snaps/sample.pickle" > /dev/null
bound=$(( $(stat -c %s "$tmp/cache"/sample-*.db) + $(stat -c %s "$tmp/cache"/legacy-*.db) ))
MEMTK_CACHE_MAX=$bound "$MEMTK" query --cache-dir "$tmp/cache" --sql 'SELECT 1' "$tmp/snaps/legacy.pickle" > /dev/null
cached=$(cd "$tmp/cache" && ls | sed 's/-.*//' | sort | tr '\n' ' ')
[ "$cached" = "legacy sample " ] || { echo "FAIL: after eviction: $cached"; exit 1; }
"$MEMTK" query --cache-dir "$tmp/cache" --cache-max 0 --sql 'SELECT 1' "$tmp/snaps/small.pickle" > /dev/null
cached=$(cd "$tmp/cache" && ls | sed 's/-.*//' | tr '\n' ' ')
[ "$cached" = "small " ] || { echo "FAIL: --cache-max 0 kept: $cached"; exit 1; }
echo "ok: --no-cache leaves nothing; the cache keeps to --cache-max / MEMTK_CACHE_MAX, LRU first"
