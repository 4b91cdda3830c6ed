"""ETags on case-level resources; If-None-Match, If-Match, 412 and 428."""

from __future__ import annotations

import pytest

from tests.conftest import approved_service_account

CASE_LEVEL = ["", "/participants", "/grids", "/devices", "/contacts", "/notes", "/transitions", "/next-steps", "/team"]


@pytest.mark.parametrize("suffix", CASE_LEVEL)
def test_every_case_level_resource_has_an_etag_and_honours_if_none_match(desk, suffix):
    case = desk.open_case()
    path = f"/cases/{case['id']}{suffix}"
    first = desk.call("GET", path, "demo-staff-a")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    unchanged = desk.call("GET", path, "demo-staff-a", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "Suivi."})
    changed = desk.call("GET", path, "demo-staff-a", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_the_language_is_part_of_a_translated_answers_etag(desk):
    case = desk.open_case()
    french = desk.call("GET", f"/cases/{case['id']}/next-steps", "demo-staff-a")
    english = desk.call("GET", f"/cases/{case['id']}/next-steps", "demo-staff-a", headers={"Accept-Language": "en"})
    assert french.headers["etag"] != english.headers["etag"]


def test_a_stale_if_match_is_a_412_and_changes_nothing(desk):
    case = desk.open_case()
    etag = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").headers["etag"]
    ok = desk.call(
        "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "Précisé"}, headers={"If-Match": etag}
    )
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    stale = desk.call(
        "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "Écrasé"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")["summary"] == "Précisé"
    moved = desk.call(
        "POST",
        f"/cases/{case['id']}/transitions",
        "demo-staff-a",
        json={"action": "start_evaluation"},
        headers={"If-Match": etag},
    )
    assert moved.status_code == 412
    fresh = ok.headers["etag"]
    assert (
        desk.call(
            "POST",
            f"/cases/{case['id']}/transitions",
            "demo-staff-a",
            json={"action": "start_evaluation"},
            headers={"If-Match": fresh},
        ).status_code
        == 200
    )
    assert (
        desk.call(
            "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "x"}, headers={"If-Match": "garbage"}
        ).status_code
        == 412
    )


def test_an_integrated_system_must_send_if_match_on_a_transition(desk, client, login):
    body = {"name": "SI du CSS A", "role": "school_lead", "scope": {"schools": [str(desk.demo.school_a)]}}
    created = approved_service_account(client, login, body, "demo-privacy-a")
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    ).json()["access_token"]
    case = desk.open_case()
    response = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"action": "start_evaluation"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"


def test_the_access_log_is_never_answered_304_and_etags_name_their_case(desk):
    case = desk.open_case()
    log = desk.call("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
    assert "etag" not in log.headers
    other = desk.open_case()
    other_etag = desk.call("GET", f"/cases/{other['id']}", "demo-staff-a").headers["etag"]
    own_etag = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a").headers["etag"]
    assert other_etag.split(".")[1] == own_etag.split(".")[1]  # same version...
    wrong_case = desk.call(
        "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "y"}, headers={"If-Match": other_etag}
    )
    assert wrong_case.status_code == 412  # ...but another case's ETag
    a2 = desk.call("GET", f"/cases/{case['id']}/transitions", "demo-lead-a").headers["etag"]
    assert a2 != desk.call("GET", f"/cases/{case['id']}/transitions", "demo-staff-a").headers["etag"]


def test_the_answers_that_are_the_case_itself_carry_its_etag_after_a_write_too():
    """The route class gives the ETag whatever the method to routes whose
    answer is the case (``CaseAnswer``, a type: ``CaseOut`` and nothing else),
    and on GET only to the other case-level answers."""
    from fastapi.routing import APIRoute

    from app.cases.schemas import CaseOut
    from app.etags import answers_with_case
    from app.main import create_app
    from tests.conftest import api_routes

    routes = [route for _, _, route in api_routes(create_app()) if isinstance(route, APIRoute)]
    marked = {route.name for route in routes if answers_with_case(route.response_model)}
    assert marked == {route.name for route in routes if route.response_model is CaseOut}
    assert {"open_case", "read_case", "update_case"} <= marked
