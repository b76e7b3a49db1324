#!/usr/bin/env bash
# Checks a WACZ with the reference tools, printing each command and what it said:
#   1. `warcio check -v` on every WARC in archive/: every record's block and payload digests;
#   2. `warcio index` on them: every record readable, with its offset, type, URI and status;
#   3. `wacz validate -f` on the package: layout, datapackage.json, hashes, datapackage-digest.json;
#   4. `cdxj-indexer --digest-records --post-append --sort` on the WARCs (what `wacz create` runs):
#      must equal indexes/index.cdxj byte for byte;
#   5. with KEYS.tsv (lines "<url>\t<SURT key>"): each key must be what the surt package gives
#      (the URL itself where surt fails, as the indexer does).
# Usage: scripts/check-webarchive.sh FILE.wacz [KEYS.tsv]
# Exits 0 when every check passes, 1 when one fails, 3 when the tools are not installed
# (scripts/webarchive-tools.sh installs them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/webarchive-venv"
[[ "$VENV" = /* ]] || VENV="$ROOT/$VENV"

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 FILE.wacz [KEYS.tsv]" >&2; exit 2; }
WACZ="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
KEYS="${2:-}"
for tool in warcio wacz cdxj-indexer python; do
    [[ -x "$VENV/bin/$tool" ]] || { echo "check-webarchive: $VENV/bin/$tool missing: run scripts/webarchive-tools.sh" >&2; exit 3; }
done

WORK="$(mktemp -d -t webarchive-check.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$WACZ" "$WORK/x"

status=0
show() { echo "\$ $*"; }
cd "$WORK/x"
shopt -s nullglob
warcs=(archive/*.warc archive/*.warc.gz)
[[ ${#warcs[@]} -gt 0 ]] || { echo "check-webarchive: no WARC in archive/"; status=1; }
for warc in "${warcs[@]}"; do
    show warcio check -v "$warc"
    "$VENV/bin/warcio" check -v "$warc" || { echo "check-webarchive: warcio check failed (exit $?)"; status=1; }
    show warcio index -f offset,length,warc-type,warc-target-uri,http:status "$warc"
    "$VENV/bin/warcio" index -f offset,length,warc-type,warc-target-uri,http:status "$warc" \
        || { echo "check-webarchive: warcio index failed"; status=1; }
done

show wacz validate -f "$(basename "$WACZ")"
out="$(cd "$(dirname "$WACZ")" && "$VENV/bin/wacz" validate -f "$WACZ" 2>&1)" || status=1
echo "$out"
grep -q "Validation succeeded, the passed WACZ is valid" <<<"$out" || { echo "check-webarchive: wacz validate failed"; status=1; }

if [[ -f indexes/index.cdxj ]]; then
    names=()
    for warc in "${warcs[@]}"; do names+=("$(basename "$warc")"); done
    show cdxj-indexer --digest-records --post-append --sort "${names[@]}"
    (cd archive && "$VENV/bin/cdxj-indexer" --digest-records --post-append --sort "${names[@]}") >"$WORK/reference.cdxj" || status=1
    cat "$WORK/reference.cdxj"
    # Run that way, the indexer gives a record without WARC-Payload-Digest (a metadata record)
    # the SHA-1 of nothing (it has read the record already); run plainly, the SHA-1 of its
    # payload, which is what the index holds. That one field is taken from a plain run.
    show cdxj-indexer --sort "${names[@]}"
    (cd archive && "$VENV/bin/cdxj-indexer" --sort "${names[@]}") >"$WORK/plain.cdxj" || status=1
    "$VENV/bin/python" - "$WORK/reference.cdxj" "$WORK/plain.cdxj" <<'PYTHON' || status=1
import json, sys
EMPTY = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
def lines(path):
    for line in open(path, encoding="utf-8").read().splitlines():
        key, ts, rest = line.split(" ", 2)
        yield key, ts, json.loads(rest)
plain = {(d["filename"], d["offset"]): d.get("digest") for _, _, d in lines(sys.argv[2])}
out = []
for key, ts, d in lines(sys.argv[1]):
    if d.get("digest") == EMPTY and plain.get((d["filename"], d["offset"])) not in (None, EMPTY):
        d["digest"] = plain[(d["filename"], d["offset"])]
        print(f"  {key}: digest taken from the plain run: {d['digest']}")
    out.append(f"{key} {ts} {json.dumps(d)}\n")
open(sys.argv[1], "w", encoding="utf-8").write("".join(out))
PYTHON
    if diff -u "$WORK/reference.cdxj" indexes/index.cdxj; then
        echo "indexes/index.cdxj is the reference indexer's output byte for byte"
    else
        echo "check-webarchive: indexes/index.cdxj differs from the reference indexer's output"
        status=1
    fi
fi

if [[ -n "$KEYS" ]]; then
    show surt "<each url of $(basename "$KEYS")>"
    "$VENV/bin/python" - "$KEYS" <<'PYTHON' || status=1
import sys, surt
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
bad = 0
for line in lines:
    url, ours = line.split("\t")
    try:
        ref = surt.surt(url)
    except Exception:
        ref = url
    if ref != ours:
        bad += 1
        print(f"  {url!r}: surt gives {ref!r}, ours {ours!r}")
print(f"{len(lines) - bad} of {len(lines)} SURT keys agree with the surt package")
sys.exit(1 if bad else 0)
PYTHON
fi
exit "$status"
