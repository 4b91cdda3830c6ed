"""A second factor for local accounts (issue 15 item 2): TOTP (RFC 6238) with
one-time recovery codes; required per role, by default in production.

Time is moved, never waited for: ``app.auth.mfa.factor.clock`` is the clock
the codes are checked at, and the tests set it."""

from __future__ import annotations

import base64
import secrets
from typing import get_args

import pyotp
import pytest
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from app import datakeys
from app.accounts.models import Role, User
from app.audit.models import AuditEntry
from app.auth.mfa import factor
from app.auth.mfa.models import RecoveryCode, TotpFactor, secret_context
from app.auth.models import LoginThrottle
from app.auth.service import THROTTLE_PURPOSE
from app.config import Environment, RoleName, Settings
from app.crypto import DataCipher, _development_keys
from app.db import create_db_engine, utcnow
from app.main import create_app
from app.migrations import downgrade, head_revision, upgrade
from tests.conftest import DEMO_PASSWORD, approved_service_account, token_for

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"
TOTP = "/api/v1/auth/mfa/totp"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
RECOVERY = "/api/v1/auth/mfa/recovery-codes"
# The current password, proved again before the factor changes (ASVS V7.5.1).
PROOF = {"password": DEMO_PASSWORD}
# A moment well inside a 30-second step: one step either side stays whole.
START = 1_800_000_015.0
STEP = factor.PERIOD_SECONDS


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, steps: int = 1) -> None:
        self.now += steps * STEP


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(factor, "clock", moved)
    return moved


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def code_at(secret: str, moment: float) -> str:
    """What the person's authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment)


def sign_in(client, username: str, otp: str | None = None):
    form = {"grant_type": "password", "username": username, "password": DEMO_PASSWORD}
    if otp is not None:
        form["otp"] = otp
    return client.post(TOKEN, data=form)


def enrol(client, headers: dict[str, str], clock: Clock) -> tuple[str, list[str]]:
    """Enrol an app for the caller: its secret and recovery codes.  The
    confirmation ends the caller's token (every credential opened without
    the factor ends): ``headers`` get a new one, signed in with the next
    step's code.  The clock then moves on a step, so that the next code is a
    fresh one."""
    username = client.get(ME, headers=headers).json()["username"]
    started = client.post(TOTP, json=PROOF, headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = client.post(CONFIRM, json={"code": code_at(secret, clock.now)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert client.get(ME, headers=headers).status_code == 401
    clock.advance()
    signed = sign_in(client, username, code_at(secret, clock.now))
    assert signed.status_code == 200, signed.text
    headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
    clock.advance()
    return secret, confirmed.json()["recovery_codes"]


def entries(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all())


def failures(db, settings, username: str) -> int:
    key = DataCipher.from_settings(settings).keyed_digest(f"user:{username}", THROTTLE_PURPOSE)
    db.expire_all()
    row = db.get(LoginThrottle, key)
    return row.failures if row else 0


# --- enrolment --------------------------------------------------------------------


def test_enrolment_gives_a_secret_for_an_app_and_ten_recovery_codes_once(client, login, clock):
    headers = login("demo-staff-a")
    started = client.post(TOTP, json=PROOF, headers=headers)
    assert started.status_code == 200, started.text
    body = started.json()
    assert (body["algorithm"], body["digits"], body["period"]) == ("SHA1", 6, 30)
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert parsed.secret == body["secret"] and parsed.name == "demo-staff-a" and parsed.issuer == "Sexto"
    assert len(base64.b32decode(body["secret"])) == 20  # 160 bits
    assert client.get(ME, headers=headers).json()["mfa_enrolled"] is False
    assert client.get(ME, headers=headers).json()["mfa_recovery_codes_left"] is None
    # Not confirmed yet: the sign-in does not ask for it.
    assert sign_in(client, "demo-staff-a").status_code == 200

    wrong = client.post(CONFIRM, json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0] == {
        "field": "body.code",
        "code": "mfa_code_invalid",
        "detail": wrong.json()["errors"][0]["detail"],
    }
    confirmed = client.post(CONFIRM, json={"code": code_at(body["secret"], clock.now)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(len(code.replace("-", "")) == 24 for code in codes)
    # The token the factor was confirmed with was opened with the password alone: it ended.
    assert client.get(ME, headers=headers).status_code == 401
    clock.advance()
    headers = bearer(sign_in(client, "demo-staff-a", code_at(body["secret"], clock.now)).json()["access_token"])
    assert client.get(ME, headers=headers).json()["mfa_enrolled"] is True
    # Confirmed once: a second confirmation or a new start is a conflict.
    assert client.post(CONFIRM, json={"code": "123456"}, headers=headers).json()["code"] == "mfa_already_enrolled"
    assert client.post(TOTP, json=PROOF, headers=headers).json()["code"] == "mfa_already_enrolled"


def test_confirming_before_starting_is_a_conflict(client, login):
    answer = client.post(CONFIRM, json={"code": "123456"}, headers=login("demo-staff-a"))
    assert answer.status_code == 409 and answer.json()["code"] == "mfa_no_enrolment"


def test_a_service_account_has_no_second_factor(client, login, demo):
    body = {"name": "Portail police A", "role": "police_liaison", "scope": {"police_forces": [str(demo.force_a)]}}
    portal = approved_service_account(client, login, body, "demo-police-a")
    form = {
        "grant_type": "client_credentials",
        "client_id": portal["client_id"],
        "client_secret": portal["client_secret"],
    }
    token = client.post(TOKEN, data=form).json()["access_token"]
    answer = client.post(TOTP, json=PROOF, headers=bearer(token))
    assert answer.status_code == 403 and answer.json()["code"] == "mfa_people_only"


# --- signing in ---------------------------------------------------------------------


def test_signing_in_with_a_factor_needs_its_code(client, login, clock, db, settings):
    secret, _ = enrol(client, login("demo-staff-a"), clock)
    missing = sign_in(client, "demo-staff-a")
    assert missing.status_code == 401 and missing.json()["code"] == "mfa_required"
    # No code at all is no failure: the password was right and nothing was guessed.
    assert failures(db, settings, "demo-staff-a") == 0
    wrong = sign_in(client, "demo-staff-a", "000000")
    assert wrong.status_code == 401 and wrong.json()["code"] == "mfa_code_invalid"
    assert failures(db, settings, "demo-staff-a") == 1
    # A wrong password with the right code is still a wrong password.
    form = {
        "grant_type": "password",
        "username": "demo-staff-a",
        "password": "not-it",
        "otp": code_at(secret, clock.now),
    }
    assert client.post(TOKEN, data=form).json()["code"] == "invalid_grant"
    signed = sign_in(client, "demo-staff-a", code_at(secret, clock.now))
    assert signed.status_code == 200, signed.text
    assert failures(db, settings, "demo-staff-a") == 0
    assert client.get(ME, headers=bearer(signed.json()["access_token"])).status_code == 200
    reasons = [(e.status_code, e.reason) for e in entries(db, "issue_token")[-4:]]
    assert reasons == [(401, "mfa_required"), (401, "mfa_code_invalid"), (400, "invalid_grant"), (200, "totp")]


def test_a_code_works_once_and_one_step_either_side(client, login, clock, db):
    secret, _ = enrol(client, login("demo-staff-a"), clock)
    clock.advance()  # the step before is not the confirmation's, used already
    now = clock.now
    assert sign_in(client, "demo-staff-a", code_at(secret, now - STEP)).status_code == 200  # the app a step behind
    assert sign_in(client, "demo-staff-a", code_at(secret, now)).status_code == 200
    replayed = sign_in(client, "demo-staff-a", code_at(secret, now))
    assert replayed.status_code == 401 and replayed.json()["code"] == "mfa_code_invalid"
    assert entries(db, "issue_token")[-1].reason == "mfa_code_replayed"
    # An earlier step than the last one used is refused too, even within the drift.
    assert sign_in(client, "demo-staff-a", code_at(secret, now - STEP)).status_code == 401
    assert sign_in(client, "demo-staff-a", code_at(secret, now + STEP)).status_code == 200  # a step ahead
    # Two steps away is too far, either side.
    assert sign_in(client, "demo-staff-a", code_at(secret, now + 3 * STEP)).status_code == 401
    assert entries(db, "issue_token")[-1].reason == "mfa_code_invalid"
    clock.advance(4)
    assert sign_in(client, "demo-staff-a", code_at(secret, now + 4 * STEP)).status_code == 200


def test_two_sign_ins_with_one_code_one_passes(client, login, clock, database_url):
    """The step moves forward in one conditional UPDATE: the second use of a
    step finds it taken, in whatever transaction it comes."""
    enrol(client, login("demo-staff-a"), clock)
    engine = create_db_engine(database_url, pool_size=2)
    try:
        with Session(engine) as first, Session(engine) as second:
            user_id = first.exec(select(TotpFactor.user_id)).one()
            step = int(clock.now // STEP) + 5
            assert factor.take_step(first, user_id, step) is True
            first.commit()
            assert factor.take_step(second, user_id, step) is False
            assert factor.take_step(second, user_id, step + 1) is True
            second.commit()
    finally:
        engine.dispose()


def test_a_recovery_code_works_once_in_place_of_the_apps(client, login, clock, db):
    _, codes = enrol(client, login("demo-staff-a"), clock)
    used = sign_in(client, "demo-staff-a", codes[0].upper().replace("-", " "))  # case and spacing do not matter
    assert used.status_code == 200, used.text
    assert entries(db, "issue_token")[-1].reason == "recovery_code:9_left"
    again = sign_in(client, "demo-staff-a", codes[0])
    assert again.status_code == 401 and again.json()["code"] == "mfa_code_invalid"
    assert sign_in(client, "demo-staff-a", codes[1]).status_code == 200
    assert entries(db, "issue_token")[-1].reason == "recovery_code:8_left"
    assert client.get(ME, headers=login("demo-staff-a")).json()["mfa_recovery_codes_left"] == 8


def test_new_recovery_codes_replace_the_old_ones(client, login, clock, db):
    headers = login("demo-staff-a")
    secret, old = enrol(client, headers, clock)
    assert client.post(RECOVERY, json={**PROOF, "code": "000000"}, headers=headers).status_code == 422
    renewed = client.post(RECOVERY, json={**PROOF, "code": code_at(secret, clock.now)}, headers=headers)
    assert renewed.status_code == 200, renewed.text
    new = renewed.json()["recovery_codes"]
    assert not set(new) & set(old) and len(new) == 10
    db.expire_all()
    assert len(db.exec(select(RecoveryCode)).all()) == 10
    assert sign_in(client, "demo-staff-a", old[0]).status_code == 401
    assert sign_in(client, "demo-staff-a", new[0]).status_code == 200


def test_removing_my_factor_needs_a_code(client, login, clock, db, settings):
    headers = login("demo-staff-a")
    secret, codes = enrol(client, headers, clock)
    wrong = client.request("DELETE", TOTP, json={**PROOF, "code": "000000"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "mfa_code_invalid"
    assert failures(db, settings, "demo-staff-a") == 1
    # A recovery code does it too (a lost phone).
    removed = client.request("DELETE", TOTP, json={**PROOF, "code": codes[3]}, headers=headers)
    assert removed.status_code == 204, removed.text
    assert failures(db, settings, "demo-staff-a") == 0
    db.expire_all()
    assert db.exec(select(TotpFactor)).all() == [] and db.exec(select(RecoveryCode)).all() == []
    # The token it was removed with ended with it (as every other one did).
    assert client.get(ME, headers=headers).status_code == 401
    signed = sign_in(client, "demo-staff-a")
    assert signed.status_code == 200
    again = bearer(signed.json()["access_token"])
    gone = client.request("DELETE", TOTP, json={**PROOF, "code": code_at(secret, clock.now)}, headers=again)
    assert gone.status_code == 409 and gone.json()["code"] == "mfa_not_enrolled"


# --- re-authentication (OWASP ASVS 5.0 V7.5.1) -----------------------------------------


WRONG_PASSWORD = {"password": "not my password at all"}


def test_starting_an_enrolment_proves_the_password_again(client, login, db, settings):
    """A stolen session or token alone cannot put the thief's authenticator
    app on the account."""
    headers = login("demo-staff-a")
    wrong = client.post(TOTP, json=WRONG_PASSWORD, headers=headers)
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["errors"][0]["field"] == "body.password"
    assert wrong.json()["errors"][0]["code"] == "password_current_wrong"
    assert failures(db, settings, "demo-staff-a") == 1
    db.expire_all()
    assert db.exec(select(TotpFactor)).all() == []
    missing = client.post(TOTP, headers=headers)
    assert missing.status_code == 422
    # Both refusals are audited.
    assert [entry.status_code for entry in entries(db, "start_totp_enrolment")] == [422, 422]
    # The right one clears the count.
    assert client.post(TOTP, json=PROOF, headers=headers).status_code == 200
    assert failures(db, settings, "demo-staff-a") == 0


def test_changing_a_factor_needs_the_password_and_a_code(client, login, clock, db, settings):
    headers = login("demo-staff-a")
    _, codes = enrol(client, headers, clock)
    # The right code with a wrong password: refused, and the code is not used up.
    for method, path in (("DELETE", TOTP), ("POST", RECOVERY)):
        answer = client.request(method, path, json={**WRONG_PASSWORD, "code": codes[0]}, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["code"] == "password_current_wrong"
    assert failures(db, settings, "demo-staff-a") == 2
    db.expire_all()
    assert db.exec(select(TotpFactor)).one().confirmed_at is not None
    assert len(db.exec(select(RecoveryCode)).all()) == 10  # a used code is deleted
    # Both right: one request, one reservation, cleared.
    removed = client.request("DELETE", TOTP, json={**PROOF, "code": codes[0]}, headers=headers)
    assert removed.status_code == 204, removed.text
    assert failures(db, settings, "demo-staff-a") == 0


def test_a_right_password_refused_for_another_reason_is_no_failure(client, login, clock, db, settings):
    headers = login("demo-staff-a")
    gone = client.request("DELETE", TOTP, json={**PROOF, "code": "000000"}, headers=headers)
    assert gone.status_code == 409 and gone.json()["code"] == "mfa_not_enrolled"
    assert failures(db, settings, "demo-staff-a") == 0
    enrol(client, headers, clock)
    again = client.post(TOTP, json=PROOF, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "mfa_already_enrolled"
    assert failures(db, settings, "demo-staff-a") == 0


def test_guessing_codes_with_a_token_is_throttled_like_a_sign_in(client, login, clock, settings):
    headers = login("demo-staff-a")
    secret, _ = enrol(client, headers, clock)
    for _ in range(settings.login_max_failures):
        assert client.request("DELETE", TOTP, json={**PROOF, "code": "000000"}, headers=headers).status_code == 422
    locked = client.request("DELETE", TOTP, json={**PROOF, "code": code_at(secret, clock.now)}, headers=headers)
    assert locked.status_code == 429 and locked.json()["code"] == "login_throttled"
    assert sign_in(client, "demo-staff-a", code_at(secret, clock.now)).status_code == 429


# --- the admin's reset ------------------------------------------------------------------


def test_the_admin_resets_a_factor_and_the_accounts_tokens_end(client, login, clock, db, demo):
    headers = login("demo-staff-a")
    enrol(client, headers, clock)
    staff = demo.users["demo-staff-a"]
    assert client.post(f"/api/v1/users/{staff}/mfa/reset", headers=login("demo-lead-a")).status_code == 403
    reset = client.post(f"/api/v1/users/{staff}/mfa/reset", headers=login("demo-admin"))
    assert reset.status_code == 204, reset.text
    assert client.get(ME, headers=headers).status_code == 401  # its tokens ended
    signed = sign_in(client, "demo-staff-a")  # no factor any more
    assert signed.status_code == 200
    assert client.get(ME, headers=bearer(signed.json()["access_token"])).json()["mfa_enrolled"] is False
    entry = entries(db, "reset_user_mfa")[-1]
    assert (entry.outcome, entry.reason, entry.resource_id) == ("allowed", "factor_removed", str(staff))
    assert {str(demo.school_a)} <= set(entry.org_ids.split(","))  # the board's auditors see it
    unknown = client.post("/api/v1/users/00000000-0000-4000-8000-000000000000/mfa/reset", headers=login("demo-admin"))
    assert unknown.status_code == 404


# --- required per role -------------------------------------------------------------------


@pytest.fixture
def strict(settings) -> TestClient:
    """The service where school staff and leads must have a second factor."""
    required = settings.model_copy(update={"mfa_required_roles": [Role.school_staff, Role.school_lead]})
    with TestClient(create_app(required)) as strict_client:
        yield strict_client


def test_required_but_not_enrolled_signs_in_but_reaches_nothing_until_enrolled(strict, desk, clock):
    case = desk.open_case()  # by demo-staff-a, on the default service
    token = token_for(strict, "demo-staff-a")
    headers = bearer(token)
    me = strict.get(ME, headers=headers).json()
    assert me["mfa_enrolment_required"] is True and me["mfa_enrolled"] is False
    for path in ("/api/v1/cases", f"/api/v1/cases/{case['id']}", "/api/v1/grid-templates/current"):
        refused = strict.get(path, headers=headers)
        assert refused.status_code == 403 and refused.json()["code"] == "mfa_enrolment_required", path
    # A role not named is not concerned.
    assert strict.get("/api/v1/cases", headers=bearer(token_for(strict, "demo-police-a"))).status_code == 200

    enrol(strict, headers, clock)
    # Signed in again with the factor's code, the person reaches the case.
    assert strict.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 200
    assert strict.get(ME, headers=headers).json()["mfa_enrolment_required"] is False


def test_confirming_a_factor_ends_the_credentials_opened_without_it(strict, desk, clock):
    """Tokens and sessions opened with the password alone, while the person
    had to enrol, must not gain reach when someone confirms a factor in
    another one: only the one the code was proved in goes on."""
    case = desk.open_case()
    stale_token = bearer(token_for(strict, "demo-staff-a"))
    opened = strict.post("/api/v1/auth/sessions", json={"username": "demo-staff-a", "password": DEMO_PASSWORD})
    stale_session = {"Cookie": f"sexto_session={opened.cookies['sexto_session']}"}
    strict.cookies.clear()
    # The person enrols in a browser session of their own.
    here = strict.post("/api/v1/auth/sessions", json={"username": "demo-staff-a", "password": DEMO_PASSWORD})
    strict.cookies.clear()
    own = {"Cookie": f"sexto_session={here.cookies['sexto_session']}", "X-CSRF-Token": here.json()["csrf_token"]}
    secret = strict.post(TOTP, json=PROOF, headers=own).json()["secret"]
    confirmed = strict.post(CONFIRM, json={"code": code_at(secret, clock.now)}, headers=own)
    assert confirmed.status_code == 200, confirmed.text
    strict.cookies.clear()
    # That session goes on, under a new cookie: a copy of the old one reaches nothing.
    renewed = {"Cookie": f"sexto_session={confirmed.cookies['sexto_session']}"}
    assert strict.get(f"/api/v1/cases/{case['id']}", headers=renewed).status_code == 200
    for stale in (stale_token, stale_session, own):
        refused = strict.get(f"/api/v1/cases/{case['id']}", headers=stale)
        assert refused.status_code == 401, refused.text
    # Confirmed with a bearer token: that token ends too; the next sign-in takes the code.
    clock.advance()
    enrolled = bearer(token_for(strict, "demo-staff-b"))
    secret = strict.post(TOTP, json=PROOF, headers=enrolled).json()["secret"]
    assert strict.post(CONFIRM, json={"code": code_at(secret, clock.now)}, headers=enrolled).status_code == 200
    assert strict.get(ME, headers=enrolled).status_code == 401
    assert sign_in(strict, "demo-staff-b").json()["code"] == "mfa_required"


def test_a_person_who_must_enrol_may_sign_out_and_read_their_sessions_csrf_token(strict):
    token = token_for(strict, "demo-staff-a")
    assert strict.get(ME, headers=bearer(token)).json()["mfa_enrolment_required"] is True
    signed_out = strict.post("/api/v1/auth/sign-out", headers=bearer(token))
    assert signed_out.status_code == 204, signed_out.text
    assert strict.get(ME, headers=bearer(token)).status_code == 401
    # In a browser: the web app, reloaded, reads the CSRF token again to enrol or to sign out.
    opened = strict.post("/api/v1/auth/sessions", json={"username": "demo-staff-a", "password": DEMO_PASSWORD})
    assert opened.status_code == 201, opened.text
    strict.cookies.clear()
    cookie = {"Cookie": f"sexto_session={opened.cookies['sexto_session']}"}
    current = strict.get("/api/v1/auth/sessions/current", headers=cookie)
    assert current.status_code == 200, current.text
    csrf = {**cookie, "X-CSRF-Token": current.json()["csrf_token"]}
    assert strict.post(TOTP, json=PROOF, headers=csrf).status_code == 200
    assert [item["current"] for item in strict.get("/api/v1/auth/sessions", headers=cookie).json()["items"]] == [True]
    assert strict.delete("/api/v1/auth/sessions", headers=csrf).status_code == 204
    assert strict.post("/api/v1/auth/sign-out", headers=csrf).status_code == 204
    assert strict.get(ME, headers=cookie).status_code == 401


def test_removing_a_required_factor_takes_the_reach_away(strict, desk, clock):
    case = desk.open_case()
    headers = bearer(token_for(strict, "demo-staff-a"))
    _, codes = enrol(strict, headers, clock)
    assert strict.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 200
    assert strict.request("DELETE", TOTP, json={**PROOF, "code": codes[0]}, headers=headers).status_code == 204
    assert strict.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 401  # ended with it
    fresh = bearer(token_for(strict, "demo-staff-a"))
    assert strict.get(f"/api/v1/cases/{case['id']}", headers=fresh).json()["code"] == "mfa_enrolment_required"


@pytest.mark.parametrize("change", ["renew_recovery_codes", "remove_factor"])
def test_changing_a_factor_ends_the_other_credentials_and_renews_the_session_it_was_made_in(
    client, login, clock, desk, change
):
    """OWASP ASVS 5.0 V7.4.3: a factor changed (new recovery codes, or the
    factor removed) ends every other token and browser session of the
    account; the browser session the change was made in goes on under a new
    cookie, and a copy of the old one reaches nothing."""
    case = desk.open_case()
    headers = login("demo-staff-a")
    secret, codes = enrol(client, headers, clock)
    other_token = bearer(sign_in(client, "demo-staff-a", codes[0]).json()["access_token"])
    sessions = []
    for code in (codes[1], codes[2]):
        body = {"username": "demo-staff-a", "password": DEMO_PASSWORD, "otp": code}
        opened = client.post("/api/v1/auth/sessions", json=body)
        assert opened.status_code == 201, opened.text
        client.cookies.clear()
        sessions.append((opened.cookies["sexto_session"], opened.json()["csrf_token"]))
    (here, csrf), (elsewhere, _) = sessions
    own = {"Cookie": f"sexto_session={here}", "X-CSRF-Token": csrf}
    if change == "renew_recovery_codes":
        answer = client.post(RECOVERY, json={**PROOF, "code": code_at(secret, clock.now)}, headers=own)
        assert answer.status_code == 200, answer.text
    else:
        answer = client.request("DELETE", TOTP, json={**PROOF, "code": code_at(secret, clock.now)}, headers=own)
        assert answer.status_code == 204, answer.text
    client.cookies.clear()
    renewed = {"Cookie": f"sexto_session={answer.cookies['sexto_session']}"}
    assert answer.cookies["sexto_session"] != here
    assert client.get(f"/api/v1/cases/{case['id']}", headers=renewed).status_code == 200
    for stale in (headers, other_token, {"Cookie": f"sexto_session={elsewhere}"}, {"Cookie": f"sexto_session={here}"}):
        assert client.get(f"/api/v1/cases/{case['id']}", headers=stale).status_code == 401


def test_service_accounts_are_never_asked_for_a_factor(client, login, demo, settings):
    body = {"name": "Portail police A", "role": "police_liaison", "scope": {"police_forces": [str(demo.force_a)]}}
    portal = approved_service_account(client, login, body, "demo-police-a")
    required = settings.model_copy(update={"mfa_required_roles": [Role.police_liaison]})
    with TestClient(create_app(required)) as police_strict:
        form = {
            "grant_type": "client_credentials",
            "client_id": portal["client_id"],
            "client_secret": portal["client_secret"],
        }
        token = police_strict.post(TOKEN, data=form).json()["access_token"]
        assert police_strict.get("/api/v1/police/cases", headers=bearer(token)).status_code == 200
        person = bearer(token_for(police_strict, "demo-police-a"))
        assert police_strict.get("/api/v1/police/cases", headers=person).status_code == 403


def test_required_by_default_in_production_only():
    production = Settings.model_construct(environment=Environment.production, mfa_required_roles=None)
    development = Settings.model_construct(environment=Environment.development, mfa_required_roles=None)
    assert factor.required_roles(production) == {
        Role.school_staff,
        Role.school_lead,
        Role.police_liaison,
        Role.dpj_reporter,
    }
    assert factor.required_roles(development) == frozenset()
    chosen = Settings.model_construct(environment=Environment.production, mfa_required_roles=[Role.admin])
    assert factor.required_roles(chosen) == {Role.admin}
    assert Settings(mfa_required_roles=[]).mfa_required_roles == []


def test_the_settings_name_every_role_and_no_other():
    assert set(get_args(RoleName)) == {role.value for role in Role}


def test_the_setting_reads_role_names_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEXTO_MFA_REQUIRED_ROLES", '["school_staff", "admin"]')
    assert Settings().mfa_required_roles == [Role.school_staff, Role.admin]
    monkeypatch.setenv("SEXTO_MFA_REQUIRED_ROLES", '["principal"]')
    with pytest.raises(ValueError):
        Settings()


# --- at rest and in the audit log -----------------------------------------------------------


def test_the_secret_is_encrypted_at_rest_and_reencrypt_data_covers_it(client, login, clock, db, settings, var_dir):
    headers = login("demo-staff-a")
    started = client.post(TOTP, json=PROOF, headers=headers).json()
    db.expire_all()
    stored = db.exec(select(TotpFactor)).one()
    assert stored.secret.startswith("v1:") and started["secret"] not in stored.secret
    old_keys, old_current = _development_keys(var_dir / "data-keys.json")
    rotated = DataCipher({**old_keys, "rotated": secrets.token_bytes(32)}, "rotated")
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            assert datakeys.check_keys(connection, rotated) == []
        assert sum(datakeys.rewrap_batches(engine, rotated, 100)) >= 1
        with engine.connect() as connection:
            # The old key alone no longer reads it: the start-up check says so.
            problems = datakeys.check_keys(connection, DataCipher(old_keys, old_current))
            assert [(p.key_id, p.problem) for p in problems] == [("rotated", "missing_key")]
    finally:
        engine.dispose()
    db.expire_all()
    rewrapped = db.exec(select(TotpFactor)).one()
    assert rewrapped.secret.startswith("v1:rotated:")
    assert rotated.decrypt(rewrapped.secret, secret_context(rewrapped.user_id)) == started["secret"]


def test_no_secret_or_code_reaches_the_audit_log(client, login, clock, db):
    headers = login("demo-staff-a")
    secret, codes = enrol(client, headers, clock)
    used = code_at(secret, clock.now)
    assert sign_in(client, "demo-staff-a", used).status_code == 200
    assert sign_in(client, "demo-staff-a", codes[0]).status_code == 200
    assert sign_in(client, "demo-staff-a", "999999").status_code == 401
    db.expire_all()
    logged = " ".join(str(e.model_dump()) for e in db.exec(select(AuditEntry)).all())
    for value in (secret, used, codes[0], codes[0].replace("-", ""), "999999"):
        assert value.lower() not in logged.lower()
    actions = {e.action for e in db.exec(select(AuditEntry)).all()}
    assert {"start_totp_enrolment", "confirm_totp_enrolment", "issue_token"} <= actions


def test_the_migration_goes_down_and_up_with_factors_stored(databases):
    url = databases.clone("demo")
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            user_id = connection.execute(select(User.id).where(User.username == "demo-staff-a")).scalar_one()
            connection.execute(
                TotpFactor.__table__.insert().values(user_id=user_id, secret="v1:x:y", created_at=utcnow())
            )
            connection.execute(
                RecoveryCode.__table__.insert().values(
                    id=user_id, user_id=user_id, digest="0" * 64, created_at=utcnow()
                )
            )
    finally:
        engine.dispose()
    downgrade(url, "0018")
    engine = create_db_engine(url, pool_size=1)
    try:
        assert not {"totp_factor", "recovery_code"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    upgrade(url)
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
            assert connection.execute(text("SELECT count(*) FROM totp_factor")).scalar_one() == 0
    finally:
        engine.dispose()
