"""The privacy officer's access review: unusual access to the board's cases,
found in the audit log, each finding linked to its entries and turned into
a register entry.  Low thresholds here; no hour counts as a school hour, so
that every case access is "outside school hours" whenever the test runs."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.orgs.service import local_today
from tests.conftest import make_settings
from tests.protocol_helpers import Desk


@pytest.fixture
def settings(app_database_url, var_dir):
    return make_settings(
        app_database_url,
        var_dir,
        review_denied_threshold=5,
        review_distinct_cases_threshold=3,
        review_window_minutes=60,
        review_school_hours=(0, 0),
    )


def review(desk: Desk, user: str = "demo-privacy-a") -> list[dict]:
    return desk.ok("GET", "/privacy/access-review", user)["findings"]


def test_many_denied_requests_many_cases_and_odd_hours_are_found_and_linked(desk, demo):
    cases = [desk.open_case("demo-lead-a") for _ in range(3)]
    for case in cases:
        desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")
    for _ in range(6):  # not on the team: each is a denial
        assert desk.call("GET", f"/cases/{cases[0]['id']}", "demo-staff-a2").status_code == 404
    findings = review(desk)
    lead, snooper = str(demo.users["demo-lead-a"]), str(demo.users["demo-staff-a2"])
    kinds = {(f["kind"], f["actor_id"]) for f in findings}
    assert ("many_denied", snooper) in kinds
    assert ("many_cases", lead) in kinds
    assert ("off_hours", lead) in kinds
    denied = next(f for f in findings if f["kind"] == "many_denied")
    assert denied["count"] == 6 and len(denied["audit_entry_ids"]) == 6 and denied["actor_role"] == "school_staff"
    many = next(f for f in findings if f["kind"] == "many_cases")
    assert many["count"] == 3
    # The link opens those entries in the audit log, for the privacy officer too.
    events = desk.client.get(denied["events_url"], headers=desk.login("demo-privacy-a"))
    assert events.status_code == 200, events.text
    listed = {e["id"] for e in events.json()["items"]}
    assert set(denied["audit_entry_ids"]) <= listed
    assert {e["actor_id"] for e in events.json()["items"]} == {snooper}
    # The other board's officer sees none of it.
    assert review(desk, "demo-privacy-b") == []


def _local_date(timestamp: str, settings) -> str:
    """The schools' calendar date of a UTC time (the register's dates are
    local: from 00:00 to 05:00 UTC, the UTC date is tomorrow in Quebec)."""
    return local_today(settings.local_timezone, datetime.fromisoformat(timestamp)).isoformat()


def test_a_finding_becomes_a_register_entry(desk, demo, settings):
    case = desk.open_case("demo-lead-a")
    for _ in range(5):
        desk.call("GET", f"/cases/{case['id']}/notes", "demo-staff-a2")
    finding = next(f for f in review(desk) if f["kind"] == "many_denied")
    entry = {
        "information_involved": "Aucune : accès refusés.",
        "circumstances": "Tentatives répétées d'ouvrir un dossier hors de l'équipe.",
        "occurred_from": _local_date(finding["first_at"], settings),
        "discovered_on": _local_date(finding["last_at"], settings),
        "people_concerned": 0,
        "audit_entry_ids": finding["audit_entry_ids"],
        "case_ids": [case["id"]],
    }
    created = desk.ok("POST", "/privacy/incidents", "demo-privacy-a", 201, json=entry)
    assert created["audit_entry_ids"] == sorted(finding["audit_entry_ids"])
    # Entries of another board (or none at all) cannot be named.
    elsewhere = desk.call("POST", "/privacy/incidents", "demo-privacy-b", json={**entry, "case_ids": []})
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "incident_entry_unknown"


def test_the_review_period_is_bounded_and_the_review_is_the_privacy_officers(desk):
    too_long = desk.call(
        "GET", "/privacy/access-review?since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z", "demo-privacy-a"
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "review_period_invalid"
    backwards = desk.call(
        "GET", "/privacy/access-review?since=2026-03-01T00:00:00Z&until=2026-02-01T00:00:00Z", "demo-privacy-a"
    )
    assert backwards.status_code == 422
    for user in ("demo-auditor", "demo-lead-a", "demo-admin"):
        assert desk.call("GET", "/privacy/access-review", user).status_code == 403


def test_the_privacy_officer_reads_only_the_entries_about_its_boards_cases(desk, demo, db):
    case = desk.open_case("demo-lead-a")
    # An outsider probing board A's case: board A's officer sees it, board B's does not.
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-b").status_code == 404
    desk.ok("GET", "/cases", "demo-staff-b")  # a list by board B's staff: about no case of board A
    mine = desk.ok("GET", "/audit/events?limit=100", "demo-privacy-a")["items"]
    assert mine and {e["case_id"] for e in mine} == {case["id"]}
    probe = [e for e in mine if e["actor_id"] == str(demo.users["demo-staff-b"])]
    assert [(e["action"], e["outcome"], e["status_code"]) for e in probe] == [("read_case", "denied", 404)]
    theirs = desk.ok("GET", "/audit/events?limit=100", "demo-privacy-b")["items"]
    assert theirs == []


def test_a_caller_acting_for_two_boards_does_not_carry_one_boards_entries_to_the_other(desk, demo):
    # A DPJ reporter's region can span boards: its lists name both boards' schools.
    desk.ok(
        "PATCH",
        f"/users/{demo.users['demo-dpj-a']}",
        "demo-admin",
        json={"scope": {"schools": [str(demo.school_a), str(demo.school_b)]}},
    )
    desk.ok("GET", "/cases", "demo-dpj-a")
    assert desk.ok("GET", "/audit/events?limit=100", "demo-privacy-b")["items"] == []
    assert review(desk, "demo-privacy-b") == []
