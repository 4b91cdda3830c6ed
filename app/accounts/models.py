"""People and service accounts, their role, scope and Sexto attestation."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class Role(StrEnum):
    """A role (SPEC §3); what it may see and do is in app/cases/policy.py."""

    school_staff = "school_staff"
    school_lead = "school_lead"
    police_liaison = "police_liaison"
    dpj_reporter = "dpj_reporter"
    auditor = "auditor"
    privacy_officer = "privacy_officer"
    admin = "admin"


class GrantApproval(StrEnum):
    """Where a scope grant stands (``app.accounts.duties``): only an approved
    grant gives reach."""

    pending = "pending"
    approved = "approved"
    refused = "refused"


class AttestationLevel(StrEnum):
    """The Sexto training badge level: `architect` may handle cases, `explorer` may not."""

    explorer = "explorer"
    architect = "architect"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(member.value) for member in values)})"


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=200)
    # The address single sign-on recognizes the person by at their first
    # sign-in through their organization's provider (app.auth.oidc), lower case.
    email: str | None = Field(default=None, max_length=254, unique=True)
    role: str = Field(max_length=32)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    # Bumped when the password changes: tokens carry it and older ones stop working.
    token_generation: int = 0
    # The password was set by an admin: it gives no case reach (app.accounts.duties).
    credential_pending: bool = True
    # A temporary password issued with an approval: no reach until the person changes it.
    must_change_password: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ServiceAccount(SQLModel, table=True):
    """A board information system or police portal (OAuth2 client credentials)."""

    __tablename__ = "service_account"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    secret_hash: str = Field(max_length=255)
    is_active: bool = True
    # Bumped when the secret is rotated: tokens issued with the old one stop working.
    token_generation: int = 0
    # The secret was made at an admin's request: it gives no case reach (app.accounts.duties).
    credential_pending: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ScopeGrant(SQLModel, table=True):
    """One organization in the scope of one user or service account.

    Exactly one holder (user or service account) and exactly one organization
    (board, school or police force) or the platform per row; which kinds a
    role may hold is decided by ``app.accounts.scopes``.  The platform is what
    concerns no organization (its audit entries: sign-ins of unknown names,
    requests without a valid token, the admins' actions); only an auditor may
    hold it.
    """

    __tablename__ = "scope_grant"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (service_account_id IS NULL)", name="one_holder"),
        CheckConstraint(
            "(CASE WHEN board_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN school_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN police_force_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN platform THEN 1 ELSE 0 END) = 1",
            name="one_organization",
        ),
        CheckConstraint(_one_of("approval", GrantApproval), name="approval"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", index=True, ondelete="CASCADE")
    service_account_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_account.id", index=True, ondelete="CASCADE"
    )
    board_id: uuid.UUID | None = Field(default=None, foreign_key="school_board.id", index=True)
    school_id: uuid.UUID | None = Field(default=None, foreign_key="school.id", index=True)
    police_force_id: uuid.UUID | None = Field(default=None, foreign_key="police_force.id", index=True)
    platform: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Separation of duties (app.accounts.duties): who approved or refused it, and when.
    approval: str = Field(default=GrantApproval.pending.value, max_length=16)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrainingAttestation(SQLModel, table=True):
    """The Sexto training badge: ``explorer`` or ``architect``."""

    __tablename__ = "training_attestation"
    __table_args__ = (
        CheckConstraint(_one_of("level", AttestationLevel), name="level"),
        UniqueConstraint("user_id", "level"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    level: str = Field(max_length=16)
    obtained_on: date
    badge_url: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
