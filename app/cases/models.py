"""The case and everything attached to it.

Attached records are append-only: a correction is a new row that supersedes
an old one, never an edit in place.  Only the case row itself changes (its
status, flags and intake fields), and every status change is kept in
``case_status_change``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.accounts.models import _one_of
from app.db import new_id, utc_field, utcnow


class CaseStatus(StrEnum):
    """The case's place in the protocol: reported → evaluating → gathering → (handed_off | resolved) → closed."""

    reported = "reported"
    evaluating = "evaluating"
    gathering = "gathering"
    handed_off = "handed_off"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = frozenset({CaseStatus.reported, CaseStatus.evaluating, CaseStatus.gathering})


class ReporterType(StrEnum):
    """Who reported the situation."""

    student = "student"
    parent = "parent"
    staff = "staff"
    other = "other"


class Channel(StrEnum):
    """How the situation was reported."""

    in_person = "in_person"
    phone = "phone"
    email = "email"
    online_form = "online_form"
    other = "other"


class IncidentPlace(StrEnum):
    """Where it happened: at school, outside school, or online only (the
    words of the grid's ``trigger.place``)."""

    school = "school"
    outside_school = "outside_school"
    online_only = "online_only"


class Flag(StrEnum):
    """A sticky protocol flag: a suspicion that routes the case, never a legal classification."""

    csam_suspected = "csam_suspected"
    malicious_intent = "malicious_intent"
    refusal_to_participate = "refusal_to_participate"
    adult_involved = "adult_involved"
    urgent_wellbeing_concern = "urgent_wellbeing_concern"


# The flags that make a hand-off to police required before closing.
POLICE_FLAGS = (Flag.csam_suspected, Flag.malicious_intent, Flag.refusal_to_participate)


class Case(SQLModel, table=True):
    __tablename__ = "sexto_case"
    __table_args__ = (
        UniqueConstraint("school_id", "year", "number"),
        CheckConstraint(_one_of("status", CaseStatus), name="status"),
        CheckConstraint(_one_of("reporter_type", ReporterType), name="reporter_type"),
        CheckConstraint(_one_of("channel", Channel), name="channel"),
        CheckConstraint(_one_of("place", IncidentPlace), name="place"),
        CheckConstraint("dcpp_decision IS NULL OR dcpp_decision IN ('impulsive', 'malicious')", name="dcpp_decision"),
        # The lists' filter, then their order (``app.pagination.after``): a
        # page is an index range at any size (migration 0022).
        Index("ix_sexto_case_school_position", "school_id", "created_at", "id"),
        Index("ix_sexto_case_force_position", "handed_off_force_id", "created_at", "id"),
        Index("ix_sexto_case_position", "created_at", "id"),
        # The retention preview's closed cases not yet destroyed, oldest closure first.
        Index(
            "ix_sexto_case_closure_position",
            "closed_at",
            "id",
            postgresql_where=text("closed_at IS NOT NULL AND destroyed_at IS NULL"),
            sqlite_where=text("closed_at IS NOT NULL AND destroyed_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    school_id: uuid.UUID = Field(foreign_key="school.id")
    year: int
    number: int
    reference: str = Field(max_length=20)
    status: str = Field(default=CaseStatus.reported.value, max_length=16, index=True)
    reporter_type: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    place: str = Field(max_length=16)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    csam_suspected: bool = False
    malicious_intent: bool = False
    refusal_to_participate: bool = False
    adult_involved: bool = False
    urgent_wellbeing_concern: bool = False
    reporter_grid_skipped: bool = False
    reporter_grid_skip_reason: str | None = Field(default=None, sa_column=Column(Text))
    handed_off_at: datetime | None = utc_field(default=None)
    handed_off_force_id: uuid.UUID | None = Field(default=None, foreign_key="police_force.id")
    police_officer_contacted: str | None = Field(default=None, max_length=200)
    police_acknowledged_at: datetime | None = utc_field(default=None)
    police_file_number: str | None = Field(default=None, max_length=64)
    # The police part (police only): the DCPP prosecutor's decision and the
    # awareness meeting.  The school sees this outcome, never the police file
    # (its number: police and the school lead only, ``policy.HIDDEN_FIELDS``).
    dcpp_decision: str | None = Field(default=None, max_length=16)
    dcpp_decided_on: date | None = None
    awareness_meeting_on: date | None = None
    police_closed_at: datetime | None = utc_field(default=None)
    opened_by: uuid.UUID = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)
    updated_at: datetime = utc_field(default_factory=utcnow, nullable=False, index=True)
    closed_at: datetime | None = utc_field(default=None)
    # Retention: when the case's personal information was destroyed, and by which rule.
    destroyed_at: datetime | None = utc_field(default=None)
    destruction_rule: str | None = Field(default=None, max_length=64)

    def active_flags(self) -> list[Flag]:
        return [flag for flag in Flag if getattr(self, flag.value)]

    @property
    def was_handed_off(self) -> bool:
        return self.handed_off_at is not None


class CaseCounter(SQLModel, table=True):
    """The last case number per school and year (``SX-<year>-<seq>``)."""

    __tablename__ = "case_counter"

    school_id: uuid.UUID = Field(foreign_key="school.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_number: int = 0


class CaseStatusChange(SQLModel, table=True):
    __tablename__ = "case_status_change"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    action: str = Field(max_length=32)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    by_user_id: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class CaseTeamMember(SQLModel, table=True):
    __tablename__ = "case_team_member"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True)
    added_by: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class ParticipantRole(StrEnum):
    """A person's role in the incident."""

    depicted = "depicted"
    author = "author"
    distributor = "distributor"
    recipient = "recipient"
    witness = "witness"
    reporter = "reporter"


class Participant(SQLModel, table=True):
    """A person involved.  ``label`` (P1, P2, ...) names them in checklists and
    lists, which never carry names."""

    __tablename__ = "participant"
    # A correction keeps the person's label and supersedes the earlier record.
    __table_args__ = (CheckConstraint(_one_of("role", ParticipantRole), name="role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    label: str = Field(max_length=8)
    role: str = Field(max_length=16)
    is_minor: bool
    grade: str | None = Field(default=None, max_length=20)
    # Encrypted at rest (app.crypto): never read these columns without the cipher.
    student_id: str | None = Field(default=None, sa_column=Column(Text))
    name: str = Field(sa_column=Column(Text, nullable=False))
    supersedes_id: uuid.UUID | None = Field(default=None, foreign_key="participant.id")
    created_by: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class ParticipantFlagKind(StrEnum):
    """A decision about a person: malicious intent suspected, or refusal to take part."""

    malicious_intent = "malicious_intent"
    refused = "refused"


class ParticipantFlag(SQLModel, table=True):
    """A person's decision about a participant, with its reason."""

    __tablename__ = "participant_flag"
    __table_args__ = (CheckConstraint(_one_of("kind", ParticipantFlagKind), name="kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    participant_id: uuid.UUID = Field(foreign_key="participant.id", index=True)
    kind: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class GridSubmission(SQLModel, table=True):
    """One interview, against one version of the grid template.  Immutable: a
    correction is a new submission that supersedes this one."""

    __tablename__ = "grid_submission"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    participant_id: uuid.UUID = Field(foreign_key="participant.id", index=True)
    template_version: int
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    flags_raised: list = Field(sa_column=Column(JSON, nullable=False))
    supersedes_id: uuid.UUID | None = Field(default=None, foreign_key="grid_submission.id")
    submitted_by: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class DeviceKind(StrEnum):
    """The kind of device confiscated."""

    phone = "phone"
    tablet = "tablet"
    laptop = "laptop"
    other = "other"


class Device(SQLModel, table=True):
    """A confiscated device.  Its content is never viewed."""

    __tablename__ = "device"
    __table_args__ = (
        UniqueConstraint("case_id", "label"),
        CheckConstraint(_one_of("kind", DeviceKind), name="kind"),
        CheckConstraint("switched_off_confirmed AND content_not_viewed", name="protocol_confirmed"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    label: str = Field(max_length=8)
    kind: str = Field(max_length=16)
    description: str = Field(max_length=300)
    owner_participant_id: uuid.UUID = Field(foreign_key="participant.id")
    switched_off_confirmed: bool
    content_not_viewed: bool
    seal_number: str | None = Field(default=None, max_length=64)
    storage_location: str | None = Field(default=None, max_length=200)
    confiscated_by: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class CustodyEventKind(StrEnum):
    """A step of a device's chain of custody."""

    confiscated = "confiscated"
    stored = "stored"
    transferred_to_police = "transferred_to_police"
    returned_to_owner = "returned_to_owner"
    retained_as_evidence = "retained_as_evidence"


class CustodyEvent(SQLModel, table=True):
    __tablename__ = "custody_event"
    __table_args__ = (
        UniqueConstraint("device_id", "sequence"),
        CheckConstraint(_one_of("kind", CustodyEventKind), name="kind"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    device_id: uuid.UUID = Field(foreign_key="device.id", index=True)
    sequence: int
    kind: str = Field(max_length=24)
    occurred_at: datetime = utc_field(nullable=False)
    seal_number: str | None = Field(default=None, max_length=64)
    storage_location: str | None = Field(default=None, max_length=200)
    officer_name: str | None = Field(default=None, max_length=200)
    badge_number: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    recorded_by: uuid.UUID  # a user or a service account (a police portal, a board system)
    # The recorder's role when it recorded the step: the chain of custody says
    # which side held the device, whoever reads it (police, the school).
    recorded_by_role: str | None = Field(default=None, max_length=32)
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class ContactKind(StrEnum):
    parent_notification = "parent_notification"
    parent_notification_exemption = "parent_notification_exemption"
    police_contact = "police_contact"
    dpj_report = "dpj_report"
    media_inquiry = "media_inquiry"
    takedown_referral = "takedown_referral"


class Contact(SQLModel, table=True):
    """Parent notifications (or justified exemptions), police contacts, the
    DPJ report, media inquiries referred, take-down referrals."""

    __tablename__ = "contact"
    __table_args__ = (CheckConstraint(_one_of("kind", ContactKind), name="kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    kind: str = Field(max_length=32)
    participant_id: uuid.UUID | None = Field(default=None, foreign_key="participant.id")
    occurred_at: datetime = utc_field(nullable=False)
    details: dict = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: uuid.UUID  # a user or a service account (a police portal, a board system)
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)


class Note(SQLModel, table=True):
    __tablename__ = "case_note"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="sexto_case.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: uuid.UUID = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(default_factory=utcnow, nullable=False)
