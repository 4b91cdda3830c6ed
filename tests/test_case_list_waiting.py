"""The case list says what each case waits for (issue #16: "a case list with
status, flags and what is waiting"): the protocol's steps not yet done, the
same as the case's next steps give each role, read for a whole page at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.protocol_helpers import Desk

ROLES = ["demo-staff-a", "demo-lead-a", "demo-police-a", "demo-dpj-a"]


def _waiting_in_list(desk: Desk, user: str, **query) -> dict[str, list[dict]]:
    listed = desk.ok("GET", "/cases", user, params={"limit": 100, **query})
    return {item["id"]: item["waiting"] for item in listed["items"]}


def _cases_at_several_stages(desk: Desk) -> list[dict]:
    """A new case; one with a grid and people whose parents are to be told;
    one with CSAM suspected, a well-being concern (a flag police are not
    shown) and a confiscated device, handed off to the police."""
    new = desk.open_case()
    interviewed = desk.open_case()
    reporter = desk.person(interviewed, "reporter")
    desk.go(interviewed, "start_evaluation")
    assert desk.grid(interviewed, reporter, content="nudity_or_breasts", ages=[15]).status_code == 201
    desk.person(interviewed, "distributor")
    handed_off = desk.open_case()
    victim = desk.person(handed_off, "reporter")
    desk.go(handed_off, "start_evaluation")
    submitted = desk.grid(
        handed_off, victim, content="nudity_or_breasts", ages=[13], wellbeing={"self_harm_risk": "yes"}
    )
    assert submitted.status_code == 201, submitted.text
    desk.confiscate(handed_off, victim)
    desk.go(handed_off, "hand_off", police_officer="Agente Paquette")
    return [new, interviewed, handed_off]


def test_each_case_waits_for_its_next_steps_not_done(desk):
    cases = _cases_at_several_stages(desk)
    waiting = _waiting_in_list(desk, "demo-lead-a")
    for case in cases:
        steps = desk.ok("GET", f"/cases/{case['id']}/next-steps", "demo-lead-a")["steps"]
        assert waiting[case["id"]] == [step for step in steps if not step["done"]], case["id"]
    assert [step["code"] for step in waiting[cases[0]["id"]]] == ["step_reporter_grid"]
    parents = [step for step in waiting[cases[1]["id"]] if step["code"] == "step_parents"]
    assert [step["subject"] for step in parents] == ["P1", "P2"]
    assert all(step["done"] is False and step["detail"] for steps in waiting.values() for step in steps)


@pytest.mark.parametrize("user", ROLES)
def test_every_role_is_told_what_its_next_steps_say(desk, user):
    """A role not shown a flag is not told of the step that would say it,
    in the list as in the next steps."""
    for case in _cases_at_several_stages(desk):
        steps = desk.call("GET", f"/cases/{case['id']}/next-steps", user)
        listed = _waiting_in_list(desk, user)
        if steps.status_code == 404:
            assert case["id"] not in listed
            continue
        assert steps.status_code == 200, steps.text
        assert listed[case["id"]] == [step for step in steps.json()["steps"] if not step["done"]]


def test_police_are_not_told_of_the_well_being_step_in_the_list(desk):
    """The list and the next steps come from the same code, so comparing them
    cannot catch a leak: the hidden flag's step is checked here on its own.
    The school lead is told of it; police, who are not shown the flag, are not."""
    handed_off = _cases_at_several_stages(desk)[2]
    lead = [step["code"] for step in _waiting_in_list(desk, "demo-lead-a")[handed_off["id"]]]
    police = [step["code"] for step in _waiting_in_list(desk, "demo-police-a")[handed_off["id"]]]
    assert "step_wellbeing" in lead
    assert "step_wellbeing" not in police
    assert police  # the force is still told what the case waits for


def test_the_steps_are_said_in_the_callers_language(desk):
    case = desk.open_case()
    french = _waiting_in_list(desk, "demo-lead-a")[case["id"]][0]["detail"]
    english = desk.ok("GET", "/cases", "demo-lead-a", params={"limit": 100}, headers={"Accept-Language": "en"})
    assert {item["id"]: item for item in english["items"]}[case["id"]]["waiting"][0]["detail"] != french


def test_a_page_of_cases_costs_the_queries_of_one(desk):
    """What the cases wait for is read for the page at once: a page of many
    cases takes as many statements as a page of one.  (Handed-off cases, so
    that every case on either page has people and devices to read.)"""
    for _ in range(3):
        _cases_at_several_stages(desk)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def listing(limit: int) -> int:
        desk.ok(
            "GET", "/cases", "demo-lead-a", params={"limit": limit, "status": "handed_off"}
        )  # signs in outside the count
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            items = desk.ok("GET", "/cases", "demo-lead-a", params={"limit": limit, "status": "handed_off"})["items"]
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert len(items) == limit
        return len(statements)

    assert listing(3) == listing(1)
