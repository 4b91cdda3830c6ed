"""Who may see a case, and who may do what with it: tables.

Visibility is one SQL clause, used by every read of cases, so that a new
route cannot forget it.  A case outside the caller's visibility does not
exist for the caller (404, never 403).  A visible case whose action the
caller's role may not take is a 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, exists, false, select
from sqlmodel import col

from app.accounts.models import Role
from app.auth.principal import Principal
from app.cases.models import Case, CaseTeamMember, ContactKind, CustodyEventKind, Flag

if TYPE_CHECKING:
    from app.grid.templates import GridTemplate


class Capability(StrEnum):
    open_case = "open_case"
    edit_intake = "edit_intake"
    manage_team = "manage_team"
    add_participant = "add_participant"
    flag_participant = "flag_participant"
    submit_grid = "submit_grid"
    transition = "transition"
    close_or_reopen = "close_or_reopen"
    confiscate_device = "confiscate_device"
    custody_school = "custody_school"  # stored, transferred to police
    custody_police = "custody_police"  # transferred, returned to owner, retained as evidence
    record_contact = "record_contact"  # which kinds: CONTACTS_RECORDED
    add_note = "add_note"
    acknowledge = "acknowledge"
    record_police_outcome = "record_police_outcome"
    read_case = "read_case"
    read_participants = "read_participants"
    read_grids = "read_grids"
    read_devices = "read_devices"
    read_contacts = "read_contacts"
    read_notes = "read_notes"
    read_team = "read_team"
    read_access_log = "read_access_log"
    export_participant = "export_participant"
    legal_hold = "legal_hold"  # place, lift (the role that placed it) and read holds


C = Capability
_SCHOOL_READS = {
    C.read_case,
    C.read_participants,
    C.read_grids,
    C.read_devices,
    C.read_contacts,
    C.read_notes,
    C.read_team,
}
_SCHOOL_HANDLING = {
    C.open_case,
    C.edit_intake,
    C.add_participant,
    C.flag_participant,
    C.submit_grid,
    C.transition,
    C.confiscate_device,
    C.custody_school,
    C.record_contact,
    C.add_note,
}

# What each role may do on a case it can see.
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.school_staff: frozenset(_SCHOOL_READS | _SCHOOL_HANDLING),
    Role.school_lead: frozenset(
        _SCHOOL_READS
        | _SCHOOL_HANDLING
        | {C.manage_team, C.close_or_reopen, C.read_access_log, C.export_participant, C.legal_hold}
    ),
    Role.police_liaison: frozenset(
        {
            C.read_case,
            C.read_participants,
            C.read_grids,
            C.read_devices,
            C.read_contacts,
            C.acknowledge,
            C.record_police_outcome,
            C.custody_police,
            C.legal_hold,
        }
    ),
    # What the report needs: the case, the people, the contacts; never the interviews.
    Role.dpj_reporter: frozenset({C.read_case, C.read_participants, C.read_contacts, C.record_contact}),
    Role.auditor: frozenset({C.read_access_log}),
    Role.privacy_officer: frozenset(),
    Role.admin: frozenset(),
}

# Handling a case needs the Sexto "architect" attestation (SPEC §3: a school
# staff's training; other roles hold none and need none).
SCHOOL_ROLES = frozenset({Role.school_staff, Role.school_lead})
ARCHITECT_REQUIRED = frozenset(_SCHOOL_HANDLING | {C.manage_team, C.close_or_reopen})

# Which contacts each role records (SPEC §3; the kit's steps 4 to 6 have the
# staff member call the police and the parents and make the DPJ report):
# school staff record every contact, and so does the lead (all of staff's);
# the DPJ reporter records its report; police record their own part
# (acknowledgement, custody, outcome), never the school's contacts.  A role
# absent records none.  Read with CAPABILITIES' ``record_contact``, which
# carries the attestation rule, but for the report to the DPJ: reporting is
# every school employee's duty (Youth Protection Act s. 39), not handling
# the case, so recording it needs no attestation (a board system records it).
CONTACTS_RECORDED: dict[Role, frozenset[ContactKind]] = {
    Role.school_staff: frozenset(ContactKind),
    Role.school_lead: frozenset(ContactKind),
    Role.dpj_reporter: frozenset({ContactKind.dpj_report}),
}
NO_ATTESTATION_CONTACTS = frozenset({ContactKind.dpj_report})

# Which custody steps each role records, and the capability it records them
# with (which carries the attestation rule): school users confiscate, store
# and transfer a device to police; only police record that it was returned
# or kept as evidence, and they record the transfer too (taking the device
# over).  A role absent records as school users do, with their capability,
# which it lacks.  The order the steps follow each other: ``protocol.CUSTODY_NEXT``.
SCHOOL_CUSTODY_STEPS = frozenset(
    {CustodyEventKind.confiscated, CustodyEventKind.stored, CustodyEventKind.transferred_to_police}
)
POLICE_CUSTODY_STEPS = frozenset(
    {CustodyEventKind.transferred_to_police, CustodyEventKind.returned_to_owner, CustodyEventKind.retained_as_evidence}
)
CUSTODY_RECORDED: dict[Role, tuple[Capability, frozenset[CustodyEventKind]]] = {
    Role.school_staff: (C.custody_school, SCHOOL_CUSTODY_STEPS),
    Role.school_lead: (C.custody_school, SCHOOL_CUSTODY_STEPS),
    Role.police_liaison: (C.custody_police, POLICE_CUSTODY_STEPS),
}


# Minimization (SPEC §3): each role's case-level answers carry only what it
# needs.  Read with CAPABILITIES (which resources a role reads at all); here,
# what is left out of those it reads.  A field left out is absent from the
# JSON, not null.
POLICE_FILE_NUMBER = "police_file_number"
POLICE_OUTCOME_FIELDS = frozenset(
    {
        "police_officer_contacted",
        "police_acknowledged_at",
        POLICE_FILE_NUMBER,
        "dcpp_decision",
        "dcpp_decided_on",
        "awareness_meeting_on",
        "police_closed_at",
    }
)
HIDDEN_FIELDS: dict[Role, dict[str, frozenset[str]]] = {
    # The force's file number is for the school's liaison with the force (the
    # lead), not for the staff handling the case: they act on the outcome.
    Role.school_staff: {"case": frozenset({POLICE_FILE_NUMBER})},
    # The board's student id is the school's business, not the hand-off's.
    Role.police_liaison: {"participant": frozenset({"student_id"})},
    # The report needs the child, the facts and the parents' contacts; not the
    # police's file, nor staff's words from the interviews (flag reasons).
    Role.dpj_reporter: {
        "case": POLICE_OUTCOME_FIELDS,
        "participant": frozenset({"student_id"}),
        "participant_flag": frozenset({"reason"}),
        # The police's people are the police's to name (as in the case's
        # police part): a police contact reads without its officer.
        "contact_details": frozenset({"officer_name"}),
    },
}

# The roles that read of a grid only what its template says police read
# (``x-police`` on each section, checked when the templates load): the facts
# of the incident, and of the well-being section only what is a police matter.
GRID_AS_POLICE = frozenset({Role.police_liaison})

# A flag shown to a role follows from what the role reads.  Police read a
# grid's flags only as far as its police-visible answers raise them
# (``seen_flags``); a case's sticky flag raised from answers police do not
# read is left out of the case's flags for them.  Every template's rules are
# checked against this table when the service starts (``unshown_flags``):
# a rule that would raise another flag from answers police do not read
# stops the start, so a new version cannot show police more than they read.
CASE_FLAGS_HIDDEN: dict[Role, frozenset[Flag]] = {
    Role.police_liaison: frozenset({Flag.urgent_wellbeing_concern}),
}

# The contacts each outside role reads (None: all).  Media inquiries are the
# school's; the DPJ reads the parents', the police's and its own.
CONTACT_KINDS_SEEN: dict[Role, frozenset[str] | None] = {
    Role.police_liaison: frozenset(
        {"parent_notification", "parent_notification_exemption", "police_contact", "dpj_report", "takedown_referral"}
    ),
    Role.dpj_reporter: frozenset(
        {"parent_notification", "parent_notification_exemption", "police_contact", "dpj_report"}
    ),
}


def hidden_fields(principal: Principal, resource: str) -> frozenset[str]:
    return HIDDEN_FIELDS.get(principal.role, {}).get(resource, frozenset())


def shown(data: dict, principal: Principal, resource: str) -> dict:
    """What the caller's role may read of a resource: the fields left out
    stay unset, and the routes leave unset fields out."""
    hidden = hidden_fields(principal, resource)
    return {key: value for key, value in data.items() if key not in hidden} if hidden else data


def flags_shown(principal: Principal, flags: list[Flag]) -> list[Flag]:
    """The case's flags the caller's role is shown (``CASE_FLAGS_HIDDEN``)."""
    hidden = CASE_FLAGS_HIDDEN.get(principal.role)
    return [flag for flag in flags if flag not in hidden] if hidden else flags


def seen_flags(principal: Principal, flags: list[str], answers: dict, template: GridTemplate | None) -> list[str]:
    """A grid submission's flags the caller is shown: for police, those its
    police-visible answers raise on their own."""
    if principal.role not in GRID_AS_POLICE:
        return flags
    return template.police_flags(flags, answers) if template is not None else []


def unshown_flags(templates: Iterable[GridTemplate]) -> list[str]:
    """The flags some template may raise, on a case, from answers police do
    not read, and that ``CASE_FLAGS_HIDDEN`` does not keep from police: each
    one would tell police an answer they may not read (empty: none)."""
    hidden = CASE_FLAGS_HIDDEN.get(Role.police_liaison, frozenset())
    return sorted({flag for template in templates for flag in template.flags_beyond_police} - hidden)


def seen_answers(principal: Principal, answers: dict, template: GridTemplate | None) -> dict:
    """The grid answers the caller may read, by the template the submission
    follows (none: police read nothing of it)."""
    if principal.role not in GRID_AS_POLICE:
        return answers
    return template.police_answers(answers) if template is not None else {}


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """Who sees which case, as one SQL clause:

    school_staff    a case of a school in scope, when on its team
    school_lead     every case of the schools in scope
    police_liaison  cases handed off to its police force
    dpj_reporter    cases of the schools in scope that need a DPJ report (csam_suspected)
    auditor         cases of the organizations it audits, for their access log only
    others          none
    """
    scope = principal.scope
    in_schools = col(Case.school_id).in_(scope.school_ids) if scope.school_ids else false()
    match principal.role:
        case Role.school_lead:
            return in_schools
        case Role.school_staff:
            on_team = exists(
                select(col(CaseTeamMember.id)).where(
                    col(CaseTeamMember.case_id) == Case.id, col(CaseTeamMember.user_id) == principal.id
                )
            )
            return in_schools & on_team
        case Role.police_liaison:
            if not scope.police_force_ids:
                return false()
            return col(Case.handed_off_force_id).in_(scope.police_force_ids)
        case Role.dpj_reporter:
            return in_schools & col(Case.csam_suspected)
        case Role.auditor:
            return in_schools
        case _:
            return false()


def denial(principal: Principal, capability: Capability) -> str | None:
    """Why the caller's role may not use ``capability`` (None: it may): its
    role never may (``forbidden``), or it may with the attestation it lacks."""
    if capability not in CAPABILITIES.get(principal.role, frozenset()):
        return "forbidden"
    if principal.role in SCHOOL_ROLES and capability in ARCHITECT_REQUIRED and not principal.is_architect:
        return "architect_required"
    return None


def contact_denial(principal: Principal, kind: ContactKind) -> str | None:
    """Why the caller may not record a contact of this kind (None: it may)."""
    if kind not in CONTACTS_RECORDED.get(principal.role, frozenset()):
        return "forbidden"
    if kind in NO_ATTESTATION_CONTACTS:
        return None
    return denial(principal, Capability.record_contact)


def custody_denial(principal: Principal, kind: CustodyEventKind) -> str | None:
    """Why the caller may not record this custody step (None: it may): a step
    only the other side records (``custody_police_only``,
    ``custody_school_only``), or the role's capability."""
    capability, steps = CUSTODY_RECORDED.get(principal.role, CUSTODY_RECORDED[Role.school_staff])
    if kind not in steps:
        return "custody_school_only" if kind in SCHOOL_CUSTODY_STEPS else "custody_police_only"
    return denial(principal, capability)


def can(principal: Principal, capability: Capability) -> bool:
    return denial(principal, capability) is None
