"""RFC 9457 problem documents.

Services raise a ``Problem`` subclass that carries the HTTP status, a stable
``code`` (and so a stable ``type`` URI) and a message key from ``app.i18n``.
The handlers below turn those, request validation errors and unexpected
failures into ``application/problem+json`` in the caller's language.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.field_errors import protocol_rule, request_field_error
from app.i18n import Language, MessageRef, negotiate_language, translate
from app.logs import route_template

logger = logging.getLogger("sexto")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:sexto:problem:"
PROBLEM_SCHEMA_REF = "#/components/schemas/ProblemDocument"


class FieldError(BaseModel):
    """One offending field of a request."""

    field: str = Field(
        description="Where the error is, e.g. `body.name`, `query.limit` or `answers.nature.media_kind`."
    )
    code: str = Field(
        description="Stable: the validator's error type, e.g. `missing`, `extra_forbidden`, `literal_error` "
        "(for grid answers, the JSON Schema keyword: `required`, `enum`...)."
    )
    detail: str = Field(description="What is wrong, in the caller's language.")


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document.  `type` and `code` are stable; `title` and
    `detail` are in the language chosen by `Accept-Language` (French by default)."""

    type: str = Field(description="Stable URI of the problem type: `urn:sexto:problem:<code>`.")
    title: str = Field(description="A short summary of the problem (one per HTTP status), in the caller's language.")
    status: int = Field(description="The HTTP status code.")
    code: str
    detail: str = Field(description="This occurrence, in the caller's language: what is wrong and what to do.")
    errors: list[FieldError] | None = Field(
        default=None,
        description="On a 422 about fields (`validation_failed`, `grid_invalid`, a protocol confirmation...): "
        "every offending field or grid answer.",
    )
    rules: list[str] | None = Field(
        default=None,
        description="The protocol rules that refuse the request, every one of them (problem codes; `code` is "
        "the first): a refused transition's 409, a 422 missing a protocol confirmation.",
    )


class Problem(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message_key: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **params: object,
    ) -> None:
        self.code = code or self.code
        self.message_key = message_key or self.code
        self.params = params
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.code)

    def detail(self, language: Language) -> str:
        # Parameters that are themselves message keys are translated too.
        params = {
            name: translate(value.key, language, **value.params) if isinstance(value, MessageRef) else value
            for name, value in self.params.items()
        }
        return translate(self.message_key, language, **params)


class BadRequest(Problem):
    status, code = 400, "bad_request"


class InvalidGrant(Problem):
    status, code = 400, "invalid_grant"


class NotAuthenticated(Problem):
    status, code = 401, "not_authenticated"

    def __init__(self, message_key: str | None = None, **kwargs: Any) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="sexto"'}
        super().__init__(message_key, headers=headers, **kwargs)


class InvalidToken(NotAuthenticated):
    code = "invalid_token"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("invalid_token", code="invalid_token", **kwargs)
        self.headers = {"WWW-Authenticate": 'Bearer realm="sexto", error="invalid_token"'}


class InvalidClient(Problem):
    status, code = 401, "invalid_client"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Basic realm="sexto"'}, **kwargs)


class Forbidden(Problem):
    status, code = 403, "forbidden"


class NotFound(Problem):
    status, code = 404, "not_found"


class Conflict(Problem):
    status, code = 409, "conflict"


class PreconditionFailed(Problem):
    status, code = 412, "precondition_failed"


class PreconditionRequired(Problem):
    status, code = 428, "precondition_required"


class PayloadTooLarge(Problem):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(Problem):
    status, code = 415, "unsupported_media_type"


class UnprocessableContent(Problem):
    status, code = 422, "validation_failed"


class TooManyRequests(Problem):
    status, code = 429, "login_throttled"


class ServiceUnavailable(Problem):
    status, code = 503, "service_unavailable"


class InternalError(Problem):
    """An unexpected failure, already logged without its message: answered as
    a problem document and never re-raised to the server (whose traceback
    would carry the message)."""

    status, code = 500, "internal_error"


def log_unexpected(exc: BaseException, request: Request) -> None:
    """Log where an unexpected error happened, never what it said: an
    exception's message can carry names or case contents."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    # The route's template and the request id, as the request's line has them
    # (app.logs): never the raw path, whose ids could be looked up.
    request_id = request.scope.get("state", {}).get("request_id")
    template = route_template(request.scope)
    logger.error(
        "unhandled %s on %s %s (request %s) at %s", type(exc).__name__, request.method, template, request_id, where
    )


# RFC 9457's `title` summarizes the problem type: one short sentence per status
# (each code has one status), in the caller's language; `code` is what clients test.
STATUS_TITLES: dict[int, str] = {
    status: f"title_{status}" for status in (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429, 500, 503)
}


def problem_title(status: int, language: Language) -> str:
    return translate(STATUS_TITLES.get(status, STATUS_TITLES[500 if status >= 500 else 400]), language)


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    language: Language,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": problem_title(status, language),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    language: Language,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status=status, code=code, detail=detail, language=language, errors=errors, extra=extra),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={**(headers or {}), "Content-Language": language},
    )


def request_language(request: Request) -> Language:
    return negotiate_language(request.headers.get("accept-language"))


def _localized(value: Any, language: Language) -> Any:
    """A problem's extra members with their messages translated."""
    if isinstance(value, MessageRef):
        return value.translate(language)
    if isinstance(value, dict):
        return {name: _localized(item, language) for name, item in value.items()}
    if isinstance(value, list):
        return [_localized(item, language) for item in value]
    return value


# Field error types that are the whole problem, first match first.
_PROBLEM_FROM_FIELD = (
    ("media_refused", "media_refused"),
    ("nul_character", "nul_character"),
    ("json_invalid", "invalid_json"),
)


def _validation_problem(errors: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The 422's code and the protocol rules at stake (a confirmation or a required member missing)."""
    codes = {error["code"] for error in errors}
    rules = list(dict.fromkeys(rule for error in errors if (rule := protocol_rule(error["field"], error["code"]))))
    for kind, code in _PROBLEM_FROM_FIELD:
        if kind in codes:
            return code, rules
    return (rules[0] if rules else "validation_failed"), rules


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        language = request_language(request)
        return problem_response(
            status=exc.status,
            code=exc.code,
            detail=exc.detail(language),
            language=language,
            headers=exc.headers,
            extra=_localized(exc.extra, language),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = request_language(request)
        errors = [request_field_error(error, language) for error in exc.errors()]
        code, rules = _validation_problem(errors)
        return problem_response(
            status=422,
            code=code,
            detail=translate(code, language),
            language=language,
            errors=errors,
            extra={"rules": rules} if rules else None,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        language = request_language(request)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return problem_response(
            status=exc.status_code,
            code=code,
            detail=translate(code, language),
            language=language,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, _exc: IntegrityError) -> JSONResponse:
        # A constraint refused the write (a race past a service's own check):
        # nothing was committed.
        language = request_language(request)
        return problem_response(status=409, code="conflict", detail=translate("conflict", language), language=language)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: DBAPIError | PoolTimeout) -> JSONResponse:
        # The database went away or refused the connection, or no connection
        # came free in time (overloaded, not broken): nothing was committed,
        # and the pool reconnects by itself when the database is back.
        logger.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
        language = request_language(request)
        return problem_response(
            status=503,
            code="service_unavailable",
            detail=translate("service_unavailable", language),
            language=language,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log_unexpected(exc, request)
        language = request_language(request)
        return problem_response(
            status=500,
            code="internal_error",
            detail=translate("internal_error", language),
            language=language,
        )


# One realistic answer per status, as the default (French) caller gets it:
# (code, the message's parameters, the members beyond RFC 9457's five).
_EXAMPLES: dict[int, tuple[str, dict[str, object], dict[str, Any]]] = {
    400: ("invalid_grant", {}, {}),
    401: ("not_authenticated", {}, {}),
    403: ("architect_required", {}, {}),
    404: ("not_found", {}, {}),
    409: (
        "parents_not_notified",
        {"participants": "P2"},
        {"rules": ["parents_not_notified", "device_in_school_custody"]},
    ),
    412: ("precondition_failed", {}, {}),
    413: ("payload_too_large", {"limit": 262144}, {}),
    415: ("unsupported_media_type", {}, {}),
    422: (
        "validation_failed",
        {},
        {
            "errors": [
                {"field": "body.summary", "code": "missing", "detail": MessageRef("field_missing")},
                {
                    "field": "body.channel",
                    "code": "enum",
                    "detail": MessageRef("field_not_allowed", expected="in_person, phone, email, online_form, other"),
                },
            ]
        },
    ),
    428: ("precondition_required", {}, {}),
    429: ("login_throttled", {"retry_after": 300}, {}),
    503: ("service_unavailable", {}, {}),
}


PROBLEM_EXAMPLE_REF = "#/components/examples/{name}"


def problem_example_name(status: int) -> str:
    return f"problem_{status}_{_EXAMPLES[status][0]}"


def problem_examples() -> dict[str, dict[str, Any]]:
    """The OpenAPI document's ``components.examples``: one problem per status."""
    language: Language = "fr"
    examples = {}
    for status, (code, params, extra) in _EXAMPLES.items():
        detail = translate(code, language, **params)
        examples[problem_example_name(status)] = {
            "summary": f"{status} {code}",
            "value": problem_body(
                status=status, code=code, detail=detail, language=language, extra=_localized(extra, language)
            ),
        }
    return examples


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry that declares problem documents in OpenAPI,
    each status with its own example."""
    descriptions = {
        400: "Bad request",
        401: "Not authenticated, or the token is invalid",
        403: "The caller's role does not allow this",
        404: "Not found, or outside the caller's scope",
        409: "Conflicts with the current state",
        412: "Precondition failed",
        413: "Request body too large",
        415: "Unsupported media type: JSON only, never media",
        422: "Validation failed",
        428: "Precondition required",
        429: "Too many requests",
        503: "Service unavailable",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": {"$ref": PROBLEM_SCHEMA_REF},
                    "examples": {
                        _EXAMPLES[status][0]: {"$ref": PROBLEM_EXAMPLE_REF.format(name=problem_example_name(status))}
                    },
                }
            },
        }
        for status in statuses
    }
