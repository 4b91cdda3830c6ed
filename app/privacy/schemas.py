"""Request and response bodies of the privacy officer's routes and of legal holds.

The privacy officer sees case references, never case contents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from app.privacy.models import RiskLevel
from app.schemas import EVENT_DATE_RULE, InputModel, OutputModel

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
AuditEntryId = Annotated[int, Field(ge=1, le=2**63 - 1)]  # a 64-bit id


# --- retention ---------------------------------------------------------------


class RetentionRuleIn(InputModel):
    """The board's retention rule (its retention schedule's item)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"years_after_closure": 5, "schedule_reference": "CC-2026-04-12"}]}
    )

    years_after_closure: int = Field(ge=1, le=100)
    schedule_reference: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class RetentionRuleOut(OutputModel):
    """The board's retention rule as it applies now."""

    board_id: uuid.UUID
    years_after_closure: int
    schedule_reference: str | None
    is_default: bool = Field(description="True while the board has no rule of its own (the service default applies).")
    version: int
    updated_at: datetime | None


class RetentionHold(BaseModel):
    """A legal hold that keeps a case."""

    id: uuid.UUID
    placed_by_role: str
    placed_at: datetime


class RetentionDecision(BaseModel):
    """What the next destruction run would do with one closed case."""

    case_id: uuid.UUID
    reference: str
    closed_at: datetime
    destroy_after: datetime
    rule: str
    action: Literal["destroy", "keep"]
    why: Literal["legal_hold", "police_part_open", "not_due"] | None
    holds: list[RetentionHold]
    counts: dict[str, int] = Field(description="Records of personal information the case holds, by kind.")


class RetentionPreview(BaseModel):
    """The dry run, for the board: closed cases not yet destroyed."""

    board_id: uuid.UUID
    as_of: datetime
    items: list[RetentionDecision] = Field(description="Oldest closure first.")
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


# --- legal holds -------------------------------------------------------------


class LegalHoldCreate(InputModel):
    """Keep a case from destruction (handed off to police, or reported to the DPJ)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Enquête policière en cours."}]})

    reason: ShortText


class LegalHoldLift(InputModel):
    """Lift a hold, with the reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Dossier policier fermé."}]})

    reason: ShortText


class LegalHoldOut(OutputModel):
    """A legal hold on a case: in force until lifted by the role that placed it."""

    id: uuid.UUID
    case_id: uuid.UUID
    reason: str | None = Field(description="Erased with the case's personal information.")
    placed_by: uuid.UUID
    placed_by_role: str
    placed_at: datetime
    lifted_by: uuid.UUID | None
    lifted_by_role: str | None
    lift_reason: str | None
    lifted_at: datetime | None
    active: bool


class LegalHoldOverview(OutputModel):
    """A hold as the privacy officer sees it: the case's reference, not its contents."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    school_id: uuid.UUID
    placed_by_role: str
    placed_at: datetime
    lifted_by_role: str | None
    lifted_at: datetime | None
    active: bool


# --- the incident register ---------------------------------------------------------


class _IncidentFields(InputModel):
    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        start, end, found = (getattr(self, name, None) for name in ("occurred_from", "occurred_until", "discovered_on"))
        if start and end and end < start:
            raise PydanticCustomError("incident_dates_order", "occurred_until is before occurred_from")
        if start and found and found < start:
            raise PydanticCustomError("incident_dates_order", "discovered_on is before occurred_from")
        return self


class IncidentCreate(_IncidentFields):
    """A confidentiality incident, as the register must describe it
    (Regulation respecting confidentiality incidents, s. 11)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "information_involved": "Noms et niveaux scolaires de deux élèves (un dossier Sexto).",
                    "circumstances": "Courriel envoyé au mauvais destinataire interne.",
                    "occurred_from": "2026-11-18",
                    "discovered_on": "2026-11-19",
                    "people_concerned": 2,
                    "risk_level": "low",
                    "risk_assessment": "Destinataire tenu au secret, courriel supprimé.",
                    "measures_taken": "Rappel des consignes à l'équipe.",
                }
            ]
        }
    )

    information_involved: LongText = Field(description="A description of the personal information involved.")
    circumstances: LongText
    occurred_from: date = Field(description=f"The date, or the start of the period, of the incident. {EVENT_DATE_RULE}")
    occurred_until: date | None = Field(
        default=None, description=f"The end of the period, if it lasted. {EVENT_DATE_RULE}"
    )
    discovered_on: date = Field(description=f"When the organization learned of it. {EVENT_DATE_RULE}")
    people_concerned: int | None = Field(default=None, ge=0, le=10_000_000, description="Unknown: null.")
    risk_level: RiskLevel = RiskLevel.not_assessed
    risk_assessment: LongText | None = Field(
        default=None, description="Sensitivity of the information, anticipated consequences, their likelihood."
    )
    commission_notified_on: date | None = Field(
        default=None, description=f"When the Commission d'accès à l'information was notified. {EVENT_DATE_RULE}"
    )
    people_notified_on: date | None = Field(
        default=None, description=f"When the people concerned were notified. {EVENT_DATE_RULE}"
    )
    measures_taken: LongText | None = None
    case_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="Cases concerned (the board's)."
    )
    audit_entry_ids: list[AuditEntryId] = Field(
        default_factory=list,
        max_length=1000,
        description="Audit entries that show it, e.g. from an access-review finding.",
    )


class IncidentUpdate(_IncidentFields):
    """Change some fields; every version is kept."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"commission_notified_on": "2026-11-20", "risk_level": "serious"}]}
    )

    information_involved: LongText | None = None
    circumstances: LongText | None = None
    occurred_from: date | None = None
    occurred_until: date | None = None
    discovered_on: date | None = None
    people_concerned: int | None = Field(default=None, ge=0, le=10_000_000)
    risk_level: RiskLevel | None = None
    risk_assessment: LongText | None = None
    commission_notified_on: date | None = None
    people_notified_on: date | None = None
    measures_taken: LongText | None = None
    case_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    audit_entry_ids: list[AuditEntryId] | None = Field(default=None, max_length=1000)


class IncidentOut(OutputModel):
    """A register entry."""

    id: uuid.UUID
    reference: str = Field(examples=["INC-2026-0001"])
    board_id: uuid.UUID
    information_involved: str
    circumstances: str
    occurred_from: date
    occurred_until: date | None
    discovered_on: date
    people_concerned: int | None
    risk_level: RiskLevel
    risk_assessment: str | None
    commission_notified_on: date | None
    people_notified_on: date | None
    measures_taken: str | None
    case_ids: list[uuid.UUID]
    case_references: list[str]
    audit_entry_ids: list[int]
    version: int
    created_by: uuid.UUID
    created_at: datetime
    updated_by: uuid.UUID
    updated_at: datetime


class IncidentVersionOut(OutputModel):
    """One version of a register entry, as it read after a change."""

    id: uuid.UUID
    version: int
    content: dict
    changed_fields: list[str]
    changed_by: uuid.UUID
    changed_at: datetime


# --- access review -------------------------------------------------------------


class Finding(BaseModel):
    """Unusual access by one account, with the audit entries that show it."""

    kind: Literal["many_denied", "many_cases", "off_hours"]
    actor_kind: str
    actor_id: str
    actor_role: str | None
    first_at: datetime
    last_at: datetime
    count: int = Field(description="Denied requests, different cases, or requests outside school hours.")
    audit_entry_ids: list[int] = Field(description="Up to 200 of the entries (`truncated` says when there are more).")
    truncated: bool
    events_url: str = Field(description="The entries in the audit log (`GET /api/v1/audit/events`).")


class Thresholds(BaseModel):
    """What counts as unusual (settings ``SEXTO_REVIEW_*``)."""

    denied: int
    distinct_cases: int
    window_minutes: int
    school_hours: tuple[int, int] = Field(
        description="Local hours [start, end) of school days (Monday to Friday).",
        # Every item an integer, said as `items` too: the pair's `prefixItems`
        # alone is JSON Schema 2020-12, which OpenAPI 3.0 tools do not read.
        json_schema_extra={"items": {"type": "integer"}},
    )
    timezone: str


class AccessReview(BaseModel):
    """The access review of one period, for the board."""

    board_id: uuid.UUID
    since: datetime
    until: datetime
    thresholds: Thresholds
    entries_examined: int
    truncated: bool = Field(
        description="True when the period held more entries than one review reads: review a shorter period."
    )
    findings: list[Finding]
