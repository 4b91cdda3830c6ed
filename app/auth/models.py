"""Failed sign-ins, counted in the database so that the limit holds across
server processes."""

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
