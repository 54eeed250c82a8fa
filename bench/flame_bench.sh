#!/usr/bin/env bash
# Flame outputs (issue #18) against `memtk stats` on the same file,
# interleaved: each round runs stats, folded at the peak, folded over every
# allocation, pprof and the flame picture once, so all see the same machine
# load. Prints medians of wall time, CPU time (user + sys) and peak RSS, and
# each command's wall and CPU as a multiple of stats'.
#
#   bench/flame_bench.sh MEMTK SNAPSHOT [REPEAT]
#   python3 scripts/gen_snapshot.py -n 2000000 -o /tmp/flame-2m.pickle   # the 2M-event input
set -euo pipefail
memtk=${1:?usage: flame_bench.sh MEMTK SNAPSHOT [REPEAT]}
in=${2:?usage: flame_bench.sh MEMTK SNAPSHOT [REPEAT]}
repeat=${3:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall seconds, CPU seconds, peak RSS in MB
timed() { { /usr/bin/time -f "%e %U %S %M" "$@" > /dev/null; } 2>&1 | tail -1 |
          awk '{printf "%s %.2f %.1f\n", $1, $2 + $3, $4 / 1024}'; }
names=(stats folded_peak folded_all pprof flame_png)
declare -A rows=()
for ((i = 0; i < repeat; i++)); do
  rows[stats]+="$(timed "$memtk" stats --json "$in");"
  rows[folded_peak]+="$(timed "$memtk" query "$in" --at-peak --format folded);"
  rows[folded_all]+="$(timed "$memtk" query "$in" --format folded);"
  rows[pprof]+="$(timed "$memtk" convert -q "$in" --to pprof -o "$out/p.pb.gz");"
  rows[flame_png]+="$(timed "$memtk" render-png "$in" --view flame -q -o "$out/f.png");"
done
echo "== $in ($(( $(stat -L -c %s "$in") / 1000000 )) MB), medians of $repeat"
sw=""; sc=""
for k in "${names[@]}"; do
  w=$(tr ';' '\n' <<< "${rows[$k]}" | awk 'NF {print $1}' | median)
  c=$(tr ';' '\n' <<< "${rows[$k]}" | awk 'NF {print $2}' | median)
  m=$(tr ';' '\n' <<< "${rows[$k]}" | awk 'NF {print $3}' | median)
  [ "$k" = stats ] && { sw=$w; sc=$c; }
  printf '  %-12s wall %6ss  cpu %6ss  rss %6s MB   %sx stats wall, %sx stats cpu\n' "$k" "$w" "$c" "$m" \
    "$(echo "scale=2; $w / $sw" | bc)" "$(echo "scale=2; $c / $sc" | bc)"
done
