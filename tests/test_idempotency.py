"""Idempotency-Key on every POST: retries return the first answer, once."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, update
from sqlmodel import select

from app.audit.models import AuditEntry
from app.cases.models import Case
from app.db import utcnow
from app.idempotency.models import IdempotencyRecord
from app.main import create_app
from app.openapi import NO_IDEMPOTENCY
from tests.conftest import token_for
from tests.integrity import last_entry
from tests.protocol_helpers import Desk


def case_body(desk: Desk, summary: str = "Une photo circulerait.") -> dict:
    return {
        "school_id": str(desk.demo.school_a),
        "reporter_type": "student",
        "channel": "phone",
        "place": "online_only",
        "summary": summary,
    }


def cases(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Case)).one()


def test_a_retry_gets_the_first_answer_and_creates_nothing(desk, db):
    headers = {"Idempotency-Key": "board-sis-7f3a"}
    first = desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    assert first.status_code == 201
    again = desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert cases(db) == 1
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.reason, entry.status_code) == ("idempotent_replay", 201)


def test_the_same_key_with_another_body_is_a_422(desk, db):
    headers = {"Idempotency-Key": "k-1"}
    desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    other = desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk, "Autre"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert cases(db) == 1


def test_keys_belong_to_their_caller(desk, db):
    headers = {"Idempotency-Key": "shared-key"}
    desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    desk.call("POST", "/cases", "demo-lead-a", json=case_body(desk), headers=headers)
    assert cases(db) == 2


def test_a_refused_request_is_not_kept(desk, db):
    case = desk.open_case()
    desk.go(case, "start_evaluation")
    headers = {"Idempotency-Key": "gather-1"}
    refused = desk.call(
        "POST", f"/cases/{case['id']}/transitions", "demo-staff-a", json={"action": "start_gathering"}, headers=headers
    )
    assert refused.status_code == 409
    reporter = desk.person(case, "reporter")
    desk.grid(case, reporter)
    retried = desk.call(
        "POST", f"/cases/{case['id']}/transitions", "demo-staff-a", json={"action": "start_gathering"}, headers=headers
    )
    assert retried.status_code == 200


def test_an_expired_key_is_free_again(desk, db):
    headers = {"Idempotency-Key": "old-key"}
    desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    db.exec(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers=headers)
    assert cases(db) == 2


def test_an_invalid_key_is_a_422(desk):
    response = desk.call("POST", "/cases", "demo-staff-a", json=case_body(desk), headers={"Idempotency-Key": "x" * 201})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_invalid"


def test_two_requests_with_one_key_at_once_have_one_effect(desk, db, settings):
    token = token_for(desk.client, "demo-staff-a")
    app = create_app(settings)
    barrier = threading.Barrier(2)
    answers: list = []

    def send() -> None:
        with TestClient(app) as client:
            barrier.wait()
            answers.append(
                client.post(
                    "/api/v1/cases",
                    json=case_body(desk),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "racing-key"},
                )
            )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert cases(db) == 1


def test_every_post_documents_the_header(client):
    """Every POST but those that take no key (sign-in, sign-out, the password
    and the second factor's routes: NO_IDEMPOTENCY) declares it, and those
    do not."""
    document = client.get("/openapi.json").json()
    posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
    assert posts.keys() >= NO_IDEMPOTENCY
    for path, post in posts.items():
        names = [p["name"] for p in post.get("parameters", [])]
        assert ("Idempotency-Key" in names) is (path not in NO_IDEMPOTENCY), path


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

    # An auditing system: its secret is shown at creation (a case-reading
    # account's comes with its approval, which is never kept either).
    body = {"name": "Portail", "role": "auditor", "scope": {"police_forces": [str(desk.demo.force_a)]}}
    headers = {"Idempotency-Key": "sa-1"}
    first = desk.call("POST", "/service-accounts", "demo-admin", json=body, headers=headers)
    assert first.status_code == 201
    db.expire_all()
    record = db.exec(select(IdempotencyRecord)).one()
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
    entry = last_entry(db)
    assert (entry.reason, entry.case_id) == ("idempotent_replay", first.json()["id"])


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
    assert db.exec(select(IdempotencyRecord)).all() == []
