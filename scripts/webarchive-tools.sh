#!/usr/bin/env bash
# The reference web-archive tools the webarchive crate's tests check its output with: warcio
# (`warcio check`, `warcio index`) and py-wacz (`wacz validate`, with the cdxj-indexer and surt
# packages it depends on), at pinned versions, in a virtual environment of their own under the
# target directory (kept between runs). Prints the environment's path.
# Usage: scripts/webarchive-tools.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

WARCIO_VERSION=1.8.1
WACZ_VERSION=0.6.0
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/webarchive-venv"

installed() {
    [[ -x "$VENV/bin/warcio" && -x "$VENV/bin/wacz" && -x "$VENV/bin/cdxj-indexer" ]] || return 1
    "$VENV/bin/python" - "$WARCIO_VERSION" "$WACZ_VERSION" <<'PYTHON' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if (m.version("warcio"), m.version("wacz")) == (sys.argv[1], sys.argv[2]) else 1)
PYTHON
}

if ! installed; then
    echo "webarchive-tools: installing warcio $WARCIO_VERSION and wacz $WACZ_VERSION in $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "warcio==$WARCIO_VERSION" "wacz==$WACZ_VERSION"
fi
echo "$VENV"
