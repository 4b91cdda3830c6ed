"""Cursor pagination: ``limit`` and an opaque ``cursor``; the answer carries
``next_cursor`` (null on the last page).  Every list orders by a unique key,
so a page never skips or repeats a row that existed when the first page was
read.

Every cursor is read back as one row comparison (``after``):
``(created_at, id) > (:a, :b)``, which a B-tree index on the list's filter
then its order (``(school_id, created_at, id)``) serves as a range, where
``created_at > :a OR (created_at = :a AND id > :b)`` could only be a filter
over every row of the filter (issue 17)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, tuple_
from sqlmodel import Session

from app.errors import UnprocessableContent
from app.schemas import instant_in_range

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of results: pass `next_cursor` as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: tuple[datetime, uuid.UUID] | None


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, raw_id = json.loads(base64.urlsafe_b64decode(padded))
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not instant_in_range(moment):
            raise ValueError("naive, or beyond the range of instants")
        return moment, uuid.UUID(raw_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise UnprocessableContent("invalid_cursor", code="invalid_cursor") from None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=_decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def after(columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False) -> ColumnElement[bool]:
    """The rows past a cursor in the order ``columns`` (all ascending, or all
    descending), as one row comparison: ``(c1, c2) > (:v1, :v2)``.  Every
    cursor of the service is read back through here, so that an index on the
    list's filter and then ``columns`` serves it as an index range (the
    generic plan of a prepared statement included)."""
    if len(columns) != len(values) or not columns:
        raise ValueError("one value per column")
    # A Python tuple on the right: each value is bound with its column's type.
    row, past = tuple_(*columns), tuple(values)
    clause: ColumnElement[bool] = row < past if descending else row > past
    return clause


def paginate(
    session: Session, statement: Any, model: Any, params: PageParams, *, created: str = "created_at"
) -> tuple[list[Any], str | None]:
    """Run ``statement`` (a select of ``model``, first when it selects several
    things) one page at a time, ordered by ``(<created>, id)``."""
    created_column = getattr(model, created)
    if params.after is not None:
        statement = statement.where(after((created_column, model.id), params.after))
    rows = list(session.exec(statement.order_by(created_column, model.id).limit(params.limit + 1)).all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1] if isinstance(rows[-1], model) else rows[-1][0]
    return rows, encode_cursor(getattr(last, created), last.id)


# The audit log's lists page by their integer id instead (entries and
# checkpoints are numbered as they are appended): the cursor is the last id
# of the page, as text.
MAX_INT_CURSOR_LENGTH = 18  # within a signed 64-bit id


def int_cursor(cursor: str | None) -> int:
    """The id an integer cursor names (0: from the start); a 422
    ``invalid_cursor`` for anything but ASCII digits within a 64-bit id."""
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > MAX_INT_CURSOR_LENGTH:  # "²" is a digit to isdigit
        raise UnprocessableContent("invalid_cursor", code="invalid_cursor")
    return int(cursor)


def id_page(
    session: Session, statement: Any, column: Any, after_id: int, limit: int, *, scalars: bool = False
) -> tuple[list[Any], str | None]:
    """Run ``statement`` one page at a time by the integer ``column``: at most
    ``limit`` rows after the id ``after_id``, and the cursor of the next page
    (None on the last).  ``scalars``: the statement selects one model."""
    result = session.execute(statement.where(column > after_id).order_by(column).limit(limit + 1))
    rows: list[Any] = list(result.scalars().all()) if scalars else list(result.all())
    next_cursor = str(getattr(rows[limit - 1], column.key)) if len(rows) > limit else None
    return rows[:limit], next_cursor
