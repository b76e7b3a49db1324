"""JSON front ends and ComfyUI graphs. See make.py."""


def layouts():
    return []
