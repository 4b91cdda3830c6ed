"""Cases and what is attached to them.  Every function takes the caller and
goes through ``policy`` (who may see, who may do) and ``protocol`` (what the
Sexto method allows now).  Nothing here commits: the audited route does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from app.accounts.models import GrantApproval, Role, ScopeGrant, User
from app.audit.note import case_key, record_case_access
from app.auth.principal import Principal
from app.cases import protocol
from app.cases.custody import Custody
from app.cases.models import (
    Case,
    CaseCounter,
    CaseStatus,
    CaseStatusChange,
    CaseTeamMember,
    Contact,
    ContactKind,
    CustodyEvent,
    CustodyEventKind,
    Device,
    Flag,
    GridSubmission,
    Note,
    Participant,
    ParticipantFlag,
    ParticipantFlagKind,
    ParticipantRole,
)
from app.cases.policy import (
    Capability,
    contact_denial,
    custody_denial,
    denial,
    flags_shown,
    shown,
    visible_cases,
)
from app.cases.schemas import (
    CaseCreate,
    CaseOut,
    CaseUpdate,
    ContactCreate,
    CustodyEventCreate,
    DeviceCreate,
    GridSubmissionCreate,
    NoteCreate,
    ParticipantCreate,
    ParticipantFlagCreate,
    PoliceOutcomeUpdate,
    TransitionRequest,
)
from app.crypto import DataCipher
from app.db import next_number, table_of, utcnow
from app.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Problem, UnprocessableContent
from app.grid.rules import flags_raised
from app.grid.templates import GridTemplates
from app.i18n import Language
from app.orgs.models import School
from app.orgs.service import kit_may_be_used_at, local_today
from app.police.service import record_change
from app.privacy.models import LegalHold
from app.schemas import CLOCK_SKEW


def require(principal: Principal, capability: Capability) -> None:
    if code := denial(principal, capability):
        raise Forbidden(code, code=code)


def refuse(rule: protocol.Rule | None) -> None:
    """A rule of the protocol the request breaks is a 409 naming it."""
    if rule is not None:
        raise Conflict(rule.code, code=rule.code, **rule.params)


def visible_case(
    session: Session, principal: Principal, case_id: uuid.UUID, *, lock: bool = False, destroyed_refused: bool = True
) -> Case:
    """The case if the caller may know it exists; 404 otherwise, whatever the
    reason.  Every route reaches cases through here (or ``visible_device``),
    so here the request's audit entry is tied to the case and its
    organizations.  Writes lock the case (``lock``): a case whose information
    was destroyed takes none (a transition says so among its other rules:
    ``destroyed_refused=False``)."""
    _, case = _reach(
        session,
        principal,
        select(Case, School.board_id).where(Case.id == case_id),
        lock,
        destroyed_refused=destroyed_refused,
    )
    return case


def _reach(
    session: Session,
    principal: Principal,
    statement: Select[*tuple[Any, ...]],
    lock: bool,
    *,
    destroyed_refused: bool = True,
) -> tuple[tuple[Any, ...], Case]:
    """One query, whether what the path names exists or not, so that a case
    the caller may not see answers like one that does not exist, in the same
    time: the rows ``statement`` selects end with the case and its board."""
    statement = statement.join(School, col(School.id) == Case.school_id).where(visible_cases(principal))
    if lock:
        statement = statement.with_for_update(of=Case)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound()
    *found, case, board_id = row
    record_case_access(case, case.school_id, board_id, case.handed_off_force_id)
    if lock and destroyed_refused and case.destroyed_at is not None:  # every write locks the case first
        raise Conflict("case_destroyed", code="case_destroyed")
    return tuple(found), case


# The path ids that lead to a case through what belongs to it.  A request's
# audit entry names the case its path leads to even when the caller may not
# see it (``case_named``), so that the case's access log shows the attempt.
CASE_OF_PATH_ID: dict[str, type] = {
    "device_id": Device,
    "participant_id": Participant,
    "grid_id": GridSubmission,
    "contact_id": Contact,
    "note_id": Note,
    "hold_id": LegalHold,
}


def case_named(session: Session, path_ids: dict[str, str]) -> str | None:
    """The case a request's path leads to, for its audit entry, whoever asks:
    its ``case_id`` (canonical, whether or not such a case exists), else the
    case of the device, person, grid, contact, note or hold it names (one
    query, found or not); None when it names none."""
    if "case_id" in path_ids:
        return case_key(path_ids["case_id"])
    for name, model in CASE_OF_PATH_ID.items():
        if name in path_ids:
            try:
                key = uuid.UUID(path_ids[name])
            except ValueError:
                return None
            table = table_of(model)
            found = session.execute(select(table.c.case_id).where(table.c.id == key)).scalar()
            return case_key(found) if found is not None else None
    return None


def touch(case: Case) -> None:
    """Every change to a case or to what is attached moves its version."""
    case.version += 1
    case.updated_at = utcnow()


def refuse_future(times: Mapping[str, date | None], timezone: str | None = None) -> None:
    """Every recorded event has happened.  A time later than the server's
    clock plus ``CLOCK_SKEW``, or a date later than the local date then (in
    the schools' timezone), is refused: one 422 ``time_in_future`` naming
    each such field (``times``: by field, ``None`` for a field not sent)."""
    latest, minutes = utcnow() + CLOCK_SKEW, int(CLOCK_SKEW.total_seconds()) // 60
    late = []
    for name, value in times.items():
        if isinstance(value, datetime):
            if value > latest:
                late.append((name, f"later than the server's clock plus {minutes} minutes"))
        elif value is not None:
            assert timezone is not None, "a date is compared with the local date"
            if value > local_today(timezone, latest):
                late.append((name, "later than today's local date"))
    if late:
        raise UnprocessableContent(
            "time_in_future",
            code="time_in_future",
            fields=", ".join(name for name, _ in late),
            minutes=minutes,
            extra={
                "errors": [{"field": f"body.{name}", "code": "time_in_future", "detail": why} for name, why in late]
            },
        )


def school_of(session: Session, case: Case) -> School:
    school = session.get(School, case.school_id)
    assert school is not None
    return school


# --- cases --------------------------------------------------------------------


def summary_context(case: Case) -> str:
    return f"case:{case.id}:summary"


def note_context(note: Note) -> str:
    return f"note:{note.id}:text"


def case_view(case: Case, principal: Principal, cipher: DataCipher) -> dict:
    """The case's fields as read: the summary decrypted, the flags the
    caller's role is shown listed."""
    return {
        **case.model_dump(),
        "summary": cipher.decrypt(case.summary, summary_context(case)),
        "flags": flags_shown(principal, case.active_flags()),
    }


def case_out(case: Case, principal: Principal, cipher: DataCipher) -> CaseOut:
    """The case as the caller's role may read it: every answer that carries a
    case (the case routes, the police feed) is built here."""
    return CaseOut.model_validate(shown(case_view(case, principal, cipher), principal, "case"))


def open_case(session: Session, principal: Principal, body: CaseCreate, timezone: str, cipher: DataCipher) -> Case:
    require(principal, Capability.open_case)
    if body.school_id not in principal.scope.school_ids:
        raise Forbidden("school_out_of_scope", code="school_out_of_scope")
    school = session.get(School, body.school_id)
    if school is None:
        raise NotFound()
    today = local_today(timezone)
    if not kit_may_be_used_at(session, school, today):
        raise Conflict("kit_not_permitted", code="kit_not_permitted")
    number = next_number(session, CaseCounter, school_id=school.id, year=today.year)
    case = Case(
        school_id=school.id,
        year=today.year,
        number=number,
        reference=f"SX-{today.year}-{number:05d}",
        reporter_type=body.reporter_type.value,
        channel=body.channel.value,
        place=body.place.value,
        summary="",
        opened_by=principal.id,
    )
    # Free text written by staff may name people despite the guidance: encrypted like names.
    case.summary = cipher.encrypt(body.summary, summary_context(case))
    session.add(case)
    session.flush()  # the case row before its team
    record_case_access(case, school.id, school.board_id)
    session.add(CaseTeamMember(case_id=case.id, user_id=principal.id, added_by=principal.id))
    session.flush()
    return case


def list_cases(
    principal: Principal, *, status: CaseStatus | None, school_id: uuid.UUID | None, updated_since: datetime | None
) -> SelectOfScalar[Case]:
    require(principal, Capability.read_case)
    statement = select(Case).where(visible_cases(principal))
    if status:
        statement = statement.where(Case.status == status.value)
    if school_id:
        statement = statement.where(Case.school_id == school_id)
    if updated_since:
        statement = statement.where(Case.updated_at >= updated_since)
    return statement


def check_version(case: Case, expected: int | None) -> None:
    """``If-Match``: the caller's copy must be the current one."""
    if expected is not None and expected != case.version:
        raise PreconditionFailed()


def update_case(
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    body: CaseUpdate,
    cipher: DataCipher,
    expected: int | None = None,
) -> Case:
    case = visible_case(session, principal, case_id, lock=True)
    check_version(case, expected)
    require(principal, Capability.edit_intake)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    refuse(protocol.intake_change_refusal(case, set(changes)))
    if "summary" in changes:
        changes["summary"] = cipher.encrypt(changes["summary"], summary_context(case))
    for name, value in changes.items():
        setattr(case, name, value.value if hasattr(value, "value") else value)
    touch(case)
    session.flush()
    return case


# --- transitions -----------------------------------------------------------------


class TransitionRefused(Problem):
    """A refused transition: every rule that blocks it in ``rules``, in the
    order ``GET /transitions`` gives them, the first as ``code``, and each
    rule's words (what to do instead) in ``detail``.  A 403 when the first
    is the caller's role, a 409 otherwise."""

    def __init__(self, blockers: list[protocol.Rule]) -> None:
        first = blockers[0].code
        self.status = 403 if first in ("forbidden", "architect_required") else 409
        super().__init__(first, code=first, extra={"rules": [rule.code for rule in blockers]})
        self.blockers = blockers

    def detail(self, language: Language) -> str:
        return " ".join(rule.detail(language) for rule in self.blockers)


def transition_blockers(
    file: protocol.CaseFile,
    principal: Principal,
    transition: protocol.Transition,
    asked: protocol.Asked = protocol.NOTHING_ASKED,
) -> list[protocol.Rule]:
    """What blocks ``transition`` for this caller now (empty: allowed): the
    one evaluation behind ``GET /transitions`` and a refused ``POST``."""
    return protocol.transition_blockers(file, transition, denial(principal, transition.capability), asked)


def transition_options(
    session: Session, principal: Principal, case: Case
) -> list[tuple[protocol.Transition, list[protocol.Rule]]]:
    """Every action, with what blocks it for this caller now (empty: allowed)."""
    file = protocol.CaseFile.load(session, case)
    return [
        (transition, transition_blockers(file, principal, transition)) for transition in protocol.TRANSITIONS.values()
    ]


def apply_transition(
    session: Session, principal: Principal, case_id: uuid.UUID, body: TransitionRequest, expected: int | None = None
) -> Case:
    case = visible_case(session, principal, case_id, lock=True, destroyed_refused=False)
    check_version(case, expected)
    transition = protocol.TRANSITIONS[body.action]
    asked = protocol.Asked(skip_reporter_grid=getattr(body, "skip_reporter_grid", False))
    file = protocol.CaseFile.load(session, case)
    if blockers := transition_blockers(file, principal, transition, asked):
        raise TransitionRefused(blockers)
    for effect in transition.effects:
        effect(session, case, body)
    session.add(
        CaseStatusChange(
            case_id=case.id,
            action=body.action,
            from_status=case.status,
            to_status=transition.target.value,
            reason=getattr(body, "reason", None),
            by_user_id=principal.id,
        )
    )
    case.status = transition.target.value
    touch(case)
    if transition.police_feed is not None:
        record_change(session, case, transition.police_feed)
    session.flush()
    return case


def acknowledge(session: Session, principal: Principal, case_id: uuid.UUID, file_number: str | None) -> Case:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.acknowledge)
    if case.police_acknowledged_at is not None:
        raise Conflict("already_acknowledged", code="already_acknowledged")
    case.police_acknowledged_at = utcnow()
    case.police_file_number = file_number
    touch(case)
    record_change(session, case, "acknowledged")
    session.flush()
    return case


def record_police_outcome(
    session: Session, principal: Principal, case_id: uuid.UUID, body: PoliceOutcomeUpdate, timezone: str
) -> Case:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.record_police_outcome)
    if case.police_closed_at is not None:
        raise Conflict("police_part_closed", code="police_part_closed")
    refuse_future(
        {"dcpp_decided_on": body.dcpp_decided_on, "awareness_meeting_on": body.awareness_meeting_on}, timezone
    )
    for name in ("police_file_number", "dcpp_decision", "dcpp_decided_on", "awareness_meeting_on"):
        value = getattr(body, name)
        if value is not None:
            setattr(case, name, value)
    if body.close_police_part:
        case.police_closed_at = utcnow()
    touch(case)
    record_change(session, case, "police_outcome")
    session.flush()
    return case


# --- team ----------------------------------------------------------------------


def add_team_member(session: Session, principal: Principal, case_id: uuid.UUID, user_id: uuid.UUID) -> CaseTeamMember:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.manage_team)
    user = session.get(User, user_id)
    in_school = (
        user is not None
        and session.exec(
            select(func.count())
            .select_from(ScopeGrant)
            .join(School, (col(ScopeGrant.school_id) == School.id) | (col(ScopeGrant.board_id) == School.board_id))
            .where(
                ScopeGrant.user_id == user_id,
                School.id == case.school_id,
                ScopeGrant.approval == GrantApproval.approved.value,  # in force (app.accounts.duties)
            )
        ).one()
    )
    if (
        user is None
        or not in_school
        or user.role not in (Role.school_staff.value, Role.school_lead.value)
        or not user.is_active
    ):
        raise UnprocessableContent("team_member_invalid", code="team_member_invalid")
    existing = session.exec(
        select(CaseTeamMember).where(CaseTeamMember.case_id == case.id, CaseTeamMember.user_id == user_id)
    ).first()
    if existing:
        return existing
    member = CaseTeamMember(case_id=case.id, user_id=user_id, added_by=principal.id)
    session.add(member)
    touch(case)
    session.flush()
    return member


def remove_team_member(session: Session, principal: Principal, case_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """A school lead takes a member off the case team: from the next request
    the member no longer reads the case (a school staff member reads only the
    cases of their teams).  What they did on it stays, under their name.
    Whether they were on it: taking off someone who is not is no error (a
    retried removal)."""
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.manage_team)
    member = session.exec(
        select(CaseTeamMember).where(CaseTeamMember.case_id == case.id, CaseTeamMember.user_id == user_id)
    ).first()
    if member is None:
        return False
    session.delete(member)
    touch(case)
    session.flush()
    return True


# --- participants ------------------------------------------------------------------


def current_participant(file: protocol.CaseFile, participant_id: uuid.UUID) -> Participant:
    for participant in file.participants:
        if participant.id == participant_id:
            return participant
    raise UnprocessableContent("unknown_participant", code="unknown_participant")


def add_participant(
    session: Session, principal: Principal, case_id: uuid.UUID, body: ParticipantCreate, cipher: DataCipher
) -> Participant:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.add_participant)
    refuse(protocol.findings_refusal(case))
    file = protocol.CaseFile.load(session, case)
    if body.supersedes is not None:
        corrected = {p.id: p for p in file.participants}.get(body.supersedes)
        if corrected is None:
            raise Conflict("participant_superseded", code="participant_superseded")
        label = corrected.label
    else:
        label = f"P{len(set(file.label_of.values())) + 1}"
    participant = Participant(
        case_id=case.id,
        label=label,
        role=body.role.value,
        is_minor=body.is_minor,
        grade=body.grade,
        name="",
        supersedes_id=body.supersedes,
        created_by=principal.id,
    )
    # Names and student ids are encrypted, bound to this row.
    participant.name = cipher.encrypt(body.name, f"participant:{participant.id}:name")
    participant.student_id = cipher.encrypt(body.student_id, f"participant:{participant.id}:student_id")
    session.add(participant)
    # GRID.md: an involved adult flags the case (a reporting parent or a witness does not).
    if not body.is_minor and body.role in (
        ParticipantRole.depicted,
        ParticipantRole.author,
        ParticipantRole.distributor,
        ParticipantRole.recipient,
    ):
        case.adult_involved = True
    touch(case)
    session.flush()
    return participant


def flag_participant(
    session: Session, principal: Principal, case_id: uuid.UUID, participant_id: uuid.UUID, body: ParticipantFlagCreate
) -> ParticipantFlag:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.flag_participant)
    refuse(protocol.findings_refusal(case))
    file = protocol.CaseFile.load(session, case)
    participant = current_participant(file, participant_id)
    if file.flagged(participant, body.kind):
        raise Conflict("participant_already_flagged", code="participant_already_flagged")
    flag = ParticipantFlag(
        participant_id=participant.id, kind=body.kind.value, reason=body.reason, created_by=principal.id
    )
    session.add(flag)
    if body.kind is ParticipantFlagKind.malicious_intent:
        case.malicious_intent = True
    else:
        case.refusal_to_participate = True
    touch(case)
    session.flush()
    return flag


# --- grids -------------------------------------------------------------------------


def submit_grid(
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    body: GridSubmissionCreate,
    templates: GridTemplates,
    timezone: str,
) -> GridSubmission:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.submit_grid)
    refuse(protocol.findings_refusal(case))
    file = protocol.CaseFile.load(session, case)
    participant = current_participant(file, body.participant_id)
    if file.flagged(participant, ParticipantFlagKind.malicious_intent):
        raise Conflict(
            "participant_flagged_malicious", code="participant_flagged_malicious", participant=participant.label
        )
    if file.flagged(participant, ParticipantFlagKind.refused):
        raise Conflict("participant_refused", code="participant_refused", participant=participant.label)
    template = templates.get(body.template_version)
    if template is None:
        raise UnprocessableContent("unknown_grid_version", code="unknown_grid_version", version=body.template_version)
    if errors := template.errors(body.answers):
        raise UnprocessableContent(
            "grid_invalid", code="grid_invalid", version=body.template_version, extra={"errors": errors}
        )
    refuse_future(template.event_times(body.answers), timezone)
    if body.supersedes is not None:
        current = {g.id: g for g in file.grids}
        earlier = current.get(body.supersedes)
        if earlier is None or file.label_of.get(earlier.participant_id) != participant.label:
            raise Conflict("grid_supersedes_invalid", code="grid_supersedes_invalid")
    raised = flags_raised(template.rules, body.answers)
    submission = GridSubmission(
        case_id=case.id,
        participant_id=participant.id,
        template_version=template.version,
        answers=body.answers,
        flags_raised=raised,
        supersedes_id=body.supersedes,
        submitted_by=principal.id,
    )
    session.add(submission)
    for flag in raised:  # sticky: a later submission never clears a flag
        setattr(case, Flag(flag).value, True)
    touch(case)
    session.flush()
    return submission


# --- devices and custody -------------------------------------------------------------


def confiscate_device(session: Session, principal: Principal, case_id: uuid.UUID, body: DeviceCreate) -> Device:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.confiscate_device)
    refuse(protocol.closed_refusal(case))
    owner = current_participant(protocol.CaseFile.load(session, case), body.owner_participant_id)
    count = session.exec(select(func.count()).select_from(Device).where(Device.case_id == case.id)).one()
    device = Device(
        case_id=case.id,
        label=f"D{count + 1}",
        kind=body.kind.value,
        description=body.description,
        owner_participant_id=owner.id,
        switched_off_confirmed=True,
        content_not_viewed=True,
        seal_number=body.seal_number,
        storage_location=body.storage_location,
        confiscated_by=principal.id,
    )
    session.add(device)
    session.flush()  # the device row before its first custody event
    session.add(
        CustodyEvent(
            device_id=device.id,
            sequence=1,
            kind=CustodyEventKind.confiscated.value,
            occurred_at=utcnow(),
            seal_number=body.seal_number,
            storage_location=body.storage_location,
            recorded_by=principal.id,
            recorded_by_role=principal.role.value,
        )
    )
    touch(case)
    record_change(session, case, "device")
    session.flush()
    return device


def visible_device(
    session: Session, principal: Principal, device_id: uuid.UUID, *, lock: bool = False
) -> tuple[Device, Case]:
    """The device and its case if the caller may see the case; 404 otherwise
    (a device of a hidden case reads as one that does not exist)."""
    statement = (
        select(Device, Case, School.board_id).join(Case, col(Case.id) == Device.case_id).where(Device.id == device_id)
    )
    (device,), case = _reach(session, principal, statement, lock)
    return device, case


def record_custody(
    session: Session, principal: Principal, device_id: uuid.UUID, body: CustodyEventCreate
) -> CustodyEvent:
    device, case = visible_device(session, principal, device_id, lock=True)
    kind = CustodyEventKind(body.kind)
    if code := custody_denial(principal, kind):
        raise Forbidden(code, code=code)
    custody = Custody.load(session, [device.id])
    events, last = custody.history(device.id), custody.state(device.id)
    allowed = protocol.CUSTODY_NEXT[last]
    if not allowed:
        raise Conflict("custody_final", code="custody_final", last=last.value)
    if kind not in allowed:
        raise Conflict(
            "custody_out_of_order", code="custody_out_of_order", last=last.value, allowed=", ".join(sorted(allowed))
        )
    if kind is CustodyEventKind.transferred_to_police and not (body.officer_name and body.badge_number):
        raise UnprocessableContent("officer_required", code="officer_required")
    if kind is CustodyEventKind.stored and not body.storage_location:
        raise UnprocessableContent("validation_failed")
    refuse_future({"occurred_at": body.occurred_at})
    occurred_at = body.occurred_at or utcnow()
    if occurred_at < events[-1].occurred_at:
        raise UnprocessableContent("custody_time_out_of_order", code="custody_time_out_of_order")
    event = CustodyEvent(
        device_id=device.id,
        sequence=len(events) + 1,
        kind=kind.value,
        occurred_at=occurred_at,
        seal_number=body.seal_number,
        storage_location=body.storage_location,
        officer_name=body.officer_name,
        badge_number=body.badge_number,
        note=body.note,
        recorded_by=principal.id,
        recorded_by_role=principal.role.value,
    )
    session.add(event)
    touch(case)
    record_change(session, case, "custody_event")
    session.flush()
    return event


# --- contacts and notes -------------------------------------------------------------


def record_contact(session: Session, principal: Principal, case_id: uuid.UUID, body: ContactCreate) -> Contact:
    case = visible_case(session, principal, case_id, lock=True)
    kind = ContactKind(body.kind)
    if code := contact_denial(principal, kind):
        raise Forbidden(code, code=code)
    refuse(protocol.closed_refusal(case))
    refuse_future({"occurred_at": body.occurred_at})
    participant_id = getattr(body, "participant_id", None)
    if participant_id is not None:
        participant = current_participant(protocol.CaseFile.load(session, case), participant_id)
        if (
            kind in (ContactKind.parent_notification, ContactKind.parent_notification_exemption)
            and not participant.is_minor
        ):
            raise UnprocessableContent("parent_contact_minor_only", code="parent_contact_minor_only")
    details = body.model_dump(mode="json", exclude={"kind", "participant_id", "occurred_at"})
    contact = Contact(
        case_id=case.id,
        kind=kind.value,
        participant_id=participant_id,
        occurred_at=body.occurred_at or utcnow(),
        details=details,
        recorded_by=principal.id,
    )
    session.add(contact)
    touch(case)
    record_change(session, case, "dpj_report" if kind is ContactKind.dpj_report else "contact")
    session.flush()
    return contact


def add_note(session: Session, principal: Principal, case_id: uuid.UUID, body: NoteCreate, cipher: DataCipher) -> Note:
    case = visible_case(session, principal, case_id, lock=True)
    require(principal, Capability.add_note)
    note = Note(case_id=case.id, text="", author_id=principal.id)
    note.text = cipher.encrypt(body.text, note_context(note))
    session.add(note)
    touch(case)
    session.flush()
    return note
