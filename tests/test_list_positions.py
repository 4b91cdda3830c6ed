"""Lists page by a row comparison on an index of their filter and order
(``app.pagination.after``, migration 0022): rows that share ``created_at``
across a page boundary are neither skipped nor repeated, and on PostgreSQL
the key reads are index ranges, under the generic plan of a prepared
statement too (issue 17)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import sql
from sqlalchemy import Engine, event, text, update

from app.cases.models import Case
from app.crypto import DataCipher
from app.db import create_db_engine
from app.pagination import after
from tests.protocol_helpers import Desk

TIE = datetime(2026, 9, 14, 8, 30, tzinfo=UTC)


@pytest.fixture
def desk(client, login, demo) -> Desk:
    return Desk(client, login, demo)


def walk(desk: Desk, path: str, user: str, limit: int) -> list[dict]:
    items, cursor = [], None
    while True:
        page = desk.ok("GET", path, user, params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_cases_that_share_created_at_across_a_page_boundary_are_each_listed_once(desk, db):
    before, *tied, last = [desk.open_case() for _ in range(6)]
    db.execute(update(Case).where(Case.id.in_([uuid.UUID(c["id"]) for c in tied])).values(created_at=TIE))
    db.execute(
        update(Case).where(Case.id == uuid.UUID(before["id"])).values(created_at=TIE - timedelta(microseconds=1))
    )
    db.execute(update(Case).where(Case.id == uuid.UUID(last["id"])).values(created_at=TIE + timedelta(microseconds=1)))
    db.commit()
    expected = [before["id"], *sorted(c["id"] for c in tied), last["id"]]
    for limit in (1, 2, 3, 4):  # each limit puts the page boundary elsewhere in the tie
        assert [c["id"] for c in walk(desk, "/cases", "demo-lead-a", limit)] == expected, limit


def test_closed_cases_that_share_closed_at_page_once_in_the_retention_preview(desk, db):
    cases = [desk.open_case() for _ in range(5)]
    ids = [uuid.UUID(c["id"]) for c in cases]
    db.execute(update(Case).where(Case.id.in_(ids)).values(status="closed", closed_at=TIE))
    db.commit()
    seen = [d["case_id"] for d in walk(desk, "/privacy/retention/preview", "demo-privacy-a", 2)]
    assert seen == sorted(c["id"] for c in cases)


def test_after_is_one_row_comparison_in_either_order():
    ascending = after((Case.created_at, Case.id), (TIE, uuid.uuid4()))
    descending = after((Case.created_at, Case.id), (TIE, uuid.uuid4()), descending=True)
    assert str(ascending) == "(sexto_case.created_at, sexto_case.id) > (:param_1, :param_2)"
    assert str(descending) == "(sexto_case.created_at, sexto_case.id) < (:param_1, :param_2)"
    with pytest.raises(ValueError):
        after((Case.created_at, Case.id), (TIE,))


# --- the plans, on PostgreSQL -----------------------------------------------------

CASES = 6000


def _fill(database_url: str, demo, cipher: DataCipher, busy: str) -> None:
    """CASES cases copied from one opened through the API, a fifth at its
    school (the rest at school B), a third handed off to force A (with a feed
    change each), four audit entries about each and 300 about ``busy``:
    enough rows that a sequential scan and a sort cost more than an index
    range."""
    engine = create_db_engine(database_url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO sexto_case (id, school_id, year, number, reference, status, reporter_type, channel,
                    place, summary, csam_suspected, malicious_intent, refusal_to_participate, adult_involved,
                    urgent_wellbeing_concern, reporter_grid_skipped, opened_by, version, created_at, updated_at,
                    handed_off_at, handed_off_force_id)
                SELECT gen_random_uuid(), CASE WHEN g % 5 = 0 THEN c.school_id ELSE CAST(:other AS uuid) END, 1990, g, 'B-' || g, c.status, c.reporter_type, c.channel,
                    c.place, c.summary, false, false, false, false, false, false, c.opened_by, 1,
                    timestamptz '2020-01-01' + g * interval '1 minute', c.updated_at,
                    CASE WHEN g % 3 = 0 THEN c.created_at END, CASE WHEN g % 3 = 0 THEN CAST(:force AS uuid) END
                FROM sexto_case c, generate_series(1, :n) AS g
                WHERE c.id = (SELECT id FROM sexto_case LIMIT 1)
                """
            ),
            {"n": CASES, "force": str(demo.force_a), "other": str(demo.school_b)},
        )
        # The feed shows its cases whole: their summaries sealed as the service seals them.
        handed = connection.execute(text("SELECT id FROM sexto_case WHERE handed_off_force_id IS NOT NULL")).scalars()
        connection.execute(
            text("UPDATE sexto_case SET summary = :summary WHERE id = :id"),
            [{"id": i, "summary": cipher.encrypt("Copie.", f"case:{i}:summary")} for i in handed],
        )
        connection.execute(
            text(
                "INSERT INTO police_feed_change (police_force_id, case_id, kind, txid, created_at) "
                "SELECT handed_off_force_id, id, 'handed_off', 1000 + number, created_at FROM sexto_case "
                "WHERE handed_off_force_id IS NOT NULL"
            )
        )
        # Four audit entries about each case (in a chain of their own: the
        # plans, not the chain, are under test).
        connection.execute(
            text(
                """
                INSERT INTO audit_entry (chain, seq, prev_hash, entry_hash, recorded_at, salt, actor_kind, action,
                    case_id, outcome, status_code, form)
                SELECT 'bulk', row_number() OVER (), md5(c.id::text || g), md5(c.id::text || g || 'e'),
                    '2026-11-25T10:00:00.000000Z', 'salt', 'user', 'read_case', c.id::text, 'allowed', 200, 2
                FROM sexto_case c, generate_series(1, 4) AS g
                """
            )
        )
        # and 300 about the case whose access log is read.
        connection.execute(
            text(
                """
                INSERT INTO audit_entry (chain, seq, prev_hash, entry_hash, recorded_at, salt, actor_kind, action,
                    case_id, outcome, status_code, form)
                SELECT 'busy', g, md5(g::text), md5(g || 'e'), '2026-11-25T10:00:00.000000Z', 'salt', 'user',
                    'read_case', :case, 'allowed', 200, 2
                FROM generate_series(1, 300) AS g
                """
            ),
            {"case": busy},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


@contextmanager
def statements() -> Iterator[list[tuple[str, dict]]]:
    """The SQL the service sends (with its parameters) while the block runs."""
    seen: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if isinstance(parameters, dict):
            seen.append((statement, dict(parameters)))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", capture)


def _plans(database_url: str, statement: str, parameters: dict) -> list[list[dict]]:
    """The nodes of the custom plan and of the generic plan
    (``force_generic_plan``, as a prepared statement gets) of one statement."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    prepared = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            custom = driver.execute("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchone()[0]
            driver.execute("SET plan_cache_mode = force_generic_plan")
            driver.execute("PREPARE listed AS " + prepared)
            arguments = sql.SQL(", ").join(sql.Literal(parameters[n]) for n in names)
            generic = driver.execute(sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE listed({})").format(arguments)).fetchone()[
                0
            ]
            driver.rollback()
    finally:
        engine.dispose()
    return [_nodes(plan[0]["Plan"]) for plan in (custom, generic)]


def _nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


def _one(seen: list[tuple[str, dict]], pattern: str) -> tuple[str, dict]:
    found = [(s, p) for s, p in seen if re.search(pattern, s, re.S)]
    assert found, f"no statement matched {pattern}"
    return found[-1]


def _assert_range(database_url: str, found: tuple[str, dict], indexes: set[str], table: str) -> None:
    """Both plans read ``table`` through one of ``indexes`` in its order, the
    cursor's row comparison (when there is one) in the index condition: no
    sequential scan of it, no sort, no cursor left to a filter."""
    for nodes in _plans(database_url, *found):
        kinds = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
        scans = [n for n in nodes if n.get("Index Name") in indexes]
        assert scans, "\n".join(map(str, kinds))
        assert not any(kind.endswith("Seq Scan") and relation == table for kind, relation, _ in kinds), kinds
        assert not any(kind in ("Sort", "Incremental Sort") for kind, _, _ in kinds), kinds
        if ") > (" in found[0]:
            assert all("ROW(" in n.get("Index Cond", "") for n in scans), scans
            assert not any("ROW(" in n.get("Filter", "") for n in nodes), nodes


@pytest.mark.postgres_only
def test_the_key_lists_are_index_ranges_under_both_plans(desk, database_url, demo, settle_feed, settings):
    case = desk.open_case()
    desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")
    _fill(database_url, demo, DataCipher.from_settings(settings), case["id"])
    settle_feed()
    with statements() as seen:
        first = desk.ok("GET", "/cases", "demo-lead-a", params={"limit": 50})
        deep = desk.ok("GET", "/cases", "demo-lead-a", params={"limit": 50, "cursor": first["next_cursor"]})
        assert deep["items"] and deep["items"][0]["id"] != first["items"][-1]["id"]
    first_page, deep_page = (
        s for s in seen if re.search(r"FROM sexto_case.*ORDER BY sexto_case\.created_at", s[0], re.S)
    )
    assert ") > (" in deep_page[0] and ") > (" not in first_page[0]
    for found in (first_page, deep_page):
        _assert_range(database_url, found, {"ix_sexto_case_school_position", "ix_sexto_case_position"}, "sexto_case")
    with statements() as seen:
        desk.ok("GET", "/cases", "demo-police-a", params={"limit": 50})
    _assert_range(
        database_url,
        _one(seen, r"FROM sexto_case.*ORDER BY sexto_case\.created_at"),
        {"ix_sexto_case_force_position", "ix_sexto_case_position"},
        "sexto_case",
    )
    with statements() as seen:
        polled = desk.ok("GET", "/police/cases", "demo-police-a", params={"limit": 20})
        desk.ok("GET", "/police/cases", "demo-police-a", params={"cursor": polled["next_cursor"]})
    _assert_range(
        database_url,
        _one(seen, r"FROM police_feed_change.*\(police_feed_change\.txid, police_feed_change\.id\) >"),
        {"ix_police_feed_change_force_position"},
        "police_feed_change",
    )
    with statements() as seen:
        log = desk.ok("GET", f"/cases/{case['id']}/access-log", "demo-lead-a")
        assert log["items"]
    _assert_range(
        database_url,
        _one(seen, r"FROM audit_entry.*audit_entry\.case_id ="),
        {"ix_audit_entry_case_position"},
        "audit_entry",
    )
