"""Browser sessions (``app.auth.sessions``): the web app's sign-in behind an
``HttpOnly`` cookie, its CSRF defence, its idle and absolute ends, the
person's list of sessions, sign-out and revocation, and the password changes
that end the other sessions."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, update
from sqlmodel import Session, col, select

from app.audit.models import AuditEntry
from app.auth.models import BrowserSession
from app.auth.principal import load_session_principal
from app.auth.sessions import session_digest
from app.crypto import _development_keys
from app.db import create_db_engine, utcnow
from app.main import create_app
from app.security import TokenError
from tests.conftest import DEMO_PASSWORD, make_settings, run_maintenance_purge, token_for

API = "/api/v1"
SESSIONS = f"{API}/auth/sessions"
ME = f"{API}/auth/me"
SIGN_OUT = f"{API}/auth/sign-out"
COOKIE = "sexto_session"  # development's name (no Secure over plain http)


class Browser:
    """One browser's session: its cookie and CSRF token, sent explicitly
    (the test client's own cookie jar is emptied after each sign-in)."""

    def __init__(self, client: TestClient, username: str, password: str = DEMO_PASSWORD, **extra) -> None:
        response = client.post(SESSIONS, json={"username": username, "password": password}, **extra)
        assert response.status_code == 201, response.text
        self.client = client
        self.answer = response.json()
        self.id = self.answer["id"]
        self.secret = response.cookies[COOKIE]
        self.set_cookie = response.headers["set-cookie"]
        client.cookies.clear()

    def headers(self, csrf: bool = True, **more: str) -> dict[str, str]:
        headers = {"Cookie": f"{COOKIE}={self.secret}", **more}
        if csrf:
            headers["X-CSRF-Token"] = self.answer["csrf_token"]
        return headers

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers(), **kwargs)

    def request(self, method: str, path: str, *, csrf: bool = True, extra: dict | None = None, **kwargs):
        response = self.client.request(method, path, headers=self.headers(csrf, **(extra or {})), **kwargs)
        self.client.cookies.clear()
        return response

    def follow(self, response) -> None:
        """Keep the cookie an answer renewed, as a browser does, and read
        the CSRF token again, as the web app does."""
        self.secret = response.cookies[COOKIE]
        current = self.get(f"{SESSIONS}/current")
        assert current.status_code == 200, current.text
        self.answer = {**self.answer, "csrf_token": current.json()["csrf_token"]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def last_entry(db) -> AuditEntry:
    db.expire_all()
    return db.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()


def refused_because(browser: Browser, db) -> str:
    response = browser.get(ME)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.status_code) == ("me", "denied", 401)
    return entry.reason


# --- sign-in ------------------------------------------------------------------------------------------


def test_a_sign_in_sets_an_httponly_strict_cookie_and_keeps_only_its_digest(client, db, demo):
    browser = Browser(client, "demo-staff-a")
    cookie = browser.set_cookie.lower()
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("httponly", "samesite=strict", "path=/"):
        assert attribute in cookie
    # A session cookie: the browser forgets it when it closes.
    assert "max-age" not in cookie and "expires" not in cookie
    assert "secure" not in cookie  # development over plain http
    assert len(browser.secret) >= 43  # 32 random bytes
    row = db.exec(select(BrowserSession).where(BrowserSession.id == uuid.UUID(browser.id))).one()
    assert row.digest == session_digest(browser.secret) != browser.secret
    assert row.user_id == demo.users["demo-staff-a"]
    assert (row.expires_at - row.created_at) == timedelta(hours=12)
    assert browser.answer["idle_timeout_seconds"] == 1800
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.status_code) == ("open_session", "allowed", 201)
    assert (entry.resource_type, entry.resource_id) == ("sessions", browser.id)
    assert entry.actor_id == str(demo.users["demo-staff-a"])
    written = " ".join(str(value) for value in entry.model_dump().values())
    for secret in (browser.secret, browser.answer["csrf_token"], DEMO_PASSWORD, "demo-staff-a"):
        assert secret not in written


def test_in_production_the_cookie_is_secure_with_the_host_prefix(settings, var_dir):
    secure = make_settings(settings.effective_database_url, var_dir, session_cookie_secure=True)
    with TestClient(create_app(secure), base_url="https://testserver") as client:
        response = client.post(SESSIONS, json={"username": "demo-lead-a", "password": DEMO_PASSWORD})
        assert response.status_code == 201, response.text
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-sexto_session=")
        assert "; secure" in cookie.lower() and "domain" not in cookie.lower()
        secret = response.cookies["__Host-sexto_session"]
        client.cookies.clear()
        assert client.get(ME, headers={"Cookie": f"__Host-sexto_session={secret}"}).status_code == 200
        # The development name is not read.
        assert client.get(ME, headers={"Cookie": f"{COOKIE}={secret}"}).status_code == 401


def test_the_session_and_the_token_are_the_same_principal(client, demo):
    browser = Browser(client, "demo-police-a")
    by_cookie = browser.get(ME)
    assert by_cookie.status_code == 200, by_cookie.text
    assert by_cookie.json() == client.get(ME, headers=bearer(token_for(client, "demo-police-a"))).json()


def test_a_wrong_password_is_refused_and_counted_with_the_token_routes(client, db, settings):
    for _ in range(settings.login_max_failures):
        refused = client.post(SESSIONS, json={"username": "demo-staff-a", "password": "pas le bon"})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_grant"
        assert "set-cookie" not in refused.headers
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.status_code) == ("open_session", "refused", 400)
    # One count per account name, whichever way in: the token route is locked too.
    form = {"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD}
    assert client.post(f"{API}/auth/token", data=form).status_code == 429
    assert client.post(SESSIONS, json={"username": "demo-staff-a", "password": DEMO_PASSWORD}).status_code == 429


def test_the_sign_in_is_json_only_and_refuses_another_sites_origin(client, db):
    form = {"username": "demo-staff-a", "password": DEMO_PASSWORD}
    assert client.post(SESSIONS, data=form).status_code in (415, 422)
    refused = client.post(SESSIONS, json=form, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_refused"
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.reason) == ("open_session", "denied", "csrf_origin")
    assert client.post(SESSIONS, json=form, headers={"Origin": "http://testserver"}).status_code == 201


def test_the_sign_in_takes_a_one_time_code_field(client):
    body = {"username": "demo-staff-a", "password": DEMO_PASSWORD, "otp": "123456"}
    assert client.post(SESSIONS, json=body).status_code == 201
    refused = client.post(SESSIONS, json={**body, "role": "admin"})
    assert refused.status_code == 422


# --- CSRF ---------------------------------------------------------------------------------------------


def test_a_write_with_the_cookie_needs_the_csrf_token(client, db):
    browser = Browser(client, "demo-lead-a")
    body = {"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}
    for headers, reason in (
        ({}, "csrf_token_missing"),
        ({"X-CSRF-Token": "0" * 64}, "csrf_token_wrong"),
        ({"X-CSRF-Token": browser.answer["csrf_token"], "Origin": "https://evil.example"}, "csrf_origin"),
        ({"X-CSRF-Token": browser.answer["csrf_token"], "Origin": "null"}, "csrf_origin"),
    ):
        response = browser.request("POST", SIGN_OUT, csrf=False, extra=headers)
        assert response.status_code == 403, (headers, response.text)
        assert response.json()["code"] == "csrf_refused"
        entry = last_entry(db)
        assert (entry.action, entry.outcome, entry.status_code, entry.reason) == ("sign_out", "denied", 403, reason)
        assert entry.actor_kind == "user"  # the session's person, refused
    # Reads need no token; the session was not ended by the refused writes.
    assert client.get(ME, headers=browser.headers(csrf=False)).status_code == 200
    # With it (and the service's own origin), the write goes through.
    password = browser.request("POST", f"{API}/auth/password", json=body, extra={"Origin": "http://testserver"})
    assert password.status_code == 422 and password.json()["errors"][0]["code"] == "password_unchanged"
    assert browser.request("POST", SIGN_OUT).status_code == 204


def test_a_data_key_made_current_keeps_the_csrf_tokens_given_before(client, settings, var_dir):
    """The instances restart one by one when a data key is made current
    (operations.md): a token given under the other current key is taken as
    long as that key is configured, whichever instance answers."""
    browser = Browser(client, "demo-lead-a")
    old_keys, old_current = _development_keys(var_dir / "data-keys.json")
    keys = {**old_keys, "k2": secrets.token_bytes(32)}
    encoded = json.dumps({key_id: base64.b64encode(key).decode() for key_id, key in keys.items()})
    for current in ("k2", old_current):
        rotated = make_settings(settings.effective_database_url, var_dir, data_keys=encoded, data_key_current=current)
        with TestClient(create_app(rotated)) as instance:
            browser.client = instance
            assert browser.request("DELETE", SESSIONS).status_code == 204  # a write
            refused = browser.request("DELETE", SESSIONS, csrf=False, extra={"X-CSRF-Token": "0" * 64})
            assert refused.status_code == 403
    # A token made under a key no longer configured is refused.
    only_new = json.dumps({"k2": base64.b64encode(keys["k2"]).decode()})
    with TestClient(create_app(make_settings(settings.effective_database_url, var_dir, data_keys=only_new))) as new:
        browser.client = new
        assert browser.request("DELETE", SESSIONS).status_code == 403


def test_a_bearer_write_needs_no_csrf_token(client, login, demo):
    response = client.post(SIGN_OUT, headers={**login("demo-lead-a"), "Origin": "https://elsewhere.example"})
    assert response.status_code == 204


def test_the_current_session_gives_its_csrf_token_again(client, login):
    browser = Browser(client, "demo-privacy-a")
    current = browser.get(f"{SESSIONS}/current")
    assert current.status_code == 200, current.text
    body = current.json()
    assert body["id"] == browser.id and body["current"] is True
    assert body["csrf_token"] == browser.answer["csrf_token"]
    assert body["idle_expires_at"] > body["last_seen_at"]
    other = Browser(client, "demo-privacy-a")
    assert other.answer["csrf_token"] != browser.answer["csrf_token"]
    refused = client.get(f"{SESSIONS}/current", headers=login("demo-privacy-a"))
    assert refused.status_code == 404 and refused.json()["code"] == "no_current_session"


# --- the ends of a session ----------------------------------------------------------------------------


def _age(db, browser: Browser, **moments) -> None:
    db.exec(update(BrowserSession).where(col(BrowserSession.id) == uuid.UUID(browser.id)).values(**moments))
    db.commit()


def test_an_idle_session_ends(client, db, settings):
    browser = Browser(client, "demo-staff-a")
    idle = timedelta(seconds=settings.session_idle_timeout_seconds)
    _age(db, browser, last_seen_at=utcnow() - idle + timedelta(seconds=30))
    assert browser.get(ME).status_code == 200  # and seen again now
    _age(db, browser, last_seen_at=utcnow() - idle - timedelta(seconds=1))
    assert refused_because(browser, db) == "session_idle"


def test_a_session_ends_at_its_absolute_end_however_active(client, db):
    browser = Browser(client, "demo-staff-a")
    _age(db, browser, expires_at=utcnow() - timedelta(seconds=1))
    assert refused_because(browser, db) == "session_expired"


def test_activity_is_written_at_most_once_a_minute(client, db):
    browser = Browser(client, "demo-staff-a")

    def last_seen():
        db.expire_all()
        return db.get(BrowserSession, uuid.UUID(browser.id)).last_seen_at

    opened = last_seen()
    assert browser.get(ME).status_code == 200
    assert last_seen() == opened
    _age(db, browser, last_seen_at=opened - timedelta(seconds=61))
    assert browser.get(ME).status_code == 200
    assert last_seen() > opened


def test_an_active_session_outlives_the_shortest_idle_timeout(settings, var_dir, db):
    """The last request is written at most once a minute, but never so
    seldom that an active person's session ends: at the shortest idle timeout
    (60 seconds), once a minute, it would end 60 seconds after the sign-in
    however active the person."""
    short = make_settings(settings.effective_database_url, var_dir, session_idle_timeout_seconds=60)
    with TestClient(create_app(short)) as client:
        browser = Browser(client, "demo-staff-a")
        _age(db, browser, last_seen_at=utcnow() - timedelta(seconds=45))
        assert browser.get(ME).status_code == 200
        db.expire_all()
        seen = db.get(BrowserSession, uuid.UUID(browser.id)).last_seen_at
        # The person was active just now: their session lasts the most of a minute more.
        assert seen >= utcnow() - timedelta(seconds=15)


def test_an_unknown_cookie_is_refused(client, db):
    response = client.get(ME, headers={"Cookie": f"{COOKIE}=made-up"})
    assert response.status_code == 401
    assert last_entry(db).reason == "session_unknown"


def test_the_maintenance_purges_the_sessions_that_are_over(client, login, db, settings, demo):
    live, idle, old = (Browser(client, "demo-staff-a") for _ in range(3))
    _age(db, idle, last_seen_at=utcnow() - timedelta(hours=1))
    _age(db, old, expires_at=utcnow() - timedelta(seconds=1))
    revoked = Browser(client, "demo-auditor")
    revoke = f"{API}/users/{demo.users['demo-auditor']}/revoke-tokens"
    assert client.post(revoke, headers=login("demo-admin")).status_code == 204
    run_maintenance_purge(settings)
    db.expire_all()
    left = {str(row.id) for row in db.exec(select(BrowserSession)).all()}
    assert live.id in left
    assert not {idle.id, old.id, revoked.id} & left


# --- the person's sessions ----------------------------------------------------------------------------


def test_a_person_lists_and_ends_their_sessions(client, db, login, demo):
    here, there, elsewhere = (Browser(client, "demo-lead-a") for _ in range(3))
    Browser(client, "demo-staff-a")  # someone else's
    listed = here.get(SESSIONS)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [here.id, there.id, elsewhere.id]
    assert [item["current"] for item in items] == [True, False, False]
    entry = last_entry(db)
    assert entry.action == "list_sessions" and entry.returned_ids == ",".join([here.id, there.id, elsewhere.id])
    # End one: refused from the next request on, audited.
    assert here.request("DELETE", f"{SESSIONS}/{there.id}").status_code == 204
    entry = last_entry(db)
    assert (entry.action, entry.resource_type, entry.resource_id) == ("end_session", "sessions", there.id)
    assert refused_because(there, db) == "session_unknown"
    # Another person's, or one that does not exist: the same 404.
    theirs = Browser(client, "demo-staff-a")
    assert here.request("DELETE", f"{SESSIONS}/{theirs.id}").status_code == 404
    assert here.request("DELETE", f"{SESSIONS}/{uuid.uuid4()}").status_code == 404
    assert theirs.get(ME).status_code == 200
    # End all the others: the current one stays.
    assert here.request("DELETE", SESSIONS).status_code == 204
    assert last_entry(db).returned_ids == elsewhere.id
    assert refused_because(elsewhere, db) == "session_unknown"
    assert [item["id"] for item in here.get(SESSIONS).json()["items"]] == [here.id]
    # Ending the current one clears its cookie.
    ended = here.request("DELETE", f"{SESSIONS}/{here.id}")
    assert ended.status_code == 204
    assert f'{COOKIE}=""' in ended.headers["set-cookie"] and "max-age=0" in ended.headers["set-cookie"].lower()


def test_with_a_bearer_token_every_session_ends_and_the_token_lives(client, login, db):
    browser = Browser(client, "demo-lead-a")
    headers = login("demo-lead-a")
    assert [item["current"] for item in client.get(SESSIONS, headers=headers).json()["items"]] == [False]
    assert client.delete(SESSIONS, headers=headers).status_code == 204
    assert refused_because(browser, db) == "session_unknown"
    assert client.get(ME, headers=headers).status_code == 200


def test_signing_out_ends_the_session_and_clears_the_cookie(client, db):
    leaving, staying = Browser(client, "demo-staff-a"), Browser(client, "demo-staff-a")
    response = leaving.request("POST", SIGN_OUT)
    assert response.status_code == 204
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    entry = last_entry(db)
    assert (entry.action, entry.outcome) == ("sign_out", "allowed")
    assert refused_because(leaving, db) == "session_unknown"
    assert staying.get(ME).status_code == 200


# --- the admin, a disable ------------------------------------------------------------------------------


def test_the_admin_ends_every_session_of_a_person(client, login, db, demo):
    browsers = [Browser(client, "demo-staff-a") for _ in range(2)]
    user_id = demo.users["demo-staff-a"]
    assert client.post(f"{API}/users/{user_id}/revoke-tokens", headers=login("demo-admin")).status_code == 204
    for browser in browsers:
        assert refused_because(browser, db) == "account_unusable"
    assert Browser(client, "demo-staff-a").get(ME).status_code == 200


def test_a_disabled_account_loses_its_sessions_at_once(client, login, db, demo):
    browser = Browser(client, "demo-police-a")
    user = f"{API}/users/{demo.users['demo-police-a']}"
    assert client.patch(user, json={"is_active": False}, headers=login("demo-admin")).status_code == 200
    assert refused_because(browser, db) == "account_unusable"
    assert client.patch(user, json={"is_active": True}, headers=login("demo-admin")).status_code == 200
    assert refused_because(browser, db) == "account_unusable"  # for good


# --- passwords --------------------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions_and_tokens_but_not_this_one(client, db):
    here, there = Browser(client, "demo-dpj-a"), Browser(client, "demo-dpj-a")
    token = token_for(client, "demo-dpj-a")
    new = "une toute nouvelle phrase de passe"
    changed = here.request(
        "POST", f"{API}/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": new}
    )
    assert changed.status_code == 204, changed.text
    here.follow(changed)  # under a new cookie
    assert here.get(ME).status_code == 200
    assert refused_because(there, db) == "session_unknown"
    assert client.get(ME, headers=bearer(token)).status_code == 401
    assert [item["id"] for item in here.get(SESSIONS).json()["items"]] == [here.id]
    assert Browser(client, "demo-dpj-a", new).get(ME).status_code == 200


def test_a_password_change_gives_its_session_a_new_cookie(client, db):
    """Whoever holds a copy of the cookie (the reason one changes a password)
    is signed out too: the session goes on under a new cookie, and a new
    CSRF token."""
    browser = Browser(client, "demo-dpj-a")
    body = {"current_password": DEMO_PASSWORD, "new_password": "une toute nouvelle phrase de passe"}
    changed = browser.request("POST", f"{API}/auth/password", json=body)
    assert changed.status_code == 204, changed.text
    client.cookies.clear()
    renewed = changed.cookies[COOKIE]
    assert renewed != browser.secret
    assert "httponly" in changed.headers["set-cookie"].lower()
    assert refused_because(browser, db) == "session_unknown"
    current = client.get(f"{SESSIONS}/current", headers={"Cookie": f"{COOKIE}={renewed}"})
    assert current.status_code == 200, current.text
    assert current.json()["id"] == browser.id and current.json()["csrf_token"] != browser.answer["csrf_token"]


def test_a_password_change_with_a_token_ends_every_session_and_token(client, db):
    browser = Browser(client, "demo-dpj-a")
    token = token_for(client, "demo-dpj-a")
    body = {"current_password": DEMO_PASSWORD, "new_password": "une toute nouvelle phrase de passe"}
    assert client.post(f"{API}/auth/password", json=body, headers=bearer(token)).status_code == 204
    assert client.get(ME, headers=bearer(token)).status_code == 401
    assert refused_because(browser, db) == "session_unknown"


@pytest.mark.parametrize("username", ["demo-auditor", "demo-lead-a"])
def test_the_admins_reset_is_a_temporary_password_and_ends_everything(client, login, db, demo, username):
    browser = Browser(client, username)
    token = token_for(client, username)
    temporary = "le mot de passe temporaire de l'admin"
    user = f"{API}/users/{demo.users[username]}"
    assert client.patch(user, json={"password": temporary}, headers=login("demo-admin")).status_code == 200
    assert refused_because(browser, db) == "account_unusable"
    assert client.get(ME, headers=bearer(token)).status_code == 401
    # The temporary password signs in, with no reach until it is changed.
    fresh = Browser(client, username, temporary)
    me = fresh.get(ME).json()
    assert me["must_change_password"] is True
    if username == "demo-auditor":
        refused = fresh.get(f"{API}/audit/verify")
        assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    new = "ma propre phrase de passe, enfin"
    changed = fresh.request("POST", f"{API}/auth/password", json={"current_password": temporary, "new_password": new})
    assert changed.status_code == 204, changed.text
    fresh.follow(changed)  # under a new cookie
    assert fresh.get(ME).json()["must_change_password"] is False
    if username == "demo-auditor":
        assert fresh.get(f"{API}/audit/verify").status_code == 200


# --- one statement on the read path -------------------------------------------------------------------


def test_a_session_is_resolved_in_one_statement(client, db, settings, demo):
    browser = Browser(client, "demo-privacy-a")
    by_token = client.get(ME, headers=bearer(token_for(client, "demo-privacy-a"))).json()
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    def resolve(secret: str, now=None):
        statements.clear()
        with Session(engine) as session:
            event.listen(Engine, "before_cursor_execute", count)
            try:
                return load_session_principal(session, secret=secret, settings=settings, now=now or utcnow())
            finally:
                event.remove(Engine, "before_cursor_execute", count)

    try:
        found = resolve(browser.secret)
        assert len(statements) == 1, statements
        assert str(found.principal.session_id) == browser.id
        assert found.principal.role.value == by_token["role"] == "privacy_officer"
        assert sorted(map(str, found.principal.scope.board_ids)) == [b["id"] for b in by_token["scope"]["boards"]]
        for secret, now, reason in (
            ("made-up", None, "session_unknown"),
            (browser.secret, utcnow() + timedelta(hours=1), "session_idle"),
            (browser.secret, utcnow() + timedelta(hours=13), "session_expired"),
        ):
            with pytest.raises(TokenError) as refused:
                resolve(secret, now)
            assert refused.value.reason == reason
            assert len(statements) == 1, statements
    finally:
        engine.dispose()
