"""Defects found in review, each pinned by a test."""

from __future__ import annotations

import logging
import secrets
import uuid

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlmodel import select as select_models
from sqlalchemy.exc import IntegrityError

from app.audit import chain
from app.audit.models import AuditChainHead, AuditEntry
from app.cases import service
from tests.protocol_helpers import Desk


@pytest.fixture
def desk(client, login, demo) -> Desk:
    return Desk(client, login, demo)


def _last_entry(db) -> AuditEntry:
    db.expire_all()
    return db.exec(select_models(AuditEntry).order_by(AuditEntry.id.desc())).first()


def test_times_without_an_offset_are_refused_not_crashed(desk):
    case = desk.open_case()
    contact = {"kind": "police_contact", "officer_name": "Agente P", "method": "phone", "occurred_at": "2026-11-20T16:00:00", "note": "Nommé Julie Tremblay"}
    response = desk.call("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", json=contact)
    assert response.status_code == 422
    assert "Julie" not in response.text
    assert desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00"}).status_code == 422
    assert desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00Z"}).status_code == 200


def test_a_nul_character_is_refused(desk):
    case = desk.open_case()
    response = desk.call("POST", f"/cases/{case['id']}/participants", "demo-staff-a", json={"role": "witness", "is_minor": True, "name": "Ana\x00is"})
    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"


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
    entry = _last_entry(db)
    assert (entry.status_code, entry.outcome) == (409, "refused")


def test_custody_steps_are_in_the_cases_access_log_and_its_auditors_view(desk, db):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    desk.custody(device, "transferred_to_police", "demo-police-a", officer_name="Agente Paquette", badge_number="1")
    entry = _last_entry(db)
    assert entry.action == "record_custody_event"
    assert entry.case_id == case["id"]
    assert str(desk.demo.board_a) in entry.org_ids
    log = desk.ok("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
    assert "record_custody_event" in {e["action"] for e in log["items"]}
    seen = desk.ok("GET", "/audit/events", "demo-auditor", params={"action": "record_custody_event"})
    assert seen["items"]


def test_police_record_only_police_custody_steps_and_times_keep_their_order(desk):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    stored = desk.custody(device, "stored", "demo-police-a", storage_location="Poste")
    assert stored.status_code == 403 and stored.json()["code"] == "custody_school_only"
    backdated = desk.custody(device, "stored", storage_location="Coffre", occurred_at="2001-01-01T00:00:00Z")
    assert backdated.status_code == 422 and backdated.json()["code"] == "custody_time_out_of_order"
    future = desk.custody(device, "stored", storage_location="Coffre", occurred_at="2999-01-01T00:00:00Z")
    assert future.status_code == 422


def test_the_dpj_reporter_does_not_read_the_reasons_staff_wrote(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.grid(case, reporter, content="nudity_or_breasts", ages=[15])
    other = desk.person(case, "distributor")
    desk.ok("POST", f"/cases/{case['id']}/participants/{other['id']}/flags", "demo-staff-a", 201, json={"kind": "refused", "reason": "A dit des choses graves en entrevue"})
    people = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-dpj-a")["items"]
    assert "choses graves" not in str(people)
    assert people[1]["flags"][0]["kind"] == "refused"
    school_view = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-lead-a")["items"]
    assert school_view[1]["flags"][0]["reason"] == "A dit des choses graves en entrevue"


def test_a_refusal_before_routing_is_audited(client, login, db):
    response = client.post("/api/v1/boards", content=b"\xff\xd8\xff", headers={**login("demo-admin"), "Content-Type": "image/jpeg"})
    assert response.status_code == 415
    entry = _last_entry(db)
    assert (entry.action, entry.status_code, entry.reason) == ("refused_before_routing", 415, "unsupported_media_type")


def test_verifying_a_long_log_tampered_early_answers_with_the_entry(client, login, database_url, db):
    """Long enough that the COPY stream is still flowing when the first bad entry is found."""
    engine = create_engine(database_url)
    heads, entries = AuditChainHead.__table__, AuditEntry.__table__
    with engine.begin() as connection:
        seq, prev = connection.execute(select(heads.c.seq, heads.c.entry_hash).where(heads.c.chain == "platform")).one()
        rows = []
        for _ in range(30000):
            seq += 1
            values = ["platform", seq, "2026-11-25T10:00:00.000000Z", secrets.token_hex(16), "user", str(uuid.uuid4()),
                      "school_staff", None, "127.0.0.1", "bench", uuid.uuid4().hex, "read_case", "cases", None, None, "allowed", 200, None, None]
            digest = chain.chain_hash(prev, chain.canonical(values))
            rows.append({**dict(zip(chain.CANONICAL_FIELDS, values)), "prev_hash": prev, "entry_hash": digest})
            prev = digest
        connection.execute(insert(entries), rows)
        connection.execute(update(heads).where(heads.c.chain == "platform").values(seq=seq, entry_hash=prev))
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
        connection.execute(update(entries).where(entries.c.seq == 3).values(outcome="denied"))
    engine.dispose()
    response = client.get("/api/v1/audit/verify", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    assert response.json()["chains"][0]["first_bad_seq"] == 3
