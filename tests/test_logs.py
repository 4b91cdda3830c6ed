"""Structured logs (#14 item 6): one JSON line per request, with the request
id its audit entry records, the route template and never the raw path, a
name, a token or a query string; every other message a JSON line too, at
the level SEXTO_LOG_LEVEL sets."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.logs import UNMATCHED, configure_logging
from app.main import create_app
from tests.conftest import make_settings

FIELDS = {"time", "level", "logger", "event", "request_id", "method", "route", "status", "duration_ms", "caller_kind"}


@pytest.fixture
def log(client):
    """The JSON lines written while the test runs (the app's handler, on a buffer)."""
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)

    def lines() -> list[dict]:
        return [line for line in map(json.loads, buffer.getvalue().splitlines()) if not _the_test_client(line)]

    lines.text = lambda: json.dumps(lines())  # type: ignore[attr-defined]
    return lines


def _the_test_client(line: dict) -> bool:
    """A line of the test's own HTTP client (httpx logs each request it sends, URL and all)."""
    return str(line.get("logger")).startswith("httpx")


def _requests(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("logger") == "sexto.request"]


def test_a_request_gives_one_json_line_with_its_route_template(client, log, login, db):
    headers = login("demo-lead-a")
    before = len(_requests(log()))
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    lines = _requests(log())[before:]
    assert len(lines) == 1
    (line,) = lines
    assert set(line) == FIELDS
    assert line["level"] == "info" and line["event"] == "request"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/auth/me", 200)
    assert line["caller_kind"] == "user"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("Z")
    assert line["request_id"] == response.headers["x-request-id"]
    db.expire_all()
    entry = db.exec(select(AuditEntry).where(AuditEntry.request_id == line["request_id"])).scalars().one()
    assert entry.status_code == 200 and entry.actor_kind == "user"


def test_a_case_request_logs_no_name_token_path_id_or_query(desk, log, login, db):
    case = desk.open_case()
    name = "Rosalie Journal-Unique"
    desk.ok(
        "POST",
        f"/cases/{case['id']}/participants",
        "demo-staff-a",
        201,
        json={"role": "depicted", "is_minor": True, "name": name, "student_id": "8675309"},
        headers={"Idempotency-Key": "logs-1"},
    )
    token = login("demo-lead-a")["Authorization"].removeprefix("Bearer ")
    response = desk.call("GET", f"/cases/{case['id']}/participants?q=query-secret-word", "demo-lead-a")
    assert response.status_code == 200 and name in response.text
    text = log.text()
    for secret in (name, "Rosalie", "8675309", token, case["id"], uuid.UUID(case["id"]).hex, "query-secret-word"):
        assert secret not in text
    read = _requests(log())[-1]
    assert read["route"] == "/api/v1/cases/{case_id}/participants"
    assert (read["caller_kind"], read["status"]) == ("user", 200)
    db.expire_all()
    entry = db.exec(select(AuditEntry).where(AuditEntry.request_id == read["request_id"])).scalars().one()
    assert entry.request_id == response.headers["x-request-id"] == read["request_id"]
    assert entry.case_id is not None and str(entry.case_id) == case["id"]


def test_an_unmatched_path_and_a_refusal_before_routing_have_a_fixed_marker(client, log):
    missing = uuid.uuid4()
    response = client.get(f"/api/v1/nowhere/{missing}")
    assert response.status_code == 404
    refused = client.post("/api/v1/boards", content=b"\xff\xd8\xff", headers={"Content-Type": "image/jpeg"})
    assert refused.status_code == 415
    lines = _requests(log())[-2:]
    assert [(line["route"], line["status"], line["caller_kind"]) for line in lines] == [
        (UNMATCHED, 404, "anonymous"),
        (UNMATCHED, 415, "anonymous"),
    ]
    assert lines[1]["request_id"] == refused.headers["x-request-id"]
    assert str(missing) not in log.text() and "boards" not in log.text()


@pytest.mark.parametrize("level", ["INFO", "warning"])  # read in any case
def test_the_level_setting_filters(app_database_url, var_dir, monkeypatch, level):
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    settings = make_settings(app_database_url, var_dir, log_level=level)
    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
        logging.getLogger("sexto").info("first admin account created")
        logging.getLogger("sexto").warning("database unavailable: OperationalError")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    events = [(line["level"], line["event"]) for line in lines if line.get("logger") in {"sexto", "sexto.request"}]
    assert ("warning", "database unavailable: OperationalError") in events
    shown = ("info", "first admin account created") in events and ("info", "request") in events
    assert shown == (level == "INFO")
    assert all(level == "INFO" or found != "info" for found, _ in events)


def test_the_first_admin_message_is_visible_at_the_default_level(databases, var_dir, monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    username = f"root-{uuid.uuid4().hex[:8]}"
    url = databases.clone("empty")
    settings = make_settings(
        url, var_dir, first_admin_username=username, first_admin_password="a strong first password"
    )
    assert settings.log_level == "INFO"
    with TestClient(create_app(settings)):
        pass
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert {"level": "info", "logger": "sexto", "event": "first admin account created"}.items() <= next(
        line for line in lines if line.get("event") == "first admin account created"
    ).items()
    assert username not in buffer.getvalue()


def test_an_unexpected_failure_is_logged_with_the_route_template_not_the_path():
    from types import SimpleNamespace

    from starlette.requests import Request

    from app.errors import log_unexpected

    route = SimpleNamespace(path="/api/v1/cases/{case_id}")  # what the router puts in the scope
    case_id = str(uuid.uuid4())
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/api/v1/cases/{case_id}",
        "query_string": b"q=query-secret-word",
        "headers": [],
        "route": route,
        "state": {"request_id": "5b3c0f6e9d2a4c1b8e7f6a5d4c3b2a19"},
    }
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        raise ValueError("Rosalie Journal-Unique")
    except ValueError as exc:
        log_unexpected(exc, Request(scope))
    (line,) = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert line["level"] == "error" and line["logger"] == "sexto"
    assert "ValueError on GET /api/v1/cases/{case_id} (request 5b3c0f6e9d2a4c1b8e7f6a5d4c3b2a19)" in line["event"]
    for secret in (case_id, "Rosalie", "query-secret-word"):
        assert secret not in buffer.getvalue()
