"""custody events keep the role of whoever recorded them

A device's chain of custody says which side recorded each step (school
staff, the school lead, police, a board or police system), as it was then,
for everyone who reads the chain.  Steps recorded before are filled in from
the account's role now; a step whose account is gone stays without one.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.execute(
        "UPDATE custody_event SET recorded_by_role = COALESCE("
        "(SELECT role FROM app_user WHERE app_user.id = custody_event.recorded_by), "
        "(SELECT role FROM service_account WHERE service_account.id = custody_event.recorded_by))"
    )


def downgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.drop_column("recorded_by_role")
