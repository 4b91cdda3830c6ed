"""Grid templates are data: one JSON file per version (``app/grid/templates/v<N>.json``,
plus any in ``SEXTO_GRID_TEMPLATES_DIR``), each a JSON Schema with French and
English labels and the flag rules of that version.  A board holding the
official grid adds a file as a new version; old versions stay readable and
submissions are validated against the version they name.

Each section of a template says what police read of it after the hand-off
(``x-police``: all of it, none, or the questions listed).  A section that
does not say is refused when the templates load: a new section is neither
hidden from police nor shown to them by default, someone decides."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from app.field_errors import grid_field_errors
from app.grid.rules import FlagRule, flags_raised, parse_rules
from app.grid.schemas import GridTemplateOut

BUILT_IN = Path(__file__).resolve().parent / "templates"

# The formats of a time: in a grid, every date or date-time answered is when
# something happened (disclosed, started), so none may be in the future.
# Keyed by ``str | None``: an answer's schema may state no format.
_TIME_FORMATS: dict[str | None, Callable[[str], date]] = {
    "date-time": datetime.fromisoformat,
    "date": date.fromisoformat,
}


def _times(schema: Any, value: Any, path: str) -> Iterator[tuple[str, date]]:
    """The answers the schema declares a date or a date-time, parsed, by path."""
    if not isinstance(schema, dict):
        return
    for option in (schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())):
        parse = _TIME_FORMATS.get(option.get("format")) if isinstance(option, dict) else None
        if parse is not None and isinstance(value, str):
            try:
                yield path, parse(value)
                break
            except ValueError:
                continue  # another option of the answer ("unknown")
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from _times(sub, value[name], f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _times(schema.get("items"), item, f"{path}[{index}]")


def _nodes(schema: Any, path: str) -> Iterator[tuple[str, dict]]:
    """Every node of a template's schema, by dotted path (a section is ``.name``)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{name}")
    yield from _nodes(schema.get("items"), f"{path}[]")
    for index, option in enumerate(schema.get("anyOf", ())):
        yield from _nodes(option, f"{path}|{index}")


@dataclass(frozen=True)
class GridTemplate:
    version: int
    document: dict[str, Any]

    @cached_property
    def declared(self) -> GridTemplateOut:
        """The template as the OpenAPI document declares it (its absent keys stay absent)."""
        return GridTemplateOut.model_validate(self.document)

    @cached_property
    def validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.document["schema"])

    @cached_property
    def rules(self) -> list[FlagRule]:
        return parse_rules(self.document.get("flag_rules", []))

    @cached_property
    def police_reads(self) -> dict[str, frozenset[str] | None]:
        """What police read, by section: None the whole section, else the
        questions listed; a section police do not read is absent."""
        reads: dict[str, frozenset[str] | None] = {}
        for name, section in self.document["schema"].get("properties", {}).items():
            declared = section.get("x-police") if isinstance(section, dict) else None
            if declared is None:
                raise ValueError(f"section {name!r} does not say what police read of it (x-police)")
            if declared is True:
                reads[name] = None
            elif isinstance(declared, list) and all(isinstance(question, str) for question in declared):
                if unknown := sorted(set(declared) - set(section.get("properties", {}))):
                    raise ValueError(f"section {name!r}: x-police names no question {', '.join(unknown)}")
                reads[name] = frozenset(declared)
            elif declared is not False:
                raise ValueError(f"section {name!r}: x-police is true, false or a list of its questions")
        sections = {f".{name}" for name in self.document["schema"].get("properties", {})}
        for path, node in _nodes(self.document["schema"], ""):
            if "x-police" in node and path not in sections:
                raise ValueError(f"x-police is said of a section, not of {path or 'the answers'}")
        return reads

    def police_reads_field(self, field: str) -> bool:
        """Whether police read the answer at ``field`` (``section.question``)."""
        section, _, question = field.partition(".")
        if section not in self.police_reads:
            return False
        questions = self.police_reads[section]
        return questions is None or question in questions

    @cached_property
    def flags_beyond_police(self) -> frozenset[str]:
        """The flags a rule of this version may raise from an answer police do
        not read: on a case, police cannot tell whether such a flag follows
        from what they read."""
        return frozenset(
            rule.flag
            for rule in self.rules
            if any(not self.police_reads_field(condition.field) for condition in rule.conditions)
        )

    def police_flags(self, flags: list[str], answers: dict) -> list[str]:
        """Of a submission's flags, those its police-visible answers raise on
        their own (an absent answer never satisfies a condition): the flags
        police may be shown, since they follow from what police read."""
        derivable = set(flags_raised(self.rules, self.police_answers(answers)))
        return [flag for flag in flags if flag in derivable]

    def police_answers(self, answers: dict) -> dict:
        """The answers police read: the sections and questions ``x-police`` declares."""
        seen = {}
        for section, questions in self.police_reads.items():
            if isinstance(answers.get(section), dict):
                value = answers[section]
                seen[section] = dict(value) if questions is None else {k: v for k, v in value.items() if k in questions}
        return seen

    def errors(self, answers: Any) -> list[dict[str, Any]]:
        """The answers' errors, their details in the caller's language once answered."""
        found = sorted(self.validator.iter_errors(answers), key=lambda e: list(e.absolute_path))
        return grid_field_errors(found)[:50]

    def event_times(self, answers: Any) -> dict[str, date]:
        """Valid answers' dates and times (``datetime`` is a ``date``), by path."""
        return dict(_times(self.document["schema"], answers, "answers"))


class GridTemplates:
    def __init__(self, directories: list[Path]) -> None:
        self._by_version: dict[int, GridTemplate] = {}
        for directory in directories:
            for path in sorted(directory.glob("v*.json")):
                document = json.loads(path.read_text(encoding="utf-8"))
                Draft202012Validator.check_schema(document["schema"])
                version = int(document["version"])
                if version in self._by_version:
                    raise ValueError(f"grid template version {version} is defined twice")
                template = GridTemplate(version, document)
                try:
                    # Refuse a template the document does not declare, whose rules do not
                    # parse, or a section of which does not say what police read.
                    template.declared  # noqa: B018
                    template.rules  # noqa: B018
                    template.police_reads  # noqa: B018
                except ValueError as exc:
                    raise ValueError(f"grid template {path.name}: {exc}") from exc
                self._by_version[version] = template
        if not self._by_version:
            raise ValueError("no grid template found")

    @property
    def current(self) -> GridTemplate:
        return self._by_version[max(self._by_version)]

    def get(self, version: int) -> GridTemplate | None:
        return self._by_version.get(version)

    def versions(self) -> list[int]:
        return sorted(self._by_version)

    def all(self) -> list[GridTemplate]:
        return [self._by_version[version] for version in sorted(self._by_version)]
