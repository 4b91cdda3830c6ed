"""single sign-on: identity providers, people's links to them, sign-ins in progress

The identity providers an admin registers, approved by a person of their
organization (their client secrets stay in files, never here); one row per person and provider once their ``sub`` is
recorded; one row per single sign-on started and not finished (digests of
its state and of its browser's secret only).  People get an ``email``,
unique, which a first sign-in is matched to; a browser session records
whether its provider reported the second factor it was asked for.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_provider",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("board_id", sa.Uuid(), nullable=True),
        sa.Column("police_force_id", sa.Uuid(), nullable=True),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("client_secret_file", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("client_auth_method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("allowed_domains", sa.JSON(), nullable=False),
        sa.Column("required_acr", sa.JSON(), nullable=False),
        sa.Column("required_amr", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(board_id IS NULL) <> (police_force_id IS NULL)", name=op.f("ck_identity_provider_one_organization")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["app_user.id"],
            name=op.f("fk_identity_provider_approved_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["school_board.id"], name=op.f("fk_identity_provider_board_id_school_board")
        ),
        sa.ForeignKeyConstraint(
            ["police_force_id"], ["police_force.id"], name=op.f("fk_identity_provider_police_force_id_police_force")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_provider")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_identity_provider_issuer_client_id")),
    )
    with op.batch_alter_table("identity_provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_provider_board_id"), ["board_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_provider_police_force_id"), ["police_force_id"], unique=False)

    op.create_table(
        "external_identity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["identity_provider.id"],
            name=op.f("fk_external_identity_provider_id_identity_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_external_identity_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identity")),
        sa.UniqueConstraint("provider_id", "subject", name=op.f("uq_external_identity_provider_id_subject")),
        sa.UniqueConstraint("provider_id", "user_id", name=op.f("uq_external_identity_provider_id_user_id")),
    )
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_identity_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oidc_login",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("binding_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("return_to", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["identity_provider.id"],
            name=op.f("fk_oidc_login_provider_id_identity_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_login")),
        sa.UniqueConstraint("state_digest", name=op.f("uq_oidc_login_state_digest")),
    )
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_login_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_app_user_email"), ["email"])

    with op.batch_alter_table("browser_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_mfa", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("browser_session", schema=None) as batch_op:
        batch_op.drop_column("provider_mfa")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_app_user_email"), type_="unique")
        batch_op.drop_column("email")

    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_login_expires_at"))

    op.drop_table("oidc_login")
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_identity_user_id"))

    op.drop_table("external_identity")
    with op.batch_alter_table("identity_provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_provider_police_force_id"))
        batch_op.drop_index(batch_op.f("ix_identity_provider_board_id"))

    op.drop_table("identity_provider")
