"""Benchmark: a bounded load run on loopback, then a count of every acknowledged write.

On a throwaway PostgreSQL database (``sexto migrate``, ``sexto demo``), serve
the service with uvicorn, 2 worker processes, and drive it for a fixed time
with many concurrent clients (httpx, asyncio), signed in as the two demo users
of school A who may handle cases.  Each client, over and over: opens a case,
adds a participant, submits a grid with that person and reads the case.  Some
participants go to a case another client of the same user opened (the case
lock under contention), and some writes are sent twice at the same moment
with the same key (a client retrying while its first try is still in flight).
Every write carries a unique ``Idempotency-Key`` and every request its own
``X-Request-ID``; every acknowledged write (2xx and the created id) is kept.

Optional retry pass (``--retry-sample N``, 0 to skip): N acknowledged writes
are sent again with the same key and body; each must give the same id, marked
``Idempotent-Replayed``, and the database must not gain a row.

Then, against the database directly:

* acknowledged ids are unique, and each exists, under the parent it was
  acknowledged for (nothing duplicated, nothing lost);
* every case, participant and grid row was made by exactly one of the run's
  keys, the one acknowledged with that id (or a request whose outcome the
  client never saw): no duplicate from a retry or a race;
* every such row has exactly one audit entry for its creation, and every
  creation entry its row (no partial write, no entry without its write);
* every request that got an answer has exactly one audit entry (by request id);
* participants' labels (P1, P2, ...) are unique per case, case references per school;
* no error answer (4xx or 5xx) and no transport error;
* the audit chain verifies (``sexto audit verify``).

It prints requests/s, p50/p99 latency per operation and the checks, and exits
1 when a check fails.  The clients share the machine with the server: on a
2-core machine the figures are the pair's, not the server's alone.

    .venv/bin/python -m bench.load [--seconds 25] [--clients 32] [--retry-sample 200] [--keep-database]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from tests.protocol_helpers import answers  # noqa: E402

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret"
USERS = ("demo-staff-a", "demo-lead-a")  # the demo users who may handle cases at school A
WRITES = {"open_case": "sexto_case", "add_participant": "participant", "submit_grid": "grid_submission"}
ROLES = ("depicted", "author", "distributor", "recipient", "witness")


@dataclass
class Call:
    """One HTTP request of the run and what came of it."""

    kind: str
    request_id: str
    latency: float = 0.0
    status: int | None = None  # None: no answer (transport error, timeout)
    error: str | None = None
    key: str | None = None
    created: str | None = None  # the id a 2xx write acknowledged
    parent: str | None = None  # case id of a participant or grid; participant id of a grid
    replayed: bool = False


@dataclass
class Write:
    """What is needed to send a write again with the same key."""

    kind: str
    user: str
    path: str
    body: dict
    key: str


@dataclass
class Run:
    base: str
    tokens: dict[str, str]
    school_id: str
    deadline: float
    race_fraction: float
    shared_fraction: float
    calls: list[Call] = field(default_factory=list)
    writes: dict[str, Write] = field(default_factory=dict)  # by key
    pools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # recent cases per user


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True)


def serve(port: int, env: dict[str, str], log) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the service did not start")


# --- the clients ------------------------------------------------------------------------------


async def send(
    run: Run,
    http: httpx.AsyncClient,
    kind: str,
    method: str,
    path: str,
    user: str,
    body: dict | None = None,
    key: str | None = None,
) -> Call:
    call = Call(kind=kind, request_id=f"load-{uuid.uuid4().hex}", key=key)
    headers = {"Authorization": f"Bearer {run.tokens[user]}", "X-Request-ID": call.request_id}
    if key is not None:
        headers["Idempotency-Key"] = key
    started = time.perf_counter()
    try:
        response = await http.request(method, f"{run.base}/api/v1{path}", headers=headers, json=body)
    except httpx.HTTPError as exc:
        call.error = f"{type(exc).__name__}: {exc}"[:200]
    else:
        call.status = response.status_code
        call.replayed = response.headers.get("idempotent-replayed") == "true"
        if response.is_success and key is not None:
            call.created = response.json()["id"]
        elif not response.is_success:
            call.error = response.text[:300]
    call.latency = time.perf_counter() - started
    run.calls.append(call)
    return call


async def write(
    run: Run, http: httpx.AsyncClient, kind: str, path: str, user: str, body: dict, parent: str | None
) -> str | None:
    """A write with a fresh key; sometimes sent twice at once. The created id, or None."""
    key = f"load-{uuid.uuid4()}"
    run.writes[key] = Write(kind, user, path, body, key)
    copies = 2 if random.random() < run.race_fraction else 1
    calls = await asyncio.gather(*(send(run, http, kind, "POST", path, user, body, key) for _ in range(copies)))
    for call in calls:
        call.parent = parent
    ids = {call.created for call in calls if call.created}
    return ids.pop() if len(ids) == 1 else None


async def client(run: Run, http: httpx.AsyncClient, user: str, number: int) -> None:
    flow = 0
    while time.monotonic() < run.deadline:
        flow += 1
        case_body = {
            "school_id": run.school_id,
            "reporter_type": "student",
            "channel": "in_person",
            "place": "school",
            "summary": f"Charge {number}-{flow} : une photo circulerait.",
        }
        case_id = await write(run, http, "open_case", "/cases", user, case_body, None)
        if case_id is None:
            continue
        pool = run.pools[user]
        pool.append(case_id)
        del pool[:-16]
        target = random.choice(pool) if random.random() < run.shared_fraction else case_id
        person_body = {
            "role": random.choice(ROLES),
            "is_minor": True,
            "grade": "Sec. 3",
            "student_id": f"{random.randrange(10**7):07d}",
            "name": "Élève Charge",
        }
        person = await write(run, http, "add_participant", f"/cases/{target}/participants", user, person_body, target)
        if person is not None:
            grid_body = {"participant_id": person, "template_version": 1, "answers": answers(ages=[15])}
            await write(run, http, "submit_grid", f"/cases/{target}/grids", user, grid_body, target)
        await send(run, http, "read_case", "GET", f"/cases/{target}", user)


async def retry_pass(run: Run, http: httpx.AsyncClient, sample: int, concurrency: int) -> list[tuple[Write, str, Call]]:
    """Send a sample of acknowledged writes again, same key and body."""
    acknowledged = {call.key: call.created for call in run.calls if call.created}
    keys = random.sample(sorted(acknowledged), min(sample, len(acknowledged)))
    limit = asyncio.Semaphore(concurrency)
    results = []

    async def again(key: str) -> None:
        original = run.writes[key]
        async with limit:
            call = await send(
                run, http, f"retry_{original.kind}", "POST", original.path, original.user, original.body, key
            )
        results.append((original, acknowledged[key], call))

    await asyncio.gather(*(again(key) for key in keys))
    return results


async def drive(run: Run, clients: int) -> float:
    """The load itself: its duration, from the first request to the last answer.
    Each client has its own connections, as separate clients would (two: a
    race sends two requests at once)."""

    async def one(number: int) -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=2)) as http:
            await client(run, http, USERS[number % len(USERS)], number)

    started = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(clients)))
    return time.monotonic() - started


# --- the checks -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def count_rows(connection: psycopg.Connection) -> dict[str, int]:
    return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in WRITES.values()}


def check_database(connection: psycopg.Connection, calls: list[Call], checks: list[tuple[str, bool, str]]) -> None:
    def check(name: str, problems: list[str], total: int | None = None) -> None:
        detail = (
            f"{len(problems)} problem(s): " + "; ".join(problems[:5])
            if problems
            else (f"{total:,} checked" if total is not None else "ok")
        )
        checks.append((name, not problems, detail))

    main_calls = [c for c in calls if not c.kind.startswith("retry_")]
    writes = [c for c in main_calls if c.kind in WRITES]
    # Acknowledged ids: one key each (a race pair shares its key), one id per key.
    ids_by_key: dict[str, set[str]] = defaultdict(set)
    keys_by_id: dict[str, set[str]] = defaultdict(set)
    for call in writes:
        if call.created:
            ids_by_key[call.key].add(call.created)
            keys_by_id[call.created].add(call.key)
    unknown = {c.key for c in writes if c.status is None} - set(ids_by_key)
    problems = [f"key {k} acknowledged ids {sorted(v)}" for k, v in ids_by_key.items() if len(v) > 1]
    problems += [f"id {i} acknowledged for keys {sorted(v)}" for i, v in keys_by_id.items() if len(v) > 1]
    check("acknowledged ids unique (one id per key, one key per id)", problems, len(ids_by_key))

    rows = {
        "open_case": {str(r[0]): None for r in connection.execute("SELECT id FROM sexto_case")},
        "add_participant": {str(r[0]): str(r[1]) for r in connection.execute("SELECT id, case_id FROM participant")},
        "submit_grid": {
            str(r[0]): (str(r[1]), str(r[2]))
            for r in connection.execute("SELECT id, case_id, participant_id FROM grid_submission")
        },
    }
    acknowledged = {c.key: c for c in writes if c.created}
    problems = []
    for call in acknowledged.values():
        row = rows[call.kind]
        if call.created not in row:
            problems.append(f"{call.kind} {call.created} (key {call.key}) missing")
        elif call.kind == "add_participant" and row[call.created] != call.parent:
            problems.append(
                f"participant {call.created} under case {row[call.created]}, acknowledged for {call.parent}"
            )
        elif call.kind == "submit_grid" and row[call.created][0] != call.parent:
            problems.append(f"grid {call.created} under case {row[call.created][0]}, acknowledged for {call.parent}")
    check("every acknowledged write exists, under its parent", problems, len(acknowledged))

    # Which key made each row: the kept answer of each key names what it created.
    made_by: dict[str, list[str]] = defaultdict(list)
    for key, location in connection.execute("SELECT key, location FROM idempotency_record WHERE location IS NOT NULL"):
        made_by[location.rstrip("/").rpartition("/")[2]].append(key)
    problems = []
    total = 0
    for kind, row in rows.items():
        for row_id in row:
            total += 1
            keys = made_by.get(row_id, [])
            if len(keys) != 1:
                problems.append(f"{kind} {row_id} made by {len(keys)} keys {keys[:3]}")
            elif keys[0] in acknowledged and acknowledged[keys[0]].created != row_id:
                problems.append(
                    f"{kind} {row_id} made by key {keys[0]}, which was acknowledged with {acknowledged[keys[0]].created} (duplicate)"
                )
            elif keys[0] not in acknowledged and keys[0] not in unknown:
                problems.append(
                    f"{kind} {row_id} made by key {keys[0]}, which was never acknowledged nor left without answer"
                )
    check("every row made by exactly one key, the one acknowledged with it", problems, total)

    creation = defaultdict(list)
    for action, resource_id, case_id, _reason in connection.execute(
        "SELECT action, resource_id, case_id, reason FROM audit_entry"
        " WHERE action = ANY(%s) AND status_code BETWEEN 200 AND 299 AND reason IS NULL",
        (list(WRITES),),
    ):
        creation[(action, resource_id)].append(case_id)
    problems = []
    for kind, row in rows.items():
        for row_id, parent in row.items():
            entries = creation.pop((kind, row_id), [])
            case_id = row_id if kind == "open_case" else parent if kind == "add_participant" else parent[0]
            if len(entries) != 1:
                problems.append(f"{kind} {row_id} has {len(entries)} creation entries")
            elif entries[0] != case_id:
                problems.append(f"{kind} {row_id}'s creation entry names case {entries[0]}, not {case_id}")
    problems += [f"creation entry {action} {resource_id} without its row" for action, resource_id in creation]
    check("each created row has exactly one creation audit entry, and each such entry its row", problems, total)

    audited = Counter(
        row[0] for row in connection.execute("SELECT request_id FROM audit_entry WHERE request_id LIKE 'load-%'")
    )
    problems = []
    for call in calls:
        found = audited.get(call.request_id, 0)
        if (call.status is not None and found != 1) or found > 1:
            problems.append(f"{call.kind} {call.request_id} (status {call.status}) has {found} audit entries")
    check("every answered request has exactly one audit entry", problems, len(calls))

    problems = [
        f"case {case_id} has {count} current participants labelled {label}"
        for case_id, label, count in connection.execute(
            "SELECT case_id, label, count(*) FROM participant WHERE supersedes_id IS NULL GROUP BY case_id, label HAVING count(*) > 1"
        )
    ]
    problems += [
        f"reference {reference} used {count} times"
        for reference, count in connection.execute(
            "SELECT reference, count(*) FROM sexto_case GROUP BY school_id, reference HAVING count(*) > 1"
        )
    ]
    check("participant labels unique per case, case references unique per school", problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=25, help="how long the clients keep starting requests")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients, each with its own connections")
    parser.add_argument(
        "--race-fraction", type=float, default=0.05, help="share of writes sent twice at once with one key"
    )
    parser.add_argument(
        "--shared-fraction", type=float, default=0.25, help="share of participants added to another client's case"
    )
    parser.add_argument(
        "--retry-sample", type=int, default=200, help="acknowledged writes sent again afterwards (0: no retry pass)"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the database in place to look into a failure"
    )
    args = parser.parse_args()
    random.seed(args.seed)

    name = f"sexto_load_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    direct = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    var_dir = Path(tempfile.mkdtemp(prefix="sexto-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_DEMO_PASSWORD=PASSWORD,
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0",
        SEXTO_MAINTENANCE_INTERVAL_SECONDS="0",
    )
    process = None
    log = open(var_dir / "server.log", "w+")  # noqa: SIM115 (closed in the finally below, after the server)
    checks: list[tuple[str, bool, str]] = []
    try:
        for command in (("migrate",), ("demo",)):
            done = cli(env, *command)
            if done.returncode:
                sys.exit(f"sexto {' '.join(command)} failed: {done.stderr}")
        port = free_port()
        process = serve(port, env, log)
        base = f"http://127.0.0.1:{port}"
        tokens = {}
        for user in USERS:
            answer = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"grant_type": "password", "username": user, "password": PASSWORD},
                timeout=30,
            )
            answer.raise_for_status()
            tokens[user] = answer.json()["access_token"]
        me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens[USERS[0]]}"}).json()
        school = me["scope"]["schools"][0]["id"]
        run = Run(base, tokens, school, time.monotonic() + args.seconds, args.race_fraction, args.shared_fraction)

        with psycopg.connect(direct) as connection:
            before_audit = connection.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        print(
            f"load: {args.clients} clients for {args.seconds:g} s against 2 uvicorn workers (PostgreSQL, loopback)...",
            flush=True,
        )
        elapsed = None
        retries: list = []

        async def phases() -> None:
            nonlocal elapsed, retries
            elapsed = await drive(run, args.clients)
            with psycopg.connect(direct) as connection:
                before = count_rows(connection)
            if args.retry_sample:
                limits = httpx.Limits(max_connections=args.clients + 8)
                async with httpx.AsyncClient(timeout=60, limits=limits) as http:
                    retries = await retry_pass(run, http, args.retry_sample, args.clients)
            with psycopg.connect(direct) as connection:
                after = count_rows(connection)
            if args.retry_sample:
                problems = [
                    f"{original.kind} key {original.key}: status {call.status}, id {call.created} (acknowledged {acked}), replayed {call.replayed}"
                    for original, acked, call in retries
                    if call.status != 201 or call.created != acked or not call.replayed
                ]
                problems += [
                    f"{table}: {before[table]:,} rows before the retry pass, {after[table]:,} after"
                    for table in before
                    if before[table] != after[table]
                ]
                detail = (
                    f"{len(problems)} problem(s): " + "; ".join(problems[:5])
                    if problems
                    else f"{len(retries):,} writes sent again, all replayed with the same id, no new row"
                )
                checks.append(("retry pass: same key gives the same answer and creates nothing", not problems, detail))

        asyncio.run(phases())
        main_calls = [c for c in run.calls if not c.kind.startswith("retry_")]

        print(
            f"\n{len(main_calls):,} requests in {elapsed:.1f} s: {len(main_calls) / elapsed:,.0f} req/s "
            f"({args.clients} clients; the clients run on the same machine as the server and PostgreSQL)"
        )
        print(f"{'operation':<22}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        by_kind: dict[str, list[Call]] = defaultdict(list)
        for call in run.calls:
            by_kind[call.kind].append(call)
        for kind, kind_calls in by_kind.items():
            latencies = [c.latency * 1000 for c in kind_calls if c.status is not None]
            errors = sum(1 for c in kind_calls if c.status is None or c.status >= 400)
            rate = f"{len(kind_calls) / elapsed:,.0f}" if not kind.startswith("retry_") else "-"
            print(
                f"{kind:<22}{len(kind_calls):>10,}{rate:>9}{percentile(latencies, 0.5):>9.1f}{percentile(latencies, 0.99):>9.1f}{errors:>8}"
            )
        acknowledged = {c.key for c in main_calls if c.created}
        races = Counter(c.key for c in main_calls if c.key)
        print(
            f"acknowledged writes: {len(acknowledged):,} "
            + ", ".join(f"{k} {len({c.key for c in main_calls if c.kind == k and c.created}):,}" for k in WRITES)
            + f"; writes sent twice at once with one key: {sum(1 for n in races.values() if n > 1):,}"
        )

        statuses = Counter(c.status for c in run.calls)
        failures = [c for c in run.calls if c.status is None or c.status >= 400]
        detail = ", ".join(
            f"{s if s is not None else 'no answer'}: {n:,}"
            for s, n in sorted(statuses.items(), key=lambda i: (i[0] is None, i[0] or 0))
        )
        if failures:
            detail += " — first: " + "; ".join(f"{c.kind} {c.status} {c.error}" for c in failures[:3])
        checks.insert(0, ("no error answer (4xx/5xx) and no transport error", not failures, detail))
        log.flush()
        log.seek(0)
        server_log = log.read()
        # The service logs where an unexpected error happened ("unhandled ...") and
        # each audit entry it could not write; uvicorn logs tracebacks.
        bad = [
            line
            for line in server_log.splitlines()
            if any(m in line for m in ("Traceback", "unhandled ", "could not be written"))
        ]
        detail = f"{len(bad)} line(s)" + (
            ": " + " | ".join(f"{n} x {line[:200]}" for line, n in Counter(bad).most_common(3)) if bad else ""
        )
        checks.append(("no error in the server's log", not bad, detail))

        with psycopg.connect(direct) as connection:
            check_database(connection, run.calls, checks)
            after_audit = connection.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        verify = cli(env, "audit", "verify")
        checks.append(
            (
                "audit chain verifies (sexto audit verify)",
                verify.returncode == 0,
                " / ".join(line for line in verify.stdout.splitlines() if line) or verify.stderr[-500:],
            )
        )
        print(f"audit entries added: {after_audit - before_audit:,} for {len(run.calls):,} requests")

        print("\nchecks:")
        for check_name, ok, check_detail in checks:
            print(f"  [{'PASS' if ok else 'FAIL'}] {check_name}: {check_detail}")
        failed = [c for c in checks if not c[1]]
        print(f"\n{'ALL CHECKS PASSED' if not failed else f'{len(failed)} CHECK(S) FAILED'}")
        return 1 if failed else 0
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        log.close()
        if not args.keep_database:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"database kept: {name} (service state and log in {var_dir})")


if __name__ == "__main__":
    raise SystemExit(main())
