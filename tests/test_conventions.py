"""Conventions every route follows: problem documents, languages, body limits,
JSON only."""

from __future__ import annotations

import pytest


def test_problems_are_in_french_by_default_and_english_on_request(client):
    french = client.get("/api/v1/auth/me")
    english = client.get("/api/v1/auth/me", headers={"Accept-Language": "en-CA,en;q=0.9"})
    assert french.headers["content-language"] == "fr"
    assert english.headers["content-language"] == "en"
    assert french.json()["detail"].startswith("Authentification requise")
    assert english.json()["detail"].startswith("Authentication required")
    assert french.json()["type"] == english.json()["type"] == "urn:sexto:problem:not_authenticated"


def test_quality_values_choose_the_language(client):
    response = client.get("/api/v1/auth/me", headers={"Accept-Language": "fr;q=0.4, en;q=0.8"})
    assert response.headers["content-language"] == "en"
    response = client.get("/api/v1/auth/me", headers={"Accept-Language": "de, es"})
    assert response.headers["content-language"] == "fr"


def test_an_unknown_route_is_a_problem_document(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_a_wrong_method_is_a_problem_document(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(client, login, settings):
    headers = {**login("demo-admin"), "Content-Type": "application/json"}
    big = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    declared = client.post("/api/v1/boards", content=big, headers=headers)
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"

    def chunks():
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = client.post("/api/v1/boards", content=chunks(), headers=headers)
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "content_type",
    [
        "image/jpeg",
        "video/mp4",
        "audio/mpeg",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/plain",
    ],
)
def test_only_json_bodies_are_accepted(client, login, content_type, db):
    from sqlmodel import func, select

    from app.orgs.models import SchoolBoard

    before = db.exec(select(func.count()).select_from(SchoolBoard)).one()
    response = client.post(
        "/api/v1/boards",
        content=b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff\r\n--x--',
        headers={**login("demo-admin"), "Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert db.exec(select(func.count()).select_from(SchoolBoard)).one() == before


def test_the_token_endpoint_refuses_multipart(client):
    response = client.post(
        "/api/v1/auth/token",
        files={"username": (None, "demo-staff-a"), "password": (None, "x")},
    )
    assert response.status_code == 415


def test_invalid_json_is_a_problem_document(client, login):
    response = client.post(
        "/api/v1/boards", content=b'{"name": ', headers={**login("demo-admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_json"


def test_every_response_carries_the_services_own_request_id(client):
    """The service's id, never the caller's (which the audit entry keeps apart)."""
    assert len(client.get("/healthz").headers["x-request-id"]) >= 8
    sent = client.get("/healthz", headers={"X-Request-ID": "board-system-42-abc"})
    assert sent.headers["x-request-id"] != "board-system-42-abc"
    again = client.get("/healthz", headers={"X-Request-ID": "board-system-42-abc"})
    assert again.headers["x-request-id"] != sent.headers["x-request-id"]
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert replaced.headers["x-request-id"] != "bad id with spaces"


def test_times_are_utc_rfc3339(client, login):
    board = client.post("/api/v1/boards", json={"name": "CSS du Temps"}, headers=login("demo-admin")).json()
    assert board["created_at"].endswith("Z") or board["created_at"].endswith("+00:00")
