#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs the whole test suite:
# unit tests, golden tests, generated and real snapshots, fuzz corpus replay.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cd build && ctest --output-on-failure -j2
