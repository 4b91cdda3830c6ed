"""Field errors in the caller's language.

A 422 lists each offending field with its location (``field``), a stable
``code`` and what is wrong (``detail``).  The code is the validator's own
error type, so it never changes with the language: pydantic's type for a
request's body, path or query (``missing``, ``literal_error``...), the JSON
Schema keyword for a grid's answers (``required``, ``enum``...).  The detail
is a message of ``app.i18n`` chosen by that type, with the limits or allowed
values as parameters, never the validator's English wording.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import ValidationError as SchemaError

from app.i18n import MESSAGES, Language, MessageRef, translate
from app.schemas import PROTOCOL_CONFIRMATIONS, PROTOCOL_REQUIREMENTS

# Pydantic error type -> message key.  Types the service raises itself (see
# app.schemas) use pydantic's names; a type named like a message (a check
# across fields: `agreement_dates`) is its own message.
PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "field_missing",
    "extra_forbidden": "field_unknown",
    "literal_error": "field_not_allowed",
    "enum": "field_not_allowed",
    "union_tag_invalid": "field_kind_not_allowed",
    "union_tag_not_found": "field_kind_missing",
    "string_too_short": "field_too_short",
    "string_too_long": "field_too_long",
    "string_type": "field_text",
    "string_pattern_mismatch": "field_format",
    "int_type": "field_integer",
    "int_parsing": "field_integer",
    "int_from_float": "field_integer",
    "float_type": "field_number",
    "float_parsing": "field_number",
    "bool_type": "field_boolean",
    "bool_parsing": "field_boolean",
    "uuid_type": "field_id",
    "uuid_parsing": "field_id",
    "uuid_version": "field_id",
    "datetime_type": "field_datetime",
    "datetime_parsing": "field_datetime",
    "datetime_from_date_parsing": "field_datetime",
    "datetime_object_invalid": "field_datetime",
    "timezone_aware": "field_timezone",
    "date_type": "field_date",
    "date_parsing": "field_date",
    "date_from_datetime_parsing": "field_date",
    "date_from_datetime_inexact": "field_date",
    "greater_than_equal": "field_at_least",
    "greater_than": "field_greater_than",
    "less_than_equal": "field_at_most",
    "less_than": "field_less_than",
    "too_short": "field_too_few",
    "too_long": "field_too_many",
    "list_type": "field_list",
    "dict_type": "field_object",
    "model_type": "field_object",
    "model_attributes_type": "field_object",
    "url_type": "field_url",
    "url_parsing": "field_url",
    "url_scheme": "field_url_scheme",
    "url_syntax_violation": "field_url",
    "url_too_long": "field_url",
    "json_invalid": "invalid_json",
}

# JSON Schema keyword (a grid's answers) -> message key.
SCHEMA_MESSAGES: dict[str, str] = {
    "required": "field_answer_required",
    "additionalProperties": "field_answer_unknown",
    "enum": "field_not_allowed",
    "const": "field_not_allowed",
    "type": "field_type",
    "pattern": "field_format",
    "minimum": "field_at_least",
    "maximum": "field_at_most",
    "exclusiveMinimum": "field_greater_than",
    "exclusiveMaximum": "field_less_than",
    "minLength": "field_too_short",
    "maxLength": "field_too_long",
    "minItems": "field_too_few",
    "maxItems": "field_too_many",
    "uniqueItems": "field_unique",
    "anyOf": "field_no_form",
    "oneOf": "field_no_form",
}
# A pattern that stands for a format says it as the format.
_FORMAT_MESSAGES = {"date-time": "field_datetime", "date": "field_date"}

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _listed(text: object) -> str:
    """Pydantic's English list of values (``'a', 'b' or 'c'``; ``True``) as
    plain JSON values, ``a, b, c``: the message says the rest in its language."""
    values = _QUOTED.findall(str(text))
    if values:
        return ", ".join(values)
    return {"True": "true", "False": "false", "None": "null"}.get(str(text), str(text))


def _message(kind: str, ctx: dict[str, Any]) -> MessageRef:
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return MessageRef("field_empty")
    key = PYDANTIC_MESSAGES.get(kind) or (kind if kind in MESSAGES else "field_invalid")
    params = {name: ctx[name] for name in ("ge", "gt", "le", "lt", "min_length", "max_length") if name in ctx}
    if "expected" in ctx:
        params["expected"] = _listed(ctx["expected"])
    for name in ("expected_tags", "expected_schemes"):
        if name in ctx:
            params["expected"] = _listed(ctx[name])
    if "discriminator" in ctx:
        params["discriminator"] = _listed(ctx["discriminator"])
    return MessageRef(key, **params)


def protocol_rule(field: str, kind: str) -> str | None:
    """The protocol rule a field error breaks: a confirmation not given,
    wherever it is nested, or a member the protocol requires, missing."""
    if rule := PROTOCOL_CONFIRMATIONS.get(field.rsplit(".", 1)[-1]):
        return rule
    if kind == "missing":
        return PROTOCOL_REQUIREMENTS.get(".".join(field.split(".")[-2:]))
    return None


def request_field_error(error: dict[str, Any], language: Language) -> dict[str, str]:
    """One pydantic error of a request, in ``language``."""
    ctx = error.get("ctx") or {}
    # A whole-body check names the field it refused in its context.
    field = ctx.get("location") or ".".join(str(part) for part in error.get("loc", ()))
    kind = error.get("type", "invalid")
    rule = protocol_rule(field, kind)
    message = MessageRef(rule) if rule else _message(kind, ctx)
    return {"field": field, "code": kind, "detail": translate(message.key, language, **message.params)}


def service_field_error(field: str, kind: str, **ctx: Any) -> dict[str, Any]:
    """A field error found by a service rather than by the request's model,
    shaped and worded as if the model had found it (its detail still to
    translate)."""
    return {"field": field, "code": kind, "detail": _message(kind, ctx)}


def grid_field_errors(errors: list[SchemaError]) -> list[dict[str, Any]]:
    """A grid's answer errors, their details still to translate (``MessageRef``):
    a missing or unknown answer is named, once per object."""
    found, seen = [], set()
    for error in errors:
        field = ".".join(["answers", *(str(p) for p in error.absolute_path)])
        keyword = str(error.validator)
        if (field, keyword) in seen:
            continue
        seen.add((field, keyword))
        found.append({"field": field, "code": keyword, "detail": _schema_message(error)})
    return found


def _schema_message(error: SchemaError) -> MessageRef:
    keyword, instance = str(error.validator), error.instance
    # A validator sets the keyword's value on every error it yields (the stubs'
    # ``Unset`` is for errors made by hand): the schema's own JSON.
    value: Any = error.validator_value
    key = SCHEMA_MESSAGES.get(keyword, "field_invalid")
    schema = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "required" and isinstance(instance, dict):
        return MessageRef(key, names=", ".join(name for name in value if name not in instance))
    if keyword == "additionalProperties" and isinstance(instance, dict):
        return MessageRef(key, names=", ".join(sorted(set(instance) - set(schema.get("properties", {})))))
    if keyword in ("enum", "const"):
        values = value if keyword == "enum" else [value]
        return MessageRef(key, expected=", ".join(_json_text(v) for v in values))
    if keyword == "type":
        return MessageRef(key, expected=", ".join(value) if isinstance(value, list) else str(value))
    if keyword == "pattern" and schema.get("format") in _FORMAT_MESSAGES:
        return MessageRef(_FORMAT_MESSAGES[schema["format"]])
    limits = {
        "minimum": "ge",
        "maximum": "le",
        "exclusiveMinimum": "gt",
        "exclusiveMaximum": "lt",
        "minLength": "min_length",
        "maxLength": "max_length",
        "minItems": "min_length",
        "maxItems": "max_length",
    }
    if keyword in limits:
        if keyword == "minLength" and value == 1:
            return MessageRef("field_empty")
        return MessageRef(key, **{limits[keyword]: value})
    return MessageRef(key)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
