"""police outcome: the DCPP decision, the awareness meeting, the police part closed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dcpp_decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("dcpp_decided_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("awareness_meeting_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("police_closed_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_sexto_case_dcpp_decision"), "dcpp_decision IS NULL OR dcpp_decision IN ('impulsive', 'malicious')"
        )


def downgrade() -> None:
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sexto_case_dcpp_decision"), type_="check")
        batch_op.drop_column("police_closed_at")
        batch_op.drop_column("awareness_meeting_on")
        batch_op.drop_column("dcpp_decided_on")
        batch_op.drop_column("dcpp_decision")
