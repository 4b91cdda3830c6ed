"""The Sexto protocol as a status machine and a checklist (SPEC §2 and §4).

``TRANSITIONS`` says from which statuses each action goes where; the guards
below say what the protocol still needs.  ``transition_blockers`` is the one
evaluation of a transition: ``GET /transitions`` lists what it finds, and a
refused ``POST`` carries the same rules, in the same order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.cases.custody import Custody
from app.cases.models import (
    OPEN_STATUSES,
    POLICE_FLAGS,
    Case,
    CaseStatus,
    Contact,
    ContactKind,
    CustodyEventKind,
    Device,
    Flag,
    GridSubmission,
    IncidentPlace,
    Participant,
    ParticipantFlag,
    ParticipantFlagKind,
    ParticipantRole,
    ReporterType,
)
from app.cases.policy import Capability
from app.i18n import Language, translate

S = CaseStatus


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[CaseStatus]
    target: CaseStatus
    capability: Capability


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("start_evaluation", frozenset({S.reported}), S.evaluating, Capability.transition),
        Transition("start_gathering", frozenset({S.evaluating}), S.gathering, Capability.transition),
        Transition("hand_off", frozenset(OPEN_STATUSES), S.handed_off, Capability.transition),
        Transition("resolve", frozenset({S.gathering}), S.resolved, Capability.transition),
        Transition("close", frozenset({S.handed_off, S.resolved}), S.closed, Capability.close_or_reopen),
        Transition("reopen", frozenset({S.closed, S.resolved}), S.gathering, Capability.close_or_reopen),
    )
}

# Custody: what may follow each step, and who may record it.
CUSTODY_NEXT: dict[CustodyEventKind, frozenset[CustodyEventKind]] = {
    CustodyEventKind.confiscated: frozenset({CustodyEventKind.stored, CustodyEventKind.transferred_to_police}),
    CustodyEventKind.stored: frozenset({CustodyEventKind.stored, CustodyEventKind.transferred_to_police}),
    CustodyEventKind.transferred_to_police: frozenset(
        {CustodyEventKind.returned_to_owner, CustodyEventKind.retained_as_evidence}
    ),
    CustodyEventKind.returned_to_owner: frozenset(),
    CustodyEventKind.retained_as_evidence: frozenset(),
}
SCHOOL_CUSTODY = frozenset({CustodyEventKind.confiscated, CustodyEventKind.stored})
POLICE_ONLY_CUSTODY = frozenset({CustodyEventKind.returned_to_owner, CustodyEventKind.retained_as_evidence})
# What police may record: taking the device over, then its return or retention.
POLICE_CUSTODY = POLICE_ONLY_CUSTODY | {CustodyEventKind.transferred_to_police}


@dataclass(frozen=True)
class Rule:
    """A reason the protocol refuses or still needs something."""

    code: str
    params: dict[str, object] = field(default_factory=dict)

    def detail(self, language: Language) -> str:
        return translate(self.code, language, **self.params)


@dataclass
class CaseFile:
    """Everything the guards look at, loaded once."""

    case: Case
    participants: list[Participant]  # current records only (not superseded)
    label_of: dict[uuid.UUID, str]  # every record, corrections included: a person is a label
    participant_flags: dict[str, set[str]]
    grids: list[GridSubmission]  # current submissions only
    contacts: list[Contact]
    devices: list[tuple[Device, CustodyEventKind]]

    @classmethod
    def load(cls, session: Session, case: Case) -> CaseFile:
        people = session.exec(select(Participant).where(Participant.case_id == case.id)).all()
        replaced = {p.supersedes_id for p in people if p.supersedes_id}
        current = sorted((p for p in people if p.id not in replaced), key=lambda p: int(p.label[1:]))
        label_of = {p.id: p.label for p in people}
        flags: dict[str, set[str]] = {}
        if people:
            rows = session.exec(select(ParticipantFlag).where(ParticipantFlag.participant_id.in_(list(label_of)))).all()
            for row in rows:
                flags.setdefault(label_of[row.participant_id], set()).add(row.kind)
        grids = session.exec(select(GridSubmission).where(GridSubmission.case_id == case.id)).all()
        superseded = {g.supersedes_id for g in grids if g.supersedes_id}
        contacts = session.exec(select(Contact).where(Contact.case_id == case.id)).all()
        devices = session.exec(select(Device).where(Device.case_id == case.id).order_by(Device.created_at)).all()
        custody = Custody.load(session, [d.id for d in devices])
        return cls(
            case=case,
            participants=current,
            label_of=label_of,
            participant_flags=flags,
            grids=[g for g in grids if g.id not in superseded],
            contacts=list(contacts),
            devices=[(d, custody.state(d.id)) for d in devices],
        )

    # --- facts -------------------------------------------------------------------

    def flagged(self, participant: Participant, kind: ParticipantFlagKind) -> bool:
        return kind.value in self.participant_flags.get(participant.label, set())

    def interviewed(self, participant: Participant) -> bool:
        return any(self.label_of.get(g.participant_id) == participant.label for g in self.grids)

    def owns_device(self, participant: Participant) -> bool:
        return any(self.label_of.get(d.owner_participant_id) == participant.label for d, _ in self.devices)

    def reporter_grid_done(self) -> bool:
        return any(self.interviewed(p) for p in self.participants if p.role == ParticipantRole.reporter)

    def reporter_grid_skip_allowed(self) -> bool:
        return self.case.reporter_type == ReporterType.parent and self.case.place != IncidentPlace.school

    def minors_without_parent_contact(self) -> list[Participant]:
        covered = {
            self.label_of.get(c.participant_id)
            for c in self.contacts
            if c.kind in (ContactKind.parent_notification, ContactKind.parent_notification_exemption)
        }
        return [p for p in self.participants if p.is_minor and p.label not in covered]

    def dpj_report_recorded(self) -> bool:
        return any(c.kind == ContactKind.dpj_report for c in self.contacts)

    def devices_in_school_custody(self) -> list[Device]:
        return [device for device, last in self.devices if last in SCHOOL_CUSTODY]

    def police_flags(self) -> list[Flag]:
        return [flag for flag in POLICE_FLAGS if getattr(self.case, flag.value)]


def _labels(items) -> str:
    return ", ".join(item.label for item in items)


def guard_failures(file: CaseFile, action: str, *, skip_reporter_grid: bool = False) -> list[Rule]:
    """What the protocol says against taking ``action`` now (status aside)."""
    case = file.case
    rules: list[Rule] = []
    if action == "start_gathering":
        skip_allowed = file.reporter_grid_skip_allowed()
        if skip_reporter_grid and not skip_allowed:
            rules.append(Rule("reporter_grid_skip_not_allowed"))
        if not (file.reporter_grid_done() or case.reporter_grid_skipped or (skip_reporter_grid and skip_allowed)):
            rules.append(Rule("reporter_grid_required"))
    elif action == "resolve":
        if flags := file.police_flags():
            rules.append(Rule("police_flags_block_resolution", {"flags": ", ".join(flags)}))
    elif action == "close":
        if (flags := file.police_flags()) and not case.was_handed_off:
            rules.append(Rule("hand_off_required", {"flags": ", ".join(flags)}))
        if missing := file.minors_without_parent_contact():
            rules.append(Rule("parents_not_notified", {"participants": _labels(missing)}))
        if case.csam_suspected and not file.dpj_report_recorded():
            rules.append(Rule("dpj_report_missing"))
        if devices := file.devices_in_school_custody():
            rules.append(Rule("device_in_school_custody", {"devices": _labels(devices)}))
    elif action == "reopen" and case.was_handed_off:
        rules.append(Rule("reopen_after_hand_off"))
    return rules


def _statuses(statuses) -> str:
    return ", ".join(status.value for status in CaseStatus if status in statuses)


def status_rule(transition: Transition, status: CaseStatus) -> Rule | None:
    """``transition_not_allowed`` when the case's status is not one the action
    is taken from; it says which are, and what can be done from here instead."""
    if status in transition.sources:
        return None
    instead = [t.action for t in TRANSITIONS.values() if status in t.sources]
    return Rule(
        "transition_not_allowed",
        {
            "action": transition.action,
            "status": status.value,
            "sources": _statuses(transition.sources),
            "instead": ", ".join(instead),
        },
    )


def transition_blockers(
    file: CaseFile, transition: Transition, role_rule: str | None, *, skip_reporter_grid: bool = False
) -> list[Rule]:
    """Everything that blocks ``transition`` now, in the order a refusal names
    them: the case's information destroyed, the caller's role (``role_rule``:
    ``forbidden`` or ``architect_required``, from the policy), the status,
    then the protocol's guards.  Guards are evaluated whatever the status, so
    that a caller learns at once everything still to do."""
    rules: list[Rule] = []
    if file.case.destroyed_at is not None:
        rules.append(Rule("case_destroyed"))
    if role_rule is not None:
        rules.append(Rule(role_rule))
    if rule := status_rule(transition, CaseStatus(file.case.status)):
        rules.append(rule)
    return rules + guard_failures(file, transition.action, skip_reporter_grid=skip_reporter_grid)


@dataclass(frozen=True)
class StepState:
    code: str
    done: bool
    params: dict[str, object] = field(default_factory=dict)
    subject: str | None = None


def checklist(file: CaseFile) -> list[StepState]:  # noqa: C901 (to become the protocol table's guards, #12)
    """The protocol as a checklist for this case (SPEC §2, GRID's flag actions)."""
    case, steps = file.case, []
    reporter_done = file.reporter_grid_done() or case.reporter_grid_skipped
    steps.append(StepState("step_reporter_grid", reporter_done))
    handed_off = case.was_handed_off
    for participant in file.participants:
        if participant.role == ParticipantRole.reporter:
            continue
        label = participant.label
        if file.flagged(participant, ParticipantFlagKind.malicious_intent):
            steps.append(StepState("step_confiscate_malicious", file.owns_device(participant), subject=label))
            steps.append(StepState("step_contact_police", handed_off, subject=label))
        elif file.flagged(participant, ParticipantFlagKind.refused):
            steps.append(StepState("step_contact_police", handed_off, subject=label))
        elif not handed_off:
            steps.append(StepState("step_participant_grid", file.interviewed(participant), subject=label))
    if case.csam_suspected:
        steps.append(StepState("step_switch_off_confiscate", bool(file.devices)))
        steps.append(StepState("step_hand_off", handed_off))
        steps.append(StepState("step_dpj_report", file.dpj_report_recorded()))
        steps.append(StepState("step_takedown", any(c.kind == ContactKind.takedown_referral for c in file.contacts)))
    elif file.police_flags():
        steps.append(StepState("step_hand_off", handed_off))
    if case.adult_involved:
        steps.append(StepState("step_adult_involved", handed_off))
    if case.urgent_wellbeing_concern:
        steps.append(StepState("step_wellbeing", False))
    uncovered = {p.label for p in file.minors_without_parent_contact()}
    for participant in file.participants:
        if participant.is_minor:
            steps.append(StepState("step_parents", participant.label not in uncovered, subject=participant.label))
    for device in file.devices_in_school_custody():
        steps.append(StepState("step_device_to_police", False, subject=device.label))
    return steps
