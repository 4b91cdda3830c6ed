"""The privacy officer's work (retention rule, legal-hold overview, incident
register, access review) and legal holds on cases.

The privacy officer's scope is exactly one school board.  Nothing here reads
a case's contents for the privacy officer: only ids, references and dates.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from app.accounts.models import Role
from app.audit import chain, reading
from app.audit.models import AuditEntry
from app.auth.principal import Principal
from app.cases import service as cases
from app.cases.models import Case, Contact, ContactKind
from app.cases.policy import Capability
from app.config import Settings
from app.db import next_number, table_of, utcnow
from app.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from app.orgs.models import School
from app.pagination import PageParams, encode_cursor
from app.privacy import retention
from app.privacy.models import IncidentCounter, LegalHold, PrivacyIncident, PrivacyIncidentVersion, RetentionRule
from app.privacy.schemas import IncidentCreate, IncidentUpdate, RetentionRuleIn

MAX_REVIEW_DAYS = 31
MAX_REVIEW_ENTRIES = 200_000
MAX_FINDING_IDS = 200
SCHOOL_ROLES = (Role.school_staff.value, Role.school_lead.value)


def board_of(principal: Principal) -> uuid.UUID:
    """The privacy officer's one board (its scope rule allows exactly one).

    A privacy officer whose grant is not in force (waiting for approval, or
    signed in with a password an admin set: ``app.accounts.duties``) has no
    board in scope: 403 ``scope_not_in_force``, which says so."""
    if len(principal.scope.board_ids) != 1:
        raise Forbidden("scope_not_in_force", code="scope_not_in_force")
    (board_id,) = principal.scope.board_ids
    return board_id


# --- retention ---------------------------------------------------------------


def retention_rule(session: Session, board_id: uuid.UUID) -> RetentionRule | None:
    return session.get(RetentionRule, board_id)


def set_retention_rule(session: Session, principal: Principal, body: RetentionRuleIn) -> RetentionRule:
    board_id = board_of(principal)
    rule = session.get(RetentionRule, board_id, with_for_update=True)
    if rule is None:
        rule = RetentionRule(board_id=board_id, years_after_closure=body.years_after_closure, updated_by=principal.id)
    else:
        rule.version += 1
    rule.years_after_closure = body.years_after_closure
    rule.schedule_reference = body.schedule_reference
    rule.updated_by, rule.updated_at = principal.id, utcnow()
    session.add(rule)
    session.flush()
    return rule


def retention_preview(
    session: Session, principal: Principal, settings: Settings, page: PageParams
) -> tuple[list[retention.Decision], str | None]:
    decisions = retention.plan(
        session, settings.retention_default_years, utcnow(), board_id=board_of(principal), page=page
    )
    if len(decisions) <= page.limit:
        return decisions, None
    decisions = decisions[: page.limit]
    last = decisions[-1]
    return decisions, encode_cursor(datetime.fromisoformat(last.closed_at), uuid.UUID(last.case_id))


# --- legal holds ---------------------------------------------------------------


def _hold_applies(session: Session, case: Case) -> bool:
    """A hold is for a case the police or the DPJ may need: handed off, or reported to the DPJ."""
    if case.was_handed_off:
        return True
    return session.exec(
        select(exists().where(col(Contact.case_id) == case.id, col(Contact.kind) == ContactKind.dpj_report.value))
    ).one()


def place_hold(session: Session, principal: Principal, case_id: uuid.UUID, reason: str) -> LegalHold:
    case = cases.visible_case(session, principal, case_id, lock=True)
    cases.require(principal, Capability.legal_hold)
    if case.destroyed_at is not None:
        raise Conflict("case_destroyed", code="case_destroyed")
    if not _hold_applies(session, case):
        raise Conflict("legal_hold_not_applicable", code="legal_hold_not_applicable")
    hold = LegalHold(case_id=case.id, reason=reason, placed_by=principal.id, placed_by_role=principal.role.value)
    session.add(hold)
    cases.touch(case)
    session.flush()
    return hold


def lift_hold(session: Session, principal: Principal, case_id: uuid.UUID, hold_id: uuid.UUID, reason: str) -> LegalHold:
    case = cases.visible_case(session, principal, case_id, lock=True)
    cases.require(principal, Capability.legal_hold)
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.case_id != case.id:
        raise NotFound()
    if hold.lifted_at is not None:
        raise Conflict("legal_hold_lifted", code="legal_hold_lifted")
    # The party that asked for the hold decides when it ends: the school
    # cannot release a hold the police placed, nor the reverse.
    if hold.placed_by_role != principal.role.value:
        raise Forbidden("legal_hold_other_party", code="legal_hold_other_party")
    hold.lifted_at, hold.lifted_by, hold.lifted_by_role, hold.lift_reason = (
        utcnow(),
        principal.id,
        principal.role.value,
        reason,
    )
    cases.touch(case)
    session.add(hold)
    session.flush()
    return hold


def holds_of_board(principal: Principal, active: bool | None) -> Select[LegalHold, str, uuid.UUID]:
    statement = (
        select(LegalHold, Case.reference, Case.school_id)
        .join(Case, col(Case.id) == LegalHold.case_id)
        .join(School, col(School.id) == Case.school_id)
        .where(School.board_id == board_of(principal))
    )
    if active is not None:
        lifted_at = col(LegalHold.lifted_at)
        statement = statement.where(lifted_at.is_(None) if active else lifted_at.is_not(None))
    return statement


# --- the incident register -------------------------------------------------------------


def _board_cases(session: Session, board_id: uuid.UUID, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The references of these cases if all are the board's; 422 otherwise
    (the same answer whether a case is another board's or does not exist)."""
    if not case_ids:
        return {}
    rows = session.exec(
        select(Case.id, Case.reference)
        .join(School, col(School.id) == Case.school_id)
        .where(col(Case.id).in_(case_ids), School.board_id == board_id)
    ).all()
    found = dict(rows)
    if set(case_ids) - set(found):
        raise UnprocessableContent("incident_case_unknown", code="incident_case_unknown")
    return found


def _check_entries(session: Session, principal: Principal, ids: list[int]) -> None:
    if not ids:
        return
    table = table_of(AuditEntry)
    found: int = session.execute(
        sa_select(func.count()).select_from(table).where(table.c.id.in_(ids), reading.readable(principal))
    ).scalar_one()
    if found != len(set(ids)):
        raise UnprocessableContent("incident_entry_unknown", code="incident_entry_unknown")


_REGISTER_FIELDS = tuple(IncidentCreate.model_fields)


def _content(incident: PrivacyIncident) -> dict:
    data = {name: getattr(incident, name) for name in _REGISTER_FIELDS}
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


# The register's dates: each is something that has happened.
INCIDENT_DATES = ("occurred_from", "occurred_until", "discovered_on", "commission_notified_on", "people_notified_on")


def create_incident(session: Session, principal: Principal, body: IncidentCreate, timezone: str) -> PrivacyIncident:
    board_id = board_of(principal)
    cases.refuse_future({name: getattr(body, name) for name in INCIDENT_DATES}, timezone)
    _board_cases(session, board_id, body.case_ids)
    _check_entries(session, principal, body.audit_entry_ids)
    year = body.discovered_on.year
    number = next_number(session, IncidentCounter, board_id=board_id, year=year)
    data = body.model_dump()
    data["case_ids"] = [str(i) for i in dict.fromkeys(body.case_ids)]
    data["audit_entry_ids"] = sorted(set(body.audit_entry_ids))
    incident = PrivacyIncident(
        **data,
        board_id=board_id,
        year=year,
        number=number,
        reference=f"INC-{year}-{number:04d}",
        created_by=principal.id,
        updated_by=principal.id,
    )
    session.add(incident)
    session.flush()
    session.add(
        PrivacyIncidentVersion(
            incident_id=incident.id,
            version=1,
            content=_content(incident),
            changed_fields=sorted(body.model_fields_set),
            changed_by=principal.id,
        )
    )
    session.flush()
    return incident


def board_incident(
    session: Session, principal: Principal, incident_id: uuid.UUID, *, lock: bool = False
) -> PrivacyIncident:
    statement = select(PrivacyIncident).where(
        PrivacyIncident.id == incident_id, PrivacyIncident.board_id == board_of(principal)
    )
    if lock:
        statement = statement.with_for_update()
    incident = session.exec(statement).first()
    if incident is None:
        raise NotFound()
    return incident


def update_incident(
    session: Session, principal: Principal, incident_id: uuid.UUID, body: IncidentUpdate, timezone: str
) -> PrivacyIncident:
    incident = board_incident(session, principal, incident_id, lock=True)
    changes = body.model_dump(exclude_unset=True)
    cases.refuse_future({name: changes.get(name) for name in INCIDENT_DATES}, timezone)
    for required in ("information_involved", "circumstances", "occurred_from", "discovered_on", "risk_level"):
        if required in changes and changes[required] is None:
            raise UnprocessableContent("incident_field_required", code="incident_field_required", field=required)
    if "case_ids" in changes:
        _board_cases(session, incident.board_id, body.case_ids or [])
        changes["case_ids"] = [str(i) for i in dict.fromkeys(body.case_ids or [])]
    if "audit_entry_ids" in changes:
        _check_entries(session, principal, body.audit_entry_ids or [])
        changes["audit_entry_ids"] = sorted(set(body.audit_entry_ids or []))
    before = _content(incident)
    for name, value in changes.items():
        setattr(incident, name, value)
    start, end, found = incident.occurred_from, incident.occurred_until, incident.discovered_on
    if (end and end < start) or found < start:
        raise UnprocessableContent("incident_dates_order", code="incident_dates_order")
    after = _content(incident)
    changed = sorted(name for name in after if after[name] != before[name])
    if not changed:
        return incident
    incident.version += 1
    incident.updated_by, incident.updated_at = principal.id, utcnow()
    session.add(incident)
    session.add(
        PrivacyIncidentVersion(
            incident_id=incident.id,
            version=incident.version,
            content=after,
            changed_fields=changed,
            changed_by=principal.id,
        )
    )
    session.flush()
    return incident


def case_references(session: Session, incidents: list[PrivacyIncident]) -> dict[str, str]:
    ids = {uuid.UUID(i) for incident in incidents for i in incident.case_ids}
    if not ids:
        return {}
    return {
        str(case_id): reference
        for case_id, reference in session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(ids))).all()
    }


# --- access review -------------------------------------------------------------


def _parse(recorded_at: str) -> datetime:
    return datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))


def _bursts(times: list[datetime], weights: list[object | None], window: timedelta, threshold: int) -> list[list[int]]:
    """Indexes of the entries that fall in some window of ``window`` holding at
    least ``threshold`` (distinct, when ``weights`` are keys) items, grouped
    into bursts (runs of such entries no more than ``window`` apart)."""
    marked: set[int] = set()
    start = 0
    seen: Counter = Counter()
    for end, moment in enumerate(times):
        seen[weights[end]] += 1
        while moment - times[start] >= window:
            seen[weights[start]] -= 1
            if not seen[weights[start]]:
                del seen[weights[start]]
            start += 1
        if len(seen) >= threshold:
            marked.update(range(start, end + 1))
    groups: list[list[int]] = []
    for index in sorted(marked):
        if groups and times[index] - times[groups[-1][-1]] < window:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def access_review(
    session: Session, principal: Principal, settings: Settings, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime, int, list[dict]]:
    until = (until or utcnow()).astimezone(UTC)
    since = (since or until - timedelta(days=7)).astimezone(UTC)
    if since >= until or until - since > timedelta(days=MAX_REVIEW_DAYS):
        raise UnprocessableContent("review_period_invalid", code="review_period_invalid", days=MAX_REVIEW_DAYS)
    table = table_of(AuditEntry)
    c = table.c
    rows = session.execute(
        sa_select(c.id, c.recorded_at, c.actor_kind, c.actor_id, c.actor_role, c.outcome, c.case_id)
        .where(
            c.recorded_at >= chain.format_time(since),
            c.recorded_at < chain.format_time(until),
            c.actor_id.is_not(None),
            c.actor_kind.in_(("user", "service_account")),
            reading.readable(principal),  # the entries about the board's cases, as its audit events
        )
        .order_by(c.id)
        .limit(MAX_REVIEW_ENTRIES)
    ).all()
    by_actor: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        by_actor[(row.actor_kind, row.actor_id)].append(row)
    window = timedelta(minutes=settings.review_window_minutes)
    zone = ZoneInfo(settings.local_timezone)
    opens, closes = settings.review_school_hours
    findings: list[dict] = []

    def finding(kind: str, entries: list, count: int) -> None:
        first, last = _parse(entries[0].recorded_at), _parse(entries[-1].recorded_at)
        actor_kind, actor_id = entries[0].actor_kind, entries[0].actor_id
        query = urlencode(
            {"actor_id": actor_id, "since": first.isoformat(), "until": (last + timedelta(microseconds=1)).isoformat()}
        )
        findings.append(
            {
                "kind": kind,
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "actor_role": entries[-1].actor_role,
                "first_at": first,
                "last_at": last,
                "count": count,
                "audit_entry_ids": [e.id for e in entries[:MAX_FINDING_IDS]],
                "truncated": len(entries) > MAX_FINDING_IDS,
                "events_url": f"/api/v1/audit/events?{query}",
            }
        )

    for entries in by_actor.values():
        denied = [e for e in entries if e.outcome == "denied"]
        times = [_parse(e.recorded_at) for e in denied]
        for group in _bursts(times, [e.id for e in denied], window, settings.review_denied_threshold):
            finding("many_denied", [denied[i] for i in group], len(group))
        reads = [e for e in entries if e.outcome == "allowed" and e.case_id]
        times = [_parse(e.recorded_at) for e in reads]
        for group in _bursts(times, [e.case_id for e in reads], window, settings.review_distinct_cases_threshold):
            chosen = [reads[i] for i in group]
            finding("many_cases", chosen, len({e.case_id for e in chosen}))
        late: dict[object, list] = defaultdict(list)
        for entry in entries:
            # School hours are the school's: police and the DPJ work around the
            # clock, and systems synchronize at night.
            if not entry.case_id or entry.actor_kind != "user" or entry.actor_role not in SCHOOL_ROLES:
                continue
            local = _parse(entry.recorded_at).astimezone(zone)
            if local.weekday() >= 5 or not opens <= local.hour < closes:
                late[local.date()].append(entry)
        for day_entries in late.values():
            finding("off_hours", day_entries, len(day_entries))
    findings.sort(key=lambda f: (f["first_at"], f["kind"], f["actor_id"]))
    return since, until, len(rows), findings
