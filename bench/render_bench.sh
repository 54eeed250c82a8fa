#!/usr/bin/env bash
# render-png benchmark (issue #5): wall time and peak RSS of `memtk render-png`
# at 1920x1080 from a memtk database and straight from the pickle, beside
# Python's pickle.load of the same file in the same run (interleaved, medians
# of RUNS), plus the scaling over the sizes given.
#
# usage: bench/render_bench.sh MEMTK RUNS SNAPSHOT.pickle...   (a .db is made beside each, once)
set -euo pipefail
memtk=$1; runs=$2; shift 2
t() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for pickle in "$@"; do
  db=${pickle%.pickle}.render.db
  [ -f "$db" ] || "$memtk" convert "$pickle" -o "$db" --quiet
  : > /tmp/rb.db; : > /tmp/rb.pk; : > /tmp/rb.py
  for _ in $(seq "$runs"); do
    t "$memtk" render-png "$db" -o /tmp/rb.png --width 1920 --height 1080 -q >> /tmp/rb.db
    t "$memtk" render-png "$pickle" -o /tmp/rb.png --width 1920 --height 1080 -q >> /tmp/rb.pk
    if [ "${SKIP_PYTHON:-0}" = 0 ]; then
      t python3 -c 'import pickle,sys; pickle.load(open(sys.argv[1],"rb"))' "$pickle" >> /tmp/rb.py
    fi
  done
  printf '%s (%s MB): from db %s s / %s MB RSS; from pickle %s s / %s MB; python load %s s\n' "$(basename "$pickle")" \
    "$(( $(stat -c %s "$pickle") / 1000000 ))" \
    "$(cut -d' ' -f1 /tmp/rb.db | median)" "$(( $(cut -d' ' -f2 /tmp/rb.db | median) / 1024 ))" \
    "$(cut -d' ' -f1 /tmp/rb.pk | median)" "$(( $(cut -d' ' -f2 /tmp/rb.pk | median) / 1024 ))" \
    "$( [ -s /tmp/rb.py ] && cut -d' ' -f1 /tmp/rb.py | median || echo -)"
done
