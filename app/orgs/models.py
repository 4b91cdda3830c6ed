"""School boards, schools, police forces and their agreements with the DCPP."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class SchoolBoard(SQLModel, table=True):
    __tablename__ = "school_board"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class PoliceForce(SQLModel, table=True):
    __tablename__ = "police_force"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class School(SQLModel, table=True):
    """A school, owned by one board and served by exactly one police force."""

    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("board_id", "name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    board_id: uuid.UUID = Field(foreign_key="school_board.id", index=True)
    police_force_id: uuid.UUID = Field(foreign_key="police_force.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DcppAgreement(SQLModel, table=True):
    """An agreement between a police force and the DCPP (entente avec le DPCP).

    The kit may be used at a school only while an agreement of the police force
    serving it is in force: ``starts_on <= today`` and (``ends_on`` is null or
    ``today <= ends_on``), dates inclusive, in Quebec local time.
    """

    __tablename__ = "dcpp_agreement"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    police_force_id: uuid.UUID = Field(foreign_key="police_force.id", index=True)
    reference: str | None = Field(default=None, max_length=100)
    starts_on: date
    ends_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
