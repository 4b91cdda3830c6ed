"""``Idempotency-Key`` on every POST (but the token endpoint).

The first request with a key inserts a placeholder row in its own
transaction's work; the route class fills it with the answer
(``app.idempotency.answers.keep_answer``) and commits it with the request's
changes and audit entry.  A retry with the same key and the same request
finds the row and gets the stored answer; the same key with another request
is a 422.  Two requests with one key at the same moment: the
second waits on the row's primary key until the first commits, then replays.
Only successful answers are kept (a refused request changed nothing, and its
retry is decided afresh).  Keys expire after ``SEXTO_IDEMPOTENCY_TTL_SECONDS``
and expired rows are purged periodically.

A replay is not a way around access control: it is answered only if the
caller still has the role it had, and can still see the case the request
was about; an answer that held a secret shown once (a service account's
credentials) is never kept, and its retry is a 409.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from app.auth.principal import CurrentPrincipal, Principal
from app.cases import service as cases
from app.db import get_session, utcnow
from app.errors import Conflict, Forbidden, UnprocessableContent
from app.idempotency.answers import IdempotentReplay, answer_context, find_record
from app.idempotency.models import IdempotencyRecord

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 200


def _request_hash(request: Request, body: bytes) -> str:
    """The same request whatever the JSON's key order or spacing."""
    with contextlib.suppress(ValueError):  # not JSON: hashed as sent
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


async def idempotency(
    request: Request, principal: CurrentPrincipal, session: Annotated[Session, Depends(get_session)]
) -> None:
    """A router dependency: does nothing unless a POST carries the header."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise UnprocessableContent("idempotency_key_invalid", code="idempotency_key_invalid")
    request_hash = _request_hash(request, await request.body())
    ttl = request.state.settings.idempotency_ttl_seconds
    record = await run_in_threadpool(_claim, session, principal, key, request_hash, ttl)
    if record is not None:
        if record.request_hash != request_hash:
            raise UnprocessableContent("idempotency_key_reused", code="idempotency_key_reused")
        await run_in_threadpool(_check_still_allowed, session, principal, request, record)
        if not record.replayable:
            raise Conflict("idempotency_secret_not_replayed", code="idempotency_secret_not_replayed")
        cipher = request.state.cipher
        raise IdempotentReplay(record, cipher.decrypt(record.body, answer_context(record.subject, record.key)) or "")
    request.state.audit.idempotency = (principal.subject, key)


def _check_still_allowed(session: Session, principal: Principal, request: Request, record: IdempotencyRecord) -> None:
    """Answer a replay only to a caller who could still make the request: the
    same role, and the case it was about still visible (which also ties the
    replay's audit entry to that case)."""
    if record.role != principal.role.value:
        raise Forbidden()
    params = request.path_params
    if "device_id" in params:
        cases.visible_device(session, principal, uuid.UUID(str(params["device_id"])))
        return
    case_id = params.get("case_id") or record.case_id  # the case a new one was opened as
    if case_id is not None:
        case = cases.visible_case(session, principal, uuid.UUID(str(case_id)))
        if case.destroyed_at is not None:  # its kept answers went with it; never replay one
            raise Conflict("case_destroyed", code="case_destroyed")


def _claim(session: Session, principal: Principal, key: str, request_hash: str, ttl: int) -> IdempotencyRecord | None:
    """The stored record for this key, or None after placing this request's claim."""
    subject = principal.subject
    now = utcnow()
    existing = find_record(session, subject, key)
    if existing is not None and existing.expires_at > now:
        return existing
    if existing is not None:  # expired: the key is free again
        session.exec(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.subject) == subject, col(IdempotencyRecord.key) == key
            )
        )
    session.add(
        IdempotencyRecord(
            subject=subject,
            key=key,
            request_hash=request_hash,
            role=principal.role.value,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    try:
        session.flush()  # waits here while another request holds the same key
    except IntegrityError:
        session.rollback()
        return find_record(session, subject, key)
    return None


def purge_expired(session: Session) -> int:
    result = session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < utcnow()))
    return result.rowcount or 0
