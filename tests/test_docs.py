"""The documentation stands alone: the configuration page is the settings'
own descriptions, and every link in README.md, CHANGELOG.md and docs/ leads to
a file (and a heading) of this repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, Settings, configuration_page

PAGES = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "CHANGELOG.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
# A markdown link's target, or a path written as code that leaves the folder (`../x`).
LINK = re.compile(r"\]\(([^)\s]+)\)|`(\.\./[^`\s]*)`")


def test_the_configuration_page_is_generated_from_the_settings():
    committed = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_page(), "docs/configuration.md differs from app/config.py: run `make docs`"


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_described_on_the_configuration_page(name):
    assert Settings.model_fields[name].description, f"Settings.{name} needs a description"
    assert f"`SEXTO_{name.upper()}`" in configuration_page()


def _anchor(heading: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+ (.*)$", CODE_BLOCK.sub("", page.read_text(encoding="utf-8")), re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(PROJECT_ROOT).as_posix())
def test_every_link_leads_into_the_repository(page):
    for link, code in LINK.findall(CODE_BLOCK.sub("", page.read_text(encoding="utf-8"))):
        target = link or code
        if target.startswith(("https://", "http://")):
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        assert destination.is_relative_to(PROJECT_ROOT), f"{target}: outside the repository"
        assert destination.exists(), f"{target}: no such file"
        if anchor:
            assert anchor in _anchors(destination), f"{target}: no such heading"
