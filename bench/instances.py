"""Benchmark: one instance, then two, on one PostgreSQL database.

On a throwaway PostgreSQL database (migrated, demo data, cases opened by
demo-staff-a), serve the service with 1 and then with 2 instances, each its
own uvicorn with ``--workers N``, all on the one database (and then one
instance with the workers of the two: the same processes, one instance), and load them with
wrk: the same number of connections in all, split evenly over the instances
(one wrk per instance, at the same time).  Two loads, each for rounds of a
few seconds:

* read: the audited case read (``GET /api/v1/cases/{id}``), one audit entry each;
* write: a note added to a case (``POST /api/v1/cases/{id}/notes``), over 16
  cases in turn: the note, the case's lock and one audit entry each.

It prints, per setup and load, the requests per second of all instances
together and each instance's share, and p50/p99 (the worst instance's: wrk
measures each instance apart); then checks that the audit log holds an entry
per request and verifies.  The ceiling every instance shares is the one audit
chain's append rate: measure it with ``bench/audit_append.py``.  wrk, the
instances and PostgreSQL share the machine: on a small one the figures are
theirs together, not an instance's alone.

    .venv/bin/python -m bench.instances [--setups 1x2,2x2,1x4] [--seconds 10] [--rounds 2] [--connections 16]

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.audit import chain  # noqa: E402
from app.audit.models import AuditEntry  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.orgs.service import local_today  # noqa: E402
from app.security import PasswordHasher  # noqa: E402
from bench.common import figures, staff_case  # noqa: E402
from bench.load import free_port  # noqa: E402

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret"
WRITE_CASES = 16

# wrk's script for the write: POST a note, each request to the next case.
WRITE_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local paths = {%s}
local body = '{"text": "Rencontre de suivi ; ressources remises."}'
local turn = 0
-- Where this wrk starts in the list (its instance's share): two wrk that
-- started together would otherwise write to the same cases at the same moments.
init = function(args)
  turn = tonumber(args[1]) or 0
end
request = function()
  turn = turn + 1
  return wrk.format(nil, paths[(turn %% #paths) + 1], nil, body)
end
"""


def serve(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--workers",
            str(workers),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-proxy-headers",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    raise RuntimeError("an instance did not start")


def wrk(url: str, token: str, seconds: int, connections: int, script: Path | None, start: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url, *(["--", str(start)] if script else [])], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return figures(done.stdout)


def load(
    ports: list[int], path: str, token: str, seconds: int, connections: int, script: Path | None
) -> dict[str, float]:
    """One wrk per instance at the same time, the connections split evenly."""
    each = max(1, connections // len(ports))
    share = WRITE_CASES // len(ports)
    with ThreadPoolExecutor(max_workers=len(ports)) as pool:
        results = list(
            pool.map(
                lambda number: wrk(
                    f"http://127.0.0.1:{ports[number]}{path}", token, seconds, each, script, number * share
                ),
                range(len(ports)),
            )
        )
    return {
        "rps": sum(result["rps"] for result in results),
        "shares": [result["rps"] for result in results],
        "p50": max(result["p50"] for result in results),
        "p99": max(result["p99"] for result in results),
        "requests": sum(result["requests"] for result in results),
        "errors": sum(result["errors"] for result in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--setups",
        default="1x2,2x2,1x4",
        help="instances x uvicorn workers each, in order (the first opens the cases); the last, one instance "
        "with as many workers as the two, tells what two instances cost from what more processes gain",
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of one round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per setup and load (the median is printed)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections in all, over the instances")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document too")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    var_dir = Path(tempfile.mkdtemp(prefix="sexto-instances-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    # Checkpoints as in production (every 1,000 entries), not by time: the
    # rounds are short.
    env.update(SEXTO_DATABASE_URL=url, SEXTO_VAR_DIR=str(var_dir), SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0")
    engine = create_engine(url)
    processes: list[subprocess.Popen] = []
    results: dict[tuple[int, str], dict[str, float]] = {}
    try:
        upgrade(url)
        settings = Settings(database_url=url, var_dir=var_dir)
        with Session(engine) as session:
            load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
        script = var_dir / "write.lua"
        setups = [tuple(int(n) for n in setup.split("x")) for setup in args.setups.split(",")]
        token = case_id = ""
        for instances, workers in setups:
            ports = [free_port() for _ in range(instances)]
            # Started together, as replicas are.
            processes = [serve(port, workers, env) for port in ports]
            for port, process in zip(ports, processes, strict=True):
                wait_ready(port, process)
            base = f"http://127.0.0.1:{ports[0]}"
            if not token:
                token, case_id = staff_case(base, PASSWORD)
                headers = {"Authorization": f"Bearer {token}"}
                school = httpx.get(f"{base}/api/v1/cases/{case_id}", headers=headers).json()["school_id"]
                body = {"school_id": school, "reporter_type": "student", "channel": "in_person", "place": "school"}
                cases = [
                    httpx.post(f"{base}/api/v1/cases", headers=headers, json={**body, "summary": "Bench"}).json()["id"]
                    for _ in range(WRITE_CASES)
                ]
                paths = ", ".join(f'"/api/v1/cases/{case}/notes"' for case in cases)
                script.write_text(WRITE_SCRIPT % paths)
            loads = {"read": (f"/api/v1/cases/{case_id}", None), "write": ("/api/v1/cases/x/notes", script)}
            for path, lua in loads.values():
                load(ports, path, token, 2, args.connections, lua)  # warm up
            with engine.connect() as connection:
                before = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            counted = 0
            for label, (path, lua) in loads.items():
                rounds = [load(ports, path, token, args.seconds, args.connections, lua) for _ in range(args.rounds)]
                counted += sum(int(round_["requests"]) for round_ in rounds)
                results[(instances, workers, label)] = {
                    key: statistics.median(float(round_[key]) for round_ in rounds) for key in ("rps", "p50", "p99")
                } | {
                    "errors": sum(round_["errors"] for round_ in rounds),
                    "shares": [
                        statistics.median(shares) for shares in zip(*(r["shares"] for r in rounds), strict=True)
                    ],
                }
            with engine.connect() as connection:
                after = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            # wrk does not count the requests cut at the end of a round: a few more entries than requests.
            print(
                f"{instances} instance(s) x {workers} workers: {after - before:,} audit entries for {counted:,} requests counted by wrk",
                flush=True,
            )
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            processes = []
        with engine.connect() as connection:
            report = chain.verify(connection)
        cores = os.cpu_count()
        print(
            f"\n{args.connections} wrk connections in all, "
            f"median of {args.rounds} rounds of {args.seconds} s; {cores} cores shared by wrk, the instances "
            "and PostgreSQL"
        )
        print(f"{'setup':<18}{'load':<7}{'req/s':>8}{'per instance':>20}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for (instances, workers, label), figures_ in results.items():
            shares = " + ".join(f"{share:,.0f}" for share in figures_["shares"])
            setup = f"{instances} x {workers} workers"
            print(
                f"{setup:<18}{label:<7}{figures_['rps']:>8,.0f}{shares:>20}{figures_['p50']:>9.1f}"
                f"{figures_['p99']:>9.1f}{figures_['errors']:>8.0f}"
            )
        print(f"audit chain {'verified' if report.ok else 'BROKEN'}")
        if args.json:
            print(json.dumps({f"{n}x{w}-{label}": value for (n, w, label), value in results.items()}))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
