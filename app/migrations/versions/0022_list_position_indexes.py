"""list position indexes

Every list pages with a row comparison, ``(created_at, id) > (:a, :b)``
(``app.pagination.after``).  These indexes hold each list's filter and then
its order, so that a page, the first or one deep in the cursor chain, is an
index range whatever the table's size, under a prepared statement's generic
plan too (issue 17):

- cases by school, by the police force they were handed off to, and in all
  (a scope of several schools), each by ``(created_at, id)``;
- the closed cases not yet destroyed by ``(closed_at, id)`` (the retention
  preview);
- the audit entries of a case by ``(case_id, id)`` (its access log), where
  the index on ``case_id`` alone left the generic plan walking the whole
  log by id.

Each composite index replaces the single-column one it starts with.  On
PostgreSQL the indexes are built and dropped ``CONCURRENTLY``, outside the
migration's transaction, so that the service keeps writing while a large
table is indexed; an index a failed earlier build left invalid is dropped
and built again.  SQLite builds them plainly.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_CLOSURE = "closed_at IS NOT NULL AND destroyed_at IS NULL"

# (name, table, columns, partial index predicate)
NEW: list[tuple[str, str, list[str], str | None]] = [
    ("ix_sexto_case_school_position", "sexto_case", ["school_id", "created_at", "id"], None),
    ("ix_sexto_case_force_position", "sexto_case", ["handed_off_force_id", "created_at", "id"], None),
    ("ix_sexto_case_position", "sexto_case", ["created_at", "id"], None),
    ("ix_sexto_case_closure_position", "sexto_case", ["closed_at", "id"], _OPEN_CLOSURE),
    ("ix_audit_entry_case_position", "audit_entry", ["case_id", "id"], None),
]
# The single-column indexes the composite ones start with.
REPLACED: list[tuple[str, str, list[str], str | None]] = [
    ("ix_sexto_case_school_id", "sexto_case", ["school_id"], None),
    ("ix_sexto_case_handed_off_force_id", "sexto_case", ["handed_off_force_id"], None),
    ("ix_audit_entry_case_id", "audit_entry", ["case_id"], None),
]


def _create(name: str, table: str, columns: list[str], where: str | None, postgresql: bool) -> None:
    if not postgresql:
        op.create_index(name, table, columns, sqlite_where=sa.text(where) if where else None)
        return
    valid = (
        op.get_bind()
        .execute(
            sa.text("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :n"),
            {"n": name},
        )
        .scalar()
    )
    if valid is False:  # a concurrent build that failed leaves its index invalid
        op.drop_index(name, table_name=table, postgresql_concurrently=True)
    op.create_index(
        name,
        table,
        columns,
        postgresql_where=sa.text(where) if where else None,
        postgresql_concurrently=True,
        if_not_exists=True,
    )


def _drop(name: str, table: str, postgresql: bool) -> None:
    if postgresql:
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    else:
        op.drop_index(name, table_name=table)


def _swap(
    build: list[tuple[str, str, list[str], str | None]], remove: list[tuple[str, str, list[str], str | None]]
) -> None:
    """Build ``build``, then drop ``remove``: a list never goes without its index."""
    if op.get_bind().dialect.name != "postgresql":
        for name, table, columns, where in build:
            _create(name, table, columns, where, postgresql=False)
        for name, table, _, _ in remove:
            _drop(name, table, postgresql=False)
        return
    with op.get_context().autocommit_block():
        for name, table, columns, where in build:
            _create(name, table, columns, where, postgresql=True)
        for name, table, _, _ in remove:
            _drop(name, table, postgresql=True)


def upgrade() -> None:
    _swap(NEW, REPLACED)


def downgrade() -> None:
    _swap(REPLACED, NEW)
