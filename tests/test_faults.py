"""When the database goes away: 503 problem documents, nothing half-written,
and the service recovers by itself once the database is back."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.audit import chain
from app.audit.models import AuditEntry
from app.cases import service
from app.cases.models import Note
from tests.conftest import APP_ROLE, DEMO_PASSWORD, running_service, service_env
from tests.integrity import last_entry


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
    answers = [
        desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "pendant la panne"})
        for _ in range(3)
    ]
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
    env = service_env(settings, var_dir)
    with running_service(env, workers=1) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            token = http.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {
                "school_id": str(demo.school_a),
                "reporter_type": "student",
                "channel": "in_person",
                "place": "school",
                "summary": "x",
            }
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


def test_a_crash_mid_write_leaves_each_change_with_its_audit_entry_or_neither(
    settings, database_url, var_dir, db, demo
):
    """The server is killed (SIGKILL) while notes are being written: every
    note in the database has its audit entry and every allowed entry its note,
    every acknowledged note is there, and a restarted server carries on with
    a chain that verifies."""
    env = service_env(settings, var_dir)
    body = {
        "school_id": str(demo.school_a),
        "reporter_type": "student",
        "channel": "in_person",
        "place": "school",
        "summary": "x",
    }
    with running_service(env, with_process=True) as (base, server):
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            case = http.post("/api/v1/cases", json=body, headers=headers).json()

        async def write_then_crash() -> list[str]:
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:

                async def note(number: int):
                    try:
                        return await http.post(f"/api/v1/cases/{case['id']}/notes", json={"text": f"note {number}"})
                    except httpx.TransportError:
                        return None

                async def crash():
                    await asyncio.sleep(0.3)
                    server.kill()

                answers = await asyncio.gather(*(note(n) for n in range(200)), crash())
            return [a.json()["id"] for a in answers[:-1] if a is not None and a.status_code == 201]

        acknowledged = asyncio.run(write_then_crash())
        server.wait(timeout=20)

    db.expire_all()
    notes = {str(i) for i in db.exec(select(Note.id).where(Note.case_id == uuid.UUID(case["id"]))).all()}
    entries = db.exec(
        select(AuditEntry.resource_id).where(AuditEntry.action == "add_note", AuditEntry.outcome == "allowed")
    ).all()
    assert set(acknowledged) <= notes
    assert sorted(entries) == sorted(notes)  # each change with its entry, each entry with its change
    assert len(notes) < 200  # the crash did cut the run short

    with running_service(env) as base, httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        again = http.post(
            f"/api/v1/cases/{case['id']}/notes", json={"text": "après"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 201
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert chain.verify(connection).ok
    engine.dispose()


def test_an_unexpected_error_is_a_500_problem_and_its_message_never_logged(desk, monkeypatch, caplog):
    case = desk.open_case()

    def explode(*args, **kwargs):
        raise ValueError("Julie Tremblay, 14 ans, photo intime")

    monkeypatch.setattr(service, "add_note", explode)
    with caplog.at_level(logging.DEBUG):
        response = desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "x"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "Julie" not in caplog.text and "intime" not in caplog.text
    assert "ValueError" in caplog.text


def test_a_constraint_refusal_is_audited_as_a_409(desk, monkeypatch, db):
    case = desk.open_case()

    def collide(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    monkeypatch.setattr(service, "add_note", collide)
    response = desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "x"})
    assert response.status_code == 409
    entry = last_entry(db)
    assert (entry.status_code, entry.outcome) == (409, "refused")
