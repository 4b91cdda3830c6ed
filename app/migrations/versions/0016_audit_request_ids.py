"""audit request ids: the service's own request id, the caller's apart, and the canonical form per entry

Every entry now records the service's own request id in ``request_id`` and
the caller's ``X-Request-ID`` in ``caller_request_id``, which canonical form
2 hashes too.  ``form`` says which form an entry was hashed with: the entries
already written keep form 1 (the server default), so that they still verify.
Adding the columns rewrites no row, so the append-only triggers are not
involved; going down drops them with ``ALTER TABLE … DROP COLUMN`` rather than
a copy of the table, which would lose its triggers on SQLite (and would leave
form 2 entries that no longer verify: going down is for an empty log).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_entry", sa.Column("caller_request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )
    op.add_column("audit_entry", sa.Column("form", sa.SmallInteger(), server_default="1", nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_entry DROP COLUMN form")
    op.execute("ALTER TABLE audit_entry DROP COLUMN caller_request_id")
