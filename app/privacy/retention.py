"""Retention and destruction of closed cases' personal information.

A closed case's personal information is destroyed once its board's rule says
so (years after closure; the service default when the board has no rule).
What goes: the people (names, student ids, grades), the interviews (grid
answers), the contacts, the devices and their custody, the notes, and every
free-text field of the case (summary, reasons, officer named).  What stays:
the case reference, school, dates, status and flags, the DCPP decision, the
status history without its reasons, the team, and the audit log, none of
which names a child.  The police file number goes too: it leads to the
police's own file; so do the kept answers of retried requests about the
case.  Cases never closed are never destroyed; nor are cases under a legal
hold, until it is lifted, nor handed-off cases whose police part is open.

Each case is destroyed in its own transaction together with its audit entry
(``retention_destroy``, whose reason names the rule applied), after locking
the case and checking again that it is due and not held: two runs at once,
or a hold placed during a run, cannot destroy a held case or destroy twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, delete, func, update
from sqlmodel import Session, SQLModel, col, select

from app.audit import chain
from app.cases.models import (
    Case,
    CaseStatus,
    CaseStatusChange,
    Contact,
    CustodyEvent,
    Device,
    GridSubmission,
    Note,
    Participant,
    ParticipantFlag,
)
from app.db import utcnow
from app.idempotency.models import IdempotencyRecord
from app.idempotency.service import purge_expired
from app.orgs.models import School
from app.pagination import PageParams, after
from app.privacy.models import LegalHold, RetentionRule

ACTION = "retention_destroy"


@dataclass(frozen=True)
class Rule:
    years: int
    label: str  # named in the audit entry: ``board:<id>:v<version>:<years>y`` or ``default:<years>y``


@dataclass
class Decision:
    case_id: str
    reference: str
    board_id: str
    closed_at: str
    destroy_after: str
    rule: str
    action: str  # "destroy" or "keep"
    why: str | None = None  # "legal_hold", "police_part_open" or "not_due"
    holds: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def rules(session: Session, default_years: int) -> tuple[dict[uuid.UUID, Rule], Rule]:
    by_board = {
        r.board_id: Rule(r.years_after_closure, f"board:{r.board_id}:v{r.version}:{r.years_after_closure}y")
        for r in session.exec(select(RetentionRule)).all()
    }
    return by_board, Rule(default_years, f"default:{default_years}y")


def counts(session: Session, case_id: uuid.UUID) -> dict[str, int]:
    """How many records of personal information the case holds, by kind."""

    def count(model: type[SQLModel], *where: ColumnElement[bool] | bool) -> int:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    people = select(Participant.id).where(Participant.case_id == case_id)
    devices = select(Device.id).where(Device.case_id == case_id)
    return {
        "participants": count(Participant, Participant.case_id == case_id),
        "participant_flags": count(ParticipantFlag, col(ParticipantFlag.participant_id).in_(people)),
        "grid_submissions": count(GridSubmission, GridSubmission.case_id == case_id),
        "contacts": count(Contact, Contact.case_id == case_id),
        "devices": count(Device, Device.case_id == case_id),
        "custody_events": count(CustodyEvent, col(CustodyEvent.device_id).in_(devices)),
        "notes": count(Note, Note.case_id == case_id),
        "status_change_reasons": count(
            CaseStatusChange, CaseStatusChange.case_id == case_id, col(CaseStatusChange.reason).is_not(None)
        ),
    }


def _active_holds(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[LegalHold]]:
    held: dict[uuid.UUID, list[LegalHold]] = {}
    if case_ids:
        for hold in session.exec(
            select(LegalHold).where(col(LegalHold.case_id).in_(case_ids), col(LegalHold.lifted_at).is_(None))
        ).all():
            held.setdefault(hold.case_id, []).append(hold)
    return held


def _kept_because(case: Case, held: list[LegalHold], due: datetime, now: datetime) -> str | None:
    """Why a closed case is kept (None: it is due).  A hand-off whose police
    part police have not closed is kept as if held: the investigation may
    still need the school's record."""
    if held:
        return "legal_hold"
    if case.was_handed_off and case.police_closed_at is None:
        return "police_part_open"
    return "not_due" if due > now else None


def plan(
    session: Session,
    default_years: int,
    now: datetime,
    *,
    board_id: uuid.UUID | None = None,
    page: PageParams | None = None,
) -> list[Decision]:
    """Every closed case not yet destroyed (or one page of them, oldest
    closure first), and what a run would do with it."""
    by_board, default = rules(session, default_years)
    statement = (
        select(Case, School.board_id)
        .join(School, col(School.id) == Case.school_id)
        .where(
            Case.status == CaseStatus.closed.value, col(Case.closed_at).is_not(None), col(Case.destroyed_at).is_(None)
        )
        .order_by(col(Case.closed_at), col(Case.id))
    )
    if board_id is not None:
        statement = statement.where(School.board_id == board_id)
    if page is not None:
        if page.after is not None:
            statement = statement.where(after((col(Case.closed_at), col(Case.id)), page.after))
        statement = statement.limit(page.limit + 1)
    rows = session.exec(statement).all()
    holds = _active_holds(session, [case.id for case, _ in rows])
    decisions = []
    for case, board in rows:
        closed_at = case.closed_at
        assert closed_at is not None  # the statement selects closed cases only
        rule = by_board.get(board, default)
        due = add_years(closed_at, rule.years)
        held = holds.get(case.id, [])
        why = _kept_because(case, held, due, now)
        decisions.append(
            Decision(
                case_id=str(case.id),
                reference=case.reference,
                board_id=str(board),
                closed_at=closed_at.isoformat(),
                destroy_after=due.isoformat(),
                rule=rule.label,
                action="keep" if why else "destroy",
                why=why,
                holds=[
                    {"id": str(h.id), "placed_by_role": h.placed_by_role, "placed_at": h.placed_at.isoformat()}
                    for h in held
                ],
                counts=counts(session, case.id) if why != "not_due" else {},
            )
        )
    return decisions


def destroy_case(session: Session, case: Case, rule: Rule, now: datetime) -> dict[str, int]:
    """Erase the case's personal information (the caller holds the case's
    lock and commits, with the audit entry)."""
    destroyed = counts(session, case.id)
    people = select(Participant.id).where(Participant.case_id == case.id)
    devices = select(Device.id).where(Device.case_id == case.id)
    for statement in (
        delete(CustodyEvent).where(col(CustodyEvent.device_id).in_(devices)),
        delete(Device).where(col(Device.case_id) == case.id),
        delete(GridSubmission).where(col(GridSubmission.case_id) == case.id),
        delete(Contact).where(col(Contact.case_id) == case.id),
        delete(ParticipantFlag).where(col(ParticipantFlag.participant_id).in_(people)),
        delete(Participant).where(col(Participant.case_id) == case.id),
        delete(Note).where(col(Note.case_id) == case.id),
        update(CaseStatusChange).where(col(CaseStatusChange.case_id) == case.id).values(reason=None),
        update(LegalHold).where(col(LegalHold.case_id) == case.id).values(reason=None, lift_reason=None),
        # Kept answers to retried requests quote the case (names, notes, reasons).
        delete(IdempotencyRecord).where(col(IdempotencyRecord.case_id) == case.id),
    ):
        session.exec(statement.execution_options(synchronize_session=False))
    case.summary = ""
    case.reporter_grid_skip_reason = None
    case.police_officer_contacted = None
    case.police_file_number = None  # it leads to the police's file on identifiable children
    case.destroyed_at = now
    case.destruction_rule = rule.label
    case.version += 1
    case.updated_at = now
    session.add(case)
    return destroyed


@dataclass
class RunReport:
    dry_run: bool
    ran_at: str
    destroyed: list[Decision]
    kept: list[Decision]

    def as_dict(self) -> dict:
        totals: dict[str, int] = {}
        for decision in self.destroyed:
            for kind, number in decision.counts.items():
                totals[kind] = totals.get(kind, 0) + number
        return {
            "dry_run": self.dry_run,
            "ran_at": self.ran_at,
            "destroyed" if not self.dry_run else "would_destroy": [asdict(d) for d in self.destroyed],
            "kept": [asdict(d) for d in self.kept],
            "totals": {"cases": len(self.destroyed), **totals},
        }


def run(
    engine: Engine,
    default_years: int,
    *,
    dry_run: bool,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunReport:
    """The destruction run (``sexto retention run``).  Safe to schedule and to
    run twice at once: see the module docstring.  ``progress`` is told (cases
    done, cases due) after each case."""
    now = now or utcnow()
    with Session(engine) as session:
        decisions = plan(session, default_years, now)
    due = [d for d in decisions if d.action == "destroy"]
    kept = [d for d in decisions if d.action == "keep"]
    if dry_run:
        return RunReport(True, now.isoformat(), due, kept)
    with Session(engine) as session:
        purge_expired(session)  # kept answers may quote a case: none outlives its key's lifetime
        session.commit()
    destroyed = []
    for done, decision in enumerate(due):
        if progress is not None:
            progress(done, len(due))
        with Session(engine) as session:
            by_board, default = rules(session, default_years)
            case = session.exec(select(Case).where(Case.id == uuid.UUID(decision.case_id)).with_for_update()).one()
            school = session.get(School, case.school_id)
            assert school is not None  # a case's school is a foreign key
            rule = by_board.get(school.board_id, default)
            held = _active_holds(session, [case.id]).get(case.id)
            if case.destroyed_at is not None or case.closed_at is None or case.status != CaseStatus.closed.value:
                continue  # another run got there first, or it was reopened
            if _kept_because(case, held or [], add_years(case.closed_at, rule.years), now):
                kept.append(decision)  # a hold was placed, or the rule changed, since the plan
                continue
            decision.counts = destroy_case(session, case, rule, now)
            decision.rule = rule.label
            organizations = sorted(str(i) for i in (case.school_id, school.board_id, case.handed_off_force_id) if i)
            draft = chain.EntryDraft(
                actor_kind="system",
                actor_id="retention",
                org_ids=",".join(organizations),
                action=ACTION,
                resource_type="cases",
                resource_id=str(case.id),
                case_id=str(case.id),
                status_code=200,
                reason=chain.clean(rule.label, 64),
            )
            chain.append_and_commit(session, draft, chain.board_chain(school.board_id))  # the case's chain
            destroyed.append(decision)
    if progress is not None:
        progress(len(due), len(due))
    return RunReport(False, now.isoformat(), destroyed, kept)
