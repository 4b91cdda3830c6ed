"""encrypted participant fields: names and student ids become AES-GCM ciphertext (text)

A downgrade needs the values decrypted first (they no longer fit the old
lengths).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.alter_column(
            "student_id", existing_type=sa.VARCHAR(length=40), type_=sa.Text(), existing_nullable=True
        )
        batch_op.alter_column("name", existing_type=sa.VARCHAR(length=200), type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.Text(), type_=sa.VARCHAR(length=200), existing_nullable=False)
        batch_op.alter_column(
            "student_id", existing_type=sa.Text(), type_=sa.VARCHAR(length=40), existing_nullable=True
        )
