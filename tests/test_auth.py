"""Sign-in, tokens and the caller's identity."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from app.accounts.models import User
from app.auth.models import LoginThrottle
from app.auth.service import THROTTLE_PURPOSE
from app.crypto import DataCipher
from app.demo import DEMO_USERS
from app.security import PasswordHasher, key_id, load_or_create_private_key
from tests.conftest import (
    DEMO_PASSWORD,
    approve_account,
    approved_service_account,
    make_settings,
    run_maintenance_purge,
    token_for,
)

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def password_form(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def throttle_key(settings, name: str) -> str:
    return DataCipher.from_settings(settings).keyed_digest(name, THROTTLE_PURPOSE)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_demo_user_signs_in_and_sees_its_role_and_scope(client, demo):
    expected_scope = {
        "demo-admin": ("boards", 0, "schools", 0, "police_forces", 0),
        "demo-auditor": ("boards", 2, "schools", 0, "police_forces", 0),
        "demo-police-a": ("boards", 0, "schools", 0, "police_forces", 1),
    }
    for username, (_name, role, kind, sides, levels) in DEMO_USERS.items():
        token = token_for(client, username)
        me = client.get(ME, headers=bearer(token))
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["username"] == username
        assert body["role"] == role.value
        assert body["may_handle_cases"] == (role.value.startswith("school") and "architect" in levels)
        if kind:
            assert len(body["scope"][kind]) == len(sides)
        if username in expected_scope:
            spec = expected_scope[username]
            for i in range(0, 6, 2):
                assert len(body["scope"][spec[i]]) == spec[i + 1]
    me_a = client.get(ME, headers=bearer(token_for(client, "demo-police-a"))).json()
    assert me_a["scope"]["police_forces"][0]["id"] == str(demo.force_a)
    me_b = client.get(ME, headers=bearer(token_for(client, "demo-staff-b"))).json()
    assert me_b["scope"]["schools"][0]["id"] == str(demo.school_b)


def test_the_token_carries_the_required_claims(client, settings):
    token = token_for(client, "demo-staff-a")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "role", "scope", "gen"} <= set(claims)
    assert claims["exp"] - claims["iat"] == settings.token_lifetime_seconds == 900


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = client.post(TOKEN, data=password_form("demo-staff-a", "not-the-password"))
    unknown = client.post(TOKEN, data=password_form("nobody-at-all", "not-the-password"))
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_grant"
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"


def test_an_unknown_user_costs_a_password_hash_too(settings, monkeypatch):
    hasher = PasswordHasher(settings)
    calls = []
    original = hasher._hash.verify
    monkeypatch.setattr(hasher._hash, "verify", lambda *a: calls.append(a) or original(*a))
    assert hasher.verify("whatever", None) == (False, None)
    assert len(calls) == 1


def test_password_hashes_run_a_few_at_a_time(settings, monkeypatch):
    hasher = PasswordHasher(make_settings(settings.database_url, settings.var_dir, max_concurrent_password_hashes=2))
    running, peak = 0, 0
    lock = threading.Lock()
    original = hasher._hash.hash

    def slow_hash(password):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return original(password)

    monkeypatch.setattr(hasher._hash, "hash", slow_hash)
    threads = [threading.Thread(target=hasher.hash, args=("x" * 12,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def test_failed_sign_ins_are_throttled_per_account_existing_or_not(client, db, settings):
    for username in ("demo-staff-a", "ghost-user"):
        for _ in range(settings.login_max_failures):
            assert client.post(TOKEN, data=password_form(username, "bad-password")).status_code == 400
        locked = client.post(TOKEN, data=password_form(username, "bad-password"))
        assert locked.status_code == 429
        assert locked.json()["code"] == "login_throttled"
        assert int(locked.headers["retry-after"]) > 0
    # Even the right password waits for the lock to pass.
    assert client.post(TOKEN, data=password_form("demo-staff-a")).status_code == 429
    # Another account is not affected.
    assert client.post(TOKEN, data=password_form("demo-staff-a2")).status_code == 200
    # Every attempt is counted before it is checked; the count stops one past the limit.
    rows = {row.account_key: row.failures for row in db.exec(select(LoginThrottle)).all()}
    assert rows[throttle_key(settings, "user:demo-staff-a")] == settings.login_max_failures + 1
    assert rows[throttle_key(settings, "user:ghost-user")] == settings.login_max_failures + 1


def test_a_burst_of_guesses_checks_at_most_the_limit(client, settings, monkeypatch):
    """100 wrong passwords for one account sent at once, and the right one
    among them: at most the limit of secrets are checked, in all."""
    checked = []
    original = PasswordHasher.verify

    def slow_verify(self, password, hashed):
        checked.append(password)
        # Widen the window between the check and the count, as a real hash does.
        time.sleep(0.02)
        return original(self, password, hashed)

    monkeypatch.setattr(PasswordHasher, "verify", slow_verify)
    forms = [password_form("demo-staff-a", f"guess-{i}") for i in range(100)]
    forms.insert(60, password_form("demo-staff-a"))
    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(lambda form: client.post(TOKEN, data=form).status_code, forms))
    assert len(checked) <= settings.login_max_failures
    assert statuses.count(429) >= len(forms) - settings.login_max_failures
    # A token only if the right password was among those checked.
    assert statuses[60] == (200 if DEMO_PASSWORD in checked else 429)
    assert client.post(TOKEN, data=password_form("demo-staff-a")).status_code == (
        200 if DEMO_PASSWORD in checked else 429
    )


def test_a_successful_sign_in_clears_the_failures(client, db, settings):
    client.post(TOKEN, data=password_form("demo-staff-a", "bad-password"))
    assert client.post(TOKEN, data=password_form("Demo-Staff-A")).status_code == 200
    assert db.get(LoginThrottle, throttle_key(settings, "user:demo-staff-a")) is None


def test_the_throttle_keeps_no_name_as_typed(client, db, settings):
    """What was typed as a user name is sometimes a password: the throttle
    keeps a keyed hash of it, nothing that reads back."""
    typed = "Hunter2-Password-In-The-Wrong-Field"
    client.post(TOKEN, data=password_form(typed, "bad-password"))
    client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": typed, "client_secret": "x"})
    keys = [row.account_key for row in db.exec(select(LoginThrottle)).all()]
    assert len(keys) == 2
    for key in keys:
        assert typed.lower() not in key.lower()
        assert len(key) == 64 and int(key, 16) >= 0
    assert set(keys) == {throttle_key(settings, f"user:{typed.lower()}"), throttle_key(settings, f"client:{typed}")}


def test_the_maintenance_purges_expired_throttle_rows(db, settings):
    now = datetime.now(UTC)
    window = timedelta(seconds=settings.login_failure_window_seconds)
    rows = {
        "old-window": LoginThrottle(account_key="a" * 64, failures=2, window_started_at=now - 2 * window),
        "old-lock": LoginThrottle(
            account_key="b" * 64, failures=6, window_started_at=now - 2 * window, locked_until=now - window
        ),
        "live-lock": LoginThrottle(
            account_key="c" * 64, failures=6, window_started_at=now - 2 * window, locked_until=now + window
        ),
        "live-window": LoginThrottle(account_key="d" * 64, failures=1, window_started_at=now),
    }
    db.add_all(rows.values())
    db.commit()
    run_maintenance_purge(settings)
    db.rollback()
    assert {row.account_key for row in db.exec(select(LoginThrottle)).all()} == {"c" * 64, "d" * 64}


def test_failures_are_counted_across_server_processes(settings, db):
    """Two application instances (as two worker processes) share the count."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        for i in range(settings.login_max_failures):
            (first if i % 2 else second).post(TOKEN, data=password_form("demo-lead-a", "bad-password"))
        assert first.post(TOKEN, data=password_form("demo-lead-a")).status_code == 429
        assert second.post(TOKEN, data=password_form("demo-lead-a")).status_code == 429


def test_unsupported_grant_type_is_a_problem(client):
    response = client.post(TOKEN, data={"grant_type": "implicit"})
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_grant_type"


def test_me_without_a_token_is_401(client):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_disabled_users_token_stops_working_at_once(client, login, demo):
    token = token_for(client, "demo-staff-a")
    assert client.get(ME, headers=bearer(token)).status_code == 200
    response = client.patch(
        f"/api/v1/users/{demo.users['demo-staff-a']}", json={"is_active": False}, headers=login("demo-admin")
    )
    assert response.status_code == 200, response.text
    refused = client.get(ME, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    # And the account can no longer sign in, with the usual answer.
    assert client.post(TOKEN, data=password_form("demo-staff-a")).json()["code"] == "invalid_grant"


def test_a_password_change_revokes_older_tokens(client, login, demo):
    token = token_for(client, "demo-staff-a")
    client.patch(
        f"/api/v1/users/{demo.users['demo-staff-a']}",
        json={"password": "a brand new passphrase"},
        headers=login("demo-admin"),
    )
    assert client.get(ME, headers=bearer(token)).status_code == 401
    assert (
        client.get(ME, headers=bearer(token_for(client, "demo-staff-a", "a brand new passphrase"))).status_code == 200
    )


def test_a_role_change_takes_effect_without_a_new_token(client, login, demo):
    token = token_for(client, "demo-lead-a")
    client.patch(
        f"/api/v1/users/{demo.users['demo-lead-a']}", json={"role": "school_staff"}, headers=login("demo-admin")
    )
    me = client.get(ME, headers=bearer(token)).json()
    assert me["role"] == "school_staff"


def test_a_deleted_users_token_is_refused(client, db):
    token = token_for(client, "demo-staff-a2")
    user = db.exec(select(User).where(User.username == "demo-staff-a2")).one()
    db.delete(user)
    db.commit()
    assert client.get(ME, headers=bearer(token)).status_code == 401


# --- service accounts --------------------------------------------------------


@pytest.fixture
def police_portal(client, login, demo):
    body = {"name": "Portail police A", "role": "police_liaison", "scope": {"police_forces": [str(demo.force_a)]}}
    return approved_service_account(client, login, body, "demo-police-a")


def test_a_service_account_signs_in_with_client_credentials(client, police_portal):
    form = {
        "grant_type": "client_credentials",
        "client_id": police_portal["client_id"],
        "client_secret": police_portal["client_secret"],
    }
    response = client.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    me = client.get(ME, headers=bearer(response.json()["access_token"])).json()
    assert me["kind"] == "service_account"
    assert me["role"] == "police_liaison"
    assert me["client_id"] == police_portal["client_id"]


def test_client_credentials_in_http_basic(client, police_portal):
    raw = f"{police_portal['client_id']}:{police_portal['client_secret']}".encode()
    response = client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
    )
    assert response.status_code == 200, response.text


def test_a_wrong_client_secret_and_an_unknown_client_get_the_same_answer(client, police_portal):
    wrong = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": police_portal["client_id"], "client_secret": "nope"},
    )
    unknown = client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": "sx-unknown", "client_secret": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_rotating_the_secret_revokes_the_old_tokens(client, login, police_portal):
    form = {
        "grant_type": "client_credentials",
        "client_id": police_portal["client_id"],
        "client_secret": police_portal["client_secret"],
    }
    token = client.post(TOKEN, data=form).json()["access_token"]
    rotated = client.post(f"/api/v1/service-accounts/{police_portal['id']}/secret", headers=login("demo-admin"))
    assert rotated.status_code == 200
    assert client.get(ME, headers=bearer(token)).status_code == 401
    assert client.post(TOKEN, data=form).status_code == 401
    # A police portal's new secret comes with the force's approval (separation of duties).
    form["client_secret"] = approve_account(client, login("demo-police-a"), police_portal["id"])["client_secret"]
    assert client.post(TOKEN, data=form).status_code == 200


def test_a_disabled_service_accounts_token_stops_working(client, login, police_portal):
    form = {
        "grant_type": "client_credentials",
        "client_id": police_portal["client_id"],
        "client_secret": police_portal["client_secret"],
    }
    token = client.post(TOKEN, data=form).json()["access_token"]
    client.patch(
        f"/api/v1/service-accounts/{police_portal['id']}", json={"is_active": False}, headers=login("demo-admin")
    )
    assert client.get(ME, headers=bearer(token)).status_code == 401


# --- forged and broken tokens -------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture
def claims(client, settings, demo):
    now = datetime.now(UTC)
    return {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": f"user:{demo.users['demo-lead-a']}",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
        "role": "school_lead",
        "scope": {},
        "gen": 0,
    }


@pytest.fixture
def signing_key(var_dir):
    return load_or_create_private_key(var_dir / "token-signing-key.pem")


def sign(claims: dict, key, **headers) -> str:
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": key_id(key.public_key()), **headers})


def test_a_token_signed_by_the_service_key_works(client, claims, signing_key):
    assert client.get(ME, headers=bearer(sign(claims, signing_key))).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"exp": -60},
        {"nbf": 600, "iat": 600},
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"gen": 1},
        {"sub": "user:" + str(uuid.UUID(int=0))},
        {"sub": "robot:1"},
    ],
    ids=["expired", "not-yet-valid", "wrong-iss", "wrong-aud", "old-generation", "unknown-user", "bad-subject"],
)
def test_tokens_with_bad_claims_are_refused(client, claims, signing_key, change):
    for name, value in change.items():
        if name in ("exp", "nbf", "iat"):
            claims[name] = datetime.now(UTC) + timedelta(seconds=value)
        else:
            claims[name] = value
    response = client.get(ME, headers=bearer(sign(claims, signing_key)))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("missing", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "role", "gen"])
def test_tokens_missing_a_required_claim_are_refused(client, claims, signing_key, missing):
    del claims[missing]
    assert client.get(ME, headers=bearer(sign(claims, signing_key))).status_code == 401


def test_alg_none_is_refused(client, claims):
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(client, claims, signing_key):
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id(signing_key.public_key())}
    signing_input = f"{_b64(header)}.{_b64(payload)}".encode()
    import hashlib
    import hmac

    signature = (
        base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).decode().rstrip("=")
    )
    token = signing_input.decode() + "." + signature
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_a_token_signed_by_another_key_is_refused(client, claims, signing_key):
    other = Ed25519PrivateKey.generate()
    # Same key id as ours, different key: the signature check must fail.
    forged = jwt.encode(claims, other, algorithm="EdDSA", headers={"kid": key_id(signing_key.public_key())})
    assert client.get(ME, headers=bearer(forged)).status_code == 401
    # An unknown key id is refused before any signature check.
    assert client.get(ME, headers=bearer(sign(claims, other))).status_code == 401


def test_oversized_and_garbage_tokens_are_refused(client, claims, signing_key):
    claims["padding"] = "x" * 8000
    assert client.get(ME, headers=bearer(sign(claims, signing_key))).status_code == 401
    for garbage in ("abc", "a.b.c", "....", "eyJ" * 50):
        assert client.get(ME, headers=bearer(garbage)).status_code == 401


def test_previous_public_keys_still_verify(client, settings, claims, var_dir, tmp_path):
    """Key rotation: a token signed with the previous key stays valid until it expires."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    old_key = load_or_create_private_key(var_dir / "token-signing-key.pem")
    old_token = sign(claims, old_key)
    new_key = Ed25519PrivateKey.generate()
    new_pem = new_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    old_public = (
        old_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    rotated = make_settings(
        settings.database_url, tmp_path, token_signing_key=new_pem, token_previous_public_keys=[old_public]
    )
    with TestClient(create_app(rotated)) as rotated_client:
        assert rotated_client.get(ME, headers=bearer(old_token)).status_code == 200
        new_token = token_for(rotated_client, "demo-staff-a")
        assert jwt.get_unverified_header(new_token)["kid"] == key_id(new_key.public_key())
    without_old = make_settings(settings.database_url, tmp_path, token_signing_key=new_pem)
    with TestClient(create_app(without_old)) as strict_client:
        assert strict_client.get(ME, headers=bearer(old_token)).status_code == 401


@pytest.mark.parametrize(
    "forge,reason",
    [
        (lambda claims, key: sign({**claims, "exp": datetime.now(UTC) - timedelta(minutes=1)}, key), "expired"),
        (lambda claims, key: sign({**claims, "aud": "another-api"}, key), "issuer_or_audience"),
        (lambda claims, key: sign({k: v for k, v in claims.items() if k != "exp"}, key), "missing_claim"),
        (lambda claims, key: sign(claims, Ed25519PrivateKey.generate()), "unknown_key"),
        (lambda claims, key: "x" * 5000, "oversized"),
        (lambda claims, key: f"{_b64({'alg': 'none'})}.{_b64({'sub': claims['sub']})}.", "algorithm"),
        (lambda claims, key: sign({**claims, "gen": 7}, key), "account_unusable"),
    ],
    ids=["expired", "audience", "no-exp", "foreign-key", "oversized", "alg-none", "revoked"],
)
def test_every_refused_token_is_audited_with_its_reason(client, claims, signing_key, db, forge, reason):
    from app.audit.models import AuditEntry

    response = client.get(ME, headers=bearer(forge(claims, signing_key)))
    assert response.status_code == 401
    db.expire_all()
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.outcome, entry.status_code, entry.reason) == ("me", "denied", 401, reason)
