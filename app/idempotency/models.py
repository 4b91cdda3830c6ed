from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class IdempotencyRecord(SQLModel, table=True):
    """The first successful answer to a POST sent with an ``Idempotency-Key``,
    kept per caller so that a retry gets it again instead of a second effect."""

    __tablename__ = "idempotency_record"

    subject: str = Field(primary_key=True, max_length=80)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    # The caller's role when the key was used: a replay needs the same role.
    role: str = Field(max_length=32)
    # False when the answer held a secret shown only once: it is not kept.
    replayable: bool = True
    etag: str | None = Field(default=None, max_length=120)
    status_code: int | None = None
    content_type: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, sa_column=Column(Text))
    # The case the answer was about: destroyed with the case's information.
    case_id: uuid.UUID | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
