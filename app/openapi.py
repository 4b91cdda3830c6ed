"""The OpenAPI document, with problem documents in place of FastAPI's default
validation-error schema: every error the service answers is
``application/problem+json`` and the document says so."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA_REF, ProblemDocument, problem_responses

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
IF_MATCH_OPERATIONS = {"update_case", "take_transition"}
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
NO_IDEMPOTENCY = {"/api/v1/auth/token"}
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


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["ProblemDocument"] = problem
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        for route_path, path in document["paths"].items():
            post = path.get("post")
            if post is not None and route_path not in NO_IDEMPOTENCY:
                post.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            case_level = "{case_id}" in route_path or "{device_id}" in route_path
            if case_level and "get" in path:
                path["get"].setdefault("parameters", []).append(IF_NONE_MATCH_HEADER)
                path["get"]["responses"]["304"] = {"description": "Not modified: the `If-None-Match` ETag is current."}
            for operation in path.values():
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
