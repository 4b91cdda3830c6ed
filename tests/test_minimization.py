"""Minimization in every response (SPEC §3): per role, the exact set of
fields each case-level answer may carry, written here from the spec.  A new
field in a response fails this test until someone decides who may read it."""

from __future__ import annotations

import pytest

from tests.protocol_helpers import WELLBEING, Desk

NAME = "Élève Minimisation"

CASE = {
    "id",
    "reference",
    "school_id",
    "status",
    "flags",
    "created_at",
    "updated_at",
    "reporter_type",
    "channel",
    "place",
    "summary",
    "reporter_grid_skipped",
    "handed_off_at",
    "handed_off_force_id",
    "police_officer_contacted",
    "police_acknowledged_at",
    "police_file_number",
    "dcpp_decision",
    "dcpp_decided_on",
    "awareness_meeting_on",
    "police_closed_at",
    "closed_at",
    "destroyed_at",
    "version",
}
POLICE_OUTCOME = {
    "police_officer_contacted",
    "police_acknowledged_at",
    "police_file_number",
    "dcpp_decision",
    "dcpp_decided_on",
    "awareness_meeting_on",
    "police_closed_at",
}
# The force's own file number: for the police and the school lead (the
# school's liaison with the force), not for the staff handling the case.
POLICE_FILE = {"police_file_number"}
# What the case waits for: the next steps not done, by label (never a name).
CASE_IN_A_LIST = {
    "id",
    "reference",
    "school_id",
    "status",
    "flags",
    "created_at",
    "updated_at",
    "waiting",
    "police_acknowledged_at",
}
PARTICIPANT = {
    "id",
    "label",
    "role",
    "is_minor",
    "grade",
    "student_id",
    "name",
    "supersedes_id",
    "superseded",
    "flags",
    "created_at",
}
FLAG = {"kind", "reason", "created_by", "created_at"}
GRID = {
    "id",
    "participant_id",
    "template_version",
    "answers",
    "flags_raised",
    "supersedes_id",
    "superseded",
    "submitted_by",
    "created_at",
}
ALL_ANSWERS = {"trigger", "nature", "intentions", "extent", "wellbeing"}
POLICE_WELLBEING = {"threats_or_extortion", "sexual_assault_alleged", "child_under_12_involved"}
CONTACT = {"id", "kind", "participant_id", "occurred_at", "details", "recorded_by", "created_at"}
ALL_CONTACT_KINDS = {"parent_notification", "dpj_report", "media_inquiry", "takedown_referral", "police_contact"}

# role -> resource -> what the answer may carry (None: the role may not read it)
EXPECTED: dict[str, dict[str, object]] = {
    "demo-staff-a": {
        "case": CASE - POLICE_FILE,
        "participant": PARTICIPANT,
        "flag": FLAG,
        "grid": GRID,
        "answers": ALL_ANSWERS,
        "wellbeing": set(WELLBEING),
        "contact": CONTACT,
        "contact_kinds": ALL_CONTACT_KINDS,
        "notes": True,
        "devices": True,
        "list": CASE_IN_A_LIST,
    },
    "demo-lead-a": {
        "case": CASE,
        "participant": PARTICIPANT,
        "flag": FLAG,
        "grid": GRID,
        "answers": ALL_ANSWERS,
        "wellbeing": set(WELLBEING),
        "contact": CONTACT,
        "contact_kinds": ALL_CONTACT_KINDS,
        "notes": True,
        "devices": True,
        "list": CASE_IN_A_LIST,
    },
    "demo-police-a": {
        "case": CASE,
        "participant": PARTICIPANT - {"student_id"},
        "flag": FLAG,
        "grid": GRID,
        "answers": ALL_ANSWERS,
        "wellbeing": POLICE_WELLBEING,
        "contact": CONTACT,
        "contact_kinds": ALL_CONTACT_KINDS - {"media_inquiry"},
        "notes": None,
        "devices": True,
        "list": CASE_IN_A_LIST,
    },
    "demo-dpj-a": {
        "case": CASE - POLICE_OUTCOME,
        "participant": PARTICIPANT - {"student_id"},
        "flag": FLAG - {"reason"},
        "grid": None,
        "answers": None,
        "wellbeing": None,
        "contact": CONTACT,
        "contact_kinds": {"parent_notification", "dpj_report", "police_contact"},
        "notes": None,
        "devices": None,
        "list": CASE_IN_A_LIST - POLICE_OUTCOME,
    },
}
# Roles that read no case contents, with the answer each gets: the auditor
# sees the case (for its access log) and is refused its contents (403); for
# the others the case does not exist (404).
NO_CASE_CONTENTS = {"demo-auditor": 403, "demo-privacy-a": 404, "demo-admin": 404}


@pytest.fixture
def handed_off(client, login, demo) -> dict:
    """A case with everything attached: suspected CSAM (so the DPJ reporter
    sees it), handed off to police A, acknowledged."""
    desk = Desk(client, login, demo)
    case = desk.open_case()
    reporter = desk.person(case, "reporter", name="Témoin Minimisation")
    depicted = desk.person(case, "depicted", name=NAME)
    refuser = desk.person(case, "distributor", name="Élève Refus")
    desk.go(case, "start_evaluation")
    wellbeing = {"self_harm_risk": "yes", "threats_or_extortion": "yes"}
    assert desk.grid(case, reporter, content="nudity_or_breasts", ages=[14], wellbeing=wellbeing).status_code == 201
    desk.go(case, "start_gathering")
    assert desk.grid(case, depicted, content="nudity_or_breasts", ages=[14]).status_code == 201
    desk.ok(
        "POST",
        f"/cases/{case['id']}/participants/{refuser['id']}/flags",
        "demo-staff-a",
        201,
        json={"kind": "refused", "reason": "Refuse de rencontrer l'intervenant."},
    )
    desk.confiscate(case, refuser)
    desk.notify_parents(case, depicted)
    at = "2026-11-20T16:00:00Z"
    for user, body in (
        ("demo-lead-a", {"kind": "dpj_report", "occurred_at": at, "region": "Laurentides", "reference": "DPJ-7"}),
        (
            "demo-staff-a",
            {"kind": "media_inquiry", "occurred_at": at, "outlet": "Journal", "referred_to_communications": True},
        ),
        (
            "demo-staff-a",
            {"kind": "takedown_referral", "occurred_at": at, "service": "cybertip", "participant_id": depicted["id"]},
        ),
        (
            "demo-staff-a",
            {"kind": "police_contact", "occurred_at": at, "officer_name": "Agente Paquette", "method": "phone"},
        ),
    ):
        desk.ok("POST", f"/cases/{case['id']}/contacts", user, 201, json=body)
    desk.ok("POST", f"/cases/{case['id']}/notes", "demo-staff-a", 201, json={"text": "Rencontre de soutien."})
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    desk.ok(
        "POST", f"/cases/{case['id']}/acknowledgement", "demo-police-a", 201, json={"police_file_number": "VR-2026-1"}
    )
    return case


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_each_role_reads_exactly_the_fields_it_needs(client, login, handed_off, user):
    expected = EXPECTED[user]
    headers = login(user)
    base = f"/api/v1/cases/{handed_off['id']}"

    def get(path: str):
        return client.get(f"{base}{path}", headers=headers)

    case = get("")
    assert case.status_code == 200 and set(case.json()) == expected["case"]

    people = get("/participants").json()["items"]
    assert people and all(set(p) == expected["participant"] for p in people)
    flags = [flag for p in people for flag in p["flags"]]
    assert flags and all(set(flag) == expected["flag"] for flag in flags)

    grids = get("/grids")
    if expected["grid"] is None:
        assert grids.status_code == 403
    else:
        items = grids.json()["items"]
        assert items and all(set(g) == expected["grid"] and set(g["answers"]) == expected["answers"] for g in items)
        assert all(set(g["answers"]["wellbeing"]) == expected["wellbeing"] for g in items)

    contacts = get("/contacts").json()["items"]
    assert all(set(c) == expected["contact"] for c in contacts)
    assert {c["kind"] for c in contacts} == expected["contact_kinds"]

    assert (get("/notes").status_code == 200) is bool(expected["notes"])
    assert (get("/devices").status_code == 200) is bool(expected["devices"])

    listed = client.get("/api/v1/cases", headers=headers).json()["items"]
    assert [c["id"] for c in listed] == [handed_off["id"]]
    assert all(set(c) == expected["list"] for c in listed)
    assert NAME not in str(listed)


def test_the_police_file_number_is_read_back_by_police_and_the_school_lead(client, login, handed_off, settle_feed):
    """The number police give at acknowledgement (or later, with the
    outcome) is in their answers, their case, their feed, and the lead's case;
    not in the staff's or the DPJ reporter's."""
    case_path = f"/api/v1/cases/{handed_off['id']}"
    police = login("demo-police-a")

    def seen_by(user: str) -> dict:
        return client.get(case_path, headers=login(user)).json()

    assert seen_by("demo-police-a")["police_file_number"] == "VR-2026-1"
    assert seen_by("demo-lead-a")["police_file_number"] == "VR-2026-1"
    assert "police_file_number" not in seen_by("demo-staff-a")
    assert "police_file_number" not in seen_by("demo-dpj-a")
    settle_feed()
    feed = client.get("/api/v1/police/cases", headers=police).json()["items"]
    assert [item["case"]["police_file_number"] for item in feed] == ["VR-2026-1"]

    updated = client.post(f"{case_path}/police-outcome", headers=police, json={"police_file_number": "VR-2026-2"})
    assert updated.status_code == 200 and updated.json()["police_file_number"] == "VR-2026-2"
    assert seen_by("demo-lead-a")["police_file_number"] == "VR-2026-2"


def test_the_acknowledgement_answers_with_the_file_number(client, login, demo):
    desk = Desk(client, login, demo)
    case = desk.open_case()
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    acknowledged = desk.ok(
        "POST", f"/cases/{case['id']}/acknowledgement", "demo-police-a", 201, json={"police_file_number": "VR-2026-9"}
    )
    assert acknowledged["police_file_number"] == "VR-2026-9"
    without = desk.open_case()
    desk.go(without, "hand_off", police_officer="Agente Paquette")
    assert (
        desk.ok("POST", f"/cases/{without['id']}/acknowledgement", "demo-police-a", 201)["police_file_number"] is None
    )


def test_the_police_feed_carries_no_names(client, login, handed_off, settle_feed):
    settle_feed()
    feed = client.get("/api/v1/police/cases", headers=login("demo-police-a"))
    assert feed.status_code == 200 and feed.json()["items"]
    assert NAME not in feed.text and "Témoin" not in feed.text


@pytest.mark.parametrize("user", NO_CASE_CONTENTS)
def test_roles_without_case_contents_read_none(client, login, handed_off, user):
    headers = login(user)
    for path in ("", "/participants", "/grids", "/contacts", "/notes", "/devices", "/next-steps"):
        response = client.get(f"/api/v1/cases/{handed_off['id']}{path}", headers=headers)
        assert response.status_code == NO_CASE_CONTENTS[user], (user, path, response.status_code)
        assert NAME not in response.text


def test_the_dpj_reporter_does_not_read_the_reasons_staff_wrote(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.grid(case, reporter, content="nudity_or_breasts", ages=[15])
    other = desk.person(case, "distributor")
    desk.ok(
        "POST",
        f"/cases/{case['id']}/participants/{other['id']}/flags",
        "demo-staff-a",
        201,
        json={"kind": "refused", "reason": "A dit des choses graves en entrevue"},
    )
    people = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-dpj-a")["items"]
    assert "choses graves" not in str(people)
    assert people[1]["flags"][0]["kind"] == "refused"
    school_view = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-lead-a")["items"]
    assert school_view[1]["flags"][0]["reason"] == "A dit des choses graves en entrevue"


# --- flags follow from what the role reads (#13 item 10) ---------------------------------------


def _handed_off_with_wellbeing(desk: Desk, **wellbeing: str) -> tuple[dict, dict]:
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    desk.go(case, "start_evaluation")
    submitted = desk.grid(case, reporter, content="nudity_or_breasts", ages=[14], wellbeing=wellbeing)
    assert submitted.status_code == 201, submitted.text
    assert "urgent_wellbeing_concern" in submitted.json()["flags_raised"]
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    return case, submitted.json()


def test_police_are_not_shown_a_flag_raised_by_an_answer_they_do_not_read(desk, settle_feed):
    """A "yes" to self-harm raises the well-being flag; police read neither
    that answer nor any other "yes": the flag would tell them the answer."""
    case, _ = _handed_off_with_wellbeing(desk, self_harm_risk="yes")
    police = "demo-police-a"
    grid = desk.ok("GET", f"/cases/{case['id']}/grids", police)["items"][0]
    assert set(grid["answers"]["wellbeing"].values()) == {"no"}
    assert "urgent_wellbeing_concern" not in grid["flags_raised"]
    assert "csam_suspected" in grid["flags_raised"]  # what their answers raise, they are shown
    assert "urgent_wellbeing_concern" not in desk.ok("GET", f"/cases/{case['id']}", police)["flags"]
    listed = {c["id"]: c for c in desk.ok("GET", "/cases", police)["items"]}
    assert "urgent_wellbeing_concern" not in listed[case["id"]]["flags"]
    steps = desk.ok("GET", f"/cases/{case['id']}/next-steps", police)
    assert "urgent_wellbeing_concern" not in steps["flags"]
    assert "step_wellbeing" not in [step["code"] for step in steps["steps"]]  # the step would say the flag
    lead_steps = desk.ok("GET", f"/cases/{case['id']}/next-steps", "demo-lead-a")["steps"]
    assert "step_wellbeing" in [step["code"] for step in lead_steps]
    settle_feed()
    fed = [i["case"] for i in desk.ok("GET", "/police/cases", police)["items"] if i["case"]["id"] == case["id"]]
    assert fed and "urgent_wellbeing_concern" not in fed[0]["flags"]
    # The school reads every answer: it is shown the flag.
    assert "urgent_wellbeing_concern" in desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")["flags"]
    lead_grid = desk.ok("GET", f"/cases/{case['id']}/grids", "demo-lead-a")["items"][0]
    assert "urgent_wellbeing_concern" in lead_grid["flags_raised"]


def test_police_are_shown_a_grids_flag_their_answers_raise(desk):
    """Threats or extortion are a police matter: police read that "yes", and
    the grid's flag that follows from it.  The case's sticky flag, which any
    grid's hidden answers may have raised, is still not shown to them."""
    case, _ = _handed_off_with_wellbeing(desk, threats_or_extortion="yes")
    grid = desk.ok("GET", f"/cases/{case['id']}/grids", "demo-police-a")["items"][0]
    assert grid["answers"]["wellbeing"]["threats_or_extortion"] == "yes"
    assert "urgent_wellbeing_concern" in grid["flags_raised"]
    assert "urgent_wellbeing_concern" not in desk.ok("GET", f"/cases/{case['id']}", "demo-police-a")["flags"]


def test_the_dpj_reporter_reads_a_police_contact_without_the_officers_name(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    assert desk.grid(case, reporter, content="nudity_or_breasts", ages=[14]).status_code == 201
    body = {
        "kind": "police_contact",
        "officer_name": "Agente Paquette, policière-école",
        "method": "phone",
        "occurred_at": "2026-11-20T11:00:00Z",
    }
    desk.ok("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", 201, json=body)
    dpj = [
        c
        for c in desk.ok("GET", f"/cases/{case['id']}/contacts", "demo-dpj-a")["items"]
        if c["kind"] == "police_contact"
    ]
    assert len(dpj) == 1 and "officer_name" not in dpj[0]["details"] and dpj[0]["details"]["method"] == "phone"
    assert "Paquette" not in str(dpj)
    lead = desk.ok("GET", f"/cases/{case['id']}/contacts", "demo-lead-a")["items"]
    assert [c["details"]["officer_name"] for c in lead if c["kind"] == "police_contact"] == [body["officer_name"]]
