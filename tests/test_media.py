"""app.media at function level: what counts as text, the thresholds at their
edges, alignments and wrapping.  The HTTP path is in test_bad_input.py."""

from __future__ import annotations

import base64
import hashlib

from app import media
from tests import media_corpus


def _binary(size: int) -> bytes:
    """Bytes that decode to no text, of any length (a hash chain)."""
    out = b""
    while len(out) < size:
        out += hashlib.sha256(out).digest()
    return out[:size]


def test_text_is_utf8_without_control_characters():
    assert media.is_text("é, à : ça va\tbien\r\n".encode())
    assert media.is_text("élève".encode()[:-1])  # cut in the middle of a character
    assert not media.is_text(b"abc\x01def")
    assert not media.is_text(b"abc\x7fdef")
    assert not media.is_text("abc\u0085def".encode())
    assert not media.is_text(b"\xff\xfe\xfd\xfc\xfb")
    assert not media.is_text(media_corpus.gzip_text())


def test_every_corpus_file_is_caught_in_every_encoding():
    for name, raw in media_corpus.FILES.items():
        for encoding, text in media_corpus.encodings(raw).items():
            assert media.carries_media(text), (name, encoding)


def test_the_legitimate_corpus_passes():
    for text in media_corpus.LEGITIMATE:
        assert not media.carries_media(text), text


def test_hex_up_to_a_sha256_is_text_and_one_digit_more_is_not():
    digest = hashlib.sha256(b"x").hexdigest()
    assert len(digest) == 64 and not media.carries_media(digest)
    assert media.carries_media(digest + "a")
    assert media.carries_media(hashlib.sha512(b"x").hexdigest())


def test_base64_and_base32_runs_under_80_characters_are_read_as_text():
    b64 = base64.b64encode(_binary(60)).decode()
    assert len(b64) == 80 and media.carries_media(b64)
    assert not media.carries_media(b64[:79])
    b32 = base64.b32encode(_binary(50)).decode()
    assert len(b32) == 80 and media.carries_media(b32)
    assert not media.carries_media(b32[:79])


def test_base85_runs_under_100_characters_are_read_as_text():
    b85 = base64.b85encode(_binary(80)).decode()
    assert len(b85) == 100 and media.carries_media(b85)
    assert not media.carries_media(b85[:99])


def test_a_link_uses_too_few_symbols_to_be_base85():
    query = "article?fbclid=IwAR" + base64.urlsafe_b64encode(_binary(45)).decode() + "&utm_source=fb&utm_medium=social"
    assert len(query) > 100 and not media.carries_media("https://example.org/" + query)
    assert media.carries_media(base64.b85encode(_binary(200)).decode())


def test_runs_with_few_distinct_characters_are_words_not_bytes():
    assert not media.carries_media("Anticonstitutionnellement" * 10)
    assert not media.carries_media("A" * 500)  # zeros carry no picture
    assert not media.carries_media("deadbeef" * 20)


def test_every_alignment_is_tried():
    b64 = base64.b64encode(_binary(120)).decode()
    for prefix in ("", "Q", "Qx", "Qx9", "Qx9z", "Qx9zW"):
        assert media.carries_media(prefix + b64), prefix
    # Base64 of text stays text whatever is glued in front of it.
    prose = base64.b64encode(media_corpus.PROSE.encode()).decode()
    for prefix in ("", "Q", "Qx", "Qx9"):
        assert not media.carries_media(prefix + prose), prefix


def test_wrapped_lines_are_one_run():
    b64 = base64.b64encode(_binary(240)).decode()
    for width in (16, 40, 64, 76):
        pieces = [b64[i : i + width] for i in range(0, len(b64), width)]
        assert media.carries_media("\n".join(pieces)), width
        assert media.carries_media("\r\n".join(pieces)), width


def test_pieces_between_spaces_under_the_thresholds_are_text():
    """The documented limit: a run is cut by anything outside its alphabet."""
    b64 = base64.b64encode(_binary(240)).decode()
    assert not media.carries_media(" ".join(b64[i : i + 60] for i in range(0, len(b64), 60)))


def test_short_base64_with_a_known_signature_is_still_refused():
    gif = base64.b64encode(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00").decode()
    assert len(gif) < 80 and media.carries_media(gif)
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>').decode()
    assert media.carries_media(svg)  # text once decoded, but an image
    long_svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h9v9z"/></svg>' * 2).decode()
    assert media.carries_media("Qx" + long_svg)  # shifted


def test_every_data_uri_is_refused_and_prose_about_data_is_not():
    for uri in ("data:,x", "data:;base64,AAAA", "DATA:text/plain,x", "data: image/png;", "data%3A%2Cx"):
        assert media.carries_media(f"voir {uri} ici"), uri
    for text in ("Data: 3 photos", "metadata:image", "les data : rien", "données (data) : aucune"):
        assert not media.carries_media(text), text
