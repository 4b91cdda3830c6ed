"""Leases on periodic work: with several instances on one database, each
periodic task (checkpoint signing, the purges) runs on one instance at a time.

One table (``periodic_lease``), one row per task: who holds it and until
when.  ``take`` claims or renews a lease with one atomic statement, an
UPDATE that succeeds only when the lease has expired or is already the
caller's; the row is made first if missing (an insert that does nothing when
it exists).  An instance that does not get the lease skips that round.  A
holder renews at each of its rounds; when it stops (it stopped, or lost the
database), another instance takes over once the lease has expired.

Holders are random ids made at start-up (``new_holder``): no host name or
address is kept.  Expiry is compared with each instance's clock, so the
instances' clocks must agree to well within a lease (NTP).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col

from app.db import UTCDateTime, table_of, utcnow

# A task with no interval of its own (checkpoints signed only every N
# entries) holds its lease this long between renewals.
DEFAULT_LEASE_SECONDS = 300


class PeriodicLease(SQLModel, table=True):
    """Which instance runs one periodic task, and until when."""

    __tablename__ = "periodic_lease"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def new_holder() -> str:
    """An instance's holder id: random, made once per process start."""
    return uuid.uuid4().hex


def lease_seconds(interval_seconds: int) -> int:
    """How long a lease lasts for a task run every ``interval_seconds``: two
    rounds, so that a holder renews well before it expires and a holder
    that stops is replaced after at most two rounds."""
    return 2 * interval_seconds if interval_seconds > 0 else DEFAULT_LEASE_SECONDS


def take(engine: Engine, name: str, holder: str, seconds: int, now: datetime | None = None) -> bool:
    """Claim or renew the lease ``name`` for ``seconds``; whether ``holder``
    now holds it.  Committed at once, on a connection of its own."""
    now = now or utcnow()
    leases = table_of(PeriodicLease)
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with engine.begin() as connection:
        # Made expired, so that the UPDATE below decides who takes it.
        connection.execute(
            insert(leases)
            .values(name=name, holder=holder, expires_at=now - timedelta(seconds=1))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        taken = connection.execute(
            update(leases)
            .where(
                col(PeriodicLease.name) == name,
                or_(col(PeriodicLease.expires_at) < now, col(PeriodicLease.holder) == holder),
            )
            .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
        )
        return taken.rowcount == 1
