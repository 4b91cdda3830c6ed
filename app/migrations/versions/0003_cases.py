"""cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_counter",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_case_counter_school_id_school")),
        sa.PrimaryKeyConstraint("school_id", "year", name=op.f("pk_case_counter")),
    )
    op.create_table(
        "sexto_case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reporter_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("csam_suspected", sa.Boolean(), nullable=False),
        sa.Column("malicious_intent", sa.Boolean(), nullable=False),
        sa.Column("refusal_to_participate", sa.Boolean(), nullable=False),
        sa.Column("adult_involved", sa.Boolean(), nullable=False),
        sa.Column("urgent_wellbeing_concern", sa.Boolean(), nullable=False),
        sa.Column("reporter_grid_skipped", sa.Boolean(), nullable=False),
        sa.Column("reporter_grid_skip_reason", sa.Text(), nullable=True),
        sa.Column("handed_off_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_off_force_id", sa.Uuid(), nullable=True),
        sa.Column("police_officer_contacted", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("police_acknowledged_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("police_file_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('in_person', 'phone', 'email', 'online_form', 'other')", name=op.f("ck_sexto_case_channel")
        ),
        sa.CheckConstraint("place IN ('at_school', 'outside_school', 'online')", name=op.f("ck_sexto_case_place")),
        sa.CheckConstraint(
            "reporter_type IN ('student', 'parent', 'staff', 'other')", name=op.f("ck_sexto_case_reporter_type")
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'evaluating', 'gathering', 'handed_off', 'resolved', 'closed')",
            name=op.f("ck_sexto_case_status"),
        ),
        sa.ForeignKeyConstraint(
            ["handed_off_force_id"], ["police_force.id"], name=op.f("fk_sexto_case_handed_off_force_id_police_force")
        ),
        sa.ForeignKeyConstraint(["opened_by"], ["app_user.id"], name=op.f("fk_sexto_case_opened_by_app_user")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_sexto_case_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sexto_case")),
        sa.UniqueConstraint("school_id", "year", "number", name=op.f("uq_sexto_case_school_id_year_number")),
    )
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sexto_case_handed_off_force_id"), ["handed_off_force_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sexto_case_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sexto_case_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_sexto_case_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "case_note",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["app_user.id"], name=op.f("fk_case_note_author_id_app_user")),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_case_note_case_id_sexto_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_note")),
    )
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_note_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_status_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["app_user.id"], name=op.f("fk_case_status_change_by_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_case_status_change_case_id_sexto_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_status_change")),
    )
    with op.batch_alter_table("case_status_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_status_change_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_team_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["app_user.id"], name=op.f("fk_case_team_member_added_by_app_user")),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_case_team_member_case_id_sexto_case")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_case_team_member_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_team_member")),
        sa.UniqueConstraint("case_id", "user_id", name=op.f("uq_case_team_member_case_id_user_id")),
    )
    with op.batch_alter_table("case_team_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_team_member_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_team_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "participant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("student_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('depicted', 'author', 'distributor', 'recipient', 'witness', 'reporter')",
            name=op.f("ck_participant_role"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_participant_case_id_sexto_case")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_participant_created_by_app_user")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["participant.id"], name=op.f("fk_participant_supersedes_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
    )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participant_case_id"), ["case_id"], unique=False)

    op.create_table(
        "contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('parent_notification', 'parent_notification_exemption', 'police_contact', 'dpj_report', 'media_inquiry', 'takedown_referral')",
            name=op.f("ck_contact_kind"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_contact_case_id_sexto_case")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_contact_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"], name=op.f("fk_contact_recorded_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_case_id"), ["case_id"], unique=False)

    op.create_table(
        "device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("owner_participant_id", sa.Uuid(), nullable=False),
        sa.Column("switched_off_confirmed", sa.Boolean(), nullable=False),
        sa.Column("content_not_viewed", sa.Boolean(), nullable=False),
        sa.Column("seal_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("storage_location", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("confiscated_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('phone', 'tablet', 'laptop', 'other')", name=op.f("ck_device_kind")),
        sa.CheckConstraint("switched_off_confirmed AND content_not_viewed", name=op.f("ck_device_protocol_confirmed")),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_device_case_id_sexto_case")),
        sa.ForeignKeyConstraint(["confiscated_by"], ["app_user.id"], name=op.f("fk_device_confiscated_by_app_user")),
        sa.ForeignKeyConstraint(
            ["owner_participant_id"], ["participant.id"], name=op.f("fk_device_owner_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("case_id", "label", name=op.f("uq_device_case_id_label")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_case_id"), ["case_id"], unique=False)

    op.create_table(
        "grid_submission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("flags_raised", sa.JSON(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["sexto_case.id"], name=op.f("fk_grid_submission_case_id_sexto_case")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_grid_submission_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["app_user.id"], name=op.f("fk_grid_submission_submitted_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["grid_submission.id"], name=op.f("fk_grid_submission_supersedes_id_grid_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_submission")),
    )
    with op.batch_alter_table("grid_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_submission_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grid_submission_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "participant_flag",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('malicious_intent', 'refused')", name=op.f("ck_participant_flag_kind")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_participant_flag_created_by_app_user")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_participant_flag_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_flag")),
    )
    with op.batch_alter_table("participant_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participant_flag_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "custody_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("occurred_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seal_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("storage_location", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("officer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("badge_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('confiscated', 'stored', 'transferred_to_police', 'returned_to_owner', 'retained_as_evidence')",
            name=op.f("ck_custody_event_kind"),
        ),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_custody_event_device_id_device")),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"], name=op.f("fk_custody_event_recorded_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_event")),
        sa.UniqueConstraint("device_id", "sequence", name=op.f("uq_custody_event_device_id_sequence")),
    )
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_event_device_id"), ["device_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("custody_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_event_device_id"))

    op.drop_table("custody_event")
    with op.batch_alter_table("participant_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_flag_participant_id"))

    op.drop_table("participant_flag")
    with op.batch_alter_table("grid_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_submission_participant_id"))
        batch_op.drop_index(batch_op.f("ix_grid_submission_case_id"))

    op.drop_table("grid_submission")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_case_id"))

    op.drop_table("device")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_case_id"))

    op.drop_table("contact")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_case_id"))

    op.drop_table("participant")
    with op.batch_alter_table("case_team_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_team_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_case_team_member_case_id"))

    op.drop_table("case_team_member")
    with op.batch_alter_table("case_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_status_change_case_id"))

    op.drop_table("case_status_change")
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_note_case_id"))

    op.drop_table("case_note")
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sexto_case_updated_at"))
        batch_op.drop_index(batch_op.f("ix_sexto_case_status"))
        batch_op.drop_index(batch_op.f("ix_sexto_case_school_id"))
        batch_op.drop_index(batch_op.f("ix_sexto_case_handed_off_force_id"))

    op.drop_table("sexto_case")
    op.drop_table("case_counter")
