"""Sign-out and revocation (``app.auth.revocation``): a signed-out token is
refused from the next request on, an admin ends every token of an account,
a disable ends them for good, and the check costs the read path no extra
statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app.accounts.models import ServiceAccount, User
from app.accounts.scopes import load_grants, resolve_scope
from app.audit.models import AuditEntry
from app.auth.models import RevokedToken
from app.auth.principal import load_principal
from app.auth.revocation import credential_digest, revoke
from app.db import create_db_engine
from app.main import create_app
from app.security import LEEWAY_SECONDS, TokenError
from tests.conftest import approved_service_account, run_maintenance_purge, token_for

API = "/api/v1"
ME = f"{API}/auth/me"
SIGN_OUT = f"{API}/auth/sign-out"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def last_entry(db) -> AuditEntry:
    db.expire_all()
    return db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def refused_because(client, db, token: str) -> str:
    """The request is refused as an invalid token; the reason its audit entry gives."""
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.status_code) == ("me", "denied", 401)
    return entry.reason


@pytest.fixture
def portal(client, login, demo):
    """A police portal (service account) and how it signs in."""
    account = approved_service_account(
        client,
        login,
        {"name": "Portail police A", "role": "police_liaison", "scope": {"police_forces": [str(demo.force_a)]}},
        approver="demo-police-a",
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }

    def sign_in() -> str:
        response = client.post(f"{API}/auth/token", data=form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    return account["id"], sign_in


# --- sign-out -------------------------------------------------------------------------------------


def test_a_signed_out_token_is_refused_at_once_with_an_audited_reason(client, db, demo):
    token = token_for(client, "demo-staff-a")
    assert client.get(ME, headers=bearer(token)).status_code == 200
    response = client.post(SIGN_OUT, headers=bearer(token))
    assert response.status_code == 204, response.text
    assert response.content == b""
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.status_code) == ("sign_out", "allowed", 204)
    assert entry.actor_id == str(demo.users["demo-staff-a"])
    assert refused_because(client, db, token) == "token_revoked"
    # Signing out again with it: the token is already ended.
    assert client.post(SIGN_OUT, headers=bearer(token)).status_code == 401


def test_signing_out_ends_only_that_token(client, db):
    leaving, staying = token_for(client, "demo-lead-a"), token_for(client, "demo-lead-a")
    assert client.post(SIGN_OUT, headers=bearer(leaving)).status_code == 204
    assert client.get(ME, headers=bearer(staying)).status_code == 200
    assert client.get(ME, headers=bearer(token_for(client, "demo-lead-a"))).status_code == 200
    assert refused_because(client, db, leaving) == "token_revoked"


def test_a_sign_out_with_a_key_used_by_another_token_still_ends_this_one(client, db):
    """An Idempotency-Key is kept per account: a replay of another token's
    sign-out would answer 204 and leave this token in force."""
    first, second = token_for(client, "demo-lead-a"), token_for(client, "demo-lead-a")
    key = {"Idempotency-Key": "sign-out"}
    assert client.post(SIGN_OUT, headers={**bearer(first), **key}).status_code == 204
    assert client.post(SIGN_OUT, headers={**bearer(second), **key}).status_code == 204
    assert refused_because(client, db, first) == "token_revoked"
    assert refused_because(client, db, second) == "token_revoked"


def test_a_service_account_signs_out_too(client, db, portal):
    _, sign_in = portal
    token = sign_in()
    assert client.post(SIGN_OUT, headers=bearer(token)).status_code == 204
    assert refused_because(client, db, token) == "token_revoked"
    assert client.get(ME, headers=bearer(sign_in())).status_code == 200


def test_a_sign_out_holds_in_every_server_process(settings, db):
    """Two application instances (as two worker processes): signed out on one,
    refused by the other."""
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        token = token_for(first, "demo-police-a")
        assert second.get(ME, headers=bearer(token)).status_code == 200
        assert first.post(SIGN_OUT, headers=bearer(token)).status_code == 204
        assert second.get(ME, headers=bearer(token)).status_code == 401


def test_a_sign_out_keeps_a_digest_until_the_token_would_be_refused_anyway(client, db):
    token = token_for(client, "demo-dpj-a")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert client.post(SIGN_OUT, headers=bearer(token)).status_code == 204
    db.expire_all()
    (row,) = db.exec(select(RevokedToken)).all()
    assert row.digest == credential_digest(claims["jti"]) != claims["jti"]
    assert claims["jti"] not in row.digest
    expected = datetime.fromtimestamp(claims["exp"], UTC) + timedelta(seconds=LEEWAY_SECONDS)
    assert row.expires_at == expected


def test_the_maintenance_purges_the_revocations_of_expired_tokens(db, settings):
    now = datetime.now(UTC)
    db.add_all(
        [
            RevokedToken(digest="a" * 64, expires_at=now - timedelta(hours=1)),
            RevokedToken(digest="b" * 64, expires_at=now - timedelta(seconds=1)),
            RevokedToken(digest="c" * 64, expires_at=now + timedelta(minutes=10)),
        ]
    )
    db.commit()
    run_maintenance_purge(settings)
    db.rollback()
    assert {row.digest for row in db.exec(select(RevokedToken)).all()} == {"c" * 64}


# --- an admin revokes every token of an account ------------------------------------------------------


def test_the_admin_revokes_every_token_of_a_user(client, login, db, demo):
    tokens = [token_for(client, "demo-staff-b") for _ in range(2)]
    user_id = demo.users["demo-staff-b"]
    response = client.post(f"{API}/users/{user_id}/revoke-tokens", headers=login("demo-admin"))
    assert response.status_code == 204, response.text
    entry = last_entry(db)
    assert (entry.action, entry.outcome, entry.resource_type, entry.resource_id) == (
        "revoke_user_tokens",
        "allowed",
        "users",
        str(user_id),
    )
    for token in tokens:
        assert refused_because(client, db, token) == "account_unusable"
    assert client.get(ME, headers=bearer(token_for(client, "demo-staff-b"))).status_code == 200


def test_the_admin_revokes_every_token_of_a_service_account(client, login, db, portal):
    account_id, sign_in = portal
    tokens = [sign_in() for _ in range(2)]
    response = client.post(f"{API}/service-accounts/{account_id}/revoke-tokens", headers=login("demo-admin"))
    assert response.status_code == 204, response.text
    for token in tokens:
        assert refused_because(client, db, token) == "account_unusable"
    # Its secret stays: it signs in again as before.
    assert client.get(ME, headers=bearer(sign_in())).status_code == 200


def test_only_the_admin_revokes_an_accounts_tokens(client, login, demo, portal):
    account_id, _ = portal
    victim = token_for(client, "demo-staff-a")
    for path in (f"/users/{demo.users['demo-staff-a']}", f"/service-accounts/{account_id}"):
        for username in ("demo-lead-a", "demo-auditor", "demo-privacy-a"):
            assert client.post(f"{API}{path}/revoke-tokens", headers=login(username)).status_code == 403
        assert client.post(f"{API}{path}/revoke-tokens").status_code == 401
    missing = "00000000-0000-4000-8000-000000000000"
    for collection in ("users", "service-accounts"):
        response = client.post(f"{API}/{collection}/{missing}/revoke-tokens", headers=login("demo-admin"))
        assert response.status_code == 404
    assert client.get(ME, headers=bearer(victim)).status_code == 200


# --- a disable ends the tokens for good --------------------------------------------------------------


def test_a_disabled_then_enabled_user_gets_none_of_its_old_tokens_back(client, login, db, demo):
    token = token_for(client, "demo-staff-a")
    user = f"{API}/users/{demo.users['demo-staff-a']}"
    assert client.patch(user, json={"is_active": False}, headers=login("demo-admin")).status_code == 200
    assert refused_because(client, db, token) == "account_unusable"
    assert client.patch(user, json={"is_active": True}, headers=login("demo-admin")).status_code == 200
    assert refused_because(client, db, token) == "account_unusable"
    assert client.get(ME, headers=bearer(token_for(client, "demo-staff-a"))).status_code == 200


def test_a_disabled_then_enabled_service_account_gets_none_of_its_old_tokens_back(client, login, db, portal):
    account_id, sign_in = portal
    token = sign_in()
    account = f"{API}/service-accounts/{account_id}"
    assert client.patch(account, json={"is_active": False}, headers=login("demo-admin")).status_code == 200
    assert refused_because(client, db, token) == "account_unusable"
    assert client.patch(account, json={"is_active": True}, headers=login("demo-admin")).status_code == 200
    assert refused_because(client, db, token) == "account_unusable"
    assert client.get(ME, headers=bearer(sign_in())).status_code == 200


def test_a_change_that_is_not_a_disable_keeps_the_tokens(client, login, demo):
    token = token_for(client, "demo-staff-a")
    user = f"{API}/users/{demo.users['demo-staff-a']}"
    for change in ({"is_active": True}, {"full_name": "Intervenante A"}):
        assert client.patch(user, json=change, headers=login("demo-admin")).status_code == 200
        assert client.get(ME, headers=bearer(token)).status_code == 200


# --- one statement on the read path ------------------------------------------------------------------


@pytest.mark.parametrize(
    "holder",
    ["demo-staff-a", "demo-privacy-a", "demo-auditor", "demo-police-b", "demo-admin", "service_account"],
    ids=["school", "board", "boards", "police-force", "platform", "service-account"],
)
def test_the_principal_is_resolved_in_one_statement_revocation_included(db, settings, demo, holder):
    """Live, signed out, or of an account whose tokens were revoked: one
    statement each, and the scope read is the one the grants give."""
    if holder == "service_account":
        account = db.exec(select(ServiceAccount)).first()
        if account is None:
            account = ServiceAccount(client_id="sx-bench", name="Portail", role="police_liaison", secret_hash="x")
            db.add(account)
            db.commit()
        subject, grants = f"service_account:{account.id}", load_grants(db, service_account_id=account.id)
    else:
        subject, grants = f"user:{demo.users[holder]}", load_grants(db, user_id=demo.users[holder])
    expected_scope = resolve_scope(db, grants)
    until = datetime.now(UTC) + timedelta(minutes=15)
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    def resolve(credential_id: str, generation: int = 0):
        statements.clear()
        with Session(engine) as session:
            event.listen(Engine, "before_cursor_execute", count)
            try:
                return load_principal(
                    session, subject=subject, generation=generation, credential_id=credential_id, accepted_until=until
                )
            finally:
                event.remove(Engine, "before_cursor_execute", count)

    try:
        principal = resolve("live-token")
        assert len(statements) == 1, statements
        assert principal.scope == expected_scope
        assert (principal.token_id, principal.token_accepted_until) == ("live-token", until)
        with Session(engine) as session:
            revoke(session, credential_id="signed-out", accepted_until=until)
            session.commit()
        with pytest.raises(TokenError) as refused:
            resolve("signed-out")
        assert refused.value.reason == "token_revoked"
        assert len(statements) == 1, statements
        with pytest.raises(TokenError) as refused:
            resolve("live-token", generation=1)
        assert refused.value.reason == "account_unusable"
        assert len(statements) == 1, statements
    finally:
        engine.dispose()


def test_a_revocation_of_one_token_touches_no_other_account(db, settings, demo):
    """The digest is the token's own: another token's revocation is not this one's."""
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    until = datetime.now(UTC) + timedelta(minutes=15)
    try:
        with Session(engine) as session:
            revoke(session, credential_id="someone-elses", accepted_until=until)
            revoke(session, credential_id="someone-elses", accepted_until=until)  # twice: no error
            session.commit()
        with Session(engine) as session:
            subject = f"user:{demo.users['demo-lead-a']}"
            principal = load_principal(
                session, subject=subject, generation=0, credential_id="mine", accepted_until=until
            )
            assert principal.id == demo.users["demo-lead-a"]
    finally:
        engine.dispose()
    assert db.exec(select(User).where(User.username == "demo-lead-a")).one().token_generation == 0
