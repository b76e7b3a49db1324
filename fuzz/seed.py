#!/usr/bin/env python3
"""Seeds each fuzz target's corpus from the sample images: whole files for `inspect`,
and the metadata payloads each parser reads for the others. Also small versions of files
built to hurt: long ComfyUI node chains, a graph of many samplers, many compressed texts."""
import json, os, struct, sys, zlib

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


# ---- crafted inputs (small versions of the attacks the limits are for) ----

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def png(chunks):
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    rows = b"".join(b"\0" + bytes(48) for _ in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(chunks)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

def text(key, value):
    return chunk(b"tEXt", key.encode() + b"\0" + value.encode())

def ztxt(key, value):
    return chunk(b"zTXt", key.encode() + b"\0\0" + zlib.compress(value if isinstance(value, bytes) else value.encode()))

def graph(extra, **sampler):
    inputs = {"seed": 7, "steps": 20, "cfg": 6.5, "sampler_name": "euler", "scheduler": "normal",
              "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0]}
    inputs.update(sampler)
    g = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
         "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
         "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
         "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
         "9": {"class_type": "KSampler", "inputs": inputs}}
    g.update(extra)
    return json.dumps(g, separators=(",", ":"))

def chain(n, node):
    nodes, previous = {}, None
    for i in range(n):
        nodes[str(100 + i)] = node(previous)
        previous = str(100 + i)
    return nodes, previous

CHAIN = 2000
cond, last = chain(CHAIN, lambda p: {"class_type": "ConditioningCombine",
                                     "inputs": {"conditioning_1": [p or "2", 0], "conditioning_2": ["2", 0]}})
primitive, last_p = chain(CHAIN, lambda p: {"class_type": "PrimitiveNode", "inputs": {"value": [p, 0] if p else 42}})
strings, last_s = chain(CHAIN, lambda p: {"class_type": "StringConcatenate",
                                          "inputs": {"text_a": [p, 0] if p else "start", "text_b": "w", "delimiter": " "}})
strings["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": [last_s, 0]}}
samplers = {str(1000 + k): {"class_type": "KSampler", "inputs": {
    "seed": k, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "model": ["1", 0],
    "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0]}} for k in range(50)}
graphs = {
    "chain-conditioning": graph(cond, positive=[last, 0]),
    "chain-primitive-seed": graph(primitive, seed=[last_p, 0]),
    "chain-string": graph(strings),
    "samplers-50": graph(samplers),
}
for name, g in graphs.items():
    put("comfyui", name, g.encode())
    put("inspect", f"{name}.png", png([ztxt("prompt", g)]))
put("inspect", "samplers-50-text.png", png([text("prompt", graphs["samplers-50"])]))
mebibyte = b"a" * (1 << 20)
put("inspect", "ztxt-20-of-1mib.png",
    png([ztxt(f"junk{k:02}", mebibyte) for k in range(20)]
        + [ztxt("parameters", "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 16x16")]))
