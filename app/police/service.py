"""The police feed: handed-off cases whose police-visible content changed."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, literal_column, select, text, true
from sqlmodel import Session, col

from app.accounts.models import Role
from app.auth.principal import Principal
from app.cases.models import Case
from app.cases.policy import visible_cases
from app.db import table_of
from app.errors import Forbidden, UnprocessableContent
from app.orgs.models import PoliceForce
from app.pagination import after
from app.police.models import PoliceFeedChange

_changes = table_of(PoliceFeedChange)
# Transactions below this id have all finished: their rows can be handed out.
_FINISHED_BELOW = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def record_change(session: Session, case: Case, kind: str) -> None:
    """Note a police-visible change (hand-off, acknowledgement, custody, DPJ
    report, police outcome, closure) for the force the case was handed to."""
    if case.handed_off_force_id is None:
        return
    values = {"police_force_id": case.handed_off_force_id, "case_id": case.id, "kind": kind}
    if session.get_bind().dialect.name == "postgresql":
        values["txid"] = literal_column("pg_current_xact_id()::text::bigint")
    session.execute(insert(_changes).values(**values))


def encode_cursor(txid: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"{txid}:{change_id}".encode()).decode().rstrip("=")


# Both halves of a feed cursor are 64-bit column values (a transaction id, a
# row id): ASCII digits, within a signed 64-bit integer.
_FEED_CURSOR = re.compile(r"([0-9]{1,19}):([0-9]{1,19})")
_MAX_BIGINT = 2**63 - 1


def decode_cursor(cursor: str | None) -> tuple[int, int]:
    """(txid, change id) of a feed cursor; a 422 ``invalid_cursor`` for
    anything but two decimal numbers within 64 bits."""
    if not cursor:
        return 0, 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error):
        raise UnprocessableContent("invalid_cursor", code="invalid_cursor") from None
    parts = _FEED_CURSOR.fullmatch(text)
    if parts is None or max(int(parts[1]), int(parts[2])) > _MAX_BIGINT:
        raise UnprocessableContent("invalid_cursor", code="invalid_cursor")
    return int(parts[1]), int(parts[2])


def changes_since(
    session: Session, principal: Principal, cursor: str | None, limit: int
) -> tuple[list[tuple[Case, str, datetime]], str]:
    """(case, kind, changed_at) of the force's changes after the cursor, oldest
    first, and the cursor to poll with next.  An empty poll is one index range
    scan.  The cases are read as every case is (``policy.visible_cases``);
    the route shows each through ``app.cases.service.case_out``, which leaves
    out what the role may not read."""
    if principal.role is not Role.police_liaison or len(principal.scope.police_force_ids) != 1:
        raise Forbidden()
    (force_id,) = principal.scope.police_force_ids
    after_txid, after_id = decode_cursor(cursor)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = select(
        _changes.c.id, _changes.c.txid, _changes.c.case_id, _changes.c.kind, _changes.c.created_at
    ).where(_changes.c.police_force_id == force_id)
    if postgres:
        statement = statement.where(
            after((_changes.c.txid, _changes.c.id), (after_txid, after_id)),
            _changes.c.txid < _FINISHED_BELOW,
        ).order_by(_changes.c.txid, _changes.c.id)
    else:
        statement = statement.where(_changes.c.id > after_id).order_by(_changes.c.id)
    rows = session.execute(statement.limit(limit)).all()
    if not rows:
        return [], cursor or encode_cursor(0, 0)
    last = rows[-1]
    next_cursor = encode_cursor(last.txid or 0, last.id)
    # One item per case, at the place of its latest change in this page.
    latest: dict[uuid.UUID, Row[Any]] = {}
    for row in rows:
        latest.pop(row.case_id, None)
        latest[row.case_id] = row
    # The clause every read of cases goes through, rather than one of the
    # feed's own: the feed can show no case that the case routes would hide.
    cases = {
        case.id: case
        for case in session.scalars(select(Case).where(col(Case.id).in_(list(latest)), visible_cases(principal)))
    }
    items = [(cases[row.case_id], row.kind, row.created_at) for row in latest.values() if row.case_id in cases]
    return items, next_cursor


@dataclass
class HeldBack:
    """Committed changes the feed cannot hand out yet, and the oldest one's time."""

    count: int
    oldest_at: datetime | None


def held_back(connection: Connection) -> HeldBack:
    """The police feed's lag (``sexto_police_feed_*`` metrics).  On
    PostgreSQL the feed hands out a committed change only once every
    transaction that started before its own has finished (``changes_since``):
    until then it is held back, and the oldest such change's age is the lag
    (a long-open writing transaction makes it grow).  Read force by force
    along the feed's own index.  SQLite serializes writers: the feed can
    hand out every committed change, and nothing is held back."""
    if connection.dialect.name != "postgresql":
        return HeldBack(0, None)
    forces = table_of(PoliceForce)
    per_force = (
        select(func.count().label("held"), func.min(_changes.c.created_at).label("oldest"))
        .where(_changes.c.police_force_id == forces.c.id, _changes.c.txid >= _FINISHED_BELOW)
        .lateral()
    )
    row = connection.execute(
        select(func.coalesce(func.sum(per_force.c.held), 0), func.min(per_force.c.oldest)).select_from(
            forces.join(per_force, true())
        )
    ).one()
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return HeldBack(int(row[0]), oldest)
