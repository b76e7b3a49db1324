#!/usr/bin/env python3
"""Seeds each fuzz target's corpus from the sample images: whole files for `inspect`,
and the metadata payloads each parser reads for the others."""
import os, struct, sys, zlib

samples = sys.argv[1] if len(sys.argv) > 1 else "../samples"
def put(target, name, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

for name in sorted(os.listdir(samples)):
    data = open(os.path.join(samples, name), "rb").read()
    put("inspect", name, data)
    if data.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            pos += 12 + length
            if kind == b"caBX":
                put("c2pa", name, body)
            if kind not in (b"tEXt", b"iTXt", b"zTXt"):
                continue
            key, _, rest = body.partition(b"\0")
            if kind == b"zTXt":
                rest = zlib.decompress(rest[1:])
            elif kind == b"iTXt":
                flag, rest = rest[0], rest[2:]
                rest = rest.split(b"\0", 2)[2]
                if flag:
                    rest = zlib.decompress(rest)
            target = {b"prompt": "comfyui", b"workflow": "comfyui", b"Comment": "novelai",
                      b"XML:com.adobe.xmp": "xmp"}.get(key, "parameters")
            put(target, f"{name}-{key.decode('latin-1')}", rest)
    elif data.startswith(b"\xff\xd8"):
        i = data.find(b"Exif\0\0")
        if i > 0:
            seg_len = struct.unpack(">H", data[i - 2:i])[0]
            put("exif", name, data[i + 6:i - 2 + seg_len])
