"""Reading and verifying the audit log (auditors).  Reading it is audited too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Row, Select, select
from sqlmodel import Session

from app import limits
from app.accounts.models import Role
from app.audit import chain, reading
from app.audit.models import AuditCheckpoint, AuditEntry
from app.audit.recorder import AuditedRoute
from app.audit.schemas import AuditEvent, ChainStatus, Checkpoint, CheckpointList, VerifyResult
from app.auth.principal import Principal, require_roles
from app.db import get_session, table_of
from app.errors import problem_responses
from app.idempotency.service import idempotency
from app.pagination import MAX_PAGE_SIZE, Page, id_page, int_cursor
from app.schemas import Instant, json_line

router = APIRouter(
    prefix="/api/v1/audit", tags=["audit"], route_class=AuditedRoute, dependencies=[Depends(idempotency)]
)

SessionDep = Annotated[Session, Depends(get_session)]
AuditorPrincipal = Annotated[Principal, Depends(require_roles(Role.auditor))]
# The privacy officer reads its board's entries (the access review links to them).
ReaderPrincipal = Annotated[Principal, Depends(require_roles(Role.auditor, Role.privacy_officer))]
ERRORS = problem_responses(401, 403, 422, 503)
# The expensive reads are limited per caller (``app.limits``).
LIMITED = problem_responses(401, 403, 422, 429, 503)
MAX_EXPORT = 10000
EXPORT_BATCH = 500

_entries = table_of(AuditEntry)


def _ids(text: str | None) -> list[str]:
    return text.split(",") if text else []


def event_out(row: Row[Any]) -> AuditEvent:
    data = dict(row._mapping)
    data["org_ids"] = _ids(data["org_ids"])
    data["returned_ids"] = _ids(data["returned_ids"])
    return AuditEvent(**data)


# What a filter may hold: PostgreSQL refuses a NUL in text, so none is ever
# sent to it; ids are ids.  Anything else is a value to compare with.
_ID = r"^[0-9A-Za-z_.:-]+$"
_TEXT = r"^[^\x00-\x1f\x7f]+$"


class EventFilters:
    def __init__(
        self,
        actor_id: Annotated[
            str | None, Query(max_length=40, pattern=_ID, description="User or service account id.")
        ] = None,
        case_id: Annotated[
            str | None,
            Query(max_length=40, pattern=_ID, description="The entries about this case: those its access log lists."),
        ] = None,
        action: Annotated[str | None, Query(max_length=64, pattern=_TEXT, description="e.g. `read_case`.")] = None,
        outcome: Annotated[str | None, Query(pattern="^(allowed|denied|refused|error)$")] = None,
        since: Annotated[Instant | None, Query(description="From this instant (inclusive).")] = None,
        until: Annotated[Instant | None, Query(description="Before this instant (exclusive).")] = None,
    ) -> None:
        self.actor_id, self.case_id, self.action, self.outcome = actor_id, case_id, action, outcome
        self.since, self.until = since, until

    def apply(self, statement: Select, principal: Principal) -> Select:
        columns = _entries.c
        if self.case_id is not None:
            statement = statement.where(reading.about_case(self.case_id))  # as the case's access log
        for column, value in (
            (columns.actor_id, self.actor_id),
            (columns.action, self.action),
            (columns.outcome, self.outcome),
        ):
            if value is not None:
                statement = statement.where(column == value)
        for bound, op in ((self.since, "ge"), (self.until, "lt")):
            if bound is not None:
                text = chain.format_time(bound.astimezone(UTC))
                statement = statement.where(columns.recorded_at >= text if op == "ge" else columns.recorded_at < text)
        return statement.where(reading.readable(principal, self.case_id))


@router.get(
    "/events",
    summary="List audit entries (filters, cursor pagination); privacy officers: their board's",
    description=(
        "An auditor reads the entries of the organizations it audits and every entry about a case it audits, whoever "
        "made it (an outsider refused on the case too); the platform's (entries of no organization: sign-ins of "
        "unknown names, requests without a valid token, the admins' actions) only when its scope holds the platform. "
        "A privacy officer reads every entry about its board's cases. With `case_id`, the same entries as the case's "
        "access log."
    ),
    response_model=Page[AuditEvent],
    responses=ERRORS,
)
def list_events(
    principal: ReaderPrincipal,
    session: SessionDep,
    filters: Annotated[EventFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="`next_cursor` of the previous page.")] = None,
) -> Page[AuditEvent]:
    statement = filters.apply(select(_entries), principal)
    rows, next_cursor = id_page(session, statement, _entries.c.id, int_cursor(cursor), limit)
    return Page[AuditEvent](items=[event_out(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/export",
    summary="Export audit entries as JSON Lines",
    description="Up to 10,000 entries per call, streamed; `X-Next-Cursor` continues. Limited per caller "
    "(SEXTO_AUDIT_EXPORT_LIMIT per window): 429 `rate_limited` with `Retry-After` beyond.",
    response_class=Response,
    responses={
        200: {"content": {"application/jsonl": {"schema": {"type": "string"}}}, "description": "One entry per line."},
        **LIMITED,
    },
)
def export_events(
    principal: AuditorPrincipal,
    session: SessionDep,
    request: Request,
    filters: Annotated[EventFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT)] = MAX_EXPORT,
    cursor: Annotated[str | None, Query(max_length=20, description="`X-Next-Cursor` of the previous export.")] = None,
) -> Response:
    limits.per_caller(session, request.state.settings, request.state.cipher, "export_events", principal.id)
    statement = filters.apply(select(_entries), principal)
    rows, next_cursor = id_page(session, statement, _entries.c.id, int_cursor(cursor), limit)
    # The entry names every id returned and is committed before the answer
    # leaves (the route class); only the lines are written as they are sent.
    request.state.audit.returned([row.id for row in rows])
    headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
    return StreamingResponse(_jsonl(rows), media_type="application/jsonl", headers=headers)


def _jsonl(rows: Sequence[Row[Any]]) -> Iterator[str]:
    """The export's lines, a batch at a time, rather than one string of up
    to ``MAX_EXPORT`` entries."""
    for start in range(0, len(rows), EXPORT_BATCH):
        yield "".join(json_line(event_out(row)) + "\n" for row in rows[start : start + EXPORT_BATCH])


@router.get(
    "/verify",
    summary="Recompute the hash chains, check the signed checkpoints, and hold each chain to its witness",
    description="Limited per caller (SEXTO_AUDIT_VERIFY_LIMIT per window): 429 `rate_limited` with "
    "`Retry-After` beyond.",
    response_model=VerifyResult,
    responses=LIMITED,
)
def verify_log(
    principal: AuditorPrincipal,
    session: SessionDep,
    request: Request,
    mode: Annotated[
        Literal["full", "since_checkpoint"],
        Query(
            description="`full` (the default) recomputes every entry of every chain. `since_checkpoint` starts each "
            "chain at its latest checkpoint held by the witness (signature verified, entry still held), so that a "
            "daily check costs what was appended since; what only `full` catches: docs/audit.md."
        ),
    ] = "full",
) -> VerifyResult:
    limits.per_caller(session, request.state.settings, request.state.cipher, "verify_log", principal.id)
    connection = session.connection()
    signer = request.state.checkpoints
    starts = signer.starts(connection) if mode == "since_checkpoint" else None
    report = chain.verify(connection, signer.verify, starts=starts)
    return VerifyResult(
        ok=report.ok,
        mode=mode,
        chains=[ChainStatus(**vars(c), ok=c.ok) for c in report.chains],
        checkpoints_checked=report.checkpoints_checked,
        checkpoint_problems=report.checkpoint_problems,
        witness=report.witness,
        witness_records_checked=report.witness_records_checked,
        witness_problems=report.witness_problems,
    )


@router.get(
    "/checkpoints",
    summary="List signed checkpoints and the public keys",
    description=(
        "Oldest first, a page at a time, with the public keys (PEM, by key id) that verify their "
        "Ed25519 signatures, so that a copy of the log can be checked away from the service. "
        "Auditors only."
    ),
    response_model=CheckpointList,
    responses=ERRORS,
)
def list_checkpoints(
    _: AuditorPrincipal,
    session: SessionDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> CheckpointList:
    rows, next_cursor = id_page(
        session, select(AuditCheckpoint), AuditCheckpoint.id, int_cursor(cursor), limit, scalars=True
    )
    return CheckpointList(
        items=[Checkpoint.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
        public_keys=request.state.checkpoints.public_key_pems(),
    )


@router.post(
    "/checkpoints",
    status_code=201,
    summary="Sign a checkpoint of every chain now",
    response_model=list[Checkpoint],
    responses=problem_responses(401, 403, 409, 422, 503),
    description="Refused with 409 `audit_chain_rewritten`, and nothing signed, when a chain no longer holds "
    "the entry signed last (stored with the log or held by the witness): its head is behind it or its entry "
    "there is another one.",
)
def issue_checkpoints(_: AuditorPrincipal, session: SessionDep, request: Request) -> list[Checkpoint]:
    issued = request.state.checkpoints.issue(session)
    return [Checkpoint.model_validate(row, from_attributes=True) for row in issued]
