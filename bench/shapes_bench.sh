#!/usr/bin/env bash
# Every figure of issue #20 on snapshots of several shapes, interleaved: for
# each input, REPEAT rounds (default 5) of Python's pickle.load, then for
# each build `bench_decode`, `memtk convert` and `memtk stats --json`, so all
# see the same machine load. Prints medians of wall time, CPU time
# (user + sys) and peak RSS.
#
#   bench/shapes_bench.sh BUILD_DIR[,BUILD_DIR...] FILE.pickle...
#   SHAPES=1 bench/shapes_bench.sh build     # generate and use the four shapes
#
# With SHAPES=1 the inputs are generated into $IN_DIR (default /tmp) once:
# 2M events each, shared lists over 20,000 stacks; fresh lists (one per
# event, as PyTorch writes) over 400, 20,000 and 100,000 stacks (the last
# with depth 3-100 and Windows paths). SKIP_PYTHON=1 skips pickle.load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
IFS=, read -r -a builds <<< "${1:?usage: shapes_bench.sh BUILD_DIR[,BUILD_DIR...] FILE...}"
shift
files=("$@")
if [ "${SHAPES:-0}" = 1 ]; then
  dir=${IN_DIR:-/tmp}
  n=${EVENTS:-2000000}
  gen() { local out="$dir/memtk-shape-$1-$n.pickle"; shift
          [ -f "$out" ] || python3 "$root/scripts/gen_snapshot.py" -n "$n" "$@" -o "$out"
          files+=("$out"); }
  gen shared20k --shape shared --call-sites 20000 --distinct-frames 5000 --min-depth 3 --max-depth 60
  gen fresh400 --call-sites 400 --min-depth 3 --max-depth 60
  gen fresh20k --call-sites 20000 --distinct-frames 5000 --min-depth 3 --max-depth 60
  gen fresh100k --call-sites 100000 --distinct-frames 20000 --min-depth 3 --max-depth 100 --paths windows
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall seconds, CPU seconds, peak RSS in MB
timed() { { /usr/bin/time -f "%e %U %S %M" "$@" > /dev/null; } 2>&1 | tail -1 |
          awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4 / 1024}'; }
for in in "${files[@]}"; do
  declare -A rows=()
  for ((i = 0; i < ${REPEAT:-5}; i++)); do
    if [ "${SKIP_PYTHON:-0}" != 1 ]; then
      rows[python_load]+="$(timed python3 -c 'import pickle,sys; pickle.load(open(sys.argv[1],"rb"))' "$in");"
    fi
    for b in "${builds[@]}"; do
      rows["$b decode"]+="$(timed "$b/bench/bench_decode" "$in");"
      rows["$b convert"]+="$(timed "$b/apps/memtk" convert -q "$in" -o /tmp/memtk-shapes-bench.db);"
      rows["$b stats"]+="$(timed "$b/apps/memtk" stats --json "$in");"
    done
  done
  mb=$(( $(stat -L -c %s "$in") / 1000000 ))
  echo "== $in (${mb} MB), medians of ${REPEAT:-5}"
  py=""
  for key in python_load $(for b in "${builds[@]}"; do echo "$b@decode $b@convert $b@stats"; done); do
    key=${key//@/ }
    [ -n "${rows[$key]:-}" ] || continue
    w=$(tr ';' '\n' <<< "${rows[$key]}" | awk 'NF {print $1}' | median)
    c=$(tr ';' '\n' <<< "${rows[$key]}" | awk 'NF {print $2}' | median)
    m=$(tr ';' '\n' <<< "${rows[$key]}" | awk 'NF {print $3}' | median)
    [ "$key" = python_load ] && py=$w
    extra=""
    [[ "$key" == *decode ]] && extra=" $(echo "scale=0; $mb / $w" | bc) MB/s"
    [[ -n "$py" && "$key" != python_load && "$key" != *decode ]] && extra=" $(echo "scale=3; $w / $py" | bc)x of pickle.load"
    printf '  %-40s wall %6ss  cpu %6ss  rss %5s MB%s\n' "$key" "$w" "$c" "$m" "$extra"
  done
  unset rows
  rm -f /tmp/memtk-shapes-bench.db
done
