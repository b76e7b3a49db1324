#!/usr/bin/env bash
# Reads every image in one or more folders with exiftool (Debian libimage-exiftool-perl) and
# with `handprint inspect --json`, and prints a table per file: the EXIF tags exiftool read,
# whether handprint read the EXIF block (no "unreadable EXIF"), the EXIF damage it reported,
# and the generation fields handprint read. handprint must never refuse EXIF that exiftool
# reads; the script exits 1 if it does.
# Usage: scripts/compare-exiftool.sh [DIR...]
#   (default: crates/capture/tests/real/files and samples; HANDPRINT=path to use a built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  set -- crates/capture/tests/real/files samples
fi
if ! command -v exiftool >/dev/null; then
  echo "exiftool not found: installing libimage-exiftool-perl" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y libimage-exiftool-perl >&2
  else
    sudo apt-get install -y libimage-exiftool-perl >&2
  fi
fi
handprint=${HANDPRINT:-}
if [ -z "$handprint" ]; then
  cargo build --quiet --bin handprint
  handprint=./target/debug/handprint
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for dir in "$@"; do
  files=()
  while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find "$dir" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.webp' \) -print0 | sort -z
  )
  [ ${#files[@]} -gt 0 ] || continue
  exiftool -j -a -G1 -s -b -struct -q -q "${files[@]}" > "$work/exiftool.json" || true
  "$handprint" inspect --json "${files[@]}" > "$work/handprint.jsonl" || true
  echo "## $dir"
  echo
  python3 - "$work/exiftool.json" "$work/handprint.jsonl" <<'EOF' || status=1
import json
import os
import sys

EXIF_GROUPS = {"IFD0", "IFD1", "IFD2", "ExifIFD", "GPS", "InteropIFD", "SubIFD"}
FIELDS = ["prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler", "scheduler", "width", "height", "model"]

tool = {os.path.basename(e["SourceFile"]): e for e in json.load(open(sys.argv[1]))}
ours = {}
for line in open(sys.argv[2]):
    rec = json.loads(line)
    ours[os.path.basename(rec.get("path", ""))] = rec

refused = 0
totals = {"files": 0, "exif": 0, "exif_tags": 0, "hp_exif_ok": 0, "fields": 0}
print("| file | exiftool EXIF tags | handprint EXIF | EXIF warnings | generator | fields read |")
print("|---|---|---|---|---|---|")
for name in sorted(set(tool) | set(ours)):
    e = tool.get(name, {})
    tags = sorted(k.split(":", 1)[1] for k in e if ":" in k and k.split(":", 1)[0] in EXIF_GROUPS)
    r = ours.get(name, {})
    warnings = r.get("warnings") or []
    keys = r.get("metadata_keys") or []
    unreadable = [w for w in warnings if "unreadable EXIF" in w]
    damage = [w for w in warnings if ": EXIF: " in w]
    has_block = any(k.endswith(("APP1:exif", "webp:EXIF", "png:eXIf")) for k in keys)
    if "error" in r:
        hp = "error: " + r["error"]
    elif unreadable:
        hp = "REFUSED: " + "; ".join(unreadable)
    elif has_block:
        hp = "read"
    else:
        hp = "none"
    gens = r.get("generations") or []
    g = gens[0] if gens else {}
    value = lambda f: (g.get("model") or {}).get("name") if f == "model" else g.get(f)  # noqa: E731
    got = [f for f in FIELDS if value(f) not in (None, "")]
    missing = [f for f in FIELDS if f not in got]
    totals["files"] += 1
    totals["fields"] += len(got)
    if tags:
        totals["exif"] += 1
        totals["exif_tags"] += len(tags)
        if hp == "read":
            totals["hp_exif_ok"] += 1
        else:
            refused += 1
    shown = ", ".join(tags[:6]) + (f", … ({len(tags)})" if len(tags) > 6 else "")
    absent = f" (no {', '.join(missing)})" if gens and missing else ""
    print(f"| {name} | {shown or '·'} | {hp} | {len(damage) or '·'} | {g.get('generator', '·')} | {len(got)}/{len(FIELDS)}{absent} |")
print()
print(
    f"{totals['files']} files; {totals['exif']} with EXIF that exiftool read ({totals['exif_tags']} tags); "
    f"handprint read {totals['hp_exif_ok']} of those blocks, refused {refused}; "
    f"{totals['fields']} generation fields read by handprint"
)
sys.exit(1 if refused else 0)
EOF
  echo
done
exit $status
