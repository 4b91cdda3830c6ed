"""Failed sign-ins, counted in the database so that the limit holds across
server processes; and the credentials revoked before their expiry."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class LoginThrottle(SQLModel, table=True):
    """Failures per account name, whether or not such an account exists, so
    that throttling says nothing about existence.  The key is a keyed hash of
    the name (``app.auth.service``), never the name as typed."""

    __tablename__ = "login_throttle"

    account_key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """One credential ended before its expiry (a signed-out token; a browser
    session later): a digest of its id, never the id itself, kept until the
    credential would have expired anyway (``app.auth.revocation``)."""

    __tablename__ = "revoked_token"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
