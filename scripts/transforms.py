"""The transforms and attacks the accuracy and robustness scripts apply, on RGB Pillow images.

Every function returns a transform `f(image, index) -> image`; `index` (the image's number)
seeds what varies: the noise, and which corner a corner crop keeps. Names and definitions
follow the peer benchmarks where they measure the same thing.
"""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def reencode(fmt, q):
    """Saved by Pillow as `fmt` at quality `q` and decoded again."""
    def f(im, idx):
        buf = io.BytesIO()
        im.save(buf, fmt, quality=q)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return f


def jpeg(q):
    return reencode("JPEG", q)


def webp(q):
    return reencode("WEBP", q)


def resize(s):
    def f(im, idx):
        w, h = im.size
        return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return f


def crop_side(keep):
    """Centre crop keeping `keep` of each side."""
    def f(im, idx):
        w, h = im.size
        cw, ch = round(w * keep), round(h * keep)
        l, t = (w - cw) // 2, (h - ch) // 2
        return im.crop((l, t, l + cw, t + ch))
    return f


def crop_area(area, where):
    """Keep `area` of the area, same aspect ratio, at the centre or at a corner (the corner
    turns with the image number)."""
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


def rotate(deg):
    """Counter-clockwise about the centre, same canvas, black corners."""
    def f(im, idx):
        return im.rotate(deg, resample=Image.BICUBIC, expand=False, fillcolor=(0, 0, 0))
    return f


def rotate_cropped(deg):
    """Rotate about the centre, then keep the largest centred rectangle of the same aspect
    ratio that holds no corner."""
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
    """Additive Gaussian noise, seeded by the image number."""
    def f(im, idx):
        rng = np.random.default_rng(1000 + idx)
        a = np.asarray(im, dtype=np.float32)
        a = a + rng.normal(0.0, sigma, a.shape).astype(np.float32)
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "RGB")
    return f


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def overlay(area):
    """An opaque logo and text box over `area` of the image, lower right, 3% margin."""
    def f(im, idx):
        im = im.copy()
        w, h = im.size
        s = math.sqrt(area)
        bw, bh = round(w * s), round(h * s)
        x0, y0 = w - bw - round(0.03 * w), h - bh - round(0.03 * h)
        d = ImageDraw.Draw(im)
        d.rectangle((x0, y0, x0 + bw - 1, y0 + bh - 1), fill=(250, 250, 250),
                    outline=(200, 30, 30), width=max(2, bh // 20))
        d.ellipse((x0 + bh // 8, y0 + bh // 8, x0 + bh // 8 + bh // 2, y0 + bh // 8 + bh // 2),
                  fill=(200, 30, 30))
        d.text((x0 + bh // 8, y0 + 5 * bh // 8), "(c) SAMPLE", fill=(0, 0, 0), font=_font(max(10, bh // 6)))
        return im
    return f


def letterbox(frac):
    """Black bars above and below, each `frac` of the height."""
    def f(im, idx):
        w, h = im.size
        pad = round(frac * h)
        out = Image.new("RGB", (w, h + 2 * pad), (0, 0, 0))
        out.paste(im, (0, pad))
        return out
    return f


def border(frac):
    """A white frame on every side, `frac` of the width (left, right) and height (top, bottom)."""
    def f(im, idx):
        w, h = im.size
        px, py = round(frac * w), round(frac * h)
        out = Image.new("RGB", (w + 2 * px, h + 2 * py), (255, 255, 255))
        out.paste(im, (px, py))
        return out
    return f


def chain(*steps):
    def f(im, idx):
        for s in steps:
            im = s(im, idx)
        return im
    return f
