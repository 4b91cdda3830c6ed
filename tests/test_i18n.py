import re
import string

import pytest

from app.i18n import LANGUAGES, MESSAGES, negotiate_language


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_every_language_with_the_same_placeholders(key):
    texts = MESSAGES[key]
    assert set(texts) == set(LANGUAGES), f"{key} lacks a translation"
    fields = {
        language: {name for _, name, _, _ in string.Formatter().parse(text) if name} for language, text in texts.items()
    }
    assert fields["fr"] == fields["en"], key
    assert all(text.strip() for text in texts.values())


def test_every_message_key_used_in_the_code_exists():
    from pathlib import Path

    source = "\n".join(path.read_text() for path in Path("app").rglob("*.py"))
    used = set(
        re.findall(
            r'(?:Problem|Request|Found|Forbidden|Conflict|Content|Unavailable|Large|Type|Grant)\(\s*"([a-z_]+)"', source
        )
    )
    used |= set(re.findall(r'MessageRef\(\s*"([a-z_]+)"', source))
    assert used, "the pattern found no message key"
    assert used <= set(MESSAGES), used - set(MESSAGES)


@pytest.mark.parametrize(
    "header,expected",
    [
        (None, "fr"),
        ("", "fr"),
        ("en", "en"),
        ("en-CA", "en"),
        ("fr-CA,en;q=0.5", "fr"),
        ("es,en;q=0.1", "en"),
        ("en;q=0", "fr"),
    ],
)
def test_language_negotiation(header, expected):
    assert negotiate_language(header) == expected
