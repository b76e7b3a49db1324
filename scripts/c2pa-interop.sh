#!/usr/bin/env bash
# handprint's Content Credentials against the reference tool c2patool, both ways:
#  1. a handprint-sealed PNG and JPEG, read and validated by c2patool (with the creator's
#     root as trust anchor: "Trusted"; without: "Valid" with signingCredential.untrusted);
#  2. a JPEG signed by c2patool (its built-in test certificate), read by `handprint verify`,
#     then sealed by handprint with c2patool's manifest kept as an ingredient's, and the
#     result validated by c2patool again.
# Needs c2patool on PATH or in $C2PATOOL (`cargo install c2patool@0.27.0 --locked`; 0.28
# needs Rust 1.96), python3 with Pillow to write the test JPEG, and openssl for the test TSA.
# Usage: scripts/c2pa-interop.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
c2patool=${C2PATOOL:-c2patool}
command -v "$c2patool" >/dev/null || { echo "c2patool not found (set C2PATOOL)"; exit 2; }
cargo build --quiet --bin handprint
hp() { ./target/debug/handprint "$@"; }
work=${1:-$(mktemp -d)}
export HANDPRINT_HOME="$work/home"
mkdir -p "$work"
echo "== work directory: $work"
[ -f "$HANDPRINT_HOME/identity.json" ] || hp init --name "Interop Creator"
hp project new interop 2>/dev/null || true
state() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("validation_state"), sorted({s["code"] for k in ("success","informational","failure") for s in d.get("validation_results",{}).get("activeManifest",{}).get(k,[])}))'; }

for src in crates/fingerprint/tests/data/kodim03.png crates/fingerprint/tests/data/kodim04.png; do
  name=$(basename "$src" .png)
  out="$work/$name.sealed.png"
  rm -f "$out"
  hp seal "$src" --project interop --title "$name" --import --source-type digitalCapture --out "$out" >/dev/null
  echo "== c2patool on $out"
  "$c2patool" "$out" | state
  "$c2patool" "$out" trust --trust_anchors "$HANDPRINT_HOME/root.pem" | state
  "$c2patool" "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["manifests"][d["active_manifest"]]
for a in m["assertions"]:
    if a["label"].startswith("c2pa.actions"):
        for x in a["data"]["actions"]: print("   action", x["action"], x.get("digitalSourceType","").rsplit("/",1)[-1])
    else: print("   assertion", a["label"])
for i in m.get("ingredients",[]): print("   ingredient", i["title"], i["relationship"])'
done

echo "== a JPEG signed by c2patool, read by handprint"
python3 -c 'from PIL import Image; Image.open("crates/fingerprint/tests/data/kodim03.png").save("'"$work"'/other.jpg", quality=92)'
cat > "$work/manifest.json" <<'JSON'
{"claim_generator_info": [{"name": "another tool", "version": "1.0"}], "title": "From another tool",
 "assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
   "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}
JSON
"$c2patool" "$work/other.jpg" -m "$work/manifest.json" -o "$work/other-signed.jpg" -f >/dev/null
hp verify "$work/other-signed.jpg" || true
echo "== sealed by handprint, c2patool's manifest kept"
rm -f "$work/other-signed.sealed.jpg"
hp seal "$work/other-signed.jpg" --project interop --title "Chained" --import \
  --source-type compositeWithTrainedAlgorithmicMedia >/dev/null
hp verify "$work/other-signed.sealed.jpg"
"$c2patool" "$work/other-signed.sealed.jpg" trust --trust_anchors "$HANDPRINT_HOME/root.pem" | state

echo "== a seal timestamped by an RFC 3161 authority (openssl ts on loopback), read by c2patool"
cargo build --quiet -p handprint-fixtures --bin test-tsa
./target/debug/test-tsa "$work/tsa" > "$work/tsa.out" &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$work/tsa.out" ] && break; sleep 0.1; done
read -r tsa_url tsa_root < "$work/tsa.out"
rm -f "$work/stamped.png"
hp seal crates/fingerprint/tests/data/kodim01.png --project interop --title "Stamped" --import \
  --source-type digitalCapture --tsa "$tsa_url" --tsa-root "$tsa_root" --out "$work/stamped.png" >/dev/null
"$c2patool" "$work/stamped.png" | python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["manifests"][d["active_manifest"]]
print("   signature_info", json.dumps(m["signature_info"]))'
"$c2patool" "$work/stamped.png" trust --trust_anchors "$HANDPRINT_HOME/root.pem" | state
cat "$HANDPRINT_HOME/root.pem" "$tsa_root" > "$work/roots.pem"
"$c2patool" "$work/stamped.png" trust --trust_anchors "$work/roots.pem" | state   # the TSA trusted too
hp verify "$work/stamped.png"
