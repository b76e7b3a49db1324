"""EXIF-borne layouts: AUTOMATIC1111, Forge, reForge and SD.Next JPEG/WebP (piexif), PNG eXIf,
ComfyUI's own WebP saver and the saver nodes, Civitai's generator, NovelAI's WebP, Stability
Matrix's WebP. See make.py.

Each layout names the program's repository, the file and the commit whose saving code it
follows; the write function makes the same library calls (Pillow, piexif) with the same
arguments. Pixels do not matter: every image is a small gradient.
"""
import json

import piexif
import piexif.helper
from PIL import ExifTags, Image

A1111 = "AUTOMATIC1111/stable-diffusion-webui"
A1111_COMMIT = "08c3caec1eb2b1aaebf045e691c7465d4161476c"
FORGE = "lllyasviel/stable-diffusion-webui-forge"
FORGE_COMMIT = "dfdcbab685e57677014f05a3309b48cc87383167"
REFORGE = "Panchovix/stable-diffusion-webui-reForge"
REFORGE_COMMIT = "3b56b268ad9158ee8b30900973b6ccda4ec22241"
SDNEXT = "vladmandic/sdnext"
SDNEXT_COMMIT = "058a7f0cf326f39c0135c6257d7b7e61073e51fd"
COMFY = "Comfy-Org/ComfyUI"
COMFY_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"
SIWM = "nkchocoai/ComfyUI-SaveImageWithMetaData"
SIWM_COMMIT = "c9a87453bc4257614c87d28a64a5be9c4fdccba9"
CIS = "giriss/comfy-image-saver"
CIS_COMMIT = "c6223965d45871d1ff2931b6ac9518a13947c920"
SIE = "audioscavenger/save-image-extended-comfyui"
SIE_COMMIT = "29971dc90f87ac4c949caa379c441392149958c9"
WEBP_NODE = "Kaharos94/ComfyUI-Saveaswebp"
WEBP_NODE_COMMIT = "183863f809b97b4422268ac0647d40dd7648cfff"
SIP = "Goktug/comfyui-saveimage-plus"
SIP_COMMIT = "efa54493216e47126e022a6a38cdaf0c0480256d"
SDM = "enslo/sd-metadata"
SDM_COMMIT = "0270638ac6d09b2f4a53363b97fc3114f6eb0c88"
SMATRIX = "LykosAI/StabilityMatrix"
SMATRIX_COMMIT = "c255230fb76e92ea4c691d3cff25493e08f5de47"
EXIFLIB = "oozcitak/exiflibrary"
EXIFLIB_COMMIT = "1e0f8381cf9ed1788fd24d9a0ee1b8a7d198abdc"


def image(mode="RGB"):
    img = Image.new(mode, (64, 64))
    img.putdata([(x * 4, y * 4, 128, 255)[: len(mode)] for y in range(64) for x in range(64)])
    return img


def infotext(prompt, negative, params):
    """AUTOMATIC1111's create_infotext: prompt, `Negative prompt:` line, `Key: value, ...`."""
    line = ", ".join(f"{k}: {v}" for k, v in params.items())
    return f"{prompt}\nNegative prompt: {negative}\n{line}"


def a1111_exif(text):
    """The EXIF block every A1111 fork writes: piexif, UserComment in the Exif IFD,
    `UNICODE` + UTF-16 (piexif writes big-endian)."""
    return piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text or "", encoding="unicode")}})


def save_then_insert(text, fmt, **save):
    """Pillow saves the image, then piexif.insert puts the EXIF block in the file
    (A1111 save_image, Forge/reForge save_image_with_geninfo, the ComfyUI saver nodes)."""

    def write(path):
        image().save(path, format=fmt, **save)
        piexif.insert(a1111_exif(text), path)

    return write


def save_with_exif(text, fmt, **save):
    """Pillow's save with exif=piexif.dump(...) (SD.Next, Forge's API)."""

    def write(path):
        image().save(path, format=fmt, exif=a1111_exif(text), **save)

    return write


# ---- AUTOMATIC1111 family ----

A1111_TEXT = infotext(
    "a lighthouse on a cliff, storm, (dramatic light:1.2), 灯台",
    "blurry, lowres",
    {
        "Steps": 28,
        "Sampler": "DPM++ 2M",
        "Schedule type": "Karras",
        "CFG scale": 6.5,
        "Seed": 3922511457,
        "Size": "512x768",
        "Model hash": "6ce0161689",
        "Model": "v1-5-pruned-emaonly",
        "Version": "v1.10.1",
    },
)
A1111_FIELDS = {
    "prompt": "a lighthouse on a cliff, storm, (dramatic light:1.2), 灯台",
    "negative_prompt": "blurry, lowres",
    "steps": 28,
    "sampler": "DPM++ 2M",
    "scheduler": "Karras",
    "cfg_scale": 6.5,
    "seed": 3922511457,
    "width": 512,
    "height": 768,
    "model": "v1-5-pruned-emaonly",
}

FORGE_TEXT = infotext(
    "portrait of an old fisherman, film grain",
    "cartoon",
    {
        "Steps": 20,
        "Sampler": "Euler a",
        "Schedule type": "Automatic",
        "CFG scale": 7,
        "Seed": 1234567,
        "Size": "832x1216",
        "Model hash": "7f96a1a9ca",
        "Model": "juggernautXL_v9",
        "Version": "f2.0.1v1.10.1-previous-313-g8a042934",
    },
)
FORGE_FIELDS = {
    "prompt": "portrait of an old fisherman, film grain",
    "negative_prompt": "cartoon",
    "steps": 20,
    "sampler": "Euler a",
    "scheduler": "Automatic",
    "cfg_scale": 7,
    "seed": 1234567,
    "width": 832,
    "height": 1216,
    "model": "juggernautXL_v9",
}

SDNEXT_TEXT = infotext(
    "a red fox in snow",
    "",
    {
        "Steps": 30,
        "Sampler": "UniPC",
        "CFG scale": 4.5,
        "Seed": 2024,
        "Size": "1024x1024",
        "Model": "sdxl-base-1.0",
        "Model hash": "31e35c80fc",
        "App": "SD.Next",
        "Version": "1e4b7f4",
    },
)
SDNEXT_FIELDS = {
    "prompt": "a red fox in snow",
    "negative_prompt": "",
    "steps": 30,
    "sampler": "UniPC",
    "cfg_scale": 4.5,
    "seed": 2024,
    "width": 1024,
    "height": 1024,
    "model": "sdxl-base-1.0",
}


def a1111_layouts():
    images_py = f"{A1111} modules/images.py @ {A1111_COMMIT} (save_image: image.save, then piexif.insert(piexif.dump({{'Exif': {{UserComment: UserComment.dump(info, encoding='unicode')}}}})))"
    forge_py = f"{FORGE} modules/images.py @ {FORGE_COMMIT} (save_image_with_geninfo: image.save, then piexif.insert)"
    return [
        {
            "file": "a1111-piexif.jpg",
            "program": "AUTOMATIC1111",
            "follows": images_py,
            "generator": "automatic1111",
            "fields": A1111_FIELDS,
            "write": save_then_insert(A1111_TEXT, "JPEG", quality=80),
        },
        {
            "file": "a1111-piexif.webp",
            "program": "AUTOMATIC1111",
            "follows": images_py,
            "generator": "automatic1111",
            "fields": A1111_FIELDS,
            "write": save_then_insert(A1111_TEXT, "WEBP", quality=80),
        },
        {
            "file": "forge-piexif.jpg",
            "program": "Forge",
            "follows": forge_py,
            "generator": "forge",
            "fields": FORGE_FIELDS,
            "write": save_then_insert(FORGE_TEXT, "JPEG", quality=80, lossless=False),
        },
        {
            "file": "forge-api.webp",
            "program": "Forge",
            "follows": f"{FORGE} modules/api/api.py @ {FORGE_COMMIT} (encode_pil_to_base64: image.save(format='WEBP', exif=piexif.dump(...)))",
            "generator": "forge",
            "fields": FORGE_FIELDS,
            "write": save_with_exif(FORGE_TEXT, "WEBP", quality=80, lossless=False),
        },
        {
            "file": "reforge-piexif-lossless.webp",
            "program": "reForge",
            "follows": f"{REFORGE} modules/images.py @ {REFORGE_COMMIT} (save_image_with_geninfo: image.save(lossless=...), then piexif.insert)",
            "generator": "forge",
            "fields": FORGE_FIELDS,
            "write": save_then_insert(FORGE_TEXT, "WEBP", quality=80, lossless=True),
        },
        {
            "file": "sdnext.jpg",
            "program": "SD.Next",
            "follows": f"{SDNEXT} modules/image/save.py @ {SDNEXT_COMMIT} (atomically_save_image: image.save(format='JPEG', optimize=True, exif=piexif.dump(...)))",
            "generator": "sd-next",
            "fields": SDNEXT_FIELDS,
            "write": save_with_exif(SDNEXT_TEXT, "JPEG", optimize=True, quality=80),
        },
        {
            "file": "sdnext.webp",
            "program": "SD.Next",
            "follows": f"{SDNEXT} modules/image/save.py @ {SDNEXT_COMMIT} (atomically_save_image: image.save(format='WEBP', optimize=True, lossless=False, exif=piexif.dump(...)))",
            "generator": "sd-next",
            "fields": SDNEXT_FIELDS,
            "write": save_with_exif(SDNEXT_TEXT, "WEBP", optimize=True, quality=80, lossless=False),
        },
        {
            "file": "sdnext-exif.png",
            "program": "SD.Next",
            "follows": f"{SDNEXT} modules/image/save.py @ {SDNEXT_COMMIT} for the EXIF block (piexif.dump of UserComment); "
            "written to PNG by Pillow's save(exif=...), which puts it in an eXIf chunk (Pillow 11.3.0 PngImagePlugin._save): "
            "an SD.Next image re-saved as PNG with its EXIF kept. No generator found that writes PNG eXIf itself.",
            "generator": "sd-next",
            "fields": SDNEXT_FIELDS,
            "write": save_with_exif(SDNEXT_TEXT, "PNG"),
        },
    ]


# ---- ComfyUI graphs ----

COMFY_FIELDS = {
    "prompt": "a tiny house in a forest clearing, morning mist",
    "negative_prompt": "text, watermark",
    "seed": 156680208700286,
    "steps": 24,
    "cfg_scale": 6.0,
    "sampler": "dpmpp_2m",
    "scheduler": "karras",
    "width": 768,
    "height": 512,
    "model": "sd_xl_base_1.0.safetensors",
}


def comfy_prompt():
    """The API graph ComfyUI passes to savers as `prompt` (the default txt2img graph)."""
    f = COMFY_FIELDS
    return {
        "3": {
            "inputs": {
                "seed": f["seed"],
                "steps": f["steps"],
                "cfg": f["cfg_scale"],
                "sampler_name": f["sampler"],
                "scheduler": f["scheduler"],
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
            "class_type": "KSampler",
            "_meta": {"title": "KSampler"},
        },
        "4": {"inputs": {"ckpt_name": f["model"]}, "class_type": "CheckpointLoaderSimple", "_meta": {"title": "Load Checkpoint"}},
        "5": {"inputs": {"width": f["width"], "height": f["height"], "batch_size": 1}, "class_type": "EmptyLatentImage", "_meta": {"title": "Empty Latent Image"}},
        "6": {"inputs": {"text": f["prompt"], "clip": ["4", 1]}, "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "7": {"inputs": {"text": f["negative_prompt"], "clip": ["4", 1]}, "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode", "_meta": {"title": "VAE Decode"}},
        "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage", "_meta": {"title": "Save Image"}},
    }


def comfy_workflow():
    """The UI graph (`extra_pnginfo["workflow"]`) of the same graph."""
    f = COMFY_FIELDS
    node = lambda i, t, inputs, widgets: {  # noqa: E731
        "id": i,
        "type": t,
        "inputs": [{"name": n, "link": l} for n, l in inputs],
        "widgets_values": widgets,
    }
    return {
        "last_node_id": 9,
        "last_link_id": 9,
        "nodes": [
            node(3, "KSampler", [("model", 1), ("positive", 4), ("negative", 6), ("latent_image", 2)],
                 [f["seed"], "fixed", f["steps"], f["cfg_scale"], f["sampler"], f["scheduler"], 1.0]),
            node(4, "CheckpointLoaderSimple", [], [f["model"]]),
            node(5, "EmptyLatentImage", [], [f["width"], f["height"], 1]),
            node(6, "CLIPTextEncode", [("clip", 3)], [f["prompt"]]),
            node(7, "CLIPTextEncode", [("clip", 5)], [f["negative_prompt"]]),
            node(8, "VAEDecode", [("samples", 7), ("vae", 8)], []),
            node(9, "SaveImage", [("images", 9)], ["ComfyUI"]),
        ],
        "links": [
            [1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
            [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"],
            [7, 3, 0, 8, 0, "LATENT"], [8, 4, 2, 8, 1, "VAE"], [9, 8, 0, 9, 0, "IMAGE"],
        ],
        "version": 0.4,
    }


def comfy_core_webp(path, prompt=None, extra_pnginfo=None, fps=6.0, lossless=False, quality=80, method=4, frames=1):
    """comfy_extras/nodes_images.py SaveAnimatedWEBP.save_images: Pillow's getexif(), Model
    (0x0110) = "prompt:" + json.dumps(prompt), Make (0x010f) and down = "<key>:" + json.dumps
    for each extra_pnginfo key (the UI sends `workflow`), save_all=True."""
    prompt = comfy_prompt() if prompt is None else prompt
    extra_pnginfo = {"workflow": comfy_workflow()} if extra_pnginfo is None else extra_pnginfo
    img = image()
    metadata = img.getexif()
    metadata[0x0110] = "prompt:{}".format(json.dumps(prompt))
    inital_exif = 0x010F
    for x in extra_pnginfo:
        metadata[inital_exif] = "{}:{}".format(x, json.dumps(extra_pnginfo[x]))
        inital_exif -= 1
    # pil_images[0].save(..., append_images=pil_images[1:], ...): one image per frame.
    rest = [image() for _ in range(frames - 1)]
    img.save(path, save_all=True, duration=int(1000.0 / fps), append_images=rest, exif=metadata, lossless=lossless, quality=quality, method=method)


def save_image_extended(path):
    """save_image_extended.py genMetadataEXIF + writeImage: getexif(), Make = "Prompt: " +
    json.dumps(prompt), ImageDescription = "Workflow: " + json.dumps(workflow), exif.tobytes()."""
    img = image()
    metadata = {"prompt": comfy_prompt(), "workflow": comfy_workflow()}
    exif = img.getexif()
    exif[0x010F] = "Prompt: " + json.dumps(metadata["prompt"])
    exif[0x010E] = "Workflow: " + json.dumps(metadata.get("workflow", {}))
    kwargs = {"exif": exif.tobytes()}
    if path.endswith(".webp"):
        kwargs.update(quality=90, optimize=True)
    else:
        kwargs.update(subsampling=0, quality=90, optimize=True)
    img.save(path, **kwargs)


def save_as_webp_node(path):
    """Save_as_webp.py: getexif(), Make = "Prompt:" + prompt JSON, ImageDescription =
    "Workflow:" + the extra_pnginfo values' JSON, method=6."""
    img = image()
    imgexif = img.getexif()
    imgexif[0x010F] = "Prompt:" + "".join(json.dumps(comfy_prompt()))
    workflowmetadata = "".join(json.dumps(comfy_workflow()))
    imgexif[0x010E] = "Workflow:" + workflowmetadata
    img.save(path, method=6, exif=imgexif, lossless=False, quality=80)


def save_image_plus(path):
    """save_image.py SaveImagePlus: getexif(), UserComment (as a Python string, no character
    code) = json.dumps({"prompt": ..., **extra_pnginfo}), exif.tobytes()."""
    img = image()
    metadata = {"prompt": comfy_prompt()}
    metadata.update({"workflow": comfy_workflow()})
    exif = img.getexif()
    exif[ExifTags.Base.UserComment] = json.dumps(metadata)
    kwargs = {"exif": exif.tobytes()}
    if path.endswith(".webp"):
        kwargs["lossless"] = True
    else:
        kwargs["quality"] = 90
    img.save(path, **kwargs)


# SaveImageWithMetaData (Capture.gen_parameters_str): prompt, `Negative prompt:` line, then
# `Key: value` from the traced graph; a scheduler other than `normal` is appended to the
# sampler (`dpmpp_2m_karras`).
SIWM_TEXT = (
    COMFY_FIELDS["prompt"]
    + "\nNegative prompt: "
    + COMFY_FIELDS["negative_prompt"]
    + "\n"
    + ", ".join(
        f"{k}: {v}"
        for k, v in {
            "Steps": COMFY_FIELDS["steps"],
            "Sampler": COMFY_FIELDS["sampler"] + "_" + COMFY_FIELDS["scheduler"],
            "CFG scale": COMFY_FIELDS["cfg_scale"],
            "Seed": COMFY_FIELDS["seed"],
            "Size": f"{COMFY_FIELDS['width']}x{COMFY_FIELDS['height']}",
            "Model": "sd_xl_base_1.0",
            "Model hash": "31e35c80fc",
            "Hashes": json.dumps({"model": "31e35c80fc"}),
        }.items()
    )
)
SIWM_FIELDS = dict(COMFY_FIELDS, model="sd_xl_base_1.0")

# comfy-image-saver (nodes.py save_files): its own f-string, `CFG Scale`, the sampler with
# `_<scheduler>` unless normal, `Version: ComfyUI`.
CIS_TEXT = (
    f"{COMFY_FIELDS['prompt']}\nNegative prompt: {COMFY_FIELDS['negative_prompt']}\n"
    f"Steps: {COMFY_FIELDS['steps']}, Sampler: {COMFY_FIELDS['sampler']}_{COMFY_FIELDS['scheduler']}, "
    f"CFG Scale: {COMFY_FIELDS['cfg_scale']}, Seed: {COMFY_FIELDS['seed']}, "
    f"Size: {COMFY_FIELDS['width']}x{COMFY_FIELDS['height']}, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: ComfyUI"
)


def comfy_layouts():
    return [
        {
            "file": "comfyui-core-animated.webp",
            "program": "ComfyUI",
            "follows": f"{COMFY} comfy_extras/nodes_images.py @ {COMFY_COMMIT} (SaveAnimatedWEBP; also comfy_api/latest/_ui.py _create_webp_metadata)",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": comfy_core_webp,
        },
        {
            "file": "comfyui-save-image-extended.webp",
            "program": "ComfyUI + save-image-extended",
            "follows": f"{SIE} save_image_extended.py @ {SIE_COMMIT} (genMetadataEXIF, writeImage)",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": save_image_extended,
        },
        {
            "file": "comfyui-save-image-extended.jpg",
            "program": "ComfyUI + save-image-extended",
            "follows": f"{SIE} save_image_extended.py @ {SIE_COMMIT} (genMetadataEXIF, writeImage)",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": save_image_extended,
        },
        {
            "file": "comfyui-saveaswebp.webp",
            "program": "ComfyUI + ComfyUI-Saveaswebp",
            "follows": f"{WEBP_NODE} Save_as_webp.py @ {WEBP_NODE_COMMIT}",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": save_as_webp_node,
        },
        {
            "file": "comfyui-saveimage-plus.webp",
            "program": "ComfyUI + SaveImagePlus",
            "follows": f"{SIP} save_image.py @ {SIP_COMMIT}",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": save_image_plus,
        },
        {
            "file": "comfyui-saveimage-plus.jpg",
            "program": "ComfyUI + SaveImagePlus",
            "follows": f"{SIP} save_image.py @ {SIP_COMMIT}",
            "generator": "comfy-ui",
            "fields": COMFY_FIELDS,
            "write": save_image_plus,
        },
        {
            "file": "comfyui-saveimagewithmetadata.webp",
            "program": "ComfyUI + SaveImageWithMetaData",
            "follows": f"{SIWM} py/nodes/node.py, py/capture.py @ {SIWM_COMMIT} (img.save(optimize, quality, lossless), then piexif.insert)",
            "generator": "automatic1111",
            "fields": SIWM_FIELDS,
            "write": save_then_insert(SIWM_TEXT, "WEBP", optimize=True, quality=90, lossless=True),
        },
        {
            "file": "comfyui-saveimagewithmetadata.jpg",
            "program": "ComfyUI + SaveImageWithMetaData",
            "follows": f"{SIWM} py/nodes/node.py, py/capture.py @ {SIWM_COMMIT} (img.save(optimize, quality, lossless), then piexif.insert)",
            "generator": "automatic1111",
            "fields": SIWM_FIELDS,
            "write": save_then_insert(SIWM_TEXT, "JPEG", optimize=True, quality=90, lossless=True),
        },
        {
            "file": "comfyui-image-saver.jpg",
            "program": "ComfyUI + comfy-image-saver",
            "follows": f"{CIS} nodes.py @ {CIS_COMMIT} (save_files comment; save_images: img.save, then piexif.insert)",
            "generator": "comfy-ui",
            "fields": SIWM_FIELDS,
            "write": save_then_insert(CIS_TEXT, "JPEG", optimize=True, quality=100, lossless=True),
        },
    ]


def tiff_le(ifd0, exif_ifd):
    """A little-endian TIFF with IFD0 and an Exif IFD, entries as (tag, type, bytes) in the
    order given (2 = ASCII, 7 = UNDEFINED): the shape of Civitai's EXIF."""
    import struct

    def ifd_size(entries):
        return 2 + 12 * len(entries) + 4

    ifd0 = list(ifd0) + [(0x8769, 4, None)]
    exif_at = 8 + ifd_size(ifd0)
    data_at = exif_at + ifd_size(exif_ifd)
    out, data = bytearray(b"II*\0" + struct.pack("<I", 8)), bytearray()

    def write(entries, pointer):
        nonlocal data
        out.extend(struct.pack("<H", len(entries)))
        for tag, typ, value in entries:
            if value is None:
                out.extend(struct.pack("<HHII", tag, 4, 1, pointer))
            elif len(value) <= 4:
                out.extend(struct.pack("<HHI", tag, typ, len(value)) + value.ljust(4, b"\0"))
            else:
                out.extend(struct.pack("<HHII", tag, typ, len(value), data_at + len(data)))
                data.extend(value + b"\0" * (len(value) & 1))
        out.extend(b"\0\0\0\0")

    write(ifd0, exif_at)
    write(exif_ifd, 0)
    return b"Exif\0\0" + bytes(out) + bytes(data)


# ---- Civitai's generator (no public source of its writer) ----

CIVITAI_FIELDS = {
    "prompt": "general, masterpiece, best quality, \n1girl, solo, lighthouse keeper",
    "negative_prompt": "bad quality, worst quality, sketch, \n",
    "seed": 1311178179,
    "steps": 25,
    "cfg_scale": 5,
    "sampler": "euler_ancestral",
    "scheduler": "normal",
}


def civitai_comfy(path):
    """Civitai's on-site generator: II TIFF, Software a job UUID, Artist
    `ai`, UserComment `UNICODE` + UTF-16 big-endian (whatever the TIFF order) holding the API
    graph's nodes beside `extra` (`airs`) and `extraMetadata` (a JSON string of the request)."""
    f = CIVITAI_FIELDS
    graph = {
        "resource-stack": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "urn:air:sdxl:checkpoint:civitai:827184@2514310"}},
        "6": {"class_type": "smZ CLIPTextEncode", "inputs": {"text": f["prompt"], "parser": "A1111", "clip": ["resource-stack", 1]}, "_meta": {"title": "Positive"}},
        "7": {"class_type": "smZ CLIPTextEncode", "inputs": {"text": f["negative_prompt"], "parser": "A1111", "clip": ["resource-stack", 1]}, "_meta": {"title": "Negative"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "11": {"class_type": "KSampler", "inputs": {"sampler_name": f["sampler"], "scheduler": f["scheduler"], "seed": f["seed"], "steps": f["steps"], "cfg": f["cfg_scale"], "denoise": 1, "model": ["resource-stack", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "13": {"class_type": "VAEDecode", "inputs": {"samples": ["11", 0], "vae": ["resource-stack", 2]}},
        "12": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["13", 0]}},
        "extra": {"airs": ["urn:air:sdxl:checkpoint:civitai:827184@2514310"]},
        "extraMetadata": json.dumps(
            {"prompt": f["prompt"], "negativePrompt": f["negative_prompt"], "steps": f["steps"], "cfgScale": f["cfg_scale"], "sampler": f["sampler"], "seed": f["seed"], "workflowId": "txt2img", "resources": [{"modelVersionId": 2514310, "strength": 1}]},
            separators=(",", ":"),
            ensure_ascii=False,
        ),
    }
    text = json.dumps(graph, separators=(",", ":"))
    exif = tiff_le(
        [(0x0131, 2, b"42adebcb-68ad-45e2-9c83-f92b6b11d852\0"), (0x013B, 2, b"ai\0")],
        [(0x9286, 7, b"UNICODE\0" + text.encode("utf-16-be"))],
    )
    image().save(path, format="JPEG", quality=90, exif=exif)


CIVITAI_A1111_FIELDS = {
    "prompt": "general, masterpiece, best quality,\n1girl, solo, lighthouse keeper",
    "negative_prompt": "bad quality, worst quality, sketch,",
    "steps": 25,
    "sampler": "Euler a",
    "cfg_scale": 5,
    "seed": 1311178179,
    "width": 1024,
    "height": 1024,
    "model": "WAI-illustrious-SDXL",
}


def civitai_a1111(path):
    """Civitai's generator, A1111 text: the same EXIF shape, the text ends with `Civitai
    resources: [...]` and `Civitai metadata: {}`."""
    f = CIVITAI_A1111_FIELDS
    text = (
        f"{f['prompt']} \nNegative prompt: {f['negative_prompt']} \n\n"
        f"Steps: {f['steps']}, Sampler: {f['sampler']}, CFG scale: {f['cfg_scale']}, Seed: {f['seed']}, "
        f"Size: {f['width']}x{f['height']}, Clip skip: 2, Created Date: 2026-01-04T01:27:21.2717070Z, "
        'Civitai resources: [{"type":"checkpoint","modelVersionId":2514310,"modelName":"' + f["model"] + '","modelVersionName":"v16.0"}], '
        "Civitai metadata: {}"
    )
    exif = tiff_le(
        [(0x0131, 2, b"56c0ca36-7be1-4bce-a593-949f3ae4322e\0"), (0x013B, 2, b"ai\0")],
        [(0x9286, 7, b"UNICODE\0" + text.encode("utf-16-be"))],
    )
    image().save(path, format="JPEG", quality=90, exif=exif)


CIVITAI_FOLLOWS = (
    "No public source of Civitai's generator; the layout of its published outputs as shown by "
    f"{SDM} samples/jpg/civitai-hires.jpg and samples/jpg/civitai.jpeg @ {SDM_COMMIT}, read by Civitai's own "
    "civitai/civitai src/utils/metadata/comfy.metadata.ts (extra / extraMetadata in UserComment)"
)


# ---- NovelAI (no public source) ----

NAI_COMMENT = {
    "prompt": "1girl, solo, lighthouse, very aesthetic, masterpiece, no text",
    "steps": 23,
    "height": 1216,
    "width": 832,
    "scale": 5.0,
    "uncond_scale": 0.0,
    "cfg_rescale": 0.0,
    "seed": 880673757,
    "n_samples": 1,
    "noise_schedule": "karras",
    "legacy_v3_extend": False,
    "sampler": "k_euler_ancestral",
    "uc": "lowres, artistic error, scan artifacts",
    "request_type": "PromptGenerateRequest",
    "version": 1,
}
NAI_FIELDS = {
    "prompt": NAI_COMMENT["prompt"],
    "negative_prompt": NAI_COMMENT["uc"],
    "seed": NAI_COMMENT["seed"],
    "steps": NAI_COMMENT["steps"],
    "cfg_scale": NAI_COMMENT["scale"],
    "sampler": NAI_COMMENT["sampler"],
    "scheduler": NAI_COMMENT["noise_schedule"],
    "width": NAI_COMMENT["width"],
    "height": NAI_COMMENT["height"],
    "model": "NovelAI Diffusion V4.5",
}


def novelai_webp(path):
    """NovelAI's WebP download: big-endian TIFF; IFD0 Software = the model and hash,
    DocumentName = the title, ImageDescription = four NULs + the prompt (UTF-8); Exif IFD
    UserComment = `ASCII\\0\\0\\0` + JSON of the PNG text chunks, `Comment` a JSON string."""
    source = "NovelAI Diffusion V4.5 C02D4F98"
    chunks = {
        "Comment": json.dumps(NAI_COMMENT),
        "Description": "\0\0\0\0" + NAI_COMMENT["prompt"],
        "Generation time": "2.5845132768154144e-05",
        "Software": "NovelAI",
        "Source": source,
        "Title": "NovelAI generated image",
    }
    exif = piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Software: source.encode(),
                piexif.ImageIFD.DocumentName: b"NovelAI generated image",
                piexif.ImageIFD.ImageDescription: b"\0\0\0\0" + NAI_COMMENT["prompt"].encode(),
            },
            "Exif": {piexif.ExifIFD.UserComment: b"ASCII\0\0\0" + json.dumps(chunks).encode()},
        }
    )
    image("RGBA").save(path, format="WEBP", lossless=True, exif=exif)


# ---- Stability Matrix's WebP: ComfyUI's SaveAnimatedWEBP, then AddMetadataToWebp ----
# InferenceGenerationViewModelBase.cs (ProcessOutputImages), for a `.webp` output:
#   paramsJson = JsonSerializer.Serialize(parameters, {WhenWritingNull, JsonStringEnumConverter})
#   smProject = JsonSerializer.Serialize(project, same options)
#   ImageMetadata.AddMetadataToWebp(imageArray, {ImageDescription: paramsJson, Software: smProject})
# AddMetadataToWebp walks the RIFF chunks from offset 12 to the `EXIF` chunk, drops its first
# six bytes (the `Exif\0\0` Pillow's save_all keeps), reads the TIFF with ExifLibNet's
# TIFFFile (UTF-8), sets the two tags and saves; the new chunk is the six bytes plus the new
# TIFF and replaces everything from the old chunk on; an odd file gets a 0 byte; RIFF size fixed.
# ExifLibNet (TIFFFile.SaveInternal, ExifAscii) writes IFD0 only, in the machine's byte order
# (little-endian), the tags read first in file order and the new ones after them, an ASCII
# count of the string's length + 1 and UTF-8 bytes + NUL, then StripOffsets and
# StripByteCounts as LONG with count 0. piexif cannot write that byte order or order of tags,
# so the TIFF is written here with struct, field by field as SaveInternal does; piexif.load
# reads ComfyUI's block as TIFFFile's constructor does.

SM_FIELDS = {
    "prompt": COMFY_FIELDS["prompt"],
    "negative_prompt": COMFY_FIELDS["negative_prompt"],
    "seed": COMFY_FIELDS["seed"],
    "steps": COMFY_FIELDS["steps"],
    "cfg_scale": COMFY_FIELDS["cfg_scale"],
    # SamplerCardViewModel.SaveStateToParameters: GenerationParametersConverter's A1111 name
    # for dpmpp_2m + karras.
    "sampler": "DPM++ 2M Karras",
    # The sampler card's size (the WebP path does not take the image's own, as the PNG one does).
    "width": COMFY_FIELDS["width"],
    "height": COMFY_FIELDS["height"],
    "model": COMFY_FIELDS["model"],
}


def cs_default_json(obj):
    """System.Text.Json with the default encoder: compact, every character outside printable
    ASCII and the HTML-sensitive ones (\" & ' + < > `) as \\uXXXX (upper-case hex), whole
    doubles without a fraction."""
    def string(s):
        out = ['"']
        for ch in s:
            o = ord(ch)
            if ch == "\\":
                out.append("\\\\")
            elif ch in "\n\r\t\b\f":
                out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[ch])
            elif o < 0x20 or o > 0x7E or ch in "\"&'+<>`":
                units = ch.encode("utf-16-be")
                out.extend("\\u" + units[i:i + 2].hex().upper() for i in range(0, len(units), 2))
            else:
                out.append(ch)
        return "".join(out) + '"'

    def value(v):
        if v is None:
            return "null"
        if v is True or v is False:
            return "true" if v else "false"
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else repr(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return string(v)
        if isinstance(v, list):
            return "[" + ",".join(value(x) for x in v) + "]"
        return "{" + ",".join(string(k) + ":" + value(x) for k, x in v.items()) + "}"

    return value(obj)


def sm_parameters():
    """GenerationParameters as a video project's cards fill it (SaveStateToParameters of the
    sampler, model, prompt and video output cards, then the seed), properties in declaration
    order; nulls are left out (ModelHash: a model without connected info; ModelVersionId,
    ExtraNetworkModelVersionIds)."""
    f = SM_FIELDS
    return {
        "PositivePrompt": f["prompt"], "NegativePrompt": f["negative_prompt"], "Steps": f["steps"],
        "Sampler": f["sampler"], "CfgScale": f["cfg_scale"], "Seed": f["seed"],
        "Height": f["height"], "Width": f["width"], "ModelName": f["model"],
        "FrameCount": 0, "MotionBucketId": 0,
        # VideoOutputSettingsCardViewModel's defaults: Fps 6, Lossless, Quality 85, Default.
        "VideoQuality": 85, "Lossless": True, "Fps": 0, "OutputFps": 6.0, "MinCfg": 0.0,
        "AugmentationLevel": 0.0, "VideoOutputMethod": "Default",
    }


def sm_project():
    """InferenceProjectDocument (Version, ProjectType as its enum name, State: the cards'
    saved state); kept as a key by readers, so only its outline is written."""
    f = SM_FIELDS
    return {
        "Version": 2,
        "ProjectType": "WanTextToVideo",
        "State": {
            "Seed": {"Seed": f["seed"], "IsRandomizeEnabled": False},
            "Sampler": {"Steps": f["steps"], "CfgScale": f["cfg_scale"], "Width": f["width"], "Height": f["height"]},
            "Prompt": {"Prompt": f["prompt"], "NegativePrompt": f["negative_prompt"]},
        },
    }


def sm_graph():
    """The graph Stability Matrix queues, ending in VideoOutputSettingsCardViewModel.ApplyStep's
    SaveAnimatedWEBP (prefix InferenceVideo, fps 6, lossless, quality 85, method default); its
    sampler part is the txt2img graph of the ComfyUI layouts above."""
    g = comfy_prompt()
    g["9"] = {
        "inputs": {"filename_prefix": "InferenceVideo", "fps": 6.0, "lossless": True, "quality": 85,
                   "method": "default", "images": ["8", 0]},
        "class_type": "SaveAnimatedWEBP", "_meta": {"title": "SaveAnimatedWEBP"},
    }
    return g


def exiflib_resave(tiff, tags):
    """ExifLibNet TIFFFile(stream, UTF8) then Properties.Set(tag, string) and Save."""
    import struct

    # The constructor: IFD0's fields become properties, in file order (Pillow writes them
    # sorted by tag; piexif.load gives them back the same way). ComfyUI's are ASCII.
    ifd0 = piexif.load(b"Exif\0\0" + tiff)["0th"]
    props = []
    for tag in sorted(ifd0):
        value = ifd0[tag]
        text = value.split(b"\0")[0].decode("utf-8")
        props.append((tag, text))
    props += list(tags.items())

    fields = []
    for tag, text in props:
        # ExifAscii.Interoperability: count = string length + 1, UTF-8 bytes and a NUL.
        fields.append((tag, 2, len(text.encode("utf-16-le")) // 2 + 1, text.encode("utf-8") + b"\0"))
    fields += [(273, 4, 0, b""), (279, 4, 0, b"")]

    out = bytearray(b"II" + struct.pack("<HI", 42, 8))
    data_offset = 8 + 2 + len(fields) * 12 + 4
    data = bytearray()
    out += struct.pack("<H", len(fields))
    for tag, typ, count, value in fields:
        out += struct.pack("<HHI", tag, typ, count)
        if len(value) <= 4:
            out += value.ljust(4, b"\0")
        else:
            out += struct.pack("<I", data_offset + len(data))
            data += value
    out += struct.pack("<I", 0)
    return bytes(out + data)


def add_metadata_to_webp(image_bytes, tags):
    """ImageMetadata.AddMetadataToWebp, step by step."""
    import struct

    if image_bytes[:4] != b"RIFF" or image_bytes[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    pos = 12
    while pos < len(image_bytes) - 4:
        kind = image_bytes[pos:pos + 4]
        (size,) = struct.unpack("<i", image_bytes[pos + 4:pos + 8])
        pos += 8
        if kind != b"EXIF":
            pos += size
            continue
        exif_start = pos - 8
        exif_bytes = image_bytes[pos:pos + size]
        new_exif = exif_bytes[:6] + exiflib_resave(exif_bytes[6:], tags)
        new_chunk = b"EXIF" + struct.pack("<i", len(new_exif)) + new_exif
        new_image = bytearray(image_bytes[:exif_start] + new_chunk)
        if len(new_image) % 2 != 0:
            new_image += b"\0"
        new_image[4:8] = struct.pack("<i", len(new_image) - 8)
        return bytes(new_image)
    raise ValueError("no EXIF chunk: Stability Matrix would write an empty file")


def stability_matrix_webp(path):
    # ComfyUI's SaveAnimatedWEBP with the node's settings; Stability Matrix queues the graph
    # without extra_pnginfo, so only Model = prompt:{…} is written. A video has several
    # frames: Pillow's save_all then keeps the `Exif\0\0` that AddMetadataToWebp cuts off (a
    # single frame goes through Pillow's plain save, which drops it, and ExifLibNet would
    # refuse what is left).
    comfy_core_webp(path, prompt=sm_graph(), extra_pnginfo={}, fps=6.0, lossless=True, quality=85, method=4, frames=2)
    with open(path, "rb") as f:
        original = f.read()
    tags = {0x010E: cs_default_json(sm_parameters()), 0x0131: cs_default_json(sm_project())}
    with open(path, "wb") as f:
        f.write(add_metadata_to_webp(original, tags))


def other_layouts():
    return [
        {
            "file": "stabilitymatrix.webp",
            "program": "Stability Matrix",
            "follows": f"{SMATRIX} StabilityMatrix.Avalonia/ViewModels/Base/InferenceGenerationViewModelBase.cs "
            "(ProcessOutputImages, .webp), StabilityMatrix.Core/Helper/ImageMetadata.cs (AddMetadataToWebp), "
            "StabilityMatrix.Core/Models/GenerationParameters.cs, "
            f"ViewModels/Inference/Video/VideoOutputSettingsCardViewModel.cs @ {SMATRIX_COMMIT}; "
            f"the EXIF it writes through ExifLibNet (pinned 2.1.4): {EXIFLIB} ExifLibrary/TIFFFile.cs "
            f"(SaveInternal), ExifProperty.cs (ExifAscii), ExifPropertyCollection.cs @ {EXIFLIB_COMMIT} "
            "(its source tree at 2.1.3), reproduced byte for byte with struct (piexif writes big-endian and "
            "sorts tags, ExifLibNet does neither); the WebP under it from "
            f"{COMFY} comfy_extras/nodes_images.py @ {COMFY_COMMIT} (SaveAnimatedWEBP)",
            "generator": "stability-matrix",
            # Its own record first, then the graph's.
            "records": 2,
            "fields": SM_FIELDS,
            "write": stability_matrix_webp,
        },
        {
            "file": "civitai-comfy.jpg",
            "program": "Civitai generator",
            "follows": CIVITAI_FOLLOWS,
            "generator": "comfy-ui",
            "fields": CIVITAI_FIELDS,
            "write": civitai_comfy,
        },
        {
            "file": "civitai-a1111.jpg",
            "program": "Civitai generator",
            "follows": CIVITAI_FOLLOWS,
            "generator": "automatic1111",
            "fields": CIVITAI_A1111_FIELDS,
            "write": civitai_a1111,
        },
        {
            "file": "novelai.webp",
            "program": "NovelAI",
            "follows": "No public NovelAI source; the layout of its WebP downloads as described by "
            f"{SDM} packages/core/src/converters/novelai.ts and its sample samples/webp/novelai-curated.webp @ {SDM_COMMIT} "
            "(byte order, tags and the four-NUL prefix checked against that sample)",
            "generator": "novel-ai",
            "fields": NAI_FIELDS,
            "write": novelai_webp,
        },
    ]


def layouts():
    return a1111_layouts() + comfy_layouts() + other_layouts()
