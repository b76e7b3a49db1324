#!/usr/bin/env bash
# handprint's main job on the sample images, in a throwaway data directory: create an
# identity, record a creative project (generations, a selection, a manual edit, a note),
# show its history, verify the journal, export the project and verify the export offline;
# then register two finished works and scan a folder of copies found online; then seal a
# project made in rounds of generations, sealed (watermark, AIGC labels, Content Credentials,
# journal proof), verified, and claimed (the evidence report and its bundle); and publish it
# on a local registry server and look it up there.
# Usage: scripts/demo.sh [DATA_DIR]     (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
# A debug build: the pixel code's dependencies are optimised in it too (Cargo.toml), and it
# is the build the tests made already.
cargo build --quiet --bin handprint
hp() { ./target/debug/handprint "$@"; }
export HANDPRINT_HOME=${1:-$(mktemp -d)}
echo "== data directory: $HANDPRINT_HOME"
[ -f "$HANDPRINT_HOME/identity.json" ] || hp init --name "Demo Creator"
hp project new red-fox
echo "== what the generators wrote"
hp inspect --no-raw samples/a1111-txt2img.png samples/comfyui-two-pass.png
echo "== recording the sample generations"
hp record --project red-fox samples/*.png samples/*.jpg samples/*.webp
hp select samples/comfyui-two-pass.png --reason "the castle reads best at small size"
hp reject samples/comfyui-basic.png --reason "too busy"
hp edit samples/comfyui-two-pass.png samples/plain.png --tool Krita --note "painted over the gate"
hp note --project red-fox "next: a night version with the same composition"
echo "== the journal"
hp log --project red-fox
echo "== verify"
hp verify
out="$HANDPRINT_HOME/export-red-fox"
rm -rf "$out"
hp export --project red-fox "$out"
hp verify --export "$out"
echo "== finding copies: two finished works registered, then a folder of images found online"
hp register crates/fingerprint/tests/data/kodim01.png --title "Door" --license CC-BY-4.0
hp register crates/fingerprint/tests/data/kodim03.png --title "Hats"
found="$HANDPRINT_HOME/found-online"
cargo run --quiet -p handprint-fixtures --bin make-samples -- --copies "$found"
# Two of the files are not images handprint can fingerprint: scan names them, goes on, exits 1.
hp scan "$found" --out "$HANDPRINT_HOME/matches" || echo "(scan exit status $?: some files could not be read)"
ls "$HANDPRINT_HOME/matches"
echo "== a second project, four rounds of generations, sealed and claimed"
gens="$HANDPRINT_HOME/snow-fox"
cargo run --quiet -p handprint-fixtures --bin make-samples -- --project "$gens"
hp project new snow-fox
for round in 0 1 2 3; do
  hp record --project snow-fox $(seq -f "$gens/%05g.png" $((round * 8)) $((round * 8 + 7))) >/dev/null
  hp select "$gens/$(printf %05d $((round * 8 + 3))).png" --reason "the pose"
  hp reject "$gens/$(printf %05d $((round * 8 + 5))).png" --reason "muddy colours"
done
hp edit "$gens/00027.png" "$gens/final.png" --tool inpainting --note "repainted the tail"
sealed="$HANDPRINT_HOME/snow-fox.png"
rm -f "$sealed"
hp seal "$gens/final.png" --project snow-fox --title "雪狐 Snow fox" --license CC-BY-NC-4.0 \
  --visible-label --out "$sealed"
echo "== checking it as anyone would"
hp verify "$sealed"
echo "== the evidence report"
rm -rf "$HANDPRINT_HOME/claim"
hp claim "$sealed" --images "$gens" --out "$HANDPRINT_HOME/claim"
hp verify --export "$HANDPRINT_HOME/claim/bundle"
echo "open $HANDPRINT_HOME/claim/report.html"
echo "== publishing it on a registry (a local handprint serve) and looking it up"
hp --json serve --data "$HANDPRINT_HOME/registry" --listen 127.0.0.1:0 > "$HANDPRINT_HOME/serve.out" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q listening "$HANDPRINT_HOME/serve.out" 2>/dev/null && break; sleep 0.1; done
url="http://$(sed 's/.*"listening":"\([^"]*\)".*/\1/' "$HANDPRINT_HOME/serve.out")"
hp publish "$sealed" --server "$url"
hp lookup "$sealed" --server "$url"
echo "open $url/ to look images up in a browser (the server stops with this script)"
