"""Separation of duties (issue 13 item 5): an admin acting alone never reads
case contents.  A grant of a case-reading or approving role made by an admin
waits for a person of the organization concerned (app/accounts/duties.py); a
password or secret the admin set gives no case reach; the credential that does
comes with the approval, to the approver."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlmodel import select

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.cases.policy import CAPABILITIES, Capability
from tests.conftest import approve_account, approved_service_account, token_for

TOKEN = "/api/v1/auth/token"
NAME = "Élève Secrète"
PASSPHRASE = "une phrase de passe choisie en secret"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_token(client, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = client.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def secret_case(desk):
    """A case at school A (board A), its participant named."""
    case = desk.open_case()
    desk.person(case, "distributor", name=NAME)
    return case


def reads_nothing(client, headers: dict[str, str], case: dict) -> None:
    """The caller reaches neither the case, nor its people, nor the lists."""
    assert client.get(f"/api/v1/cases/{case['id']}/participants", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 404
    listed = client.get("/api/v1/cases", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert NAME not in listed.text


def reads_the_names(client, headers: dict[str, str], case: dict) -> None:
    people = client.get(f"/api/v1/cases/{case['id']}/participants", headers=headers)
    assert people.status_code == 200, people.text
    assert [p["name"] for p in people.json()["items"]] == [NAME]


def admin_user(client, login, role: str, scope: dict, username: str = "attaque.admin") -> dict:
    body = {"username": username, "full_name": "Compte Administré", "role": role, "password": PASSPHRASE}
    created = client.post("/api/v1/users", json={**body, "scope": scope}, headers=login("demo-admin"))
    assert created.status_code == 201, created.text
    return created.json()


def test_the_tables_agree_with_the_policy():
    from app.accounts import duties

    reading = {role for role, capabilities in CAPABILITIES.items() if Capability.read_case in capabilities}
    assert reading == duties.CASE_READING
    assert duties.APPROVING <= duties.NEEDS_APPROVAL
    assert Role.admin not in duties.NEEDS_APPROVAL | duties.APPROVING


# --- the admin, acting alone -------------------------------------------------------------


def test_the_two_request_attack_of_the_issue_reads_nothing(client, login, demo, secret_case):
    """POST /service-accounts as school_lead of board A: no secret comes back,
    the account waits for board A's approval, and nothing the admin holds reads."""
    body = {"name": "SI pirate", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    created = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin"))
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["client_secret"] is None
    assert account["approval"]["in_force"] is False
    assert [b["id"] for b in account["approval"]["pending"]["boards"]] == [str(demo.board_a)]
    # Nor does rotating the secret hand one to the admin.
    rotated = client.post(f"/api/v1/service-accounts/{account['id']}/secret", headers=login("demo-admin"))
    assert rotated.status_code == 200 and rotated.json()["client_secret"] is None


def test_an_admin_made_user_signs_in_but_reads_nothing(client, login, demo, secret_case):
    user = admin_user(client, login, "school_lead", {"schools": [str(demo.school_a)]})
    headers = bearer(token_for(client, "attaque.admin", PASSPHRASE))
    reads_nothing(client, headers, secret_case)
    assert user["approval"]["credential_pending"] is True
    assert [s["id"] for s in user["approval"]["pending"]["schools"]] == [str(demo.school_a)]
    # Changing the password themselves does not make it the person's.
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSPHRASE, "new_password": "une autre phrase de passe en douce"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    reads_nothing(client, bearer(token_for(client, "attaque.admin", "une autre phrase de passe en douce")), secret_case)


def test_a_password_reset_by_the_admin_takes_the_reach_away(client, login, demo, secret_case):
    reads_the_names(client, login("demo-lead-a"), secret_case)
    reset = client.patch(
        f"/api/v1/users/{demo.users['demo-lead-a']}", json={"password": PASSPHRASE}, headers=login("demo-admin")
    )
    assert reset.status_code == 200, reset.text
    reads_nothing(client, bearer(token_for(client, "demo-lead-a", PASSPHRASE)), secret_case)
    assert reset.json()["approval"]["credential_pending"] is True
    assert [s["id"] for s in reset.json()["approval"]["pending"]["schools"]] == [str(demo.school_a)]


def test_a_secret_rotation_by_the_admin_takes_the_reach_away(client, login, demo, secret_case):
    body = {"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    account = approved_service_account(client, login, body, "demo-privacy-a")
    token = client_token(client, account["client_id"], account["client_secret"])
    reads_the_names(client, bearer(token), secret_case)
    rotated = client.post(f"/api/v1/service-accounts/{account['id']}/secret", headers=login("demo-admin"))
    assert rotated.status_code == 200 and rotated.json()["client_secret"] is None
    read = client.get(f"/api/v1/service-accounts/{account['id']}", headers=login("demo-admin")).json()
    assert read["approval"]["in_force"] is False
    assert [b["id"] for b in read["approval"]["pending"]["boards"]] == [str(demo.board_a)]
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401


def test_a_role_change_by_the_admin_reads_nothing(client, login, demo, secret_case):
    """An auditor's account (in force at once: it reads no case) made a school lead."""
    auditor = admin_user(client, login, "auditor", {"boards": [str(demo.board_a)]})
    changed = client.patch(
        f"/api/v1/users/{auditor['id']}",
        json={"role": "school_lead", "scope": {"schools": [str(demo.school_a)]}},
        headers=login("demo-admin"),
    )
    assert changed.status_code == 200, changed.text
    reads_nothing(client, bearer(token_for(client, "attaque.admin", PASSPHRASE)), secret_case)
    # The same with a service account whose secret the admin was shown.
    body = {"name": "SI d'audit", "role": "auditor", "scope": {"boards": [str(demo.board_a)]}}
    account = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin")).json()
    client.patch(
        f"/api/v1/service-accounts/{account['id']}",
        json={"role": "school_lead", "scope": {"boards": [str(demo.board_a)]}},
        headers=login("demo-admin"),
    )
    reads_nothing(client, bearer(client_token(client, account["client_id"], account["client_secret"])), secret_case)


def test_a_widened_scope_waits_for_the_other_boards_approval(client, login, desk, demo, secret_case):
    agreement = {"police_force_id": str(demo.force_b), "reference": "DPCP-B", "starts_on": "2025-09-01"}
    assert client.post("/api/v1/agreements", json=agreement, headers=login("demo-admin")).status_code == 201
    case_b = desk.open_case(user="demo-staff-b", school_id=str(demo.school_b))
    widened = client.patch(
        f"/api/v1/users/{demo.users['demo-lead-a']}",
        json={"scope": {"schools": [str(demo.school_a), str(demo.school_b)]}},
        headers=login("demo-admin"),
    )
    assert widened.status_code == 200, widened.text
    # School A's grant keeps its approval; school B's waits for board B.
    assert [s["id"] for s in widened.json()["approval"]["pending"]["schools"]] == [str(demo.school_b)]
    lead = login("demo-lead-a")
    reads_the_names(client, lead, secret_case)
    assert client.get(f"/api/v1/cases/{case_b['id']}", headers=lead).status_code == 404
    # Board A's privacy officer cannot approve it; board B's can.
    assert not client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
    approve_account(client, login("demo-privacy-b"), demo.users["demo-lead-a"])
    assert client.get(f"/api/v1/cases/{case_b['id']}", headers=lead).status_code == 200


def test_an_account_the_admin_made_cannot_approve(client, login, demo, secret_case):
    """The admin makes a privacy officer of board A, signs in as it, and tries
    to approve its own case-reading account: the approver's reach is itself
    waiting for approval, so it sees nothing to approve."""
    body = {"name": "SI pirate", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    account = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin")).json()
    admin_user(client, login, "privacy_officer", {"boards": [str(demo.board_a)]})
    accomplice = bearer(token_for(client, "attaque.admin", PASSPHRASE))
    assert client.get("/api/v1/approvals", headers=accomplice).json()["items"] == []
    grant = next(
        item
        for item in client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
        if item["account_id"] == account["id"]
    )
    assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=accomplice).status_code == 404
    # Nor does the admin approve anything.
    assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=login("demo-admin")).status_code == 403
    assert client.get("/api/v1/approvals", headers=login("demo-admin")).status_code == 403


def test_nobody_approves_their_own_grant(client, login, demo):
    client.patch(
        f"/api/v1/users/{demo.users['demo-lead-a']}",
        json={"scope": {"schools": [str(demo.school_a)], "boards": [str(demo.board_a)]}},
        headers=login("demo-admin"),
    )
    waiting = client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
    (grant,) = [item for item in waiting if item["account_id"] == str(demo.users["demo-lead-a"])]
    lead = login("demo-lead-a")
    assert client.get("/api/v1/approvals", headers=lead).json()["items"] == []
    assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=lead).status_code == 404
    assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=login("demo-privacy-a")).status_code == 200


def test_the_wrong_board_or_force_cannot_approve(client, login, demo):
    body = {"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    account = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin")).json()
    grant = next(
        item
        for item in client.get("/api/v1/approvals", headers=login("demo-lead-a")).json()["items"]
        if item["account_id"] == account["id"]
    )
    for outsider in ("demo-privacy-b", "demo-police-a", "demo-police-b"):
        assert client.get("/api/v1/approvals", headers=login(outsider)).json()["items"] == [], outsider
        refused = client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=login(outsider))
        assert refused.status_code == 404, outsider
    for never in ("demo-auditor", "demo-staff-a", "demo-dpj-a"):
        assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=login(never)).status_code == 403
    # A police portal is approved by its own force's liaison.
    body = {"name": "Portail A", "role": "police_liaison", "scope": {"police_forces": [str(demo.force_a)]}}
    portal = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin")).json()
    assert client.get("/api/v1/approvals", headers=login("demo-police-b")).json()["items"] == []
    assert approve_account(client, login("demo-police-a"), portal["id"])["client_id"] == portal["client_id"]


# --- approved by the right person ----------------------------------------------------------


def test_after_approval_the_person_reads_what_the_role_allows(client, login, demo, secret_case):
    admin_user(client, login, "school_lead", {"schools": [str(demo.school_a)]}, username="nouvelle.direction")
    waiting = client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
    (item,) = [i for i in waiting if i["username"] == "nouvelle.direction"]
    assert item["role"] == "school_lead" and item["organization"]["id"] == str(demo.school_a)
    credential = approve_account(client, login("demo-privacy-a"), item["account_id"])
    assert credential["username"] == "nouvelle.direction" and credential["temporary_password"]
    # The admin's password is gone; the temporary one signs in with no reach until changed.
    refused = client.post(
        TOKEN, data={"grant_type": "password", "username": "nouvelle.direction", "password": PASSPHRASE}
    )
    assert refused.status_code == 400
    temporary = bearer(token_for(client, "nouvelle.direction", credential["temporary_password"]))
    assert client.get("/api/v1/auth/me", headers=temporary).json()["must_change_password"] is True
    reads_nothing(client, temporary, secret_case)
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": credential["temporary_password"], "new_password": "ma propre phrase de passe"},
        headers=temporary,
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/v1/auth/me", headers=temporary).status_code == 401  # signed out everywhere
    reads_the_names(client, bearer(token_for(client, "nouvelle.direction", "ma propre phrase de passe")), secret_case)
    user = client.get(f"/api/v1/users/{item['account_id']}", headers=login("demo-admin")).json()
    assert user["approval"] == {
        "in_force": True,
        "credential_pending": False,
        "pending": {"boards": [], "schools": [], "police_forces": [], "platform": False},
        "refused": {"boards": [], "schools": [], "police_forces": [], "platform": False},
    }


def test_after_approval_the_service_account_reads_with_the_secret_the_approver_got(client, login, demo, secret_case):
    body = {"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    account = approved_service_account(client, login, body, "demo-lead-a")
    reads_the_names(client, bearer(client_token(client, account["client_id"], account["client_secret"])), secret_case)


def test_a_refused_grant_gives_no_reach_until_asked_again(client, login, demo, secret_case):
    user = admin_user(client, login, "school_lead", {"schools": [str(demo.school_a)]})
    waiting = client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
    (grant,) = [i for i in waiting if i["account_id"] == user["id"]]
    refused = client.post(f"/api/v1/approvals/{grant['id']}/refuse", headers=login("demo-privacy-a"))
    assert refused.status_code == 200 and refused.json()["approval"] == "refused"
    assert refused.json()["credential"] is None
    read = client.get(f"/api/v1/users/{user['id']}", headers=login("demo-admin")).json()
    assert [s["id"] for s in read["approval"]["refused"]["schools"]] == [str(demo.school_a)]
    # Decided: no longer anyone's to approve.
    assert client.post(f"/api/v1/approvals/{grant['id']}/approve", headers=login("demo-lead-a")).status_code == 404
    # The admin asks again: pending again.
    again = client.patch(
        f"/api/v1/users/{user['id']}", json={"scope": {"schools": [str(demo.school_a)]}}, headers=login("demo-admin")
    ).json()
    assert [s["id"] for s in again["approval"]["pending"]["schools"]] == [str(demo.school_a)]


def test_approvals_and_refusals_are_audited_without_names(client, login, demo, db):
    users = [
        admin_user(client, login, "school_staff", {"schools": [str(demo.school_a)]}, username=f"audit.{n}")
        for n in ("un", "deux")
    ]
    waiting = {
        i["account_id"]: i["id"]
        for i in client.get("/api/v1/approvals", headers=login("demo-privacy-a")).json()["items"]
    }
    approver = demo.users["demo-privacy-a"]
    for user, decision in zip(users, ("approve", "refuse"), strict=True):
        grant_id = waiting[user["id"]]
        assert (
            client.post(f"/api/v1/approvals/{grant_id}/{decision}", headers=login("demo-privacy-a")).status_code == 200
        )
        db.expire_all()
        entry = db.exec(
            select(AuditEntry).where(AuditEntry.action == f"{decision}_grant").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.outcome == "allowed"
        assert (entry.actor_id, entry.actor_role) == (str(approver), "privacy_officer")
        assert (entry.resource_type, entry.resource_id) == ("scope_grants", grant_id)
        assert user["id"] in (entry.returned_ids or "")
        assert {str(demo.school_a), str(demo.board_a)} <= set((entry.org_ids or "").split(","))
        assert "Compte Administré" not in str(entry.model_dump()) and user["username"] not in str(entry.model_dump())
    # A refused attempt is audited as denied.
    client.post(f"/api/v1/approvals/{waiting[users[0]['id']]}/approve", headers=login("demo-privacy-b"))
    db.expire_all()
    denied = db.exec(
        select(AuditEntry).where(AuditEntry.action == "approve_grant").order_by(AuditEntry.id.desc())
    ).first()
    assert denied is not None and denied.outcome == "denied" and denied.status_code == 404


# --- the first approver of an organization: the operator's command --------------------------


def test_the_operator_approves_a_boards_first_approver_from_the_command_line(
    client, login, demo, settings, var_dir, db
):
    officer = admin_user(client, login, "privacy_officer", {"boards": [str(demo.board_a)]}, username="premiere.agente")
    env = {**os.environ, "SEXTO_DATABASE_URL": settings.effective_database_url, "SEXTO_VAR_DIR": str(var_dir)}
    run = [sys.executable, "-m", "app.cli", "accounts", "approve", "--json", f"user:{officer['id']}"]
    done = subprocess.run(run, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["approved_grants"] == 1
    temporary = printed["credential"]["temporary_password"]
    db.expire_all()
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "approve_grant")).one()
    assert (entry.actor_kind, entry.actor_id, entry.resource_id) == ("system", "operator", officer["id"])
    assert str(demo.board_a) in (entry.org_ids or "")
    # The officer changes the temporary password, then approves board A's grants.
    headers = bearer(token_for(client, "premiere.agente", temporary))
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": temporary, "new_password": "la phrase de passe de la responsable"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    mine = bearer(token_for(client, "premiere.agente", "la phrase de passe de la responsable"))
    body = {"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}}
    account = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin")).json()
    assert approve_account(client, mine, account["id"])["client_id"] == account["client_id"]
    # Nothing left to approve: the command says so.
    again = subprocess.run(run, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "nothing" in again.stderr


def test_a_privacy_officer_not_in_force_is_told_so_on_every_privacy_route(client, login, demo):
    """An admin-made privacy officer signs in: its grant waits for approval,
    so it has no board; every privacy route says so (403), none fails (500)."""
    admin_user(client, login, "privacy_officer", {"boards": [str(demo.board_a)]})
    waiting = bearer(token_for(client, "attaque.admin", PASSPHRASE))
    some_id = "6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21"
    for path, params in [
        ("/api/v1/privacy/retention-rule", {}),
        ("/api/v1/privacy/retention/preview", {}),
        ("/api/v1/privacy/legal-holds", {}),
        ("/api/v1/privacy/incidents", {}),
        ("/api/v1/privacy/incidents/export", {}),
        (f"/api/v1/privacy/incidents/{some_id}", {}),
        (f"/api/v1/privacy/incidents/{some_id}/history", {}),
        ("/api/v1/privacy/access-review", {"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"}),
    ]:
        answer = client.get(path, params=params, headers=waiting)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["code"] == "scope_not_in_force", (path, answer.text)


def test_a_password_in_use_in_a_role_without_approval_gives_no_reach_in_a_case_role(client, login, demo, secret_case):
    """The auditor's own password was never vouched for by an approver: when
    an admin moves the account into a case-reading role, the approval issues
    a temporary password to the approver, and the old password reads nothing."""
    from tests.conftest import DEMO_PASSWORD

    auditor = demo.users["demo-auditor"]
    moved = client.patch(
        f"/api/v1/users/{auditor}",
        json={"role": "school_lead", "scope": {"schools": [str(demo.school_a)]}},
        headers=login("demo-admin"),
    )
    assert moved.status_code == 200, moved.text
    credential = approve_account(client, login("demo-privacy-a"), auditor)
    assert credential is not None and credential["temporary_password"]
    old_password = {"grant_type": "password", "username": "demo-auditor", "password": DEMO_PASSWORD}
    refused = client.post("/api/v1/auth/token", data=old_password)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_grant", refused.text
    temporary = bearer(token_for(client, "demo-auditor", credential["temporary_password"]))
    reads_nothing(client, temporary, secret_case)  # until the person sets their own


def test_a_grant_not_in_force_does_not_make_one_a_member_of_the_school(client, login, demo, secret_case):
    """A school staff account whose grant waits for approval is no staff of
    the school yet: the lead can neither list it nor put it on a case team."""
    made = admin_user(client, login, "school_staff", {"schools": [str(demo.school_a)]})
    lead = login("demo-lead-a")
    listed = client.get("/api/v1/staff", params={"school_id": str(demo.school_a), "limit": 100}, headers=lead)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"], "the school's approved staff are listed"
    assert made["id"] not in {item["id"] for item in listed.json()["items"]}
    added = client.post(f"/api/v1/cases/{secret_case['id']}/team", json={"user_id": made["id"]}, headers=lead)
    assert added.status_code == 422, added.text
    assert added.json()["code"] == "team_member_invalid"


# --- identity providers: the approvers find the ones waiting for them ------------------------


def test_an_approver_lists_the_identity_providers_waiting_for_it(client, login, demo):
    """The admin registers a provider for board A and one for force A: each
    waits for its own organization's approvers, who find it listed until one
    of them approves it; others see none, and the admin is not an approver."""
    admin = login("demo-admin")
    common = {"client_secret_file": "idp-secret", "allowed_domains": ["demo-a.example"]}
    board = client.post(
        "/api/v1/identity-providers",
        json={
            **common,
            "name": "CSS A",
            "board_id": str(demo.board_a),
            "issuer": "https://idp.example/a",
            "client_id": "a",
        },
        headers=admin,
    ).json()
    force = client.post(
        "/api/v1/identity-providers",
        json={
            **common,
            "name": "Police A",
            "police_force_id": str(demo.force_a),
            "issuer": "https://idp.example/p",
            "client_id": "p",
        },
        headers=admin,
    ).json()
    waiting = "/api/v1/approvals/identity-providers"

    def listed(username: str) -> list[str]:
        response = client.get(waiting, headers=login(username))
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert listed("demo-privacy-a") == listed("demo-lead-a") == [board["id"]]
    assert listed("demo-police-a") == [force["id"]]
    assert listed("demo-privacy-b") == listed("demo-police-b") == []
    item = client.get(waiting, headers=login("demo-privacy-a")).json()["items"][0]
    assert item["client_secret_file"] == "idp-secret" and "client_secret" not in item
    for never in ("demo-admin", "demo-auditor", "demo-staff-a", "demo-dpj-a"):
        assert client.get(waiting, headers=login(never)).status_code == 403, never
    # Paginated like every list.
    first = client.get(waiting, params={"limit": 1}, headers=login("demo-privacy-a")).json()
    assert first["next_cursor"] is None and len(first["items"]) == 1
    approved = client.post(f"/api/v1/identity-providers/{board['id']}/approve", headers=login("demo-lead-a"))
    assert approved.status_code == 200, approved.text
    assert listed("demo-privacy-a") == []
    # A change of whom it trusts asks again.
    client.patch(f"/api/v1/identity-providers/{board['id']}", json={"client_id": "a2"}, headers=admin)
    assert listed("demo-privacy-a") == [board["id"]]
