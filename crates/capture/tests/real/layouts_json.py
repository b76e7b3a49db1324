"""JSON front ends and ComfyUI graphs. See make.py.

Graphs are not made up: comfyui_graphs.json holds the API graphs (`prompt`) and UI graphs
(`workflow`) read out of real outputs, each naming the file it came from (ComfyUI's own
examples, and front ends' outputs collected in enslo/sd-metadata's samples). Each layout below
writes them again with the saving calls of the program named in its `follows`.
"""
import json
import os
import re
import struct
import zlib

from PIL import Image
from PIL.PngImagePlugin import PngInfo

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "comfyui_graphs.json"), encoding="utf-8") as f:
    GRAPHS = json.load(f)

COMFYUI = "comfyanonymous/ComfyUI nodes.py SaveImage.save_images @ 065c1df017d017aaffce13e2666b2b6eb56393d6"
FOOOCUS = "lllyasviel/Fooocus @ 59f183ab9b8e4a4bbf0fb8bc43886e19e8dfdfae"
RUINED = "runew0lf/RuinedFooocus modules/async_worker.py (process) @ cc3b738182ebeb0a5a12e59c90170fce99b41cbf"
SMATRIX = (
    "LykosAI/StabilityMatrix StabilityMatrix.Avalonia/Helpers/PngDataHelper.cs AddMetadata, "
    "ViewModels/Base/InferenceGenerationViewModelBase.cs ProcessOutputImages, "
    "StabilityMatrix.Core/Models/GenerationParameters.cs @ c255230fb76e92ea4c691d3cff25493e08f5de47"
)


def image(size=(64, 64)):
    return Image.new("RGB", size, (90, 120, 150))


# ---- ComfyUI core: SaveImage.save_images ----
#   metadata = PngInfo()
#   if prompt is not None: metadata.add_text("prompt", json.dumps(prompt))
#   for x in extra_pnginfo: metadata.add_text(x, json.dumps(extra_pnginfo[x]))
#   img.save(path, pnginfo=metadata, compress_level=self.compress_level)   # 4; PreviewImage 1


def comfy_save(path, prompt, extra_pnginfo, size=(64, 64), compress_level=4):
    metadata = PngInfo()
    if prompt is not None:
        metadata.add_text("prompt", json.dumps(prompt))
    for x in extra_pnginfo:
        metadata.add_text(x, json.dumps(extra_pnginfo[x]))
    image(size).save(path, pnginfo=metadata, compress_level=compress_level)


def comfy_layout(file, name, sampler_fields, records):
    g = GRAPHS[name]
    extra = {"workflow": g["workflow"]} if g["workflow"] is not None else {}
    return {
        "file": file,
        "program": "ComfyUI",
        "follows": f"{COMFYUI}; graph from {g['from']}",
        "generator": "comfy-ui",
        "records": records,
        "fields": sampler_fields(g["prompt"]),
        "write": lambda path: comfy_save(path, g["prompt"], extra),
    }


def ksampler_fields(sampler, positive, negative, latent, ckpt):
    def fields(p):
        s = p[sampler]["inputs"]
        out = {
            "seed": s["seed"],
            "steps": s["steps"],
            "cfg_scale": s["cfg"],
            "sampler": s["sampler_name"],
            "scheduler": s["scheduler"],
            "width": p[latent]["inputs"]["width"],
            "height": p[latent]["inputs"]["height"],
            "model": p[ckpt]["inputs"]["ckpt_name"],
            "negative_prompt": p[negative]["inputs"]["text"],
        }
        # Several texts feed an area composition: the whole-image text first, then the
        # area texts, one per line.
        out["prompt"] = "\n".join(p[n]["inputs"]["text"] for n in positive)
        return out

    return fields


def flux_fields(p):
    # SamplerCustomAdvanced 13: noise 25 RandomNoise, guider 22 BasicGuider (no CFG),
    # sampler 16 KSamplerSelect, sigmas 17 BasicScheduler, latent 27.
    return {
        "seed": p["25"]["inputs"]["noise_seed"],
        "steps": p["17"]["inputs"]["steps"],
        "sampler": p["16"]["inputs"]["sampler_name"],
        "scheduler": p["17"]["inputs"]["scheduler"],
        "width": p["27"]["inputs"]["width"],
        "height": p["27"]["inputs"]["height"],
        "model": p["12"]["inputs"]["unet_name"],
        "prompt": p["6"]["inputs"]["text"],
    }


def dual_cfg_fields(p):
    # Group node 37: SamplerCustomAdvanced 37:8, RandomNoise 37:1, DualCFGGuider 37:7,
    # KSamplerSelect 37:0, BasicScheduler 37:3; InstructPixToPixConditioning 37:6 takes the
    # texts 6 (positive) and 7 (negative) and a loaded image (no size in the graph).
    return {
        "seed": p["37:1"]["inputs"]["noise_seed"],
        "steps": p["37:3"]["inputs"]["steps"],
        "cfg_scale": p["37:7"]["inputs"]["cfg_conds"],
        "sampler": p["37:0"]["inputs"]["sampler_name"],
        "scheduler": p["37:3"]["inputs"]["scheduler"],
        "model": p["4"]["inputs"]["ckpt_name"],
        "prompt": p["6"]["inputs"]["text"],
        "negative_prompt": p["7"]["inputs"]["text"],
    }


def sdturbo_fields(p):
    # SamplerCustom 13 with its own noise_seed and cfg, sampler 14, sigmas 22 SDTurboScheduler.
    s = p["13"]["inputs"]
    return {
        "seed": s["noise_seed"],
        "cfg_scale": s["cfg"],
        "steps": p["22"]["inputs"]["steps"],
        "sampler": p["14"]["inputs"]["sampler_name"],
        "width": p["5"]["inputs"]["width"],
        "height": p["5"]["inputs"]["height"],
        "model": p["20"]["inputs"]["ckpt_name"],
        "prompt": p["6"]["inputs"]["text"],
        "negative_prompt": p["7"]["inputs"]["text"],
    }


def comfyui_layouts():
    return [
        # Two passes: KSampler 3 on an empty latent, LatentUpscale 10, KSampler 11.
        comfy_layout("comfyui-two-pass-latent.png", "two_pass_latent",
                     ksampler_fields("3", ["6"], "7", "5", "16"), 2),
        # Area composition (ConditioningSetArea + ConditioningCombine) and a second pass with
        # another checkpoint; the whole-image text 6, then the areas 33, 17, 13, 14.
        comfy_layout("comfyui-area-composition.png", "area_two_pass",
                     ksampler_fields("3", ["6", "33", "17", "13", "14"], "7", "5", "44"), 2),
        comfy_layout("comfyui-sampler-custom-advanced.png", "flux_custom_advanced", flux_fields, 1),
        comfy_layout("comfyui-group-node-dual-cfg.png", "group_node_dual_cfg", dual_cfg_fields, 1),
        comfy_layout("comfyui-sampler-custom-sdturbo.png", "custom_sdturbo", sdturbo_fields, 1),
        # Group node ids "4:1" … "4:5" and "5:0" … "5:2" written by the frontend.
        comfy_layout("comfyui-group-nodes.png", "group_nodes_4_4",
                     ksampler_fields("4:4", ["5:1"], "5:2", "4:1", "5:0"), 1),
    ]


# ---- Fooocus: modules/private_logger.py log(), modules/meta_parser.py ----

FOOOCUS_TASK = {
    "prompt": "a red fox in fresh snow, morning light",
    "negative_prompt": "blurry, lowres",
    "full_prompt": ["a red fox in fresh snow, morning light, cinematic still, sharp focus"],
    "full_negative_prompt": ["blurry, lowres, (worst quality, low quality:1.4)"],
    "steps": 30,
    "width": 1152,
    "height": 896,
    "guidance_scale": 4.0,
    "sharpness": 2.0,
    "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras",
    "seed": 5926418301775211,
    "base_model": "juggernautXL_v8Rundiffusion",
    "base_model_hash": "aeb7e9e6897a1e58b10494bd989d001e3d4bc9b634633cd7b559838f612c2867",
    "version": "Fooocus v2.5.5",
}


def fooocus_metadata_list():
    """async_worker.save_and_log's `d`: (label, key, value) in Fooocus's order."""
    t = FOOOCUS_TASK
    return [
        ("Prompt", "prompt", t["prompt"]),
        ("Negative Prompt", "negative_prompt", t["negative_prompt"]),
        ("Fooocus V2 Expansion", "prompt_expansion", ""),
        ("Styles", "styles", str(["Fooocus Enhance", "Fooocus Sharp"])),
        ("Performance", "performance", "Quality"),
        ("Steps", "steps", t["steps"]),
        ("Resolution", "resolution", str((t["width"], t["height"]))),
        ("Guidance Scale", "guidance_scale", t["guidance_scale"]),
        ("Sharpness", "sharpness", t["sharpness"]),
        ("ADM Guidance", "adm_guidance", str((1.5, 0.8, 0.3))),
        ("Base Model", "base_model", t["base_model"] + ".safetensors"),
        ("Refiner Model", "refiner_model", "None"),
        ("Refiner Switch", "refiner_switch", 0.8),
        ("Sampler", "sampler", t["sampler"]),
        ("Scheduler", "scheduler", t["scheduler"]),
        ("VAE", "vae", "Default (model)"),
        ("Seed", "seed", str(t["seed"])),
        ("Metadata Scheme", "metadata_scheme", "fooocus"),
        ("Version", "version", t["version"]),
    ]


def fooocus_json_text():
    """FooocusMetadataParser.to_string."""
    t = FOOOCUS_TASK
    res = {k: v for _, k, v in fooocus_metadata_list()}
    res["full_prompt"] = t["full_prompt"]
    res["full_negative_prompt"] = t["full_negative_prompt"]
    res["steps"] = t["steps"]
    res["base_model"] = t["base_model"]
    res["base_model_hash"] = t["base_model_hash"]
    res["vae"] = "Default (model)"
    res["loras"] = []
    return json.dumps(dict(sorted(res.items())))


def fooocus_quote(text):
    if "," not in str(text) and "\n" not in str(text) and ":" not in str(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def fooocus_a1111_text():
    """A1111MetadataParser.to_string (no LoRAs, no refiner, no created_by)."""
    t = FOOOCUS_TASK
    data = {k: v for _, k, v in fooocus_metadata_list()}
    sampler = "DPM++ 2M SDE"  # flags.SAMPLERS["dpmpp_2m_sde_gpu"]
    if t["scheduler"] == "karras":  # not in CIVITAI_NO_KARRAS
        sampler += " Karras"
    params = {
        "Steps": t["steps"],
        "Sampler": sampler,
        "Seed": data["seed"],
        "Size": f"{t['width']}x{t['height']}",
        "CFG scale": data["guidance_scale"],
        "Sharpness": data["sharpness"],
        "ADM Guidance": data["adm_guidance"],
        "Model": t["base_model"],
        "Model hash": t["base_model_hash"],
        "Performance": data["performance"],
        "Scheduler": t["scheduler"],
        "VAE": "Default (model)",
        "Raw prompt": t["prompt"],
        "Raw negative prompt": t["negative_prompt"],
        "Version": data["version"],
    }
    text = ", ".join(k if k == v else f"{k}: {fooocus_quote(v)}" for k, v in params.items() if v is not None)
    positive = ", ".join(t["full_prompt"])
    negative = ", ".join(t["full_negative_prompt"])
    negative_text = f"\nNegative prompt: {negative}" if negative else ""
    return f"{positive}{negative_text}\n{text}".strip()


def fooocus_png(path, parameters, scheme):
    pnginfo = PngInfo()
    pnginfo.add_text("parameters", parameters)
    pnginfo.add_text("fooocus_scheme", scheme)
    image().save(path, pnginfo=pnginfo)


def fooocus_webp(path, parameters, scheme):
    """meta_parser.get_exif + log(): Image.Exif with UserComment, Software, MakerNote."""
    exif = Image.Exif()
    exif[0x9286] = parameters
    exif[0x0131] = FOOOCUS_TASK["version"]
    exif[0x927C] = scheme
    image().save(path, quality=95, lossless=False, exif=exif)


def fooocus_fields(prompt, negative, sampler):
    t = FOOOCUS_TASK
    return {
        "prompt": prompt,
        "negative_prompt": negative,
        "seed": t["seed"],
        "steps": t["steps"],
        "cfg_scale": t["guidance_scale"],
        "sampler": sampler,
        "scheduler": t["scheduler"],
        "width": t["width"],
        "height": t["height"],
        "model": t["base_model"],
    }


def fooocus_layouts():
    t = FOOOCUS_TASK
    follows = f"{FOOOCUS} modules/private_logger.py log, modules/meta_parser.py, modules/async_worker.py save_and_log"
    return [
        {
            "file": "fooocus-json.png",
            "program": "Fooocus",
            "follows": follows,
            "generator": "fooocus",
            "fields": fooocus_fields(t["prompt"], t["negative_prompt"], t["sampler"]),
            "write": lambda path: fooocus_png(path, fooocus_json_text(), "fooocus"),
        },
        {
            "file": "fooocus-a1111.png",
            "program": "Fooocus",
            "follows": follows,
            "generator": "fooocus",
            # The A1111 scheme's prompt line holds the prompt as expanded by the styles, and
            # its sampler the A1111 name.
            "fields": fooocus_fields(", ".join(t["full_prompt"]), ", ".join(t["full_negative_prompt"]),
                                     "DPM++ 2M SDE Karras"),
            "write": lambda path: fooocus_png(path, fooocus_a1111_text(), "a1111"),
        },
        {
            "file": "fooocus-json.webp",
            "program": "Fooocus",
            "follows": follows,
            "generator": "fooocus",
            "fields": fooocus_fields(t["prompt"], t["negative_prompt"], t["sampler"]),
            "write": lambda path: fooocus_webp(path, fooocus_json_text(), "fooocus"),
        },
    ]


# ---- RuinedFooocus: modules/async_worker.py ----

RUINED_PROMPT = {
    "Prompt": "a lighthouse on a cliff at dusk, oil painting",
    "Negative": "text, watermark",
    "steps": 30,
    "cfg": 8,
    "width": 1024,
    "height": 1024,
    "seed": 2020047614,
    "sampler_name": "dpmpp_2m_sde_gpu",
    "scheduler": "karras",
    "base_model_name": "sd_xl_base_1.0_0.9vae.safetensors",
    "base_model_hash": "E6BB9EA85BBF7BF29398F3B8A98D2B7E6D6D3D1C6E3C9E4B7A7A8CEE2A1D0E33",
    "loras": [["5A7B1C3E9D0F4B6A8C2E1D3F5A7B9C0E1D2F3A4B5C6D7E8F9A0B1C2D3E4F5A6B", "0.5 - add_detail.safetensors"]],
    "start_step": 0,
    "denoise": None,
    "clip_skip": 1,
    "software": "RuinedFooocus",
}


def ruined_write(path):
    metadata = PngInfo()
    metadata.add_text("parameters", json.dumps(RUINED_PROMPT))
    image().save(path, pnginfo=metadata)


def ruined_layouts():
    p = RUINED_PROMPT
    return [{
        "file": "ruinedfooocus.png",
        "program": "RuinedFooocus",
        "follows": RUINED,
        "generator": "ruined-fooocus",
        "fields": {
            "prompt": p["Prompt"], "negative_prompt": p["Negative"], "seed": p["seed"],
            "steps": p["steps"], "cfg_scale": p["cfg"], "sampler": p["sampler_name"],
            "scheduler": p["scheduler"], "width": p["width"], "height": p["height"],
            "model": p["base_model_name"],
        },
        "write": ruined_write,
    }]


# ---- Stability Matrix: ComfyUI's PreviewImage, then PngDataHelper.AddMetadata ----


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def sm_text_chunk(key, value):
    """BuildTextChunk: tEXt when every character is Latin-1 (written as UTF-8 bytes), else an
    uncompressed iTXt."""
    if any(ord(c) > 0xFF for c in value):
        return png_chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"))
    return png_chunk(b"tEXt", f"{key}\0{value}".encode("utf-8"))


def cs_json(obj):
    """System.Text.Json as in the saved files: compact, non-ASCII as \\uXXXX with upper-case
    hex, whole doubles without a fraction."""
    def whole(v):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: whole(x) for k, x in v.items()}
        if isinstance(v, list):
            return [whole(x) for x in v]
        return v
    text = json.dumps(whole(obj), separators=(",", ":"))
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), text)


def cs_number(v):
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def sm_write(path):
    g = GRAPHS["stability_matrix_hires"]
    # ComfyUI's PreviewImage (a SaveImage with compress_level 1); Stability Matrix sends the
    # graph with no extra_pnginfo, so only `prompt` is written.
    comfy_save(path, g["prompt"], {}, size=(1536, 1536), compress_level=1)
    png = open(path, "rb").read()
    params = dict(g["parameters-json"])
    # AddMetadata sets Width and Height from the image's IHDR.
    params["Width"], params["Height"] = struct.unpack(">II", png[16:24])
    text = (
        f"{params['PositivePrompt']}\nNegative prompt: {params['NegativePrompt']}\n"
        f"Steps: {params['Steps']}, Sampler: {params['Sampler']}, "
        f"CFG scale: {cs_number(params['CfgScale'])}, Seed: {params['Seed']}, "
        f"Size: {params['Width']}x{params['Height']}, "
        f"Model hash: {params['ModelHash']}, Model: {params['ModelName']}"
    )
    inserted = (sm_text_chunk("parameters", text) + sm_text_chunk("parameters-json", cs_json(params))
                + sm_text_chunk("smproj", cs_json(g["smproj"])))
    out, pos, done = bytearray(png[:8]), 8, False
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT" and not done:
            out += inserted
            done = True
        out += png[pos:pos + 12 + length]
        pos += 12 + length
    open(path, "wb").write(bytes(out))


def sm_layouts():
    p = GRAPHS["stability_matrix_hires"]["parameters-json"]
    return [{
        "file": "stabilitymatrix-hires.png",
        "program": "Stability Matrix",
        "follows": f"{SMATRIX}; graph and settings from {GRAPHS['stability_matrix_hires']['from']}",
        "generator": "stability-matrix",
        # Its own record first, then the graph's two passes.
        "records": 3,
        "fields": {
            "prompt": p["PositivePrompt"], "negative_prompt": p["NegativePrompt"], "seed": p["Seed"],
            "steps": p["Steps"], "cfg_scale": p["CfgScale"], "sampler": p["Sampler"],
            "width": 1536, "height": 1536, "model": p["ModelName"],
        },
        "write": sm_write,
    }]


# ---- Tensor.Art (no public source): the layout of a file downloaded from it ----


def tensorart_write(path):
    t = GRAPHS["tensorart"]
    metadata = PngInfo()
    # generation_data: compact JSON, raw UTF-8 in a tEXt chunk, ended by a NUL.
    data = json.dumps(t["generation_data"], separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\0"
    metadata.add_text("generation_data", data)
    metadata.add_text("prompt", json.dumps(t["prompt"], sort_keys=True))
    image().save(path, pnginfo=metadata)


def tensorart_layouts():
    t = GRAPHS["tensorart"]
    d, graph = t["generation_data"], t["prompt"]
    return [{
        "file": "tensorart.png",
        "program": "Tensor.Art",
        "follows": f"no public source; chunks, order and encodings of {t['from']}",
        "generator": "tensor-art",
        "records": 2,
        "fields": {
            "prompt": d["prompt"], "negative_prompt": d["negativePrompt"],
            # generation_data says "-1" (random); the seed used is the graph's KSampler's.
            "seed": graph["11002"]["inputs"]["seed"],
            "steps": d["steps"], "cfg_scale": d["cfgScale"], "sampler": d["ksamplerName"],
            "scheduler": d["schedule"], "width": d["width"], "height": d["height"],
            "model": d["baseModel"]["modelFileName"],
        },
        "write": tensorart_write,
    }]


# ---- Hugging Face Spaces (diffusers + Gradio, the Animagine XL Space pattern) ----

HF_FOLLOWS = (
    "Hugging Face Space cagliostrolab/animagine-xl-3.1 app.py generate() and utils.py save_image "
    "(PngInfo add_text('parameters', json.dumps(metadata))), as copied to GitHub (no commit on "
    "GitHub); keys as in enslo/sd-metadata @ 0270638ac6d09b2f4a53363b97fc3114f6eb0c88 "
    "samples/png/huggingface-space.png and huggingface-space-upscale.png"
)


def hf_write(metadata):
    def write(path):
        info = PngInfo()
        info.add_text("parameters", json.dumps(metadata))
        image().save(path, "PNG", pnginfo=info)
    return write


def hf_layouts():
    plain = {  # 4.0-style: Model and Model hash at the top level
        "prompt": "1girl, solo, silver hair, night city, neon, masterpiece, high score",
        "negative_prompt": "lowres, bad anatomy, bad hands, text, error",
        "resolution": "832 x 1216",
        "guidance_scale": 5.0,
        "num_inference_steps": 28,
        "style_preset": "(None)",
        "seed": 1742318563,
        "sampler": "Euler a",
        "Model": "Animagine XL 4.0 Opt",
        "Model hash": "6327eca98b",
        "use_upscaler": None,
    }
    upscaled = {  # 3.1-style with the upscaler: no Model entry
        "prompt": "1boy, solo, armor, castle, sunset, masterpiece, best quality",
        "negative_prompt": "nsfw, lowres, bad anatomy, worst quality",
        "resolution": "896 x 1152",
        "guidance_scale": 7.0,
        "num_inference_steps": 28,
        "seed": 918273645,
        "sampler": "DPM++ 2M Karras",
        "sdxl_style": "(None)",
        "add_quality_tags": True,
        "quality_tags": "Standard v3.1",
        "use_upscaler": {"upscale_method": "nearest-exact", "upscaler_strength": 0.55,
                         "upscale_by": 1.5, "new_resolution": "1344 x 1728"},
    }

    def fields(m):
        w, h = (int(x) for x in m["resolution"].split(" x "))
        out = {"prompt": m["prompt"], "negative_prompt": m["negative_prompt"], "seed": m["seed"],
               "steps": m["num_inference_steps"], "cfg_scale": m["guidance_scale"],
               "sampler": m["sampler"], "width": w, "height": h}
        if isinstance(m.get("Model"), str):
            out["model"] = m["Model"]
        return out

    return [
        {"file": "hf-space.png", "program": "Hugging Face Space", "follows": HF_FOLLOWS,
         "generator": "hf-space", "fields": fields(plain), "write": hf_write(plain)},
        {"file": "hf-space-upscale.png", "program": "Hugging Face Space", "follows": HF_FOLLOWS,
         "generator": "hf-space", "fields": fields(upscaled), "write": hf_write(upscaled)},
    ]


def layouts():
    return (comfyui_layouts() + fooocus_layouts() + ruined_layouts() + sm_layouts()
            + tensorart_layouts() + hf_layouts())
