#!/usr/bin/env python3
"""How often handprint finds a copy, and how often it names the wrong work.

  python3 scripts/accuracy.py [--images DIR] [--handprint PATH] [--peers]

Registers every image of DIR (default: the Kodak suite beside the project) as a work in a
fresh data directory, makes each transform of each image, runs `handprint scan --json`
over all of them, and prints per transform:

  detection  the share of transformed images whose own work is among the matches
  false      the share of (transformed image, other work) pairs reported as a match

for handprint (global hashes, then local features), and, with --peers, for PDQ alone
(`pdqhash`, distance <= 31, original orientation) and pHash alone (`imagehash.phash`,
distance <= 10) computed by the Python packages on the same images. Needs Pillow and numpy
(and pdqhash, imagehash for --peers). Transform names follow the peer benchmarks where the
transform is the same; the crops by area are handprint's own.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from transforms import border, chain, crop_area, crop_side, jpeg, letterbox, noise, overlay, resize, rotate  # noqa: E402


# name -> (function, description, goal: the detection rate handprint aims at)
TRANSFORMS = {
    "none": (lambda im, idx: im, "no change", 0.99),
    "jpeg75": (jpeg(75), "JPEG quality 75", 0.99),
    "jpeg30": (jpeg(30), "JPEG quality 30", 0.99),
    "resize50": (resize(0.5), "resize to 50% per side (Lanczos)", 0.99),
    "resize25": (resize(0.25), "resize to 25% per side (Lanczos)", 0.99),
    "crop90": (crop_side(0.9), "centre crop, 90% of each side (81% of the area)", 0.90),
    "area90-centre": (crop_area(0.9, "centre"), "crop keeping 90% of the area, centre", 0.99),
    "area90-corner": (crop_area(0.9, "corner"), "crop keeping 90% of the area, a corner", 0.99),
    "area70-centre": (crop_area(0.7, "centre"), "crop keeping 70% of the area, centre", 0.90),
    "area70-corner": (crop_area(0.7, "corner"), "crop keeping 70% of the area, a corner", 0.90),
    "area60-centre": (crop_area(0.6, "centre"), "crop keeping 60% of the area, centre", 0.90),
    "area60-corner": (crop_area(0.6, "corner"), "crop keeping 60% of the area, a corner", 0.90),
    "rot3": (rotate(3), "rotate 3°, same canvas, black corners", 0.99),
    "rot10": (rotate(10), "rotate 10°, same canvas, black corners", 0.90),
    "hflip": (lambda im, idx: ImageOps.mirror(im), "horizontal mirror", 0.99),
    "bright125": (lambda im, idx: ImageEnhance.Brightness(im).enhance(1.25), "brightness ×1.25", 0.99),
    "contrast07": (lambda im, idx: ImageEnhance.Contrast(im).enhance(0.7), "contrast ×0.7", 0.99),
    "noise8": (noise(8.0), "Gaussian noise σ 8", 0.99),
    "overlay20": (overlay(0.20), "logo and text over 20% of the area", 0.99),
    "gray": (lambda im, idx: ImageOps.grayscale(im).convert("RGB"), "grayscale", 0.99),
    "letterbox10": (letterbox(0.10), "black bars top and bottom, 10% of the height each", 0.99),
    "border10": (border(0.10), "white border, 10% of each side", 0.99),
    "chain": (chain(crop_area(0.9, "corner"), resize(0.5), jpeg(75)),
              "crop to 90% of the area (corner), resize 50%, JPEG 75", 0.99),
}


def make(images, out, jpeg_quality=None):
    """Writes out/<transform>/<stem>.png (or .jpg at `jpeg_quality`); returns
    [(transform, stem, path)]."""
    made = []
    for name, (fn, _, _) in TRANSFORMS.items():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for idx, path in enumerate(images):
            im = Image.open(path).convert("RGB")
            t = fn(im, idx)
            if jpeg_quality:
                dest = os.path.join(out, name, stem(path) + ".jpg")
                t.save(dest, quality=jpeg_quality)
            else:
                dest = os.path.join(out, name, stem(path) + ".png")
                t.save(dest, compress_level=1)
            made.append((name, stem(path), dest))
    return made


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def handprint_matches(exe, images, made, home, jpeg_scale_to):
    env = dict(os.environ, HANDPRINT_HOME=home, HANDPRINT_PASSPHRASE="")
    run([exe, "init", "--name", "Accuracy Test"], env=env)
    work_of = {}
    for path in images:
        out = json.loads(run([exe, "register", path, "--title", stem(path), "--json"], env=env))
        work_of[out["work"]] = stem(path)
    found = {}  # (transform, stem) -> {stem: how}
    paths = {p: (t, s) for t, s, p in made}
    out = run([exe, "scan", "--json", "--no-side-by-side", "--jpeg-scale-to", str(jpeg_scale_to), *paths], env=env)
    for line in out.splitlines():
        rec = json.loads(line)
        if "file" not in rec or rec["file"] not in paths:
            continue
        key = paths[rec["file"]]
        found[key] = {work_of[m["work"]]: m["matched_by"] for m in rec.get("matches", [])}
    return found


def peer_matches(images, made):
    import imagehash
    import pdqhash

    def pdq(im):
        bits, _ = pdqhash.compute(np.ascontiguousarray(np.asarray(im)))
        return bits.astype(bool)

    def ph(im):
        return imagehash.phash(im).hash.ravel()

    originals = {stem(p): Image.open(p).convert("RGB") for p in images}
    reg = {s: (pdq(im), ph(im)) for s, im in originals.items()}
    pdq_found, ph_found = {}, {}
    for t, s, p in made:
        im = Image.open(p).convert("RGB")
        qp, qh = pdq(im), ph(im)
        pdq_found[(t, s)] = {w: "pdq" for w, (rp, _) in reg.items() if np.count_nonzero(rp != qp) <= 31}
        ph_found[(t, s)] = {w: "phash" for w, (_, rh) in reg.items() if np.count_nonzero(rh != qh) <= 10}
    return pdq_found, ph_found


def rates(found, stems, transform, only=None):
    """(detected, images, false matches, pairs of an image and another work)."""
    hits = falses = 0
    for s in stems:
        m = found.get((transform, s), {})
        if only:
            m = {w: how for w, how in m.items() if how in only}
        hits += s in m
        falses += sum(1 for w in m if w != s)
    return hits, len(stems), falses, len(stems) * (len(stems) - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(HERE, "..", "..", "shared", "data", "kodak"))
    ap.add_argument("--handprint", default=os.path.join(HERE, "..", "target", "release", "handprint"))
    ap.add_argument("--peers", action="store_true", help="also PDQ and pHash alone, by the Python packages")
    ap.add_argument("--keep", help="write the transformed images here and keep them")
    ap.add_argument("--as-jpeg", type=int, metavar="QUALITY",
                    help="store the transformed images as JPEG of this quality (default: PNG)")
    ap.add_argument("--jpeg-scale-to", type=int, default=512, metavar="PIXELS",
                    help="passed to `handprint scan` (0: decode JPEGs at full size)")
    ap.add_argument("--json", help="write the table as JSON to this file")
    args = ap.parse_args()
    exts = (".png", ".jpg", ".jpeg", ".webp")
    images = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.lower().endswith(exts))
    if len(images) < 2:
        sys.exit(f"{args.images}: need at least two images")
    stems = [stem(p) for p in images]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or os.path.join(tmp, "transformed")
        made = make(images, out, args.as_jpeg)
        found = handprint_matches(args.handprint, images, made, os.path.join(tmp, "home"), args.jpeg_scale_to)
        peers = peer_matches(images, made) if args.peers else None
    cols = ["handprint", "handprint, PDQ codes only"] + (["PDQ (pdqhash)", "pHash (imagehash)"] if peers else [])
    stored = f"JPEG q{args.as_jpeg}, scanned with --jpeg-scale-to {args.jpeg_scale_to}" if args.as_jpeg else "PNG"
    print(f"{len(images)} images from {args.images}, copies stored as {stored}; per transform: detected "
          f"copies, and false matches among the pairs of a transformed image and another work")
    print("| transform | goal | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    table = {}
    for t, (_, desc, goal) in TRANSFORMS.items():
        row = [rates(found, stems, t), rates(found, stems, t, only={"pdq"})]
        if peers:
            row += [rates(peers[0], stems, t), rates(peers[1], stems, t)]
        table[t] = {"description": desc, "goal": goal,
                    **{c: {"detected": h, "images": n, "false": f, "pairs": p} for c, (h, n, f, p) in zip(cols, row)}}
        cells = " | ".join(f"{h / n * 100:.1f}% ({h}/{n}), false {f}/{p}" for h, n, f, p in row)
        print(f"| {t} | {goal * 100:.0f}% | {cells} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
