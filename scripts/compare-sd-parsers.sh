#!/usr/bin/env bash
# Reads every image in a folder (default: samples/) with the PyPI package sd-parsers and with
# `handprint inspect --json`, and prints, field by field, where the two agree.
# Usage: scripts/compare-sd-parsers.sh [DIR]      (VENV=... to choose the venv's place)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-samples}
venv=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/handprint/sd-parsers-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet sd-parsers==0.6 pillow
fi
cargo build --quiet --release --bin handprint
out=$(mktemp)
trap 'rm -f "$out"' EXIT
./target/release/handprint inspect --json "$dir" > "$out" || true
"$venv/bin/python" scripts/compare_sd_parsers.py "$dir" "$out"
