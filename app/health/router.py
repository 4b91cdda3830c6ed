"""Liveness and readiness, for orchestrators and load balancers.  Neither
touches case data nor needs a token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import problem_response, problem_responses, request_language
from app.i18n import translate

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: str


class Readiness(BaseModel):
    """The database answers and its schema is at the latest migration."""

    status: str
    migration: str


@router.get("/healthz", summary="The process is up", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database answers and its schema is at the latest migration",
    response_model=Readiness,
    responses=problem_responses(503),
)
def readyz(request: Request) -> Readiness | JSONResponse:
    expected = request.state.migration_head
    try:
        with request.state.engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        current = None
    if current != expected:
        language = request_language(request)
        return problem_response(
            status=503,
            code="service_unavailable",
            detail=translate("service_unavailable", language),
            language=language,
            headers={"Retry-After": "5"},
        )
    return Readiness(status="ready", migration=current)
