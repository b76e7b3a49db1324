"""EXIF-borne layouts. See make.py."""


def layouts():
    return []
