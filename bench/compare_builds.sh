#!/usr/bin/env bash
# Two memtk builds, interleaved on the same inputs: convert, stats (pickle and
# database) and render-png (database and pickle), REPS rounds. Prints one line
# per run: input|command from pickle/db|build|wall s|user+sys s|peak RSS KiB. Compare CPU
# seconds (and medians) when the machine is shared: wall time swings with load.
#
# usage: bench/compare_builds.sh OLD_MEMTK NEW_MEMTK REPS INPUT.pickle...
#   e.g. python3 scripts/gen_snapshot.py -n 2000000 --devices 2 -o /tmp/b/s2m.pickle
#        bench/compare_builds.sh /tmp/memtk-old build/apps/memtk 3 /tmp/b/s2m.pickle
set -euo pipefail
old=$1 new=$2 reps=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for in in "$@"; do
  "$new" convert -q "$in" -o "$work/$(basename "$in").db"
done
for _ in $(seq "$reps"); do
  for in in "$@"; do
    db="$work/$(basename "$in").db"
    for which in old new; do
      bin=${!which}
      for cmd in "convert $in -o $work/out.db" "stats $in" "stats $db" "render-png $db -o $work/d.png" \
                 "render-png $in -o $work/p.png"; do
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$bin" $cmd >/dev/null 2>&1
        read -r e u s r <"$work/t"
        from=pickle
        [[ $cmd == *"$db"* ]] && from=db
        echo "$(basename "$in")|${cmd%% *} from $from|$which|$e|$(echo "$u + $s" | bc)|$r"
        rm -f "$work/out.db"
      done
    done
  done
done
