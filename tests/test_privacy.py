"""Privacy under Quebec law: retention and destruction, legal holds, the
confidentiality-incident register.  Cases are aged by moving their closing
date back in the database, then the destruction run is the CLI itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table on the metadata)
from app.audit.models import AuditEntry
from app.cases.models import Case, CaseStatusChange, Contact, GridSubmission, Note, Participant
from app.db import utcnow
from app.idempotency.models import IdempotencyRecord
from app.orgs.service import local_today
from tests.integrity import assert_problem
from tests.protocol_helpers import Desk

MARK = "Rétentionmarque"  # in a name and a note: must be nowhere after destruction


def closed_case(desk: Desk, *, dpj_report: bool = False) -> dict:
    """A case handled at school and closed: two people, two interviews,
    parents notified, a note, and (optionally) a DPJ report."""
    case = desk.open_case(summary=f"Photo de {MARK} transférée.")
    reporter = desk.person(case, "reporter", name=f"Témoin {MARK}")
    depicted = desk.person(case, "depicted", name=f"Élève {MARK}")
    desk.go(case, "start_evaluation")
    assert desk.grid(case, reporter, ages=[14]).status_code == 201
    desk.go(case, "start_gathering")
    assert desk.grid(case, depicted, ages=[14]).status_code == 201
    for person in (reporter, depicted):
        desk.notify_parents(case, person)
    desk.ok("POST", f"/cases/{case['id']}/notes", "demo-staff-a", 201, json={"text": f"Rencontre avec {MARK}."})
    if dpj_report:
        report = {
            "kind": "dpj_report",
            "occurred_at": "2026-11-20T16:00:00Z",
            "region": "Laurentides",
            "reference": "DPJ-42",
        }
        desk.ok("POST", f"/cases/{case['id']}/contacts", "demo-lead-a", 201, json=report)
    desk.go(case, "resolve")
    return desk.go(case, "close", "demo-lead-a")


def age(db, case: dict, years: float) -> None:
    """Move the case's closing date back."""
    db.execute(
        update(Case).where(Case.id == uuid.UUID(case["id"])).values(closed_at=utcnow() - timedelta(days=365.25 * years))
    )
    db.commit()


def cli(settings, var_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEXTO_DATABASE_URL": settings.effective_database_url, "SEXTO_VAR_DIR": str(var_dir)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True)


def retention(settings, var_dir, *, dry_run: bool) -> dict:
    done = cli(settings, var_dir, "retention", "run", "--json", *(["--dry-run"] if dry_run else []))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def row_counts(db) -> dict[str, int]:
    db.rollback()
    return {
        table.name: db.execute(select(func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
    }


def verified(settings, var_dir) -> bool:
    done = cli(settings, var_dir, "audit", "verify")
    return done.returncode == 0 and "verified" in done.stdout


def text_anywhere(db, needle: str) -> list[str]:
    """Tables with a row whose text holds ``needle`` (every column, as text)."""
    db.rollback()
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for row in db.execute(select(table)).all():
            if any(needle in str(value) for value in row):
                found.append(table.name)
                break
    return found


# --- retention and destruction ----------------------------------------------------


def test_the_dry_run_lists_what_would_go_with_counts_and_changes_nothing(desk, db, settings, var_dir):
    due = closed_case(desk)
    recent = closed_case(desk)
    age(db, due, 6)
    before = row_counts(db)
    report = retention(settings, var_dir, dry_run=True)
    assert row_counts(db) == before  # not even an audit entry
    assert report["dry_run"] is True
    [going] = report["would_destroy"]
    assert going["case_id"] == due["id"] and going["reference"] == due["reference"]
    assert going["rule"] == "default:5y" and going["action"] == "destroy"
    assert going["counts"] == {
        "participants": 2,
        "participant_flags": 0,
        "grid_submissions": 2,
        "contacts": 2,
        "devices": 0,
        "custody_events": 0,
        "notes": 1,
        "status_change_reasons": 0,
    }
    [kept] = report["kept"]
    assert kept["case_id"] == recent["id"] and kept["why"] == "not_due"
    assert report["totals"]["cases"] == 1 and report["totals"]["participants"] == 2
    assert MARK not in json.dumps(report)  # references and counts, never contents


def test_destruction_erases_the_personal_information_keeps_the_record_and_is_audited(
    desk, db, settings, var_dir, client, login
):
    case = closed_case(desk)
    age(db, case, 6)
    assert text_anywhere(db, MARK) == []  # encrypted at rest: the summary, the note, the names
    assert MARK in desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")["summary"]
    report = retention(settings, var_dir, dry_run=False)
    assert [d["case_id"] for d in report["destroyed"]] == [case["id"]]
    case_id = uuid.UUID(case["id"])
    db.rollback()
    for model in (Participant, GridSubmission, Contact, Note):
        assert db.execute(select(func.count()).select_from(model).where(model.case_id == case_id)).scalar_one() == 0
    assert text_anywhere(db, MARK) == []
    row = db.get(Case, case_id)
    assert row.reference == case["reference"] and row.status == "closed" and row.closed_at is not None
    assert row.destroyed_at is not None and row.destruction_rule == "default:5y" and row.summary == ""
    # The status history stays.
    history = db.execute(select(CaseStatusChange.action).where(CaseStatusChange.case_id == case_id)).scalars().all()
    assert sorted(history) == ["close", "resolve", "start_evaluation", "start_gathering"]
    [entry] = db.execute(select(AuditEntry).where(AuditEntry.action == "retention_destroy")).scalars().all()
    assert entry.case_id == case["id"] and entry.reason == "default:5y" and entry.actor_kind == "system"
    assert verified(settings, var_dir)
    # The school still finds the case, marked destroyed, and can change nothing.
    read = desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")
    assert read["destroyed_at"] is not None and read["summary"] == ""
    assert desk.ok("GET", f"/cases/{case['id']}/participants", "demo-lead-a")["items"] == []
    reopen = desk.transition(case, "reopen", "demo-lead-a", reason="Nouvelle information")
    assert reopen.status_code == 409 and reopen.json()["code"] == "case_destroyed"
    offered = {t["action"]: t for t in desk.ok("GET", f"/cases/{case['id']}/transitions", "demo-lead-a")["transitions"]}
    assert offered["reopen"]["allowed"] is False and offered["reopen"]["blockers"][0]["code"] == "case_destroyed"
    # A second run finds nothing more to do.
    assert retention(settings, var_dir, dry_run=False)["destroyed"] == []
    assert verified(settings, var_dir)


def test_a_board_rule_replaces_the_default_and_is_named_in_the_audit(desk, db, settings, var_dir, demo):
    case = closed_case(desk)
    age(db, case, 2)
    assert retention(settings, var_dir, dry_run=True)["kept"][0]["why"] == "not_due"
    rule = desk.ok("GET", "/privacy/retention-rule", "demo-privacy-a")
    assert rule["is_default"] is True and rule["years_after_closure"] == 5
    rule = desk.ok(
        "PUT",
        "/privacy/retention-rule",
        "demo-privacy-a",
        json={"years_after_closure": 1, "schedule_reference": "CC-04-12"},
    )
    assert rule == {**rule, "is_default": False, "years_after_closure": 1, "version": 1, "board_id": str(demo.board_a)}
    assert desk.ok("GET", "/privacy/retention-rule", "demo-privacy-b")["is_default"] is True
    assert (
        desk.call("PUT", "/privacy/retention-rule", "demo-lead-a", json={"years_after_closure": 1}).status_code == 403
    )
    assert (
        desk.call("PUT", "/privacy/retention-rule", "demo-privacy-a", json={"years_after_closure": 0}).status_code
        == 422
    )
    report = retention(settings, var_dir, dry_run=False)
    label = f"board:{demo.board_a}:v1:1y"
    assert [(d["case_id"], d["rule"]) for d in report["destroyed"]] == [(case["id"], label)]
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "retention_destroy")).scalars().one()
    assert entry.reason == label and str(demo.board_a) in entry.org_ids


def test_the_privacy_officer_previews_its_board_by_reference_only(desk, db):
    case = closed_case(desk)
    age(db, case, 6)
    preview = desk.ok("GET", "/privacy/retention/preview", "demo-privacy-a")
    [item] = preview["items"]
    assert (
        item["reference"] == case["reference"] and item["action"] == "destroy" and item["counts"]["participants"] == 2
    )
    assert MARK not in json.dumps(preview)
    assert desk.ok("GET", "/privacy/retention/preview", "demo-privacy-b")["items"] == []
    later = closed_case(desk)  # closed after the first: the second page
    first = desk.ok("GET", "/privacy/retention/preview?limit=1", "demo-privacy-a")
    assert [i["case_id"] for i in first["items"]] == [case["id"]] and first["next_cursor"]
    second = desk.ok("GET", f"/privacy/retention/preview?limit=1&cursor={first['next_cursor']}", "demo-privacy-a")
    assert [i["case_id"] for i in second["items"]] == [later["id"]] and second["next_cursor"] is None
    assert second["items"][0]["why"] == "not_due"
    assert desk.call("GET", "/privacy/retention/preview", "demo-lead-a").status_code == 403
    # The privacy officer reads no case contents.
    for path in ("", "/participants", "/grids", "/notes", "/contacts"):
        assert desk.call("GET", f"/cases/{case['id']}{path}", "demo-privacy-a").status_code == 404


# --- legal holds -------------------------------------------------------------------


def test_a_held_case_is_never_destroyed_until_the_hold_is_lifted(desk, db, settings, var_dir):
    case = closed_case(desk, dpj_report=True)
    age(db, case, 6)
    holds = f"/cases/{case['id']}/legal-holds"
    assert desk.call("POST", holds, "demo-lead-a", json={}).status_code == 422  # a reason is required
    assert desk.call("POST", holds, "demo-staff-a", json={"reason": "x"}).status_code == 403
    assert desk.call("POST", holds, "demo-privacy-a", json={"reason": "x"}).status_code == 404
    hold = desk.ok("POST", holds, "demo-lead-a", 201, json={"reason": "Demande de la DPJ de conserver le dossier."})
    assert hold["active"] is True and hold["placed_by_role"] == "school_lead"

    report = retention(settings, var_dir, dry_run=True)
    assert report["would_destroy"] == []
    [kept] = report["kept"]
    assert kept["why"] == "legal_hold" and kept["holds"][0]["id"] == hold["id"]
    assert retention(settings, var_dir, dry_run=False)["destroyed"] == []
    assert (
        db.execute(
            select(func.count()).select_from(Participant).where(Participant.case_id == uuid.UUID(case["id"]))
        ).scalar_one()
        == 2
    )

    overview = desk.ok("GET", "/privacy/legal-holds?active=true", "demo-privacy-a")["items"]
    assert [(h["id"], h["case_reference"]) for h in overview] == [(hold["id"], case["reference"])]
    assert "reason" not in overview[0]
    assert desk.ok("GET", "/privacy/legal-holds", "demo-privacy-b")["items"] == []

    lift = f"{holds}/{hold['id']}/lift"
    assert desk.call("POST", lift, "demo-lead-a", json={}).status_code == 422
    lifted = desk.ok("POST", lift, "demo-lead-a", json={"reason": "La DPJ a fermé son dossier."})
    assert lifted["active"] is False and lifted["lifted_by_role"] == "school_lead"
    again = desk.call("POST", lift, "demo-lead-a", json={"reason": "encore"})
    assert again.status_code == 409 and again.json()["code"] == "legal_hold_lifted"
    assert desk.ok("GET", "/privacy/legal-holds?active=true", "demo-privacy-a")["items"] == []

    assert [d["case_id"] for d in retention(settings, var_dir, dry_run=False)["destroyed"]] == [case["id"]]
    assert verified(settings, var_dir)


def test_a_hold_needs_a_case_the_police_or_the_dpj_may_need(desk):
    case = desk.open_case()
    refused = desk.call("POST", f"/cases/{case['id']}/legal-holds", "demo-lead-a", json={"reason": "Par précaution."})
    assert refused.status_code == 409 and refused.json()["code"] == "legal_hold_not_applicable"


def test_police_place_holds_on_handed_off_cases_and_only_police_lift_them(desk):
    case = desk.open_case()
    person = desk.person(case, "distributor")
    desk.go(case, "start_evaluation")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    holds = f"/cases/{case['id']}/legal-holds"
    assert desk.call("POST", holds, "demo-police-b", json={"reason": "x"}).status_code == 404
    hold = desk.ok("POST", holds, "demo-police-a", 201, json={"reason": "Enquête en cours."})
    assert hold["placed_by_role"] == "police_liaison"
    assert [h["id"] for h in desk.ok("GET", holds, "demo-lead-a")["items"]] == [hold["id"]]
    refused = desk.call("POST", f"{holds}/{hold['id']}/lift", "demo-lead-a", json={"reason": "Terminé."})
    assert refused.status_code == 403 and refused.json()["code"] == "legal_hold_other_party"
    assert (
        desk.ok("POST", f"{holds}/{hold['id']}/lift", "demo-police-a", json={"reason": "Dossier fermé."})["active"]
        is False
    )
    assert person  # the hand-off needed someone to hand off


# --- the confidentiality-incident register ---------------------------------------------

INCIDENT = {
    "information_involved": "Noms et niveaux de deux élèves.",
    "circumstances": "Courriel envoyé au mauvais destinataire interne.",
    "occurred_from": "2026-11-18",
    "discovered_on": "2026-11-19",
    "people_concerned": 2,
    "risk_level": "low",
}


def test_the_register_is_kept_with_history_and_exported(desk, demo):
    case = desk.open_case()
    created = desk.ok("POST", "/privacy/incidents", "demo-privacy-a", 201, json={**INCIDENT, "case_ids": [case["id"]]})
    assert created["reference"] == "INC-2026-0001" and created["version"] == 1
    assert created["case_references"] == [case["reference"]] and created["board_id"] == str(demo.board_a)
    second = desk.ok("POST", "/privacy/incidents", "demo-privacy-a", 201, json=INCIDENT)
    assert second["reference"] == "INC-2026-0002"
    path = f"/privacy/incidents/{created['id']}"
    updated = desk.ok(
        "PATCH", path, "demo-privacy-a", json={"risk_level": "serious", "commission_notified_on": "2026-11-20"}
    )
    assert updated["version"] == 2 and updated["risk_level"] == "serious"
    history = desk.ok("GET", f"{path}/history", "demo-privacy-a")["items"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["changed_fields"] == ["commission_notified_on", "risk_level"]
    assert history[0]["content"]["risk_level"] == "low" and history[1]["content"]["risk_level"] == "serious"
    listed = desk.ok("GET", "/privacy/incidents", "demo-privacy-a")["items"]
    assert [i["reference"] for i in listed] == ["INC-2026-0001", "INC-2026-0002"]
    export = desk.call("GET", "/privacy/incidents/export", "demo-privacy-a")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [(line["reference"], line["version"]) for line in lines] == [("INC-2026-0001", 2), ("INC-2026-0002", 1)]
    # Another board's officer, and every other role, cannot see it.
    assert desk.call("GET", path, "demo-privacy-b").status_code == 404
    assert desk.ok("GET", "/privacy/incidents", "demo-privacy-b")["items"] == []
    for user in ("demo-lead-a", "demo-auditor", "demo-admin", "demo-staff-a"):
        assert desk.call("GET", "/privacy/incidents", user).status_code == 403


def test_the_register_export_is_one_line_per_incident_whatever_its_text(desk):
    """JSON leaves NEL and the line and paragraph separators raw: the export
    escapes them (and all beyond ASCII), so a reader splitting lines on them
    still reads one incident per line, with its text as written."""
    circumstances = "Premier courriel\u2028puis un second\u2029et encore\x85fin, à l'école."
    created = desk.call(
        "POST", "/privacy/incidents", "demo-privacy-a", json={**INCIDENT, "circumstances": circumstances}
    )
    assert created.status_code == 201, created.text
    stored = created.json()["circumstances"]
    export = desk.call("GET", "/privacy/incidents/export", "demo-privacy-a")
    lines = export.text.splitlines()
    assert len(lines) == 1 and lines[0].isascii(), lines
    assert json.loads(lines[0])["circumstances"] == stored


def test_the_register_names_only_the_boards_cases_and_keeps_dates_in_order(desk, db, demo):
    # A case of the other board (its police force has no agreement: written directly).
    other = Case(
        school_id=demo.school_b,
        year=2026,
        number=1,
        reference="SX-2026-00001",
        reporter_type="student",
        channel="in_person",
        place="school",
        summary="x",
        opened_by=demo.users["demo-staff-b"],
    )
    db.add(other)
    db.commit()
    for case_id in (str(other.id), str(uuid.uuid4())):
        refused = desk.call("POST", "/privacy/incidents", "demo-privacy-a", json={**INCIDENT, "case_ids": [case_id]})
        assert refused.status_code == 422 and refused.json()["code"] == "incident_case_unknown"
    backwards = desk.call(
        "POST", "/privacy/incidents", "demo-privacy-a", json={**INCIDENT, "discovered_on": "2026-11-01"}
    )
    assert backwards.status_code == 422
    created = desk.ok("POST", "/privacy/incidents", "demo-privacy-a", 201, json=INCIDENT)
    emptied = desk.call("PATCH", f"/privacy/incidents/{created['id']}", "demo-privacy-a", json={"circumstances": None})
    assert emptied.status_code == 422 and emptied.json()["code"] == "incident_field_required"
    moved = desk.call(
        "PATCH", f"/privacy/incidents/{created['id']}", "demo-privacy-a", json={"occurred_until": "2026-11-01"}
    )
    assert moved.status_code == 422 and moved.json()["code"] == "incident_dates_order"
    assert desk.ok("GET", f"/privacy/incidents/{created['id']}", "demo-privacy-a")["version"] == 1
    unknown_field = desk.call("POST", "/privacy/incidents", "demo-privacy-a", json={**INCIDENT, "reference": "INC-1"})
    assert unknown_field.status_code == 422


def test_kept_answers_of_retried_requests_go_with_the_case(desk, db, settings, var_dir):
    case = closed_case(desk)
    retried = {"Idempotency-Key": "note-after-closing"}
    note = desk.call(
        "POST", f"/cases/{case['id']}/notes", "demo-staff-a", headers=retried, json={"text": f"Après {MARK}."}
    )
    assert note.status_code == 201
    db.rollback()
    assert (
        db.execute(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.case_id == uuid.UUID(case["id"]))
        ).scalar_one()
        == 1
    )
    age(db, case, 6)
    retention(settings, var_dir, dry_run=False)
    db.rollback()
    assert (
        db.execute(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.case_id == uuid.UUID(case["id"]))
        ).scalar_one()
        == 0
    )
    replay = desk.call(
        "POST", f"/cases/{case['id']}/notes", "demo-staff-a", headers=retried, json={"text": f"Après {MARK}."}
    )
    assert replay.status_code == 409 and replay.json()["code"] == "case_destroyed"
    assert MARK not in replay.text


def test_a_handed_off_case_waits_for_the_police_part_to_close(desk, db, settings, var_dir):
    case = desk.open_case()
    desk.go(case, "start_evaluation")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    desk.ok(
        "POST", f"/cases/{case['id']}/acknowledgement", "demo-police-a", 201, json={"police_file_number": "VR-2026-77"}
    )
    desk.go(case, "close", "demo-lead-a")
    age(db, case, 6)
    [kept] = retention(settings, var_dir, dry_run=False)["kept"]
    assert kept["why"] == "police_part_open"
    desk.ok("POST", f"/cases/{case['id']}/police-outcome", "demo-police-a", json={"close_police_part": True})
    assert [d["case_id"] for d in retention(settings, var_dir, dry_run=False)["destroyed"]] == [case["id"]]
    db.rollback()
    row = db.get(Case, uuid.UUID(case["id"]))
    assert row.police_file_number is None and row.police_officer_contacted is None and row.handed_off_at is not None


# Dates moved to after today, each set keeping the register's order
# (start, end, discovery): the incident, its discovery, each notification.
LATER_DATES = {
    "the incident and its discovery": ("occurred_from", "occurred_until", "discovered_on"),
    "its discovery": ("discovered_on",),
    "the Commission notified": ("commission_notified_on",),
    "the people notified": ("people_notified_on",),
}


@pytest.mark.parametrize("moved", LATER_DATES)
def test_the_registers_dates_are_never_in_the_future(desk, moved):
    """Each date of the register is something that happened: a later date
    than today's (in the schools' timezone) is a 422 naming each such field,
    on a new entry and on a change; today's is taken."""
    fields = LATER_DATES[moved]
    later = (local_today("America/Toronto") + timedelta(days=2)).isoformat()
    refused = desk.call(
        "POST", "/privacy/incidents", "demo-privacy-a", json={**INCIDENT, **dict.fromkeys(fields, later)}
    )
    body = assert_problem(refused, 422, "time_in_future", context=moved)
    assert [e["field"] for e in body["errors"]] == [f"body.{field}" for field in fields]
    created = desk.ok("POST", "/privacy/incidents", "demo-privacy-a", 201, json=INCIDENT)
    path = f"/privacy/incidents/{created['id']}"
    changed = desk.call("PATCH", path, "demo-privacy-a", json=dict.fromkeys(fields, later))
    assert_problem(changed, 422, "time_in_future", context=moved)
    today = local_today("America/Toronto").isoformat()
    kept = desk.ok("PATCH", path, "demo-privacy-a", json=dict.fromkeys(fields, today))
    assert [kept[field] for field in fields] == [today] * len(fields)
