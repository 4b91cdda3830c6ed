"""Liveness and readiness, for orchestrators and load balancers.  Neither
touches case data nor needs a token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import problem_response, problem_responses, request_language
from app.health.service import readiness
from app.i18n import Language, translate

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: str


class Readiness(BaseModel):
    """The database answers, its schema is at the latest migration, and the
    data keys read the data stored under them."""

    status: str
    migration: str


@router.get(
    "/healthz",
    summary="The process is up",
    description="For liveness probes: answers 200 while the process serves requests. It reads no database and needs no token.",
    response_model=Health,
)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database answers, its schema is current and the data keys read the stored data",
    description=(
        "For readiness probes and load balancers: 200 once the database answers, its schema is at "
        "the latest migration and the data keys (SEXTO_DATA_KEYS) decrypt the data stored under "
        "them; otherwise 503 with `Retry-After`, naming the ids of the keys at fault (never the "
        "keys). Needs no token."
    ),
    response_model=Readiness,
    responses=problem_responses(503),
)
def readyz(request: Request) -> Readiness | JSONResponse:
    state = readiness(request.state.engine, request.state.migration_head, request.state.key_check)
    language = request_language(request)
    if not state.current or not state.keys_checked or state.migration is None:
        return _not_ready(translate("service_unavailable", language), language)
    if state.key_problems:
        # The key ids (never the keys) are the operator's to read: they name
        # which key in SEXTO_DATA_KEYS is wrong or missing.
        key_ids = [problem.key_id for problem in state.key_problems]
        detail = translate("data_keys_unusable", language, key_ids=", ".join(key_ids))
        return _not_ready(detail, language, extra={"data_key_ids": key_ids})
    return Readiness(status="ready", migration=state.migration)


def _not_ready(detail: str, language: Language, extra: dict[str, Any] | None = None) -> JSONResponse:
    return problem_response(
        status=503,
        code="service_unavailable",
        detail=detail,
        language=language,
        headers={"Retry-After": "5"},
        extra=extra,
    )
