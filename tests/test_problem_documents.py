"""Problem documents as an integrator reads them: every member the service
sends is declared, each error status has its own example, and ``title`` is a
short sentence in the caller's language while ``code`` stays stable."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from app.main import create_app
from tests.protocol_helpers import Desk, answers
from tests.test_openapi import resolve

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def served() -> dict:
    return create_app().openapi()


def strict(document: dict) -> dict:
    """The served components with every object schema closed: a member the
    service sends but does not declare fails validation."""
    components = copy.deepcopy(document["components"])
    for schema in components["schemas"].values():
        if schema.get("type") == "object" or "properties" in schema:
            schema["additionalProperties"] = False
    return components


def problem_validator(document: dict) -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/components/schemas/ProblemDocument", "components": strict(document)})


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def case_body(desk: Desk) -> dict:
    return {
        "school_id": str(desk.demo.school_a),
        "reporter_type": "student",
        "channel": "in_person",
        "place": "school",
        "summary": "Photo.",
    }


def real_refusals(desk: Desk, client, login) -> dict[str, object]:
    """Real problem answers, one per kind of refusal the service gives."""
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    cid = case["id"]
    evaluating = desk.open_case()
    desk.go(evaluating, "start_evaluation")
    answers_by_name = {
        "401": client.get("/api/v1/cases"),
        "403": desk.call("POST", "/cases", "demo-staff-a2", json=case_body(desk)),
        "404": desk.call("GET", "/cases/00000000-0000-4000-8000-000000000000", "demo-staff-a"),
        "405": client.delete("/api/v1/cases", headers=login("demo-staff-a")),
        "409 with rules": desk.transition(evaluating, "start_gathering"),
        "412": desk.call(
            "PATCH", f"/cases/{cid}", "demo-staff-a", json={"summary": "x"}, headers={"If-Match": '"999"'}
        ),
        "413": desk.call(
            "POST",
            f"/cases/{cid}/notes",
            "demo-staff-a",
            content=b'{"text":"' + b"x" * 300_000 + b'"}',
            headers={"Content-Type": "application/json"},
        ),
        "415": desk.call(
            "POST", f"/cases/{cid}/notes", "demo-staff-a", content=b"hello", headers={"Content-Type": "text/plain"}
        ),
        "422 fields": desk.call("POST", f"/cases/{cid}/notes", "demo-staff-a", json={"text": "", "extra": 1}),
        "422 invalid json": desk.call(
            "POST", f"/cases/{cid}/notes", "demo-staff-a", content=b"{", headers={"Content-Type": "application/json"}
        ),
        "422 grid": desk.call(
            "POST",
            f"/cases/{cid}/grids",
            "demo-staff-a",
            json={
                "participant_id": reporter["id"],
                "template_version": 1,
                "answers": {**answers(), "nature": {"media_kind": "hologram"}},
            },
        ),
        "422 confirmation": desk.call(
            "POST",
            f"/cases/{cid}/devices",
            "demo-staff-a",
            json={
                "kind": "phone",
                "description": "Téléphone",
                "owner_participant_id": reporter["id"],
                "switched_off_confirmed": False,
                "content_not_viewed": True,
            },
        ),
        "422 query": desk.call("GET", "/cases?limit=0", "demo-staff-a"),
    }
    return answers_by_name


def test_problem_document_declares_every_member_the_service_sends(served, desk, client, login):
    validator = problem_validator(served)
    refusals = real_refusals(desk, client, login)
    statuses = set()
    for name, response in refusals.items():
        assert response.status_code >= 400 and response.headers["content-type"].startswith(PROBLEM), name
        body = response.json()
        statuses.add(response.status_code)
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], f"{name}: {errors}"
    assert {401, 403, 404, 409, 412, 413, 415, 422} <= statuses
    # The members an integrator reads beyond the five of RFC 9457 are there.
    assert refusals["409 with rules"].json()["rules"]
    assert refusals["422 grid"].json()["errors"]
    assert refusals["422 confirmation"].json()["rules"] == ["device_not_switched_off"]


def test_a_throttled_sign_in_is_a_declared_problem(served, client, settings):
    form = {"grant_type": "password", "username": "demo-staff-a", "password": "not-the-password"}
    for _ in range(settings.login_max_failures):
        client.post("/api/v1/auth/token", data=form)
    throttled = client.post("/api/v1/auth/token", data=form)
    assert throttled.status_code == 429
    assert list(problem_validator(served).iter_errors(throttled.json())) == []


def test_each_error_status_has_its_own_valid_example(served):
    validator = problem_validator(served)
    examples: dict[str, dict] = {}
    for where, operation in _operations(served):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            named = response["content"][PROBLEM].get("examples", {})
            assert len(named) == 1, f"{where} {status}: one example expected"
            example = resolve(served, next(iter(named.values())))["value"]
            assert example["status"] == int(status), f"{where} {status}"
            assert list(validator.iter_errors(example)) == [], f"{where} {status}"
            assert examples.setdefault(status, example) == example, f"{status}: two examples for one status"
    assert {"401", "403", "404", "409", "412", "413", "415", "422", "428", "429", "503"} <= set(examples)
    codes = [example["code"] for example in examples.values()]
    assert len(set(codes)) == len(codes), "two statuses share an example"
    assert examples["409"].get("rules"), "the 409 example shows the rules that refuse a transition"
    assert examples["422"].get("errors"), "the 422 example shows the offending fields"


def test_the_problem_schema_itself_carries_no_single_example_for_every_status(served):
    # A schema-level example is what every status showed before.
    assert "examples" not in served["components"]["schemas"]["ProblemDocument"]


def test_title_is_a_short_sentence_in_the_callers_language(desk, client):
    missing = "/cases/00000000-0000-4000-8000-000000000000"
    french = desk.call("GET", missing, "demo-staff-a").json()
    english = desk.call("GET", missing, "demo-staff-a", headers={"Accept-Language": "en"}).json()
    assert french["code"] == english["code"] == "not_found"
    assert french["type"] == english["type"] == "urn:sexto:problem:not_found"
    assert french["title"] == "Ressource introuvable."
    assert english["title"] == "Resource not found."
    # Refusals answered before any route (the body checks) follow the same rules.
    unsupported = client.post(
        "/api/v1/cases", content=b"x", headers={"Content-Type": "text/plain", "Accept-Language": "en"}
    )
    assert unsupported.json()["title"] == "Unsupported content type."
    assert client.get("/api/v1/cases").json()["title"] == "Authentification requise."


def test_every_status_the_service_answers_has_a_title_in_both_languages():
    from app.errors import STATUS_TITLES, problem_responses
    from app.i18n import MESSAGES

    for status in problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429, 503):
        assert set(MESSAGES[STATUS_TITLES[status]]) == {"fr", "en"}
    assert {405, 500} <= set(STATUS_TITLES)
