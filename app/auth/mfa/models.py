"""A person's TOTP factor and recovery codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class TotpFactor(SQLModel, table=True):
    """One person's TOTP secret, encrypted with the data keys
    (``app.crypto``; context ``secret_context``).  Unconfirmed
    (``confirmed_at`` unset) until a first code from the authenticator app
    proves it was copied: until then it is not asked for at sign-in.

    ``last_used_step`` is the time step of the last code accepted: a code of
    that step or an earlier one is refused (RFC 6238 §5.2, no replay)."""

    __tablename__ = "totp_factor"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="app_user.id", ondelete="CASCADE")
    secret: str = Field(max_length=255)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_step: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RecoveryCode(SQLModel, table=True):
    """One unused recovery code, as a digest (``app.auth.mfa.factor``); a
    code used is deleted."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="CASCADE")
    digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def secret_context(user_id: uuid.UUID | str) -> str:
    """The associated data the secret is encrypted under: bound to its row."""
    return f"totp_factor:{user_id}:secret"
