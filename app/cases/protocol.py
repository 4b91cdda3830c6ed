"""The Sexto protocol as a status machine and a checklist (SPEC §2 and §4).

``TRANSITIONS`` is the protocol as one table: each action's row says from
which statuses it is taken, where it goes, who may take it, its guards (each
names the rule it breaks, or nothing), the body members it requires and what
taking it does.  ``transition_blockers`` is the one evaluation of a
transition: ``GET /transitions`` lists what it finds, and a refused ``POST``
carries the same rules, in the same order.  The checklist reads the same
guards, so that a step and the rule behind it cannot drift apart.  The rules
on what a case still takes (intake edits, findings, devices and contacts)
are here too; who may do what is in ``policy``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

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
from app.db import utcnow
from app.i18n import Language, translate
from app.orgs.models import School

S = CaseStatus


# Custody: what may follow each step (who records which step: ``policy.CUSTODY_RECORDED``).
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


@dataclass(frozen=True)
class Rule:
    """A reason the protocol refuses or still needs something."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

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
        return cls.load_many(session, [case])[case.id]

    @classmethod
    def load_many(cls, session: Session, cases: Sequence[Case]) -> dict[uuid.UUID, CaseFile]:
        """The files of several cases in the queries of one (six, none for no case):
        a page of the case list says what each case waits for."""
        if not cases:
            return {}
        ids = [case.id for case in cases]
        people_of: dict[uuid.UUID, list[Participant]] = {i: [] for i in ids}
        for person in session.exec(select(Participant).where(col(Participant.case_id).in_(ids))).all():
            people_of[person.case_id].append(person)
        every_label = {p.id: p.label for people in people_of.values() for p in people}
        flags_of: dict[uuid.UUID, list[ParticipantFlag]] = {}
        if every_label:
            rows = session.exec(
                select(ParticipantFlag).where(col(ParticipantFlag.participant_id).in_(list(every_label)))
            ).all()
            for row in rows:
                flags_of.setdefault(row.participant_id, []).append(row)
        grids_of: dict[uuid.UUID, list[GridSubmission]] = {i: [] for i in ids}
        for grid in session.exec(select(GridSubmission).where(col(GridSubmission.case_id).in_(ids))).all():
            grids_of[grid.case_id].append(grid)
        contacts_of: dict[uuid.UUID, list[Contact]] = {i: [] for i in ids}
        for contact in session.exec(select(Contact).where(col(Contact.case_id).in_(ids))).all():
            contacts_of[contact.case_id].append(contact)
        devices_of: dict[uuid.UUID, list[Device]] = {i: [] for i in ids}
        devices = session.exec(
            select(Device).where(col(Device.case_id).in_(ids)).order_by(col(Device.created_at))
        ).all()
        for device in devices:
            devices_of[device.case_id].append(device)
        custody = Custody.load(session, [d.id for d in devices])
        files = {}
        for case in cases:
            people = people_of[case.id]
            replaced = {p.supersedes_id for p in people if p.supersedes_id}
            label_of = {p.id: p.label for p in people}
            flags: dict[str, set[str]] = {}
            for person in people:
                for row in flags_of.get(person.id, []):
                    flags.setdefault(person.label, set()).add(row.kind)
            grids = grids_of[case.id]
            superseded = {g.supersedes_id for g in grids if g.supersedes_id}
            files[case.id] = cls(
                case=case,
                participants=sorted((p for p in people if p.id not in replaced), key=lambda p: int(p.label[1:])),
                label_of=label_of,
                participant_flags=flags,
                grids=[g for g in grids if g.id not in superseded],
                contacts=contacts_of[case.id],
                devices=[(d, custody.state(d.id)) for d in devices_of[case.id]],
            )
        return files

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
            if c.participant_id is not None
            and c.kind in (ContactKind.parent_notification, ContactKind.parent_notification_exemption)
        }
        return [p for p in self.participants if p.is_minor and p.label not in covered]

    def dpj_report_recorded(self) -> bool:
        return any(c.kind == ContactKind.dpj_report for c in self.contacts)

    def devices_in_school_custody(self) -> list[Device]:
        return [device for device, last in self.devices if last in SCHOOL_CUSTODY]

    def police_flags(self) -> list[Flag]:
        return [flag for flag in POLICE_FLAGS if getattr(self.case, flag.value)]


def _labels(items: Sequence[Participant] | Sequence[Device]) -> str:
    return ", ".join(item.label for item in items)


def _statuses(statuses: Collection[CaseStatus]) -> str:
    return ", ".join(status.value for status in CaseStatus if status in statuses)


# --- guards --------------------------------------------------------------------------
#
# A guard looks at the case file, and at what the request asks beyond the
# action (``Asked``), and names the rule the transition would break, or
# returns None.  The checklist calls the same guards with nothing asked.


@dataclass(frozen=True)
class Asked:
    """What a transition's body asks beyond its action: the options a guard weighs."""

    skip_reporter_grid: bool = False


NOTHING_ASKED = Asked()


def reporter_grid_skip_allowed(file: CaseFile, asked: Asked) -> Rule | None:
    """The reporter's grid is skipped only for a parent reporting a situation outside school."""
    if asked.skip_reporter_grid and not file.reporter_grid_skip_allowed():
        return Rule("reporter_grid_skip_not_allowed")
    return None


def reporter_grid_given(file: CaseFile, asked: Asked) -> Rule | None:
    """The grid with the reporter, or its skip, recorded or asked for (and allowed)."""
    skipping = asked.skip_reporter_grid and file.reporter_grid_skip_allowed()
    if not (file.reporter_grid_done() or file.case.reporter_grid_skipped or skipping):
        return Rule("reporter_grid_required")
    return None


def no_police_flag(file: CaseFile, _asked: Asked) -> Rule | None:
    """A case handled at school has no police flag."""
    if flags := file.police_flags():
        return Rule("police_flags_block_resolution", {"flags": ", ".join(flags)})
    return None


def handed_off_if_police_flag(file: CaseFile, _asked: Asked) -> Rule | None:
    """A police flag calls for the hand-off."""
    if (flags := file.police_flags()) and not file.case.was_handed_off:
        return Rule("hand_off_required", {"flags": ", ".join(flags)})
    return None


def parents_told(file: CaseFile, _asked: Asked) -> Rule | None:
    """Each minor's parents told, or exempted with a justification."""
    if missing := file.minors_without_parent_contact():
        return Rule("parents_not_notified", {"participants": _labels(missing)})
    return None


def dpj_reported(file: CaseFile, _asked: Asked) -> Rule | None:
    """Suspected child sexual abuse material is reported to the DPJ."""
    if file.case.csam_suspected and not file.dpj_report_recorded():
        return Rule("dpj_report_missing")
    return None


def devices_out_of_school_custody(file: CaseFile, _asked: Asked) -> Rule | None:
    """No device is left in school custody."""
    if devices := file.devices_in_school_custody():
        return Rule("device_in_school_custody", {"devices": _labels(devices)})
    return None


def never_handed_off(file: CaseFile, _asked: Asked) -> Rule | None:
    """A case police have had is never reopened by the school."""
    if file.case.was_handed_off:
        return Rule("reopen_after_hand_off")
    return None


Guard = Callable[[CaseFile, Asked], Rule | None]

# --- effects ---------------------------------------------------------------------------
#
# What taking a transition does to the case, beyond its status: each effect
# gets the session, the case (locked) and the request's body (the action's
# model in ``app.cases.schemas``, which is built on this table: typed ``Any``).


def hand_off_to_the_schools_force(session: Session, case: Case, body: Any) -> None:
    """The case goes to the force serving the school, with the officer contacted."""
    school = session.get(School, case.school_id)
    assert school is not None
    case.handed_off_at = utcnow()
    case.handed_off_force_id = school.police_force_id
    case.police_officer_contacted = body.police_officer


def record_reporter_grid_skip(_session: Session, case: Case, body: Any) -> None:
    """A skip of the reporter's grid asked for (and allowed) is recorded with its reason."""
    if body.skip_reporter_grid:
        case.reporter_grid_skipped = True
        case.reporter_grid_skip_reason = body.reason


def mark_closed(_session: Session, case: Case, _body: Any) -> None:
    case.closed_at = utcnow()


def clear_closed(_session: Session, case: Case, _body: Any) -> None:
    case.closed_at = None


Effect = Callable[[Session, Case, Any], None]


# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One action of the status machine.  ``guards`` run in order, and a
    refusal names their rules in that order; ``requires`` maps a body member
    to the rule its absence breaks (a 422); ``effects`` run when the action
    is taken, before the status changes; ``police_feed`` is the change the
    police feed notes, if any."""

    action: str
    sources: frozenset[CaseStatus]
    target: CaseStatus
    capability: Capability
    guards: tuple[Guard, ...] = ()
    requires: dict[str, str] = field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    police_feed: str | None = None

    def guard_failures(self, file: CaseFile, asked: Asked = NOTHING_ASKED) -> list[Rule]:
        """What the protocol says against taking the action now (status aside)."""
        return [rule for guard in self.guards if (rule := guard(file, asked)) is not None]


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("start_evaluation", frozenset({S.reported}), S.evaluating, Capability.transition),
        Transition(
            "start_gathering",
            frozenset({S.evaluating}),
            S.gathering,
            Capability.transition,
            guards=(reporter_grid_skip_allowed, reporter_grid_given),
            effects=(record_reporter_grid_skip,),
        ),
        Transition(
            "hand_off",
            frozenset(OPEN_STATUSES),
            S.handed_off,
            Capability.transition,
            requires={"police_officer": "officer_required"},
            effects=(hand_off_to_the_schools_force,),
            police_feed="handed_off",
        ),
        Transition("resolve", frozenset({S.gathering}), S.resolved, Capability.transition, guards=(no_police_flag,)),
        Transition(
            "close",
            frozenset({S.handed_off, S.resolved}),
            S.closed,
            Capability.close_or_reopen,
            guards=(handed_off_if_police_flag, parents_told, dpj_reported, devices_out_of_school_custody),
            effects=(mark_closed,),
            police_feed="closed",
        ),
        Transition(
            "reopen",
            frozenset({S.closed, S.resolved}),
            S.gathering,
            Capability.close_or_reopen,
            guards=(never_handed_off,),
            requires={"reason": "reason_required"},
            effects=(clear_closed,),
        ),
    )
}


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
    file: CaseFile, transition: Transition, role_rule: str | None, asked: Asked = NOTHING_ASKED
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
    return rules + transition.guard_failures(file, asked)


# --- what a case still takes -------------------------------------------------------------

# Which intake fields each status still lets school staff change.
EDITABLE_FIELDS: dict[CaseStatus, frozenset[str]] = {
    CaseStatus.reported: frozenset({"reporter_type", "channel", "place", "summary"}),
    CaseStatus.evaluating: frozenset({"reporter_type", "channel", "place", "summary"}),
    CaseStatus.gathering: frozenset({"summary"}),
}


def intake_change_refusal(case: Case, fields: set[str]) -> Rule | None:
    """Why the intake fields named may not change now: after the hand-off the
    school stops investigating, and each status locks some fields."""
    if case.was_handed_off:
        return Rule("investigation_handed_off")
    if locked := sorted(fields - EDITABLE_FIELDS.get(CaseStatus(case.status), frozenset())):
        return Rule("field_locked", {"status": case.status, "fields": ", ".join(locked)})
    return None


def findings_refusal(case: Case) -> Rule | None:
    """Why the case takes no new findings (people, flags on them, grids):
    after the hand-off the school stops investigating; a case not open takes none."""
    if case.was_handed_off:
        return Rule("investigation_handed_off")
    if CaseStatus(case.status) not in OPEN_STATUSES:
        return Rule("case_not_open", {"status": case.status})
    return None


def closed_refusal(case: Case) -> Rule | None:
    """Why the case takes no new device or contact: it is closed (a resolved
    or handed-off case still takes them)."""
    if case.status == CaseStatus.closed:
        return Rule("case_not_open", {"status": case.status})
    return None


# --- the checklist ------------------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    code: str
    done: bool
    params: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    # The case flag the step follows from alone: it says the flag, so a role
    # not shown the flag is not shown the step (``policy.CASE_FLAGS_HIDDEN``).
    flag: Flag | None = None


# The checklist steps that say a guard's rule, with that guard: a step is done
# exactly when its guard passes (for the steps of one person or one device,
# when every such step is done).
STEP_GUARDS: dict[str, Guard] = {
    "step_reporter_grid": reporter_grid_given,
    "step_hand_off": handed_off_if_police_flag,
    "step_dpj_report": dpj_reported,
    "step_parents": parents_told,
    "step_device_to_police": devices_out_of_school_custody,
}


def _passes(guard: Guard, file: CaseFile) -> bool:
    return guard(file, NOTHING_ASKED) is None


def _people_steps(file: CaseFile) -> list[StepState]:
    """Each person's interview, or the police for a malicious or refusing person."""
    steps = []
    handed_off = file.case.was_handed_off
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
    return steps


def _flag_steps(file: CaseFile) -> list[StepState]:
    """What the case's flags call for."""
    case, steps = file.case, []
    hand_off = StepState("step_hand_off", _passes(handed_off_if_police_flag, file))
    if case.csam_suspected:
        steps.append(StepState("step_switch_off_confiscate", bool(file.devices)))
        steps.append(hand_off)
        steps.append(StepState("step_dpj_report", _passes(dpj_reported, file)))
        steps.append(StepState("step_takedown", any(c.kind == ContactKind.takedown_referral for c in file.contacts)))
    elif file.police_flags():
        steps.append(hand_off)
    if case.adult_involved:
        steps.append(StepState("step_adult_involved", case.was_handed_off, flag=Flag.adult_involved))
    if case.urgent_wellbeing_concern:
        steps.append(StepState("step_wellbeing", False, flag=Flag.urgent_wellbeing_concern))
    return steps


def checklist(file: CaseFile) -> list[StepState]:
    """The protocol as a checklist for this case (SPEC §2, GRID's flag actions).
    The steps per person and per device read the facts their guards read
    (``minors_without_parent_contact``, ``devices_in_school_custody``)."""
    steps = [StepState("step_reporter_grid", _passes(reporter_grid_given, file))]
    steps += _people_steps(file)
    steps += _flag_steps(file)
    uncovered = {p.label for p in file.minors_without_parent_contact()}
    steps += [
        StepState("step_parents", participant.label not in uncovered, subject=participant.label)
        for participant in file.participants
        if participant.is_minor
    ]
    steps += [
        StepState("step_device_to_police", False, subject=device.label) for device in file.devices_in_school_custody()
    ]
    return steps
