"""Several instances on one database: migrations run once however many start
together (PostgreSQL), and each periodic task runs on one instance at a time
through its lease in the database, taken over when its holder stops."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from app.audit.checkpoints import CheckpointCadence, CheckpointSigner
from app.db import create_db_engine, utcnow
from app.lease import PeriodicLease, lease_seconds, take
from app.main import _maintenance
from app.migrations import head_revision


def test_a_lease_is_held_by_one_holder_until_it_expires(database_url):
    engine = create_db_engine(database_url, pool_size=1)
    now = utcnow()
    try:
        assert take(engine, "task", "a", 10, now=now)
        assert not take(engine, "task", "b", 10, now=now + timedelta(seconds=5))
        # The holder renews; the other still waits.
        assert take(engine, "task", "a", 10, now=now + timedelta(seconds=5))
        assert not take(engine, "task", "b", 10, now=now + timedelta(seconds=12))
        # The holder stopped renewing: once expired, the other takes over.
        assert take(engine, "task", "b", 10, now=now + timedelta(seconds=16))
        assert not take(engine, "task", "a", 10, now=now + timedelta(seconds=17))
        # Leases are per task.
        assert take(engine, "other", "a", 10, now=now + timedelta(seconds=17))
    finally:
        engine.dispose()


def test_a_lease_lasts_two_rounds_of_its_task():
    assert lease_seconds(60) == 120
    assert lease_seconds(0) > 0


def _expire(engine, name: str) -> None:
    """As if its holder had stopped renewing long enough ago."""
    with engine.begin() as connection:
        connection.execute(
            update(PeriodicLease.__table__)
            .where(PeriodicLease.name == name)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_each_periodic_task_runs_on_one_instance_at_a_time(database_url, settings, monkeypatch):
    settings = settings.model_copy(update={"maintenance_interval_seconds": 60, "audit_checkpoint_interval_seconds": 60})
    purged: list[str] = []
    monkeypatch.setattr("app.main.purge_expired", lambda _session: purged.append("purged"))
    engine = create_db_engine(database_url, pool_size=2)
    signed: list[str] = []
    signer = CheckpointSigner.from_settings(settings)
    monkeypatch.setattr(signer, "issue", lambda _session: signed.append("signed"))
    try:
        sign_a, purge_a = _maintenance(engine, signer, settings, "instance-a")
        sign_b, purge_b = _maintenance(engine, signer, settings, "instance-b")
        for _round in range(3):
            purge_a()
            purge_b()
            sign_a()
            sign_b()
        assert purged == ["purged"] * 3  # one purge per round, not two
        assert signed == ["signed"] * 3
        with engine.connect() as connection:
            holders = dict(connection.execute(select(PeriodicLease.name, PeriodicLease.holder)).all())
        assert holders == {"purge_expired_rows": "instance-a", "sign_checkpoints": "instance-a"}

        # Instance a stops; once its leases expire, b takes over, and a (back)
        # waits in turn.
        _expire(engine, "purge_expired_rows")
        _expire(engine, "sign_checkpoints")
        purge_b()
        purge_a()
        sign_b()
        sign_a()
        assert purged == ["purged"] * 4
        assert signed == ["signed"] * 4
        with engine.connect() as connection:
            holders = dict(connection.execute(select(PeriodicLease.name, PeriodicLease.holder)).all())
        assert holders == {"purge_expired_rows": "instance-b", "sign_checkpoints": "instance-b"}

        # A checkpoint due to N entries (or to a start-up) is signed where it
        # was found due, lease or not: only that process saw the multiple.
        sign_a(False)
        assert signed == ["signed"] * 5
    finally:
        engine.dispose()


@pytest.mark.anyio
async def test_the_cadence_says_whether_entries_or_the_interval_made_a_checkpoint_due():
    import asyncio

    from app.audit.chain import Appended

    cadence = CheckpointCadence(every_entries=2, interval_seconds=1)
    waiting = asyncio.ensure_future(cadence.wait())
    await asyncio.sleep(0.05)
    cadence.appended(Appended(2, "0" * 64))
    assert await waiting is True
    assert await cadence.wait() is False  # nothing appended: the interval ran out


def test_instances_that_migrate_together_migrate_once(databases, engine_name):
    """Three processes (as three replicas starting at once) migrate a blank
    database: all succeed, none trips over another's CREATE."""
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL: SQLite is one file, migrated by one process under its own lock")
    url = databases.blank()
    # Each process waits for the same moment, then upgrades.
    at = time.time() + 4
    script = (
        "import sys, time; from app.migrations import upgrade; "
        f"time.sleep(max(0, {at} - time.time())); upgrade(sys.argv[1])"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outcomes = [(process.wait(timeout=180), process.stderr.read()) for process in processes]  # type: ignore[union-attr]
    assert [code for code, _error in outcomes] == [0, 0, 0], [error[-500:] for _code, error in outcomes]
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    finally:
        engine.dispose()
