"""Administration of organizations (admin only; no case content here)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, select

from app.audit.recorder import AuditedRoute
from app.auth.principal import AdminPrincipal
from app.db import get_session
from app.errors import UnprocessableContent, problem_responses
from app.idempotency.service import idempotency
from app.orgs import service
from app.orgs.models import DcppAgreement, PoliceForce, School, SchoolBoard
from app.orgs.schemas import (
    AgreementCreate,
    AgreementOut,
    AgreementUpdate,
    BoardCreate,
    BoardOut,
    BoardUpdate,
    PoliceForceCreate,
    PoliceForceOut,
    PoliceForceUpdate,
    SchoolCreate,
    SchoolOut,
    SchoolUpdate,
)
from app.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1", tags=["admin"], route_class=AuditedRoute, dependencies=[Depends(idempotency)])

SessionDep = Annotated[Session, Depends(get_session)]
READ_ERRORS = problem_responses(401, 403, 404, 422, 503)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 415, 422, 503)
CREATE_ERRORS = problem_responses(401, 403, 409, 413, 415, 422, 503)


def _created(response: Response, request: Request, row_id: uuid.UUID) -> None:
    response.headers["Location"] = f"{request.url.path}/{row_id}"


# --- school boards ------------------------------------------------------------


@router.post(
    "/boards",
    status_code=201,
    summary="Create a school board",
    description="Board names are unique: 409 `name_taken` otherwise. Administrators only; other roles get 403.",
    response_model=BoardOut,
    responses=CREATE_ERRORS,
)
def create_board(
    body: BoardCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> SchoolBoard:
    board = service.create(session, SchoolBoard, body)
    _created(response, request, board.id)
    return board


@router.get(
    "/boards",
    summary="List school boards",
    description="Oldest first, a page at a time. Administrators only; other roles get 403.",
    response_model=Page[BoardOut],
    responses=READ_ERRORS,
)
def list_boards(_: AdminPrincipal, session: SessionDep, page: PageDep) -> Page[BoardOut]:
    rows, cursor = paginate(session, select(SchoolBoard), SchoolBoard, page)
    return Page[BoardOut](items=rows, next_cursor=cursor)


@router.get(
    "/boards/{board_id}",
    summary="Read a school board",
    description="404 for a board that does not exist. Administrators only; other roles get 403.",
    response_model=BoardOut,
    responses=READ_ERRORS,
)
def read_board(board_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> SchoolBoard:
    return service.get_or_404(session, SchoolBoard, board_id)


@router.patch(
    "/boards/{board_id}",
    summary="Rename a school board",
    description="Board names are unique: 409 `name_taken` otherwise. Administrators only; other roles get 403.",
    response_model=BoardOut,
    responses=WRITE_ERRORS,
)
def update_board(board_id: uuid.UUID, body: BoardUpdate, _: AdminPrincipal, session: SessionDep) -> SchoolBoard:
    return service.update(session, service.get_or_404(session, SchoolBoard, board_id), body)


# --- police forces -------------------------------------------------------------


def _force_out(session: Session, request: Request, forces: list[PoliceForce]) -> list[PoliceForceOut]:
    today = service.local_today(request.state.settings.local_timezone)
    in_force = service.forces_with_agreement_in_force(session, [f.id for f in forces], today)
    return [PoliceForceOut.model_validate(f).model_copy(update={"kit_in_force": f.id in in_force}) for f in forces]


@router.post(
    "/police-forces",
    status_code=201,
    summary="Create a police force",
    description=(
        "Force names are unique: 409 `name_taken` otherwise. The kit may be used at the schools a "
        "force serves only while one of its DCPP agreements is in force (`kit_in_force`). "
        "Administrators only; other roles get 403."
    ),
    response_model=PoliceForceOut,
    responses=CREATE_ERRORS,
)
def create_police_force(
    body: PoliceForceCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> PoliceForceOut:
    force = service.create(session, PoliceForce, body)
    _created(response, request, force.id)
    return _force_out(session, request, [force])[0]


@router.get(
    "/police-forces",
    summary="List police forces",
    description=(
        "Oldest first, a page at a time, each with `kit_in_force` as of today, Quebec time. "
        "Administrators only; other roles get 403."
    ),
    response_model=Page[PoliceForceOut],
    responses=READ_ERRORS,
)
def list_police_forces(_: AdminPrincipal, session: SessionDep, page: PageDep, request: Request) -> Page[PoliceForceOut]:
    rows, cursor = paginate(session, select(PoliceForce), PoliceForce, page)
    return Page[PoliceForceOut](items=_force_out(session, request, rows), next_cursor=cursor)


@router.get(
    "/police-forces/{force_id}",
    summary="Read a police force",
    description="With `kit_in_force` as of today, Quebec time. Administrators only; other roles get 403.",
    response_model=PoliceForceOut,
    responses=READ_ERRORS,
)
def read_police_force(force_id: uuid.UUID, _: AdminPrincipal, session: SessionDep, request: Request) -> PoliceForceOut:
    return _force_out(session, request, [service.get_or_404(session, PoliceForce, force_id)])[0]


@router.patch(
    "/police-forces/{force_id}",
    summary="Rename a police force",
    description="Force names are unique: 409 `name_taken` otherwise. Administrators only; other roles get 403.",
    response_model=PoliceForceOut,
    responses=WRITE_ERRORS,
)
def update_police_force(
    force_id: uuid.UUID, body: PoliceForceUpdate, _: AdminPrincipal, session: SessionDep, request: Request
) -> PoliceForceOut:
    force = service.update(session, service.get_or_404(session, PoliceForce, force_id), body)
    return _force_out(session, request, [force])[0]


# --- schools ---------------------------------------------------------------------


@router.post(
    "/schools",
    status_code=201,
    summary="Create a school",
    description=(
        "The board and the police force must exist (422 `unknown_reference`); a school's name is "
        "unique within its board (409 `name_taken`). Administrators only; other roles get 403."
    ),
    response_model=SchoolOut,
    responses=CREATE_ERRORS,
)
def create_school(
    body: SchoolCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> School:
    service.check_school_references(session, board_id=body.board_id, police_force_id=body.police_force_id)
    school = service.create(session, School, body)
    _created(response, request, school.id)
    return school


@router.get(
    "/schools",
    summary="List schools",
    description=(
        "Oldest first, a page at a time; filter by board or by the police force serving the "
        "schools. Administrators only; other roles get 403."
    ),
    response_model=Page[SchoolOut],
    responses=READ_ERRORS,
)
def list_schools(
    _: AdminPrincipal,
    session: SessionDep,
    page: PageDep,
    board_id: Annotated[uuid.UUID | None, Query(description="Only the schools of this board.")] = None,
    police_force_id: Annotated[uuid.UUID | None, Query(description="Only the schools this force serves.")] = None,
) -> Page[SchoolOut]:
    statement = select(School)
    if board_id:
        statement = statement.where(School.board_id == board_id)
    if police_force_id:
        statement = statement.where(School.police_force_id == police_force_id)
    rows, cursor = paginate(session, statement, School, page)
    return Page[SchoolOut](items=rows, next_cursor=cursor)


@router.get(
    "/schools/{school_id}",
    summary="Read a school",
    description="404 for a school that does not exist. Administrators only; other roles get 403.",
    response_model=SchoolOut,
    responses=READ_ERRORS,
)
def read_school(school_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> School:
    return service.get_or_404(session, School, school_id)


@router.patch(
    "/schools/{school_id}",
    summary="Rename a school or change the police force serving it",
    description=(
        "A new police force must exist (422 `unknown_reference`); a school's name is unique "
        "within its board (409 `name_taken`). Administrators only; other roles get 403."
    ),
    response_model=SchoolOut,
    responses=WRITE_ERRORS,
)
def update_school(school_id: uuid.UUID, body: SchoolUpdate, _: AdminPrincipal, session: SessionDep) -> School:
    school = service.get_or_404(session, School, school_id)
    service.check_school_references(session, board_id=None, police_force_id=body.police_force_id)
    return service.update(session, school, body)


# --- DCPP agreements -----------------------------------------------------------


def _agreement_out(request: Request, agreement: DcppAgreement) -> AgreementOut:
    today = service.local_today(request.state.settings.local_timezone)
    return AgreementOut.model_validate(agreement).model_copy(
        update={"in_force_today": service.is_agreement_in_force(agreement, today)}
    )


@router.post(
    "/agreements",
    status_code=201,
    summary="Record a DCPP agreement of a police force",
    description=(
        "The police force must exist (422 `unknown_reference`). While an agreement is in force "
        "(from `starts_on` through `ends_on`, Quebec time), the kit may be used at the schools "
        "the force serves. Administrators only; other roles get 403."
    ),
    response_model=AgreementOut,
    responses=CREATE_ERRORS,
)
def create_agreement(
    body: AgreementCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> AgreementOut:
    service.check_school_references(session, board_id=None, police_force_id=body.police_force_id)
    agreement = service.create(session, DcppAgreement, body)
    _created(response, request, agreement.id)
    return _agreement_out(request, agreement)


@router.get(
    "/agreements",
    summary="List DCPP agreements",
    description=(
        "Oldest first, a page at a time, each with `in_force_today`; filter by police force. "
        "Administrators only; other roles get 403."
    ),
    response_model=Page[AgreementOut],
    responses=READ_ERRORS,
)
def list_agreements(
    _: AdminPrincipal,
    session: SessionDep,
    page: PageDep,
    request: Request,
    police_force_id: Annotated[uuid.UUID | None, Query(description="Only this force's agreements.")] = None,
) -> Page[AgreementOut]:
    statement = select(DcppAgreement)
    if police_force_id:
        statement = statement.where(DcppAgreement.police_force_id == police_force_id)
    rows, cursor = paginate(session, statement, DcppAgreement, page)
    return Page[AgreementOut](items=[_agreement_out(request, row) for row in rows], next_cursor=cursor)


@router.get(
    "/agreements/{agreement_id}",
    summary="Read a DCPP agreement",
    description="With `in_force_today`, Quebec time. Administrators only; other roles get 403.",
    response_model=AgreementOut,
    responses=READ_ERRORS,
)
def read_agreement(agreement_id: uuid.UUID, _: AdminPrincipal, session: SessionDep, request: Request) -> AgreementOut:
    return _agreement_out(request, service.get_or_404(session, DcppAgreement, agreement_id))


@router.patch(
    "/agreements/{agreement_id}",
    summary="Change a DCPP agreement's reference or dates",
    description="An agreement cannot end before it starts (422 `agreement_dates`). Administrators only; other roles get 403.",
    response_model=AgreementOut,
    responses=WRITE_ERRORS,
)
def update_agreement(
    agreement_id: uuid.UUID, body: AgreementUpdate, _: AdminPrincipal, session: SessionDep, request: Request
) -> AgreementOut:
    agreement = service.get_or_404(session, DcppAgreement, agreement_id)
    service.apply_patch(agreement, body)
    if agreement.starts_on is None or (agreement.ends_on is not None and agreement.ends_on < agreement.starts_on):
        session.rollback()
        raise UnprocessableContent("agreement_dates", code="agreement_dates")
    service.flush_or_conflict(session, "conflict")
    return _agreement_out(request, agreement)
