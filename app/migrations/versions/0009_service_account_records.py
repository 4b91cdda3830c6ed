"""service accounts record contacts and custody: ``recorded_by`` names a user or a service account

A police portal records custody steps and a board system the DPJ report;
their ids are service accounts', so the foreign key to ``app_user`` goes. A
downgrade fails while such rows exist.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contact_recorded_by_app_user"), type_="foreignkey")

    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_custody_event_recorded_by_app_user"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_custody_event_recorded_by_app_user"), "app_user", ["recorded_by"], ["id"]
        )

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f("fk_contact_recorded_by_app_user"), "app_user", ["recorded_by"], ["id"])
