"""The answers kept for ``Idempotency-Key``: stored with the request, replayed
to its retry (``app.idempotency.service`` decides when).

The route class calls ``keep_answer`` after a successful answer, in the
request's own transaction, and answers ``IdempotentReplay`` with the stored
response.  Nothing here knows the cases.
"""

from __future__ import annotations

from fastapi import Response
from sqlmodel import Session, select

from app.audit.note import AuditNote
from app.crypto import DataCipher
from app.idempotency.models import IdempotencyRecord

# Answers that hold a secret shown only once are not kept (see app.idempotency.service).
NOT_KEPT = frozenset({"create_service_account", "rotate_secret", "approve_grant"})


class IdempotentReplay(Exception):
    """Raised by the dependency: answer with the stored response."""

    def __init__(self, record: IdempotencyRecord, body: str) -> None:
        super().__init__("idempotent replay")
        self.record = record
        self.body = body

    def response(self) -> Response:
        headers = {"Idempotent-Replayed": "true"}
        if self.record.location:
            headers["Location"] = self.record.location
        if self.record.etag:
            headers["ETag"] = self.record.etag
        return Response(
            content=self.body,
            status_code=self.record.status_code or 200,
            media_type=self.record.content_type,
            headers=headers,
        )


def answer_context(subject: str, key: str) -> str:
    """The encryption context of a kept answer's body."""
    return f"idempotency:{subject}:{key}"


def find_record(session: Session, subject: str, key: str) -> IdempotencyRecord | None:
    return session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.subject == subject, IdempotencyRecord.key == key)
    ).first()


def keep_answer(session: Session, note: AuditNote, response: Response, cipher: DataCipher) -> None:
    """Keep a successful answer with the request's claim, in the request's
    transaction; nothing when the request claimed no key."""
    if note.idempotency is None or response.status_code >= 400:
        return
    subject, key = note.idempotency
    record = find_record(session, subject, key)
    if record is None:
        return
    record.case_id = getattr(note.case, "id", None)
    record.status_code = response.status_code
    record.location = response.headers.get("location")
    if note.action in NOT_KEPT:
        record.replayable = False
    else:
        record.content_type = response.headers.get("content-type")
        record.etag = response.headers.get("etag")
        # Answers can hold personal information (a participant's name): encrypted.
        record.body = cipher.encrypt(bytes(response.body).decode(), answer_context(subject, key))
    session.flush()
