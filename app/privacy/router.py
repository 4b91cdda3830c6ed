"""The privacy officer's routes (``/api/v1/privacy``) and legal holds on cases.

The privacy officer's routes are no secret: other roles get 403.  Legal holds
are case-level: outside the case's visibility, 404 like any case route.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col, select

from app import limits
from app.accounts.models import Role
from app.audit.recorder import AuditedRoute
from app.auth.principal import CurrentPrincipal, Principal, require_roles
from app.cases import service as cases
from app.cases.policy import Capability
from app.db import get_session, utcnow
from app.errors import problem_responses
from app.idempotency.service import idempotency
from app.pagination import Page, PageDep, paginate
from app.privacy import service
from app.privacy.models import LegalHold, PrivacyIncident, PrivacyIncidentVersion
from app.privacy.schemas import (
    AccessReview,
    IncidentCreate,
    IncidentOut,
    IncidentUpdate,
    IncidentVersionOut,
    LegalHoldCreate,
    LegalHoldLift,
    LegalHoldOut,
    LegalHoldOverview,
    RetentionDecision,
    RetentionPreview,
    RetentionRuleIn,
    RetentionRuleOut,
    Thresholds,
)
from app.schemas import Instant, json_line

router = APIRouter(
    prefix="/api/v1/privacy", tags=["privacy"], route_class=AuditedRoute, dependencies=[Depends(idempotency)]
)
holds_router = APIRouter(
    prefix="/api/v1", tags=["cases"], route_class=AuditedRoute, dependencies=[Depends(idempotency)]
)

SessionDep = Annotated[Session, Depends(get_session)]
PrivacyOfficer = Annotated[Principal, Depends(require_roles(Role.privacy_officer))]
READ = problem_responses(401, 403, 422, 503)
WRITE = problem_responses(401, 403, 404, 409, 413, 415, 422, 503)
MAX_EXPORT = 10000


# --- retention ---------------------------------------------------------------


def _rule_out(request: Request, session: Session, principal: Principal) -> RetentionRuleOut:
    board_id = service.board_of(principal)
    rule = service.retention_rule(session, board_id)
    if rule is None:
        default = request.state.settings.retention_default_years
        return RetentionRuleOut(
            board_id=board_id,
            years_after_closure=default,
            schedule_reference=None,
            is_default=True,
            version=0,
            updated_at=None,
        )
    return RetentionRuleOut.model_validate({**rule.model_dump(), "is_default": False})


@router.get(
    "/retention-rule",
    summary="The board's retention rule (or the service default)",
    description=(
        "How many years after closure the privacy officer's board keeps a closed case; "
        "`is_default` when the board has set none. Privacy officers only."
    ),
    response_model=RetentionRuleOut,
    responses=READ,
)
def read_retention_rule(principal: PrivacyOfficer, session: SessionDep, request: Request) -> RetentionRuleOut:
    request.state.audit.touched("retention-rule", service.board_of(principal))
    return _rule_out(request, session, principal)


@router.put(
    "/retention-rule",
    summary="Set the board's retention rule",
    description=(
        "Years after closure, and the reference of the board's retention schedule; each change "
        "raises `version`. Privacy officers only."
    ),
    response_model=RetentionRuleOut,
    responses=problem_responses(401, 403, 413, 415, 422, 503),
)
def set_retention_rule(
    body: RetentionRuleIn, principal: PrivacyOfficer, session: SessionDep, request: Request
) -> RetentionRuleOut:
    service.set_retention_rule(session, principal, body)
    request.state.audit.touched("retention-rule", service.board_of(principal))
    return _rule_out(request, session, principal)


@router.get(
    "/retention/preview",
    summary="Dry run: the board's closed cases, when each is destroyed, what would go, and why any is kept",
    description=(
        "Changes nothing. For each closed case of the board, a page at a time: when it is due for "
        "destruction, what would be destroyed, and why any is kept. Privacy officers only; "
        "references, never case contents."
    ),
    response_model=RetentionPreview,
    responses=READ,
)
def retention_preview(
    principal: PrivacyOfficer, session: SessionDep, request: Request, page: PageDep
) -> RetentionPreview:
    decisions, cursor = service.retention_preview(session, principal, request.state.settings, page)
    request.state.audit.returned([d.case_id for d in decisions])
    return RetentionPreview(
        board_id=service.board_of(principal),
        as_of=utcnow(),
        items=[RetentionDecision.model_validate(vars(d)) for d in decisions],
        next_cursor=cursor,
    )


# --- legal holds -------------------------------------------------------------


def _hold_out(hold: LegalHold) -> LegalHoldOut:
    return LegalHoldOut.model_validate({**hold.model_dump(), "active": hold.lifted_at is None})


@router.get(
    "/legal-holds",
    summary="Legal holds on the board's cases (references only)",
    description=(
        "The case references and schools, never case contents; filter by holds in force or "
        "lifted. Privacy officers only."
    ),
    response_model=Page[LegalHoldOverview],
    responses=READ,
)
def list_board_holds(
    principal: PrivacyOfficer,
    session: SessionDep,
    page: PageDep,
    active: Annotated[bool | None, Query(description="Only holds in force (true) or lifted (false).")] = None,
) -> Page[LegalHoldOverview]:
    rows, cursor = paginate(session, service.holds_of_board(principal, active), LegalHold, page, created="placed_at")
    items = [
        LegalHoldOverview.model_validate(
            {**hold.model_dump(), "case_reference": reference, "school_id": school_id, "active": hold.lifted_at is None}
        )
        for hold, reference, school_id in rows
    ]
    return Page[LegalHoldOverview](items=items, next_cursor=cursor)


@holds_router.get(
    "/cases/{case_id}/legal-holds",
    summary="Legal holds on the case",
    description=(
        "School leads and police liaisons who see the case; others get 403, and a case outside "
        "the caller's visibility is a 404."
    ),
    response_model=Page[LegalHoldOut],
    responses=problem_responses(401, 403, 404, 422, 503),
)
def list_case_holds(
    case_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep
) -> Page[LegalHoldOut]:
    case = cases.visible_case(session, principal, case_id)
    cases.require(principal, Capability.legal_hold)
    rows, cursor = paginate(
        session, select(LegalHold).where(LegalHold.case_id == case.id), LegalHold, page, created="placed_at"
    )
    return Page[LegalHoldOut](items=[_hold_out(h) for h in rows], next_cursor=cursor)


@holds_router.post(
    "/cases/{case_id}/legal-holds",
    status_code=201,
    summary="School lead or police: keep a handed-off or DPJ-reported case from destruction",
    description=(
        "With a reason. A hold keeps the case from destruction whatever the retention rule says, "
        "until lifted. Only a case handed off to police or reported to the DPJ (409 "
        "`legal_hold_not_applicable`); not a destroyed one (409 `case_destroyed`)."
    ),
    response_model=LegalHoldOut,
    responses=WRITE,
)
def place_legal_hold(
    case_id: uuid.UUID, body: LegalHoldCreate, principal: CurrentPrincipal, session: SessionDep, response: Response
) -> LegalHoldOut:
    hold = service.place_hold(session, principal, case_id, body.reason)
    response.headers["Location"] = f"/api/v1/cases/{case_id}/legal-holds/{hold.id}"
    return _hold_out(hold)


@holds_router.post(
    "/cases/{case_id}/legal-holds/{hold_id}/lift",
    summary="Lift a legal hold (the role that placed it), with a reason",
    description=(
        "Only the side that placed it lifts it, with a reason (403 `legal_hold_other_party`); a "
        "hold is lifted once (409 `legal_hold_lifted`). The hold stays in the list, lifted."
    ),
    response_model=LegalHoldOut,
    responses=WRITE,
)
def lift_legal_hold(
    case_id: uuid.UUID, hold_id: uuid.UUID, body: LegalHoldLift, principal: CurrentPrincipal, session: SessionDep
) -> LegalHoldOut:
    return _hold_out(service.lift_hold(session, principal, case_id, hold_id, body.reason))


# --- the incident register ---------------------------------------------------------


def _incidents_out(session: Session, incidents: list[PrivacyIncident]) -> list[IncidentOut]:
    references = service.case_references(session, incidents)
    return [
        IncidentOut.model_validate(
            {**incident.model_dump(), "case_references": [references.get(i, "") for i in incident.case_ids]}
        )
        for incident in incidents
    ]


@router.post(
    "/incidents",
    status_code=201,
    summary="Record a confidentiality incident in the register",
    description=(
        "It gets the board's next reference of the year it was discovered (`INC-2026-0001`). "
        "Privacy officers only; case references, never case contents."
    ),
    response_model=IncidentOut,
    responses=WRITE,
)
def create_incident(
    body: IncidentCreate, principal: PrivacyOfficer, session: SessionDep, request: Request, response: Response
) -> IncidentOut:
    incident = service.create_incident(session, principal, body, request.state.settings.local_timezone)
    response.headers["Location"] = f"/api/v1/privacy/incidents/{incident.id}"
    return _incidents_out(session, [incident])[0]


@router.get(
    "/incidents",
    summary="The board's confidentiality-incident register",
    description="The current version of each entry, oldest first, a page at a time. Privacy officers only.",
    response_model=Page[IncidentOut],
    responses=READ,
)
def list_incidents(principal: PrivacyOfficer, session: SessionDep, page: PageDep) -> Page[IncidentOut]:
    statement = select(PrivacyIncident).where(PrivacyIncident.board_id == service.board_of(principal))
    rows, cursor = paginate(session, statement, PrivacyIncident, page)
    return Page[IncidentOut](items=_incidents_out(session, rows), next_cursor=cursor)


@router.get(
    "/incidents/export",
    summary="Export the register as JSON Lines (one entry per line, current version)",
    description=(
        "The current version of each entry of the board's register, by year and number, up to "
        "10,000 entries. Privacy officers only."
    ),
    response_class=Response,
    responses={
        200: {"content": {"application/jsonl": {"schema": {"type": "string"}}}, "description": "One entry per line."},
        **READ,
    },
)
def export_incidents(principal: PrivacyOfficer, session: SessionDep, request: Request) -> Response:
    rows = session.exec(
        select(PrivacyIncident)
        .where(PrivacyIncident.board_id == service.board_of(principal))
        .order_by(col(PrivacyIncident.year), col(PrivacyIncident.number))
        .limit(MAX_EXPORT)
    ).all()
    request.state.audit.returned([row.id for row in rows])
    lines = [json_line(out) for out in _incidents_out(session, list(rows))]
    return Response("\n".join(lines) + ("\n" if lines else ""), media_type="application/jsonl")


@router.get(
    "/incidents/{incident_id}",
    summary="A register entry",
    description="An entry of another board is a 404. Privacy officers only.",
    response_model=IncidentOut,
    responses={**READ, **problem_responses(404)},
)
def read_incident(incident_id: uuid.UUID, principal: PrivacyOfficer, session: SessionDep) -> IncidentOut:
    return _incidents_out(session, [service.board_incident(session, principal, incident_id)])[0]


@router.patch(
    "/incidents/{incident_id}",
    summary="Update a register entry (every version is kept)",
    description=(
        "Each change is kept as a version (`/history`); dates must follow each other (422 "
        "`incident_dates_order`). Privacy officers only."
    ),
    response_model=IncidentOut,
    responses={**WRITE, **problem_responses(404)},
)
def update_incident(
    incident_id: uuid.UUID, body: IncidentUpdate, principal: PrivacyOfficer, session: SessionDep, request: Request
) -> IncidentOut:
    incident = service.update_incident(session, principal, incident_id, body, request.state.settings.local_timezone)
    return _incidents_out(session, [incident])[0]


@router.get(
    "/incidents/{incident_id}/history",
    summary="Every version of a register entry",
    description="Oldest first, a page at a time. Privacy officers only.",
    response_model=Page[IncidentVersionOut],
    responses={**READ, **problem_responses(404)},
)
def incident_history(
    incident_id: uuid.UUID, principal: PrivacyOfficer, session: SessionDep, page: PageDep
) -> Page[IncidentVersionOut]:
    incident = service.board_incident(session, principal, incident_id)
    statement = select(PrivacyIncidentVersion).where(PrivacyIncidentVersion.incident_id == incident.id)
    rows, cursor = paginate(session, statement, PrivacyIncidentVersion, page, created="changed_at")
    return Page[IncidentVersionOut](items=rows, next_cursor=cursor)


# --- access review -------------------------------------------------------------


@router.get(
    "/access-review",
    summary="Unusual access to the board's cases in the audit log: many denials, many cases, outside school hours",
    description="Limited per caller (SEXTO_ACCESS_REVIEW_LIMIT per window): 429 `rate_limited` with "
    "`Retry-After` beyond.",
    response_model=AccessReview,
    responses=problem_responses(401, 403, 422, 429, 503),
)
def access_review(
    principal: PrivacyOfficer,
    session: SessionDep,
    request: Request,
    since: Annotated[Instant | None, Query(description="Default: 7 days before `until`.")] = None,
    until: Annotated[Instant | None, Query(description="Default: now. At most 31 days after `since`.")] = None,
) -> AccessReview:
    settings = request.state.settings
    limits.per_caller(session, settings, request.state.cipher, "access_review", principal.id)
    start, end, examined, findings = service.access_review(session, principal, settings, since, until)
    return AccessReview(
        board_id=service.board_of(principal),
        since=start,
        until=end,
        thresholds=Thresholds(
            denied=settings.review_denied_threshold,
            distinct_cases=settings.review_distinct_cases_threshold,
            window_minutes=settings.review_window_minutes,
            school_hours=settings.review_school_hours,
            timezone=settings.local_timezone,
        ),
        entries_examined=examined,
        truncated=examined >= service.MAX_REVIEW_ENTRIES,
        findings=findings,
    )
