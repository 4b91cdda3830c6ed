"""Every case-level route, walked as callers who must not know the case
exists: the answer is the same 404 as for a case that does not exist."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from tests.conftest import api_routes

MISSING = "00000000-0000-4000-8000-000000000000"
OUTSIDERS = ["demo-staff-b", "demo-staff-a2", "demo-police-a", "demo-police-b", "demo-dpj-a", "demo-admin"]


def _case_routes(app):
    for template, methods, route in api_routes(app):
        if isinstance(route, APIRoute) and ("{case_id}" in template or "{device_id}" in template):
            for method in methods:
                yield method, template, route


def _body(method: str, template: str):
    if method not in ("POST", "PATCH"):
        return None
    # A valid-looking body, so that only visibility decides.
    if template.endswith("/transitions"):
        return {"action": "start_evaluation"}
    if template.endswith("/notes"):
        return {"text": "x"}
    if template.endswith("/custody-events"):
        return {"kind": "stored", "storage_location": "x"}
    if template.endswith("/contacts"):
        return {"kind": "police_contact", "officer_name": "x", "method": "phone", "occurred_at": "2026-11-20T16:00:00Z"}
    return {}


@pytest.mark.parametrize("user", OUTSIDERS)
def test_outside_scope_is_indistinguishable_from_absence(desk, client, login, user):
    case = desk.open_case()  # not handed off, no DPJ report needed: none of these callers may know it
    person = desk.person(case, "distributor")
    device = desk.confiscate(case, person)
    walked = 0
    for method, template, _route in _case_routes(client.app):
        real = template.replace("{case_id}", case["id"]).replace("{device_id}", device["id"])
        real = real.replace("{participant_id}", person["id"])
        missing = (
            template.replace("{case_id}", MISSING).replace("{device_id}", MISSING).replace("{participant_id}", MISSING)
        )
        body = _body(method, template)
        hidden = client.request(method, real, json=body, headers=login(user))
        absent = client.request(method, missing, json=body, headers=login(user))
        assert hidden.status_code == absent.status_code, (user, method, template, hidden.text)
        if hidden.status_code == 404:
            assert hidden.json() == absent.json()
            assert set(hidden.headers) - {"x-request-id", "content-length", "date"} == set(absent.headers) - {
                "x-request-id",
                "content-length",
                "date",
            }
        walked += 1
    assert walked >= 20
