"""Which audit entries a reader sees, and which are about a case: one place
for the audit events (and their export), a case's access log and the privacy
officer's access review, so that they always agree about a case.

An entry is about a case when it names it (``case_id``), whoever made it: an
outsider refused on the case is in it too (``app.audit.recorder`` ties every
request to the case its path leads to).  Its organizations (``org_ids``) are
those of the case when the caller reached the case, the caller's otherwise,
so they cannot say which entries concern a case.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, String, cast, exists, false, func, or_, select
from sqlmodel import Session, col

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.audit.note import case_key
from app.auth.principal import Principal
from app.cases.models import Case
from app.cases.policy import visible_cases
from app.db import table_of
from app.orgs.models import School
from app.pagination import id_page

_entries = table_of(AuditEntry)


def about_case(case_id: object) -> ColumnElement[bool]:
    """The entries about one case (the column's index serves it)."""
    clause: ColumnElement[bool] = _entries.c.case_id == case_key(case_id)
    return clause


def about_cases(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The entries about any case ``where`` selects (on the case and its
    school).  Case ids are compared as 32 hex digits (PostgreSQL renders a
    uuid with dashes, SQLite stores it without); the subquery runs once."""
    ids = (
        select(func.replace(cast(Case.id, String), "-", ""))
        .join(School, col(School.id) == Case.school_id)
        .where(*where)
    )
    clause: ColumnElement[bool] = func.replace(_entries.c.case_id, "-", "").in_(ids.scalar_subquery())
    return clause


def _cases_read(principal: Principal) -> ColumnElement[bool]:
    """The cases whose entries a reader reads: the privacy officer's board's
    (it sees no case itself); anyone else's, the cases it may see."""
    if principal.role is Role.privacy_officer:
        return col(School.board_id).in_(principal.scope.board_ids)
    return visible_cases(principal)


def readable(principal: Principal, case_id: object | None = None) -> ColumnElement[bool]:
    """The entries a reader sees: every entry about a case whose entries it
    reads; an auditor besides those of the organizations it audits (its
    users' requests, wherever they went) and, when its scope holds the
    platform, the platform's (no organization: sign-ins of unknown names,
    requests without a valid token, the admins' actions).  An auditor of
    organizations alone never reads the platform's.

    ``case_id``: the caller selects only the entries about that case
    (``about_case(case_id)``; an access log).  Whether they are about a
    case the reader reads is then one question about one case, read by its
    key and asked once per statement, rather than a set of every case the
    reader may read, matched entry by entry (issue 17).  It selects the same
    entries."""
    if case_id is None:
        about_its_cases = about_cases(_cases_read(principal))
    else:
        try:
            one_case = col(Case.id) == uuid.UUID(case_key(case_id))
        except ValueError:  # no case has an id that is not a UUID
            one_case = false()
        about_its_cases = exists(
            select(col(Case.id)).join(School, col(School.id) == Case.school_id).where(one_case, _cases_read(principal))
        )
    if principal.role is not Role.auditor:
        return about_its_cases
    scope = principal.scope
    columns = _entries.c
    theirs = [columns.org_ids.contains(str(org_id)) for org_id in scope.organization_ids()]
    if scope.platform:
        theirs.append(columns.org_ids.is_(None))
    return or_(*theirs, about_its_cases)


def case_access_log(
    session: Session, principal: Principal, case_id: object, after: int, limit: int
) -> tuple[list[Any], str | None]:
    """A page of a case's access log (after the entry id ``after``) and the
    next page's cursor: the entries about the case that the reader sees, the
    same as its audit events with ``case_id``."""
    statement = select(_entries).where(about_case(case_id), readable(principal, case_id))
    return id_page(session, statement, _entries.c.id, after, limit)
