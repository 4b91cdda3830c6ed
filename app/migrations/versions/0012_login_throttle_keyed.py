"""login throttle keyed: the sign-in throttle forgets the names tried in clear

Its rows were keyed by the account name tried (``user:<name>``,
``client:<id>``), kept as typed, sometimes a password typed in the wrong
field.  They are now keyed by a keyed hash of it.  The old rows are only
counters of recent failures: they are dropped, not rewritten (the key to hash
them with is not the migration's to have), and going down drops the hashed
ones for the same reason.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM login_throttle")


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle")
