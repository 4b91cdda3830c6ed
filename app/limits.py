"""Request limits: fixed-window counters kept in the database, so that a limit
holds across worker processes and instances.

One table (``rate_limit_counter``), one row per key and window.  ``hit``
counts a request with one statement (an upsert that increments and returns
the count, as the sign-in throttle's reservation does) committed at once, and
says how long to wait when the count is over the limit.  Keys are keyed
hashes (``DataCipher.keyed_digest``) of what is counted (a client address,
an account id, ``signin``): no address or id is kept as such.  Rows whose
window has passed are purged by the periodic maintenance (``purge_expired``).

What is limited, and where:

* sign-in attempts per client address and over all addresses, before the
  per-account reservation and any hashing (``app.auth.service``);
* the expensive reads per caller: audit verification and export, the access
  review (``per_caller``, called by their routes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col

from app.config import Settings
from app.crypto import DataCipher
from app.db import UTCDateTime, table_of, utcnow
from app.errors import TooManyRequests

LIMIT_PURPOSE = "rate_limit"
# The longest window of any limit: rows older than this are purged.
MAX_WINDOW_SECONDS = 3600


class RateLimitCounter(SQLModel, table=True):
    """Requests counted under one key in the current window."""

    __tablename__ = "rate_limit_counter"

    counter_key: str = Field(primary_key=True, max_length=200)
    hits: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``window_seconds`` under one key."""

    count: int
    window_seconds: int


def hit(session: Session, key: str, limit: Limit) -> int | None:
    """Count one request under ``key`` (already a keyed digest) and commit;
    return the seconds to wait when it is over the limit, else None.

    The count stops one past the limit, so a flood does not grow it; a window
    gone by starts over at one."""
    now = utcnow()
    table = table_of(RateLimitCounter)
    hits, started = table.c.hits, table.c.window_started_at
    stale = started <= literal(now - timedelta(seconds=limit.window_seconds), UTCDateTime)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(counter_key=key, hits=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.counter_key],
            set_={
                "hits": case((stale, 1), (hits > limit.count, hits), else_=hits + 1),
                "window_started_at": case((stale, literal(now, UTCDateTime)), else_=started),
            },
        )
        .returning(table.c.hits, table.c.window_started_at)
    )
    row = session.execute(statement).one()
    session.commit()
    count: int = row[0]
    window_started_at: datetime = row[1]
    if count <= limit.count:
        return None
    ends = window_started_at + timedelta(seconds=limit.window_seconds)
    return max(1, math.ceil((ends - now).total_seconds()))


def refuse(code: str, retry_after: int) -> TooManyRequests:
    """The 429 of a limit: ``code`` for the client and the audit entry."""
    return TooManyRequests(code, code=code, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def signin_limits(session: Session, settings: Settings, cipher: DataCipher, client_address: str | None) -> None:
    """Count a sign-in attempt per client address, then over all addresses;
    raise 429 ``signin_rate_limited`` over either limit.  An attempt refused
    for its address does not count against everyone's limit."""
    window = settings.signin_limit_window_seconds
    per_address = Limit(settings.signin_limit_per_address, window)
    address_key = cipher.keyed_digest(f"signin:address:{client_address or '-'}", LIMIT_PURPOSE)
    wait = hit(session, address_key, per_address)
    if wait is None:
        wait = hit(
            session, cipher.keyed_digest("signin:all", LIMIT_PURPOSE), Limit(settings.signin_limit_global, window)
        )
    if wait is not None:
        raise refuse("signin_rate_limited", wait)


def per_caller(session: Session, settings: Settings, cipher: DataCipher, action: str, caller: object) -> None:
    """Count a call of an expensive route (``action``) by one account; raise
    429 ``rate_limited`` over the route's limit (``expensive_limits``)."""
    limit = expensive_limits(settings)[action]
    wait = hit(session, cipher.keyed_digest(f"call:{action}:{caller}", LIMIT_PURPOSE), limit)
    if wait is not None:
        raise refuse("rate_limited", wait)


def expensive_limits(settings: Settings) -> dict[str, Limit]:
    """The limit of each expensive route, by its route name."""
    window = settings.expensive_limit_window_seconds
    return {
        "verify_log": Limit(settings.audit_verify_limit, window),
        "export_events": Limit(settings.audit_export_limit, window),
        "access_review": Limit(settings.access_review_limit, window),
    }


def purge_expired(session: Session) -> int:
    """Delete the counters whose window has passed: they would start over anyway."""
    cutoff = utcnow() - timedelta(seconds=MAX_WINDOW_SECONDS)
    result = session.exec(delete(RateLimitCounter).where(col(RateLimitCounter.window_started_at) <= cutoff))
    return result.rowcount or 0
