"""Request and response bodies of the case routes.  Lists never carry names."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from app.accounts.models import AttestationLevel, Role
from app.cases.models import (
    CaseStatus,
    Channel,
    CustodyEventKind,
    DeviceKind,
    Flag,
    IncidentPlace,
    ParticipantFlagKind,
    ParticipantRole,
    ReporterType,
)
from app.cases.protocol import TRANSITIONS
from app.schemas import (
    EVENT_DATE_RULE,
    EVENT_TIME_RULE,
    PROTOCOL_REQUIREMENTS,
    CaseAnswer,
    EventDate,
    EventTime,
    InputModel,
    Name,
    NoMedia,
    OutputModel,
    confirmation,
    named_examples,
)

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]

# --- cases ----------------------------------------------------------------------


class CaseCreate(InputModel):
    """Open a case when a sexting situation is reported.  Write no names in the summary."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "school_id": "6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21",
                    "reporter_type": "student",
                    "channel": "in_person",
                    "place": "school",
                    "summary": "Une photo d'une élève circulerait dans une conversation de groupe de 3e secondaire.",
                }
            ]
        }
    )
    school_id: uuid.UUID
    reporter_type: ReporterType
    channel: Channel
    place: IncidentPlace = Field(
        description="Where it happened: at school, outside school, or online only (the words of the grid's `trigger.place`)."
    )
    summary: ShortText = Field(description="Short, factual, without names.")


class CaseUpdate(InputModel):
    """Only the fields the case's status allows (see the README's table)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"summary": "Précision : la photo aurait été envoyée vendredi soir."}]}
    )

    reporter_type: ReporterType | None = None
    channel: Channel | None = None
    place: IncidentPlace | None = None
    summary: ShortText | None = None


class CaseSummary(OutputModel):
    """A case in a list: no names, no summary."""

    id: uuid.UUID
    reference: str = Field(examples=["SX-2026-00042"])
    school_id: uuid.UUID
    status: CaseStatus
    flags: list[Flag]
    created_at: datetime
    updated_at: datetime
    # A police liaison's list says which handed-off cases the force has not
    # taken yet; absent for the roles that do not read the police part.
    police_acknowledged_at: datetime | None = Field(
        default=None,
        description="When the force acknowledged the handed-off case (null: not yet). Absent for DPJ reporters.",
    )


class CaseOut(CaseSummary, CaseAnswer):
    """A case: intake, status, flags, hand-off and police outcome. Never names: people are at /participants."""

    reporter_type: ReporterType
    channel: Channel
    place: IncidentPlace
    summary: str
    reporter_grid_skipped: bool
    handed_off_at: datetime | None
    handed_off_force_id: uuid.UUID | None
    # The police part: not shown to DPJ reporters (absent from their answers);
    # the police file number only to police and the school lead.
    police_officer_contacted: str | None = None
    police_file_number: str | None = Field(
        default=None,
        description="The force's own file number: shown to police and the school lead, not to staff or the DPJ.",
    )
    dcpp_decision: Literal["impulsive", "malicious"] | None = Field(
        default=None, description="The DCPP prosecutor's classification, recorded by police after hand-off."
    )
    dcpp_decided_on: date | None = None
    awareness_meeting_on: date | None = Field(
        default=None, description="Impulsive acts: the awareness meeting at the police station."
    )
    police_closed_at: datetime | None = None
    closed_at: datetime | None
    destroyed_at: datetime | None = Field(
        description="When the case's personal information was destroyed under its board's retention rule."
    )
    version: int


# --- transitions and next steps --------------------------------------------------

TransitionAction = Literal["start_evaluation", "start_gathering", "hand_off", "resolve", "close", "reopen"]


def _examples(*bodies: dict, **schema: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(bodies), **schema})


def required_member(action: str, member: str, description: str) -> Any:
    """A member the protocol table requires of the action's body
    (``Transition.requires``): declared with its rule."""
    rule = TRANSITIONS[action].requires[member]
    PROTOCOL_REQUIREMENTS[f"{action}.{member}"] = rule
    return Field(description=f"{description} Missing: a 422 `{rule}`.", json_schema_extra={"x-protocol-rule": rule})


class StartEvaluationTransition(InputModel):
    """`reported` → `evaluating`: the team starts evaluating the situation."""

    model_config = _examples({"action": "start_evaluation"})

    action: Literal["start_evaluation"]


class StartGatheringTransition(InputModel):
    """`evaluating` → `gathering`: after the grid with the reporter, or recording
    that it is skipped (only when a parent reports a situation outside school)."""

    model_config = _examples(
        {"action": "start_gathering"},
        {
            "action": "start_gathering",
            "skip_reporter_grid": True,
            "reason": "Parent signalant une situation hors de l'école",
        },
        # The reason goes with the skip, and only with it (said for generated clients too).
        **{
            "if": {"properties": {"skip_reporter_grid": {"const": True}}, "required": ["skip_reporter_grid"]},
            "then": {"required": ["reason"]},
            "else": {"not": {"required": ["reason"]}},
        },
    )

    action: Literal["start_gathering"]
    skip_reporter_grid: bool = Field(
        default=False,
        description="Record that the grid with the reporter is skipped "
        "(allowed only when a parent reports a situation outside school).",
    )
    reason: ShortText | SkipJsonSchema[None] = Field(
        default=None,
        description="Why the reporter's grid is skipped: required with `skip_reporter_grid`, refused without.",
    )

    @model_validator(mode="after")
    def _reason_goes_with_the_skip(self) -> StartGatheringTransition:
        if self.skip_reporter_grid and self.reason is None:
            raise PydanticCustomError(
                "skip_reason_required",
                "A reason is required to skip the reporter's grid at {location}",
                {"location": "body.reason"},
            )
        if "reason" in self.model_fields_set and not self.skip_reporter_grid:
            raise PydanticCustomError(
                "reason_without_skip",
                "A reason is given only with skip_reporter_grid at {location}",
                {"location": "body.reason"},
            )
        return self


class HandOffTransition(InputModel):
    """`reported`, `evaluating` or `gathering` → `handed_off`: the case goes to
    the police force serving the school; the school stops investigating."""

    model_config = _examples({"action": "hand_off", "police_officer": "Agente Paquette, policière-école"})

    action: Literal["hand_off"]
    police_officer: Name = required_member("hand_off", "police_officer", "The police officer contacted.")


class ResolveTransition(InputModel):
    """`gathering` → `resolved`: handled at school (no police flag set)."""

    model_config = _examples({"action": "resolve"})

    action: Literal["resolve"]


class CloseTransition(InputModel):
    """`handed_off` or `resolved` → `closed` (school lead)."""

    model_config = _examples({"action": "close"})

    action: Literal["close"]


class ReopenTransition(InputModel):
    """`closed` or `resolved` → `gathering` (school lead), for a case never handed off."""

    model_config = _examples({"action": "reopen", "reason": "Nouvel élément rapporté par un témoin"})

    action: Literal["reopen"]
    reason: ShortText = required_member("reopen", "reason", "Why the case is reopened.")


# One body per action, told apart by ``action``: a member of another action is
# refused (422), and each action's own members are required where it needs them.
TransitionRequest = Annotated[
    StartEvaluationTransition
    | StartGatheringTransition
    | HandOffTransition
    | ResolveTransition
    | CloseTransition
    | ReopenTransition,
    Discriminator("action"),
    NoMedia,
]

# The document's named examples, one per action (and the skip).
TRANSITION_EXAMPLES: dict[str, dict[str, Any]] = {
    "start_evaluation": {"summary": "Start evaluating", "value": {"action": "start_evaluation"}},
    "start_gathering": {
        "summary": "Start gathering, after the grid with the reporter",
        "value": {"action": "start_gathering"},
    },
    "start_gathering_skipping_the_reporter_grid": {
        "summary": "Start gathering, skipping the reporter's grid (a parent reports a situation outside school)",
        "value": {
            "action": "start_gathering",
            "skip_reporter_grid": True,
            "reason": "Parent signalant une situation hors de l'école",
        },
    },
    "hand_off": {
        "summary": "Hand off to police",
        "value": {"action": "hand_off", "police_officer": "Agente Paquette, policière-école"},
    },
    "resolve": {"summary": "Resolve at school", "value": {"action": "resolve"}},
    "close": {"summary": "Close (school lead)", "value": {"action": "close"}},
    "reopen": {
        "summary": "Reopen (school lead)",
        "value": {"action": "reopen", "reason": "Nouvel élément rapporté par un témoin"},
    },
}


class Blocker(BaseModel):
    """A protocol rule that blocks a transition now, in the caller's language."""

    code: str = Field(description="The rule, e.g. `parents_not_notified`.")
    detail: str = Field(description="In the caller's language.")


class TransitionOption(BaseModel):
    """One action of the status machine: whether the caller can take it now, and what blocks it."""

    action: TransitionAction
    to_status: CaseStatus
    allowed: bool
    blockers: list[Blocker]


class Transitions(BaseModel):
    """The case's status and every action, allowed or blocked."""

    status: CaseStatus
    transitions: list[TransitionOption]


class Step(BaseModel):
    """One step of the protocol for this case, done or not, naming people and devices by label."""

    code: str
    done: bool
    detail: str
    subject: str | None = Field(default=None, description="The participant or device label (P2, D1), never a name.")


class NextSteps(BaseModel):
    """The protocol as a checklist for this case, and its transitions."""

    status: CaseStatus
    flags: list[Flag]
    steps: list[Step]
    transitions: list[TransitionOption]


class CaseListItem(CaseSummary):
    """A case in the case list: its summary and what it waits for."""

    waiting: list[Step] = Field(
        description="The protocol's steps not yet done for this case, in checklist order, as "
        "`GET /cases/{case_id}/next-steps` gives them (people and devices by label, never by name)."
    )


# The acknowledgement's body is optional: the force may not have opened its file yet.
ACKNOWLEDGEMENT_EXAMPLES = {
    "with_file_number": {
        "summary": "With the force's own file number",
        "value": {"police_file_number": "SPSJ-2026-004512"},
    },
    "without_file_number": {"summary": "The force has not opened its file yet", "value": {}},
}


class PoliceOutcomeUpdate(InputModel):
    """Police only, after hand-off: the prosecutor's decision, the awareness
    meeting, and the close of the police part."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dcpp_decision": "impulsive",
                    "dcpp_decided_on": "2026-11-24",
                    "awareness_meeting_on": "2026-11-27",
                    "close_police_part": True,
                }
            ]
        }
    )
    police_file_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    dcpp_decision: Literal["impulsive", "malicious"] | None = None
    dcpp_decided_on: EventDate | None = Field(
        default=None, description=f"When the prosecutor decided. {EVENT_DATE_RULE}"
    )
    awareness_meeting_on: EventDate | None = Field(
        default=None, description=f"When the awareness meeting took place. {EVENT_DATE_RULE}"
    )
    close_police_part: bool = False


class AcknowledgementCreate(InputModel):
    """Police: the force took the handed-off case."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"police_file_number": "SPSJ-2026-004512"}]})
    police_file_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="The force's own file number, if already opened."
    )


# --- team ----------------------------------------------------------------------


class TeamMemberCreate(InputModel):
    """Add a staff member of the case's school to the case team (school lead)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"user_id": "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98"}]})

    user_id: uuid.UUID


class TeamMemberOut(OutputModel):
    """A member of the case team: who, and whether they may handle the case."""

    user_id: uuid.UUID
    full_name: str
    role: Role = Field(description="`school_staff` or `school_lead`.")
    attestation: AttestationLevel | None = Field(description="The highest Sexto attestation held (none: not trained).")
    may_handle_cases: bool = Field(description="Holds the `architect` attestation; other members only read the case.")
    added_by: uuid.UUID
    created_at: datetime


# --- participants --------------------------------------------------------------


class ParticipantCreate(InputModel):
    """A person involved. Their name is stored for the case only and never appears in lists or logs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "role": "depicted",
                    "is_minor": True,
                    "grade": "Secondaire 3",
                    "student_id": "1234567",
                    "name": "Prénom Nom",
                }
            ]
        }
    )
    role: ParticipantRole
    is_minor: bool
    grade: Annotated[str, StringConstraints(max_length=20)] | None = None
    student_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    name: Name
    supersedes: uuid.UUID | None = Field(default=None, description="Correct an earlier record of this person.")


class ParticipantFlagCreate(InputModel):
    """Flag a person, with the reason: then no grid is completed with them and police are contacted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"kind": "malicious_intent", "reason": "A diffusé la photo pour se venger après la rupture."}]
        }
    )

    kind: ParticipantFlagKind
    reason: ShortText


class ParticipantFlagOut(OutputModel):
    """A flag on a person."""

    kind: ParticipantFlagKind
    reason: str | None = Field(
        default=None, description="Absent for DPJ reporters (staff's words from the interviews)."
    )
    created_by: uuid.UUID
    created_at: datetime


class ParticipantOut(OutputModel):
    """A person involved, as currently recorded (corrections supersede earlier records)."""

    id: uuid.UUID
    label: str = Field(examples=["P2"])
    role: ParticipantRole
    is_minor: bool
    grade: str | None
    student_id: str | None = Field(
        default=None, description="The board's student id: absent for police and DPJ reporters."
    )
    name: str
    supersedes_id: uuid.UUID | None
    superseded: bool = False
    flags: list[ParticipantFlagOut] = Field(default_factory=list)
    created_at: datetime


# --- grids ---------------------------------------------------------------------


class GridSubmissionCreate(InputModel):
    """The evaluation grid completed with one person, against one template version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "participant_id": "0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                    "template_version": 1,
                    "answers": {
                        "trigger": {
                            "disclosed_by": "recipient_or_witness",
                            "disclosed_at": "2026-11-20T10:15:00Z",
                            "place": "school",
                        },
                        "nature": {
                            "media_kind": "photo",
                            "content_described": "semi_nude_or_suggestive",
                            "production": "self_produced",
                            "depicted_ages": [14],
                        },
                        "intentions": {"intentions": ["impulsive_forwarding"]},
                        "extent": {"recipients": "six_to_twenty"},
                        "wellbeing": {
                            "self_harm_risk": "no",
                            "threats_or_extortion": "no",
                            "sexual_assault_alleged": "no",
                            "child_under_12_involved": "no",
                            "repeat_incident": "no",
                            "family_safety_concern": "no",
                        },
                    },
                }
            ]
        }
    )

    participant_id: uuid.UUID = Field(
        description="The person interviewed (the reporter is a participant with role `reporter`)."
    )
    template_version: int = Field(ge=1, description="The version of the grid the answers follow.")
    answers: dict[str, Any] = Field(description="Validated against the template's JSON Schema.")
    supersedes: uuid.UUID | None = Field(default=None, description="Correct an earlier submission for the same person.")


class GridSubmissionOut(OutputModel):
    """A grid submission (immutable) and the flags it raised."""

    id: uuid.UUID
    participant_id: uuid.UUID
    template_version: int
    answers: dict[str, Any]
    flags_raised: list[Flag]
    supersedes_id: uuid.UUID | None
    superseded: bool = False
    submitted_by: uuid.UUID
    created_at: datetime


# --- devices and custody ----------------------------------------------------------


class DeviceCreate(InputModel):
    """Record a confiscation.  The device is switched off and its content is never viewed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "phone",
                    "description": "Téléphone noir, étui bleu",
                    "owner_participant_id": "0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                    "switched_off_confirmed": True,
                    "content_not_viewed": True,
                    "seal_number": "SC-000123",
                    "storage_location": "Coffre du bureau de la direction",
                }
            ]
        }
    )
    kind: DeviceKind
    description: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    owner_participant_id: uuid.UUID
    switched_off_confirmed: Literal[True] = confirmation(
        "switched_off_confirmed", "The protocol: the student switched the device off."
    )
    content_not_viewed: Literal[True] = confirmation(
        "content_not_viewed", "The protocol: nobody looked at the content."
    )
    seal_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    storage_location: Annotated[str, StringConstraints(max_length=200)] | None = None


class CustodyEventCreate(InputModel):
    """The next step of a device's chain of custody."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "stored", "seal_number": "SC-000123", "storage_location": "Coffre de la direction"},
                {"kind": "transferred_to_police", "officer_name": "Agente Paquette", "badge_number": "4521"},
            ]
        }
    )
    kind: Literal["stored", "transferred_to_police", "returned_to_owner", "retained_as_evidence"]
    occurred_at: EventTime | None = Field(default=None, description=f"Default: now. {EVENT_TIME_RULE}")
    seal_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    storage_location: Annotated[str, StringConstraints(max_length=200)] | None = None
    officer_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    badge_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class CustodyEventOut(OutputModel):
    """A step of a device's chain of custody."""

    id: uuid.UUID
    sequence: int
    kind: CustodyEventKind
    occurred_at: datetime
    seal_number: str | None
    storage_location: str | None
    officer_name: str | None
    badge_number: str | None
    note: str | None
    recorded_by: uuid.UUID
    recorded_by_role: Role | None = Field(
        description=(
            "The role of whoever recorded the step (a person or a service account), as it was then: "
            "which side recorded it. None only for a step recorded before the service kept it "
            "whose account is gone."
        )
    )


class DeviceOut(OutputModel):
    """A confiscated device and its chain of custody."""

    id: uuid.UUID
    case_id: uuid.UUID
    label: str = Field(examples=["D1"])
    kind: DeviceKind
    description: str
    owner_participant_id: uuid.UUID
    seal_number: str | None
    storage_location: str | None
    custody: CustodyEventKind = Field(description="The latest custody step.")
    in_school_custody: bool
    events: list[CustodyEventOut]
    created_at: datetime


# --- contacts --------------------------------------------------------------------


class ParentNotification(InputModel):
    """The parents of a minor were notified."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "parent_notification",
                    "participant_id": "0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                    "guardian_relationship": "mother",
                    "method": "phone",
                    "occurred_at": "2026-11-20T16:00:00-05:00",
                }
            ]
        }
    )
    kind: Literal["parent_notification"]
    participant_id: uuid.UUID = Field(description="The minor whose parents were notified.")
    guardian_relationship: Literal["mother", "father", "guardian", "other"]
    method: Literal["phone", "in_person", "email", "letter", "other"]
    occurred_at: EventTime


class ParentNotificationExemption(InputModel):
    """The parents of a minor are not notified, with the justification."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "parent_notification_exemption",
                    "participant_id": "0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                    "reason": "student_14_plus_refuses",
                    "justification": "Élève de 15 ans qui refuse que ses parents soient avisés (LIP art. 96.12).",
                    "occurred_at": "2026-11-20T15:30:00-05:00",
                }
            ]
        }
    )
    kind: Literal["parent_notification_exemption"]
    participant_id: uuid.UUID
    reason: Literal["student_14_plus_refuses", "risk_to_child", "other"] = Field(
        description="`student_14_plus_refuses`: Education Act s. 96.12; `risk_to_child`: notifying would put the child at risk."
    )
    justification: ShortText
    occurred_at: EventTime | None = None


class PoliceContact(InputModel):
    """A contact with police."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "police_contact",
                    "officer_name": "Agente Paquette, policière-école",
                    "method": "phone",
                    "occurred_at": "2026-11-20T11:00:00-05:00",
                    "note": "Situation exposée ; la policière rappelle en après-midi.",
                }
            ]
        }
    )
    kind: Literal["police_contact"]
    officer_name: Name
    method: Literal["phone", "in_person", "email", "other"]
    occurred_at: EventTime
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class DpjReport(InputModel):
    """The report to the DPJ (Direction de la protection de la jeunesse)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "dpj_report",
                    "occurred_at": "2026-11-20T13:00:00-05:00",
                    "region": "Laurentides",
                    "reference": "DPJ-2026-11873",
                }
            ]
        }
    )
    kind: Literal["dpj_report"]
    occurred_at: EventTime = Field(description=f"When the report was made. {EVENT_TIME_RULE}")
    region: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    retained: bool | None = Field(default=None, description="Whether the DPJ retained the report, once known.")


class MediaInquiry(InputModel):
    """A media inquiry, referred to the communications officer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "media_inquiry",
                    "occurred_at": "2026-11-21T09:00:00-05:00",
                    "outlet": "Journal régional",
                    "referred_to_communications": True,
                }
            ]
        }
    )
    kind: Literal["media_inquiry"]
    occurred_at: EventTime
    outlet: Annotated[str, StringConstraints(max_length=200)] | None = None
    referred_to_communications: Literal[True] = confirmation(
        "referred_to_communications",
        "Media inquiries are referred to the communications officer, never answered from the case.",
    )


class TakedownReferral(InputModel):
    """The victim was helped to have the content taken down."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "takedown_referral",
                    "occurred_at": "2026-11-20T14:00:00-05:00",
                    "service": "take_it_down",
                    "participant_id": "0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                }
            ]
        }
    )
    kind: Literal["takedown_referral"]
    occurred_at: EventTime
    service: Literal["cybertip", "aidezmoisvp", "take_it_down"]
    participant_id: uuid.UUID | None = None


CONTACT_KINDS = (
    ParentNotification,
    ParentNotificationExemption,
    PoliceContact,
    DpjReport,
    MediaInquiry,
    TakedownReferral,
)
ContactCreate = Annotated[
    ParentNotification | ParentNotificationExemption | PoliceContact | DpjReport | MediaInquiry | TakedownReferral,
    Field(discriminator="kind"),
]
# One named example per kind, for the request body in the OpenAPI document.
CONTACT_EXAMPLES = named_examples("kind", *CONTACT_KINDS)


class ContactOut(OutputModel):
    """A recorded contact."""

    id: uuid.UUID
    kind: str
    participant_id: uuid.UUID | None
    occurred_at: datetime
    details: dict[str, Any]
    recorded_by: uuid.UUID
    created_at: datetime


class ParticipantExport(BaseModel):
    """Everything the service holds about one person of a case, for an access
    request (Quebec's Act respecting access to documents held by public
    bodies): their records (corrections included), the interviews completed
    with them, the contacts and devices that concern them."""

    case_reference: str
    records: list[ParticipantOut]
    grids: list[GridSubmissionOut]
    contacts: list[ContactOut]
    devices: list[DeviceOut]


# --- notes -----------------------------------------------------------------------


class NoteCreate(InputModel):
    """A note for the case chronology (append-only)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Rencontre de soutien avec l'élève ; ressources d'aide remises."}]}
    )

    text: LongText


class NoteOut(OutputModel):
    """A note of the case chronology."""

    id: uuid.UUID
    text: str
    author_id: uuid.UUID
    created_at: datetime
