"""What the protocol's HTTP contract promises a client written from the
OpenAPI document alone (issue 11): who records which contact, refusals that
name every rule and agree with ``GET /transitions``, no event in the future,
and one transition body per action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.cases.models import ContactKind
from app.cases.protocol import TRANSITIONS
from app.orgs.service import local_today
from tests.protocol_helpers import Desk

LEAD, STAFF = "demo-lead-a", "demo-staff-a"


def contact_body(kind: str, minor: dict, *, at: str = "2026-11-21T09:00:00Z") -> dict:
    bodies = {
        "parent_notification": {"participant_id": minor["id"], "guardian_relationship": "mother", "method": "phone"},
        "parent_notification_exemption": {
            "participant_id": minor["id"],
            "reason": "student_14_plus_refuses",
            "justification": "Élève de 15 ans qui ne consent pas.",
        },
        "police_contact": {"officer_name": "Agente Paquette", "method": "phone"},
        "dpj_report": {"region": "Laurentides", "reference": "DPJ-26-1"},
        "media_inquiry": {"outlet": "Journal local", "referred_to_communications": True},
        "takedown_referral": {"service": "cybertip", "participant_id": minor["id"]},
    }
    return {"kind": kind, "occurred_at": at, **bodies[kind]}


def csam_case_handed_off(desk: Desk) -> tuple[dict, dict]:
    """A case every case role sees: child sexual abuse material suspected
    (the DPJ reporter), handed off to force A (police), with demo-staff-a2
    (no architect attestation) on its team."""
    case = desk.open_case()
    minor = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, minor, content="explicit_sexual_activity", ages=[15]).status_code == 201
    desk.ok("POST", f"/cases/{case['id']}/team", LEAD, 201, json={"user_id": str(desk.demo.users["demo-staff-a2"])})
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    return case, minor


# --- 1. who records which contact ---------------------------------------------------------


def test_staff_on_the_case_team_record_the_dpj_report(desk):
    """The kit's step 6: the staff member makes the report to the DPJ."""
    case, _ = csam_case_handed_off(desk)
    report = {
        "kind": "dpj_report",
        "occurred_at": "2026-11-21T09:00:00Z",
        "region": "Laurentides",
        "reference": "DPJ-26-7",
    }
    desk.ok("POST", f"/cases/{case['id']}/contacts", STAFF, 201, json=report)
    assert {step["code"]: step["done"] for step in desk.steps(case)["steps"]}["step_dpj_report"] is True


def test_the_contact_table_is_the_spec():
    """SPEC §3: staff (and so the lead) record contacts; the DPJ reporter
    records the report; police record their own part, not the school's contacts."""
    from app.cases.policy import CONTACTS_RECORDED

    every = frozenset(ContactKind)
    assert {
        Role.school_staff: every,
        Role.school_lead: every,
        Role.dpj_reporter: frozenset({ContactKind.dpj_report}),
    } == CONTACTS_RECORDED


USERS = {
    "demo-lead-a": Role.school_lead,
    "demo-staff-a": Role.school_staff,
    "demo-staff-a2": Role.school_staff,  # on the team, explorer only
    "demo-police-a": Role.police_liaison,
    "demo-dpj-a": Role.dpj_reporter,
    "demo-auditor": Role.auditor,
}


def test_each_role_records_exactly_the_contact_kinds_the_table_gives(desk):
    """Within its kinds, school staff without the architect attestation
    record only the DPJ report (a legal duty, not the kit's handling)."""
    from app.cases.policy import CONTACTS_RECORDED, NO_ATTESTATION_CONTACTS

    assert {ContactKind.dpj_report} == NO_ATTESTATION_CONTACTS
    case, minor = csam_case_handed_off(desk)
    for user, role in USERS.items():
        for kind in ContactKind:
            response = desk.call("POST", f"/cases/{case['id']}/contacts", user, json=contact_body(kind.value, minor))
            if kind not in CONTACTS_RECORDED.get(role, frozenset()):
                assert (response.status_code, response.json()["code"]) == (403, "forbidden"), f"{user} {kind}"
            elif user == "demo-staff-a2" and kind not in NO_ATTESTATION_CONTACTS:
                assert (response.status_code, response.json()["code"]) == (403, "architect_required"), f"{user} {kind}"
            else:
                assert response.status_code == 201, f"{user} {kind}: {response.text}"


# --- 2. a refusal names every rule, as GET /transitions does ------------------------------------


def case_at(desk: Desk, status: str) -> dict:
    """A case at ``status`` with as much still blocking as the status allows:
    open cases have a minor reporter whose parents are not notified, and a
    malicious distributor whose phone is still at school."""
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    if status in ("reported", "evaluating", "gathering", "handed_off"):
        distributor = desk.person(case, "distributor")
        desk.ok(
            "POST",
            f"/cases/{case['id']}/participants/{distributor['id']}/flags",
            STAFF,
            201,
            json={"kind": "malicious_intent", "reason": "Vengeance."},
        )
        desk.confiscate(case, distributor)
    if status == "reported":
        return case
    desk.go(case, "start_evaluation")
    if status == "evaluating":
        return case
    assert desk.grid(case, reporter).status_code == 201
    desk.go(case, "start_gathering")
    if status == "handed_off":
        desk.go(case, "hand_off", police_officer="Agente Paquette")
    if status in ("resolved", "closed"):
        desk.go(case, "resolve")
    if status == "closed":
        desk.notify_parents(case, reporter)
        desk.go(case, "close", LEAD)
    return case


EXAMPLE_BODIES = {
    "start_evaluation": {"action": "start_evaluation"},
    "start_gathering": {"action": "start_gathering"},
    "hand_off": {"action": "hand_off", "police_officer": "Agente Paquette"},
    "resolve": {"action": "resolve"},
    "close": {"action": "close"},
    "reopen": {"action": "reopen", "reason": "Un témoin rapporte un nouvel envoi."},
}
STATUSES = ["reported", "evaluating", "gathering", "handed_off", "resolved", "closed"]


def blockers_of(desk: Desk, case: dict, action: str, user: str) -> list[dict]:
    options = desk.ok("GET", f"/cases/{case['id']}/transitions", user)["transitions"]
    return next(option for option in options if option["action"] == action)["blockers"]


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_a_refusal_names_the_rules_get_transitions_gives(desk, status, action):
    case = case_at(desk, status)
    blockers = blockers_of(desk, case, action, LEAD)
    response = desk.call("POST", f"/cases/{case['id']}/transitions", LEAD, json=EXAMPLE_BODIES[action])
    if not blockers:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == TRANSITIONS[action].target
        return
    assert response.status_code == 409, response.text
    refusal = response.json()
    assert refusal["rules"] == [blocker["code"] for blocker in blockers]
    assert refusal["code"] == blockers[0]["code"]
    for blocker in blockers:  # the detail says every rule, in words
        assert blocker["detail"] in refusal["detail"]


def test_closing_a_gathering_case_names_the_status_and_every_guard(desk):
    """The issue's example: `close` on a gathering case flagged malicious."""
    case = case_at(desk, "gathering")
    refusal = desk.transition(case, "close", LEAD)
    assert refusal.status_code == 409
    assert refusal.json()["rules"] == [
        "transition_not_allowed",
        "hand_off_required",
        "parents_not_notified",
        "device_in_school_custody",
    ]
    english = desk.call(
        "POST", f"/cases/{case['id']}/transitions", LEAD, headers={"Accept-Language": "en"}, json={"action": "close"}
    )
    detail = english.json()["detail"]
    # What to do instead: the statuses it is taken from, and what is possible now.
    assert "handed_off, resolved" in detail and "hand_off" in detail


def test_a_role_refusal_is_a_403_that_names_every_rule_too(desk):
    case = case_at(desk, "gathering")
    blockers = blockers_of(desk, case, "close", STAFF)
    refusal = desk.transition(case, "close", STAFF)
    assert refusal.status_code == 403
    assert refusal.json()["code"] == "forbidden"
    assert refusal.json()["rules"] == [blocker["code"] for blocker in blockers]
    assert refusal.json()["rules"][:2] == ["forbidden", "transition_not_allowed"]
    # The attestation: the same rule in both answers.
    team = desk.ok(
        "POST", f"/cases/{case['id']}/team", LEAD, 201, json={"user_id": str(desk.demo.users["demo-staff-a2"])}
    )
    assert team
    blockers = blockers_of(desk, case, "resolve", "demo-staff-a2")
    refusal = desk.transition(case, "resolve", "demo-staff-a2")
    assert refusal.status_code == 403 and refusal.json()["code"] == "architect_required"
    assert refusal.json()["rules"] == [blocker["code"] for blocker in blockers]


def test_a_refused_skip_names_the_missing_grid_too(desk):
    case = desk.open_case()
    desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    refusal = desk.transition(case, "start_gathering", skip_reporter_grid=True, reason="Élève, à l'école")
    assert refusal.status_code == 409
    assert refusal.json()["rules"] == ["reporter_grid_skip_not_allowed", "reporter_grid_required"]


# --- 3. no event in the future -------------------------------------------------------------------


FUTURE = "2099-01-01T00:00:00Z"


def test_a_parent_notification_dated_in_the_future_is_refused_and_closes_nothing(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, reporter).status_code == 201
    desk.go(case, "start_gathering")
    desk.go(case, "resolve")
    refused = desk.call(
        "POST",
        f"/cases/{case['id']}/contacts",
        STAFF,
        json=contact_body("parent_notification", reporter, at="2099-01-01T00:00:00Z"),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "time_in_future"
    assert refused.json()["errors"][0]["field"] == "body.occurred_at"
    assert "5 minutes" in refused.json()["detail"]
    close = desk.transition(case, "close", LEAD)
    assert close.status_code == 409 and close.json()["rules"] == ["parents_not_notified"]


@pytest.mark.parametrize("kind", [kind.value for kind in ContactKind])
def test_no_contact_is_dated_in_the_future(desk, kind):
    case, minor = csam_case_handed_off(desk)
    refused = desk.call("POST", f"/cases/{case['id']}/contacts", LEAD, json=contact_body(kind, minor, at=FUTURE))
    assert refused.status_code == 422 and refused.json()["code"] == "time_in_future", refused.text
    assert desk.ok("GET", f"/cases/{case['id']}/contacts", LEAD)["items"] == []


def test_a_client_clock_a_little_ahead_is_within_the_margin(desk):
    case, minor = csam_case_handed_off(desk)
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat().replace("+00:00", "Z")
    desk.ok("POST", f"/cases/{case['id']}/contacts", LEAD, 201, json=contact_body("police_contact", minor, at=ahead))
    beyond = (datetime.now(UTC) + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    refused = desk.call(
        "POST", f"/cases/{case['id']}/contacts", LEAD, json=contact_body("police_contact", minor, at=beyond)
    )
    assert refused.status_code == 422 and refused.json()["code"] == "time_in_future"


@pytest.mark.parametrize("field", ["dcpp_decided_on", "awareness_meeting_on"])
def test_police_outcome_dates_are_not_in_the_future(desk, settings, field):
    case, _ = csam_case_handed_off(desk)
    today = local_today(settings.local_timezone)
    path = f"/cases/{case['id']}/police-outcome"
    refused = desk.call(
        "POST", path, "demo-police-a", json={"dcpp_decision": "impulsive", field: str(today + timedelta(days=2))}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "time_in_future", refused.text
    assert refused.json()["errors"][0]["field"] == f"body.{field}"
    assert desk.ok("GET", f"/cases/{case['id']}", LEAD)["dcpp_decision"] is None
    desk.ok("POST", path, "demo-police-a", json={"dcpp_decision": "impulsive", field: str(today)})


@pytest.mark.parametrize(
    "section_field, value",
    [("disclosed_at", FUTURE), ("event_approx_date", "2099-01-01")],
)
def test_grid_event_times_are_not_in_the_future(desk, section_field, value):
    from tests.protocol_helpers import answers

    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    body = {"participant_id": reporter["id"], "template_version": 1, "answers": answers()}
    body["answers"]["trigger"][section_field] = value
    refused = desk.call("POST", f"/cases/{case['id']}/grids", STAFF, json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "time_in_future", refused.text
    assert refused.json()["errors"][0]["field"] == f"body.answers.trigger.{section_field}"
    body["answers"]["trigger"]["event_approx_date"] = "2026-11-01"
    body["answers"]["trigger"]["disclosed_at"] = "2026-11-20T10:15:00Z"
    desk.ok("POST", f"/cases/{case['id']}/grids", STAFF, 201, json=body)


def test_a_custody_step_in_the_future_is_the_same_refusal(desk):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    future = desk.custody(device, "stored", storage_location="Coffre", occurred_at=FUTURE)
    assert future.status_code == 422 and future.json()["code"] == "time_in_future"


# --- 10. one transition body per action -------------------------------------------------------


def test_a_member_of_another_action_is_refused(desk):
    case = desk.open_case()
    desk.go(case, "start_evaluation")
    refused = desk.call(
        "POST", f"/cases/{case['id']}/transitions", STAFF, json={"action": "start_gathering", "police_officer": "x"}
    )
    assert refused.status_code == 422
    assert any(error["field"].endswith("police_officer") for error in refused.json()["errors"])
    for body in (
        {"action": "resolve", "reason": "x"},
        {"action": "close", "skip_reporter_grid": False},
        {"action": "start_evaluation", "reason": "x"},
    ):
        assert desk.call("POST", f"/cases/{case['id']}/transitions", LEAD, json=body).status_code == 422, body


def test_each_action_requires_its_own_members(desk):
    case = desk.open_case(reporter_type="parent", place="outside_school", channel="phone")
    path = f"/cases/{case['id']}/transitions"
    assert desk.call("POST", path, LEAD, json={"action": "reopen"}).status_code == 422
    assert desk.call("POST", path, STAFF, json={"action": "hand_off"}).status_code == 422
    desk.go(case, "start_evaluation")
    # Skipping the reporter's grid needs its reason; a reason needs the skip.
    assert (
        desk.call("POST", path, STAFF, json={"action": "start_gathering", "skip_reporter_grid": True}).status_code
        == 422
    )
    assert desk.call("POST", path, STAFF, json={"action": "start_gathering", "reason": "x"}).status_code == 422
    assert desk.ok("GET", f"/cases/{case['id']}", STAFF)["status"] == "evaluating"


def _documented_examples(client) -> dict[str, dict]:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]
    return {
        name: example["value"]
        for name, example in operation["requestBody"]["content"]["application/json"]["examples"].items()
    }


def test_every_action_has_its_documented_example(client):
    examples = _documented_examples(client)
    assert {example["action"] for example in examples.values()} == set(TRANSITIONS)
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = client.get("/openapi.json").json()["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]["requestBody"]
    members = [ref["$ref"].rsplit("/", 1)[-1] for ref in body["content"]["application/json"]["schema"]["oneOf"]]
    assert len(members) == len(TRANSITIONS)
    assert all(schemas[name].get("examples") for name in members)


def test_the_documented_start_gathering_example_works(desk, client):
    example = _documented_examples(client)["start_gathering"]
    assert "skip_reporter_grid" not in example
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, reporter).status_code == 201
    done = desk.ok("POST", f"/cases/{case['id']}/transitions", STAFF, json=example)
    assert done["status"] == "gathering" and done["reporter_grid_skipped"] is False


def test_a_transition_missing_what_the_protocol_needs_names_the_rule(desk):
    """The hand-off names the officer contacted, a reopening its reason: a body
    without one is a 422 whose code names that rule, in the caller's language."""
    case = desk.open_case()
    path = f"/cases/{case['id']}/transitions"
    hand_off = desk.call("POST", path, STAFF, json={"action": "hand_off"}).json()
    assert (hand_off["code"], hand_off["rules"]) == ("officer_required", ["officer_required"])
    assert [error["field"] for error in hand_off["errors"]] == ["body.hand_off.police_officer"]
    reopen = desk.call("POST", path, LEAD, json={"action": "reopen"}, headers={"Accept-Language": "en"}).json()
    assert (reopen["code"], reopen["rules"]) == ("reason_required", ["reason_required"])
    assert "reason" in reopen["detail"].lower()
