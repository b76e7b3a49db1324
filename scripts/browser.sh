#!/usr/bin/env bash
# What the browser test needs: Debian's `chromium`, `node` and `npm` (installed from Debian when
# missing), and playwright-core at the version crates/server/tests/browser/package-lock.json pins,
# in that folder's node_modules. Playwright drives the system chromium; it never downloads a
# browser of its own. Prints chromium's path.
# Usage: scripts/browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo)
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "browser: installing$missing from Debian" >&2
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

dir=crates/server/tests/browser
# The installed playwright-core, or nothing; `npm ci` when it is not the pinned one.
installed=$(node -e 'try { console.log(require(process.argv[1]).version) } catch { }' \
  "$PWD/$dir/node_modules/playwright-core/package.json")
pinned=$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' \
  "$PWD/$dir/package-lock.json")
if [ "$installed" != "$pinned" ]; then
  echo "browser: installing playwright-core $pinned" >&2
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
fi
command -v chromium
