#!/usr/bin/env python3
"""Writes the real-layout fixtures: each file is produced with the libraries and calls the
named program uses to save its images (Pillow, piexif), after reading its saving code; the
module of each family names, per layout, the source file and commit it follows.

Also writes expected.json: per file, the generation fields the program was given (not what
handprint reads), which crates/capture/tests/real_files.rs compares with `inspect`.

Run from anywhere (needs Pillow and piexif: `pip install -r requirements.txt`):
    python3 crates/capture/tests/real/make.py
The files are committed; the tests read them without Python.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import layouts_exif  # noqa: E402  EXIF-borne layouts (A1111/Forge/SD.Next, ComfyUI, NovelAI, Civitai)
import layouts_json  # noqa: E402  JSON front ends and ComfyUI graphs

FILES = os.path.join(HERE, "files")


def main():
    os.makedirs(FILES, exist_ok=True)
    expected = {}
    for module in (layouts_exif, layouts_json):
        for layout in module.layouts():
            path = os.path.join(FILES, layout["file"])
            layout["write"](path)
            entry = {k: v for k, v in layout.items() if k not in ("write",)}
            if layout["file"] in expected:
                sys.exit(f"two layouts write {layout['file']}")
            expected[layout["file"]] = entry
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print(f"{len(expected)} files in {FILES}")


if __name__ == "__main__":
    main()
