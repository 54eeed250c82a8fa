#!/usr/bin/env bash
# Median wall time and peak RSS: Python pickle.load vs memtk convert, interleaved
# (REPEAT runs each, default 5) so both see the same machine load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
memtk="$root/build/apps/memtk"
sizes=("${@:-2000000}")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in "${sizes[@]}"; do
  in="/tmp/memtk-bench-$n.pickle"
  [ -f "$in" ] || python3 "$root/scripts/gen_snapshot.py" -n "$n" -o "$in"
  mb=$(( $(stat -L -c %s "$in") / 1000000 ))
  py_t=(); py_m=(); mt_t=(); mt_m=()
  for ((i = 0; i < ${REPEAT:-5}; i++)); do
    read -r t m < <( { /usr/bin/time -f "%e %M" python3 -c 'import pickle,sys; pickle.load(open(sys.argv[1],"rb"))' "$in"; } 2>&1 | tail -1)
    py_t+=("$t"); py_m+=("$m")
    read -r t m < <( { /usr/bin/time -f "%e %M" "$memtk" convert -q "$in" -o "/tmp/memtk-bench-$n.db"; } 2>&1 | tail -1)
    mt_t+=("$t"); mt_m+=("$m")
  done
  pt=$(printf '%s\n' "${py_t[@]}" | median); pm=$(printf '%s\n' "${py_m[@]}" | median)
  ct=$(printf '%s\n' "${mt_t[@]}" | median); cm=$(printf '%s\n' "${mt_m[@]}" | median)
  echo "events=$n input=${mb}MB python_load=${pt}s/$((pm / 1024))MB memtk_convert=${ct}s/$((cm / 1024))MB ratio=$(echo "scale=2; $ct / $pt" | bc)"
done
