"""What a case's answers carry for the caller: the people, grids, devices,
team, notes and a person's export, each shaped for the caller's role.

The minimization tables are in ``policy`` (``HIDDEN_FIELDS``, ``GRID_AS_POLICE``,
``CONTACT_KINDS_SEEN``) and, for grids, in each template (``x-police``); they are applied here, so that every route that
answers with one of these resources leaves out the same fields.  The case
itself is read through ``service.case_out`` (the police feed uses it too).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import User
from app.accounts.service import staff_members
from app.auth.principal import Principal
from app.cases import protocol, service
from app.cases.custody import Custody
from app.cases.models import (
    Case,
    CaseTeamMember,
    Contact,
    Device,
    GridSubmission,
    Note,
    Participant,
    ParticipantFlag,
)
from app.cases.policy import CONTACT_KINDS_SEEN, flags_shown, hidden_fields, seen_answers, seen_flags, shown
from app.cases.schemas import (
    CaseListItem,
    CaseSummary,
    ContactOut,
    CustodyEventOut,
    DeviceOut,
    GridSubmissionOut,
    NoteOut,
    ParticipantExport,
    ParticipantFlagOut,
    ParticipantOut,
    Step,
    TeamMemberOut,
)
from app.crypto import DataCipher
from app.errors import NotFound
from app.grid.templates import GridTemplates
from app.i18n import Language, translate


def summary(case: Case, principal: Principal) -> CaseSummary:
    """A case in a list, with what the role may read of it (a field left out is unset)."""
    data = {**case.model_dump(), "flags": flags_shown(principal, case.active_flags())}
    return CaseSummary.model_validate(shown(data, principal, "case"))


def steps(file: protocol.CaseFile, principal: Principal, language: Language) -> list[Step]:
    """The case's checklist in the caller's language, without the steps that
    say a flag the caller's role is not shown."""
    flags = flags_shown(principal, file.case.active_flags())
    return [
        Step(
            code=s.code,
            done=s.done,
            subject=s.subject,
            detail=translate(s.code, language, subject=s.subject or "", **s.params),
        )
        for s in protocol.checklist(file)
        if s.flag is None or s.flag in flags
    ]


def list_item(file: protocol.CaseFile, principal: Principal, language: Language) -> CaseListItem:
    summary_ = summary(file.case, principal)
    return CaseListItem(
        **summary_.model_dump(exclude_unset=True),
        waiting=[step for step in steps(file, principal, language) if not step.done],
    )


def team_out(session: Session, rows: list[CaseTeamMember], request: Request) -> list[TeamMemberOut]:
    """The members with their names, roles and attestations as their accounts
    stand now; those accounts change without the case changing, so they are
    part of the answer's ETag."""
    users = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_([m.user_id for m in rows])))} if rows else {}
    )
    people = {p.id: p for p in staff_members(session, list(users.values()))}
    request.state.audit.etag_variant = ",".join(
        f"{u.id}:{u.updated_at.isoformat()}" for u in sorted(users.values(), key=lambda u: u.id)
    )
    return [
        TeamMemberOut(
            **people[m.user_id].model_dump(exclude={"id"}),
            user_id=m.user_id,
            added_by=m.added_by,
            created_at=m.created_at,
        )
        for m in rows
    ]


def participants_out(
    session: Session, rows: list[Participant], principal: Principal, cipher: DataCipher
) -> list[ParticipantOut]:
    if not rows:
        return []
    case_people = session.exec(select(Participant).where(Participant.case_id == rows[0].case_id)).all()
    replaced = {p.supersedes_id for p in case_people if p.supersedes_id}
    label_of = {p.id: p.label for p in case_people}
    flags = session.exec(select(ParticipantFlag).where(col(ParticipantFlag.participant_id).in_(list(label_of)))).all()
    by_label: dict[str, list[ParticipantFlagOut]] = {}
    for flag in flags:
        out = ParticipantFlagOut.model_validate(shown(flag.model_dump(), principal, "participant_flag"))
        by_label.setdefault(label_of[flag.participant_id], []).append(out)
    hidden = hidden_fields(principal, "participant")
    return [
        ParticipantOut.model_validate(
            shown(
                {
                    **p.model_dump(),
                    "name": cipher.decrypt(p.name, f"participant:{p.id}:name"),
                    "student_id": None
                    if "student_id" in hidden
                    else cipher.decrypt(p.student_id, f"participant:{p.id}:student_id"),
                    "superseded": p.id in replaced,
                    "flags": by_label.get(p.label, []),
                },
                principal,
                "participant",
            )
        )
        for p in rows
    ]


def grids_out(
    session: Session, rows: list[GridSubmission], principal: Principal, templates: GridTemplates
) -> list[GridSubmissionOut]:
    """The submissions, each with the answers the caller reads of it (police:
    what its template's sections declare, ``x-police``)."""
    if not rows:
        return []
    replaced = set(
        session.exec(
            select(GridSubmission.supersedes_id).where(
                GridSubmission.case_id == rows[0].case_id, col(GridSubmission.supersedes_id).is_not(None)
            )
        ).all()
    )
    return [
        GridSubmissionOut.model_validate(
            {
                **g.model_dump(),
                "answers": seen_answers(principal, g.answers, templates.get(g.template_version)),
                "flags_raised": seen_flags(principal, g.flags_raised, g.answers, templates.get(g.template_version)),
                "superseded": g.id in replaced,
            }
        )
        for g in rows
    ]


def devices_out(session: Session, devices: list[Device]) -> list[DeviceOut]:
    if not devices:
        return []
    custody = Custody.load(session, [d.id for d in devices])
    out = []
    for device in devices:
        state = custody.state(device.id)
        out.append(
            DeviceOut.model_validate(
                {
                    **device.model_dump(),
                    "custody": state,
                    "in_school_custody": state in protocol.SCHOOL_CUSTODY,
                    "events": [CustodyEventOut.model_validate(e) for e in custody.history(device.id)],
                }
            )
        )
    return out


def contacts_out(rows: list[Contact], principal: Principal) -> list[ContactOut]:
    """The contacts as the caller's role reads them (``HIDDEN_FIELDS``'
    ``contact_details``: what is left out of their details)."""
    return [
        ContactOut.model_validate({**c.model_dump(), "details": shown(c.details, principal, "contact_details")})
        for c in rows
    ]


def contacts_seen(case: Case, principal: Principal) -> SelectOfScalar[Contact]:
    """The case's contacts the caller's role reads (a select of ``Contact``)."""
    statement = select(Contact).where(Contact.case_id == case.id)
    kinds = CONTACT_KINDS_SEEN.get(principal.role)
    if kinds is not None:
        statement = statement.where(col(Contact.kind).in_(sorted(kinds)))
    return statement


def note_out(note: Note, cipher: DataCipher) -> NoteOut:
    return NoteOut.model_validate({**note.model_dump(), "text": cipher.decrypt(note.text, service.note_context(note))})


def participant_export(
    session: Session,
    case: Case,
    participant_id: uuid.UUID,
    principal: Principal,
    cipher: DataCipher,
    templates: GridTemplates,
) -> ParticipantExport:
    """Everything held about one person of the case (their corrections
    included), as the caller reads it; 404 for a person not of this case."""
    people = session.exec(select(Participant).where(Participant.case_id == case.id)).all()
    target = next((p for p in people if p.id == participant_id), None)
    if target is None:
        raise NotFound()
    records = [p for p in people if p.label == target.label]  # the person and their corrections
    ids = [p.id for p in records]
    grids = session.exec(select(GridSubmission).where(col(GridSubmission.participant_id).in_(ids))).all()
    contacts = session.exec(select(Contact).where(col(Contact.participant_id).in_(ids))).all()
    devices = session.exec(select(Device).where(col(Device.owner_participant_id).in_(ids))).all()
    return ParticipantExport(
        case_reference=case.reference,
        records=participants_out(session, records, principal, cipher),
        grids=grids_out(session, list(grids), principal, templates),
        contacts=[ContactOut.model_validate(c) for c in contacts],
        devices=devices_out(session, list(devices)),
    )
