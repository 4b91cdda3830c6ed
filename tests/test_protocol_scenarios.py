"""The three kinds of case the Sexto kit trains staff on, end to end over HTTP
with the demo users, on both engines."""

from __future__ import annotations


def test_a_swimsuit_photo_is_resolved_at_school_without_police(desk):
    """1. A student reports that a photo of a classmate in a swimsuit is being passed around."""
    case = desk.open_case()
    assert case["reference"].startswith("SX-") and case["status"] == "reported"
    reporter = desk.person(case, "reporter", name="Témoin A")
    depicted = desk.person(case, "depicted", name="Élève B")
    sharer = desk.person(case, "distributor", name="Élève C")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, reporter, content="semi_nude_or_suggestive", ages=[14]).status_code == 201
    desk.go(case, "start_gathering")
    for person in (depicted, sharer):
        assert desk.grid(case, person, content="semi_nude_or_suggestive", ages=[14]).status_code == 201
    state = desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert state["flags"] == []
    for person in (reporter, depicted, sharer):
        desk.notify_parents(case, person)
    steps = desk.steps(case)
    assert "step_hand_off" not in {step["code"] for step in steps["steps"]}
    assert all(step["done"] for step in steps["steps"]), steps
    resolved = desk.go(case, "resolve")
    assert resolved["status"] == "resolved" and resolved["handed_off_at"] is None
    closed = desk.go(case, "close", "demo-lead-a")
    assert closed["status"] == "closed"
    assert desk.call("GET", f"/cases/{case['id']}", "demo-police-a").status_code == 404


def test_a_nude_photo_of_a_15_year_old_goes_to_police_and_the_dpj(desk):
    """2. A nude photo of a 15-year-old shared in a group chat."""
    case = desk.open_case()
    reporter = desk.person(case, "reporter", name="Témoin D")
    depicted = desk.person(case, "depicted", name="Élève E")
    sharer = desk.person(case, "distributor", name="Élève F")
    desk.go(case, "start_evaluation")
    grid = desk.grid(case, reporter, content="nudity_or_breasts", ages=[15])
    assert grid.status_code == 201 and grid.json()["flags_raised"] == ["csam_suspected"]
    case_now = desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert case_now["flags"] == ["csam_suspected"]
    steps = {step["code"] for step in desk.steps(case)["steps"]}
    assert {"step_switch_off_confiscate", "step_hand_off", "step_dpj_report", "step_takedown"} <= steps

    # The device is switched off and confiscated, never viewed.
    phone = desk.confiscate(case, sharer)
    assert phone["in_school_custody"] is True and phone["label"] == "D1"
    assert desk.custody(phone, "stored", storage_location="Coffre", seal_number="SC-0001").status_code == 201

    # Police see nothing before the hand-off.
    assert desk.call("GET", f"/cases/{case['id']}", "demo-police-a").status_code == 404
    assert desk.go(case, "hand_off", police_officer="Agente Paquette")["status"] == "handed_off"
    seen = desk.ok("GET", f"/cases/{case['id']}", "demo-police-a")
    assert seen["handed_off_force_id"] == str(desk.demo.force_a)
    listed = desk.ok("GET", "/cases", "demo-police-a")
    assert [item["id"] for item in listed["items"]] == [case["id"]]
    assert desk.call("GET", f"/cases/{case['id']}", "demo-police-b").status_code == 404
    ack = desk.call(
        "POST", f"/cases/{case['id']}/acknowledgement", "demo-police-a", json={"police_file_number": "SPVR-26-0042"}
    )
    assert ack.status_code == 201 and ack.json()["police_acknowledged_at"]

    # The school stops investigating; support and parent contacts go on.
    refused = desk.grid(case, depicted)
    assert refused.status_code == 409 and refused.json()["code"] == "investigation_handed_off"
    assert (
        desk.call(
            "POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "Suivi psychosocial offert."}
        ).status_code
        == 201
    )

    # The DPJ reporter sees the case (a report is needed) and records it.
    report = {
        "kind": "dpj_report",
        "occurred_at": "2026-11-21T09:00:00Z",
        "region": "Laurentides",
        "reference": "DPJ-26-1234",
        "retained": True,
    }
    assert desk.call("POST", f"/cases/{case['id']}/contacts", "demo-dpj-a", json=report).status_code == 201
    assert desk.call("GET", f"/cases/{case['id']}/grids", "demo-dpj-a").status_code == 403

    # Closing is refused until every guard is met.
    refusal = desk.transition(case, "close", "demo-lead-a")
    assert refusal.status_code == 409
    assert set(refusal.json()["rules"]) == {"parents_not_notified", "device_in_school_custody"}

    # The device goes to police, who alone return it.
    assert (
        desk.custody(phone, "transferred_to_police", officer_name="Agente Paquette", badge_number="4521").status_code
        == 201
    )
    school_return = desk.custody(phone, "returned_to_owner")
    assert school_return.status_code == 403 and school_return.json()["code"] == "custody_police_only"
    assert desk.custody(phone, "returned_to_owner", "demo-police-a").status_code == 201
    assert desk.custody(phone, "retained_as_evidence", "demo-police-a").json()["code"] == "custody_final"

    for person in (reporter, depicted, sharer):
        desk.notify_parents(case, person)
    closed = desk.go(case, "close", "demo-lead-a")
    assert closed["status"] == "closed" and closed["closed_at"]
    reopen = desk.transition(case, "reopen", "demo-lead-a", reason="Nouvel élément")
    assert reopen.status_code == 409 and reopen.json()["code"] == "reopen_after_hand_off"


def test_revenge_distribution_requires_police(desk):
    """3. A student redistributes a former partner's photo for revenge."""
    case = desk.open_case()
    victim = desk.person(case, "reporter", name="Élève G")
    ex = desk.person(case, "distributor", name="Élève H")
    desk.go(case, "start_evaluation")
    grid = desk.grid(
        case, victim, content="semi_nude_or_suggestive", ages=[16], intentions=["malicious_revenge_humiliation"]
    )
    assert grid.json()["flags_raised"] == ["malicious_intent"]
    flagged = desk.call(
        "POST",
        f"/cases/{case['id']}/participants/{ex['id']}/flags",
        "demo-staff-a",
        json={"kind": "malicious_intent", "reason": "Diffusion pour se venger après la rupture."},
    )
    assert flagged.status_code == 201 and flagged.json()["flags"][0]["kind"] == "malicious_intent"
    refused = desk.grid(case, ex)
    assert refused.status_code == 409
    assert refused.json()["code"] == "participant_flagged_malicious"
    assert "P2" in refused.json()["detail"] and "Élève H" not in refused.json()["detail"]
    desk.confiscate(case, ex)
    desk.call(
        "POST",
        f"/cases/{case['id']}/participants/{ex['id']}/flags",
        "demo-staff-a",
        json={"kind": "refused", "reason": "Refuse de participer à la rencontre."},
    )
    desk.go(case, "start_gathering")
    state = desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert set(state["flags"]) == {"malicious_intent", "refusal_to_participate"}
    resolve = desk.transition(case, "resolve")
    assert resolve.status_code == 409 and resolve.json()["code"] == "police_flags_block_resolution"
    options = {
        t["action"]: t for t in desk.ok("GET", f"/cases/{case['id']}/transitions", "demo-staff-a")["transitions"]
    }
    assert options["hand_off"]["allowed"] is True
    assert options["resolve"]["allowed"] is False
    assert options["resolve"]["blockers"][0]["code"] == "police_flags_block_resolution"
    steps = {(s["code"], s["subject"]): s["done"] for s in desk.steps(case)["steps"]}
    assert steps[("step_confiscate_malicious", "P2")] is True
    assert steps[("step_contact_police", "P2")] is False
    assert desk.go(case, "hand_off", police_officer="Agent Roy")["status"] == "handed_off"


def test_police_record_the_outcome_and_the_school_sees_only_that(desk):
    case = desk.open_case()
    desk.person(case, "distributor")
    assert (
        desk.call(
            "POST", f"/cases/{case['id']}/police-outcome", "demo-police-a", json={"dcpp_decision": "impulsive"}
        ).status_code
        == 404
    )
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    assert (
        desk.call(
            "POST", f"/cases/{case['id']}/police-outcome", "demo-staff-a", json={"dcpp_decision": "impulsive"}
        ).status_code
        == 403
    )
    assert (
        desk.call(
            "POST", f"/cases/{case['id']}/police-outcome", "demo-police-b", json={"dcpp_decision": "impulsive"}
        ).status_code
        == 404
    )
    outcome = desk.ok(
        "POST",
        f"/cases/{case['id']}/police-outcome",
        "demo-police-a",
        json={
            "dcpp_decision": "impulsive",
            "dcpp_decided_on": "2026-11-24",
            "awareness_meeting_on": "2026-11-27",
            "close_police_part": True,
        },
    )
    assert outcome["police_closed_at"]
    seen = desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")
    assert (seen["dcpp_decision"], seen["awareness_meeting_on"]) == ("impulsive", "2026-11-27")
    closed = desk.call(
        "POST", f"/cases/{case['id']}/police-outcome", "demo-police-a", json={"dcpp_decision": "malicious"}
    )
    assert closed.status_code == 409 and closed.json()["code"] == "police_part_closed"
    bad = desk.call("POST", f"/cases/{case['id']}/police-outcome", "demo-police-a", json={"dcpp_decision": "guilty"})
    assert bad.status_code == 422
