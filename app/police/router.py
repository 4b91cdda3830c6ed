"""What police portals poll."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.audit.recorder import AuditedRoute
from app.auth.principal import CurrentPrincipal
from app.cases.schemas import CaseOut
from app.cases.service import case_out
from app.db import get_session
from app.errors import problem_responses
from app.police import service

router = APIRouter(prefix="/api/v1/police", tags=["police"], route_class=AuditedRoute)


class FeedItem(BaseModel):
    """A handed-off case, and its latest change in this page."""

    change: str = Field(
        description="The latest change in this page: `handed_off`, `acknowledged`, `device`, `custody_event`, "
        "`contact`, `dpj_report`, `police_outcome` or `closed`."
    )
    changed_at: datetime
    case: CaseOut


class Feed(BaseModel):
    """Changes of the force's handed-off cases since the cursor, oldest first."""

    model_config = {"json_schema_extra": {"examples": [{"items": [], "next_cursor": "MTIzNDo1Ng"}]}}

    items: list[FeedItem]
    next_cursor: str = Field(description="Poll again with it; never null (unchanged when nothing is new).")


@router.get(
    "/cases",
    summary="Police feed: cases handed off to the caller's force that changed since the cursor, oldest first",
    description=(
        "For police portals that poll: police liaisons of one force only (403 otherwise). Each "
        "case appears once per page, with its latest change, as the case routes show it to "
        "police; start without a cursor, then pass `next_cursor` each time, even when the page is "
        "empty."
    ),
    response_model=Feed,
    response_model_exclude_unset=True,  # a field the role may not read is absent, as in the case routes
    responses=problem_responses(401, 403, 422, 503),
)
def police_feed(
    principal: CurrentPrincipal,
    session: Annotated[Session, Depends(get_session)],
    request: Request,
    cursor: Annotated[
        str | None, Query(max_length=60, description="`next_cursor` of the previous poll; none for the start.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Feed:
    items, next_cursor = service.changes_since(session, principal, cursor, limit)
    request.state.audit.returned([case.id for case, _, _ in items])
    return Feed(
        items=[
            FeedItem(change=kind, changed_at=at, case=case_out(case, principal, request.state.cipher))
            for case, kind, at in items
        ],
        next_cursor=next_cursor,
    )
