"""platform audit scope: an auditor's scope may hold the platform

The audit entries that concern no organization (sign-ins of names that match
no account, requests without a valid token, the admins' actions) were read
by every auditor.  They are now the platform's, read only by an auditor whose
scope holds it: a scope grant row may name the platform instead of an
organization.  Going down drops such grants (an auditor holding only the
platform then has an empty scope, and reads nothing but its own cases').

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORGANIZATIONS = (
    "(CASE WHEN board_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN school_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN police_force_id IS NULL THEN 0 ELSE 1 END)"
)


def upgrade() -> None:
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(batch_op.f("ck_scope_grant_one_organization"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_scope_grant_one_organization"),
            f"{_ORGANIZATIONS} + (CASE WHEN platform THEN 1 ELSE 0 END) = 1",
        )


def downgrade() -> None:
    op.execute("DELETE FROM scope_grant WHERE platform")
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_scope_grant_one_organization"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_scope_grant_one_organization"), f"{_ORGANIZATIONS} = 1")
        batch_op.drop_column("platform")
