"""Nobody ever looks at the images: the service refuses anything that carries
media.  Content types are refused by the request guard (415); this module
finds media smuggled inside JSON text.  The principle is that free text must
be text, whatever else it might be:

- every ``data:`` URI is refused, with or without a media type, in any case,
  also percent-encoded (as in a link);
- a long run of characters in a binary-to-text alphabet (base64, standard or
  URL-safe, padded or not; base32; base85 or Ascii85; hex) is decoded under
  every encoding whose alphabet holds it, at every alignment (a run shifted
  by a few characters is still caught), and refused unless one of these
  decodings is text: valid UTF-8 with no control character but tab, line
  feed and carriage return.  Lines are joined first, so MIME, PEM and
  ``xxd -p`` wrapping is one run;
- a base64 run of 24 characters or more that decodes to a known image, video
  or audio signature is refused even when it is too short for the rule above,
  and so is a long run whose only text decoding is one (SVG).

A run is long when it reaches its alphabet's length and uses enough distinct
characters (``_PASSES``; the reasoning is in docs/protocol.md#no-media-ever):
a long word, a laugh or a hash has too few distinct characters or is too
short to be taken for encoded bytes.  What is shorter than the thresholds,
or cut into short pieces between spaces, is read as text."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

# ``data:`` then a media type, or straight to its parameters or its data.
_DATA_URI = re.compile(r"\bdata:\s*(?:[\w.+-]+/[\w.+-]+|[;,])", re.IGNORECASE)

_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_HEX = frozenset("0123456789abcdefABCDEF")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_A85 = frozenset(chr(c) for c in range(ord("!"), ord("u") + 1)) | {"z"}
_B85 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~")


@dataclass(frozen=True)
class _Pass:
    """One scan of a text: the runs its pattern finds are checked when they
    use at least ``min_distinct`` characters, ``min_symbols`` of them neither
    letters nor digits."""

    pattern: re.Pattern[str]
    min_distinct: int
    min_symbols: int = 0


def _runs(alphabet: str, min_length: int, padding: str = "") -> re.Pattern[str]:
    """Maximal runs of ``alphabet`` of at least ``min_length`` characters.
    The look-behind makes the engine try only where a run starts, so a scan
    stays linear in the length of the text."""
    return re.compile(f"(?<![{alphabet}])[{alphabet}]{{{min_length},}}{padding}")


# Why these numbers is in docs/protocol.md#no-media-ever.
_HEX_LENGTH, _BASE32_LENGTH, _BASE64_LENGTH, _BASE85_LENGTH = 65, 80, 80, 100
_PASSES: tuple[_Pass, ...] = (
    _Pass(_runs("0-9A-Fa-f", _HEX_LENGTH), 8),
    _Pass(_runs("A-Z2-7", _BASE32_LENGTH, "=*"), 16),
    _Pass(_runs("a-z2-7", _BASE32_LENGTH, "=*"), 16),
    _Pass(_runs("A-Za-z0-9+/", _BASE64_LENGTH, "=*"), 20),
    _Pass(_runs("A-Za-z0-9_\\-", _BASE64_LENGTH, "=*"), 20),
    # A quarter or more of base85 is punctuation, spread evenly; a link uses a
    # handful of separators ("/.?=&%_-").
    _Pass(_runs("!-uz", _BASE85_LENGTH), 40, 12),
    _Pass(_runs("0-9A-Za-z!#$%&()*+\\-;<=>?@^_`{|}~", _BASE85_LENGTH), 40, 12),
)

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
_SIGNATURE_RUN = _runs("A-Za-z0-9+/_\\-", 24)
# Every run lies in a stretch without whitespace: most text has none long
# enough, and the scans only read the stretches that are.
_STRETCH = re.compile(r"(?<!\S)\S{24,}")
_SHORTEST_RUN = min(_HEX_LENGTH, _BASE32_LENGTH, _BASE64_LENGTH, _BASE85_LENGTH)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r?\n")


# The signatures as one pattern, matched at the start of the bytes: one call
# per decoding instead of one per signature.
_MEDIA_START = re.compile(
    b"|".join(
        [b"." * offset + re.escape(magic) for offset, magic in _SIGNATURES]
        + [b"RIFF.{4}(?:" + b"|".join(re.escape(kind) for kind in _RIFF_KINDS) + b")"]
    ),
    re.DOTALL,
)


def _is_media(raw: bytes) -> bool:
    return _MEDIA_START.match(raw) is not None


def is_text(raw: bytes) -> bool:
    """Valid UTF-8 with no control character but tab, line feed and carriage
    return.  A run read at the right alignment may still begin with up to
    three bytes of the characters glued before it, and a cut run may end in
    the middle of a character: neither makes it binary."""
    for skip in range(4):
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(raw[skip:], final=False)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text) is None:
            return True
    return False


def _b64(run: str, start: int) -> bytes:
    body = run[start:].rstrip("=")
    if "-" in body or "_" in body:
        body = body.translate(_URLSAFE)
    return binascii.a2b_base64(body[: len(body) - len(body) % 4])


def _b32(run: str, start: int) -> bytes:
    body = run[start:].rstrip("=").upper()
    return base64.b32decode(body[: len(body) - len(body) % 8])


def _hex(run: str, start: int) -> bytes:
    body = run[start:]
    return bytes.fromhex(body[: len(body) - len(body) % 2])


def _a85(run: str, start: int) -> bytes:
    return base64.a85decode(run[start:])


def _b85(run: str, start: int) -> bytes:
    return base64.b85decode(run[start:])


_URLSAFE = str.maketrans("-_", "+/")

# Each encoding: its alphabet (padding aside), the characters per group (the
# alignments to try) and its decoder.
_ENCODINGS: tuple[tuple[frozenset[str], int, Callable[[str, int], bytes]], ...] = (
    (_HEX, 2, _hex),
    (_B32, 8, _b32),
    (frozenset(c.lower() for c in _B32), 8, _b32),
    (_B64, 4, _b64),
    (_B64URL, 4, _b64),
    (_A85, 5, _a85),
    (_B85, 5, _b85),
)


def _decodings(run: str) -> Iterator[bytes]:
    """The bytes a run stands for under every encoding whose alphabet holds
    it, at every alignment; a run that will not decode stands for nothing."""
    characters = set(run.rstrip("="))
    for alphabet, group, decode in _ENCODINGS:
        if characters <= alphabet:
            for start in range(group):
                try:
                    yield decode(run, start)
                except (binascii.Error, ValueError):
                    continue


def _is_binary(run: str) -> bool:
    """No decoding of the run is text, or the text is an image (SVG)."""
    return not any(is_text(raw) and not _is_media(raw) for raw in _decodings(run))


def _long_runs(text: str) -> Iterator[str]:
    for scan in _PASSES:
        for match in scan.pattern.finditer(text):
            run = match.group()
            distinct = set(run)
            if len(distinct) < scan.min_distinct:
                continue
            if scan.min_symbols and len(distinct - _ALNUM) < scan.min_symbols:
                continue
            yield run


def _has_signature(text: str) -> bool:
    # At the run's first character only: shifted, a file is long enough to
    # be judged by what it decodes to.
    for match in _SIGNATURE_RUN.finditer(text):
        try:
            if _is_media(_b64(match.group()[:68], 0)):
                return True
        except (binascii.Error, ValueError):
            continue
    return False


def _carries_media(text: str) -> bool:
    if _DATA_URI.search(text):
        return True
    if "\n" in text:
        text = _LINE_BREAK.sub("", text)
    for match in _STRETCH.finditer(text):
        stretch = match.group()
        if _has_signature(stretch):
            return True
        if len(stretch) >= _SHORTEST_RUN and any(_is_binary(run) for run in _long_runs(stretch)):
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
