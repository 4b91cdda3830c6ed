"""What the request in progress says about itself, for its audit entry.

The route class (``app.audit.recorder.AuditedRoute``) opens one ``AuditNote``
per request and makes it the current one; routes reach it as
``request.state.audit``, and services, which see no request, through this
module's functions.  Nothing here knows HTTP: any service may import it.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from app.audit.chain import board_chain


@dataclass
class AuditNote:
    """What a route says about the request, for its audit entry."""

    action: str
    resource_type: str | None = None
    resource_id: object | None = None
    case_id: object | None = None
    returned_ids: list[object] = field(default_factory=list)
    # The chain of the entry when the request reached a case: its board's
    # (None: the caller's own, ``app.audit.recorder.chain_of``).
    chain: str | None = None
    reason: str | None = None
    # Who acted when no token says so (a sign-in names the account, if it exists).
    actor: tuple[str, str] | None = None
    # The organizations the entry belongs to, read by their auditors, when not
    # the caller's: those of the case the request touched (school, board, and
    # the police force it was handed off to), or a sign-in's account's.
    concerns: list[object] = field(default_factory=list)
    # (subject, key) when the request claimed an Idempotency-Key: its answer is kept.
    idempotency: tuple[str, str] | None = None
    # The case the request reached: its version makes the answer's ETag.
    case: Any = None
    # False for case-level answers that change without the case changing (its access log).
    cacheable: bool = True
    # What else, outside the case, shapes a case-level answer (the team's
    # members as their accounts stand): part of its ETag.
    etag_variant: str = ""
    # The ids the request's path names (``case_id``, ``device_id``, ...): the
    # entry names the case they lead to even when the request never reached it.
    path_ids: dict[str, str] = field(default_factory=dict)

    def touched(self, resource_type: str, resource_id: object | None = None, *, case_id: object | None = None) -> None:
        self.resource_type = resource_type
        if resource_id is not None:
            self.resource_id = resource_id
        if case_id is not None:
            self.case_id = case_id

    def returned(self, ids: list[object]) -> None:
        self.returned_ids = list(ids)


CURRENT_NOTE: ContextVar[AuditNote | None] = ContextVar("audit_note", default=None)


def case_key(value: object) -> str:
    """A case id as entries store it and filters compare it: the canonical
    UUID text (lower case, dashes), whatever form the client wrote it in."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def record_case_access(case: Any, *organizations: object, board: object) -> None:
    """Called by the one function through which every case is reached
    (``app.cases.service.visible_case``): the request's entry names the case,
    belongs to the case's organizations and goes to the chain of ``board``,
    the board of the case's school."""
    note = CURRENT_NOTE.get()
    if note is not None:
        note.case_id = case_key(case.id)
        note.case = case
        note.concerns = [org for org in organizations if org]
        note.chain = board_chain(board)
