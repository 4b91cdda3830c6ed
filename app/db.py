"""Database plumbing: engines for PostgreSQL and SQLite, UTC timestamps, the
constraint naming convention, and the per-request session.

Transactions are short and explicit: a service function commits once, before
the response is built.  On SQLite every transaction starts with
``BEGIN IMMEDIATE`` (SQLAlchemy's documented pysqlite recipe): with the default
deferred ``BEGIN`` concurrent writers fail with "database is locked" instead of
waiting for the write lock.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import Request
from sqlalchemy import Connection, DateTime, Dialect, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, select

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: MetaData = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zone support, so the
    value is stored as naive UTC and made aware again when read.  Naive values
    are refused on the way in: a local time must never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


POOL_SIZE = 10
# Sign-ins a worker serves at once (``SignInRoute``): each holds at most one
# connection, only during its short database steps.
SIGNIN_SLOTS = 4
# Requests a worker serves at once (``AuditedRoute``, and the audit entries
# of requests refused before routing): the pool's connections (``POOL_SIZE``
# plus as many overflow), less the sign-in slots and two for periodic tasks
# and /readyz.
REQUEST_SLOTS = 2 * POOL_SIZE - SIGNIN_SLOTS - 2


def utc_field(**kwargs: Any) -> Any:
    """A model field stored as ``UTCDateTime`` (``Field``'s other arguments as given)."""
    return Field(sa_type=UTCDateTime, **kwargs)


def create_db_engine(url: str, *, pool_size: int = POOL_SIZE) -> Engine:
    if url.startswith("sqlite"):
        # hide_parameters: an error message never carries a value (a name, a note).
        engine = create_engine(
            url,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=pool_size,  # as on PostgreSQL: REQUEST_SLOTS counts on it
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    # No pre-ping (a round trip per request): a connection found dead raises a
    # disconnect error, SQLAlchemy then empties the pool, and the next
    # requests reconnect by themselves once the database is back.
    return create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        isolation_level="READ COMMITTED",
        connect_args={"connect_timeout": 5},
    )


def pool_capacity(pool: QueuePool) -> int:
    """The most connections a pool of ``create_db_engine`` opens at once: its
    size, and as many again in overflow."""
    return 2 * pool.size()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request.  Nothing commits here or in the services: the
    route class (``app.audit.recorder.AuditedRoute``) commits once, with the
    request's audit entry, before the response leaves; closing an
    uncommitted session rolls it back.  Async only so that FastAPI does not
    spend a thread hop on it: creating a session does no I/O."""
    with Session(request.state.engine, expire_on_commit=False) as session:
        # The audited route commits it, with the request's audit entry.
        request.state.session = session
        yield session


def table_of(model: type[object]) -> Table:
    """The Core table of a table model, for statements that bypass the ORM."""
    # SQLModel's metaclass sets ``__table__`` on every table model but does not
    # declare it, so type checkers cannot see it.
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


class _Counter(Protocol):
    last_number: int


def next_number(session: Session, counter: type[_Counter], **key: object) -> int:
    """The next number of a per-key sequence (case references per school and
    year, register references per board and year): the counter row is made
    if missing, then locked until the request commits, so numbers never
    repeat or skip."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table_of(counter)).values(**key, last_number=0).on_conflict_do_nothing())
    where = [getattr(counter, name) == value for name, value in key.items()]
    row = session.exec(select(counter).where(*where).with_for_update()).one()
    row.last_number += 1
    session.add(row)
    return row.last_number
