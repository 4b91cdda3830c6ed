"""Shared bases for request and response bodies."""

from __future__ import annotations

import json
import re
import types
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.media import find_media, find_nul

# What JSON must carry for a field of each type: a boolean, a number, or text
# (dates, times and ids are written as text).  Pydantic's lax mode would take
# `true` for 1 year, "yes" or 1 for a confirmation, 1700000000 for a date.
_JSON_KINDS: dict[type, tuple[str, tuple[type, ...]]] = {
    bool: ("bool_type", (bool,)),
    int: ("int_type", (int, float)),  # 5.0 is an integer in JSON Schema
    float: ("float_type", (int, float)),
    datetime: ("datetime_type", (str,)),
    date: ("date_type", (str,)),
    uuid.UUID: ("uuid_type", (str,)),
}
# Pydantic's date and time markers are no subclasses of what they validate.
_MARKERS: dict[type, type] = {
    AwareDatetime: datetime,
    NaiveDatetime: datetime,
    PastDatetime: datetime,
    FutureDatetime: datetime,
    PastDate: date,
    FutureDate: date,
}
_MESSAGES = {
    "bool_type": "Input should be a JSON boolean",
    "int_type": "Input should be a JSON integer",
    "float_type": "Input should be a JSON number",
    "datetime_type": "Input should be an RFC 3339 date-time as text",
    "date_type": "Input should be a date as text",
    "uuid_type": "Input should be an id as text",
}


def _json_kind(annotation: Any) -> type | None:
    """The one scalar type a field takes (``None`` aside), if it is one of ``_JSON_KINDS``."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    options = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    kinds = [option for option in options if option is not type(None)]
    if len(kinds) != 1:
        return None
    kind = get_args(kinds[0])[0] if get_origin(kinds[0]) is Annotated else kinds[0]
    if get_origin(kind) is Literal and all(isinstance(value, bool) for value in get_args(kind)):
        return bool  # Literal[True] would take 1, which equals True
    if not isinstance(kind, type):
        return None
    kind = _MARKERS.get(kind, kind)
    # bool before int, datetime before date: the first is the narrower.
    return next((base for base in _JSON_KINDS if issubclass(kind, base)), None)


def _json_type_error(annotation: Any, value: Any) -> str | None:
    """The error type when a field gets a JSON value of another type than its
    schema says (a look-alike pydantic's lax mode would convert)."""
    kind = _json_kind(annotation)
    if kind is None or value is None:
        return None
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return None  # already the type: a model built in code
    error, accepted = _JSON_KINDS[kind]
    is_that_kind = isinstance(value, accepted) and (kind is bool or not isinstance(value, bool))
    if is_that_kind and (kind is not int or not isinstance(value, float) or value.is_integer()):
        return None
    return error


def _max_length(annotation: Any) -> int | None:
    """The ``max_length`` a text field's schema states (``None`` aside)."""
    options = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    for option in options:
        if get_origin(option) is Annotated:
            for constraint in get_args(option)[1:]:
                max_length: int | None = getattr(constraint, "max_length", None)
                if max_length is not None:
                    return max_length
    return None


def _too_long(field: Any, value: Any) -> int | None:
    """The limit a text value breaks as sent, before its surrounding
    whitespace is stripped (the document's ``maxLength`` is about what is sent)."""
    if not isinstance(value, str):
        return None
    limit = next((m.max_length for m in field.metadata if getattr(m, "max_length", None) is not None), None)
    limit = limit if limit is not None else _max_length(field.annotation)
    return limit if limit is not None and len(value) > limit else None


def refuse_media(data: Any) -> Any:
    """No NUL character and no image, video or sound anywhere in a body."""
    location = find_nul(data)
    if location is not None:
        raise PydanticCustomError("nul_character", "NUL character refused at {location}", {"location": location})
    location = find_media(data)
    if location is not None:
        # ``app.errors`` answers this error type with 422 ``media_refused``.
        raise PydanticCustomError(
            "media_refused", "image, video or audio content refused at {location}", {"location": location}
        )
    return data


# On a union of bodies: refused before the union looks for its tag, so a body
# without one that carries media is still a ``media_refused``.
NoMedia = BeforeValidator(refuse_media)


class InputModel(BaseModel):
    """Every request body: unknown fields are refused (422), so a client can
    never set a server-owned field (id, status, flags, timestamps); no text
    anywhere in it may carry an image, a video or a sound; and each field
    gets the JSON type its schema says (``true`` is no integer, ``"yes"`` no
    boolean, a number no date)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_media(cls, data: Any) -> Any:
        refuse_media(data)
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name) if isinstance(name, str) else None
                error = _json_type_error(field.annotation, value) if field is not None else None
                if error is not None:
                    raise PydanticCustomError(error, _MESSAGES[error] + " at {location}", {"location": f"body.{name}"})
                limit = _too_long(field, value) if field is not None else None
                if limit is not None:
                    raise PydanticCustomError(
                        "string_too_long",
                        "String should have at most {max_length} characters at {location}",
                        {"max_length": limit, "location": f"body.{name}"},
                    )
        return data


# Confirmations the protocol requires (``Literal[True]`` fields), by field
# name: a request without one (missing, false, anything but true) is a 422
# whose code names the rule, with the confirmation in ``rules``.
PROTOCOL_CONFIRMATIONS: dict[str, str] = {
    "switched_off_confirmed": "device_not_switched_off",
    "content_not_viewed": "content_must_not_be_viewed",
    "referred_to_communications": "media_inquiry_not_referred",
}


# Body members the protocol requires (``<action>.<member>`` → the rule a body
# without one breaks).  The protocol table says which (``Transition.requires``);
# each body model registers its own as it declares them
# (``app.cases.schemas.required_member``), so that a 422 names the rule
# without the error layer reaching into the protocol.
PROTOCOL_REQUIREMENTS: dict[str, str] = {}


def confirmation(name: str, description: str) -> Any:
    """The field of a protocol confirmation: declared with its rule."""
    rule = PROTOCOL_CONFIRMATIONS[name]
    return Field(
        description=f"{description} Anything but `true` is a 422 `{rule}`.",
        json_schema_extra={"x-protocol-rule": rule},
    )


def named_examples(tag: str, *models: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """OpenAPI named examples of a body that is one of several kinds: each
    member's first example, named after its ``tag`` (``kind``, ``action``...)
    and summarized by the first line of its docstring."""
    examples: dict[str, dict[str, Any]] = {}
    for model in models:
        extra = model.model_config["json_schema_extra"]
        # Each member states its examples as data (not as a function), the
        # first one carrying its tag.
        assert isinstance(extra, dict) and isinstance(extra["examples"], list)
        value = extra["examples"][0]
        assert isinstance(value, dict)
        name = value[tag]
        assert isinstance(name, str)
        summary = (model.__doc__ or "").strip().splitlines()[0]
        examples[name] = {"summary": summary, "value": value}
    return examples


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def json_line(model: BaseModel) -> str:
    """``model`` as one line of JSON Lines, whatever its text holds: every
    character beyond ASCII written as a ``\\u`` escape.  JSON escapes only the
    C0 controls, so NEL (U+0085), LINE and PARAGRAPH SEPARATOR (U+2028,
    U+2029) would stay raw and split the line for readers that take them as
    line breaks (Python's ``str.splitlines``, JavaScript before ES2019); a
    right-to-left override would show the line otherwise than it reads.  A
    JSON reader decodes the escapes back to the very text stored."""
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))


class CaseAnswer:
    """Marks a response body that is the case itself (``CaseOut``): its answer
    carries the case's ETag after a write too, not only on a read, so that
    the client holds the version it just made (``app.etags``)."""

    __slots__ = ()


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339_only(value: Any) -> Any:
    """A query's instant as the document says: RFC 3339 text, not a Unix time."""
    if isinstance(value, str) and _RFC3339.match(value):
        return value
    if isinstance(value, datetime):
        return value
    raise PydanticCustomError("datetime_type", _MESSAGES["datetime_type"])


# The instants a query or a cursor may name, once their offset is applied.
# Nothing the service records is older than the first; the year left below
# the calendar's end leaves room for arithmetic on a period (a default week
# before ``until``, a 31-day cap), which would overflow at 9999-12-31.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def instant_in_range(moment: datetime) -> bool:
    """Whether an aware instant lies between ``EARLIEST_INSTANT`` and
    ``LATEST_INSTANT`` (``9999-12-31T23:59:59-23:59`` is beyond the calendar
    once in UTC: no comparison, only this answer)."""
    try:
        return EARLIEST_INSTANT <= moment.astimezone(UTC) <= LATEST_INSTANT
    except OverflowError:
        return False


def _in_range(value: datetime) -> datetime:
    if not instant_in_range(value):
        raise PydanticCustomError(
            "instant_range",
            "Input should be between {earliest} and {latest}",
            {"earliest": EARLIEST_INSTANT.isoformat(), "latest": LATEST_INSTANT.isoformat()},
        )
    return value


# An instant in a query string (``since``, ``until``, ``updated_since``).
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only), AfterValidator(_in_range)]


# When a recorded event happened.  Not in the future: the service refuses a
# later time than its clock plus a small margin, or a later date than the
# local date then (422 ``time_in_future``; ``app.cases.service.refuse_future``).
# The margin: how far ahead of the server's clock a client's clock may be.
CLOCK_SKEW = timedelta(minutes=5)
_SKEW_MINUTES = int(CLOCK_SKEW.total_seconds()) // 60
EVENT_TIME_RULE = f"Not in the future: at most {_SKEW_MINUTES} minutes ahead of the server's clock (clock skew), else 422 `time_in_future`."
EVENT_DATE_RULE = "Not in the future: today's local date at the latest, else 422 `time_in_future`."
EventTime = Annotated[AwareDatetime, Field(description=f"When it happened. {EVENT_TIME_RULE}")]
EventDate = Annotated[date, Field(description=f"When it happened. {EVENT_DATE_RULE}")]
