"""Benchmark: what the media filter costs on a large body.

Every JSON string of every write goes through ``app.media.find_media``
before anything is stored.  This times it on an ordinary note, and on bodies
just under the request limit (256 KiB), each scanned whole because none
carries media:

- prose: a note-like body, French text in many strings, as clients send it;
- links and ids: text dense with URLs, UUIDs, case references and hashes;
- base64 of text: one long run that every encoding and alignment must try
  before it is found to be text (the worst case the filter accepts);
- hex of text: the same in hex.

It also times one refusal (base64 of a JPEG in the same body), which stops
at the first run.  Prints the minimum, median and 90th percentile per body
and the throughput.  Timing is never checked by a test; read the figures.

    .venv/bin/python bench/media_scan.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.media import find_media
from tests import media_corpus

LIMIT = 256 * 1024


def _fill(piece: str) -> list[str]:
    """As many copies of ``piece`` as fit in a body under the limit."""
    count = (LIMIT - 64) // (len(json.dumps(piece, ensure_ascii=False).encode()) + 2)
    return [piece] * count


def bodies() -> dict[str, object]:
    prose = media_corpus.PROSE + " " + media_corpus.LEGITIMATE[1] + " " + media_corpus.LEGITIMATE[2]
    marks = ("https://", "SX-", "SHA", "MD5", "Scellé")
    links = " ".join(text for text in media_corpus.LEGITIMATE if any(mark in text for mark in marks))
    text = (media_corpus.PROSE * 2000).encode()
    b64 = base64.b64encode(text[: LIMIT * 3 // 4 - 1024]).decode()
    hexa = text[: LIMIT // 2 - 1024].hex()
    jpeg = base64.b64encode(media_corpus.FILES["jpeg"]).decode()
    return {
        "a note of 2 KiB": {"text": (prose + " ") * 5},
        "prose": {"notes": _fill(prose)},
        "links and ids": {"notes": _fill(links)},
        "base64 of text": {"text": b64},
        "hex of text": {"text": hexa},
        "refused: base64 JPEG after prose": {"notes": [*_fill(prose)[:-2], jpeg]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for name, body in bodies().items():
        size = len(json.dumps(body, ensure_ascii=False).encode())
        assert size <= LIMIT, (name, size)
        expected = name.startswith("refused")
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            found = find_media(body)
            times.append(time.perf_counter() - start)
            assert (found is not None) == expected, (name, found)
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        # The minimum is the scan's own cost; the median and p90 add the machine's noise.
        print(
            f"{name:36} {size / 1024:4.0f} KiB  min {min(times) * 1000:6.1f} ms  median {median * 1000:6.1f} ms"
            f"  p90 {p90 * 1000:6.1f} ms  {size / median / 2**20:5.1f} MiB/s at the median"
        )


if __name__ == "__main__":
    main()
