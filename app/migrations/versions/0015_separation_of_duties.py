"""separation of duties: a grant of a case-reading or approving role made by an admin waits for approval

``scope_grant.approval`` (pending, approved, refused), who decided and when;
``credential_pending`` on users and service accounts (their password or
secret was set by an admin, and gives no case reach) and
``must_change_password`` on users (a temporary password issued with an
approval).  Existing grants and credentials stay in force: they are marked
approved, with no approver recorded.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "approval", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="approved"
            )
        )
        batch_op.add_column(
            sa.Column(
                "requested_at",
                app.db.UTCDateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch_op.add_column(sa.Column("decided_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_scope_grant_decided_by_app_user"), "app_user", ["decided_by"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_scope_grant_approval"), "approval IN ('pending', 'approved', 'refused')"
        )

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("service_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_pending", sa.Boolean(), nullable=False, server_default=sa.false()))

    # The rows above were backfilled in force; from now on a row written
    # without saying (a statement that bypasses the models) fails closed: a
    # grant waits for approval, a credential gives no case reach.
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.alter_column("approval", server_default="pending")
    for table in ("app_user", "service_account"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("credential_pending", server_default=sa.true())


def downgrade() -> None:
    # Without the approval column every grant would be in force: the ones
    # not approved go first, and so do the tokens of every account whose
    # credential was one an admin set (it could read once the flag is gone:
    # its password or secret is reset to nothing usable).
    op.execute("DELETE FROM scope_grant WHERE approval <> 'approved'")
    for table, secret in (("app_user", "password_hash"), ("service_account", "secret_hash")):
        op.execute(
            f"UPDATE {table} SET {secret} = '!disabled-by-downgrade', is_active = false, "
            "token_generation = token_generation + 1 WHERE credential_pending"
        )
    with op.batch_alter_table("service_account", schema=None) as batch_op:
        batch_op.drop_column("credential_pending")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("credential_pending")

    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_scope_grant_approval"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_scope_grant_decided_by_app_user"), type_="foreignkey")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("requested_at")
        batch_op.drop_column("approval")
