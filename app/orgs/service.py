"""Organizations: boards, schools, police forces, DCPP agreements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from app.db import utcnow
from app.errors import Conflict, NotFound, UnprocessableContent
from app.orgs.models import DcppAgreement, PoliceForce, School, SchoolBoard

M = TypeVar("M", bound=SQLModel)


def local_today(timezone: str, now: datetime | None = None) -> date:
    """'Today' where the schools are: agreement dates are Quebec calendar dates."""
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def get_or_404(session: Session, model: type[M], row_id: uuid.UUID) -> M:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound()
    return row


def apply_patch(row: SQLModel, patch: BaseModel) -> None:
    for name, value in patch.model_dump(exclude_unset=True).items():
        setattr(row, name, value)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()


@contextmanager
def written_unless_duplicate(session: Session, message_key: str) -> Iterator[None]:
    """Run the writes in the block and flush them; a unique constraint that
    fails means the name is taken.  The request's commit comes later, with
    its audit entry."""
    try:
        yield
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(message_key, code=message_key) from None


def flush_or_conflict(session: Session, message_key: str) -> None:
    with written_unless_duplicate(session, message_key):
        pass


def require_exists(session: Session, model: type[SQLModel], row_id: uuid.UUID, field: str) -> None:
    if session.get(model, row_id) is None:
        raise UnprocessableContent("unknown_reference", code="unknown_reference", field=field)


def create(session: Session, model: type[M], data: BaseModel, **extra: Any) -> M:
    row = model(**data.model_dump(), **extra)
    session.add(row)
    flush_or_conflict(session, "name_taken")
    return row


def update(session: Session, row: M, patch: BaseModel) -> M:
    apply_patch(row, patch)
    flush_or_conflict(session, "name_taken")
    return row


def check_school_references(session: Session, *, board_id: uuid.UUID | None, police_force_id: uuid.UUID | None) -> None:
    if board_id is not None:
        require_exists(session, SchoolBoard, board_id, "board_id")
    if police_force_id is not None:
        require_exists(session, PoliceForce, police_force_id, "police_force_id")


def agreement_in_force_clause(today: date) -> ColumnElement[bool]:
    ends_on = col(DcppAgreement.ends_on)
    return (col(DcppAgreement.starts_on) <= today) & or_(ends_on.is_(None), ends_on >= today)


def is_agreement_in_force(agreement: DcppAgreement, today: date) -> bool:
    return agreement.starts_on <= today and (agreement.ends_on is None or today <= agreement.ends_on)


def forces_with_agreement_in_force(session: Session, force_ids: list[uuid.UUID], today: date) -> set[uuid.UUID]:
    if not force_ids:
        return set()
    rows = session.exec(
        select(DcppAgreement.police_force_id)
        .where(col(DcppAgreement.police_force_id).in_(force_ids))
        .where(agreement_in_force_clause(today))
    ).all()
    return set(rows)


def kit_may_be_used_at(session: Session, school: School, today: date) -> bool:
    """The kit is legal at a school only while its police force's DCPP agreement is in force."""
    return bool(forces_with_agreement_in_force(session, [school.police_force_id], today))
