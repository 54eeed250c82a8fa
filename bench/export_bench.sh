#!/usr/bin/env bash
# convert --to snapviewer|json|chrome-trace benchmark (issue #6): wall time,
# peak RSS and output rate, medians of RUNS.
#
#  1. SnapViewer bundle of a generated 100,000-event snapshot with ~5,000
#     live allocations (allocations.json of several GB): directory and .zip.
#  2. Beside it, in the same run, the same bundle from a 20,000-event /
#     1,000-live snapshot by memtk and by the Python reference of
#     tests/exports.py (pickle.load + convert_snap.py's algorithm + json.dumps),
#     the baseline: convert_snap.py itself does the same work plus orjson.
#  3. --to json (.gz) and --to chrome-trace of SNAPSHOT_2M if given.
#
# usage: bench/export_bench.sh MEMTK RUNS [SNAPSHOT_2M.pickle]
# Outputs go to $OUT_DIR (default /dev/shm, so the disk is not what is timed).
set -euo pipefail
memtk=$(realpath "$1"); runs=$2; big=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT_DIR:-/dev/shm}/memtk-export-bench
mkdir -p "$out"
t() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s100k=/tmp/memtk-bench-sv100k.pickle; s20k=/tmp/memtk-bench-sv20k.pickle
[ -f $s100k ] || python3 "$root/scripts/gen_snapshot.py" -n 100000 --live 5000 -o $s100k
[ -f $s20k ] || python3 "$root/scripts/gen_snapshot.py" -n 20000 --live 1000 -o $s20k

report() {  # name file-with-"secs kb"-lines bytes
  local s kb
  s=$(cut -d' ' -f1 "$2" | median); kb=$(cut -d' ' -f2 "$2" | median)
  printf '%-44s %7s s  %5s MB RSS  %6s MB out  %5s MB/s\n' "$1" "$s" $((kb / 1024)) $(($3 / 1000000)) \
    "$(awk -v b="$3" -v s="$s" 'BEGIN {printf "%.0f", b / 1e6 / s}')"
}

: > "$out/dir"; : > "$out/zip"; : > "$out/zip0"; : > "$out/m20"; : > "$out/p20"
for _ in $(seq "$runs"); do
  rm -rf "$out/b100k" "$out/b100k.zip" "$out/b100k0.zip"
  t "$memtk" convert -q $s100k --to snapviewer -o "$out/b100k" >> "$out/dir"
  t "$memtk" convert -q $s100k --to snapviewer -o "$out/b100k.zip" >> "$out/zip"
  t "$memtk" convert -q $s100k --to snapviewer --zip-level 0 -o "$out/b100k0.zip" >> "$out/zip0"
  rm -f "$out/b100k0.zip"
  t "$memtk" convert -q $s20k --to snapviewer -o "$out/b20k" >> "$out/m20"
  t python3 -c '
import json, pickle, sys
sys.path.insert(0, sys.argv[1] + "/tests")
import exports
snap = pickle.load(open(sys.argv[2], "rb"))
entries, _ = exports.snapviewer_model(snap["device_traces"][0])
open(sys.argv[3], "w").write(json.dumps(entries, separators=(",", ":")))' "$root" $s20k "$out/py20k.json" >> "$out/p20"
done
cmp -s "$out/py20k.json" "$out/b20k/allocations.json" || { echo "Python and memtk disagree on $s20k" >&2; exit 1; }
json_bytes=$(stat -c %s "$out/b100k/allocations.json")
echo "100,000 events / 5,000 live: allocations.json $json_bytes bytes, elements.db $(stat -c %s "$out/b100k/elements.db") bytes"
report "snapviewer 100k -> directory" "$out/dir" "$json_bytes"
report "snapviewer 100k -> .zip ($(($(stat -c %s "$out/b100k.zip") / 1000000)) MB)" "$out/zip" "$json_bytes"
report "snapviewer 100k -> .zip, --zip-level 0" "$out/zip0" "$json_bytes"
b20=$(stat -c %s "$out/b20k/allocations.json")
report "snapviewer 20k -> directory (memtk)" "$out/m20" "$b20"
report "snapviewer 20k, Python reference" "$out/p20" "$b20"

if [ -n "$big" ]; then
  : > "$out/json"; : > "$out/ct"
  for _ in $(seq "$runs"); do
    t "$memtk" convert -q "$big" --to json -o "$out/big.json.gz" >> "$out/json"
    t "$memtk" convert -q "$big" --to chrome-trace -o "$out/big.trace.json" >> "$out/ct"
  done
  raw=$(gzip -dc "$out/big.json.gz" | wc -c)
  report "json.gz of $(basename "$big") ($(($(stat -c %s "$out/big.json.gz") / 1000000)) MB gz)" "$out/json" "$raw"
  report "chrome-trace of $(basename "$big")" "$out/ct" "$(stat -c %s "$out/big.trace.json")"
fi
rm -rf "$out"
