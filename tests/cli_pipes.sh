#!/usr/bin/env bash
# memtk in pipes: a reader that stops early (`| head`) ends any command that
# writes to stdout quietly with status 0, whether SIGPIPE is default or
# ignored by the parent; a query of many rows streams (memory stays flat).
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
# Every command that writes to stdout ends the same way on a closed pipe (it
# used to die of SIGPIPE, 141, in convert and render-png): status 0, nothing
# on stderr, and a convert stops reading rather than decode on for nobody.
set +o pipefail
d="$root/data"
while IFS= read -r args; do
  # shellcheck disable=SC2086
  "$MEMTK" $args 2> "$tmp/err2" | head -c 10 > /dev/null
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] && [ ! -s "$tmp/err2" ] ||
    { echo "FAIL: memtk $args | head -c 10: exit $status, stderr: $(cat "$tmp/err2")"; exit 1; }
done <<EOF_CMDS
convert $d/sample.pickle --to json -o -
convert $d/sample.pickle --to chrome-trace -o -
convert $d/sample.pickle --to chrome-trace --with-stacks -o -
convert $d/sample.pickle $d/small.pickle $d/legacy.pickle -o $tmp/dbs/
render-png $d/sample.pickle -o - --width 4000 --height 3000
render-png $d/memlog/train.csv -o - --width 4000 --height 3000
stats $d/sample.pickle
stats $d/sample.pickle --json
stats $d/sample.pickle $d/small.pickle
diff $d/diff/base.pickle $d/diff/new.pickle
diff $d/diff/base.pickle $d/diff/new.pickle --format markdown
query $d/sample.pickle --cache-dir $tmp/cache1 --format folded
query $d/sample.pickle --cache-dir $tmp/cache1 --top 50
EOF_CMDS
set -o pipefail
python3 - "$MEMTK" "$root/data/sample.pickle" <<'PY'
import signal, subprocess, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
for args in (["convert", sys.argv[2], "--to", "json", "-o", "-"], ["render-png", sys.argv[2], "-o", "-"]):
    p = subprocess.Popen([sys.argv[1]] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, restore_signals=False)
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait()
    if rc != 0 or err:
        sys.exit("FAIL: %s with SIGPIPE ignored: exit %d, stderr %r" % (args[0], rc, err))
PY
echo "ok: convert, render-png, stats, diff and query end quietly with 0 when the reader closes the pipe"

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
