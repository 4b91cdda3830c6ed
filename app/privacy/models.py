"""What the board's person in charge of privacy keeps: the retention rule,
legal holds on cases, and the confidentiality-incident register.

Actors are stored by id without a foreign key: a user or a service
account (a police portal places holds too).  None of these tables holds a child's name or a case's contents: cases are
named by id (and their human reference when read back).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.accounts.models import _one_of
from app.db import new_id, utc_field, utcnow


class RetentionRule(SQLModel, table=True):
    """A school board's rule: a closed case's personal information is
    destroyed this many years after closure.  A board without a rule gets the
    service default (``SEXTO_RETENTION_DEFAULT_YEARS``)."""

    __tablename__ = "retention_rule"
    __table_args__ = (CheckConstraint("years_after_closure BETWEEN 1 AND 100", name="years"),)

    board_id: uuid.UUID = Field(foreign_key="school_board.id", primary_key=True)
    years_after_closure: int
    # The retention schedule's item the rule applies (calendrier de conservation).
    schedule_reference: str | None = Field(default=None, max_length=64)
    version: int = 1
    updated_by: uuid.UUID  # a user or a service account
    updated_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class LegalHold(SQLModel, table=True):
    """A case that must not be destroyed while police or the DPJ may need it."""

    __tablename__ = "legal_hold"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    placed_by: uuid.UUID  # a user or a service account
    placed_by_role: str = Field(max_length=32)
    placed_at: datetime = utc_field(default_factory=utcnow, nullable=False)
    lifted_by: uuid.UUID | None = None
    lifted_by_role: str | None = Field(default=None, max_length=32)
    lift_reason: str | None = Field(default=None, sa_column=Column(Text))
    lifted_at: datetime | None = utc_field(default=None)


class RiskLevel(StrEnum):
    """The assessment of the risk of serious injury (Act, s. 63.10)."""

    not_assessed = "not_assessed"
    low = "low"
    serious = "serious"


class PrivacyIncident(SQLModel, table=True):
    """An entry of the confidentiality-incident register (Regulation respecting
    confidentiality incidents, s. 11).  Updated in place; every version is
    kept in ``privacy_incident_version``."""

    __tablename__ = "privacy_incident"
    __table_args__ = (
        UniqueConstraint("board_id", "year", "number"),
        CheckConstraint(_one_of("risk_level", RiskLevel), name="risk_level"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    board_id: uuid.UUID = Field(foreign_key="school_board.id", index=True)
    year: int
    number: int
    reference: str = Field(max_length=24)
    information_involved: str = Field(sa_column=Column(Text, nullable=False))
    circumstances: str = Field(sa_column=Column(Text, nullable=False))
    occurred_from: date
    occurred_until: date | None = None
    discovered_on: date
    people_concerned: int | None = None
    risk_level: str = Field(default=RiskLevel.not_assessed.value, max_length=16)
    risk_assessment: str | None = Field(default=None, sa_column=Column(Text))
    commission_notified_on: date | None = None
    people_notified_on: date | None = None
    measures_taken: str | None = Field(default=None, sa_column=Column(Text))
    case_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audit_entry_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_by: uuid.UUID  # a user or a service account
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)
    updated_by: uuid.UUID  # a user or a service account
    updated_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class PrivacyIncidentVersion(SQLModel, table=True):
    """Every version of a register entry, as it read after each change."""

    __tablename__ = "privacy_incident_version"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="privacy_incident.id", index=True)
    version: int
    content: dict = Field(sa_column=Column(JSON, nullable=False))
    changed_fields: list = Field(sa_column=Column(JSON, nullable=False))
    changed_by: uuid.UUID  # a user or a service account
    changed_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class IncidentCounter(SQLModel, table=True):
    """The last register number per board and year (``INC-<year>-<seq>``)."""

    __tablename__ = "privacy_incident_counter"

    board_id: uuid.UUID = Field(foreign_key="school_board.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_number: int = 0
