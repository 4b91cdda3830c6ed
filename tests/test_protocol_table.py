"""The protocol as one table: each transition's guards are named functions,
the checklist reads the same guards, every rule has its words, the
members a body requires are the row's, and who records which custody step
is a table of the policy."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import get_args

import pytest

from app.accounts.models import Role
from app.cases import policy, protocol
from app.cases.models import (
    Case,
    CaseStatus,
    Contact,
    ContactKind,
    CustodyEventKind,
    Device,
    GridSubmission,
    Participant,
    ParticipantFlagKind,
)
from app.cases.schemas import TransitionRequest
from app.i18n import MESSAGES
from app.schemas import PROTOCOL_REQUIREMENTS

USER = uuid.uuid4()
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def case_file(
    *,
    csam: bool = False,
    malicious: bool = False,
    handed_off: bool = False,
    reporter_interviewed: bool = False,
    skipped: bool = False,
    parents_told: bool = False,
    dpj_reported: bool = False,
    device: CustodyEventKind | None = None,
    malicious_person: bool = False,
) -> protocol.CaseFile:
    """A case file built in memory: the guards and the checklist read nothing else."""
    case = Case(
        school_id=uuid.uuid4(),
        year=2026,
        number=1,
        reference="SX-2026-00001",
        status=CaseStatus.handed_off.value if handed_off else CaseStatus.gathering.value,
        reporter_type="student",
        channel="phone",
        place="school",
        summary="",
        csam_suspected=csam,
        malicious_intent=malicious or malicious_person,
        reporter_grid_skipped=skipped,
        handed_off_at=NOW if handed_off else None,
    )
    reporter = Participant(case_id=case.id, label="P1", role="reporter", is_minor=False, name="", created_by=USER)
    minor = Participant(case_id=case.id, label="P2", role="depicted", is_minor=True, name="", created_by=USER)
    people = [reporter, minor]
    grids = []
    if reporter_interviewed:
        grids.append(
            GridSubmission(
                case_id=case.id, participant_id=reporter.id, template_version=1, answers={}, submitted_by=USER
            )
        )
    contacts = []
    if parents_told:
        contacts.append(
            Contact(
                case_id=case.id,
                kind=ContactKind.parent_notification.value,
                participant_id=minor.id,
                occurred_at=NOW,
                details={},
                recorded_by=USER,
            )
        )
    if dpj_reported:
        contacts.append(
            Contact(case_id=case.id, kind=ContactKind.dpj_report.value, occurred_at=NOW, details={}, recorded_by=USER)
        )
    devices = []
    if device is not None:
        phone = Device(
            case_id=case.id,
            label="D1",
            kind="phone",
            description="",
            owner_participant_id=minor.id,
            switched_off_confirmed=True,
            content_not_viewed=True,
            confiscated_by=USER,
        )
        devices.append((phone, device))
    flags = {"P2": {ParticipantFlagKind.malicious_intent.value}} if malicious_person else {}
    return protocol.CaseFile(
        case=case,
        participants=people,
        label_of={p.id: p.label for p in people},
        participant_flags=flags,
        grids=grids,
        contacts=contacts,
        devices=devices,
    )


FACTS = ("csam", "malicious", "handed_off", "reporter_interviewed", "skipped", "parents_told", "dpj_reported")
CASE_FILES = [
    case_file(**dict(zip(FACTS, values, strict=True)), device=device)
    for values in itertools.product((False, True), repeat=len(FACTS))
    for device in (None, CustodyEventKind.stored, CustodyEventKind.transferred_to_police)
]


@pytest.mark.parametrize("code", sorted(protocol.STEP_GUARDS))
def test_a_step_tied_to_a_guard_is_done_exactly_when_the_guard_passes(code):
    guard = protocol.STEP_GUARDS[code]
    for file in CASE_FILES:
        steps = [step for step in protocol.checklist(file) if step.code == code]
        if guard(file, protocol.NOTHING_ASKED) is None:
            assert all(step.done for step in steps), (code, file.case)
        else:
            assert steps, f"{code}: the guard fails, yet the checklist does not show the step"
            assert not all(step.done for step in steps), (code, file.case)


def test_every_guard_is_a_named_function_whose_rules_have_their_words():
    for transition in protocol.TRANSITIONS.values():
        for guard in transition.guards:
            assert guard.__name__ != "<lambda>" and guard.__doc__, (transition.action, guard)
    for file in CASE_FILES:
        for transition in protocol.TRANSITIONS.values():
            for asked in (protocol.NOTHING_ASKED, protocol.Asked(skip_reporter_grid=True)):
                for rule in transition.guard_failures(file, asked):
                    assert set(MESSAGES[rule.code]) >= {"fr", "en"}, rule.code
                    assert rule.detail("fr") and rule.detail("en")


def test_the_rows_guards_keep_their_order_in_a_refusal():
    file = case_file(csam=True, device=CustodyEventKind.stored)
    rules = [rule.code for rule in protocol.TRANSITIONS["close"].guard_failures(file)]
    assert rules == ["hand_off_required", "parents_not_notified", "dpj_report_missing", "device_in_school_custody"]
    rules = [
        rule.code
        for rule in protocol.TRANSITIONS["start_gathering"].guard_failures(
            file, protocol.Asked(skip_reporter_grid=True)
        )
    ]
    assert rules == ["reporter_grid_skip_not_allowed", "reporter_grid_required"]


def test_the_members_a_row_requires_are_required_by_its_body():
    members = get_args(get_args(TransitionRequest)[0])
    bodies = {get_args(member.model_fields["action"].annotation)[0]: member for member in members}
    for transition in protocol.TRANSITIONS.values():
        for member, rule in transition.requires.items():
            declared = bodies[transition.action].model_fields[member]
            assert declared.is_required(), (transition.action, member)
            assert declared.json_schema_extra == {"x-protocol-rule": rule}
            assert PROTOCOL_REQUIREMENTS[f"{transition.action}.{member}"] == rule
    assert len(PROTOCOL_REQUIREMENTS) == sum(len(t.requires) for t in protocol.TRANSITIONS.values())


class _Caller:
    def __init__(self, role: Role, architect: bool = True) -> None:
        self.role, self.is_architect = role, architect


@pytest.mark.parametrize("role", list(Role))
def test_who_records_which_custody_step(role):
    """Only police return a device or keep it as evidence; police never record the school's steps."""
    for kind in CustodyEventKind:
        code = policy.custody_denial(_Caller(role), kind)
        if role is Role.police_liaison:
            expected = "custody_school_only" if kind in protocol.SCHOOL_CUSTODY else None
        elif kind in (CustodyEventKind.returned_to_owner, CustodyEventKind.retained_as_evidence):
            expected = "custody_police_only"
        else:
            expected = None if role in (Role.school_staff, Role.school_lead) else "forbidden"
        assert code == expected, (role, kind)
    if role in policy.SCHOOL_ROLES:
        assert policy.custody_denial(_Caller(role, architect=False), CustodyEventKind.stored) == "architect_required"
