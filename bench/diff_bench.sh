#!/usr/bin/env bash
# `memtk diff` and several-input `memtk stats` (issue #19), interleaved runs,
# medians of REPEAT (default 5):
#   1. diff of two N-event generated pickles (same frames, more live
#      allocations in NEW) against one `stats` of BASE: wall and max RSS;
#      beside them, what bounds the ratio on a small machine: that `stats`
#      pinned to one core, and `stats BASE` and `stats NEW` run side by side
#      (the same two reads diff makes, as two processes);
#   2. with N_BIG set (e.g. 20000000): the same diff at N_BIG events, its RSS
#      against the N-event pair's;
#   3. `stats -j 2` of 8 inputs (M events each, seeds 1-8) against the sum of
#      the 8 single `stats` runs.
# usage: diff_bench.sh [N] [M]      env: N_BIG, REPEAT, MEMTK
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
memtk=${MEMTK:-$root/build/apps/memtk}
n=${1:-2000000}
m=${2:-200000}
dir=${BENCH_DIR:-/tmp/memtk-diff-bench}
mkdir -p "$dir"
gen() { [ -f "$1" ] || python3 "$root/scripts/gen_snapshot.py" -o "$1" "${@:2}"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "wall_s max_rss_kb cpu_s" (cpu = user + sys: what a shared machine's load does not inflate).
timed() { { /usr/bin/time -f "%e %M %U %S" "$@" > /dev/null; } 2>&1 | tail -1 | awk '{print $1, $2, $3 + $4}'; }

pair() {  # events -> "diff_s diff_kb diff_cpu stats_s stats_kb stats_cpu one_core_s side_by_side_s"
  local k=$1 base="$dir/base-$1.pickle" new="$dir/new-$1.pickle"
  gen "$base" -n "$k"
  gen "$new" -n "$k" --live 260
  local dt=() dm=() dc=() st=() sm=() sc=() ot=() bt=() t mem cpu
  for ((i = 0; i < ${REPEAT:-5}; i++)); do
    read -r t mem cpu < <(timed "$memtk" diff "$base" "$new" --json)
    dt+=("$t"); dm+=("$mem"); dc+=("$cpu")
    read -r t mem cpu < <(timed "$memtk" stats --json "$base")
    st+=("$t"); sm+=("$mem"); sc+=("$cpu")
    if command -v taskset > /dev/null; then
      read -r t _ _ < <(timed taskset -c 0 "$memtk" stats --json "$base")
      ot+=("$t")
    fi
    read -r t _ _ < <(timed bash -c '"$0" stats --json "$1" & "$0" stats --json "$2"; wait' "$memtk" "$base" "$new")
    bt+=("$t")
  done
  med() { printf '%s\n' "$@" | median; }
  echo "$(med "${dt[@]}") $(med "${dm[@]}") $(med "${dc[@]}") $(med "${st[@]}") $(med "${sm[@]}") $(med "${sc[@]}")" \
       "$(med "${ot[@]:-0}") $(med "${bt[@]}")"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
read -r d_s d_kb d_c s_s s_kb s_c o_s b_s < <(pair "$n")
echo "diff $n events: ${d_s}s (cpu ${d_c}s) ${d_kb}KB RSS; stats of BASE: ${s_s}s (cpu ${s_c}s) ${s_kb}KB;" \
     "diff/stats wall $(echo "scale=2; $d_s / $s_s" | bc)x (target <= 1.2x, RSS <= 150 MB)"
# diff reads both inputs at once, one per core: on two cores it cannot beat
# the two reads as two processes, and one read on one core is what each
# costs there. stats' own speed-up from its second core bounds the ratio.
echo "stats of BASE on one core: ${o_s}s ($(echo "scale=2; $o_s / $s_s" | bc)x stats on $(nproc));" \
     "stats BASE and stats NEW side by side: ${b_s}s ($(echo "scale=2; $b_s / $s_s" | bc)x; diff/that $(echo "scale=2; $d_s / $b_s" | bc)x)"
if [ -n "${N_BIG:-}" ]; then
  read -r b_s b_kb _ _ _ _ _ _ < <(REPEAT=${REPEAT_BIG:-1} pair "$N_BIG")
  echo "diff $N_BIG events: ${b_s}s ${b_kb}KB RSS = $(echo "scale=2; $b_kb / $d_kb" | bc)x the $n pair (target <= 1.5x)"
fi

inputs=()
for s in 1 2 3 4 5 6 7 8; do
  gen "$dir/rank$s-$m.pickle" -n "$m" --seed "$s"
  inputs+=("$dir/rank$s-$m.pickle")
done
sums=(); multis=()
for ((i = 0; i < ${REPEAT:-5}; i++)); do
  total=0
  for f in "${inputs[@]}"; do
    read -r t _ _ < <(timed "$memtk" stats --json "$f")
    total=$(echo "$total + $t" | bc)
  done
  sums+=("$total")
  read -r t _ _ < <(timed "$memtk" stats --json -j 2 "${inputs[@]}")
  multis+=("$t")
done
su=$(printf '%s\n' "${sums[@]}" | median); mu=$(printf '%s\n' "${multis[@]}" | median)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "stats of 8 x $m events: -j 2 ${mu}s; 8 single runs ${su}s; ratio $(echo "scale=2; $mu / $su" | bc) (target <= 0.6)"
