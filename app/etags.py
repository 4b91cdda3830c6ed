"""ETags of case-level answers, and 304 for a client that has the answer.

A case-level answer's ETag names the case, its version and what else shapes
the answer; ``If-Match`` on a write names the version the client last saw
(``etag_version``).  The route class (``app.audit.recorder.AuditedRoute``)
calls ``conditional`` on every answer, with what the request's
``AuditNote`` says about the case it reached.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fastapi import Request, Response

from app.audit.note import AuditNote
from app.errors import request_language
from app.schemas import CaseAnswer


def case_etag(case: Any, request: Request, variant: str = "") -> str:
    """A case-level resource's ETag: the case and its version (every change to
    the case or what is attached moves it), and what else shapes this answer
    (path, query, language, the caller, whose role and attestation decide
    what the transitions and the checklist say, and the route's ``variant``)."""
    principal = getattr(request.state, "principal", None)
    caller = f"{principal.subject}|{principal.role}|{principal.attestation}" if principal else ""
    shape = f"{request.url.path}?{request.url.query}|{request_language(request)}|{caller}|{variant}"
    return f'"{case.id}.{case.version}.{hashlib.sha256(shape.encode()).hexdigest()[:10]}"'


def etag_version(value: str, case_id: object) -> int | None:
    """The version an ``If-Match`` ETag names for this case, or None when it
    names none (or another case)."""
    match = re.fullmatch(r'\s*(?:W/)?"([0-9a-f-]{36})\.(\d{1,12})\.[0-9a-f]{10}"\s*', value)
    if match is None or match.group(1) != str(case_id):
        return None
    return int(match.group(2))


def answers_with_case(response_model: Any) -> bool:
    """Whether a route's answer is the case itself: it gets the ETag whatever
    the method (``CaseAnswer``); other case-level answers only on GET."""
    return isinstance(response_model, type) and issubclass(response_model, CaseAnswer)


def conditional(request: Request, note: AuditNote, response: Response, with_case: bool) -> Response:
    """ETag on case-level answers; 304 when the client already has this one."""
    if note.case is None or response.status_code >= 300 or not (request.method == "GET" or with_case):
        return response
    if not note.cacheable:
        return response
    etag = case_etag(note.case, request, note.etag_variant)
    if request.method == "GET" and etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return response
