"""The committed OpenAPI document is the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from app.main import create_app
from tests.conftest import api_routes

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
UNAUTHENTICATED = {"/healthz", "/readyz", "/api/v1/auth/token"}
# Sign-in for a browser session: its path's other operations are authenticated.
# Single sign-on's way through: the providers to offer, the start, the callback.
UNAUTHENTICATED_OPERATIONS = {
    ("post", "/api/v1/auth/sessions"),
    ("get", "/api/v1/auth/sso/providers"),
    ("get", "/api/v1/auth/sso/{provider_id}/start"),
    ("get", "/api/v1/auth/sso/callback"),
}


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
        if path in UNAUTHENTICATED or (method, path) in UNAUTHENTICATED_OPERATIONS:
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


def resolve(document: dict, node: dict) -> dict:
    """The node a ``$ref`` chain leads to in ``document``."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _discriminated_unions(document: dict, schema: dict, seen: frozenset = frozenset()):
    """Every `oneOf` with a `discriminator` in a schema, wherever it is nested."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
        schema = resolve(document, schema)
    if "oneOf" in schema and "discriminator" in schema:
        yield schema
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, []):
            yield from _discriminated_unions(document, branch, seen)
    for child in schema.get("properties", {}).values():
        yield from _discriminated_unions(document, child, seen)
    if isinstance(schema.get("items"), dict):
        yield from _discriminated_unions(document, schema["items"], seen)


def _tags(document: dict, union: dict) -> set[str]:
    prop = union["discriminator"]["propertyName"]
    if "mapping" in union["discriminator"]:
        return set(union["discriminator"]["mapping"])
    return {resolve(document, member)["properties"][prop]["const"] for member in union["oneOf"]}


def _has_example(document: dict, media: dict) -> bool:
    if media.get("examples") or "example" in media:
        return True
    schema = media["schema"]
    branches = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(resolve(document, branch).get("examples") for branch in branches)


def test_every_request_body_has_an_example_and_every_kind_of_a_union_a_named_one(served):
    """A body that is one of several kinds (`kind`, `action`...) shows one
    named example per kind, each valid against the body's schema."""
    missing, unnamed = [], []
    for path, method, operation in _operations(served):
        for content_type, media in operation.get("requestBody", {}).get("content", {}).items():
            where = f"{method.upper()} {path} {content_type}"
            if not _has_example(served, media):
                missing.append(where)
            named = {name: resolve(served, example) for name, example in media.get("examples", {}).items()}
            validator = Draft202012Validator({**media["schema"], "components": served["components"]})
            for name, example in named.items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert errors == [], f"{where}: example {name} does not follow the schema: {errors}"
            for union in _discriminated_unions(served, media["schema"]):
                prop = union["discriminator"]["propertyName"]
                shown = {example["value"].get(prop) for example in named.values() if isinstance(example["value"], dict)}
                unnamed += [f"{where}: {prop}={tag}" for tag in sorted(_tags(served, union) - shown)]
    assert missing == []
    assert unnamed == []


def test_the_contact_body_is_a_union_on_kind_with_one_named_example_per_kind(served):
    media = served["paths"]["/api/v1/cases/{case_id}/contacts"]["post"]["requestBody"]["content"]["application/json"]
    [union] = list(_discriminated_unions(served, media["schema"]))
    assert union["discriminator"]["propertyName"] == "kind"
    kinds = {
        "parent_notification",
        "parent_notification_exemption",
        "police_contact",
        "dpj_report",
        "media_inquiry",
        "takedown_referral",
    }
    assert _tags(served, union) == kinds
    assert {example["value"]["kind"] for example in media["examples"].values()} == kinds
    acknowledge = served["paths"]["/api/v1/cases/{case_id}/acknowledgement"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert len(acknowledge["examples"]) >= 2  # with and without the force's file number


def test_the_session_cookie_is_declared_next_to_the_bearer_scheme(served):
    schemes = served["components"]["securitySchemes"]
    cookie = schemes["SessionCookie"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "__Host-sexto_session")
    assert "X-CSRF-Token" in cookie["description"]
    for path, method, operation in _operations(served):
        if operation.get("security"):
            assert operation["security"] == [{"OAuth2": []}, {"SessionCookie": []}], f"{method.upper()} {path}"


def _depends_on(dependant, call) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def test_every_post_that_declares_an_idempotency_key_honours_it(served):
    """The document says a retry with the same key gets the first answer: a
    route that ignores the header must not declare it (a retried password
    change would run again, and count as a failed sign-in)."""
    from fastapi.routing import APIRoute

    from app.idempotency.service import idempotency

    declared = {
        path
        for path, method, operation in _operations(served)
        if method == "post" and any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    ignoring = {
        path
        for path, methods, route in api_routes(create_app())
        if isinstance(route, APIRoute) and "POST" in methods and not _depends_on(route.dependant, idempotency)
    }
    assert "/api/v1/auth/token" in ignoring  # the walk sees the routes
    assert declared & ignoring == set()
