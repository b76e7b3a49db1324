#!/usr/bin/env python3
"""How often handprint's watermark payload comes back exactly after each attack.

  python3 scripts/watermark-robustness.py [--images DIR] [--handprint PATH] [--json FILE]

Embeds a distinct 64-bit payload into every image of DIR (default: the Kodak suite beside
the project) with `handprint watermark embed`, measures PSNR and SSIM against the original,
applies each attack, and reads every result back with one `handprint watermark detect
--json`. Prints, per attack, the exact-payload recovery rate, and the false detections on
the unmarked originals under the same attack (any payload found in an unmarked image).
Needs Pillow, numpy and scipy. The goal column is the recovery rate handprint aims at; the
peers are measured by the peer benchmark `peers_watermark.py` on the same images
(`--peer-attacks` runs its attack set).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from transforms import (  # noqa: E402
    chain, crop_area, crop_side, gamma, jpeg, letterbox, noise, overlay, resize, rotate, rotate_cropped, webp)


ATTACKS = {
    "none": (lambda im, idx: im, 0.99),
    "jpeg90": (jpeg(90), 0.99),
    "jpeg70": (jpeg(70), 0.99),
    "jpeg50": (jpeg(50), 0.99),
    "webp75": (webp(75), 0.99),
    "resize75": (resize(0.75), 0.99),
    "resize50": (resize(0.5), 0.99),
    "resize200": (resize(2.0), 0.99),
    "crop80-centre": (crop_area(0.8, "centre"), 0.95),
    "crop80-corner": (crop_area(0.8, "corner"), 0.95),
    "crop60-centre": (crop_area(0.6, "centre"), 0.95),
    "crop60-corner": (crop_area(0.6, "corner"), 0.95),
    "rot2-cropped": (rotate_cropped(2), 0.90),
    "rot5-cropped": (rotate_cropped(5), 0.90),
    "mirror": (lambda im, idx: ImageOps.mirror(im), 0.90),
    "bright130": (lambda im, idx: ImageEnhance.Brightness(im).enhance(1.3), 0.99),
    "bright70": (lambda im, idx: ImageEnhance.Brightness(im).enhance(0.7), 0.99),
    "contrast07": (lambda im, idx: ImageEnhance.Contrast(im).enhance(0.7), 0.99),
    "gamma08": (gamma(0.8), 0.99),
    "gray": (lambda im, idx: ImageOps.grayscale(im).convert("RGB"), 0.99),
    "noise5": (noise(5.0), 0.99),
    "noise8": (noise(8.0), 0.99),
    "median3": (lambda im, idx: im.filter(ImageFilter.MedianFilter(3)), 0.99),
    "logo15": (overlay(0.15), 0.99),
    "screenshot": (chain(resize(0.8), jpeg(80), crop_area(0.95 ** 2, "centre")), 0.95),
    "jpeg70-resize50-jpeg70": (chain(jpeg(70), resize(0.5), jpeg(70)), 0.95),
}


# The attack names and definitions of the peer benchmark (`peers_watermark.py`), for a side
# by side table with `invisible-watermark`.
PEER_ATTACKS = {
    "none": (lambda im, idx: im, None),
    "jpeg75": (jpeg(75), None),
    "jpeg30": (jpeg(30), None),
    "resize50": (resize(0.5), None),
    "resize25": (resize(0.25), None),
    "crop90": (crop_side(0.9), None),
    "crop70": (crop_side(0.7), None),
    "rot3": (rotate(3), None),
    "rot10": (rotate(10), None),
    "hflip": (lambda im, idx: ImageOps.mirror(im), None),
    "bright125": (lambda im, idx: ImageEnhance.Brightness(im).enhance(1.25), None),
    "contrast07": (lambda im, idx: ImageEnhance.Contrast(im).enhance(0.7), None),
    "noise8": (noise(8.0), None),
    "overlay20": (overlay(0.20), None),
    "gray": (lambda im, idx: ImageOps.grayscale(im).convert("RGB"), None),
    "letterbox10": (letterbox(0.10), None),
}


def ssim(a, b):
    """Mean SSIM of the luminance (Gaussian window σ 1.5, as Wang et al. 2004)."""
    def y(im):
        x = np.asarray(im, dtype=np.float64)
        return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    x, z = y(a), y(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, mz = gaussian_filter(x, 1.5), gaussian_filter(z, 1.5)
    sxx = gaussian_filter(x * x, 1.5) - mx * mx
    szz = gaussian_filter(z * z, 1.5) - mz * mz
    sxz = gaussian_filter(x * z, 1.5) - mx * mz
    m = ((2 * mx * mz + c1) * (2 * sxz + c2)) / ((mx * mx + mz * mz + c1) * (sxx + szz + c2))
    return float(m.mean())


def psnr(a, b):
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    mse = float((d * d).mean())
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(HERE, "..", "..", "shared", "data", "kodak"))
    ap.add_argument("--handprint", default=os.path.join(HERE, "..", "target", "release", "handprint"))
    ap.add_argument("--attacks", help="comma-separated subset of: " + ", ".join(ATTACKS))
    ap.add_argument("--peer-attacks", action="store_true",
                    help="use the peer benchmark's attack set instead (names as peers_watermark.py prints them)")
    ap.add_argument("--json", help="write the table as JSON to this file")
    args = ap.parse_args()
    table_of = PEER_ATTACKS if args.peer_attacks else ATTACKS
    attacks = [a.strip() for a in args.attacks.split(",")] if args.attacks else list(table_of)
    exts = (".png", ".jpg", ".jpeg", ".webp")
    images = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.lower().endswith(exts))
    if not images:
        sys.exit(f"{args.images}: no images")
    with tempfile.TemporaryDirectory() as tmp:
        payloads, psnrs, ssims, files = {}, [], [], []
        for idx, path in enumerate(images):
            stem = os.path.splitext(os.path.basename(path))[0]
            payload = hashlib.sha256(stem.encode()).hexdigest()[:16]
            marked_path = os.path.join(tmp, f"{stem}-marked.png")
            run([args.handprint, "watermark", "embed", path, marked_path, "--payload", payload])
            original = Image.open(path).convert("RGB")
            marked = Image.open(marked_path).convert("RGB")
            psnrs.append(psnr(original, marked))
            ssims.append(ssim(original, marked))
            for name in attacks:
                fn = table_of[name][0]
                for kind, im in (("marked", marked), ("unmarked", original)):
                    out = os.path.join(tmp, f"{stem}--{name}--{kind}.png")
                    fn(im, idx).save(out, compress_level=1)
                    files.append(out)
                    payloads[out] = (name, kind, payload)
        results = {}
        for chunk in range(0, len(files), 200):
            for line in run([args.handprint, "watermark", "detect", "--json", *files[chunk:chunk + 200]]).splitlines():
                r = json.loads(line)
                results[r["file"]] = r
    print(f"{len(images)} images from {args.images}: PSNR min {min(psnrs):.2f} dB (mean {sum(psnrs) / len(psnrs):.2f}), "
          f"SSIM min {min(ssims):.4f} (mean {sum(ssims) / len(ssims):.4f})")
    print("| attack | goal | exact payload | false detections on unmarked |")
    print("|---|---|---|---|")
    table = {"psnr_min": min(psnrs), "ssim_min": min(ssims), "attacks": {}}
    missed = []
    for name in attacks:
        ok = false = n = 0
        failed = []
        for f, (a, kind, payload) in payloads.items():
            if a != name:
                continue
            r = results.get(f, {})
            if kind == "marked":
                n += 1
                ok += r.get("payload") == payload
                if r.get("payload") != payload:
                    failed.append(os.path.basename(f).split("--")[0])
            else:
                false += bool(r.get("found"))
        goal = table_of[name][1]
        table["attacks"][name] = {"recovered": ok, "images": n, "false": false, "missed": failed}
        shown = f"{goal * 100:.0f}%" if goal else "–"
        print(f"| {name} | {shown} | {ok / n * 100:.1f}% ({ok}/{n}) | {false}/{n} |")
        missed += [f"{name}: {', '.join(failed)}"] if failed else []
    if missed:
        print("\nNot recovered:\n  " + "\n  ".join(missed))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table, fh, indent=1)


if __name__ == "__main__":
    main()
