"""privacy: retention rules per board, legal holds, the confidentiality-incident register

Cases gain ``destroyed_at`` and ``destruction_rule``: the record of a
destruction run stays with the case reference and dates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_incident",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("information_involved", sa.Text(), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("occurred_from", sa.Date(), nullable=False),
        sa.Column("occurred_until", sa.Date(), nullable=True),
        sa.Column("discovered_on", sa.Date(), nullable=False),
        sa.Column("people_concerned", sa.Integer(), nullable=True),
        sa.Column("risk_level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("risk_assessment", sa.Text(), nullable=True),
        sa.Column("commission_notified_on", sa.Date(), nullable=True),
        sa.Column("people_notified_on", sa.Date(), nullable=True),
        sa.Column("measures_taken", sa.Text(), nullable=True),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("audit_entry_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "risk_level IN ('not_assessed', 'low', 'serious')", name=op.f("ck_privacy_incident_risk_level")
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["school_board.id"], name=op.f("fk_privacy_incident_board_id_school_board")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_incident")),
        sa.UniqueConstraint("board_id", "year", "number", name=op.f("uq_privacy_incident_board_id_year_number")),
    )
    with op.batch_alter_table("privacy_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_incident_board_id"), ["board_id"], unique=False)

    op.create_table(
        "privacy_incident_counter",
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["school_board.id"], name=op.f("fk_privacy_incident_counter_board_id_school_board")
        ),
        sa.PrimaryKeyConstraint("board_id", "year", name=op.f("pk_privacy_incident_counter")),
    )
    op.create_table(
        "retention_rule",
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("years_after_closure", sa.Integer(), nullable=False),
        sa.Column("schedule_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("years_after_closure BETWEEN 1 AND 100", name=op.f("ck_retention_rule_years")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["school_board.id"], name=op.f("fk_retention_rule_board_id_school_board")
        ),
        sa.PrimaryKeyConstraint("board_id", name=op.f("pk_retention_rule")),
    )
    op.create_table(
        "privacy_incident_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=False),
        sa.Column("changed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["privacy_incident.id"],
            name=op.f("fk_privacy_incident_version_incident_id_privacy_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_incident_version")),
        sa.UniqueConstraint("incident_id", "version", name=op.f("uq_privacy_incident_version_incident_id_version")),
    )
    with op.batch_alter_table("privacy_incident_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_incident_version_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("placed_by", sa.Uuid(), nullable=False),
        sa.Column("placed_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("placed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.Uuid(), nullable=True),
        sa.Column("lifted_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.Column("lifted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_legal_hold_case_id_sexto_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_hold_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destroyed_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("destruction_rule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.drop_column("destruction_rule")
        batch_op.drop_column("destroyed_at")

    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_case_id"))

    op.drop_table("legal_hold")
    with op.batch_alter_table("privacy_incident_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_incident_version_incident_id"))

    op.drop_table("privacy_incident_version")
    op.drop_table("retention_rule")
    op.drop_table("privacy_incident_counter")
    with op.batch_alter_table("privacy_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_incident_board_id"))

    op.drop_table("privacy_incident")
