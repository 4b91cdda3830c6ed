"""Which passwords are accepted, after NIST SP 800-63B (§3.1.1.2).

A password is refused when it is shorter than ``MIN_LENGTH`` or longer than
``MAX_LENGTH`` characters, when it is a common or breached password, or when
it contains a word the person or the service gives away (the service's name,
the username or one of its parts, a part of the person's name).  There are no
composition rules: a long passphrase of ordinary words is what we want.

The common passwords are the list shipped by ``zxcvbn`` (30,000 passwords
ranked by how often they appear in breaches), read on the first password
checked, not at start-up.  Comparisons ignore case, accents, spaces and
punctuation between words.

Every place that sets a password checks it here: an admin creating or
changing a user (``app.accounts.service``) and the first admin from the
settings (``app.config``).  The demo users' password is not checked: demo
data is refused in production, and its password is published.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# NIST asks for at least 8 characters and allows at least 64; we ask for more,
# and the upper bound only keeps hashing cheap.
MIN_LENGTH = 12
MAX_LENGTH = 256

SERVICE_WORDS = ("sexto",)
# A shorter part of a name ("Sam", "m" of "m.tremblay") would refuse too many
# unrelated passphrases ("samedi"); the whole username counts at any length.
_SHORTEST_PART = 4
_SEPARATORS = re.compile(r"[\s._@'-]+")


def weakness(password: str, *, username: str, full_name: str) -> str | None:
    """Why ``password`` is refused, as a field error type, or ``None``.

    ``string_too_short`` or ``string_too_long`` (with the limits in
    ``MIN_LENGTH`` and ``MAX_LENGTH``), ``password_common`` for a common or
    breached password, ``password_personal`` for one that contains the
    service's name, the username or a part of it or of ``full_name``."""
    if len(password) < MIN_LENGTH:
        return "string_too_short"
    if len(password) > MAX_LENGTH:
        return "string_too_long"
    folded = _fold(password)
    joined = _SEPARATORS.sub("", folded)
    if folded in _common() or joined in _common():
        return "password_common"
    if any(word in folded or word in joined for word in _context_words(username, full_name)):
        return "password_personal"
    return None


def _fold(text: str) -> str:
    """``text`` as compared: no case, no accents, compatibility forms unified."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _context_words(username: str, full_name: str) -> set[str]:
    words = set()
    for source in (username, full_name):
        folded = _fold(source)
        words.add(_SEPARATORS.sub("", folded))
        words.update(_SEPARATORS.split(folded))
    words = {word for word in words if len(word) >= _SHORTEST_PART}
    username_whole = _SEPARATORS.sub("", _fold(username))
    return words | {_fold(word) for word in SERVICE_WORDS} | ({username_whole} if username_whole else set())


@cache
def _common() -> frozenset[str]:
    # Imported here: the list costs about 14 MB and half a second, paid by the
    # first password checked rather than by every start-up.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(_fold(password) for password in FREQUENCY_LISTS["passwords"])
