"""police feed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "police_feed_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("police_force_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_police_feed_change_case_id_sexto_case")),
        sa.ForeignKeyConstraint(
            ["police_force_id"], ["police_force.id"], name=op.f("fk_police_feed_change_police_force_id_police_force")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_feed_change")),
    )
    with op.batch_alter_table("police_feed_change", schema=None) as batch_op:
        batch_op.create_index("ix_police_feed_change_force_position", ["police_force_id", "txid", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("police_feed_change", schema=None) as batch_op:
        batch_op.drop_index("ix_police_feed_change_force_position")

    op.drop_table("police_feed_change")
