"""Every request that names a case, directly or through what belongs to it
(a device, a person, a legal hold), is tied to that case in the audit log,
refusals included, whoever asks: the case's access log, the audit events
about the case and the privacy officer's access review all see an outsider
probing it.  The outsider learns nothing: the answer is the one a case that
does not exist gets."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.audit.models import AuditEntry
from tests.conftest import make_settings, token_for
from tests.integrity import last_entry
from tests.protocol_helpers import Desk

MISSING = "00000000-0000-4000-8000-000000000000"
VOLATILE_HEADERS = {"x-request-id", "content-length", "date"}
OUTSIDERS = ["demo-police-b", "demo-staff-b", "demo-staff-a2", None]  # None: no token

# Requests naming the case, each as (method, path, body); the path's ids are
# filled from the case (``{case}``, ``{person}``, ``{device}``, ``{hold}``).
NAMING_THE_CASE = {
    "custody events, read": ("GET", "/devices/{device}/custody-events", None),
    "custody event, recorded": (
        "POST",
        "/devices/{device}/custody-events",
        {"kind": "stored", "storage_location": "Poste 21"},
    ),
    "custody event, invalid body": ("POST", "/devices/{device}/custody-events", {"kind": "thrown_away"}),
    "participant flag": (
        "POST",
        "/cases/{case}/participants/{person}/flags",
        {"kind": "refused", "reason": "Refuse de parler."},
    ),
    "participant export": ("GET", "/cases/{case}/participants/{person}/export", None),
    "legal hold lifted": ("POST", "/cases/{case}/legal-holds/{hold}/lift", {"reason": "Dossier policier fermé."}),
    "case read": ("GET", "/cases/{case}", None),
    "case read, id in capitals": ("GET", "/cases/{CASE}", None),
    "note": ("POST", "/cases/{case}/notes", {"text": "Rencontre avec la direction."}),
    "access log": ("GET", "/cases/{case}/access-log", None),
}


@pytest.fixture
def settings(app_database_url, var_dir):
    return make_settings(app_database_url, var_dir, review_denied_threshold=5, review_window_minutes=60)


@pytest.fixture
def handed_off(desk) -> dict[str, str]:
    """A case at school A handed off to police A, with a person, a device and
    the school lead's legal hold: police B, board B's staff and staff of
    school A not on its team may not know it exists."""
    case = desk.open_case()
    person = desk.person(case, "distributor")
    device = desk.confiscate(case, person)
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    hold = desk.ok("POST", f"/cases/{case['id']}/legal-holds", "demo-lead-a", 201, json={"reason": "Enquête en cours."})
    return {
        "case": case["id"],
        "CASE": case["id"].upper(),
        "person": person["id"],
        "device": device["id"],
        "hold": hold["id"],
    }


def _send(desk: Desk, user: str | None, method: str, path: str, body):
    headers = desk.login(user) if user else {}
    return desk.client.request(method, f"/api/v1{path}", headers=headers, json=body)


def _entry(db, response) -> AuditEntry:
    return db.exec(select(AuditEntry).where(AuditEntry.request_id == response.headers["x-request-id"])).one()


def _walk(desk: Desk, reader: str | dict[str, str], path: str, **params) -> list[int]:
    """The ids of every page of a list, as a demo user (or a token's holder) reads it."""
    headers = desk.login(reader) if isinstance(reader, str) else reader
    ids, cursor = [], None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = desk.client.get(f"/api/v1{path}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("request_kind", NAMING_THE_CASE)
def test_a_refusal_names_the_case_it_reaches_and_tells_the_outsider_nothing(
    desk, db, handed_off, outsider, request_kind
):
    method, template, body = NAMING_THE_CASE[request_kind]
    hidden = _send(desk, outsider, method, template.format(**handed_off), body)
    absent = _send(desk, outsider, method, template.format(**{name: MISSING for name in handed_off}), body)
    # The outsider cannot tell the case from one that does not exist.
    assert hidden.status_code == absent.status_code and hidden.status_code in (401, 404, 422), hidden.text
    assert hidden.json() == absent.json()
    assert set(hidden.headers) - VOLATILE_HEADERS == set(absent.headers) - VOLATILE_HEADERS
    # The case's auditors can: the entry names the case.
    entry = _entry(db, hidden)
    assert entry.case_id == handed_off["case"], (request_kind, outsider, entry.case_id)
    assert entry.outcome in ("denied", "refused")
    assert entry.id in _walk(desk, "demo-lead-a", f"/cases/{handed_off['case']}/access-log")
    assert entry.id in _walk(desk, "demo-auditor", "/audit/events", case_id=handed_off["case"])


@pytest.mark.parametrize("request_kind", NAMING_THE_CASE)
def test_a_hidden_case_costs_the_queries_a_missing_one_does(desk, handed_off, request_kind):
    """What the time of a refusal could tell, counted instead of timed (see
    ``bench/scope_timing.py`` for the times): the same statements, found or not."""
    method, template, body = NAMING_THE_CASE[request_kind]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper())

    def run(ids: dict[str, str]) -> list[str]:
        statements.clear()
        _send(desk, "demo-police-b", method, template.format(**ids), body)
        return list(statements)

    run(handed_off)  # warm up (the sign-in, caches)
    event.listen(Engine, "before_cursor_execute", count)
    try:
        hidden, absent = run(handed_off), run({name: MISSING for name in handed_off})
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert hidden == absent


def test_a_refusal_about_an_id_that_names_no_case_names_none(desk, db):
    response = _send(
        desk, "demo-police-b", "POST", f"/devices/{MISSING}/custody-events", {"kind": "stored", "storage_location": "x"}
    )
    assert response.status_code == 404
    assert _entry(db, response).case_id is None


def _auditor_of_board_a(desk: Desk) -> dict[str, str]:
    body = {
        "username": "auditrice-a",
        "full_name": "Auditrice A",
        "role": "auditor",
        "password": "une phrase assez longue",
        "scope": {"boards": [str(desk.demo.board_a)]},
    }
    desk.ok("POST", "/users", "demo-admin", 201, json=body)
    return {"Authorization": f"Bearer {token_for(desk.client, 'auditrice-a', 'une phrase assez longue')}"}


def test_the_access_log_and_the_audit_events_about_a_case_list_the_same_entries(desk, db, handed_off):
    case = handed_off["case"]
    # Allowed reads and writes by those who handle the case.
    desk.ok("GET", f"/cases/{case}", "demo-lead-a")
    desk.ok("GET", f"/devices/{handed_off['device']}/custody-events", "demo-police-a")
    desk.ok("POST", f"/cases/{case}/notes", "demo-staff-a", 201, json={"text": "Appel de la mère."})
    # Refusals to insiders: a role that may not (403), the protocol (409), invalid input (422).
    assert desk.call("POST", f"/cases/{case}/notes", "demo-auditor", json={"text": "x"}).status_code == 403
    assert desk.transition({"id": case}, "start_evaluation").status_code == 409
    assert desk.call(
        "POST", f"/cases/{case}/participants/{MISSING}/flags", "demo-staff-a", json={"kind": "refused", "reason": "x"}
    ).status_code in (409, 422)
    # Denials to outsiders, directly and through the case's device and person.
    probes = [
        desk.call("GET", f"/cases/{case}", "demo-staff-b"),
        desk.custody({"id": handed_off["device"]}, "stored", "demo-police-b", storage_location="Poste 21"),
        desk.call("GET", f"/cases/{case}/participants/{handed_off['person']}/export", "demo-staff-a2"),
        desk.client.get(f"/api/v1/devices/{handed_off['device']}/custody-events"),
    ]
    assert [p.status_code for p in probes] == [404, 404, 404, 401]
    probe_ids = {_entry(db, p).id for p in probes}
    auditor_a = _auditor_of_board_a(desk)
    for reader in ("demo-auditor", auditor_a):
        events = _walk(desk, reader, "/audit/events", case_id=case)
        log = _walk(desk, reader, f"/cases/{case}/access-log")  # reading the events is about no case
        assert events == log
        assert probe_ids <= set(log)
    # The export (auditors) agrees too.
    export = desk.call("GET", "/audit/export", "demo-auditor", params={"case_id": case})
    assert probe_ids <= {int(line.split('"id":')[1].split(",")[0]) for line in export.text.splitlines()}


def test_the_access_review_counts_the_refusals_reached_through_a_device_or_a_person(desk, demo, handed_off):
    for _ in range(3):
        assert (
            desk.custody({"id": handed_off["device"]}, "stored", "demo-police-b", storage_location="x").status_code
            == 404
        )
    for _ in range(2):
        export = desk.call(
            "GET", f"/cases/{handed_off['case']}/participants/{handed_off['person']}/export", "demo-police-b"
        )
        assert export.status_code == 404
    findings = desk.ok("GET", "/privacy/access-review", "demo-privacy-a")["findings"]
    police_b = str(demo.users["demo-police-b"])
    denied = [f for f in findings if f["kind"] == "many_denied" and f["actor_id"] == police_b]
    assert len(denied) == 1 and denied[0]["count"] == 5, findings
    # The other board's officer sees none of it.
    theirs = desk.ok("GET", "/privacy/access-review", "demo-privacy-b")["findings"]
    assert not [f for f in theirs if f["actor_id"] == police_b]


def test_custody_steps_are_in_the_cases_access_log_and_its_auditors_view(desk, db):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    desk.custody(device, "transferred_to_police", "demo-police-a", officer_name="Agente Paquette", badge_number="1")
    entry = last_entry(db)
    assert entry.action == "record_custody_event"
    assert entry.case_id == case["id"]
    assert str(desk.demo.board_a) in entry.org_ids
    log = desk.ok("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
    assert "record_custody_event" in {e["action"] for e in log["items"]}
    seen = desk.ok("GET", "/audit/events", "demo-auditor", params={"action": "record_custody_event"})
    assert seen["items"]


# Reads whose other parameters are invalid, each as (path, caller): police B
# may not see the case (404 otherwise), staff A sees it but may not read its
# access log (403 otherwise).
INVALID_PARAMETERS = {
    "participants, limit 0": ("/cases/{case}/participants?limit=0", "demo-police-b"),
    "grids, limit 0": ("/cases/{case}/grids?limit=0", "demo-police-b"),
    "custody events, limit 0": ("/devices/{device}/custody-events?limit=0", "demo-police-b"),
    "export, a person who is no id": ("/cases/{case}/participants/P1/export", "demo-police-b"),
    "access log, limit 0": ("/cases/{case}/access-log?limit=0", "demo-staff-a"),
    "access log, cursor not digits": ("/cases/{case}/access-log?cursor=x", "demo-staff-a"),
    # Read by the audit events' own rule (app.pagination.int_cursor), so with their code.
    "access log, cursor of non-ASCII digits": ("/cases/{case}/access-log?cursor=%D9%A3", "demo-staff-a"),
    "access log, cursor beyond 64 bits": ("/cases/{case}/access-log?cursor=" + "9" * 19, "demo-staff-a"),
}
CURSOR_CODE = {kind: "invalid_cursor" for kind in INVALID_PARAMETERS if "cursor" in kind}


@pytest.mark.parametrize("request_kind", INVALID_PARAMETERS)
def test_a_read_checks_its_parameters_before_it_reaches_the_case(desk, db, handed_off, request_kind):
    """The 422 comes first, to the caller who may not see the case or use it
    as to the one who may, and the entry is the caller's (the case not reached)."""
    template, caller = INVALID_PARAMETERS[request_kind]
    for user in (caller, "demo-lead-a"):
        response = _send(desk, user, "GET", template.format(**handed_off), None)
        assert response.status_code == 422, (request_kind, user, response.text)
        assert response.json()["code"] == CURSOR_CODE.get(request_kind, "validation_failed"), request_kind
        entry = _entry(db, response)
        assert entry.case_id == handed_off["case"] and entry.outcome == "refused", (request_kind, user)
        # A reached case's entry would belong to its organizations, the force it was handed to among them.
        assert str(desk.demo.force_a) not in (entry.org_ids or ""), (request_kind, user, entry.org_ids)


# Spellings of an id that the routes read as the same UUID (#13 item 3).
SPELLINGS = {
    "capitals": str.upper,
    "no dashes": lambda id_: id_.replace("-", ""),
    "braces": lambda id_: "{" + id_ + "}",
    "braces, percent-encoded": lambda id_: "%7B" + id_ + "%7D",
    "urn:uuid": lambda id_: "urn:uuid:" + id_,
}


@pytest.mark.parametrize("reader", ["demo-police-b", "demo-lead-a"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("template", ["/cases/{case}/participants", "/devices/{device}/custody-events"])
def test_an_id_in_another_spelling_is_the_canonical_id(desk, db, handed_off, spelling, reader, template):
    """Routed, answered and audited as the canonical id: the entry names it,
    and the case's access log and the audit events about the case list it."""
    spell = SPELLINGS[spelling]
    canonical = _send(desk, reader, "GET", template.format(**handed_off), None)
    other = _send(desk, reader, "GET", template.format(**{k: spell(v) for k, v in handed_off.items()}), None)
    assert other.status_code == canonical.status_code == (404 if reader == "demo-police-b" else 200), other.text
    assert other.json() == canonical.json()
    assert other.headers.get("etag") == canonical.headers.get("etag")
    entry, expected = _entry(db, other), _entry(db, canonical)
    assert (entry.case_id, entry.resource_type, entry.resource_id) == (
        handed_off["case"],
        expected.resource_type,
        expected.resource_id,
    )
    assert entry.id in _walk(desk, "demo-lead-a", f"/cases/{handed_off['case']}/access-log")
    assert entry.id in _walk(desk, "demo-auditor", "/audit/events", case_id=handed_off["case"])


def test_the_access_review_counts_refusals_in_every_spelling(desk, demo, handed_off):
    """Five refusals, one per spelling and the canonical one, make one finding of five."""
    for spell in (str, *(SPELLINGS[name] for name in ("capitals", "no dashes", "braces", "urn:uuid"))):
        response = _send(desk, "demo-police-b", "GET", f"/cases/{spell(handed_off['case'])}/participants", None)
        assert response.status_code == 404
    findings = desk.ok("GET", "/privacy/access-review", "demo-privacy-a")["findings"]
    police_b = str(demo.users["demo-police-b"])
    denied = [f for f in findings if f["kind"] == "many_denied" and f["actor_id"] == police_b]
    assert len(denied) == 1 and denied[0]["count"] == 5, findings
