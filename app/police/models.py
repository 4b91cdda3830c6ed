from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PoliceFeedChange(SQLModel, table=True):
    """One police-visible change of a handed-off case, for its force's feed.

    ``txid`` is the PostgreSQL transaction id that wrote the row: the feed only
    hands out rows of transactions that have all finished, in (txid, id)
    order, so a change that commits late is never skipped.  SQLite serializes
    writers, and there the id order is the commit order."""

    __tablename__ = "police_feed_change"
    __table_args__ = (Index("ix_police_feed_change_force_position", "police_force_id", "txid", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    police_force_id: uuid.UUID = Field(foreign_key="police_force.id")
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id")
    kind: str = Field(max_length=32)
    txid: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
