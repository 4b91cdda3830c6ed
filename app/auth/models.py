"""Failed sign-ins, counted in the database so that the limit holds across
server processes; the credentials revoked before their expiry; and the
browser sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import false
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id


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


class BrowserSession(SQLModel, table=True):
    """A person's session in a browser (``app.auth.sessions``): the cookie's
    value is never kept, only its SHA-256 digest.  It carries the account's
    ``token_generation`` at sign-in, as a token does, so that a revoke-all, a
    new password or a disable ends it too.  Neither the client's address nor
    its user agent is kept here: the sign-in's audit entry has them."""

    __tablename__ = "browser_session"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True)
    generation: int
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The absolute end, whatever the activity; the idle end is last_seen_at + the setting.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    # Opened by single sign-on through a provider that reported the second
    # factor its registration requires (app.auth.oidc): it stands for the
    # local one where the role requires one.
    provider_mfa: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
