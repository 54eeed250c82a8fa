#!/usr/bin/env bash
# Installs what memtk needs (Debian packages, only those missing), then
# configures and builds it in build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(g++ cmake make pkg-config python3 libsqlite3-dev sqlite3 zlib1g-dev libfmt-dev libcli11-dev rapidjson-dev catch2 libzip-dev protobuf-compiler libprotobuf-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMEMTK_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
