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


def test_more_requests_at_once_than_connections_are_all_served(settings, database_url, var_dir, db, demo):
    """A worker with far more requests in flight than its pool has connections
    queues them (``REQUEST_SLOTS``) instead of leaving threads waiting for
    connections held by requests waiting for threads: every one is answered,
    and audited."""
    import asyncio
    import os

    import httpx

    from app.audit.models import AuditEntry
    from tests.conftest import DEMO_PASSWORD, running_service

    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=settings.effective_database_url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_ARGON2_TIME_COST="1",
        SEXTO_ARGON2_MEMORY_COST="1024",
        SEXTO_ARGON2_PARALLELISM="1",
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0",
    )
    port = 20000 + os.getpid() % 1000
    with running_service(env, port, workers=1) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            token = http.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {"school_id": str(demo.school_a), "reporter_type": "student", "channel": "in_person", "place": "at_school", "summary": "x"}
            case = http.post("/api/v1/cases", json=body, headers=headers).json()
        before = db.exec(select(func.count()).select_from(AuditEntry)).one()

        async def burst() -> list[int]:
            limits = httpx.Limits(max_connections=80)
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
                answers = await asyncio.gather(*(http.get(f"/api/v1/cases/{case['id']}") for _ in range(80)))
            return [answer.status_code for answer in answers]

        statuses = asyncio.run(burst())
    assert statuses == [200] * 80
    db.expire_all()
    assert db.exec(select(func.count()).select_from(AuditEntry)).one() == before + 80
