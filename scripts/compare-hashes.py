#!/usr/bin/env python3
"""handprint's PDQ against Meta's reference (PyPI `pdqhash`, which wraps the reference C++),
and its pHash against `imagehash.phash`.

  scripts/compare-hashes.py [--images DIR]

For every image in DIR (default ../shared/data/kodak) and transformed versions of it (JPEG
quality 75 and 30, resize to 50%, rotation 90, mirror, brightness +25%, grayscale, crop to
90%), both hash the same decoded pixels (saved as PNG); prints how many hashes are identical
and the largest Hamming distance, per transform, and checks the eight dihedral hashes.
Needs numpy, pillow, pdqhash and imagehash (in a venv: pip install pdqhash imagehash numpy pillow).
"""
import argparse
import io
import os
import subprocess
import tempfile

import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageEnhance, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ref_hex(bits):
    """The reference's hex form (words 15..0) from pdqhash's bit vector (bit 255 first)."""
    words = [0] * 16
    for k, b in enumerate(reversed(list(bits))):
        if b:
            words[k >> 4] |= 1 << (k & 15)
    return "".join("%04x" % w for w in reversed(words))


def jpeg(im, q):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


TRANSFORMS = {
    "none": lambda im: im,
    "jpeg75": lambda im: jpeg(im, 75),
    "jpeg30": lambda im: jpeg(im, 30),
    "resize50": lambda im: im.resize((im.width // 2, im.height // 2), Image.BILINEAR),
    "rotate90": lambda im: im.transpose(Image.ROTATE_90),
    "mirror": lambda im: ImageOps.mirror(im),
    "brightness125": lambda im: ImageEnhance.Brightness(im).enhance(1.25),
    "grayscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "crop90": lambda im: im.crop((im.width // 20, im.height // 20, im.width - im.width // 20, im.height - im.height // 20)),
}


def ours(paths, flag=None):
    cmd = ["cargo", "run", "-q", "--release", "-p", "handprint-fingerprint", "--example", "pdq", "--"]
    out = subprocess.run(cmd + ([flag] if flag else []) + paths, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    if flag == "--phash":
        return {line.split(" ", 1)[1]: line.split(" ")[0] for line in out.splitlines()}
    return {line.split(" ", 2)[2]: (line.split(" ")[0], int(line.split(" ")[1])) for line in out.splitlines()}


def distance(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", default=os.path.join(ROOT, "..", "shared", "data", "kodak"))
    args = ap.parse_args()
    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    tmp = tempfile.mkdtemp()
    jobs = []
    for name in names:
        im = Image.open(os.path.join(args.images, name)).convert("RGB")
        for t, f in TRANSFORMS.items():
            path = os.path.join(tmp, f"{t}--{os.path.splitext(name)[0]}.png")
            f(im).convert("RGB").save(path)
            jobs.append((t, path))
    mine = ours([p for _, p in jobs])
    print("PDQ")
    print("| transform | images | identical | max distance | quality equal |")
    print("|---|---|---|---|---|")
    total = same_all = 0
    worst = 0
    for t in TRANSFORMS:
        rows = [p for tt, p in jobs if tt == t]
        same = maxd = qsame = 0
        for p in rows:
            rgb = np.ascontiguousarray(np.asarray(Image.open(p).convert("RGB")))
            bits, q = pdqhash.compute(rgb)
            d = distance(ref_hex(bits), mine[p][0])
            same += d == 0
            maxd = max(maxd, d)
            qsame += q == mine[p][1]
        total += len(rows)
        same_all += same
        worst = max(worst, maxd)
        print(f"| {t} | {len(rows)} | {same} | {maxd} | {qsame} |")
    print(f"\nall: {same_all} of {total} identical ({100 * same_all / total:.1f}%), largest distance {worst}")
    originals = [p for t, p in jobs if t == "none"]
    dih = ours(originals, "--dihedral")
    ok = 0
    for p in originals:
        rgb = np.ascontiguousarray(np.asarray(Image.open(p).convert("RGB")))
        ref = [ref_hex(b) for b in pdqhash.compute_dihedral(rgb)[0]]
        ok += ref == dih[p][0].split(",")
    print(f"dihedral: all eight hashes identical on {ok} of {len(originals)} images")

    print("\npHash (imagehash.phash)")
    print("| transform | images | identical | max distance |")
    print("|---|---|---|---|")
    mine = ours([p for _, p in jobs], "--phash")
    same_all = 0
    for t in TRANSFORMS:
        rows = [p for tt, p in jobs if tt == t]
        same = maxd = 0
        for p in rows:
            d = distance(str(imagehash.phash(Image.open(p))), mine[p])
            same += d == 0
            maxd = max(maxd, d)
        same_all += same
        print(f"| {t} | {len(rows)} | {same} | {maxd} |")
    print(f"\nall: {same_all} of {len(jobs)} identical")


main()
