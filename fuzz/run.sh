#!/usr/bin/env bash
# Runs every fuzz target (or those in $TARGETS) for SECONDS (default 600) each, one after
# another, on one core.
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). cargo-fuzz passes unstable (-Z)
# flags to rustc; RUSTC_BOOTSTRAP=1 lets the project's pinned stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
export RUSTC_BOOTSTRAP=1
python3 seed.py ../samples
./seed-sealed.sh
for t in ${TARGETS:-$(cargo fuzz list)}; do
  mkdir -p corpus/$t
  echo "== $t ($seconds s)"
  cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=262144 -timeout=10 2>&1 | grep -E "^#[0-9]+.*DONE|Done|ERROR|panicked|SUMMARY|crash-" || true
done
