"""Benchmark: how each read's time grows with the cases (issue 17).

For each N of ``--sizes``, on a fresh PostgreSQL database (migrated, demo
data): N cases loaded in bulk (60 % at school A, 40 % at school B; a fifth
of all handed off to force A, with the change the police feed reads; a tenth
closed; one in twenty with suspected CSAM; demo-staff-a on the team of one in
a hundred), and ``--entries`` audit entries (1,000,000 by default) appended
to the platform chain in bulk, hashed as the service hashes them, a few
thousand of them about one busy case.  Then, through the real HTTP service
(uvicorn, 2 workers), the median and p95 of each read: every list and feed
whose table grows with the cases, first page and a deep one; one case read;
a case's access log, of a new case and of the busy one; the audit event
search, the access review and the retention preview.  Each read is measured
twice: with PostgreSQL's default plan choice, then with
``plan_cache_mode = force_generic_plan`` set on the database (``ALTER
DATABASE``), which is what a prepared statement may get.  The chain is
verified at the end of each size.

    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000,1000000] [--entries 1000000] [--requests 40]

The table gives each read's median (p95) in ms, then its ratio to the first
size's median.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import create_engine, make_url, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.accounts.models import User  # noqa: E402
from app.audit import chain  # noqa: E402
from app.config import Settings  # noqa: E402
from app.crypto import DataCipher  # noqa: E402
from app.demo import SCHOOL_A, SCHOOL_B, load_demo  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.orgs.models import PoliceForce, School  # noqa: E402
from app.orgs.service import local_today  # noqa: E402
from app.pagination import encode_cursor  # noqa: E402
from app.police.service import encode_cursor as feed_cursor  # noqa: E402
from app.security import PasswordHasher  # noqa: E402
from bench.case_read import free_port, serve  # noqa: E402

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret"
BUSY_ENTRIES = 5000
START = datetime(2020, 1, 1, tzinfo=UTC)

_CASE_COLUMNS = (
    "id, school_id, year, number, reference, status, reporter_type, channel, place, summary, csam_suspected, "
    "malicious_intent, refusal_to_participate, adult_involved, urgent_wellbeing_concern, reporter_grid_skipped, "
    "handed_off_at, handed_off_force_id, opened_by, version, created_at, updated_at, closed_at"
)


@dataclass
class World:
    school_a: uuid.UUID
    school_b: uuid.UUID
    board_a: uuid.UUID
    board_b: uuid.UUID
    force_a: uuid.UUID
    staff_a: uuid.UUID


def world(session: Session) -> World:
    a = session.execute(select(School).where(School.name == SCHOOL_A)).scalar_one()
    b = session.execute(select(School).where(School.name == SCHOOL_B)).scalar_one()
    force = session.execute(select(PoliceForce).where(PoliceForce.id == a.police_force_id)).scalar_one()
    staff = session.execute(select(User).where(User.username == "demo-staff-a")).scalar_one()
    return World(a.id, b.id, a.board_id, b.board_id, force.id, staff.id)


def load_cases(raw: psycopg.Connection, w: World, cipher: DataCipher, n: int) -> list[uuid.UUID]:
    """N cases by COPY, case g (0-based) created g minutes after START: at
    school A when g % 5 < 3; handed off to force A when g % 5 == 0; closed
    when g % 10 == 1; CSAM suspected when g % 20 == 0; demo-staff-a on its
    team when g % 100 == 2.  Returns the ids in creation order."""
    ids = [uuid.uuid4() for _ in range(n)]
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY sexto_case ({_CASE_COLUMNS}) FROM STDIN") as copy:
            for g, case_id in enumerate(ids):
                at_a = g % 5 < 3
                created = START + timedelta(minutes=g)
                handed = g % 5 == 0
                closed = g % 10 == 1
                copy.write_row(
                    (
                        case_id,
                        w.school_a if at_a else w.school_b,
                        2019,
                        g + 1,
                        f"BULK-{g + 1}",
                        "closed" if closed else ("handed_off" if handed else "evaluating"),
                        "student",
                        "in_person",
                        "school",
                        cipher.encrypt("Bench.", f"case:{case_id}:summary"),
                        g % 20 == 0,
                        False,
                        False,
                        False,
                        False,
                        False,
                        created + timedelta(seconds=30) if handed else None,
                        w.force_a if handed else None,
                        w.staff_a,
                        1,
                        created,
                        created,
                        created + timedelta(days=1) if closed else None,
                    )
                )
        with cursor.copy("COPY case_team_member (id, case_id, user_id, added_by, created_at) FROM STDIN") as copy:
            for g in range(2, n, 100):
                copy.write_row((uuid.uuid4(), ids[g], w.staff_a, w.staff_a, START + timedelta(minutes=g)))
        # One feed change per hand-off, all of the loading transaction.
        cursor.execute(
            "INSERT INTO police_feed_change (police_force_id, case_id, kind, txid, created_at) "
            "SELECT handed_off_force_id, id, 'handed_off', pg_current_xact_id()::text::bigint, handed_off_at "
            "FROM sexto_case WHERE handed_off_force_id IS NOT NULL AND reference LIKE 'BULK-%' ORDER BY created_at"
        )
    raw.commit()
    return ids


def load_entries(raw: psycopg.Connection, w: World, ids: list[uuid.UUID], entries: int, busy: uuid.UUID) -> None:
    """``entries`` genuine entries appended to the platform chain after its
    head: reads of the bulk cases in turn, every entries/BUSY_ENTRIES-th one
    about ``busy``; recorded over the 60 days before now, oldest first."""
    head_seq, prev = raw.execute("SELECT seq, entry_hash FROM audit_chain_head WHERE chain = 'platform'").fetchone()
    orgs = {True: f"{w.board_a},{w.school_a},{w.force_a}", False: f"{w.board_b},{w.school_b}"}
    actors = {True: ("school_lead", str(uuid.uuid4())), False: ("school_lead", str(uuid.uuid4()))}
    start = datetime.now(UTC) - timedelta(days=60)
    step = timedelta(days=59) / max(entries, 1)
    every = max(entries // BUSY_ENTRIES, 1)
    fields = (*chain.CANONICAL_FIELDS, "form", "prev_hash", "entry_hash")
    with raw.cursor() as cursor, cursor.copy(f"COPY audit_entry ({', '.join(fields)}) FROM STDIN") as copy:
        for i in range(entries):
            seq = head_seq + 1 + i
            g = i % len(ids)
            case_id = busy if i % every == 0 else ids[g]
            at_a = case_id == busy or g % 5 < 3
            role, actor = actors[at_a]
            values = (
                chain.PLATFORM_CHAIN,
                seq,
                chain.format_time(start + step * i),
                secrets.token_hex(16),
                "user",
                actor,
                role,
                orgs[at_a],
                "127.0.0.1",
                "bench/1.0",
                uuid.uuid4().hex,
                "read_case",
                "cases",
                str(case_id),
                str(case_id),
                "allowed",
                200,
                None,
                None,
                None,
            )
            digest = chain.chain_hash(prev, chain.canonical(values))
            copy.write_row((*values, chain.FORM, prev, digest))
            prev = digest
        head_seq += entries
    raw.execute("UPDATE audit_chain_head SET seq = %s, entry_hash = %s WHERE chain = 'platform'", (head_seq, prev))
    raw.commit()


def token(base: str, username: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=120,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


class Tokens:
    """A token per user, signed in on first use."""

    def __init__(self, base: str) -> None:
        self.base, self.tokens = base, {}

    def __call__(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = token(self.base, user)
        return self.tokens[user]


def timed(base: str, path: str, bearer: str, requests: int, warm: int = 6) -> tuple[float, float]:
    """Median and p95 in ms of ``requests`` sequential GETs, after ``warm``
    (psycopg prepares a statement from its fifth execution on a connection)."""
    headers = {"Authorization": f"Bearer {bearer}"}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for i in range(warm + requests):
            started = time.perf_counter()
            answer = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
            if i >= warm:
                times.append(elapsed)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def reads(engine_url: str, w: World, new_case: str, busy: uuid.UUID) -> dict[str, tuple[str, str]]:
    """Each read: (user, path).  Deep pages start at the middle of the list."""
    engine = create_engine(engine_url)
    with engine.connect() as connection:

        def middle(where: str) -> str:
            row = connection.execute(
                text(
                    f"SELECT created_at, id FROM sexto_case WHERE {where} ORDER BY created_at, id "
                    f"OFFSET (SELECT count(*) / 2 FROM sexto_case WHERE {where}) LIMIT 1"
                ),
                {"a": w.school_a, "f": w.force_a, "s": w.staff_a},
            ).one()
            return encode_cursor(row.created_at, row.id)

        lead_deep = middle("school_id = :a")
        police_deep = middle("handed_off_force_id = :f")
        staff_deep = middle("school_id = :a AND id IN (SELECT case_id FROM case_team_member WHERE user_id = :s)")
        closed = connection.execute(
            text(
                "SELECT closed_at, id FROM sexto_case WHERE closed_at IS NOT NULL AND school_id = :a "
                "ORDER BY closed_at, id OFFSET (SELECT count(*) / 2 FROM sexto_case WHERE closed_at IS NOT NULL "
                "AND school_id = :a) LIMIT 1"
            ),
            {"a": w.school_a},
        ).one()
        retention_deep = encode_cursor(closed.closed_at, closed.id)
        changes = connection.execute(
            text(
                "SELECT txid, id FROM police_feed_change WHERE police_force_id = :f ORDER BY txid, id "
                "OFFSET (SELECT count(*) / 2 FROM police_feed_change WHERE police_force_id = :f) LIMIT 1"
            ),
            {"f": w.force_a},
        ).one()
        feed_deep = feed_cursor(changes.txid, changes.id)
        last = connection.execute(
            text("SELECT txid, id FROM police_feed_change WHERE police_force_id = :f ORDER BY txid DESC, id DESC"),
            {"f": w.force_a},
        ).first()
        feed_end = feed_cursor(last.txid, last.id)
        mid_entry = connection.execute(text("SELECT max(id) / 2 FROM audit_entry")).scalar_one()
    engine.dispose()
    return {
        "cases, lead, first page": ("demo-lead-a", "/api/v1/cases?limit=50"),
        "cases, lead, deep page": ("demo-lead-a", f"/api/v1/cases?limit=50&cursor={lead_deep}"),
        "cases, staff (on 1 % of teams), first page": ("demo-staff-a", "/api/v1/cases?limit=50"),
        "cases, staff, deep page": ("demo-staff-a", f"/api/v1/cases?limit=50&cursor={staff_deep}"),
        "cases, police, first page": ("demo-police-a", "/api/v1/cases?limit=50"),
        "cases, police, deep page": ("demo-police-a", f"/api/v1/cases?limit=50&cursor={police_deep}"),
        "cases, DPJ reporter, first page": ("demo-dpj-a", "/api/v1/cases?limit=50"),
        "police feed, first page": ("demo-police-a", "/api/v1/police/cases?limit=50"),
        "police feed, deep page": ("demo-police-a", f"/api/v1/police/cases?limit=50&cursor={feed_deep}"),
        "police feed, empty poll": ("demo-police-a", f"/api/v1/police/cases?limit=50&cursor={feed_end}"),
        "one case read": ("demo-staff-a", f"/api/v1/cases/{new_case}"),
        "access log, new case": ("demo-lead-a", f"/api/v1/cases/{new_case}/access-log"),
        "access log, busy case": ("demo-lead-a", f"/api/v1/cases/{busy}/access-log"),
        "audit events, auditor, first page": ("demo-auditor", "/api/v1/audit/events?limit=50"),
        "audit events, auditor, deep page": ("demo-auditor", f"/api/v1/audit/events?limit=50&cursor={mid_entry}"),
        "audit events, privacy officer, first page": ("demo-privacy-a", "/api/v1/audit/events?limit=50"),
        "audit events of one case (auditor)": ("demo-auditor", f"/api/v1/audit/events?limit=50&case_id={busy}"),
        "access review (7 days)": ("demo-privacy-a", "/api/v1/privacy/access-review"),
        "retention preview, first page": ("demo-privacy-a", "/api/v1/privacy/retention/preview?limit=50"),
        "retention preview, deep page": (
            "demo-privacy-a",
            f"/api/v1/privacy/retention/preview?limit=50&cursor={retention_deep}",
        ),
    }


def run_size(n: int, entries: int, requests: int) -> dict[str, dict[str, tuple[float, float]]]:
    name = f"sexto_scale_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    raw_url = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    var_dir = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0",
        SEXTO_ACCESS_REVIEW_LIMIT="100000",
    )
    results: dict[str, dict[str, tuple[float, float]]] = {}
    process = None
    try:
        upgrade(url)
        settings = Settings(database_url=url, var_dir=var_dir)
        cipher = DataCipher.from_settings(settings)
        engine = create_engine(url)
        with Session(engine) as session:
            load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
            session.commit()
            w = world(session)
        engine.dispose()
        started = time.perf_counter()
        with psycopg.connect(raw_url) as raw:
            ids = load_cases(raw, w, cipher, n)
            busy = ids[len(ids) // 2 // 5 * 5 + 1]  # at school A (g % 5 == 1)
            load_entries(raw, w, ids, entries, busy)
        with psycopg.connect(raw_url, autocommit=True) as raw:
            raw.execute("VACUUM ANALYZE")
        loaded = time.perf_counter() - started
        print(f"N = {n:,}: {n:,} cases and {entries:,} entries loaded in {loaded:.0f} s", flush=True)
        for mode in ("auto", "generic"):
            if mode == "generic":
                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'ALTER DATABASE "{name}" SET plan_cache_mode = force_generic_plan')
            port = free_port()
            process = serve("app.main:create_app", port, env, wait_seconds=600)
            base = f"http://127.0.0.1:{port}"
            bearer = Tokens(base)

            if mode == "auto":
                school = str(w.school_a)
                opened = httpx.post(
                    f"{base}/api/v1/cases",
                    headers={"Authorization": f"Bearer {bearer('demo-staff-a')}"},
                    json={
                        "school_id": school,
                        "reporter_type": "student",
                        "channel": "in_person",
                        "place": "school",
                        "summary": "Bench",
                    },
                    timeout=60,
                )
                opened.raise_for_status()
                new_case = opened.json()["id"]
                paths = reads(url, w, new_case, busy)
            for label, (user, path) in paths.items():
                results.setdefault(label, {})[mode] = timed(base, path, bearer(user), requests)
                print(f"  {mode}: {label}: {results[label][mode][0]:.1f} ms", file=sys.stderr, flush=True)
            process.terminate()
            process.wait(timeout=30)
            process = None
        engine = create_engine(url)
        with engine.connect() as connection:
            report = chain.verify(connection)
        engine.dispose()
        print(f"N = {n:,}: chain {'verified' if report.ok else 'BROKEN'}", flush=True)
        if not report.ok:
            raise SystemExit([vars(c) for c in report.chains])
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="comma-separated case counts")
    parser.add_argument("--entries", type=int, default=1_000_000, help="audit entries loaded at every size")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per read and plan mode")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[int, dict[str, dict[str, tuple[float, float]]]] = {}
    for n in sizes:
        started = time.perf_counter()
        table[n] = run_size(n, args.entries, args.requests)
        print(f"N = {n:,} took {time.perf_counter() - started:.0f} s in all", flush=True)
        for label, modes in table[n].items():  # as each size ends: a long run's partial results are not lost
            print(
                f"  {label}: " + ", ".join(f"{m} {med:.1f} ({p95:.1f})" for m, (med, p95) in modes.items()), flush=True
            )
    first = sizes[0]
    header = " | ".join(f"{n:,}" for n in sizes)
    for mode, title in (("auto", "default plans"), ("generic", "force_generic_plan")):
        print(f"\n{title}: median (p95) ms, ratio to N = {first:,}")
        print(f"| read | {header} | ratio at {sizes[-1]:,} |")
        print("|---|" + "---|" * len(sizes) + "---|")
        for label in table[first]:
            cells = [f"{table[n][label][mode][0]:.1f} ({table[n][label][mode][1]:.1f})" for n in sizes]
            ratio = table[sizes[-1]][label][mode][0] / table[first][label][mode][0]
            print(f"| {label} | {' | '.join(cells)} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
