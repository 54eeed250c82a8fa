#!/usr/bin/env bash
# `memtk stats` straight from a pickle vs Python's pickle.load (interleaved,
# REPEAT runs each, default 5), then `memtk query --alloc` / `--at-peak` /
# the cached-pickle path on the converted database (median of REPEAT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
memtk="$root/build/apps/memtk"
n=${1:-2000000}
in="/tmp/memtk-bench-$n.pickle"
db="/tmp/memtk-bench-$n.db"
[ -f "$in" ] || python3 "$root/scripts/gen_snapshot.py" -n "$n" -o "$in"
[ -f "$db" ] || "$memtk" convert -q "$in" -o "$db"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -1; }
# Milliseconds of wall time (/usr/bin/time rounds to 10 ms).
ms() {
  local a b
  a=$(date +%s%N); "$@" > /dev/null; b=$(date +%s%N)
  echo $(( (b - a) / 1000000 ))
}
py_t=(); st_t=(); st_m=()
for ((i = 0; i < ${REPEAT:-5}; i++)); do
  read -r t m < <(timed python3 -c 'import pickle,sys; pickle.load(open(sys.argv[1],"rb"))' "$in")
  py_t+=("$t")
  read -r t m < <(timed "$memtk" stats --json "$in")
  st_t+=("$t"); st_m+=("$m")
done
pt=$(printf '%s\n' "${py_t[@]}" | median); stt=$(printf '%s\n' "${st_t[@]}" | median)
stm=$(printf '%s\n' "${st_m[@]}" | median)
echo "events=$n input=$(( $(stat -L -c %s "$in") / 1000000 ))MB python_load=${pt}s memtk_stats=${stt}s/$((stm / 1024))MB ratio=$(echo "scale=2; $stt / $pt" | bc)"
peak_event=$(sqlite3 "$db" "SELECT peak_event FROM peaks ORDER BY device LIMIT 1")
export XDG_CACHE_HOME=/tmp/memtk-bench-cache
"$memtk" query "$in" --at-peak --limit 1 > /dev/null  # fill the cache once
for q in "--alloc $peak_event" "--at-peak" "--at-peak --top 10"; do
  ts=()
  for ((i = 0; i < ${REPEAT:-5}; i++)); do
    # shellcheck disable=SC2086
    ts+=("$(ms "$memtk" query "$db" $q --format csv)")
  done
  echo "query $q (database): $(printf '%s\n' "${ts[@]}" | median) ms"
done
ts=()
for ((i = 0; i < ${REPEAT:-5}; i++)); do
  ts+=("$(ms "$memtk" query "$in" --at-peak --format csv)")
done
echo "query --at-peak (pickle, cached database; includes hashing the pickle): $(printf '%s\n' "${ts[@]}" | median) ms"
