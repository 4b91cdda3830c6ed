"""The audit log: append-only, hash-chained, signed at checkpoints.

Every hashed field is stored as the exact text that was hashed (timestamps as
RFC 3339 strings, lists as comma-joined ids), so that verification re-renders
the canonical bytes by plain concatenation, identically on PostgreSQL and
SQLite.  See ``app.audit.chain`` for the canonical form.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        # A fork (two entries claiming the same predecessor) fails loudly.
        UniqueConstraint("chain", "prev_hash"),
        # A case's access log: its entries in id order, as an index range
        # (migration 0022), also under a prepared statement's generic plan.
        Index("ix_audit_entry_case_position", "case_id", "id"),
    )

    # INTEGER on SQLite so that it is the rowid and autoincrements there too.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    chain: str = Field(max_length=64)
    seq: int = Field(sa_type=BigInteger)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)
    recorded_at: str = Field(max_length=32, index=True)
    salt: str = Field(max_length=32)
    actor_kind: str = Field(max_length=20)
    actor_id: str | None = Field(default=None, max_length=40, index=True)
    actor_role: str | None = Field(default=None, max_length=32)
    org_ids: str | None = Field(default=None, sa_type=Text)
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=256)
    request_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64, index=True)
    resource_type: str | None = Field(default=None, max_length=40)
    resource_id: str | None = Field(default=None, max_length=40)
    case_id: str | None = Field(default=None, max_length=40)
    outcome: str = Field(max_length=10)
    status_code: int
    returned_ids: str | None = Field(default=None, sa_type=Text)
    reason: str | None = Field(default=None, max_length=64)
    # The X-Request-ID the caller sent (``request_id`` is the service's own).
    caller_request_id: str | None = Field(default=None, max_length=64)
    # The canonical form the entry was hashed with (``app.audit.chain.FIELDS``);
    # the entries written before form 2 existed are form 1.
    form: int = Field(sa_type=SmallInteger, sa_column_kwargs={"server_default": "1"})


class AuditChainHead(SQLModel, table=True):
    """The last entry of each chain, read ``FOR UPDATE`` to append in order."""

    __tablename__ = "audit_chain_head"

    chain: str = Field(primary_key=True, max_length=64)
    seq: int = Field(sa_type=BigInteger)
    entry_hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """An Ed25519 signature over a chain's head at one moment."""

    __tablename__ = "audit_checkpoint"
    # One checkpoint per chain and seq, whichever instance signs it first:
    # the others' inserts do nothing and they publish nothing.
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)
    seq: int = Field(sa_type=BigInteger)
    entry_hash: str = Field(max_length=64)
    issued_at: str = Field(max_length=32)
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=128)
