"""Single sign-on (``app.auth.oidc``) against a real OpenID Provider started
here: panva's ``oidc-provider`` (OpenID Certified), pinned in
``tests/oidc_provider`` (``make test`` installs it with ``npm ci``).  Each
test drives the whole flow as a browser would: the start, the provider's
login and consent pages, the callback, then the session at work.

The refusals that only a misbehaving provider could cause (a wrong issuer,
audience or nonce in the ID token, a forged signature, ``alg: none``) are
made by a transport in front of the real provider that re-signs the ID token
its token endpoint gave, with one claim changed, with the provider's own key
(made here and given to it) or with another one.

Without Node.js the tests are skipped, except under ``CI=true``, where that
(or a provider that does not start) is a failure.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlmodel import Session, create_engine, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.auth.models import BrowserSession
from app.auth.oidc import client as oidc_client
from app.auth.oidc.models import ExternalIdentity, OidcLogin
from app.auth.oidc.service import safe_return_to
from app.main import create_app
from tests.conftest import IN_CI, make_settings, token_for

API = "/api/v1"
PROVIDERS = f"{API}/identity-providers"
ME = f"{API}/auth/me"
CALLBACK = "http://testserver/api/v1/auth/sso/callback"
SECRET = "test-client-secret-0123456789-abcdefgh"
PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
HTML = {"Accept": "text/html,application/xhtml+xml"}
DOMAIN = "board-a.example"

# The provider's people: the id they sign in with, and what it says of them.
ACCOUNTS = {
    "lead": {"email": f"lead@{DOMAIN}", "email_verified": True, "acr": "urn:sexto:test:mfa", "amr": ["pwd", "otp"]},
    "lead-pwd": {"email": f"lead@{DOMAIN}", "email_verified": True, "acr": "urn:sexto:test:password", "amr": ["pwd"]},
    "unverified": {"email": f"staff@{DOMAIN}", "email_verified": False},
    "stranger": {"email": f"nobody@{DOMAIN}", "email_verified": True},
    "elsewhere": {"email": "lead@elsewhere.example", "email_verified": True},
    "staff": {"email": f"staff@{DOMAIN}", "email_verified": True, "amr": ["pwd"]},
    "officer": {"email": "agent.a@police-a.example", "email_verified": True, "amr": ["pwd", "hwk"]},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"the OpenID Provider of the tests: {why}")
    pytest.skip(f"the OpenID Provider of the tests: {why}")


class Provider:
    def __init__(self, issuer: str, key: rsa.RSAPrivateKey, kid: str) -> None:
        self.issuer = issuer
        self.key = key
        self.kid = kid


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    if shutil.which("node") is None:
        _unavailable("Node.js is not installed")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("tests/oidc_provider is not installed (make test runs npm ci there)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True), "kid": kid, "use": "sig", "alg": "RS256"}
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    client = {"client_secret": SECRET, "redirect_uris": [CALLBACK], "grant_types": ["authorization_code"]}
    config = {
        "port": port,
        "issuer": issuer,
        "jwks": {"keys": [jwk]},
        "clients": [
            {**client, "client_id": "sexto", "token_endpoint_auth_method": "client_secret_basic"},
            {**client, "client_id": "sexto-post", "token_endpoint_auth_method": "client_secret_post"},
            {**client, "client_id": "another-app", "token_endpoint_auth_method": "client_secret_basic"},
        ],
        "accounts": ACCOUNTS,
    }
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "provider.js"), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready"):
            _unavailable(f"did not start: {process.stderr.read() if process.stderr else ''}"[:2000])
        yield Provider(issuer, key, kid)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def secrets_dir(tmp_path) -> Path:
    folder = tmp_path / "oidc-secrets"
    folder.mkdir()
    (folder / "test-op").write_text(SECRET + "\n")
    return folder


@pytest.fixture
def sso_settings(app_database_url, var_dir, secrets_dir):
    def _settings(**overrides: Any):
        return make_settings(app_database_url, var_dir, oidc_client_secrets_dir=secrets_dir, **overrides)

    return _settings


@pytest.fixture
def app_client(sso_settings) -> Iterator[TestClient]:
    with TestClient(create_app(sso_settings())) as test_client:
        yield test_client


@pytest.fixture
def admin(app_client) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app_client, 'demo-admin')}"}


def _register(
    client: TestClient, admin: dict[str, str], provider: Provider, approver: str = "demo-privacy-a", **fields: Any
) -> dict:
    body = {
        "name": "CSS A (test)",
        "board_id": fields.pop("board_id", None),
        "issuer": provider.issuer,
        "client_id": "sexto",
        "client_secret_file": "test-op",
        "allowed_domains": [DOMAIN],
        **fields,
    }
    if body["board_id"] is None and "police_force_id" not in fields:
        raise AssertionError("give the provider's organization")
    response = client.post(PROVIDERS, json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["approved_at"] is None
    # A person of its organization approves it (the demo's privacy officer of the board).
    return _approve(client, response.json()["id"], approver)


def _approve(client: TestClient, provider_id: str, approver: str = "demo-privacy-a") -> dict:
    approved = client.post(
        f"{PROVIDERS}/{provider_id}/approve", headers={"Authorization": f"Bearer {token_for(client, approver)}"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_at"] is not None
    return approved.json()


@pytest.fixture
def demo_ids(database_url) -> dict[str, Any]:
    from app.demo import SCHOOL_A, SCHOOL_B
    from app.orgs.models import School

    engine = create_engine(database_url)
    with Session(engine) as session:
        school_a = session.exec(select(School).where(School.name == SCHOOL_A)).one()
        school_b = session.exec(select(School).where(School.name == SCHOOL_B)).one()
        force_a = str(school_a.police_force_id)
        users = {u.username: u.id for u in session.exec(select(User)).all()}
    engine.dispose()
    return {"board_a": str(school_a.board_id), "board_b": str(school_b.board_id), "force_a": force_a, "users": users}


def _set_email(client: TestClient, admin: dict[str, str], user_id: object, email: str | None) -> None:
    response = client.patch(f"{API}/users/{user_id}", json={"email": email}, headers=admin)
    assert response.status_code == 200, response.text


class Flow:
    """One browser's way through: the start, the provider's pages, and the
    URL the provider sends it back to (the callback, not yet followed)."""

    def __init__(self, client: TestClient, provider_id: str, account: str, return_to: str | None = None) -> None:
        params = {"return_to": return_to} if return_to else {}
        start = client.get(f"{API}/auth/sso/{provider_id}/start", params=params, headers=HTML, follow_redirects=False)
        assert start.status_code == 303, start.text
        self.authorization_url = start.headers["location"]
        self.start = start
        with httpx.Client(follow_redirects=False, timeout=10) as browser:
            url = self.authorization_url
            response = browser.get(url)
            for _ in range(20):
                if response.status_code in (302, 303):
                    url = urljoin(url, response.headers["location"])
                    if url.startswith("http://testserver/"):
                        break
                    response = browser.get(url)
                elif response.status_code == 200 and 'name="login"' in response.text:
                    response = browser.post(urljoin(url, _action(response.text)), data={"login": account})
                elif response.status_code == 200:
                    response = browser.post(urljoin(url, _action(response.text)), data={})
                else:
                    raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
        assert url.startswith(CALLBACK), url
        self.callback_url = url
        self.client = client

    def back(self, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.get(
            self.callback_url.removeprefix("http://testserver"), headers=headers or HTML, follow_redirects=False
        )


def _action(page: str) -> str:
    return page.split('action="', 1)[1].split('"', 1)[0]


def _entries(database_url: str, action: str) -> list[AuditEntry]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())
    engine.dispose()
    return rows


def _session_cookie(response: httpx.Response) -> str:
    return response.cookies["sexto_session"]


def _me(client: TestClient, cookie: str) -> httpx.Response:
    client.cookies.clear()
    return client.get(ME, headers={"Cookie": f"sexto_session={cookie}"})


# --- the whole flow -------------------------------------------------------------------


def test_a_first_sign_in_links_the_person_by_verified_email_then_by_sub(
    provider, app_client, admin, demo_ids, database_url
):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"], required_amr=["otp"])
    assert registered["redirect_uri"] == CALLBACK
    assert SECRET not in json.dumps(registered)
    lead = demo_ids["users"]["demo-lead-a"]
    _set_email(app_client, admin, lead, f"Lead@{DOMAIN}")

    listed = app_client.get(f"{API}/auth/sso/providers").json()["items"]
    assert [(p["id"], p["name"]) for p in listed] == [(registered["id"], "CSS A (test)")]

    flow = Flow(app_client, registered["id"], "lead", return_to="/cases?status=open")
    query = parse_qs(urlsplit(flow.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert "httponly" in flow.start.headers["set-cookie"].lower()
    back = flow.back()
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/cases?status=open"
    set_cookie = back.headers.get_list("set-cookie")
    assert any(c.startswith("sexto_session=") and "HttpOnly" in c and "SameSite=strict" in c for c in set_cookie)
    me = _me(app_client, _session_cookie(back))
    assert me.status_code == 200 and me.json()["username"] == "demo-lead-a"
    assert me.json()["role"] == "school_lead"  # the admin's, not the provider's

    engine = create_engine(database_url)
    with Session(engine) as session:
        link = session.exec(select(ExternalIdentity)).one()
        assert (link.subject, str(link.user_id)) == ("lead", str(lead))
        assert session.exec(select(OidcLogin)).all() == []  # the state is used up
        assert session.exec(select(BrowserSession).where(BrowserSession.user_id == lead)).one().provider_mfa
    engine.dispose()
    (entry,) = _entries(database_url, "sso_callback")
    assert (entry.outcome, entry.reason, entry.actor_id) == ("allowed", "sso_linked", str(lead))
    assert f"lead@{DOMAIN}" not in json.dumps(entry.model_dump(), default=str)

    # The link is by sub from now on: the address may change.
    _set_email(app_client, admin, lead, None)
    again = Flow(app_client, registered["id"], "lead").back()
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert _me(app_client, _session_cookie(again)).json()["username"] == "demo-lead-a"
    assert [e.reason for e in _entries(database_url, "sso_callback")] == ["sso_linked", "sso"]


def test_client_secret_post_and_the_providers_second_factor_stands_for_the_local_one(
    provider, sso_settings, demo_ids, database_url
):
    with TestClient(create_app(sso_settings(mfa_required_roles=["school_lead"]))) as client:
        admin = {"Authorization": f"Bearer {token_for(client, 'demo-admin')}"}
        registered = _register(
            client,
            admin,
            provider,
            board_id=demo_ids["board_a"],
            client_id="sexto-post",
            client_auth_method="client_secret_post",
            required_acr=["urn:sexto:test:mfa"],
        )
        _set_email(client, admin, demo_ids["users"]["demo-lead-a"], f"lead@{DOMAIN}")
        flow = Flow(client, registered["id"], "lead")
        assert parse_qs(urlsplit(flow.authorization_url).query)["acr_values"] == ["urn:sexto:test:mfa"]
        back = flow.back()
        assert back.status_code == 303, back.text
        cookie = _session_cookie(back)
        me = _me(client, cookie).json()
        assert me["mfa_enrolment_required"] is False
        client.cookies.clear()
        assert client.get(f"{API}/cases", headers={"Cookie": f"sexto_session={cookie}"}).status_code == 200


def test_a_police_force_connects_its_own_directory(provider, app_client, admin, demo_ids, database_url):
    force_a = demo_ids["force_a"]
    body = {
        "name": "Police A",
        "police_force_id": force_a,
        "issuer": provider.issuer,
        "client_id": "sexto",
        "client_secret_file": "test-op",
        "allowed_domains": ["police-a.example"],
        "required_amr": ["hwk"],
    }
    created = app_client.post(PROVIDERS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    # Board A's privacy officer approves for board A only; a liaison of force A approves it.
    privacy = {"Authorization": f"Bearer {token_for(app_client, 'demo-privacy-a')}"}
    assert app_client.post(f"{PROVIDERS}/{created.json()['id']}/approve", headers=privacy).status_code == 404
    _approve(app_client, created.json()["id"], "demo-police-a")
    # Force B's liaison, whatever the address recorded, is another organization's: refused, nothing linked.
    other = demo_ids["users"]["demo-police-b"]
    _set_email(app_client, admin, other, "agent.a@police-a.example")
    refused = Flow(app_client, created.json()["id"], "officer").back()
    _refused(app_client, refused, database_url, "account_other_organization")
    _set_email(app_client, admin, other, None)

    officer = demo_ids["users"]["demo-police-a"]
    _set_email(app_client, admin, officer, "agent.a@police-a.example")
    back = Flow(app_client, created.json()["id"], "officer").back()
    assert back.status_code == 303 and back.headers["location"] == "/", back.text
    me = _me(app_client, _session_cookie(back)).json()
    assert (me["username"], me["role"]) == ("demo-police-a", "police_liaison")


# --- refusals, each audited with its reason ------------------------------------------


def _refused(client: TestClient, response: httpx.Response, database_url: str, reason: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/?sso_error=sso_refused"
    assert not any(c.startswith("sexto_session=") for c in response.headers.get_list("set-cookie"))
    entries = _entries(database_url, "sso_callback")
    assert entries, "no audit entry"
    assert (entries[-1].outcome, entries[-1].reason, entries[-1].status_code) == ("denied", reason, 403)


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("stranger", "account_unknown"),
        ("unverified", "email_unverified"),
        ("elsewhere", "email_domain_refused"),
    ],
)
def test_a_person_the_admin_did_not_provision_is_refused(
    provider, app_client, admin, demo_ids, database_url, account, reason
):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    _refused(app_client, Flow(app_client, registered["id"], account).back(), database_url, reason)
    for entry in _entries(database_url, "sso_callback"):
        assert DOMAIN not in json.dumps(entry.model_dump(), default=str)


def test_a_disabled_account_is_refused(provider, app_client, admin, demo_ids, database_url):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    staff = demo_ids["users"]["demo-staff-a"]
    _set_email(app_client, admin, staff, f"staff@{DOMAIN}")
    assert app_client.patch(f"{API}/users/{staff}", json={"is_active": False}, headers=admin).status_code == 200
    _refused(app_client, Flow(app_client, registered["id"], "staff").back(), database_url, "account_disabled")


def test_a_provider_of_another_organization_is_refused(provider, app_client, admin, demo_ids, database_url):
    # Board B's provider; the person is board A's.
    registered = _register(app_client, admin, provider, "demo-privacy-b", board_id=demo_ids["board_b"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    _refused(app_client, Flow(app_client, registered["id"], "staff").back(), database_url, "account_other_organization")


def test_a_second_factor_the_provider_does_not_report_is_refused(provider, app_client, admin, demo_ids, database_url):
    registered = _register(
        app_client, admin, provider, board_id=demo_ids["board_a"], required_acr=["urn:sexto:test:mfa"]
    )
    _set_email(app_client, admin, demo_ids["users"]["demo-lead-a"], f"lead@{DOMAIN}")
    _refused(app_client, Flow(app_client, registered["id"], "lead-pwd").back(), database_url, "mfa_acr_missing")
    changed = app_client.patch(
        f"{PROVIDERS}/{registered['id']}", json={"required_acr": [], "required_amr": ["otp"]}, headers=admin
    )
    assert changed.json()["approved_at"] is None  # a new requirement: approved again
    _approve(app_client, registered["id"])
    _refused(app_client, Flow(app_client, registered["id"], "lead-pwd").back(), database_url, "mfa_amr_missing")


def test_a_role_that_requires_a_second_factor_needs_a_provider_that_requires_one(
    provider, sso_settings, demo_ids, database_url
):
    with TestClient(create_app(sso_settings(mfa_required_roles=["school_lead"]))) as client:
        admin = {"Authorization": f"Bearer {token_for(client, 'demo-admin')}"}
        registered = _register(client, admin, provider, board_id=demo_ids["board_a"])
        _set_email(client, admin, demo_ids["users"]["demo-lead-a"], f"lead@{DOMAIN}")
        _refused(client, Flow(client, registered["id"], "lead").back(), database_url, "mfa_not_required_by_provider")


def test_a_state_is_used_once_and_only_in_its_browser(provider, app_client, admin, demo_ids, database_url):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")
    assert flow.back().status_code == 303
    _refused(app_client, flow.back(), database_url, "state_unknown")  # replayed

    other_browser = Flow(app_client, registered["id"], "staff")
    app_client.cookies.clear()  # the sign-in's cookie is in the first browser only
    _refused(app_client, other_browser.back(), database_url, "state_other_browser")

    made_up = app_client.get(
        f"{API}/auth/sso/callback", params={"state": "x" * 43, "code": "y"}, headers=HTML, follow_redirects=False
    )
    _refused(app_client, made_up, database_url, "state_unknown")

    disabled = Flow(app_client, registered["id"], "staff")
    app_client.patch(f"{PROVIDERS}/{registered['id']}", json={"enabled": False}, headers=admin)
    _refused(app_client, disabled.back(), database_url, "provider_disabled")
    assert app_client.get(f"{API}/auth/sso/providers").json()["items"] == []


def test_an_expired_id_token_is_refused(provider, app_client, admin, demo_ids, database_url, monkeypatch):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")
    monkeypatch.setattr(oidc_client, "clock", lambda: time.time() + 3600)  # the provider's ID tokens last 5 minutes
    _refused(app_client, flow.back(), database_url, "id_token_expired")


class Resigning(httpx.AsyncBaseTransport):
    """In front of the real provider: the ID token of its token endpoint's
    answer, re-signed after ``change``."""

    def __init__(self, change: Callable[[dict[str, Any], dict[str, Any]], str]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/token"):
            return response
        body = json.loads(await response.aread())
        token = body["id_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        body["id_token"] = self._change(claims, jwt.get_unverified_header(token))
        return httpx.Response(response.status_code, json=body)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("iss", "id_token_issuer"),
        ("aud", "id_token_audience"),
        ("azp", "id_token_azp"),
        ("another_audience", "id_token_audience"),
        ("nonce", "id_token_nonce"),
        ("signature", "id_token_signature"),
        ("none", "id_token_algorithm_refused"),
        ("hs256", "id_token_algorithm_refused"),
        ("kid", "id_token_key_unknown"),
        ("iat", "id_token_issued_in_future"),
    ],
)
def test_an_id_token_that_is_not_this_sign_ins_is_refused(
    provider, app_client, admin, demo_ids, database_url, monkeypatch, change, reason
):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def resign(claims: dict[str, Any], header: dict[str, Any]) -> str:
        key, kid, algorithm = provider.key, header["kid"], "RS256"
        if change == "iss":
            claims["iss"] = "https://attacker.example"
        elif change == "aud":
            claims["aud"] = "another-app"
        elif change == "azp":
            # Issued to another party (azp), though for us alone (aud).
            claims["aud"], claims["azp"] = ["sexto"], "another-app"
        elif change == "another_audience":
            # For us too (azp), but also for a client we do not trust (OIDC Core §3.1.3.7).
            claims["aud"], claims["azp"] = ["sexto", "another-app"], "sexto"
        elif change == "nonce":
            claims["nonce"] = "an-earlier-sign-ins-nonce"
        elif change == "signature":
            key = other_key
        elif change == "kid":
            kid = "a-key-the-provider-never-had"
        elif change == "iat":
            claims["iat"] = int(time.time()) + 3600
        if change == "none":
            return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
        if change == "hs256":
            return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": kid})
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})

    flow = Flow(app_client, registered["id"], "staff")
    monkeypatch.setattr(oidc_client, "transport", Resigning(resign))
    _refused(app_client, flow.back(), database_url, reason)


def test_a_flood_of_made_up_callbacks_is_refused_on_the_sign_in_limits(sso_settings, database_url):
    """Each made-up ``state`` is refused and audited: past the sign-in
    limits, the callback is a 429 before it is one more entry."""
    with TestClient(create_app(sso_settings(signin_limit_per_address=3))) as client:
        answers = [
            client.get(
                f"{API}/auth/sso/callback",
                params={"state": f"made-up-{n}", "code": "x"},
                headers=HTML,
                follow_redirects=False,
            )
            for n in range(5)
        ]
    assert [a.status_code for a in answers[:3]] == [303, 303, 303]
    assert [a.status_code for a in answers[3:]] == [429, 429]
    assert answers[3].json()["code"] == "signin_rate_limited" and "retry-after" in answers[3].headers
    reasons = [entry.reason for entry in _entries(database_url, "sso_callback")]
    assert reasons.count("state_unknown") == 3


def test_the_resigning_transport_changes_nothing_by_itself(provider, app_client, admin, demo_ids, monkeypatch):
    """The re-signing above is no refusal on its own: unchanged, the token passes."""
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")
    monkeypatch.setattr(
        oidc_client,
        "transport",
        Resigning(
            lambda claims, header: jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})
        ),
    )
    back = flow.back()
    assert back.status_code == 303 and back.headers["location"] == "/", back.text


def test_an_api_client_gets_the_problem_document(provider, app_client, admin, demo_ids, database_url):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    flow = Flow(app_client, registered["id"], "stranger")
    response = flow.back(headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "sso_refused"
    assert DOMAIN not in response.text and "nobody" not in response.text
    assert _entries(database_url, "sso_callback")[-1].reason == "account_unknown"


def test_a_provider_that_cannot_be_reached_is_unavailable(app_client, admin, demo_ids, database_url):
    body = {
        "name": "Nowhere",
        "board_id": demo_ids["board_a"],
        "issuer": f"http://127.0.0.1:{_free_port()}",
        "client_id": "sexto",
        "client_secret_file": "test-op",
        "allowed_domains": [DOMAIN],
    }
    registered = _approve(app_client, app_client.post(PROVIDERS, json=body, headers=admin).json()["id"])
    start = app_client.get(f"{API}/auth/sso/{registered['id']}/start", headers=HTML, follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == "/?sso_error=sso_unavailable"
    (entry,) = _entries(database_url, "start_sso")
    assert (entry.reason, entry.status_code) == ("discovery_failed", 503)


# --- the admin's registry -----------------------------------------------------------------


def test_the_registry_is_the_admins_and_never_holds_a_secret(provider, app_client, admin, demo_ids, database_url):
    lead = {"Authorization": f"Bearer {token_for(app_client, 'demo-lead-a')}"}
    body = {
        "name": "Police A",
        "police_force_id": None,
        "board_id": demo_ids["board_a"],
        "issuer": provider.issuer,
        "client_id": "sexto",
        "client_secret_file": "test-op",
        "allowed_domains": [DOMAIN],
    }
    assert app_client.post(PROVIDERS, json=body, headers=lead).status_code == 403
    created = app_client.post(PROVIDERS, json=body, headers=admin)
    assert created.status_code == 201
    provider_id = created.json()["id"]
    assert created.headers["location"].endswith(f"{PROVIDERS}/{provider_id}")
    assert app_client.post(PROVIDERS, json=body, headers=admin).json()["code"] == "provider_taken"
    for bad in (
        {"client_secret_file": "../etc/passwd"},
        {"client_secret": "inline"},
        {"issuer": "http://idp.example.org"},
        {"allowed_domains": []},
        {"police_force_id": demo_ids["board_a"]},
    ):
        assert app_client.post(PROVIDERS, json={**body, **bad}, headers=admin).status_code == 422, bad
    assert app_client.get(PROVIDERS, headers=lead).status_code == 403
    assert [p["id"] for p in app_client.get(PROVIDERS, headers=admin).json()["items"]] == [provider_id]
    assert app_client.get(f"{PROVIDERS}/{provider_id}", headers=admin).json()["client_secret_file"] == "test-op"
    changed = app_client.patch(f"{PROVIDERS}/{provider_id}", json={"enabled": False, "name": "B"}, headers=admin)
    assert (changed.json()["enabled"], changed.json()["name"]) == (False, "B")
    assert app_client.patch(f"{PROVIDERS}/{provider_id}", json={"issuer": None}, headers=admin).status_code == 422
    refused = app_client.get(f"{API}/auth/sso/{provider_id}/start", follow_redirects=False)
    assert refused.status_code == 403 and refused.json()["code"] == "sso_refused"
    (entry,) = _entries(database_url, "start_sso")
    assert entry.reason == "provider_disabled"
    audited = {e.action for e in _entries(database_url, "create_identity_provider")}
    assert audited == {"create_identity_provider"}


def test_a_provider_gives_no_sign_in_until_a_person_of_its_organization_approves_it(
    provider, app_client, admin, demo_ids, database_url
):
    body = {
        "name": "CSS A",
        "board_id": demo_ids["board_a"],
        "issuer": provider.issuer,
        "client_id": "sexto",
        "client_secret_file": "test-op",
        "allowed_domains": [DOMAIN],
    }
    created = app_client.post(PROVIDERS, json=body, headers=admin).json()
    assert app_client.get(f"{API}/auth/sso/providers").json()["items"] == []
    start = app_client.get(f"{API}/auth/sso/{created['id']}/start", follow_redirects=False)
    assert start.status_code == 403
    assert _entries(database_url, "start_sso")[-1].reason == "provider_pending"

    approve = f"{PROVIDERS}/{created['id']}/approve"
    # Not the admin; not another board's approver (404, as a provider that does not exist); not a staff member.
    assert app_client.post(approve, headers=admin).status_code == 403
    other = {"Authorization": f"Bearer {token_for(app_client, 'demo-privacy-b')}"}
    assert app_client.post(approve, headers=other).status_code == 404
    staff = {"Authorization": f"Bearer {token_for(app_client, 'demo-staff-a')}"}
    assert app_client.post(approve, headers=staff).status_code == 403
    lead = {"Authorization": f"Bearer {token_for(app_client, 'demo-lead-a')}"}
    approved = app_client.post(approve, headers=lead)
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == str(demo_ids["users"]["demo-lead-a"])
    assert [p["id"] for p in app_client.get(f"{API}/auth/sso/providers").json()["items"]] == [created["id"]]

    # A new name changes nothing; a new domain is trusted only once approved again.
    renamed = app_client.patch(f"{PROVIDERS}/{created['id']}", json={"name": "CSS A (Entra)"}, headers=admin)
    assert renamed.json()["approved_at"] is not None
    widened = app_client.patch(
        f"{PROVIDERS}/{created['id']}", json={"allowed_domains": [DOMAIN, "evil.example"]}, headers=admin
    )
    assert widened.json()["approved_at"] is None
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    assert app_client.get(f"{API}/auth/sso/{created['id']}/start", follow_redirects=False).status_code == 403
    assert _entries(database_url, "start_sso")[-1].reason == "provider_pending"


def test_an_email_is_one_persons(app_client, admin, demo_ids):
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    taken = app_client.patch(
        f"{API}/users/{demo_ids['users']['demo-lead-a']}", json={"email": f"STAFF@{DOMAIN}"}, headers=admin
    )
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("asked", "taken"),
    [
        (None, "/"),
        ("/cases/1?tab=grid", "/cases/1?tab=grid"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/a\nb", "/"),
        ("cases", "/"),
    ],
)
def test_only_a_path_of_the_service_is_returned_to(asked, taken):
    assert safe_return_to(asked) == taken


class Counting(httpx.AsyncBaseTransport):
    """The real provider, each path asked for counted."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self._inner.handle_async_request(request)


def test_discovery_and_keys_are_kept_and_an_unknown_key_id_refetches_at_most_once_a_while(provider, var_dir):
    def fetches(paths: list[str]) -> tuple[int, int]:
        discovery = [p for p in paths if p.endswith("/openid-configuration")]
        return len(discovery), len(paths) - len(discovery)

    async def scenario() -> None:
        oidc_client.transport = counting = Counting()
        slow = oidc_client.ProviderDirectory(make_settings("sqlite://", var_dir, oidc_keys_refresh_seconds=3600))
        await slow.signing_key(provider.issuer, provider.kid)
        await slow.signing_key(provider.issuer, provider.kid)
        for _ in range(3):
            with pytest.raises(oidc_client.ProviderRefusal, match="id_token_key_unknown"):
                await slow.signing_key(provider.issuer, "rotated-in-later")
        # One discovery, one fetch of the keys: unknown key ids fetch nothing more within the window.
        assert fetches(counting.paths) == (1, 1)

        counting.paths.clear()
        quick = oidc_client.ProviderDirectory(make_settings("sqlite://", var_dir, oidc_keys_refresh_seconds=1))
        await quick.signing_key(provider.issuer, provider.kid)
        await asyncio.sleep(1.1)
        with pytest.raises(oidc_client.ProviderRefusal):
            await quick.signing_key(provider.issuer, "rotated-in-later")
        # Past the window, an unknown key id fetches the keys again (a rotation).
        assert fetches(counting.paths) == (1, 2)

    try:
        asyncio.run(scenario())
    finally:
        oidc_client.transport = None


# --- found in review ------------------------------------------------------------------


def test_a_callback_without_the_issuer_is_refused_when_the_provider_says_it_sends_it(
    provider, app_client, admin, demo_ids, database_url
):
    """RFC 9207 §2.4: a provider whose discovery says
    ``authorization_response_iss_parameter_supported`` (this one does) puts
    ``iss`` in every answer; one without it may be a mix-up, and is refused."""
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")
    parts = urlsplit(flow.callback_url)
    query = parse_qs(parts.query)
    assert query["iss"] == [provider.issuer]
    flow.callback_url = f"{CALLBACK}?state={query['state'][0]}&code={query['code'][0]}"
    _refused(app_client, flow.back(), database_url, "issuer_missing")


def test_an_id_token_of_a_provider_whose_clock_is_a_little_ahead_is_taken(
    provider, app_client, admin, demo_ids, monkeypatch
):
    """``nbf`` gets the leeway ``iat`` gets, and is read at the same clock."""
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")

    def ahead(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims["iat"] = claims["nbf"] = int(time.time()) + 20
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(ahead))
    back = flow.back()
    assert back.status_code == 303 and back.headers["location"] == "/", back.text


def test_an_id_token_not_yet_valid_is_refused(provider, app_client, admin, demo_ids, database_url, monkeypatch):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")

    def later(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims["nbf"] = int(time.time()) + 3600
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(later))
    _refused(app_client, flow.back(), database_url, "id_token_not_yet_valid")


def test_an_address_that_only_unicode_case_folding_makes_equal_links_nobody(
    provider, app_client, admin, demo_ids, database_url, monkeypatch
):
    """The KELVIN SIGN (U+212A) lowers to an ASCII ``k``: the provider's
    ``\u212aate@`` is another mailbox than the account's ``kate@``."""
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"kate@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")

    def kelvin(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims["email"] = f"\u212aate@{DOMAIN}"
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(kelvin))
    _refused(app_client, flow.back(), database_url, "account_unknown")


def test_an_address_in_upper_case_still_links_its_account(provider, app_client, admin, demo_ids, monkeypatch):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")

    def upper(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims["email"] = f"Staff@{DOMAIN.upper()}"
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(upper))
    back = flow.back()
    assert back.status_code == 303 and back.headers["location"] == "/", back.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # OpenID Connect Core §2: a sub is at most 255 ASCII characters.
        ("long_sub", "id_token_invalid"),
        ("non_ascii_sub", "id_token_invalid"),
        # amr is an array of strings; anything else in it reports no factor.
        ("amr_objects", "mfa_amr_missing"),
    ],
)
def test_claims_out_of_their_shape_are_refused_and_audited(
    provider, app_client, admin, demo_ids, database_url, monkeypatch, change, reason
):
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"], required_amr=["otp"])
    _set_email(app_client, admin, demo_ids["users"]["demo-lead-a"], f"lead@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "lead")

    def reshape(claims: dict[str, Any], header: dict[str, Any]) -> str:
        if change == "long_sub":
            claims["sub"] = "s" * 256
        elif change == "non_ascii_sub":
            claims["sub"] = "l\u00e9ad"
        else:
            claims["amr"] = [{"otp": True}, ["otp"]]
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(reshape))
    _refused(app_client, flow.back(), database_url, reason)
    engine = create_engine(database_url)
    with Session(engine) as session:
        assert session.exec(select(ExternalIdentity)).all() == []
    engine.dispose()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_times_that_are_no_numbers_are_refused(provider, app_client, admin, demo_ids, database_url, monkeypatch, value):
    """JSON as Python reads it takes NaN and Infinity: an ID token whose
    times are such never expires and is never too old."""
    registered = _register(app_client, admin, provider, board_id=demo_ids["board_a"])
    _set_email(app_client, admin, demo_ids["users"]["demo-staff-a"], f"staff@{DOMAIN}")
    flow = Flow(app_client, registered["id"], "staff")

    def timeless(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims["iat"] = claims["exp"] = value
        return jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": header["kid"]})

    monkeypatch.setattr(oidc_client, "transport", Resigning(timeless))
    _refused(app_client, flow.back(), database_url, "id_token_invalid")
