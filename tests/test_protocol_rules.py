"""Each guard alone, each role's scope, conflicting transitions, and no media."""

from __future__ import annotations

import base64
import threading
import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from app.cases.models import Case, Contact, GridSubmission, Note, Participant
from app.grid.templates import BUILT_IN, GridTemplates
from app.main import create_app
from tests.conftest import token_for, write_routes
from tests.protocol_helpers import Desk, answers

INTAKE = {"reporter_type": "student", "channel": "phone", "summary": "x"}


# One account of each role: every route serves at least one of them.
SWEEP_CALLERS = (
    "demo-admin",
    "demo-lead-a",
    "demo-staff-a",
    "demo-police-a",
    "demo-dpj-a",
    "demo-privacy-a",
    "demo-auditor",
)


def gathering_case(desk: Desk, **case_fields) -> tuple[dict, dict]:
    case = desk.open_case(**case_fields)
    reporter = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, reporter).status_code == 201
    desk.go(case, "start_gathering")
    return case, reporter


# --- opening ------------------------------------------------------------------------


def test_references_are_sequential_per_school_and_year(desk):
    first, second = desk.open_case(), desk.open_case()
    year = date.today().year
    assert first["reference"] == f"SX-{year}-00001"
    assert second["reference"] == f"SX-{year}-00002"


def test_opening_needs_an_agreement_in_force(desk):
    response = desk.call(
        "POST",
        "/cases",
        "demo-staff-b",
        json={
            "school_id": str(desk.demo.school_b),
            "reporter_type": "student",
            "channel": "phone",
            "place": "online_only",
            "summary": "x",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "kit_not_permitted"
    assert "DPCP" in response.json()["detail"]


def test_opening_needs_the_architect_attestation(desk):
    response = desk.call(
        "POST",
        "/cases",
        "demo-staff-a2",
        json={
            "school_id": str(desk.demo.school_a),
            "reporter_type": "student",
            "channel": "phone",
            "place": "online_only",
            "summary": "x",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "architect_required"


def test_opening_at_a_school_out_of_scope_is_refused(desk):
    response = desk.call(
        "POST",
        "/cases",
        "demo-staff-a",
        json={
            "school_id": str(desk.demo.school_b),
            "reporter_type": "student",
            "channel": "phone",
            "place": "online_only",
            "summary": "x",
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize("user", ["demo-police-a", "demo-dpj-a", "demo-auditor", "demo-admin"])
def test_only_school_staff_open_cases(desk, user):
    response = desk.call(
        "POST",
        "/cases",
        user,
        json={
            "school_id": str(desk.demo.school_a),
            "reporter_type": "student",
            "channel": "phone",
            "place": "online_only",
            "summary": "x",
        },
    )
    assert response.status_code == 403


# --- each guard alone ------------------------------------------------------------------


def test_gathering_needs_the_reporters_grid(desk):
    case = desk.open_case()
    desk.go(case, "start_evaluation")
    refused = desk.transition(case, "start_gathering")
    assert refused.status_code == 409
    assert refused.json()["code"] == "reporter_grid_required"
    assert refused.headers["content-type"] == "application/problem+json"
    english = desk.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"action": "start_gathering"},
        headers={**desk.login("demo-staff-a"), "Accept-Language": "en"},
    )
    assert english.json()["detail"].startswith("First complete the evaluation grid")


def test_a_parent_reporting_outside_school_may_skip_the_reporter_grid(desk):
    case = desk.open_case(reporter_type="parent", place="outside_school", channel="phone")
    desk.go(case, "start_evaluation")
    done = desk.go(case, "start_gathering", skip_reporter_grid=True, reason="Parent, situation hors de l'école")
    assert done["status"] == "gathering" and done["reporter_grid_skipped"] is True


def test_the_place_is_said_in_the_grids_words(desk):
    """One vocabulary for where it happened: the grid's ``trigger.place``
    (school, outside_school, online_only), at intake too."""
    grid_places = set(
        GridTemplates([BUILT_IN]).get(1).document["schema"]["properties"]["trigger"]["properties"]["place"]["enum"]
    )
    assert grid_places == {"school", "outside_school", "online_only"}
    for place in sorted(grid_places):
        assert desk.open_case(place=place)["place"] == place
    for old in ("at_school", "online"):
        refused = desk.call(
            "POST", "/cases", "demo-staff-a", json={**INTAKE, "school_id": str(desk.demo.school_a), "place": old}
        )
        assert refused.status_code == 422, old
    case = desk.open_case()
    assert desk.call("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"place": "at_school"}).status_code == 422
    assert (
        desk.ok("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"place": "online_only"})["place"]
        == "online_only"
    )


def test_a_parent_reporting_an_online_only_situation_may_skip_the_reporter_grid(desk):
    case = desk.open_case(reporter_type="parent", place="online_only", channel="phone")
    desk.go(case, "start_evaluation")
    assert desk.go(case, "start_gathering", skip_reporter_grid=True, reason="Parent, en ligne seulement")[
        "reporter_grid_skipped"
    ]
    in_school = desk.open_case(reporter_type="parent", place="school", channel="phone")
    desk.go(in_school, "start_evaluation")
    refused = desk.transition(in_school, "start_gathering", skip_reporter_grid=True, reason="r")
    assert refused.json()["code"] == "reporter_grid_skip_not_allowed"


def test_a_student_reporter_grid_cannot_be_skipped(desk):
    case = desk.open_case()
    desk.go(case, "start_evaluation")
    refused = desk.transition(case, "start_gathering", skip_reporter_grid=True, reason="Élève, à l'école")
    assert refused.json()["code"] == "reporter_grid_skip_not_allowed"


def test_statuses_cannot_be_skipped(desk):
    case = desk.open_case()
    for action in ("start_gathering", "resolve", "close", "reopen"):
        body = {"reason": "r"} if action == "reopen" else {}  # only reopen takes a reason
        refused = desk.transition(case, action, "demo-lead-a", **body)
        assert refused.status_code == 409, action
        assert refused.json()["code"] == "transition_not_allowed"


@pytest.mark.parametrize("flag", ["csam", "malicious", "refusal"])
def test_each_police_flag_alone_blocks_resolution(desk, flag):
    case, _reporter = gathering_case(desk)
    person = desk.person(case, "distributor")
    if flag == "csam":
        desk.grid(case, person, content="explicit_sexual_activity", ages=[13])
    else:
        kind = "malicious_intent" if flag == "malicious" else "refused"
        desk.ok(
            "POST",
            f"/cases/{case['id']}/participants/{person['id']}/flags",
            "demo-staff-a",
            201,
            json={"kind": kind, "reason": "r"},
        )
    refused = desk.transition(case, "resolve")
    assert refused.status_code == 409
    assert refused.json()["code"] == "police_flags_block_resolution"


def test_closing_needs_parents_notified_or_a_justified_exemption(desk):
    case, reporter = gathering_case(desk)
    desk.go(case, "resolve")
    refused = desk.transition(case, "close", "demo-lead-a")
    assert refused.json()["code"] == "parents_not_notified"
    assert "P1" in refused.json()["detail"]
    exemption = {
        "kind": "parent_notification_exemption",
        "participant_id": reporter["id"],
        "reason": "student_14_plus_refuses",
        "justification": "Élève de 15 ans qui ne consent pas (LIP art. 96.12).",
    }
    desk.ok("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", 201, json=exemption)
    assert desk.go(case, "close", "demo-lead-a")["status"] == "closed"


def test_closing_needs_a_dpj_report_when_csam_is_suspected(desk):
    case, reporter = gathering_case(desk)
    person = desk.person(case, "depicted")
    desk.grid(case, person, content="sexual_organs_or_anal_region", ages=[16])
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    for p in (reporter, person):
        desk.notify_parents(case, p)
    refused = desk.transition(case, "close", "demo-lead-a")
    assert refused.json()["rules"] == ["dpj_report_missing"]
    report = {"kind": "dpj_report", "occurred_at": "2026-11-21T09:00:00Z", "region": "Laurentides", "reference": "R-1"}
    desk.ok("POST", f"/cases/{case['id']}/contacts", "demo-lead-a", 201, json=report)
    assert desk.go(case, "close", "demo-lead-a")["status"] == "closed"


def test_closing_needs_every_device_out_of_school_custody(desk):
    case, reporter = gathering_case(desk)
    device = desk.confiscate(case, reporter)
    desk.notify_parents(case, reporter)
    desk.go(case, "resolve")
    refused = desk.transition(case, "close", "demo-lead-a")
    assert refused.json()["rules"] == ["device_in_school_custody"]
    assert "D1" in refused.json()["detail"]
    desk.custody(device, "transferred_to_police", officer_name="Agent Roy", badge_number="77")
    assert desk.go(case, "close", "demo-lead-a")["status"] == "closed"


def test_closing_with_a_police_flag_needs_the_hand_off(desk, db):
    case, reporter = gathering_case(desk)
    desk.notify_parents(case, reporter)
    desk.go(case, "resolve")
    # A flag can only be set while the case is open; force one to test the guard itself.
    row = db.get(Case, uuid.UUID(case["id"]))
    row.refusal_to_participate = True
    db.commit()
    refused = desk.transition(case, "close", "demo-lead-a")
    assert refused.json()["code"] == "hand_off_required"


def test_only_the_lead_closes_and_reopens_with_a_reason(desk):
    case, reporter = gathering_case(desk)
    desk.notify_parents(case, reporter)
    desk.go(case, "resolve")
    assert desk.transition(case, "close", "demo-staff-a").status_code == 403
    assert desk.transition(case, "reopen", "demo-lead-a").status_code == 422
    reopened = desk.go(case, "reopen", "demo-lead-a", reason="Un témoin rapporte un nouvel envoi.")
    assert reopened["status"] == "gathering"


def test_a_hand_off_names_the_officer_and_the_schools_force(desk):
    case = desk.open_case()
    assert desk.transition(case, "hand_off").status_code == 422
    done = desk.go(case, "hand_off", police_officer="Agente Paquette")
    assert done["handed_off_force_id"] == str(desk.demo.force_a)
    assert done["police_officer_contacted"] == "Agente Paquette"


def test_after_hand_off_findings_are_frozen_but_notes_and_parents_go_on(desk):
    case, _reporter = gathering_case(desk)
    person = desk.person(case, "depicted")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    assert desk.grid(case, person).json()["code"] == "investigation_handed_off"
    assert (
        desk.call("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "autre"}).json()["code"]
        == "investigation_handed_off"
    )
    flag = desk.call(
        "POST",
        f"/cases/{case['id']}/participants/{person['id']}/flags",
        "demo-staff-a",
        json={"kind": "refused", "reason": "r"},
    )
    assert flag.json()["code"] == "investigation_handed_off"
    assert (
        desk.call(
            "POST",
            f"/cases/{case['id']}/participants",
            "demo-staff-a",
            json={"role": "witness", "is_minor": True, "name": "X"},
        ).status_code
        == 409
    )
    assert (
        desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "Soutien offert."}).status_code
        == 201
    )
    desk.notify_parents(case, person)


def test_patch_changes_only_what_the_status_allows(desk):
    case = desk.open_case()
    assert desk.ok("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"channel": "phone"})["channel"] == "phone"
    desk.person(case, "reporter")
    reporter = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-staff-a")["items"][0]
    desk.go(case, "start_evaluation")
    desk.grid(case, reporter)
    desk.go(case, "start_gathering")
    locked = desk.call("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"channel": "email"})
    assert locked.status_code == 409 and locked.json()["code"] == "field_locked"
    assert (
        desk.ok("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "Précision"})["summary"]
        == "Précision"
    )
    assert desk.call("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"status": "closed"}).status_code == 422


def test_custody_steps_keep_their_order(desk):
    case, reporter = gathering_case(desk)
    device = desk.confiscate(case, reporter)
    assert (
        desk.custody(device, "returned_to_owner", "demo-police-a").status_code == 404
    )  # not handed off: police cannot see it
    out_of_order = desk.custody(device, "retained_as_evidence")
    assert out_of_order.status_code == 403  # a school never records retention
    assert desk.custody(device, "transferred_to_police").status_code == 422  # officer and badge needed
    desk.custody(device, "transferred_to_police", officer_name="Agent Roy", badge_number="77")
    again = desk.custody(device, "stored", storage_location="Coffre")
    assert again.status_code == 409 and again.json()["code"] == "custody_out_of_order"
    events = desk.ok("GET", f"/devices/{device['id']}/custody-events", "demo-staff-a")["items"]
    assert [e["kind"] for e in events] == ["confiscated", "transferred_to_police"]


def test_a_device_needs_the_protocol_confirmations(desk):
    case, reporter = gathering_case(desk)
    body = {
        "kind": "phone",
        "description": "x",
        "owner_participant_id": reporter["id"],
        "switched_off_confirmed": False,
        "content_not_viewed": True,
    }
    assert desk.call("POST", f"/cases/{case['id']}/devices", "demo-staff-a", json=body).status_code == 422


def test_grids_are_validated_against_their_version(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    bad = answers()
    bad["nature"]["content_described"] = "looked_at_it"
    response = desk.call(
        "POST",
        f"/cases/{case['id']}/grids",
        "demo-staff-a",
        json={"participant_id": reporter["id"], "template_version": 1, "answers": bad},
    )
    assert response.status_code == 422 and response.json()["code"] == "grid_invalid"
    assert response.json()["errors"][0]["field"] == "answers.nature.content_described"
    unknown = desk.call(
        "POST",
        f"/cases/{case['id']}/grids",
        "demo-staff-a",
        json={"participant_id": reporter["id"], "template_version": 99, "answers": answers()},
    )
    assert unknown.json()["code"] == "unknown_grid_version"


def test_a_grid_correction_supersedes_and_flags_stay(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    first = desk.grid(case, reporter, content="nudity_or_breasts", ages=[15]).json()
    correction = desk.call(
        "POST",
        f"/cases/{case['id']}/grids",
        "demo-staff-a",
        json={"participant_id": reporter["id"], "template_version": 1, "answers": answers(), "supersedes": first["id"]},
    )
    assert correction.status_code == 201
    grids = desk.ok("GET", f"/cases/{case['id']}/grids", "demo-staff-a")["items"]
    assert [g["superseded"] for g in grids] == [True, False]
    assert desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")["flags"] == ["csam_suspected"]


def test_grid_flag_rules_each(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    cases = [
        ({"content": "explicit_sexual_activity", "ages": [17]}, ["csam_suspected"]),
        ({"content": "nudity_or_breasts", "ages": [18]}, ["adult_involved"]),
        ({"content": "semi_nude_or_suggestive", "ages": [15]}, []),
        ({"intentions": ["sextortion_or_blackmail"]}, ["malicious_intent"]),
        ({"intentions": ["adult_involved"]}, ["adult_involved"]),
        ({"wellbeing": {"self_harm_risk": "yes"}}, ["urgent_wellbeing_concern"]),
        ({"wellbeing": {"repeat_incident": "yes"}}, []),
    ]
    for kwargs, expected in cases:
        submitted = desk.grid(case, reporter, **kwargs)
        assert submitted.json()["flags_raised"] == expected, kwargs


def test_grid_templates_are_served_with_both_languages(client, login):
    current = client.get("/api/v1/grid-templates/current", headers=login("demo-staff-a")).json()
    assert current["version"] == 1
    trigger = current["schema"]["properties"]["trigger"]
    assert trigger["x-labels"] == {"fr": "Amorce", "en": "Trigger"}
    assert client.get("/api/v1/grid-templates/1", headers=login("demo-staff-a")).json() == current
    assert client.get("/api/v1/grid-templates/7", headers=login("demo-staff-a")).status_code == 404


# --- scopes -------------------------------------------------------------------------


def test_role_scopes(desk):
    case = desk.open_case()
    path = f"/cases/{case['id']}"
    assert desk.call("GET", path, "demo-staff-a").status_code == 200
    assert desk.call("GET", path, "demo-lead-a").status_code == 200
    for outsider in ("demo-staff-b", "demo-staff-a2", "demo-police-a", "demo-police-b", "demo-dpj-a", "demo-admin"):
        response = desk.call("GET", path, outsider)
        assert response.status_code == 404, outsider
        assert response.json()["code"] == "not_found"
    assert desk.call("GET", path, "demo-auditor").status_code == 403  # audits it, reads no content
    assert desk.ok("GET", "/cases", "demo-staff-b")["items"] == []
    assert desk.ok("GET", "/cases", "demo-staff-a2")["items"] == []
    assert [c["id"] for c in desk.ok("GET", "/cases", "demo-lead-a")["items"]] == [case["id"]]


def test_a_lead_adds_staff_to_the_team(desk):
    case = desk.open_case()
    assert (
        desk.call(
            "POST", f"/cases/{case['id']}/team", "demo-staff-a", json={"user_id": str(desk.demo.users["demo-staff-a2"])}
        ).status_code
        == 403
    )
    added = desk.call(
        "POST", f"/cases/{case['id']}/team", "demo-lead-a", json={"user_id": str(desk.demo.users["demo-staff-a2"])}
    )
    assert added.status_code == 201
    assert desk.call("GET", f"/cases/{case['id']}", "demo-staff-a2").status_code == 200
    # On the team, but an explorer does not handle cases.
    assert (
        desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a2", json={"text": "x"}).json()["code"]
        == "architect_required"
    )
    wrong_school = desk.call(
        "POST", f"/cases/{case['id']}/team", "demo-lead-a", json={"user_id": str(desk.demo.users["demo-staff-b"])}
    )
    assert wrong_school.status_code == 422


def test_the_dpj_reporter_sees_only_cases_needing_a_report(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    assert desk.call("GET", f"/cases/{case['id']}", "demo-dpj-a").status_code == 404
    desk.grid(case, reporter, content="nudity_or_breasts", ages=[14])
    assert desk.call("GET", f"/cases/{case['id']}", "demo-dpj-a").status_code == 200
    assert desk.call("GET", f"/cases/{case['id']}/participants", "demo-dpj-a").status_code == 200
    for hidden in ("grids", "notes"):
        assert desk.call("GET", f"/cases/{case['id']}/{hidden}", "demo-dpj-a").status_code == 403
    report = desk.call(
        "POST",
        f"/cases/{case['id']}/contacts",
        "demo-staff-a",
        json={"kind": "dpj_report", "occurred_at": "2026-11-21T09:00:00Z", "region": "x", "reference": "y"},
    )
    assert report.status_code == 201  # SPEC §3 and the kit's step 6: staff make and record the DPJ report


def test_lists_carry_no_names(desk):
    case = desk.open_case()
    desk.person(case, "depicted", name="Zoé Tremblay-Unique")
    listed = desk.call("GET", "/cases", "demo-lead-a")
    assert "Zoé" not in listed.text and "Tremblay-Unique" not in listed.text


def test_the_access_log_is_for_auditors_and_the_lead(desk):
    case = desk.open_case()
    desk.call("GET", f"/cases/{case['id']}", "demo-staff-a")
    log = desk.ok("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
    assert {"open_case", "read_case"} <= {e["action"] for e in log["items"]}
    assert desk.call("GET", f"/cases/{case['id']}/access-log", "demo-auditor").status_code == 200
    assert desk.call("GET", f"/cases/{case['id']}/access-log", "demo-staff-a").status_code == 403
    assert desk.call("GET", f"/cases/{case['id']}/access-log", "demo-staff-b").status_code == 404


# --- two conflicting transitions at once -------------------------------------------------


def test_two_conflicting_transitions_exactly_one_wins(desk, settings):
    case, _reporter = gathering_case(desk)
    token = token_for(desk.client, "demo-staff-a")
    app = create_app(settings)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def attempt(action: str, body: dict) -> None:
        with TestClient(app) as client:
            barrier.wait()
            response = client.post(
                f"/api/v1/cases/{case['id']}/transitions",
                json={"action": action, **body},
                headers={"Authorization": f"Bearer {token}"},
            )
            results.append(response.status_code)

    threads = [
        threading.Thread(target=attempt, args=("resolve", {})),
        threading.Thread(target=attempt, args=("hand_off", {"police_officer": "Agent Roy"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    final = desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert final["status"] in ("resolved", "handed_off")
    history = desk.ok("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")["items"]
    assert [e["status_code"] for e in history if e["action"] == "take_transition"][-2:] in ([200, 409], [409, 200])


# --- no media, ever ------------------------------------------------------------------------

JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))).decode()
PNG_URLSAFE = base64.urlsafe_b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(200, 256)) * 2).decode()
MP4 = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + bytes(48)).decode()
SMUGGLED = [
    "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ",
    f"voici la photo {JPEG}",
    PNG_URLSAFE,
    MP4,
    "DATA:video/mp4;base64,AAAA",
]


@pytest.mark.parametrize("payload", SMUGGLED)
def test_media_in_any_text_is_refused_and_nothing_is_stored(desk, db, payload):
    case = desk.open_case()
    before = {
        model: db.exec(select(func.count()).select_from(model)).one()
        for model in (Case, Participant, Note, Contact, GridSubmission)
    }
    attempts = [
        (
            "POST",
            "/cases",
            {
                "school_id": str(desk.demo.school_a),
                "reporter_type": "student",
                "channel": "phone",
                "place": "online_only",
                "summary": payload,
            },
        ),
        ("POST", f"/cases/{case['id']}/participants", {"role": "depicted", "is_minor": True, "name": payload}),
        ("POST", f"/cases/{case['id']}/notes", {"text": payload}),
        (
            "POST",
            f"/cases/{case['id']}/contacts",
            {
                "kind": "media_inquiry",
                "occurred_at": "2026-11-21T09:00:00Z",
                "outlet": payload,
                "referred_to_communications": True,
            },
        ),
        ("PATCH", f"/cases/{case['id']}", {"summary": payload}),
    ]
    for method, path, body in attempts:
        response = desk.call(method, path, "demo-staff-a", json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "media_refused", path
    db.expire_all()
    after = {
        model: db.exec(select(func.count()).select_from(model)).one()
        for model in (Case, Participant, Note, Contact, GridSubmission)
    }
    assert after == before


def test_media_nested_in_grid_answers_is_refused(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    smuggled = answers()
    smuggled["nature"]["description"] = f"data:image/png;base64,{PNG_URLSAFE}"
    response = desk.call(
        "POST",
        f"/cases/{case['id']}/grids",
        "demo-staff-a",
        json={"participant_id": reporter["id"], "template_version": 1, "answers": smuggled},
    )
    assert response.json()["code"] == "media_refused"


def test_every_write_route_refuses_media(client, login):
    """Walk every POST, PUT and PATCH route that takes a JSON body, as every
    role: the body is refused for media by each caller it reaches, and it
    reaches at least one on every route (a role a route never serves is
    refused before its body is read, with 403 ``forbidden``)."""
    body = {"kind": "media_inquiry", "text": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}
    checked = 0
    for method, path, template in write_routes(client.app):
        answers = set()
        for user in SWEEP_CALLERS:
            response = client.request(method, path, json=body, headers=login(user))
            answers.add((response.status_code, response.json()["code"]))
        assert answers <= {(422, "media_refused"), (403, "forbidden")}, (method, template, answers)
        assert (422, "media_refused") in answers, (method, template, answers)
        checked += 1
    assert checked > 15


def test_words_that_merely_look_like_base64_are_accepted(desk):
    case = desk.open_case()
    long_word = "Anticonstitutionnellement" * 3
    assert desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": long_word}).status_code == 201


def test_police_record_only_police_custody_steps_and_times_keep_their_order(desk):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    stored = desk.custody(device, "stored", "demo-police-a", storage_location="Poste")
    assert stored.status_code == 403 and stored.json()["code"] == "custody_school_only"
    backdated = desk.custody(device, "stored", storage_location="Coffre", occurred_at="2001-01-01T00:00:00Z")
    assert backdated.status_code == 422 and backdated.json()["code"] == "custody_time_out_of_order"
    future = desk.custody(device, "stored", storage_location="Coffre", occurred_at="2999-01-01T00:00:00Z")
    assert future.status_code == 422
