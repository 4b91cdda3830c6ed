"""Nobody ever looks at the images: the service refuses anything that carries
media.  Content types are refused by the request guard (415); this module
finds media smuggled inside JSON text: ``data:`` URIs (also percent-encoded,
as in a link) and base64 (standard or URL-safe, in one piece or in lines of
24 characters or more, as MIME and PEM wrap it) that decodes to an image,
video or audio signature.

It catches media as clients and tools send it, not every disguise: base64
cut into shorter pieces, shifted by a few characters or hex-encoded is read
as text."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

_DATA_URI = re.compile(r"data:\s*[a-z]+/[a-z0-9.+-]+\s*[;,]", re.IGNORECASE)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")

# Leading bytes of image, video and audio formats (and where they sit).
_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG"),
    (0, b"GIF8"),
    (0, b"BM"),  # BMP
    (0, b"II*\x00"),  # TIFF
    (0, b"MM\x00*"),
    (0, b"\x00\x00\x01\x00"),  # ICO
    (0, b"\x1aE\xdf\xa3"),  # Matroska / WebM
    (0, b"OggS"),
    (0, b"ID3"),  # MP3
    (0, b"\xff\xfb"),
    (0, b"\xff\xf3"),
    (0, b"\xff\xf2"),
    (0, b"fLaC"),
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
    (0, b"\x00\x00\x01\xb3"),  # MPEG video
    (0, b"0&\xb2u"),  # ASF / WMV
    (0, b"#!AMR"),
    (4, b"ftyp"),  # MP4, MOV, HEIC, AVIF, 3GP
    (0, b"\x00\x00\x00\x0cjP  "),  # JPEG 2000
    (0, b"8BPS"),  # Photoshop
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n"),  # JPEG XL
    (0, b"<svg"),  # SVG (as text it is only markup; encoded, it is an image)
)
_RIFF_KINDS = (b"WEBP", b"AVI ", b"WAVE")


def _is_media(raw: bytes) -> bool:
    if raw[:4] == b"RIFF" and raw[8:12] in _RIFF_KINDS:
        return True
    return any(raw[offset : offset + len(magic)] == magic for offset, magic in _SIGNATURES)


def _decode_head(run: str) -> bytes | None:
    head = run[:64]
    head = head[: len(head) - len(head) % 4]
    for decoder in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decoder(head)
        except (binascii.Error, ValueError):
            continue
    return None


def _carries_media(text: str) -> bool:
    if _DATA_URI.search(text):
        return True
    for match in _BASE64_RUN.finditer(text):
        decoded = _decode_head(match.group())
        if decoded and _is_media(decoded):
            return True
    return False


def carries_media(text: str) -> bool:
    return _carries_media(text) or ("%" in text and _carries_media(unquote(text)))


def find_text(value: Any, test: Callable[[str], bool], path: str = "body") -> str | None:
    """The location of the first string (key or value, at any depth of a JSON
    value) for which ``test`` holds."""
    if isinstance(value, str):
        return path if test(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_text(key, test, path) or find_text(item, test, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_text(item, test, f"{path}.{index}")
            if found:
                return found
    return None


def find_nul(value: Any) -> str | None:
    """No text column stores a NUL character."""
    return find_text(value, lambda text: "\x00" in text)


def find_media(value: Any) -> str | None:
    return find_text(value, carries_media)
