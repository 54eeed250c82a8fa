#!/usr/bin/env bash
# Interleaved A/B of the snapshot reader: for ROUNDS rounds, `bench_decode FILE`
# of each build in turn (so every build sees the same machine load), then the
# median and minimum of the tool's own timer per build. On the shared 2-core
# VM the same binary's time can swing 2x within minutes: quote both.
#
#   bench/decode_ab.sh ROUNDS FILE BUILD_DIR...    (BUILD_DIR/bench/bench_decode)
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: decode_ab.sh ROUNDS FILE BUILD_DIR..." >&2; exit 2; }
rounds=$1
file=$2
shift 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((i = 0; i < rounds; i++)); do
  for b in "$@"; do
    t=$("$b/bench/bench_decode" "$file" | sed -E 's/.* in ([0-9.]+) s.*/\1/')
    echo "$b $t" >> "$log"
  done
done
python3 - "$log" "$(stat -c %s "$file")" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    build, t = line.split()
    rows.setdefault(build, []).append(float(t))
mb = int(sys.argv[2]) / 1e6
for build, ts in rows.items():
    med, low = statistics.median(ts), min(ts)
    print(f"{build}: median {med:.3f} s ({mb / med:.0f} MB/s), min {low:.3f} s ({mb / low:.0f} MB/s), "
          f"n={len(ts)}: {' '.join(f'{t:.2f}' for t in ts)}")
PY
