"""When the database goes away: 503 problem documents, nothing half-written,
and the service recovers by itself once the database is back."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, text
from sqlmodel import select

from app.cases.models import Note
from tests.conftest import APP_ROLE
from tests.protocol_helpers import Desk


@pytest.fixture
def desk(client, login, demo) -> Desk:
    return Desk(client, login, demo)


def kill_app_connections(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND usename = :role"
            ),
            {"role": APP_ROLE},
        ).scalar()
    engine.dispose()
    return killed


@pytest.mark.postgres_only
def test_killed_connections_give_503_then_the_service_recovers(desk, database_url, db):
    case = desk.open_case()
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").status_code == 200
    notes_before = db.exec(select(func.count()).select_from(Note)).one()
    assert kill_app_connections(database_url) >= 1
    answers = [desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "pendant la panne"}) for _ in range(3)]
    failed = [a for a in answers if a.status_code != 201]
    assert failed, "a connection killed under the pool must surface once as a 503"
    for answer in failed:
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "service_unavailable"
    # Whatever answered 201 is stored once; whatever answered 503 left nothing.
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Note)).one() == notes_before + (len(answers) - len(failed))
    # No restart: the next requests work.
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").status_code == 200
    assert desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "après"}).status_code == 201
    assert desk.ok("GET", "/audit/verify", "demo-auditor")["ok"] is True
