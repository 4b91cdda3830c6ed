"""Case routes (SPEC §6).  Thin: parse, ask the service, shape the answer for
the caller's language.  Visibility and permissions live in ``policy``, the
protocol's rules in ``protocol``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlmodel import Session, select

from app.audit import reading
from app.audit.recorder import AuditedRoute
from app.audit.router import event_out
from app.audit.schemas import AuditEvent
from app.auth.principal import CurrentPrincipal, Principal
from app.cases import protocol, service, views
from app.cases.dependencies import CaseFor, CasePageFor, CaseReach, DevicePageFor
from app.cases.models import (
    Case,
    CaseStatus,
    CaseTeamMember,
    Contact,
    CustodyEvent,
    Device,
    GridSubmission,
    Note,
    Participant,
)
from app.cases.policy import Capability, flags_shown
from app.cases.schemas import (
    ACKNOWLEDGEMENT_EXAMPLES,
    CONTACT_EXAMPLES,
    TRANSITION_EXAMPLES,
    AcknowledgementCreate,
    Blocker,
    CaseCreate,
    CaseListItem,
    CaseOut,
    CaseUpdate,
    ContactCreate,
    ContactOut,
    CustodyEventCreate,
    CustodyEventOut,
    DeviceCreate,
    DeviceOut,
    GridSubmissionCreate,
    GridSubmissionOut,
    NextSteps,
    NoteCreate,
    NoteOut,
    ParticipantCreate,
    ParticipantExport,
    ParticipantFlagCreate,
    ParticipantOut,
    PoliceOutcomeUpdate,
    TeamMemberCreate,
    TeamMemberOut,
    TransitionOption,
    TransitionRequest,
    Transitions,
)
from app.db import get_session
from app.errors import PreconditionFailed, PreconditionRequired, problem_responses, request_language
from app.etags import etag_version
from app.idempotency.service import idempotency
from app.pagination import Page, PageDep, PageParams, int_cursor, paginate
from app.schemas import Instant

router = APIRouter(prefix="/api/v1", tags=["cases"], route_class=AuditedRoute, dependencies=[Depends(idempotency)])

SessionDep = Annotated[Session, Depends(get_session)]
READ = problem_responses(401, 403, 404, 422, 503)
WRITE = problem_responses(401, 403, 404, 409, 413, 415, 422, 503)


_case_out = service.case_out
ReadableCase = Annotated[Case, Depends(CaseFor(Capability.read_case))]


def _if_match(request: Request, principal: Principal, *, required: bool) -> int | None:
    """The case version the caller's ``If-Match`` names (None: no condition).
    Integrated systems (service accounts) must send it on transitions."""
    header = request.headers.get("if-match")
    if header is None:
        if required and principal.kind == "service_account":
            raise PreconditionRequired()
        return None
    if header.strip() == "*":
        return None
    case_id = request.path_params["case_id"]
    versions = {etag_version(tag, case_id) for tag in header.split(",")}
    if None in versions or len(versions) != 1:
        raise PreconditionFailed()
    return versions.pop()


def _location(response: Response, path: str) -> None:
    response.headers["Location"] = path


# --- cases ------------------------------------------------------------------------


@router.post(
    "/cases",
    status_code=201,
    summary="Open a case at a school",
    description=(
        "School staff and leads with the architect attestation (403 `architect_required`), at a "
        "school in their scope. The kit may be used only while a DCPP agreement of the police "
        "force serving the school is in force (409 `kit_not_permitted`). `Location` names the new "
        "case."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses=WRITE,
)
def open_case(
    body: CaseCreate, principal: CurrentPrincipal, session: SessionDep, request: Request, response: Response
) -> CaseOut:
    case = service.open_case(session, principal, body, request.state.settings.local_timezone, request.state.cipher)
    _location(response, f"/api/v1/cases/{case.id}")
    return _case_out(case, principal, request.state.cipher)


@router.get(
    "/cases",
    summary="List the cases the caller may see (no names)",
    description=(
        "Oldest first, a page at a time, as summaries without names. What each role sees: staff, "
        "the cases of their schools whose team they are on; leads, every case of their schools; "
        "police, the cases handed off to their force; DPJ reporters, the cases of their schools "
        "that need a DPJ report. Each summary says what the case waits for: the protocol's "
        "steps not yet done, as `GET /cases/{case_id}/next-steps` gives them."
    ),
    response_model=Page[CaseListItem],
    response_model_exclude_unset=True,  # a field the role may not read is absent, as in the case routes
    responses=READ,
)
def list_cases(
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    page: PageDep,
    status: Annotated[CaseStatus | None, Query()] = None,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    updated_since: Annotated[
        Instant | None, Query(description="Cases changed at or after this instant (with its offset, e.g. `Z`).")
    ] = None,
) -> Page[CaseListItem]:
    statement = service.list_cases(principal, status=status, school_id=school_id, updated_since=updated_since)
    rows, cursor = paginate(session, statement, Case, page)
    files = protocol.CaseFile.load_many(session, rows)
    language = request_language(request)
    return Page[CaseListItem](
        items=[views.list_item(files[case.id], principal, language) for case in rows], next_cursor=cursor
    )


@router.get(
    "/cases/{case_id}",
    summary="Read a case",
    description=(
        "A case outside the caller's visibility is a 404. Each role reads only the fields it "
        "needs: a field left out is absent, not null. The `ETag` answers `If-None-Match` (304) "
        "and `If-Match`."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses=READ,
)
def read_case(principal: CurrentPrincipal, request: Request, case: ReadableCase) -> CaseOut:
    return _case_out(case, principal, request.state.cipher)


@router.patch(
    "/cases/{case_id}",
    summary="Change the intake fields the case's status allows",
    description=(
        "School staff and leads with the architect attestation. A field the case's status does "
        "not let change is refused (409). Send the `ETag` you read as `If-Match` to be told (412) "
        "when the case changed since."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses={**WRITE, **problem_responses(412)},
)
def update_case(
    case_id: uuid.UUID, body: CaseUpdate, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> CaseOut:
    case = service.update_case(
        session, principal, case_id, body, request.state.cipher, _if_match(request, principal, required=False)
    )
    return _case_out(case, principal, request.state.cipher)


# --- transitions and next steps -------------------------------------------------------


def _options(session: Session, principal: Principal, case: Case, request: Request) -> list[TransitionOption]:
    language = request_language(request)
    return [
        TransitionOption(
            action=transition.action,
            to_status=transition.target,
            allowed=not blockers,
            blockers=[Blocker(code=rule.code, detail=rule.detail(language)) for rule in blockers],
        )
        for transition, blockers in service.transition_options(session, principal, case)
    ]


@router.get(
    "/cases/{case_id}/transitions",
    summary="The transitions the caller can take now, and what blocks the others",
    description=(
        "Every transition from the case's status, each allowed or with the rules that block it, "
        "in the caller's language: what a front end offers, without recomputing a rule."
    ),
    response_model=Transitions,
    responses=READ,
)
def list_transitions(
    principal: CurrentPrincipal, session: SessionDep, request: Request, case: ReadableCase
) -> Transitions:
    return Transitions(status=CaseStatus(case.status), transitions=_options(session, principal, case, request))


@router.post(
    "/cases/{case_id}/transitions",
    summary="Take a transition (a refusal names every rule that blocks it, as GET /transitions does)",
    description=(
        "A refusal names every rule that blocks the transition, as `GET` on the same path lists "
        "them: 403 when the first is the caller's role, 409 otherwise. Service accounts must send "
        "`If-Match` (428 without it); 412 when the case changed since."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses={**WRITE, **problem_responses(412, 428)},
)
def take_transition(
    case_id: uuid.UUID,
    body: Annotated[TransitionRequest, Body(openapi_examples=TRANSITION_EXAMPLES)],
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
) -> CaseOut:
    case = service.apply_transition(session, principal, case_id, body, _if_match(request, principal, required=True))
    return _case_out(case, principal, request.state.cipher)


@router.get(
    "/cases/{case_id}/next-steps",
    summary="The protocol as a checklist for this case",
    description=(
        "The protocol's steps for this case, each done or not, in the caller's language, with the "
        "transitions as `GET /transitions` gives them. Steps about a flag the caller's role is "
        "not shown are left out."
    ),
    response_model=NextSteps,
    responses=READ,
)
def next_steps(principal: CurrentPrincipal, session: SessionDep, request: Request, case: ReadableCase) -> NextSteps:
    file = protocol.CaseFile.load(session, case)
    return NextSteps(
        status=CaseStatus(case.status),
        flags=flags_shown(principal, case.active_flags()),
        steps=views.steps(file, principal, request_language(request)),
        transitions=_options(session, principal, case, request),
    )


@router.post(
    "/cases/{case_id}/acknowledgement",
    status_code=201,
    summary="Police: record that the force took the handed-off case",
    description=(
        "Police liaisons of the force the case was handed off to, once (409 "
        "`already_acknowledged`), optionally with the force's file number."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses=WRITE,
)
def acknowledge(
    case_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    body: Annotated[AcknowledgementCreate | None, Body(openapi_examples=ACKNOWLEDGEMENT_EXAMPLES)] = None,
) -> CaseOut:
    case = service.acknowledge(session, principal, case_id, body.police_file_number if body else None)
    return _case_out(case, principal, request.state.cipher)


@router.post(
    "/cases/{case_id}/police-outcome",
    summary="Police: record the DCPP decision, the awareness meeting, or close the police part",
    description=(
        "Police liaisons of the force the case was handed off to: the DCPP's decision, the "
        "awareness meeting, and closing the police part, after which nothing more is recorded "
        "(409 `police_part_closed`). The school reads the outcome, never the police file."
    ),
    response_model_exclude_unset=True,
    response_model=CaseOut,
    responses=WRITE,
)
def record_police_outcome(
    case_id: uuid.UUID, body: PoliceOutcomeUpdate, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> CaseOut:
    case = service.record_police_outcome(session, principal, case_id, body, request.state.settings.local_timezone)
    return _case_out(case, principal, request.state.cipher)


# --- team -------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/team",
    summary="The case team (names, roles, attestations)",
    description="Oldest first, a page at a time. School staff on the team and school leads.",
    response_model=Page[TeamMemberOut],
    responses=READ,
)
def list_team(
    session: SessionDep,
    request: Request,
    found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_team))],
) -> Page[TeamMemberOut]:
    case, page = found
    rows, cursor = paginate(
        session, select(CaseTeamMember).where(CaseTeamMember.case_id == case.id), CaseTeamMember, page
    )
    request.state.audit.returned([m.user_id for m in rows])
    return Page[TeamMemberOut](items=views.team_out(session, rows, request), next_cursor=cursor)


@router.post(
    "/cases/{case_id}/team",
    status_code=201,
    summary="School lead: add a staff member to the case team (find them at /staff)",
    description=(
        "School leads with the architect attestation, on a case of their schools. The member must "
        "be active school staff of the case's school (422 `team_member_invalid`); `GET "
        "/api/v1/staff` lists them."
    ),
    response_model=TeamMemberOut,
    responses=WRITE,
)
def add_team_member(
    case_id: uuid.UUID, body: TeamMemberCreate, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> TeamMemberOut:
    member = service.add_team_member(session, principal, case_id, body.user_id)
    request.state.audit.resource_type, request.state.audit.resource_id = "team", member.user_id
    return views.team_out(session, [member], request)[0]


@router.delete(
    "/cases/{case_id}/team/{user_id}",
    status_code=204,
    summary="School lead: take a staff member off the case team",
    description=(
        "School leads with the architect attestation, on a case of their schools. From the next request the "
        "member no longer reads the case; what they recorded stays. Taking off someone who is not on the team "
        "is a 204 too (a retried removal)."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def remove_team_member(
    case_id: uuid.UUID, user_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> Response:
    removed = service.remove_team_member(session, principal, case_id, user_id)
    audit = request.state.audit
    audit.resource_type, audit.resource_id = "team", user_id
    audit.reason = "removed" if removed else "not_a_member"
    return Response(status_code=204)


# --- participants ---------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/participants",
    summary="The people involved (corrections included, marked)",
    description=(
        "Oldest first, a page at a time: a corrected entry stays, marked as superseded. Each role "
        "reads only the fields it needs (police and DPJ reporters never read the board's student "
        "id)."
    ),
    response_model_exclude_unset=True,
    response_model=Page[ParticipantOut],
    responses=READ,
)
def list_participants(
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_participants))],
) -> Page[ParticipantOut]:
    case, page = found
    rows, cursor = paginate(session, select(Participant).where(Participant.case_id == case.id), Participant, page)
    return Page[ParticipantOut](
        items=views.participants_out(session, rows, principal, request.state.cipher), next_cursor=cursor
    )


@router.post(
    "/cases/{case_id}/participants",
    status_code=201,
    summary="Add a person involved (or correct one)",
    description=(
        "School staff and leads with the architect attestation. To correct a person, name the "
        "entry it supersedes: the old one stays, marked (409 `participant_superseded` when that entry "
        "is not the person's current one). `Location` names the new entry."
    ),
    response_model_exclude_unset=True,
    response_model=ParticipantOut,
    responses=WRITE,
)
def add_participant(
    case_id: uuid.UUID,
    body: ParticipantCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ParticipantOut:
    participant = service.add_participant(session, principal, case_id, body, request.state.cipher)
    _location(response, f"/api/v1/cases/{case_id}/participants/{participant.id}")
    return views.participants_out(session, [participant], principal, request.state.cipher)[0]


@router.post(
    "/cases/{case_id}/participants/{participant_id}/flags",
    status_code=201,
    summary="Flag a person: malicious intent suspected, or refusal to take part (with a reason)",
    description=(
        "School staff and leads with the architect attestation; a person is flagged once (409 "
        "`participant_already_flagged`). A refusal to take part blocks grids with that person and "
        "calls for the police."
    ),
    response_model_exclude_unset=True,
    response_model=ParticipantOut,
    responses=WRITE,
)
def flag_participant(
    case_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: ParticipantFlagCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
) -> ParticipantOut:
    flag = service.flag_participant(session, principal, case_id, participant_id, body)
    participant = session.get(Participant, flag.participant_id)
    assert participant is not None  # the person just flagged
    return views.participants_out(session, [participant], principal, request.state.cipher)[0]


class _PersonFor(CaseReach):
    """The case and the person the path names."""

    def __call__(
        self, case_id: uuid.UUID, participant_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
    ) -> tuple[Case, uuid.UUID]:
        return self.reach(session, principal, case_id), participant_id


@router.get(
    "/cases/{case_id}/participants/{participant_id}/export",
    summary="School lead: everything held about one person, for an access request",
    description=(
        "School leads, for a person's access request: the person's records on this case "
        "(corrections included), the interviews completed with them, and the contacts and devices "
        "that concern them."
    ),
    response_model_exclude_unset=True,
    response_model=ParticipantExport,
    responses=READ,
)
def export_participant(
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    found: Annotated[tuple[Case, uuid.UUID], Depends(_PersonFor(Capability.export_participant))],
) -> ParticipantExport:
    case, participant_id = found
    export = views.participant_export(
        session, case, participant_id, principal, request.state.cipher, request.state.grid_templates
    )
    request.state.audit.resource_type, request.state.audit.resource_id = "participants", participant_id
    return export


# --- grids -------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/grids",
    summary="Grid submissions (interviews)",
    description=(
        "Oldest first, a page at a time. School staff and leads read every answer; police read "
        "only the sections the template marks for police, and the flags those answers raise. DPJ "
        "reporters never read the interviews (403)."
    ),
    response_model_exclude_unset=True,
    response_model=Page[GridSubmissionOut],
    responses=READ,
)
def list_grids(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_grids))],
) -> Page[GridSubmissionOut]:
    case, page = found
    rows, cursor = paginate(
        session, select(GridSubmission).where(GridSubmission.case_id == case.id), GridSubmission, page
    )
    return Page[GridSubmissionOut](
        items=views.grids_out(session, rows, principal, request.state.grid_templates), next_cursor=cursor
    )


@router.post(
    "/cases/{case_id}/grids",
    status_code=201,
    summary="Submit the evaluation grid completed with one person (immutable; sets the case's flags)",
    description=(
        "School staff and leads with the architect attestation. The answers are checked against "
        "the template version named (422), the submission cannot change afterwards (a later one "
        "may supersede it) and its flags become the case's. A person who refused to take part has "
        "no grid (409 `participant_refused`)."
    ),
    response_model_exclude_unset=True,
    response_model=GridSubmissionOut,
    responses=WRITE,
)
def submit_grid(
    case_id: uuid.UUID,
    body: GridSubmissionCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    response: Response,
) -> GridSubmissionOut:
    submission = service.submit_grid(
        session, principal, case_id, body, request.state.grid_templates, request.state.settings.local_timezone
    )
    _location(response, f"/api/v1/cases/{case_id}/grids/{submission.id}")
    return views.grids_out(session, [submission], principal, request.state.grid_templates)[0]


# --- devices and custody ------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/devices",
    summary="Confiscated devices and their chain of custody",
    description=(
        "Oldest first, a page at a time, each with its latest custody step and whether the school "
        "still holds it. School staff and leads, and police on handed-off cases; DPJ reporters "
        "get 403."
    ),
    response_model=Page[DeviceOut],
    responses=READ,
)
def list_devices(
    session: SessionDep, found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_devices))]
) -> Page[DeviceOut]:
    case, page = found
    rows, cursor = paginate(session, select(Device).where(Device.case_id == case.id), Device, page)
    return Page[DeviceOut](items=views.devices_out(session, rows), next_cursor=cursor)


@router.post(
    "/cases/{case_id}/devices",
    status_code=201,
    summary="Record a device confiscated (switched off, content never viewed)",
    description=(
        "School staff and leads with the architect attestation. Record it switched off and its "
        "content never viewed: this service accepts no images. `Location` names the device; its "
        "custody starts as `confiscated`."
    ),
    response_model=DeviceOut,
    responses=WRITE,
)
def confiscate_device(
    case_id: uuid.UUID,
    body: DeviceCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
) -> DeviceOut:
    device = service.confiscate_device(session, principal, case_id, body)
    _location(response, f"/api/v1/devices/{device.id}")
    return views.devices_out(session, [device])[0]


@router.get(
    "/devices/{device_id}/custody-events",
    summary="A device's chain of custody",
    description="In the order they were recorded. A device of a case outside the caller's visibility is a 404.",
    response_model=Page[CustodyEventOut],
    responses=READ,
)
def list_custody_events(
    session: SessionDep,
    found: Annotated[tuple[Device, PageParams], Depends(DevicePageFor(Capability.read_devices))],
) -> Page[CustodyEventOut]:
    device, page = found
    rows, cursor = paginate(
        session, select(CustodyEvent).where(CustodyEvent.device_id == device.id), CustodyEvent, page
    )
    return Page[CustodyEventOut](items=rows, next_cursor=cursor)


@router.post(
    "/devices/{device_id}/custody-events",
    status_code=201,
    summary="Record the next custody step (stored, transferred to police; police: returned, retained)",
    description=(
        "Steps follow each other in order (409 otherwise; 409 `custody_final` after a return or "
        "retention). School users record storage and transfer to police; only police record the "
        "return to its owner or retention as evidence (403 `custody_police_only`), and they may "
        "record the transfer too. A transfer names the officer and badge number (422 "
        "`officer_required`)."
    ),
    response_model=CustodyEventOut,
    responses=WRITE,
)
def record_custody_event(
    device_id: uuid.UUID, body: CustodyEventCreate, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> CustodyEvent:
    event = service.record_custody(session, principal, device_id, body)
    request.state.audit.resource_type, request.state.audit.resource_id = "custody-events", event.id
    return event


# --- contacts and notes ---------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/contacts",
    summary="Parents, police, DPJ, media and take-down contacts",
    description=(
        "Oldest first, a page at a time. Police and DPJ reporters read only the kinds that "
        "concern them: the parents', the police's and the DPJ report (police also the take-down "
        "referrals); media inquiries are the school's."
    ),
    response_model_exclude_unset=True,
    response_model=Page[ContactOut],
    responses=READ,
)
def list_contacts(
    principal: CurrentPrincipal,
    session: SessionDep,
    found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_contacts))],
) -> Page[ContactOut]:
    case, page = found
    rows, cursor = paginate(session, views.contacts_seen(case, principal), Contact, page)
    return Page[ContactOut](items=views.contacts_out(rows, principal), next_cursor=cursor)


@router.post(
    "/cases/{case_id}/contacts",
    status_code=201,
    summary="Record a contact (parents, police, DPJ report, media, take-down)",
    description=(
        "School staff and leads with the architect attestation record every kind; the report to "
        "the DPJ, everyone's duty, needs no attestation, and DPJ reporters record it too. Parents "
        "are notified only for a minor (422 `parent_contact_minor_only`)."
    ),
    response_model=ContactOut,
    responses=WRITE,
)
def record_contact(
    case_id: uuid.UUID,
    body: Annotated[ContactCreate, Body(openapi_examples=CONTACT_EXAMPLES)],
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
) -> Contact:
    contact = service.record_contact(session, principal, case_id, body)
    _location(response, f"/api/v1/cases/{case_id}/contacts/{contact.id}")
    return contact


@router.get(
    "/cases/{case_id}/notes",
    summary="The case chronology",
    description="Oldest first, a page at a time. School staff on the team and school leads; never police or DPJ reporters.",
    response_model=Page[NoteOut],
    responses=READ,
)
def list_notes(
    session: SessionDep,
    request: Request,
    found: Annotated[tuple[Case, PageParams], Depends(CasePageFor(Capability.read_notes))],
) -> Page[NoteOut]:
    case, page = found
    rows, cursor = paginate(session, select(Note).where(Note.case_id == case.id), Note, page)
    return Page[NoteOut](items=[views.note_out(note, request.state.cipher) for note in rows], next_cursor=cursor)


@router.post(
    "/cases/{case_id}/notes",
    status_code=201,
    summary="Add a note to the chronology (append-only)",
    description=(
        "School staff and leads with the architect attestation. Notes are never changed nor "
        "deleted: a correction is a new note. `Location` names it."
    ),
    response_model=NoteOut,
    responses=WRITE,
)
def add_note(
    case_id: uuid.UUID,
    body: NoteCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    response: Response,
) -> NoteOut:
    note = service.add_note(session, principal, case_id, body, request.state.cipher)
    _location(response, f"/api/v1/cases/{case_id}/notes/{note.id}")
    return views.note_out(note, request.state.cipher)


# --- access log -------------------------------------------------------------------------


class _AccessLogFor(CaseReach):
    """The case and the page of its access log asked for: the cursor read
    as the audit events read theirs (``int_cursor``), before the case is
    reached, so a bad one is a 422 to whoever asks."""

    def __call__(
        self,
        case_id: uuid.UUID,
        principal: CurrentPrincipal,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Query(max_length=20, description="`next_cursor` of the previous page.")] = None,
    ) -> tuple[Case, int, int]:
        after = int_cursor(cursor)
        return self.reach(session, principal, case_id), limit, after


@router.get(
    "/cases/{case_id}/access-log",
    summary="Who saw or changed this case (auditors and the school lead)",
    description=(
        "Every entry about the case, whoever made it: refusals to callers who may not see it included, whether they "
        "named the case or its device, person or hold. The same entries as `GET /audit/events?case_id=` for the same reader."
    ),
    response_model=Page[AuditEvent],
    responses=READ,
    tags=["audit"],
)
def case_access_log(
    principal: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    found: Annotated[tuple[Case, int, int], Depends(_AccessLogFor(Capability.read_access_log))],
) -> Page[AuditEvent]:
    case, limit, after = found
    request.state.audit.cacheable = False  # every read of the case adds to it without changing the case
    rows, next_cursor = reading.case_access_log(session, principal, case.id, after, limit)
    return Page[AuditEvent](items=[event_out(row) for row in rows], next_cursor=next_cursor)
