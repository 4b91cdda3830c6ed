"""Building the case team: a school lead finds the staff of its schools
(name, role, attestation, whether each may handle cases), and the team reads
back with names."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from tests.conftest import MISSING_ID, approve_account
from tests.protocol_helpers import Desk

# School A's staff in the demo: (username, name, role, attestation, may handle cases)
SCHOOL_A_STAFF = {
    ("demo-lead-a", "Louise Direction", "school_lead", "architect", True),
    ("demo-staff-a", "Sam Intervenant", "school_staff", "architect", True),
    ("demo-staff-a2", "Sophie Nouvelle", "school_staff", "explorer", False),
}


def _staff(desk: Desk, user: str = "demo-lead-a", **params) -> list[dict]:
    """Every page of the staff list."""
    items, cursor = [], None
    while True:
        page = desk.ok("GET", "/staff", user, params={**params, **({"cursor": cursor} if cursor else {})})
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _as_rows(desk: Desk, items: list[dict]) -> set[tuple]:
    username = {str(user_id): name for name, user_id in desk.demo.users.items()}
    return {(username[i["id"]], i["full_name"], i["role"], i["attestation"], i["may_handle_cases"]) for i in items}


def test_a_lead_reads_the_staff_of_its_schools_and_no_others(desk):
    everyone = _staff(desk)
    assert set(everyone[0]) == {"id", "full_name", "role", "attestation", "may_handle_cases"}
    # School B's staff member and the DPJ reporter of school A are not school staff of A.
    assert _as_rows(desk, everyone) == SCHOOL_A_STAFF
    assert _as_rows(desk, _staff(desk, school_id=str(desk.demo.school_a))) == SCHOOL_A_STAFF
    assert _as_rows(desk, _staff(desk, limit=1)) == SCHOOL_A_STAFF  # one per page, cursor-paginated


def test_another_school_reads_as_one_that_does_not_exist(desk):
    other = desk.call("GET", "/staff", "demo-lead-a", params={"school_id": str(desk.demo.school_b)})
    missing = desk.call("GET", "/staff", "demo-lead-a", params={"school_id": MISSING_ID})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert "Benoît" not in other.text


def test_staff_granted_a_whole_board_are_staff_of_its_schools_and_disabled_accounts_are_not(desk):
    board_wide = desk.ok(
        "POST",
        "/users",
        "demo-admin",
        201,
        json={
            "username": "m.conseillere",
            "full_name": "Martine Conseillère",
            "role": "school_staff",
            "password": "une phrase de passe assez longue",
            "scope": {"boards": [str(desk.demo.board_a)]},
        },
    )
    # Staff of the board's schools once the grant is in force (app.accounts.duties), not before.
    assert board_wide["id"] not in {i["id"] for i in _staff(desk, school_id=str(desk.demo.school_a))}
    approve_account(desk.client, desk.login("demo-privacy-a"), board_wide["id"])
    assert board_wide["id"] in {i["id"] for i in _staff(desk, school_id=str(desk.demo.school_a))}
    desk.ok("PATCH", f"/users/{board_wide['id']}", "demo-admin", json={"is_active": False})
    assert board_wide["id"] not in {i["id"] for i in _staff(desk)}


@pytest.mark.parametrize(
    "user",
    ["demo-staff-a", "demo-staff-b", "demo-police-a", "demo-dpj-a", "demo-auditor", "demo-privacy-a", "demo-admin"],
)
def test_only_school_leads_read_the_staff(desk, user):
    refused = desk.call("GET", "/staff", user)
    assert refused.status_code == 403
    assert "Sam Intervenant" not in refused.text
    assert desk.client.get("/api/v1/staff").status_code == 401


def test_the_staff_list_is_audited_with_the_ids_it_returned_and_no_names(desk, db):
    listed = desk.ok("GET", "/staff", "demo-lead-a")["items"]
    db.expire_all()
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.outcome, entry.actor_role) == ("list_staff", "allowed", "school_lead")
    assert entry.returned_ids.split(",") == [i["id"] for i in listed]
    assert "Sam Intervenant" not in json.dumps(entry.model_dump(mode="json"))


def test_the_team_reads_back_with_names_roles_and_attestations(desk):
    case = desk.open_case()
    added = desk.ok(
        "POST", f"/cases/{case['id']}/team", "demo-lead-a", 201, json={"user_id": str(desk.demo.users["demo-staff-a2"])}
    )
    assert (added["full_name"], added["role"], added["attestation"], added["may_handle_cases"]) == (
        "Sophie Nouvelle",
        "school_staff",
        "explorer",
        False,
    )
    team = desk.ok("GET", f"/cases/{case['id']}/team", "demo-staff-a")["items"]
    assert {(m["full_name"], m["role"], m["attestation"], m["may_handle_cases"]) for m in team} == {
        ("Sam Intervenant", "school_staff", "architect", True),
        ("Sophie Nouvelle", "school_staff", "explorer", False),
    }
    assert all(
        set(m) == {"user_id", "full_name", "role", "attestation", "may_handle_cases", "added_by", "created_at"}
        for m in team
    )


def test_a_members_new_attestation_changes_the_teams_etag(desk):
    case = desk.open_case()
    desk.ok(
        "POST", f"/cases/{case['id']}/team", "demo-lead-a", 201, json={"user_id": str(desk.demo.users["demo-staff-a2"])}
    )
    path = f"/cases/{case['id']}/team"
    etag = desk.call("GET", path, "demo-lead-a").headers["etag"]
    badge = {
        "level": "architect",
        "obtained_on": "2026-01-15",
        "badge_url": "https://badges.example.org/sexto/architecte/2",
    }
    desk.ok("POST", f"/users/{desk.demo.users['demo-staff-a2']}/attestations", "demo-admin", 200, json=badge)
    again = desk.call("GET", path, "demo-lead-a", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert {m["full_name"]: m["may_handle_cases"] for m in again.json()["items"]}["Sophie Nouvelle"] is True


def test_a_lead_takes_a_member_off_the_team_and_the_member_no_longer_reads_the_case(desk, db):
    case = desk.open_case()  # opened by demo-staff-a, on its team
    staff = str(desk.demo.users["demo-staff-a"])
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").status_code == 200
    # Only a lead takes someone off: the member cannot take themself or another off.
    assert desk.call("DELETE", f"/cases/{case['id']}/team/{staff}", "demo-staff-a").status_code == 403
    removed = desk.call("DELETE", f"/cases/{case['id']}/team/{staff}", "demo-lead-a")
    assert removed.status_code == 204, removed.text
    gone = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert gone.status_code == 404
    assert staff not in {m["user_id"] for m in desk.ok("GET", f"/cases/{case['id']}/team", "demo-lead-a")["items"]}
    # A retried removal is no error; both are audited, by id, without names.
    again = desk.call("DELETE", f"/cases/{case['id']}/team/{staff}", "demo-lead-a")
    assert again.status_code == 204
    db.expire_all()
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "remove_team_member").order_by(AuditEntry.id)).all()
    assert [(e.outcome, e.reason, e.resource_id) for e in entries][-2:] == [
        ("allowed", "removed", staff),
        ("allowed", "not_a_member", staff),
    ]
    assert "Sam Intervenant" not in json.dumps([e.model_dump(mode="json") for e in entries])
    # Added back, the member reads the case again.
    desk.ok("POST", f"/cases/{case['id']}/team", "demo-lead-a", 201, json={"user_id": staff})
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").status_code == 200


def test_another_schools_lead_cannot_take_anyone_off(desk):
    case = desk.open_case()
    staff = str(desk.demo.users["demo-staff-a"])
    refused = desk.call("DELETE", f"/cases/{case['id']}/team/{staff}", "demo-staff-b")
    missing = desk.call("DELETE", f"/cases/{MISSING_ID}/team/{staff}", "demo-staff-b")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
