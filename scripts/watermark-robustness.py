#!/usr/bin/env python3
"""How often handprint's watermark payload comes back exactly after each attack.

  python3 scripts/watermark-robustness.py [--images DIR] [--handprint PATH] [--json FILE]

Embeds a distinct 64-bit payload into every image of DIR (default: the Kodak suite beside
the project) with `handprint watermark embed`, measures PSNR and SSIM against the original,
applies each attack, and reads every result back with one `handprint watermark detect
--json`. Prints, per attack, the exact-payload recovery rate, and the false detections on
the unmarked originals under the same attack (any payload found in an unmarked image).
Needs Pillow, numpy and scipy. Attack names follow the issue; the peers are measured by
the peer benchmark `peers_watermark.py` on the same images.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))


def jpeg(q):
    def f(im, idx):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return f


def webp(q):
    def f(im, idx):
        buf = io.BytesIO()
        im.save(buf, "WEBP", quality=q)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return f


def resize(s):
    def f(im, idx):
        w, h = im.size
        return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return f


def crop_area(area, where):
    def f(im, idx):
        w, h = im.size
        s = math.sqrt(area)
        cw, ch = round(w * s), round(h * s)
        if where == "centre":
            l, t = (w - cw) // 2, (h - ch) // 2
        else:
            l = 0 if idx % 2 == 0 else w - cw
            t = 0 if (idx // 2) % 2 == 0 else h - ch
        return im.crop((l, t, l + cw, t + ch))
    return f


def rotate_cropped(deg):
    """Rotate about the centre, then crop the largest centred rectangle of the same aspect
    ratio that holds no border."""
    def f(im, idx):
        w, h = im.size
        r = im.rotate(deg, resample=Image.BICUBIC, expand=False)
        a = math.radians(abs(deg))
        k = 1.0 / (math.cos(a) + max(w / h, h / w) * math.sin(a))
        cw, ch = int(w * k), int(h * k)
        l, t = (w - cw) // 2, (h - ch) // 2
        return r.crop((l, t, l + cw, t + ch))
    return f


def gamma(g):
    def f(im, idx):
        lut = [round(255 * (v / 255) ** g) for v in range(256)]
        return im.point(lut * 3)
    return f


def noise(sigma):
    def f(im, idx):
        rng = np.random.default_rng(1000 + idx)
        a = np.asarray(im, dtype=np.float32) + rng.normal(0.0, sigma, (im.size[1], im.size[0], 3)).astype(np.float32)
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "RGB")
    return f


def logo(area):
    def f(im, idx):
        im = im.copy()
        w, h = im.size
        s = math.sqrt(area)
        bw, bh = round(w * s), round(h * s)
        x0, y0 = w - bw - round(0.03 * w), h - bh - round(0.03 * h)
        d = ImageDraw.Draw(im)
        d.rectangle((x0, y0, x0 + bw - 1, y0 + bh - 1), fill=(250, 250, 250), outline=(200, 30, 30), width=4)
        d.ellipse((x0 + bh // 8, y0 + bh // 8, x0 + bh // 8 + bh // 2, y0 + bh // 8 + bh // 2), fill=(200, 30, 30))
        return im
    return f


def chain(*steps):
    def f(im, idx):
        for s in steps:
            im = s(im, idx)
        return im
    return f


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
    "logo15": (logo(0.15), 0.99),
    "screenshot": (chain(resize(0.8), jpeg(80), crop_area(0.95 ** 2, "centre")), 0.95),
    "jpeg70-resize50-jpeg70": (chain(jpeg(70), resize(0.5), jpeg(70)), 0.95),
}


def crop_side(keep):
    def f(im, idx):
        w, h = im.size
        cw, ch = round(w * keep), round(h * keep)
        l, t = (w - cw) // 2, (h - ch) // 2
        return im.crop((l, t, l + cw, t + ch))
    return f


def rotate_black(deg):
    def f(im, idx):
        return im.rotate(deg, resample=Image.BICUBIC, expand=False, fillcolor=(0, 0, 0))
    return f


def letterbox(frac):
    def f(im, idx):
        w, h = im.size
        pad = round(frac * h)
        out = Image.new("RGB", (w, h + 2 * pad), (0, 0, 0))
        out.paste(im, (0, pad))
        return out
    return f


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
    "rot3": (rotate_black(3), None),
    "rot10": (rotate_black(10), None),
    "hflip": (lambda im, idx: ImageOps.mirror(im), None),
    "bright125": (lambda im, idx: ImageEnhance.Brightness(im).enhance(1.25), None),
    "contrast07": (lambda im, idx: ImageEnhance.Contrast(im).enhance(0.7), None),
    "noise8": (noise(8.0), None),
    "overlay20": (logo(0.20), None),
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
    for name in attacks:
        ok = false = n = 0
        for f, (a, kind, payload) in payloads.items():
            if a != name:
                continue
            r = results.get(f, {})
            if kind == "marked":
                n += 1
                ok += r.get("payload") == payload
            else:
                false += bool(r.get("found"))
        goal = table_of[name][1]
        table["attacks"][name] = {"recovered": ok, "images": n, "false": false}
        shown = f"{goal * 100:.0f}%" if goal else "–"
        print(f"| {name} | {shown} | {ok / n * 100:.1f}% ({ok}/{n}) | {false}/{n} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table, fh, indent=1)


if __name__ == "__main__":
    main()
