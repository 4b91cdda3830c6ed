"""The OpenAPI document, with problem documents in place of FastAPI's default
validation-error schema: every error the service answers is
``application/problem+json`` and the document says so."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA_REF, ProblemDocument, problem_examples, problem_responses
from app.i18n import MESSAGES

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

# Who each case route is for (the routers' own tags say it for the others).
# Read it with app/cases/policy.py's CAPABILITIES: the same roles, by audience.
SCHOOL, POLICE, DPJ, AUDIT = "school", "police", "dpj", "audit"
CASE_ROUTE_AUDIENCES: dict[str, list[str]] = {
    "open_case": [SCHOOL],
    "list_cases": [SCHOOL, POLICE, DPJ],
    "read_case": [SCHOOL, POLICE, DPJ],
    "update_case": [SCHOOL],
    "list_transitions": [SCHOOL, POLICE, DPJ],
    "take_transition": [SCHOOL],
    "next_steps": [SCHOOL, POLICE, DPJ],
    "acknowledge": [POLICE],
    "record_police_outcome": [POLICE],
    "list_team": [SCHOOL],
    "add_team_member": [SCHOOL],
    "remove_team_member": [SCHOOL],
    "list_staff": [SCHOOL],
    "list_participants": [SCHOOL, POLICE, DPJ],
    "add_participant": [SCHOOL],
    "flag_participant": [SCHOOL],
    "list_grids": [SCHOOL, POLICE],
    "submit_grid": [SCHOOL],
    "current_template": [SCHOOL],
    "template_version": [SCHOOL],
    "list_devices": [SCHOOL, POLICE],
    "confiscate_device": [SCHOOL],
    "list_custody_events": [SCHOOL, POLICE],
    "record_custody_event": [SCHOOL, POLICE],
    "list_contacts": [SCHOOL, POLICE, DPJ],
    "record_contact": [SCHOOL, DPJ],
    "list_notes": [SCHOOL],
    "add_note": [SCHOOL],
    "case_access_log": [SCHOOL, AUDIT],
    "export_participant": [SCHOOL],
    "list_case_holds": [SCHOOL, POLICE],
    "place_legal_hold": [SCHOOL, POLICE],
    "lift_legal_hold": [SCHOOL, POLICE],
}
TAGS = [
    {
        "name": SCHOOL,
        "description": "School staff and leads: cases, grids, people, devices, contacts, notes, the status machine.",
    },
    {
        "name": POLICE,
        "description": "Police liaisons and portals: the feed, handed-off cases, acknowledgement, custody, outcome.",
    },
    {"name": DPJ, "description": "DPJ reporters: cases that need a report, and the report."},
    {"name": AUDIT, "description": "Auditors: the append-only, hash-chained access log."},
    {
        "name": "privacy",
        "description": "Privacy officers: retention, legal holds, the confidentiality-incident register, access review. Case references only.",
    },
    {
        "name": "admin",
        "description": "Administrators: organizations, agreements, users, service accounts. No case contents.",
    },
    {"name": "auth", "description": "Sign-in and the caller's identity."},
    {"name": "health", "description": "Liveness and readiness."},
]
# Where the paths are: relative to the document, which the service serves at
# its own root (``/openapi.json``), so each deployment's document names
# itself; the same as OpenAPI's default, said out loud for the tools that ask.
SERVERS = [{"url": "/", "description": "The service that serves this document: paths start at its root."}]
# Each deployment is run by its school board or service provider; the document
# names the project that answers for the contract.
CONTACT = {"name": "Sexto case service maintainers"}
# Codes that are problem codes (the rest of app.i18n's keys are checklist or reason texts).
_NOT_PROBLEM_CODES = ("step_", "scope_", "title_", "field_")
IF_MATCH_OPERATIONS = {"update_case", "take_transition"}
NOT_CONDITIONAL = {"case_access_log"}
IF_MATCH_HEADER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The case's ETag as you read it: 412 when the case changed since. "
    "Required of service accounts on transitions (428 without it).",
    "schema": {"type": "string"},
}
IF_NONE_MATCH_HEADER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of your copy: 304 when it is still current.",
    "schema": {"type": "string"},
}
# POSTs that take no Idempotency-Key: sign-in (a token, a session's cookie:
# secrets never kept), sign-out (idempotent per credential; a key is kept per
# account, so another credential's retry would replay the first answer and
# end nothing), the password change (checks a secret, as a sign-in does),
# and the second factor's own routes, whose answers hold secrets shown once
# (app.auth.mfa.router).
NO_IDEMPOTENCY = {
    "/api/v1/auth/token",
    "/api/v1/auth/sessions",
    "/api/v1/auth/sign-out",
    "/api/v1/auth/password",
    "/api/v1/auth/mfa/totp",
    "/api/v1/auth/mfa/totp/confirm",
    "/api/v1/auth/mfa/recovery-codes",
}
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Retry safely: a retry with the same key and the same request gets the first answer "
        "(same status, body and Location) and creates nothing; the same key with another "
        "request is a 422. Kept 24 hours by default, per caller."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def install_openapi(app: FastAPI) -> None:  # noqa: C901 (to split: #12)
    def openapi() -> dict[str, Any]:  # noqa: C901
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=TAGS,
            servers=SERVERS,
            contact=CONTACT,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        problem["properties"]["code"]["enum"] = sorted(
            key for key in MESSAGES if not key.startswith(_NOT_PROBLEM_CODES) or key == "scope_invalid_for_role"
        )
        problem["properties"]["code"]["description"] = "Stable; `type` is `urn:sexto:problem:<code>`."
        schemas["ProblemDocument"] = problem
        document["components"]["examples"] = problem_examples()
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        for name, schema in schemas.items():
            if name.startswith("Page_"):  # generic pages do not inherit Page's docstring
                item = name[len("Page_") :].rstrip("_")
                schema["description"] = f"A page of {item} items: pass `next_cursor` as `cursor` for the next one."
        for route_path, path in document["paths"].items():
            post = path.get("post")
            if post is not None and route_path not in NO_IDEMPOTENCY:
                post.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            case_level = "{case_id}" in route_path or "{device_id}" in route_path
            if case_level and "get" in path and path["get"]["operationId"] not in NOT_CONDITIONAL:
                path["get"].setdefault("parameters", []).append(IF_NONE_MATCH_HEADER)
                path["get"]["responses"]["304"] = {"description": "Not modified: the `If-None-Match` ETag is current."}
            for operation in path.values():
                if operation.get("operationId") in CASE_ROUTE_AUDIENCES:
                    operation["tags"] = CASE_ROUTE_AUDIENCES[operation["operationId"]]
                if operation.get("operationId") in IF_MATCH_OPERATIONS:
                    operation.setdefault("parameters", []).append(IF_MATCH_HEADER)
            for operation in path.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = problem_responses(422)[422]
                for response in responses.values():
                    content = response.get("content", {})
                    if content.get(PROBLEM_CONTENT_TYPE, {}).get("schema", {}).get("$ref") == PROBLEM_SCHEMA_REF:
                        content.pop("application/json", None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
