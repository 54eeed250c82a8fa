#!/usr/bin/env bash
# memlog benchmarks (issue #3). Not a test: prints figures for docs/BENCHMARKS.md.
#
#   1. Sampling cost: memtk's own CPU time while it samples a tree of 10
#      processes every 10 ms for CPU_SECONDS (default 60), attached with --pid
#      so that /usr/bin/time measures memtk alone.
#   2. Heap allocations (heaptrack) while sampling for 1 s and for 10 s at 1 ms
#      (about 10^3 and 10^4 rows), and while `stats` reads 10^4 and 10^7 rows.
#   3. `stats` throughput on a ~1 GB memlog CSV (scripts/gen_memlog.py, 10^7
#      rows), REPEAT times (default 5) interleaved with `cat FILE > /dev/null`
#      as the read-only baseline; medians.
#
# usage: bench/memlog_bench.sh [BUILD_DIR]     env: CPU_SECONDS, REPEAT, SKIP_HEAPTRACK
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
MEMTK="$BUILD/apps/memtk"
CPU_SECONDS="${CPU_SECONDS:-60}"
REPEAT="${REPEAT:-5}"
TMP="${TMPDIR:-/tmp}/memtk-memlog-bench"
mkdir -p "$TMP"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "== 1. sampling cost: 10 processes, every 10 ms, ${CPU_SECONDS} s"
sh -c 'for i in 1 2 3 4 5 6 7 8 9; do sleep 100000 & done; wait' &
TREE=$!
sleep 0.5
for detail in "" "--detail"; do
  /usr/bin/time -f "%e %U %S" -o "$TMP/time.txt" \
    "$MEMTK" memlog -q --no-gpu -o "$TMP/cpu.csv" --pid "$TREE" --children --interval 10ms \
    --duration "${CPU_SECONDS}s" $detail
  read -r wall user sys < "$TMP/time.txt"
  rows=$(($(wc -l < "$TMP/cpu.csv") - 1))
  col=$(head -1 "$TMP/cpu.csv" | tr , '\n' | grep -n '^procs$' | cut -d: -f1)
  procs=$(tail -1 "$TMP/cpu.csv" | cut -d, -f"$col")
  awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rows" -v p="$procs" -v d="${detail:-(default)}" 'BEGIN {
    printf "  %-10s %d rows, %s processes: wall %.1f s, user %.2f s, sys %.2f s = %.2f%% of one core\n",
      d, r, p, w, u, s, 100 * (u + s) / w }'
done
pkill -P "$TREE" sleep || true
kill "$TREE" 2>/dev/null || true

if [ -z "${SKIP_HEAPTRACK:-}" ] && command -v heaptrack > /dev/null; then
  echo "== 2. heap allocations (heaptrack)"
  allocs() {  # heaptrack CMD... -> number of calls to allocation functions
    rm -f "$TMP"/heap.*
    heaptrack -o "$TMP/heap" "$@" > /dev/null 2>&1 || true
    heaptrack_print -f "$TMP"/heap.* 2>/dev/null | awk '/^calls to allocation functions:/ {print $5}'
  }
  sleep 100000 &
  TARGET=$!
  for secs in 1 10; do
    n=$(allocs "$MEMTK" memlog -q --no-gpu -o "$TMP/sampled.csv" --pid "$TARGET" --interval 1ms --duration "${secs}s")
    echo "  memlog sampling ${secs} s at 1 ms: $(($(wc -l < "$TMP/sampled.csv") - 1)) rows, $n allocations"
  done
  kill "$TARGET"
  for rows in 10000 10000000; do
    csv="$TMP/rows-$rows.csv"
    [ -f "$csv" ] || python3 "$ROOT/scripts/gen_memlog.py" "$csv" --rows "$rows" --interval 0.01 --no-log
    n=$(allocs "$MEMTK" stats "$csv")
    echo "  stats of $rows rows ($(du -m "$csv" | cut -f1) MB): $n allocations"
  done
fi

echo "== 3. stats throughput"
CSV="$TMP/rows-10000000.csv"
[ -f "$CSV" ] || python3 "$ROOT/scripts/gen_memlog.py" "$CSV" --rows 10000000 --interval 0.01 --no-log
BYTES=$(stat -c %s "$CSV")
cat "$CSV" > /dev/null
: > "$TMP/stats.txt"
: > "$TMP/cat.txt"
for _ in $(seq "$REPEAT"); do
  /usr/bin/time -f "%e %M" -a -o "$TMP/cat.txt" cat "$CSV" > /dev/null
  /usr/bin/time -f "%e %M" -a -o "$TMP/stats.txt" "$MEMTK" stats "$CSV" > /dev/null
done
cat_s=$(cut -d' ' -f1 "$TMP/cat.txt" | median)
stats_s=$(cut -d' ' -f1 "$TMP/stats.txt" | median)
rss=$(cut -d' ' -f2 "$TMP/stats.txt" | median)
awk -v b="$BYTES" -v s="$stats_s" -v c="$cat_s" -v m="$rss" 'BEGIN {
  printf "  %.0f MB: stats median %.2f s = %.0f MB/s (peak RSS %.1f MB); cat median %.2f s = %.0f MB/s\n",
    b / 1e6, s, b / 1e6 / s, m / 1024, c, b / 1e6 / c }'
