#!/usr/bin/env bash
# The tests, with the programs they use installed from Debian when missing (`openssl ts` for
# the timestamp tests, poppler's `pdftotext` for the report's text, chromium and playwright-core
# for the web page's browser test, schemathesis for the API, warcio and py-wacz for the web
# archives) and a throwaway PostgreSQL cluster,
# so that every store test runs on SQLite and on PostgreSQL.
# Usage: scripts/test.sh [NEXTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
cargo nextest --version >/dev/null 2>&1 || cargo install cargo-nextest --locked
scripts/browser.sh >/dev/null
# Without chromium or playwright-core the browser test fails here instead of being skipped.
export HANDPRINT_TEST_REQUIRE_BROWSER=1
# The reference web-archive tools (warcio, py-wacz; PyPI, in a venv under the target directory)
# that check the WARC and WACZ files the webarchive crate writes; without them those tests fail
# here instead of being skipped.
scripts/webarchive-tools.sh >/dev/null
export HANDPRINT_TEST_REQUIRE_WEBARCHIVE_TOOLS=1
# The tests choose their stores themselves: one the user points handprint at is left alone.
unset HANDPRINT_DATABASE
# Without PostgreSQL a PostgreSQL test fails here instead of being skipped.
export HANDPRINT_TEST_REQUIRE_POSTGRES=1
scripts/with-postgres.sh cargo nextest run --workspace "$@"
# The server's API against its OpenAPI document: schemathesis (PyPI, in a venv) finds no 5xx
# and no answer that breaks the document; uses the binary the tests built.
HANDPRINT_BIN="${CARGO_TARGET_DIR:-target}/debug/handprint" scripts/schemathesis.sh
