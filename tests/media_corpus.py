"""Small real files of the formats an attacker tried, made here with the
standard library (no binary is committed), every way of writing them as
text, and texts that must stay accepted."""

from __future__ import annotations

import base64
import gzip
import io
import random
import struct
import wave
import zipfile
import zlib

_RANDOM = random.Random(13)


def _noise(size: int) -> bytes:
    """Picture or sound content: bytes nobody could guess."""
    return bytes(_RANDOM.randrange(256) for _ in range(size))


def ppm() -> bytes:
    return b"P6\n8 8\n255\n" + _noise(8 * 8 * 3)


def au() -> bytes:
    samples = _noise(200)
    # Magic, data offset, data size, 8-bit linear PCM, 8000 Hz, mono.
    return struct.pack(">4sIIIII", b".snd", 24, len(samples), 2, 8000, 1) + samples


def aiff() -> bytes:
    samples = _noise(200)
    # 8000 Hz as an 80-bit IEEE 754 extended number.
    rate = struct.pack(">HQ", 16383 + 12, 8000 << (63 - 12))
    comm = b"COMM" + struct.pack(">IhIh", 18, 1, len(samples), 8) + rate
    ssnd = b"SSND" + struct.pack(">III", 8 + len(samples), 0, 0) + samples
    body = b"AIFF" + comm + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def aac_adts() -> bytes:
    frames = b""
    for _ in range(3):
        payload = _noise(60)
        length = 7 + len(payload)
        # Sync word, MPEG-4, no CRC; AAC LC, 44.1 kHz, stereo; frame length; buffer fullness 0x7FF.
        header = bytes(
            [0xFF, 0xF1, 0x50, 0x80 | (length >> 11), (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC]
        )
        frames += header + payload
    return frames


def icns() -> bytes:
    icon = _noise(128) + b"\xff" * 128  # ICN#: a 32 x 32 one-bit icon and its mask
    entry = b"ICN#" + struct.pack(">I", 8 + len(icon)) + icon
    return b"icns" + struct.pack(">I", 8 + len(entry)) + entry


def _dib(width: int, height: int) -> bytes:
    """A BMP header without its file header, as icons and cursors hold it:
    32-bit pixels, then the AND mask (doubled height says so)."""
    pixels = _noise(width * height * 4)
    mask = b"\x00" * (4 * height)
    header = struct.pack("<IiiHHIIiiII", 40, width, height * 2, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    return header + pixels + mask


def cur() -> bytes:
    image = _dib(8, 8)
    directory = struct.pack("<HHH", 0, 2, 1)  # reserved, 2 = cursor, one image
    entry = struct.pack("<BBBBHHII", 8, 8, 0, 0, 3, 3, len(image), 6 + 16)  # hot spot at (3, 3)
    return directory + entry + image


def tga() -> bytes:
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 8, 8, 24, 0)  # uncompressed true colour
    return header + _noise(8 * 8 * 3) + b"\x00" * 8 + b"TRUEVISION-XFILE.\x00"


def _dicom_element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\x00"
    if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
        return struct.pack("<HH2sHI", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def dicom() -> bytes:
    explicit_little = b"1.2.840.10008.1.2.1"
    elements = (
        _dicom_element(0x0002, 0x0010, b"UI", explicit_little)
        + _dicom_element(0x0028, 0x0010, b"US", struct.pack("<H", 8))  # rows
        + _dicom_element(0x0028, 0x0011, b"US", struct.pack("<H", 8))  # columns
        + _dicom_element(0x0028, 0x0100, b"US", struct.pack("<H", 8))  # bits allocated
        + _dicom_element(0x7FE0, 0x0010, b"OB", _noise(64))  # pixel data
    )
    return b"\x00" * 128 + b"DICM" + elements


def jpeg() -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + _noise(64)
    return b"\xff\xd8" + app0 + dqt + b"\xff\xda" + _noise(80) + b"\xff\xd9"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + _noise(8 * 3) for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)  # 8 x 8, 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def gif() -> bytes:
    """An 8 x 8 GIF with 128 colours.  With 7-bit codes each LZW code is one
    byte as long as the table is cleared often enough, which it is here."""
    screen = struct.pack("<HHBBB", 8, 8, 0xF6, 0, 0)  # global colour table of 128 entries
    palette = _noise(128 * 3)
    pixels = bytes(byte & 0x7F for byte in _noise(64))
    stream = bytes([128]) + pixels + bytes([129])  # clear, the pixels, end
    image = b"," + struct.pack("<HHHHB", 0, 0, 8, 8, 0) + bytes([7, len(stream)]) + stream + b"\x00"
    return b"GIF89a" + screen + palette + image + b";"


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(8000)
        sound.writeframes(_noise(200))
    return out.getvalue()


def mp3() -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: frames of 417 bytes; two of them.
    return b"".join(b"\xff\xfb\x90\x64" + _noise(413) for _ in range(2))


def mp4() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom"
    body = _noise(200)
    return ftyp + struct.pack(">I", 8 + len(body)) + b"mdat" + body


PROSE = (
    "La direction a rencontré l'élève et sa mère ; la photo n'a été vue par personne. "
    "Le groupe « 3e-sec-B » compte 40 membres, et l'intervenante a expliqué les étapes à suivre."
)


def gzip_text() -> bytes:
    return gzip.compress(PROSE.encode(), mtime=0)


def zip_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("note.txt", PROSE)
    return out.getvalue()


FILES = {
    name: make()
    for name, make in {
        "ppm": ppm,
        "au": au,
        "aiff": aiff,
        "aac_adts": aac_adts,
        "icns": icns,
        "cur": cur,
        "tga": tga,
        "dicom": dicom,
        "jpeg": jpeg,
        "png": png,
        "gif": gif,
        "wav": wav,
        "mp3": mp3,
        "mp4": mp4,
        "gzip": gzip_text,
        "zip": zip_text,
    }.items()
}


def _lines(text: str, width: int, end: str = "\n") -> str:
    return end.join(text[i : i + width] for i in range(0, len(text), width))


def encodings(raw: bytes) -> dict[str, str]:
    """Every way of writing ``raw`` as text the filter must see through."""
    b64 = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    b32 = base64.b32encode(raw).decode()
    hexa = raw.hex()
    forms = {
        "base64": b64,
        "base64_unpadded": b64.rstrip("="),
        "base64_urlsafe": url,
        "base64_urlsafe_unpadded": url.rstrip("="),
        "base64_mime_lines": _lines(b64, 76, "\r\n"),
        "base64_pem_lines": _lines(b64, 64),
        "base64_in_a_sentence": f"Voici la photo : {b64} (envoyée hier)",
        "base32": b32,
        "base32_unpadded": b32.rstrip("="),
        "base32_lower": b32.lower(),
        "base32_lines": _lines(b32, 64),
        "base85": base64.b85encode(raw).decode(),
        "ascii85": base64.a85encode(raw).decode(),
        "ascii85_adobe": base64.a85encode(raw, adobe=True).decode(),
        "ascii85_lines": base64.a85encode(raw, wrapcol=76).decode(),
        "hex": hexa,
        "hex_upper": hexa.upper(),
        "hex_xxd_lines": _lines(hexa, 60),
        "hex_in_a_sentence": f"Fichier : {hexa}.",
    }
    # Shifted: a few characters of the same alphabet glued in front, so the
    # run starts off its groups' boundaries.
    for shift in (1, 2, 3):
        forms[f"base64_shifted_{shift}"] = "Qx9"[:shift] + b64
        forms[f"base64_urlsafe_shifted_{shift}"] = "_x-"[:shift] + url
    for shift in (1, 3, 5, 7):
        forms[f"base32_shifted_{shift}"] = "ABCDEFG"[:shift] + b32
    forms["hex_shifted_1"] = "f" + hexa
    forms["base85_shifted_2"] = "Zz" + forms["base85"]
    return forms


# Accepted as they are: prose, links, the ids the service issues, hashes
# people paste, long words, code and JSON written as text.
LEGITIMATE = [
    PROSE,
    "Rencontre avec l'élève à 10 h 15 : elle dit avoir reçu la photo sur Snapchat, puis l'avoir supprimée.",
    "The student said the picture was forwarded to a group chat of about twenty people before lunch.",
    "Anticonstitutionnellement" * 3,
    "Anticonstitutionnellement" * 8,
    "pneumonoultramicroscopicsilicovolcanoconiosis Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
    "hahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahaha",
    "NOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOON",
    "#JeSuisTropContenteDeCeQuiEstArriveAujourdhuiAvecMesAmisDeLecoleSecondaire",
    "https://example.org/fr/services/education/securite/sexto/guide/parents/ressources/fiche-sexto.pdf",
    "https://www.cybertip.ca/fr/signaler/?ref=SX-2026-00001&utm_source=ecole&utm_medium=courriel&lang=fr",
    "https://docs.example.com/document/d/1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEFGH/edit?usp=sharing",
    "https://example.org/aGVsbG8td29ybGQtdGhpcy1pcy1ub3QtYW4taW1hZ2U",
    "https://example.org/article?fbclid=IwARGTd7FguoV8FWnFbB0JxXujr4qqaaABvvLOzAxzXMcU1vsHiQMaRiNTN9Ox98"
    "&utm_source=facebook&utm_medium=social&utm_campaign=rentree2026",
    "https://www.facebook.com/groups/123456789012345/posts/987654321098765/?__cft__[0]=AZU1234abcdEFGHijklMNOP"
    "qrstUVWXyz5678&__tn__=%2CO%2CP-R",
    "Dossier SX-2026-00001, 3f2b1c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d, rapport policier SPVM-2026-004512.",
    "Scellé SC-2026-000123-ABCDEFGHIJKLMNOP, matricule 4512, dossier DPJ-2026-11873.",
    "3f2b1c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d\n0b6f2d1e-9a7c-4e3b-8d5f-2c1a0e9b8f7d\n5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
    "SHA-256 du fichier signalé : e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "MD5 d41d8cd98f00b204e9800998ecf8427e, SHA-1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    '{"eleve": "X", "groupe": "3e-sec-B", "membres": 40, "plateformes": ["snapchat", "instagram"]}',
    "for (let i = 0; i < photos.length; i++) { supprimer(photos[i]); } // code recopié du signalement",
    "QWxvcnMgw6dhIGZhaXQgcXVvaQ==",
    base64.b64encode(PROSE.encode()).decode(),
    base64.b32encode(PROSE.encode()).decode(),
    PROSE.encode().hex(),
    "Data: 3 photos, 2 vidéos, aucune consultée.",
    "<svg> et <img> sont des balises : le texte les garde telles quelles.",
    "100 % des élèves du groupe l'ont reçue ; taux de 50%2C selon la direction.",
    "ligne 1\nligne 2\r\nligne 3\ttabulée\n" * 10,
]
