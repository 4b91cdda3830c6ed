"""The audit log: every access an entry, same transaction, fail closed,
append-only, tamper-evident, signed, readable by auditors only."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.routing import APIRoute
from sqlalchemy import create_engine, func, insert, text, update
from sqlmodel import select

from app.accounts.models import User
from app.audit import chain
from app.audit.checkpoints import signed_message
from app.audit.models import AuditChainHead, AuditEntry
from app.audit.recorder import AuditedRoute
from app.main import create_app
from app.orgs.models import SchoolBoard
from tests.conftest import (
    DEMO_PASSWORD,
    REVOKES_THE_CALLERS_TOKEN,
    api_routes,
    running_service,
    service_env,
    token_for,
)
from tests.integrity import last_entry
from tests.protocol_helpers import Desk

UNAUDITED = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/assets", "/redoc"}
DUMMY_ID = "00000000-0000-4000-8000-000000000000"


def entries(db) -> list[AuditEntry]:
    db.expire_all()
    return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def count(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(AuditEntry)).one()


def test_every_api_route_is_audited():
    routes = [(path, route) for path, _, route in api_routes(create_app()) if path not in UNAUDITED]
    assert len(routes) > 40  # the walk sees the included routers' routes
    for path, route in routes:
        assert isinstance(route, AuditedRoute), f"{path} escapes the audit log"


@pytest.mark.parametrize("username", ["demo-admin", "demo-lead-a", "demo-police-b"])
def test_every_route_writes_exactly_one_entry(client, login, db, username):
    """Walk every route with a denied, an invalid or an allowed call: one entry each."""
    headers = login(username)
    walked = 0
    for template, methods, route in api_routes(client.app):
        if template in UNAUDITED or not isinstance(route, APIRoute):
            continue
        path = template
        for name in route.param_convertors:
            value = {"level": "architect", "version": "1"}.get(name, DUMMY_ID)
            path = path.replace("{" + name + "}", value)
        for method in methods:
            before = count(db)
            client.request(method, path, headers=headers, json={} if method in ("POST", "PATCH") else None)
            assert count(db) == before + 1, f"{method} {template}"
            walked += 1
            if (method, template) in REVOKES_THE_CALLERS_TOKEN:
                headers = login(username, fresh=True)
    assert walked > 40


def test_a_sign_in_is_recorded_without_the_name_or_password(client, db, demo):
    token_for(client, "demo-staff-a")
    client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "demo-staff-a", "password": "wrong-pass"}
    )
    client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "Jean Untel", "password": "wrong-pass"}
    )
    success, failure, unknown = entries(db)[-3:]
    assert (success.action, success.outcome, success.status_code) == ("issue_token", "allowed", 200)
    assert success.actor_id == str(demo.users["demo-staff-a"])
    assert (failure.outcome, failure.status_code, failure.reason) == ("refused", 400, "invalid_grant")
    assert failure.actor_id == str(demo.users["demo-staff-a"])
    assert unknown.actor_id is None and unknown.actor_kind == "anonymous"
    for entry in (success, failure, unknown):
        rendered = json.dumps(entry.model_dump())
        assert "demo-staff-a" not in rendered and "Jean Untel" not in rendered and "wrong-pass" not in rendered


def test_a_refused_token_is_recorded_with_its_reason(client, db):
    client.get("/api/v1/auth/me", headers={"Authorization": "Bearer a.b.c"})
    entry = entries(db)[-1]
    assert (entry.outcome, entry.status_code, entry.reason) == ("denied", 401, "malformed")


def test_a_denied_request_is_recorded_in_its_own_transaction(client, login, db, demo):
    client.get("/api/v1/users", headers=login("demo-staff-b"))
    entry = entries(db)[-1]
    assert (entry.action, entry.outcome, entry.status_code) == ("list_users", "denied", 403)
    assert entry.actor_id == str(demo.users["demo-staff-b"])
    assert entry.actor_role == "school_staff"
    assert entry.org_ids == str(demo.school_b)


def test_a_list_records_the_ids_it_returned(client, login, db):
    page = client.get("/api/v1/boards", headers=login("demo-admin")).json()
    entry = entries(db)[-1]
    assert entry.returned_ids.split(",") == [item["id"] for item in page["items"]]


def test_a_write_records_the_resource_it_created(client, login, db):
    board = client.post("/api/v1/boards", json={"name": "CSS Audité"}, headers=login("demo-admin")).json()
    entry = entries(db)[-1]
    assert (entry.action, entry.resource_type, entry.resource_id) == ("create_board", "boards", board["id"])
    assert "CSS Audité" not in json.dumps(entry.model_dump())


def test_a_write_and_its_entry_commit_together_or_not_at_all(client, login, db, monkeypatch):
    headers = login("demo-admin")
    boards_before, entries_before = db.exec(select(func.count()).select_from(SchoolBoard)).one(), count(db)

    def broken_append(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(chain, "append_and_commit", broken_append)
    created = client.post("/api/v1/boards", json={"name": "CSS Perdu"}, headers=headers)
    assert created.status_code == 503
    assert created.json()["code"] == "service_unavailable"
    listed = client.get("/api/v1/boards", headers=headers)
    assert listed.status_code == 503
    assert "items" not in listed.json()
    db.expire_all()
    assert db.exec(select(func.count()).select_from(SchoolBoard)).one() == boards_before
    assert count(db) == entries_before


def test_the_entry_of_a_read_is_committed_before_the_response(client, login, db):
    before = count(db)
    response = client.get("/api/v1/auth/me", headers=login("demo-lead-a"))
    assert response.status_code == 200
    assert count(db) == before + 2  # the sign-in and the read, both already committed


# --- append-only ---------------------------------------------------------------


def test_the_application_cannot_change_or_remove_entries(client, login, settings):
    client.get("/api/v1/auth/me", headers=login("demo-lead-a"))
    assert client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor")).status_code == 201
    engine = create_engine(settings.effective_database_url)  # the service's own credentials
    statements = [
        "UPDATE audit_entry SET outcome = 'allowed'",
        "DELETE FROM audit_entry",
        "UPDATE audit_checkpoint SET signature = 'x'",
        "DELETE FROM audit_checkpoint",
    ]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_entry")
    for statement in statements:
        with engine.connect() as connection:
            with pytest.raises(Exception) as refused:
                connection.execute(text(statement))
            message = str(refused.value).lower()
            assert "append-only" in message or "permission denied" in message, message
    engine.dispose()


def test_the_triggers_refuse_even_the_owner(client, login, database_url):
    """Beyond grants: the table owner is refused too, unless it drops the triggers."""
    client.get("/api/v1/auth/me", headers=login("demo-lead-a"))
    engine = create_engine(database_url)
    for statement in ("UPDATE audit_entry SET outcome = 'allowed'", "DELETE FROM audit_entry"):
        with engine.connect() as connection, pytest.raises(Exception, match="append-only"):
            connection.execute(text(statement))
    engine.dispose()


# --- tamper evidence -------------------------------------------------------------


def _as_owner_bypassing_triggers(database_url: str, *statements: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER audit_entry_no_delete"))
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


@pytest.fixture
def busy_log(client, login):
    headers = login("demo-admin")
    for _ in range(6):
        client.get("/api/v1/boards", headers=headers)
    return headers


def _verify(client, login):
    response = client.get("/api/v1/audit/verify", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_an_untouched_log_verifies(client, login, busy_log):
    result = _verify(client, login)
    assert result["ok"] is True
    assert result["chains"][0]["entries"] >= 7


def test_an_edited_entry_is_named_by_verification(client, login, busy_log, database_url, db):
    target = entries(db)[4]
    _as_owner_bypassing_triggers(database_url, f"UPDATE audit_entry SET outcome = 'denied' WHERE id = {target.id}")
    result = _verify(client, login)
    assert result["ok"] is False
    assert result["chains"][0]["first_bad_seq"] == target.seq
    assert result["chains"][0]["first_bad_id"] == target.id
    assert "hash" in result["chains"][0]["problem"]


def test_a_deleted_entry_is_named_by_verification(client, login, busy_log, database_url, db):
    target = entries(db)[3]
    _as_owner_bypassing_triggers(database_url, f"DELETE FROM audit_entry WHERE id = {target.id}")
    result = _verify(client, login)
    assert result["ok"] is False
    assert result["chains"][0]["first_bad_seq"] == target.seq
    assert "missing" in result["chains"][0]["problem"]


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(client, login, busy_log, database_url, db):
    """Someone who edits an entry and recomputes every later hash still cannot
    forge the checkpoint's signature."""
    issued = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor")).json()
    signed_seq = issued[0]["seq"]
    rows = [e for e in entries(db) if e.seq >= signed_seq]
    statements = []
    prev_hash = next(e.entry_hash for e in entries(db) if e.seq == signed_seq - 1)
    for entry in rows:
        values = [getattr(entry, name) for name in chain.CANONICAL_FIELDS]
        if entry.seq == signed_seq:
            values[chain.CANONICAL_FIELDS.index("outcome")] = "error"
        digest = chain.chain_hash(prev_hash, chain.canonical(values))
        statements.append(
            f"UPDATE audit_entry SET outcome = '{values[chain.CANONICAL_FIELDS.index('outcome')]}', "
            f"prev_hash = '{prev_hash}', entry_hash = '{digest}' WHERE id = {entry.id}"
        )
        prev_hash = digest
    statements.append(f"UPDATE audit_chain_head SET entry_hash = '{prev_hash}'")
    _as_owner_bypassing_triggers(database_url, *statements)
    result = _verify(client, login)
    assert result["chains"][0]["ok"] is True  # the forged chain is self-consistent...
    assert result["ok"] is False  # ...but the signed checkpoint no longer matches it
    assert any("no longer holds" in problem for problem in result["checkpoint_problems"])


def test_the_cli_verifies_and_exits_non_zero_when_broken(client, login, busy_log, settings, database_url, db, var_dir):
    env = {**os.environ, "SEXTO_DATABASE_URL": settings.effective_database_url, "SEXTO_VAR_DIR": str(var_dir)}
    ok = subprocess.run([sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verified" in ok.stdout
    target = entries(db)[2]
    _as_owner_bypassing_triggers(database_url, f"UPDATE audit_entry SET action = 'nothing' WHERE id = {target.id}")
    broken = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert f"BROKEN at entry {target.seq}" in broken.stdout


# --- checkpoints ------------------------------------------------------------------


def test_checkpoints_are_signed_and_listed_with_the_public_key(client, login, busy_log):
    auditor = login("demo-auditor")
    issued = client.post("/api/v1/audit/checkpoints", headers=auditor)
    assert issued.status_code == 201
    assert client.post("/api/v1/audit/checkpoints", headers=auditor).status_code == 201
    listed = client.get("/api/v1/audit/checkpoints", headers=auditor).json()
    checkpoint = listed["items"][0]
    public_key = load_pem_public_key(listed["public_keys"][checkpoint["key_id"]].encode())
    public_key.verify(
        base64.b64decode(checkpoint["signature"]),
        signed_message(checkpoint["chain"], checkpoint["seq"], checkpoint["entry_hash"], checkpoint["issued_at"]),
    )


# --- reading the log ----------------------------------------------------------------


@pytest.mark.parametrize("username", ["demo-admin", "demo-lead-a", "demo-police-a", "demo-staff-a"])
def test_only_auditors_read_the_log(client, login, username):
    for path in ("/api/v1/audit/events", "/api/v1/audit/verify", "/api/v1/audit/checkpoints", "/api/v1/audit/export"):
        assert client.get(path, headers=login(username)).status_code == 403, path


def test_events_filter_paginate_and_reading_them_is_audited(client, login, db, demo):
    auditor = login("demo-auditor")
    client.get("/api/v1/users", headers=login("demo-staff-b"))
    denied = client.get("/api/v1/audit/events", params={"outcome": "denied"}, headers=auditor).json()
    assert denied["items"] and all(item["outcome"] == "denied" for item in denied["items"])
    mine = client.get(
        "/api/v1/audit/events", params={"actor_id": str(demo.users["demo-staff-b"])}, headers=auditor
    ).json()
    assert {item["action"] for item in mine["items"]} >= {"list_users"}
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/audit/events", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=auditor
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(set(seen))
    assert entries(db)[-1].action == "list_events"


def test_events_time_range(client, login):
    auditor = login("demo-auditor")
    assert (
        client.get("/api/v1/audit/events", params={"since": "2999-01-01T00:00:00Z"}, headers=auditor).json()["items"]
        == []
    )
    assert (
        client.get("/api/v1/audit/events", params={"until": "2000-01-01T00:00:00Z"}, headers=auditor).json()["items"]
        == []
    )
    assert client.get("/api/v1/audit/events", params={"since": "2000-01-01T00:00:00Z"}, headers=auditor).json()["items"]


def _auditor_of_board_a(client, login, demo) -> str:
    """A token of a new auditor of board A only (the demo auditor audits both)."""
    created = client.post(
        "/api/v1/users",
        json={
            "username": "auditrice-a",
            "full_name": "Auditrice A",
            "role": "auditor",
            "password": "une phrase assez longue",
            "scope": {"boards": [str(demo.board_a)]},
        },
        headers=login("demo-admin"),
    )
    assert created.status_code == 201
    return token_for(client, "auditrice-a", "une phrase assez longue")


def test_an_auditor_sees_only_the_organizations_it_audits(client, login, db, demo):
    client.get("/api/v1/users", headers=login("demo-staff-b"))
    user_b = db.get(type(db.exec(select(AuditEntry)).first()), 1)  # noqa: F841 (keeps the session fresh)
    token = _auditor_of_board_a(client, login, demo)
    items = client.get(
        "/api/v1/audit/events",
        params={"actor_id": str(demo.users["demo-staff-b"]), "limit": 100},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    assert [item for item in items if item["org_ids"]] == []


def test_a_sign_in_belongs_to_the_accounts_organizations(client, login, db, demo):
    token_for(client, "demo-staff-b")
    client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "demo-staff-b", "password": "wrong-pass"}
    )
    client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "personne.inconnue", "password": "x"})
    success, failure, unknown = entries(db)[-3:]
    assert success.org_ids == failure.org_ids == str(demo.school_b)
    assert unknown.org_ids is None  # no account: the platform's
    token = _auditor_of_board_a(client, login, demo)
    query = {"actor_id": str(demo.users["demo-staff-b"]), "limit": 100}
    seen_by_a = client.get("/api/v1/audit/events", params=query, headers={"Authorization": f"Bearer {token}"})
    assert seen_by_a.json()["items"] == []
    seen_by_both = client.get("/api/v1/audit/events", params=query, headers=login("demo-auditor")).json()["items"]
    assert {item["action"] for item in seen_by_both} == {"issue_token"}
    assert {item["outcome"] for item in seen_by_both} == {"allowed", "refused"}


def _platform_entries(client, login) -> None:
    """Entries that concern no organization: a sign-in of a name that matches
    no account, a request without a token, an admin's action."""
    client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "personne.inconnue", "password": "x"})
    client.get("/api/v1/users")
    client.get("/api/v1/users", headers=login("demo-admin"))


def _platform_ids(client, headers) -> set[int]:
    """The ids of the platform's entries a reader sees, in its events and its export."""
    events = client.get("/api/v1/audit/events", params={"limit": 100}, headers=headers)
    assert events.status_code == 200, events.text
    exported = client.get("/api/v1/audit/export", headers=headers)
    assert exported.status_code == 200, exported.text
    lines = [json.loads(line) for line in exported.text.splitlines()]
    from_events = {item["id"] for item in events.json()["items"] if not item["org_ids"]}
    from_export = {item["id"] for item in lines if not item["org_ids"]}
    assert from_events <= from_export  # the export sees the events read too
    return from_export


def test_only_an_auditor_of_the_platform_reads_the_entries_of_no_organization(client, login, db, demo):
    token = _auditor_of_board_a(client, login, demo)
    _platform_entries(client, login)
    platform = {entry.id for entry in entries(db) if entry.org_ids is None}
    assert {entry.action for entry in entries(db) if entry.id in platform} >= {"issue_token", "list_users"}
    # An auditor of a board reads no entry of the platform's: not the admin's,
    # not a sign-in of an unknown name, not a request without a token.
    assert _platform_ids(client, {"Authorization": f"Bearer {token}"}) == set()
    admin_id = str(demo.users["demo-admin"])
    by_admin = client.get(
        "/api/v1/audit/events", params={"actor_id": admin_id}, headers={"Authorization": f"Bearer {token}"}
    )
    assert by_admin.json()["items"] == []
    # An auditor whose scope holds the platform reads them (the demo auditor does).
    assert _platform_ids(client, login("demo-auditor")) >= platform


def test_the_admin_grants_the_platform_audit_scope_and_it_is_audited(client, login, db, demo):
    token = _auditor_of_board_a(client, login, demo)
    auditor_id = str(db.exec(select(User.id).where(User.username == "auditrice-a")).one())
    _platform_entries(client, login)
    assert _platform_ids(client, {"Authorization": f"Bearer {token}"}) == set()
    granted = client.patch(
        f"/api/v1/users/{auditor_id}",
        json={"scope": {"boards": [str(demo.board_a)], "platform": True}},
        headers=login("demo-admin"),
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"]["platform"] is True
    assert [board["id"] for board in granted.json()["scope"]["boards"]] == [str(demo.board_a)]
    grant = entries(db)[-1]
    assert (grant.action, grant.outcome, grant.actor_id, grant.resource_id) == (
        "update_user",
        "allowed",
        str(demo.users["demo-admin"]),
        auditor_id,
    )
    assert grant.org_ids is None  # the admin's action: the platform's own entry
    # At once (the scope is read on every request), the same token reads the
    # platform's entries, the grant among them.
    seen = _platform_ids(client, {"Authorization": f"Bearer {token}"})
    assert grant.id in seen
    assert seen >= {entry.id for entry in entries(db) if entry.org_ids is None and entry.id < grant.id}
    # The platform alone is a scope; taking it back hides them again.
    only = client.patch(f"/api/v1/users/{auditor_id}", json={"scope": {"platform": True}}, headers=login("demo-admin"))
    assert only.status_code == 200 and only.json()["scope"]["boards"] == []
    assert _platform_ids(client, {"Authorization": f"Bearer {token}"})
    back = client.patch(
        f"/api/v1/users/{auditor_id}", json={"scope": {"boards": [str(demo.board_a)]}}, headers=login("demo-admin")
    )
    assert back.json()["scope"]["platform"] is False
    assert _platform_ids(client, {"Authorization": f"Bearer {token}"}) == set()


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("school_lead", {"boards": ["BOARD_A"], "platform": True}),
        ("privacy_officer", {"boards": ["BOARD_A"], "platform": True}),
        ("police_liaison", {"police_forces": ["FORCE_A"], "platform": True}),
        ("admin", {"platform": True}),
    ],
)
def test_only_an_auditor_may_hold_the_platform(client, login, demo, role, scope):
    ids = {"BOARD_A": str(demo.board_a), "FORCE_A": str(demo.force_a)}
    scope = {kind: [ids[v] for v in value] if isinstance(value, list) else value for kind, value in scope.items()}
    refused = client.post(
        "/api/v1/users",
        json={
            "username": f"plateforme-{role}".replace("_", "-"),
            "full_name": "Personne Plateforme",
            "role": role,
            "password": "une phrase assez longue",
            "scope": scope,
        },
        headers=login("demo-admin"),
    )
    body = refused.json()
    assert refused.status_code == 422 and body["code"] == "scope_invalid_for_role", body


def test_export_is_json_lines(client, login, busy_log):
    response = client.get("/api/v1/audit/export", params={"limit": 3}, headers=login("demo-auditor"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = response.text.strip().split("\n")
    assert len(lines) == 3
    assert all("entry_hash" in json.loads(line) for line in lines)
    assert response.headers["x-next-cursor"]


# Characters that would break an entry over several lines, or show it
# otherwise than it reads (#13 item 7): NEL, LINE and PARAGRAPH SEPARATOR,
# right-to-left override, zero width space, byte order mark, soft hyphen, a C1
# control, a tag character.
UNSEEN = "\x85\u2028\u2029\u202e\u200b\ufeff\xad\x9b\U000e0041"


def test_no_control_or_format_character_is_stored_and_an_export_is_one_line_per_entry(client, login, db):
    auditor = login("demo-auditor")
    before = client.get("/api/v1/audit/events", params={"limit": 1}, headers=auditor).json()["items"][0]["id"]
    # In the user agent (read as Latin-1: its C1 controls and soft hyphen), in
    # path ids (read as UTF-8), on routed requests and on one refused before routing.
    agent = {"User-Agent": "Agent\x85x\x9by\xadz".encode("latin-1")}
    probe = "P" + UNSEEN
    requests = [
        client.get(f"/api/v1/cases/{probe}/participants", headers={**login("demo-lead-a"), **agent}),
        client.get(f"/api/v1/devices/{probe}/custody-events", headers={**login("demo-lead-a"), **agent}),
        client.get(f"/api/v1/cases/{probe}", headers=agent),
        client.post("/api/v1/boards", content=b"x", headers={**agent, "Content-Type": "image/jpeg"}),
    ]
    assert [r.status_code for r in requests] == [422, 422, 401, 415]
    entries = db.exec(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert len(entries) >= len(requests)
    for entry in entries:
        for name in chain.DRAFT_FIELDS:
            value = getattr(entry, name)
            assert not (isinstance(value, str) and set(value) & set(UNSEEN)), (name, value)
    agents = {
        entry.user_agent for entry in entries if entry.request_id in {r.headers["x-request-id"] for r in requests}
    }
    assert len(agents) == 1 and agents.pop().replace("\xc2", "") == "Agentxyz"  # the client sends UTF-8
    assert {entry.resource_id for entry in entries} >= {"P"}
    export = client.get("/api/v1/audit/export", params={"cursor": str(before)}, headers=auditor)
    assert export.status_code == 200
    lines = export.text.splitlines()
    assert len(lines) == len(entries) and [json.loads(line)["id"] for line in lines] == [e.id for e in entries]
    assert client.get("/api/v1/audit/verify", headers=auditor).json()["ok"]


def _append_unclean_entries(database_url: str) -> list[str]:
    """Entries as one written before the fields were cleaned may hold:
    appended straight to the chain (not through the recorder), with hashes
    over their text as stored.  Returns the user agents stored."""
    engine = create_engine(database_url)
    heads, table = AuditChainHead.__table__, AuditEntry.__table__
    agents = [f"Agent{character}old" for character in UNSEEN] + [
        "Agent\r\nold\x0b\x0c\x1c\x1d\x1e",
        "Agent\tx\x08y\\n\\\\z",
    ]
    with engine.begin() as connection:
        seq, prev = connection.execute(select(heads.c.seq, heads.c.entry_hash).where(heads.c.chain == "platform")).one()
        rows = []
        for agent in agents:
            seq += 1
            fields = dict.fromkeys(chain.CANONICAL_FIELDS)
            fields.update(
                chain="platform",
                seq=seq,
                recorded_at="2026-11-25T10:00:00.000000Z",
                salt=secrets.token_hex(16),
                actor_kind="anonymous",
                client_address="127.0.0.1",
                user_agent=agent,
                request_id=uuid.uuid4().hex,
                action="read_case",
                resource_type="cases",
                resource_id="P" + UNSEEN,
                outcome="denied",
                status_code=401,
                reason="missing_token\u2028\x85",
            )
            digest = chain.chain_hash(prev, chain.canonical([fields[name] for name in chain.CANONICAL_FIELDS]))
            rows.append({**fields, "form": chain.FORM, "prev_hash": prev, "entry_hash": digest})
            prev = digest
        connection.execute(insert(table), rows)
        connection.execute(update(heads).where(heads.c.chain == "platform").values(seq=seq, entry_hash=prev))
    engine.dispose()
    return agents


def test_an_entry_stored_before_cleaning_is_still_one_line_of_the_export(
    client, login, db, database_url, settings, var_dir
):
    auditor = login("demo-auditor")
    before = entries(db)[-1].id
    agents = _append_unclean_entries(database_url)
    stored = [entry for entry in entries(db) if entry.id > before]
    assert [entry.user_agent for entry in stored] == agents  # stored as they were, unclean
    env = {**os.environ, "SEXTO_DATABASE_URL": settings.effective_database_url, "SEXTO_VAR_DIR": str(var_dir)}
    written = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "export", "--after", str(before)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    exported = client.get("/api/v1/audit/export", params={"cursor": str(before)}, headers=auditor)
    assert exported.status_code == 200
    for jsonl in (written.stdout, exported.text):
        # One line per entry for any reader's idea of a line, and each line
        # reads back as the very text stored.
        lines = jsonl.splitlines()
        assert len(lines) == len(stored) == len(jsonl.split("\n")) - 1 == len(agents), lines
        assert all(line.isascii() for line in lines)
        read = [json.loads(line) for line in lines]
        assert [item["user_agent"] for item in read] == agents
        assert {item["resource_id"] for item in read} == {"P" + UNSEEN}
    # The chain is over the stored text, not the escaped one.
    report = _verify(client, login)
    assert report["ok"] is True, report


@pytest.mark.parametrize("character", UNSEEN)
def test_clean_removes_control_and_format_characters_and_separators(character):
    assert chain.clean(f"a{character}b\x00\x1fc", 64) == "abc"
    assert chain.clean(character, 64) is None
    assert chain.clean("école\u00a0Saint-Jean", 64) == "école\u00a0Saint-Jean"  # a no-break space is seen


# --- several server processes at once ---------------------------------------------


def test_two_worker_processes_keep_one_correct_chain(settings, database_url, var_dir, db):
    """Two uvicorn workers under concurrent load: every request an entry, one chain, verified."""
    env = service_env(settings, var_dir)
    with running_service(env, workers=2) as base:
        before = count(db)
        with httpx.Client(base_url=base) as http:
            token = http.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "demo-admin", "password": DEMO_PASSWORD},
            ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def burst(worker: int) -> list[int]:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                return [http.get("/api/v1/boards", params={"limit": 1}).status_code for _ in range(40)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [status for result in pool.map(burst, range(8)) for status in result]
        assert statuses.count(200) == 320
        assert count(db) == before + 1 + 320
    engine = create_engine(database_url)
    with engine.connect() as connection:
        report = chain.verify(connection)
    engine.dispose()
    assert report.ok, [vars(c) for c in report.chains]


def test_stored_hashes_follow_the_documented_canonical_form(client, login, db):
    """Whoever computed the hash (PostgreSQL or Python), a third party
    re-implementing the documented form gets the same bytes."""
    client.get(
        "/api/v1/auth/me",
        headers={**login("demo-lead-a"), "User-Agent": "Agent \\ backslash é ü 漢 ␟".encode()},
    )
    rows = entries(db)
    assert "\\ backslash" in rows[-1].user_agent
    for entry in rows:
        values = [getattr(entry, name) for name in chain.FIELDS[entry.form]]
        assert chain.chain_hash(entry.prev_hash, chain.canonical(values, entry.form)) == entry.entry_hash
    assert _verify(client, login)["ok"] is True


def test_a_cursor_of_non_ascii_digits_is_refused(client, login, demo):
    case = Desk(client, login, demo).open_case()
    paths = ("/api/v1/audit/events", "/api/v1/audit/export", "/api/v1/audit/checkpoints")
    for path in (*paths, f"/api/v1/cases/{case['id']}/access-log"):
        # Superscript two, Arabic-Indic three, fullwidth seven: digits to Python, not cursors.
        for cursor in ("²", "\u0663", "\uff17", "1" * 19, "x"):
            response = client.get(path, params={"cursor": cursor}, headers=login("demo-auditor"))
            assert response.status_code == 422 and response.json()["code"] == "invalid_cursor", (path, cursor)


def test_a_refusal_before_routing_is_audited(client, login, db):
    response = client.post(
        "/api/v1/boards", content=b"\xff\xd8\xff", headers={**login("demo-admin"), "Content-Type": "image/jpeg"}
    )
    assert response.status_code == 415
    entry = last_entry(db)
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
            digest = chain.chain_hash(prev, chain.canonical(values, 1))
            rows.append({**dict(zip(chain.FIELDS[1], values, strict=True)), "prev_hash": prev, "entry_hash": digest})
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
