"""Several instances on one database: migrations run once however many start
together (PostgreSQL), and each periodic task runs on one instance at a time
through its lease in the database, taken over when its holder stops."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, update
from sqlmodel import Session

from app.audit import chain
from app.audit.checkpoints import CheckpointCadence, CheckpointSigner, signed_message
from app.audit.models import AuditCheckpoint
from app.audit.witness import FileWitness, WitnessRecord
from app.db import create_db_engine, table_of, utcnow
from app.lease import PeriodicLease, lease_seconds, take
from app.main import _maintenance
from app.migrations import head_revision
from app.security import TokenService
from tests.conftest import DEMO_PASSWORD, running_services, service_env


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


@pytest.mark.postgres_only
def test_a_checkpoint_stored_by_another_instance_meanwhile_is_neither_stored_again_nor_published(
    settings, tmp_path, monkeypatch
):
    """Each (chain, seq) is stored and published once.  The head lock makes
    the service's signers wait for each other; should another instance store
    the same checkpoint between this signer's check and its insert anyway,
    this insert does nothing and nothing is published twice.  (SQLite cannot
    get there: BEGIN IMMEDIATE holds every other writer off the whole time.)"""
    witness = FileWitness(tmp_path / "witness.jsonl")
    key = Ed25519PrivateKey.generate()
    signer = CheckpointSigner(key, witness=witness)
    engine = create_db_engine(settings.effective_database_url, pool_size=2)
    checkpoints = table_of(AuditCheckpoint)

    def other_instance_signs(chain_name: str, seq: int, entry_hash: str) -> None:
        issued_at = "2026-12-01T00:00:00.000000Z"
        signature = base64.b64encode(key.sign(signed_message(chain_name, seq, entry_hash, issued_at))).decode()
        record = WitnessRecord(chain_name, seq, entry_hash, issued_at, signer.key_id, signature)
        with engine.begin() as connection:
            connection.execute(insert(checkpoints).values(**vars(record)))
        witness.publish([record])

    try:
        with Session(engine) as session:
            appended = chain.append_and_commit(session, chain.EntryDraft(action="read_case", status_code=200))
        real_utcnow = utcnow
        meanwhile = []

        def utcnow_after_the_other_signed():
            if not meanwhile:  # the first checkpoint this signer is about to sign
                meanwhile.append(True)
                other_instance_signs(chain.PLATFORM_CHAIN, appended.seq, appended.entry_hash)
            return real_utcnow()

        monkeypatch.setattr("app.audit.checkpoints.utcnow", utcnow_after_the_other_signed)
        with Session(engine) as session:
            issued = signer.issue(session)
            session.commit()
        assert meanwhile and issued == []
        with engine.connect() as connection:
            stored = connection.execute(select(checkpoints.c.chain, checkpoints.c.seq)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in stored] == [(chain.PLATFORM_CHAIN, appended.seq)]
    assert [(record.chain, record.seq) for record in witness.read().records] == [(chain.PLATFORM_CHAIN, appended.seq)]


def test_two_instances_started_together_share_lockouts_and_sign_each_checkpoint_once(
    settings, database_url, var_dir, tmp_path
):
    """Two service processes on one database, started at the same moment:
    both serve; a lockout earned through one holds on the other; every
    checkpoint (at start-up, every N entries, at the interval's rounds) is
    stored once and published to the witness once; the purges run once per
    round across the two."""
    witness = tmp_path / "witness.jsonl"
    settings = settings.model_copy(update={"audit_witness": f"file:{witness}"})
    # The keys exist before the two start (in development each would make its own).
    signer = CheckpointSigner.from_settings(settings)
    TokenService.from_settings(settings)
    env = service_env(
        settings,
        var_dir,
        SEXTO_AUDIT_CHECKPOINT_EVERY_ENTRIES="4",
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="1",
        SEXTO_AUDIT_WITNESS=f"file:{witness}",
        SEXTO_MAINTENANCE_INTERVAL_SECONDS="1",
        SEXTO_LOGIN_MAX_FAILURES="3",
        SEXTO_LOG_LEVEL="DEBUG",
    )
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    started = time.monotonic()
    with running_services([env, env], logs=logs) as [(a, _), (b, _)]:

        def sign_in(base: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
            return httpx.post(
                f"{base}/api/v1/auth/token",
                data={"grant_type": "password", "username": username, "password": password},
                timeout=30,
            )

        # Both serve, and demo-staff-a may sign in through B.
        assert sign_in(b, "demo-staff-a").status_code == 200
        token = sign_in(a, "demo-lead-a").json()["access_token"]
        # Three wrong passwords through A lock the name; B then refuses the right one.
        assert [sign_in(a, "demo-staff-a", "not-the-password").status_code for _ in range(3)] == [400] * 3
        refused = sign_in(b, "demo-staff-a")
        assert refused.status_code == 429 and refused.json()["code"] == "login_throttled", refused.text
        assert int(refused.headers["Retry-After"]) > 0

        def reads(base: str) -> list[int]:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
                return [http.get("/api/v1/auth/me").status_code for _ in range(25)]

        # Entries through both at once: checkpoints fall due every 4 entries
        # (on whichever instance appended the multiple) and at each interval
        # round (on the lease holder).
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = [status for result in pool.map(reads, [a, b, a, b]) for status in result]
        assert statuses == [200] * 100
        while time.monotonic() - started < 8:  # several rounds of the periodic tasks
            time.sleep(0.5)
    elapsed = time.monotonic() - started

    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            stored = [
                WitnessRecord(row.chain, row.seq, row.entry_hash, row.issued_at, row.key_id, row.signature)
                for row in connection.execute(select(table_of(AuditCheckpoint)).order_by("id"))
            ]
            report = chain.verify(connection)
            signer.verify(connection, report)
    finally:
        engine.dispose()
    heads = [(record.chain, record.seq) for record in stored]
    assert len(stored) >= 10, heads  # 100 reads and more: a checkpoint at least every 4 entries
    assert len(set(heads)) == len(heads), heads  # each head signed once
    reading = FileWitness(witness).read()
    assert reading.problems == []
    # The witness holds each stored checkpoint once, and nothing else.
    assert sorted(reading.records, key=lambda record: (record.chain, record.seq)) == sorted(
        stored, key=lambda record: (record.chain, record.seq)
    )
    assert report.ok and report.checkpoint_problems == [] and report.witness_problems == [], report

    # The purges: at most one per round of 1 s in all, not one per instance.
    rounds = [
        json.loads(line)["event"]
        for log in logs
        for line in log.read_text().splitlines()
        if "periodic purge_expired_rows ran" in line
    ]
    assert 1 <= len(rounds) <= elapsed + 1, (len(rounds), elapsed)
    assert all(json.loads(line) for log in logs for line in log.read_text().splitlines())  # JSON lines only
