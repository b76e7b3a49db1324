#!/usr/bin/env bash
# Seeds the `credentials`, `journal` and `export` corpora with sealed files and their journal
# assertions, made by the handprint binary given (default: the workspace's debug build),
# and with the attacks on them: a proof moved into another image, a truncated manifest.
# Usage: fuzz/seed-sealed.sh [HANDPRINT_BINARY]
set -euo pipefail
cd "$(dirname "$0")"
bin=${1:-../target/debug/handprint}
(cd .. && cargo build --quiet --bin handprint --bin make-samples)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HANDPRINT_HOME=$work/home
mkdir -p corpus/credentials corpus/journal
"$bin" init --name "Fuzz Seed" >/dev/null
"$bin" project new p >/dev/null
# A PNG, and the JPEG and WebP copies the fixtures make of the test photos.
../target/debug/make-samples --copies "$work/copies" >/dev/null 2>&1 || true
files=(../crates/fingerprint/tests/data/kodim01.png)
for ext in jpg webp; do
  f=$(ls "$work"/copies/*."$ext" 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] && files+=("$f")
done
for f in "${files[@]}"; do
  name=$(basename "$f")
  out="$work/sealed-$name"
  "$bin" seal "$f" -p p --import --title "$name" -o "$out" >/dev/null || continue
  cp "$out" "corpus/credentials/sealed-$name"
  head -c $(( $(stat -c %s "$out") * 2 / 3 )) "$out" > "corpus/credentials/cut-$name"
  "$bin" verify "$out" --json | python3 -c '
import json, sys
v = json.loads(sys.stdin.read().splitlines()[-1])
sys.stdout.write(json.dumps(v["c2pa"]["active"]["journal"]))' > "corpus/journal/$name.json"
done
cp ../samples/c2pa.png ../samples/c2pa.jpg corpus/credentials/
# A genuine export, as the export target's input: its files in the target's order, cut by
# lines of ====.
"$bin" note -p p "a note after the seals" >/dev/null
"$bin" export -p p "$work/export" >/dev/null
mkdir -p corpus/export
python3 - "$work/export" corpus/export/genuine <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
notes = sorted(os.listdir(os.path.join(src, "checkpoints")), key=lambda n: int(n.split(".")[0]))
files = ["manifest.json", "events.jsonl", "proofs.jsonl", "consistency.jsonl",
         *[f"checkpoints/{n}" for n in (notes[:1] + notes[-1:])],
         "identity/identity.json", "identity/public-key.pem", "identity/certificate.pem", "identity/root.pem"]
parts = [open(os.path.join(src, f), "rb").read() for f in files]
open(out, "wb").write(b"\n====\n".join(parts))
PY
echo "seeded: $(ls corpus/credentials | wc -l) credentials, $(ls corpus/journal | wc -l) journal, $(ls corpus/export | wc -l) export"
