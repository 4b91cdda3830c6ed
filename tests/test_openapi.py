"""The committed OpenAPI document is the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.main import create_app

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
UNAUTHENTICATED = {"/healthz", "/readyz", "/api/v1/auth/token"}


@pytest.fixture(scope="module")
def served() -> dict:
    return create_app().openapi()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_served_document_is_the_committed_one(served):
    committed = json.loads(COMMITTED.read_text())
    assert served == committed, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_has_a_summary(served):
    missing = [f"{method.upper()} {path}" for path, method, op in _operations(served) if not op.get("summary")]
    assert missing == []


def test_every_authenticated_route_declares_401_and_is_secured(served):
    for path, method, operation in _operations(served):
        if path in UNAUTHENTICATED:
            continue
        assert "401" in operation["responses"], f"{method.upper()} {path}"
        assert operation.get("security"), f"{method.upper()} {path}"


def test_every_error_response_is_a_problem_document(served):
    for path, method, operation in _operations(served):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"


def test_routes_with_input_declare_422(served):
    for path, method, operation in _operations(served):
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], f"{method.upper()} {path}"


def test_routes_with_a_body_declare_413_and_415(served):
    for path, method, operation in _operations(served):
        if operation.get("requestBody"):
            assert {"413", "415"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_every_route_has_a_tag(served):
    assert all(op.get("tags") for _, _, op in _operations(served))


def test_every_schema_is_described_and_every_request_body_has_an_example(served):
    schemas = served["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not schema.get("description")] == []
    bodies = {
        content["schema"]["$ref"].rsplit("/", 1)[-1]
        for _, _, operation in _operations(served)
        for content in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in content["schema"]
    }
    assert [name for name in sorted(bodies) if not schemas[name].get("examples")] == []


def test_problem_codes_are_listed(served):
    codes = served["components"]["schemas"]["ProblemDocument"]["properties"]["code"]
    assert {"parents_not_notified", "media_refused", "precondition_failed", "not_found"} <= set(codes["enum"])


def test_routes_are_grouped_by_audience(served):
    audiences = {"school", "police", "dpj", "audit", "privacy", "admin", "auth", "health"}
    for path, method, operation in _operations(served):
        assert set(operation["tags"]) <= audiences, f"{method.upper()} {path}: {operation['tags']}"
    read_case = served["paths"]["/api/v1/cases/{case_id}"]["get"]
    assert set(read_case["tags"]) == {"school", "police", "dpj"}
