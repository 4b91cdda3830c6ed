"""The grid template's structure, declared for front ends.

A template (``app/grid/templates/v<N>.json``) is the JSON Schema of the
answers, each section, question and answer labelled in French and English,
and the flag rules of that version.  These models are what the OpenAPI
document says a template is, and every template is checked against them when
the service starts: a template that uses anything they do not name is
refused, so what a front end reads in the document is all it has to render.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from app.cases.models import Flag

Scalar = str | int | float | bool
# A keyword a node may leave out: absent from the answer, never null.
Absent = SkipJsonSchema[None]
Number = int | float


class _Declared(BaseModel):
    # Serialized under the template's own names (`x-labels`, `anyOf`...).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class GridLabels(_Declared):
    """A text in French and in English."""

    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)


class GridField(_Declared):
    """A node of the answers' JSON Schema (draft 2020-12): a section (an object
    whose `properties` are its questions, in order), a question, a list's item
    or one of a question's allowed forms (`anyOf`, e.g. a date or `"unknown"`).
    Only these keywords are used; `x-labels` names the node, `x-enum-labels`
    each allowed answer, `x-help` says how to ask, `x-police` (every section
    has it) what police read of the section."""

    type: Literal["object", "array", "string", "integer", "number", "boolean", "null"] | Absent = None
    properties: dict[str, GridField] | Absent = Field(
        default=None, description="An object's members, in display order."
    )
    required: list[str] | Absent = None
    additional_properties: bool | Absent = Field(default=None, alias="additionalProperties")
    items: GridField | Absent = Field(default=None, description="An array's items.")
    enum: list[str] | Absent = Field(default=None, description="The allowed answers (codes), in display order.")
    const: Scalar | Absent = None
    any_of: list[GridField] | Absent = Field(
        default=None, alias="anyOf", description="The answer takes one of these forms."
    )
    format: Literal["date-time", "date"] | Absent = None
    pattern: str | Absent = None
    minimum: Number | Absent = None
    maximum: Number | Absent = None
    min_length: int | Absent = Field(default=None, alias="minLength")
    max_length: int | Absent = Field(default=None, alias="maxLength")
    min_items: int | Absent = Field(default=None, alias="minItems")
    max_items: int | Absent = Field(default=None, alias="maxItems")
    unique_items: bool | Absent = Field(default=None, alias="uniqueItems")
    labels: GridLabels | Absent = Field(
        default=None, alias="x-labels", description="The section's or question's label."
    )
    enum_labels: dict[str, GridLabels] | Absent = Field(
        default=None, alias="x-enum-labels", description="A label for each code of `enum`."
    )
    help: GridLabels | Absent = Field(default=None, alias="x-help", description="How to ask, or what the answers mean.")
    police: bool | list[str] | Absent = Field(
        default=None,
        alias="x-police",
        description="On each section, and only there: what police read of the section's answers after the "
        "hand-off: `true` all of it, `false` none, or the questions listed.",
    )


class GridAnswersSchema(GridField):
    """The JSON Schema the answers of a submission follow: an object of sections."""

    json_schema_dialect: Literal["https://json-schema.org/draft/2020-12/schema"] | Absent = Field(
        default=None, alias="$schema"
    )


# --- flag rules: one condition tests one answer, named by its dotted path ---------


class GridConditionIn(_Declared):
    """The answer is one of these codes."""

    field: str = Field(description="The answer's dotted path, e.g. `nature.content_described`.")
    in_: list[Scalar] = Field(alias="in")


class GridConditionEquals(_Declared):
    """The answer is this code."""

    field: str
    equals: Scalar


class GridConditionContainsAny(_Declared):
    """The answer, a list, contains one of these codes."""

    field: str
    contains_any: list[Scalar]


class GridConditionAnyBelow(_Declared):
    """The answer, a list of numbers, has one below this value."""

    field: str
    any_below: Number


class GridConditionAnyAtLeast(_Declared):
    """The answer, a list of numbers, has one at least this value."""

    field: str
    any_at_least: Number


GridCondition = (
    GridConditionIn | GridConditionEquals | GridConditionContainsAny | GridConditionAnyBelow | GridConditionAnyAtLeast
)


class GridFlagRuleAll(_Declared):
    """The flag is raised when every condition holds.  An absent answer, or
    `unknown`, never satisfies a condition."""

    flag: Flag
    all: list[GridCondition] = Field(min_length=1)
    labels: GridLabels = Field(alias="x-labels", description="Why the flag is raised, in words.")


class GridFlagRuleAny(_Declared):
    """The flag is raised when one of the conditions holds.  An absent answer,
    or `unknown`, never satisfies a condition."""

    flag: Flag
    any: list[GridCondition] = Field(min_length=1)
    labels: GridLabels = Field(alias="x-labels", description="Why the flag is raised, in words.")


class GridTemplateOut(_Declared):
    """A version of the evaluation grid, for a front end to render: the JSON
    Schema of the answers with French and English labels, and the rules by
    which the answers raise the case's flags.  Submissions name the version
    they follow; a published version never changes."""

    version: int = Field(ge=1)
    title: GridLabels
    description: GridLabels | Absent = None
    answers_schema: GridAnswersSchema = Field(alias="schema")
    flag_rules: list[GridFlagRuleAll | GridFlagRuleAny]
