"""Defects found in review, each pinned by a test."""

from __future__ import annotations

import logging
import secrets
import uuid

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as select_models

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
    contact = {
        "kind": "police_contact",
        "officer_name": "Agente P",
        "method": "phone",
        "occurred_at": "2026-11-20T16:00:00",
        "note": "Nommé Julie Tremblay",
    }
    response = desk.call("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", json=contact)
    assert response.status_code == 422
    assert "Julie" not in response.text
    assert (
        desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00"}).status_code == 422
    )
    assert (
        desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00Z"}).status_code == 200
    )


def test_a_nul_character_is_refused(desk):
    case = desk.open_case()
    response = desk.call(
        "POST",
        f"/cases/{case['id']}/participants",
        "demo-staff-a",
        json={"role": "witness", "is_minor": True, "name": "Ana\x00is"},
    )
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
    desk.ok(
        "POST",
        f"/cases/{case['id']}/participants/{other['id']}/flags",
        "demo-staff-a",
        201,
        json={"kind": "refused", "reason": "A dit des choses graves en entrevue"},
    )
    people = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-dpj-a")["items"]
    assert "choses graves" not in str(people)
    assert people[1]["flags"][0]["kind"] == "refused"
    school_view = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-lead-a")["items"]
    assert school_view[1]["flags"][0]["reason"] == "A dit des choses graves en entrevue"


def test_a_refusal_before_routing_is_audited(client, login, db):
    response = client.post(
        "/api/v1/boards", content=b"\xff\xd8\xff", headers={**login("demo-admin"), "Content-Type": "image/jpeg"}
    )
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
            values = [
                "platform",
                seq,
                "2026-11-25T10:00:00.000000Z",
                secrets.token_hex(16),
                "user",
                str(uuid.uuid4()),
                "school_staff",
                None,
                "127.0.0.1",
                "bench",
                uuid.uuid4().hex,
                "read_case",
                "cases",
                None,
                None,
                "allowed",
                200,
                None,
                None,
            ]
            digest = chain.chain_hash(prev, chain.canonical(values))
            rows.append(
                {**dict(zip(chain.CANONICAL_FIELDS, values, strict=True)), "prev_hash": prev, "entry_hash": digest}
            )
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


# --- second review: idempotency, ETags, feed ------------------------------------------


def test_a_replay_is_not_a_way_around_a_lost_access(desk, db):
    case = desk.open_case()
    body = {"role": "depicted", "is_minor": True, "name": "Élève Secrète", "student_id": "9999999"}
    headers = {"Idempotency-Key": "p-1"}
    assert (
        desk.call("POST", f"/cases/{case['id']}/participants", "demo-staff-a", json=body, headers=headers).status_code
        == 201
    )
    # The staff member moves to school B: case A no longer exists for them.
    desk.ok(
        "PATCH",
        f"/users/{desk.demo.users['demo-staff-a']}",
        "demo-admin",
        json={"scope": {"schools": [str(desk.demo.school_b)]}},
    )
    replay = desk.call("POST", f"/cases/{case['id']}/participants", "demo-staff-a", json=body, headers=headers)
    assert replay.status_code == 404
    assert "Secrète" not in replay.text


def test_a_replay_needs_the_same_role(desk):
    headers = {"Idempotency-Key": "b-1"}
    assert desk.call("POST", "/boards", "demo-admin", json={"name": "CSS Rejoué"}, headers=headers).status_code == 201
    desk.ok(
        "POST",
        "/users",
        "demo-admin",
        201,
        json={"username": "second-admin", "full_name": "Deux", "role": "admin", "password": "une phrase assez longue"},
    )
    desk.ok(
        "PATCH",
        f"/users/{desk.demo.users['demo-admin']}",
        "demo-admin",
        json={"role": "auditor", "scope": {"boards": [str(desk.demo.board_a)]}},
    )
    replay = desk.call("POST", "/boards", "demo-admin", json={"name": "CSS Rejoué"}, headers=headers)
    assert replay.status_code == 403


def test_a_secret_shown_once_is_never_kept_for_a_replay(desk, db):
    from app.idempotency.models import IdempotencyRecord

    body = {"name": "Portail", "role": "police_liaison", "scope": {"police_forces": [str(desk.demo.force_a)]}}
    headers = {"Idempotency-Key": "sa-1"}
    first = desk.call("POST", "/service-accounts", "demo-admin", json=body, headers=headers)
    assert first.status_code == 201
    db.expire_all()
    record = db.exec(select_models(IdempotencyRecord)).one()
    assert record.body is None and first.json()["client_secret"] not in str(record.model_dump())
    retry = desk.call("POST", "/service-accounts", "demo-admin", json=body, headers=headers)
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency_secret_not_replayed"
    assert len(desk.ok("GET", "/service-accounts", "demo-admin")["items"]) == 1


def test_a_replays_entry_names_its_case_and_carries_the_etag(desk, db):
    body = {
        "school_id": str(desk.demo.school_a),
        "reporter_type": "student",
        "channel": "phone",
        "place": "online_only",
        "summary": "x",
    }
    headers = {"Idempotency-Key": "c-1"}
    first = desk.call("POST", "/cases", "demo-staff-a", json=body, headers=headers)
    reordered = {key: body[key] for key in reversed(list(body))}
    replay = desk.call("POST", "/cases", "demo-staff-a", json=reordered, headers=headers)
    assert replay.status_code == 201 and replay.headers["etag"] == first.headers["etag"]
    entry = _last_entry(db)
    assert (entry.reason, entry.case_id) == ("idempotent_replay", first.json()["id"])


def test_the_feed_carries_every_police_visible_change(desk, settle_feed):
    case = desk.open_case()
    person = desk.person(case, "distributor")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    settle_feed()
    cursor = desk.ok("GET", "/police/cases", "demo-police-a")["next_cursor"]
    desk.confiscate(case, person)
    settle_feed()
    assert [
        i["change"] for i in desk.ok("GET", "/police/cases", "demo-police-a", params={"cursor": cursor})["items"]
    ] == ["device"]
    desk.notify_parents(case, person)
    settle_feed()
    latest = desk.ok("GET", "/police/cases", "demo-police-a", params={"cursor": cursor})["items"]
    assert [i["change"] for i in latest] == ["contact"]


def test_the_access_log_is_never_answered_304_and_etags_name_their_case(desk):
    case = desk.open_case()
    log = desk.call("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
    assert "etag" not in log.headers
    other = desk.open_case()
    other_etag = desk.call("GET", f"/cases/{other['id']}", "demo-staff-a").headers["etag"]
    own_etag = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").headers["etag"]
    assert other_etag.split(".")[1] == own_etag.split(".")[1]  # same version...
    wrong_case = desk.call(
        "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "y"}, headers={"If-Match": other_etag}
    )
    assert wrong_case.status_code == 412  # ...but another case's ETag
    a2 = desk.call("GET", f"/cases/{case['id']}/transitions", "demo-lead-a").headers["etag"]
    assert a2 != desk.call("GET", f"/cases/{case['id']}/transitions", "demo-staff-a").headers["etag"]


def test_expired_keys_are_purged(desk, db):
    from datetime import timedelta

    from app.db import utcnow
    from app.idempotency.models import IdempotencyRecord
    from app.idempotency.service import purge_expired

    desk.call(
        "POST",
        "/cases",
        "demo-staff-a",
        json={
            "school_id": str(desk.demo.school_a),
            "reporter_type": "student",
            "channel": "phone",
            "place": "online_only",
            "summary": "x",
        },
        headers={"Idempotency-Key": "old"},
    )
    db.exec(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert purge_expired(db) == 1
    db.commit()
    assert db.exec(select_models(IdempotencyRecord)).all() == []
