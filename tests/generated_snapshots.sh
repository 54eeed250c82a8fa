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
# Issue #17: a long run with many OOMs and snapshot events (23 and 27 here):
# `stats --top 5` lists 5 of each and says how many more; the live bytes at
# each listed OOM match the Python replay (check_peak.py).
python3 "$root/scripts/gen_snapshot.py" -n 100000 --devices 2 --seed 5 -o "$tmp/many.pickle"
if "$MEMTK" stats --top 5 "$tmp/many.pickle" > "$tmp/many.txt" &&
   python3 "$root/scripts/check_peak.py" "$MEMTK" "$tmp/many.pickle" > "$tmp/peak.txt" &&
   python3 - "$tmp/many.txt" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
ooms = [l for l in lines if re.match(r"  OOM \d+ on device \d+ at event d\d+:\d+ \(id \d+", l)]
assert len(ooms) == 5 and lines[1].startswith("OOM: 23 "), (len(ooms), lines[1])
assert "  \u2026 18 more" in lines, "no '… 18 more' after the OOMs"
snaps = [l for l in lines if l.startswith("    event d")]
assert len(snaps) == 10 and lines.count("    \u2026 13 more") == 1, (len(snaps), "snapshot lists not cut at 5")
PY
then
  pass=$((pass + 1))
else
  echo "FAIL: many OOMs and snapshot events at --top 5"
  cat "$tmp/peak.txt" 2>/dev/null || true
  fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
