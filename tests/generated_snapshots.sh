#!/usr/bin/env bash
# Generates snapshots of every variant with scripts/gen_snapshot.py (checked
# opcode-for-opcode against CPython's pickler), converts each and checks the
# database against Python's pickle, and `memtk stats` peaks against a Python
# replay of PyTorch's viewer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
for variant in "" "--devices 4" "--legacy" "--variant newest" "--bare-list" "--no-time --devices 2" \
               "--protocol 5" "--gzip --devices 2" "--shape shared" "--shape shared --legacy" \
               "--paths windows --call-sites 3000 --min-depth 3 --max-depth 100"; do
  python3 "$root/scripts/gen_snapshot.py" -n 5000 --seed 21 $variant -o "$tmp/g.pickle"
  if "$MEMTK" convert -q "$tmp/g.pickle" -o "$tmp/g.db" && python3 "$root/scripts/check_db.py" "$tmp/g.pickle" "$tmp/g.db" &&
     python3 "$root/scripts/check_peak.py" "$MEMTK" "$tmp/g.pickle" > "$tmp/peak.txt"; then
    pass=$((pass + 1))
  else
    echo "FAIL: variant '$variant'"
    cat "$tmp/peak.txt" 2>/dev/null || true
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
