"""The configuration page is the settings' own descriptions."""

from __future__ import annotations

import pytest

from app.config import PROJECT_ROOT, Settings, configuration_page


def test_the_configuration_page_is_generated_from_the_settings():
    committed = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_page(), "docs/configuration.md differs from app/config.py: run `make docs`"


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_described_on_the_configuration_page(name):
    assert Settings.model_fields[name].description, f"Settings.{name} needs a description"
    assert f"`SEXTO_{name.upper()}`" in configuration_page()

