"""Field-by-field comparison of handprint's records with sd-parsers' (see compare-sd-parsers.sh)."""
import json
import os
import sys

from sd_parsers import ParserManager

FIELDS = ["prompt", "negative", "seed", "steps", "cfg", "sampler", "model"]


def norm(v):
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)) or (isinstance(v, str) and v.replace(".", "", 1).isdigit()):
        return float(v)
    return str(v).strip()


def theirs(path, pm):
    try:
        info = pm.parse(path)
    except Exception as e:  # sd-parsers raises on some inputs
        return None, f"error: {e}"
    if info is None:
        return None, "nothing found"
    s = info.samplers[0] if info.samplers else None
    p = s.parameters if s else {}
    return {
        "prompt": info.full_prompt if info.full_prompt else None,
        "negative": info.full_negative_prompt if info.full_negative_prompt else None,
        "seed": p.get("seed"),
        "steps": p.get("steps"),
        "cfg": p.get("cfg_scale"),
        "sampler": s.name if s else None,
        "model": s.model.name if s and s.model else None,
    }, str(info.generator).split(".")[-1]


def ours(line):
    gens = line.get("generations") or []
    if not gens:
        return None
    g = gens[0]
    return {
        "prompt": g.get("prompt"),
        "negative": g.get("negative_prompt"),
        "seed": g.get("seed"),
        "steps": g.get("steps"),
        "cfg": g.get("cfg_scale"),
        "sampler": g.get("sampler"),
        "model": (g.get("model") or {}).get("name"),
    }


def main():
    folder, jsonl = sys.argv[1], sys.argv[2]
    lines = {os.path.basename(l["path"]): l for l in map(json.loads, open(jsonl))}
    pm = ParserManager()
    agree = differ = only_hp = only_sdp = 0
    notes = []
    print(f"| file | sd-parsers | {' | '.join(FIELDS)} |")
    print("|---|---|" + "---|" * len(FIELDS))
    for name in sorted(lines):
        a = ours(lines[name])
        b, gen = theirs(os.path.join(folder, name), pm)
        cells = []
        for f in FIELDS:
            x = norm(a[f]) if a else None
            y = norm(b[f]) if b else None
            if x is None and y is None:
                cells.append("·")
            elif x == y:
                cells.append("=")
                agree += 1
            elif y is None:
                cells.append("hp")
                only_hp += 1
            elif x is None:
                cells.append("sdp")
                only_sdp += 1
                notes.append(f"{name} {f}: only sd-parsers: {y!r}")
            else:
                cells.append("≠")
                differ += 1
                notes.append(f"{name} {f}: handprint {x!r} / sd-parsers {y!r}")
        print(f"| {name} | {gen} | {' | '.join(cells)} |")
    print()
    print("= same value, ≠ different, hp only handprint found one, sdp only sd-parsers did, · neither")
    print(f"agree {agree}, differ {differ}, handprint only {only_hp}, sd-parsers only {only_sdp}")
    for n in notes:
        print("  " + n)


main()
