"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('school_staff', 'school_lead', 'police_liaison', 'dpj_reporter', 'auditor', 'privacy_officer', 'admin')",
            name=op.f("ck_app_user_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("account_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "police_force",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_force")),
        sa.UniqueConstraint("name", name=op.f("uq_police_force_name")),
    )
    op.create_table(
        "school_board",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_board")),
        sa.UniqueConstraint("name", name=op.f("uq_school_board_name")),
    )
    op.create_table(
        "service_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('school_staff', 'school_lead', 'police_liaison', 'dpj_reporter', 'auditor', 'privacy_officer', 'admin')",
            name=op.f("ck_service_account_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_account")),
        sa.UniqueConstraint("client_id", name=op.f("uq_service_account_client_id")),
    )
    op.create_table(
        "dcpp_agreement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("police_force_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_dcpp_agreement_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["police_force_id"], ["police_force.id"], name=op.f("fk_dcpp_agreement_police_force_id_police_force")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dcpp_agreement")),
    )
    with op.batch_alter_table("dcpp_agreement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dcpp_agreement_police_force_id"), ["police_force_id"], unique=False)

    op.create_table(
        "school",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("police_force_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["school_board.id"], name=op.f("fk_school_board_id_school_board")),
        sa.ForeignKeyConstraint(
            ["police_force_id"], ["police_force.id"], name=op.f("fk_school_police_force_id_police_force")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("board_id", "name", name=op.f("uq_school_board_id_name")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_board_id"), ["board_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_police_force_id"), ["police_force_id"], unique=False)

    op.create_table(
        "training_attestation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("obtained_on", sa.Date(), nullable=False),
        sa.Column("badge_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('explorer', 'architect')", name=op.f("ck_training_attestation_level")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_training_attestation_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attestation")),
        sa.UniqueConstraint("user_id", "level", name=op.f("uq_training_attestation_user_id_level")),
    )
    with op.batch_alter_table("training_attestation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_attestation_user_id"), ["user_id"], unique=False)

    op.create_table(
        "scope_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("service_account_id", sa.Uuid(), nullable=True),
        sa.Column("board_id", sa.Uuid(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("police_force_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN board_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN school_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN police_force_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_scope_grant_one_organization"),
        ),
        sa.CheckConstraint("(user_id IS NULL) <> (service_account_id IS NULL)", name=op.f("ck_scope_grant_one_holder")),
        sa.ForeignKeyConstraint(["board_id"], ["school_board.id"], name=op.f("fk_scope_grant_board_id_school_board")),
        sa.ForeignKeyConstraint(
            ["police_force_id"], ["police_force.id"], name=op.f("fk_scope_grant_police_force_id_police_force")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_scope_grant_school_id_school")),
        sa.ForeignKeyConstraint(
            ["service_account_id"],
            ["service_account.id"],
            name=op.f("fk_scope_grant_service_account_id_service_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_scope_grant_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_grant")),
    )
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scope_grant_board_id"), ["board_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scope_grant_police_force_id"), ["police_force_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scope_grant_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scope_grant_service_account_id"), ["service_account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scope_grant_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scope_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scope_grant_user_id"))
        batch_op.drop_index(batch_op.f("ix_scope_grant_service_account_id"))
        batch_op.drop_index(batch_op.f("ix_scope_grant_school_id"))
        batch_op.drop_index(batch_op.f("ix_scope_grant_police_force_id"))
        batch_op.drop_index(batch_op.f("ix_scope_grant_board_id"))

    op.drop_table("scope_grant")
    with op.batch_alter_table("training_attestation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attestation_user_id"))

    op.drop_table("training_attestation")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_police_force_id"))
        batch_op.drop_index(batch_op.f("ix_school_board_id"))

    op.drop_table("school")
    with op.batch_alter_table("dcpp_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dcpp_agreement_police_force_id"))

    op.drop_table("dcpp_agreement")
    op.drop_table("service_account")
    op.drop_table("school_board")
    op.drop_table("police_force")
    op.drop_table("login_throttle")
    op.drop_table("app_user")
