"""Browser sessions: the web app's way in (the backend-for-frontend pattern of
OAuth 2.0 for Browser-Based Apps).  No token reaches the browser's
JavaScript: the service keeps the session and the browser holds an opaque
random id in an ``HttpOnly``, ``Secure``, ``SameSite=Strict`` cookie.

* **The id** is ``secrets.token_urlsafe(32)`` (256 bits); the table keeps
  only its SHA-256 digest (as ``app.auth.revocation`` keeps a token's), so a
  copy of the database opens no session.
* **Its end**: an idle timeout (``session_idle_timeout_seconds`` after the
  last request) and an absolute lifetime (``session_lifetime_seconds`` after
  the sign-in), both checked on every request (``expiry``); ending one (the
  person, a sign-out) deletes its row; ending every credential of an account
  (an admin's revoke-all, a new password, a disable) bumps the account's
  ``token_generation``, which the session carries as a token does.
* **Last seen** is written at most once a minute (``LAST_SEEN_EVERY``): a
  read does not become a write each time; and at least every tenth of the
  idle timeout, so that a short one does not end an active session.
* **CSRF** for writes made with the cookie: ``SameSite=Strict``, the
  ``Origin`` of an unsafe request (when the browser sends one) must be the
  service's own, and the ``X-CSRF-Token`` header must carry the session's
  token (``csrf_token``), compared in constant time.  The token is an HMAC
  of the session's id under the current data key (one made under another
  key still configured is taken too: ``accepted_csrf_tokens``), so nothing
  more is stored; the
  web app reads it from the sign-in's answer or ``GET
  /api/v1/auth/sessions/current``.

``create_session`` is the one way a session is opened: a password sign-in,
or single sign-on (``app.auth.oidc``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import User
from app.auth.models import BrowserSession
from app.config import Settings
from app.crypto import DataCipher
from app.db import utcnow

CSRF_HEADER = "X-CSRF-Token"
CSRF_PURPOSE = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LAST_SEEN_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class OpenedSession:
    """A session just opened: ``secret`` is the cookie's value, never kept."""

    id: uuid.UUID
    secret: str
    created_at: datetime
    expires_at: datetime


def session_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_session(session: Session, user: User, *, settings: Settings, provider_mfa: bool = False) -> OpenedSession:
    """Open a browser session for a person who has just proved who they are;
    flushed, committed by the caller with the request's audit entry.
    ``provider_mfa``: single sign-on whose provider reported the second
    factor its registration requires (``app.auth.oidc``)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = BrowserSession(
        digest=session_digest(secret),
        user_id=user.id,
        generation=user.token_generation,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_lifetime_seconds),
        provider_mfa=provider_mfa,
    )
    session.add(row)
    session.flush()
    return OpenedSession(row.id, secret, now, row.expires_at)


def csrf_token(cipher: DataCipher, secret: str) -> str:
    """The session's CSRF token: derived from its id, so never stored; it
    changes with the current data key (the web app reads it again)."""
    return cipher.keyed_digest(secret, CSRF_PURPOSE)


def accepted_csrf_tokens(cipher: DataCipher, secret: str) -> list[str]:
    """The tokens a write may carry: under the current data key, or another
    one still configured (given out before it was made current, or by an
    instance not restarted yet)."""
    return cipher.keyed_digests(secret, CSRF_PURPOSE)


def idle_end(last_seen_at: datetime, settings: Settings) -> datetime:
    return last_seen_at + timedelta(seconds=settings.session_idle_timeout_seconds)


def expiry(last_seen_at: datetime, expires_at: datetime, settings: Settings, now: datetime) -> str | None:
    """Why the session is over at ``now`` (the audit entry's reason), or None."""
    if now >= expires_at:
        return "session_expired"
    if now >= idle_end(last_seen_at, settings):
        return "session_idle"
    return None


def csrf_refusal(*, origin: str | None, host: str | None, sent: str | None, expected: Sequence[str]) -> str | None:
    """Why an unsafe request (``UNSAFE_METHODS``) made with the cookie is
    refused, or None: a foreign ``Origin`` (compared by host, which a reverse
    proxy passes on), a missing ``X-CSRF-Token``, or one that is none of
    ``expected`` (each compared in constant time)."""
    if foreign_origin(origin, host):
        return "csrf_origin"
    if not sent:
        return "csrf_token_missing"
    matches = [hmac.compare_digest(sent.encode(), token.encode()) for token in expected]
    if not any(matches):
        return "csrf_token_wrong"
    return None


def foreign_origin(origin: str | None, host: str | None) -> bool:
    """An ``Origin`` header that names another site than the service's own
    (``null`` included); no header at all is not foreign: the custom header
    is what a cross-site request cannot send."""
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != (host or "").lower()


def touch(session: Session, session_id: uuid.UUID, last_seen_at: datetime, now: datetime, settings: Settings) -> None:
    """Record activity, at most once a minute (in the request's transaction),
    and at least every tenth of the idle timeout: after a request, the
    session lives at least nine tenths of it, however short it is set."""
    every = min(LAST_SEEN_EVERY, timedelta(seconds=settings.session_idle_timeout_seconds) / 10)
    if now - last_seen_at >= every:
        session.execute(update(BrowserSession).where(col(BrowserSession.id) == session_id).values(last_seen_at=now))


def _live(settings: Settings, now: datetime) -> list[ColumnElement[bool]]:
    """The clauses of a session still in force (joined with its account)."""
    return [
        col(BrowserSession.generation) == col(User.token_generation),
        col(BrowserSession.expires_at) > now,
        col(BrowserSession.last_seen_at) > now - timedelta(seconds=settings.session_idle_timeout_seconds),
    ]


def live_sessions(user_id: uuid.UUID, settings: Settings) -> SelectOfScalar[BrowserSession]:
    """A person's sessions in force, as a statement to page through."""
    return (
        select(BrowserSession)
        .join(User, col(User.id) == col(BrowserSession.user_id))
        .where(col(BrowserSession.user_id) == user_id, *_live(settings, utcnow()))
    )


def end_session(session: Session, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """End one of the person's sessions; False when there is no such session of theirs."""
    result = session.exec(
        delete(BrowserSession).where(col(BrowserSession.id) == session_id, col(BrowserSession.user_id) == user_id)
    )
    return bool(result.rowcount)


def end_sessions(session: Session, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> list[uuid.UUID]:
    """End every session of the person but ``keep``; their ids."""
    clauses = [col(BrowserSession.user_id) == user_id]
    if keep is not None:
        clauses.append(col(BrowserSession.id) != keep)
    ended = list(session.exec(select(BrowserSession.id).where(*clauses)).all())
    if ended:
        session.execute(delete(BrowserSession).where(col(BrowserSession.id).in_(ended)))
    return ended


def renew(session: Session, session_id: uuid.UUID, generation: int) -> str:
    """Keep one session in force across a generation bump (a person's own
    password change, or second factor confirmed, ends their other sessions,
    not the one it was made in), under a new secret: the old cookie, and any
    copy of it, ends (OWASP ASVS V7: a new session token on
    re-authentication).  Its id and its two ends stay.  The new secret, for
    the answer's cookie."""
    secret = secrets.token_urlsafe(32)
    session.execute(
        update(BrowserSession)
        .where(col(BrowserSession.id) == session_id)
        .values(digest=session_digest(secret), generation=generation)
    )
    return secret


def purge_expired_sessions(session: Session, settings: Settings) -> int:
    """Delete the sessions that are over: past either end, or of an older
    generation than their account's."""
    now = utcnow()
    stale_generation = (
        select(User.token_generation).where(col(User.id) == col(BrowserSession.user_id)).scalar_subquery()
    )
    result = session.exec(
        delete(BrowserSession).where(
            or_(
                col(BrowserSession.expires_at) <= now,
                col(BrowserSession.last_seen_at) <= now - timedelta(seconds=settings.session_idle_timeout_seconds),
                col(BrowserSession.generation) != stale_generation,
            )
        )
    )
    return result.rowcount or 0
