"""The evaluation grid's templates, for front ends to render."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.audit.recorder import AuditedRoute
from app.auth.principal import CurrentPrincipal
from app.errors import NotFound, problem_responses
from app.grid.schemas import GridTemplateOut
from app.grid.templates import GridTemplates

router = APIRouter(prefix="/api/v1/grid-templates", tags=["cases"], route_class=AuditedRoute)


@router.get(
    "/current",
    summary="The current grid template: JSON Schema with French and English labels, and its flag rules",
    description=(
        "The version a new grid submission is checked against: its JSON Schema with labels in "
        "French and English, the sections police read (`x-police`) and the rules that raise the "
        "case's flags. Any signed-in caller."
    ),
    response_model=GridTemplateOut,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 503),
)
def current_template(_: CurrentPrincipal, request: Request) -> GridTemplateOut:
    templates: GridTemplates = request.state.grid_templates
    return templates.current.declared


@router.get(
    "/{version}",
    summary="One version of the grid template",
    description=(
        "Former versions stay readable: each grid submission names the version it was completed "
        "with. 404 for a version that does not exist. Any signed-in caller."
    ),
    response_model=GridTemplateOut,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 404, 422, 503),
)
def template_version(version: int, _: CurrentPrincipal, request: Request) -> GridTemplateOut:
    templates: GridTemplates = request.state.grid_templates
    template = templates.get(version)
    if template is None:
        raise NotFound()
    return template.declared
