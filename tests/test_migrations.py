"""Alembic is the only way the schema is made: the models and the migrations
must agree, and every migration must go down and up again, on both engines."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text

import app.models  # noqa: F401
from app.accounts.models import User
from app.auth.models import LoginThrottle
from app.cases.models import Case, Participant
from app.db import create_db_engine, metadata, utcnow
from app.migrations import downgrade, head_revision, upgrade
from app.orgs.models import School


def _diff(url: str) -> list:
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_agree(databases):
    url = databases.clone("empty")
    assert _diff(url) == []


def test_upgrade_downgrade_upgrade(databases):
    url = databases.blank()
    upgrade(url)
    downgrade(url, "base")
    engine = create_db_engine(url, pool_size=1)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _diff(url) == []
    engine = create_db_engine(url, pool_size=1)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    engine.dispose()


def test_constraints_are_named_by_the_convention(databases):
    url = databases.clone("empty")
    engine = create_db_engine(url, pool_size=1)
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        for fk in inspector.get_foreign_keys(table):
            assert fk["name"].startswith(f"fk_{table}_"), fk
        for unique in inspector.get_unique_constraints(table):
            assert unique["name"].startswith(f"uq_{table}_"), unique
        if engine.dialect.name == "postgresql":
            assert inspector.get_pk_constraint(table)["name"] == f"pk_{table}"
    engine.dispose()


def test_the_place_vocabulary_migration_rewrites_stored_cases(databases):
    """0011: stored cases take the grid's words for the place (school,
    online_only); the downgrade gives the old ones back.  The case keeps the
    rows attached to it (a participant), so the SQLite table rebuild must
    not trip over them."""
    url = databases.clone("demo")
    downgrade(url, "0010")
    engine = create_db_engine(url, pool_size=1)
    cases = Case.__table__
    old = {"at_school": uuid.uuid4(), "outside_school": uuid.uuid4(), "online": uuid.uuid4()}
    try:
        with engine.begin() as connection:
            school_id, _board_id = connection.execute(select(School.id, School.board_id)).first()
            user_id = connection.execute(select(User.id).where(User.username == "demo-staff-a")).scalar_one()
            for number, (place, case_id) in enumerate(old.items(), start=1):
                connection.execute(
                    insert(cases).values(
                        id=case_id,
                        school_id=school_id,
                        year=2026,
                        number=number,
                        reference=f"SX-2026-{number:05d}",
                        status="reported",
                        reporter_type="parent",
                        channel="phone",
                        place=place,
                        summary="x",
                        csam_suspected=False,
                        malicious_intent=False,
                        refusal_to_participate=False,
                        adult_involved=False,
                        urgent_wellbeing_concern=False,
                        reporter_grid_skipped=False,
                        opened_by=user_id,
                        version=1,
                        created_at=utcnow(),
                        updated_at=utcnow(),
                    )
                )
                connection.execute(
                    insert(Participant.__table__).values(
                        id=uuid.uuid4(),
                        case_id=case_id,
                        label="P1",
                        role="depicted",
                        is_minor=True,
                        name="x",
                        created_by=user_id,
                        created_at=utcnow(),
                    )
                )

        def places() -> dict[uuid.UUID, str]:
            with engine.connect() as connection:
                rows = connection.execute(select(cases.c.id, cases.c.place).where(cases.c.id.in_(list(old.values()))))
                return {row.id: row.place for row in rows}

        upgrade(url)
        assert places() == {
            old["at_school"]: "school",
            old["outside_school"]: "outside_school",
            old["online"]: "online_only",
        }
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(Participant.__table__)).scalar_one() >= 3
        downgrade(url, "0010")
        assert places() == {case_id: place for place, case_id in old.items()}
        upgrade(url)
        assert _diff(url) == []
    finally:
        engine.dispose()


def test_the_throttle_migration_drops_the_names_kept_in_clear(databases):
    """0012: rows keyed by the name as typed are dropped (they are only
    counters of recent failures)."""
    url = databases.clone("demo")
    downgrade(url, "0011")
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(LoginThrottle.__table__).values(
                    account_key="user:a-password-typed-as-a-name", failures=1, window_started_at=utcnow()
                )
            )
        upgrade(url)
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(LoginThrottle.__table__)).scalar_one() == 0
    finally:
        engine.dispose()


def _stored(connection, value: uuid.UUID) -> object:
    """A uuid as the engine stores it (SQLAlchemy's Uuid: 32 hex digits on SQLite)."""
    return value if connection.dialect.name == "postgresql" else value.hex


def test_the_duties_migration_fails_closed_both_ways(databases):
    """0015: once the existing grants are backfilled in force, a row written
    without saying (bypassing the models) waits for approval and its
    credential gives no reach; going down, where nothing could say a grant
    waits, the grants not approved go and the accounts whose credential an
    admin set are disabled, their tokens ended."""
    from app.accounts.models import ScopeGrant, ServiceAccount

    url = databases.clone("demo")
    engine = create_db_engine(url, pool_size=1)
    grants, users, accounts = ScopeGrant.__table__, User.__table__, ServiceAccount.__table__
    try:
        with engine.begin() as connection:
            school_id = connection.execute(select(School.__table__.c.id)).scalars().first()
            user_id = uuid.uuid4()
            # Plain SQL, as a statement that bypasses the models (Core would
            # fill in the models' own defaults): the server's defaults decide.
            ids = {"uid": _stored(connection, user_id), "sid": _stored(connection, school_id)}
            connection.execute(
                text(
                    "INSERT INTO app_user (id, username, full_name, role, password_hash, is_active, "
                    "token_generation, created_at, updated_at) VALUES (:uid, 'ecrit.sans.dire', 'Sans Dire', "
                    "'school_staff', 'x', true, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                ids,
            )
            connection.execute(
                text("INSERT INTO scope_grant (id, user_id, school_id) VALUES (:gid, :uid, :sid)"),
                {**ids, "gid": _stored(connection, uuid.uuid4())},
            )
            row = connection.execute(
                select(users.c.credential_pending, users.c.token_generation).where(users.c.id == user_id)
            ).one()
            assert row.credential_pending is True
            assert connection.execute(select(grants.c.approval).where(grants.c.user_id == user_id)).scalar_one() == (
                "pending"
            )
            pending_accounts = connection.execute(
                select(func.count()).select_from(accounts).where(accounts.c.credential_pending)
            ).scalar_one()
        downgrade(url, "0014")
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).where(grants.c.user_id == user_id)).scalar_one() == 0
            after = connection.execute(
                select(users.c.is_active, users.c.token_generation).where(users.c.id == user_id)
            ).one()
            assert after.is_active is False and after.token_generation == row.token_generation + 1
            assert (
                connection.execute(
                    select(func.count()).select_from(accounts).where(accounts.c.is_active.is_(False))
                ).scalar_one()
                >= pending_accounts
            )
        upgrade(url)
    finally:
        engine.dispose()


def test_the_one_checkpoint_per_head_migration_stops_on_checkpoints_signed_twice(databases):
    """0021: the service never stored two checkpoints of a chain at one seq,
    and the table is append-only: rows like that were written some other way,
    and the upgrade stops rather than remove or hide them."""
    from app.audit.models import AuditCheckpoint

    url = databases.clone("empty")
    downgrade(url, "0020")
    engine = create_db_engine(url, pool_size=1)
    row = dict(chain="platform", seq=7, entry_hash="0" * 64, key_id="k", signature="s")
    try:
        with engine.begin() as connection:
            for issued_at in ("2026-12-01T00:00:00.000000Z", "2026-12-01T00:00:01.000000Z"):
                connection.execute(insert(AuditCheckpoint.__table__).values(**row, issued_at=issued_at))
        with pytest.raises(RuntimeError, match=r"more than one checkpoint at 1 \(chain, seq\) pair"):
            upgrade(url)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0020"
            assert connection.execute(select(func.count()).select_from(AuditCheckpoint.__table__)).scalar_one() == 2
    finally:
        engine.dispose()


def test_the_audit_checkpoints_stay_append_only_through_0021_both_ways(databases):
    """0021 copies the table on SQLite (to add its constraint): the copy is
    append-only too, after the upgrade and after the downgrade."""
    from sqlalchemy.exc import DBAPIError

    from app.audit.models import AuditCheckpoint

    url = databases.clone("empty")
    engine = create_db_engine(url, pool_size=1)
    table = AuditCheckpoint.__table__
    row = dict(chain="platform", seq=1, entry_hash="0" * 64, issued_at="x", key_id="k", signature="s")
    try:
        for step in (lambda: downgrade(url, "0020"), lambda: upgrade(url)):
            step()
            with engine.begin() as connection:
                connection.execute(insert(table).values(**row))
            for change in (table.update().values(signature="t"), table.delete()):
                with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                    connection.execute(change)
            row["seq"] += 1
    finally:
        engine.dispose()
