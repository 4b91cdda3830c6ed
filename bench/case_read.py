"""Benchmark: an audited case read against the same read with no audit entry.

On a throwaway PostgreSQL database (migrated, demo data, one case opened by
demo-staff-a), serve the service and the bench-only baseline
(``bench/baseline_app.py``) each with uvicorn, 2 worker processes, and load
each with wrk (16 connections) in alternating rounds, in the same run.  Then
check that the audit log holds one entry per audited read and verifies.

    .venv/bin/python bench/case_read.py [--seconds 10] [--rounds 3] [--way bearer|session]

``--way session``: the service's read is made with a browser session's
cookie (``POST /api/v1/auth/sessions``); the baseline, which has no
sessions, keeps its bearer token.

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret"


def serve(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/cases/x", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def wrk(url: str, header: str, seconds: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    return figures(output)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--way", choices=("bearer", "session"), default="bearer")
    parser.add_argument("--port", type=int, default=18801, help="the service's; the baseline's is the next one")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    var_dir = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(SEXTO_DATABASE_URL=url, SEXTO_VAR_DIR=str(var_dir), SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0")
    processes = []
    try:
        upgrade(url)
        settings = Settings(database_url=url, var_dir=var_dir)
        engine = create_engine(url)
        with Session(engine) as session:
            load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
        audited_port, baseline_port = args.port, args.port + 1
        for port in (audited_port, baseline_port):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    sys.exit(f"port {port} is taken: another bench is running (choose --port)")
        processes.append(serve("app.main:create_app", audited_port, env))
        processes.append(serve("bench.baseline_app:create_baseline_app", baseline_port, env))
        service = f"http://127.0.0.1:{audited_port}"
        token, case_id = staff_case(service, PASSWORD)
        path = f"/api/v1/cases/{case_id}"
        headers = {audited_port: f"Authorization: Bearer {token}", baseline_port: f"Authorization: Bearer {token}"}
        if args.way == "session":
            opened = httpx.post(
                f"{service}/api/v1/auth/sessions",
                json={"username": "demo-staff-a", "password": PASSWORD},
                timeout=60,
            )
            headers[audited_port] = f"Cookie: sexto_session={opened.cookies['sexto_session']}"
        for port in (audited_port, baseline_port):  # warm up
            wrk(f"http://127.0.0.1:{port}{path}", headers[port], 2)
        with engine.connect() as connection:
            before = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
        results: dict[str, list[dict[str, float]]] = {"audited": [], "baseline": []}
        audited_requests = 0
        for _ in range(args.rounds):
            for label, port in (("baseline", baseline_port), ("audited", audited_port)):
                result = wrk(f"http://127.0.0.1:{port}{path}", headers[port], args.seconds)
                results[label].append(result)
                if label == "audited":
                    audited_requests += result["requests"]
        with engine.connect() as connection:
            after = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
            report = chain.verify(connection)
        engine.dispose()

        def summary(label: str) -> dict[str, float]:
            rows = results[label]
            return {key: statistics.median(row[key] for row in rows) for key in ("rps", "p50", "p99")} | {
                "errors": sum(r["errors"] for r in rows)
            }

        audited, baseline = summary("audited"), summary("baseline")
        print(
            f"baseline (no audit): {baseline['rps']:,.0f} req/s, p50 {baseline['p50']:.1f} ms, p99 {baseline['p99']:.1f} ms, errors {baseline['errors']}"
        )
        print(
            f"audited read:        {audited['rps']:,.0f} req/s, p50 {audited['p50']:.1f} ms, p99 {audited['p99']:.1f} ms, errors {audited['errors']}"
        )
        print(
            f"ratio audited/baseline: {audited['rps'] / baseline['rps']:.2f} (median of {args.rounds} rounds of {args.seconds} s; "
            f"the service read with a {'browser session' if args.way == 'session' else 'bearer token'})"
        )
        # wrk may count a request cut at the end of a round that the server still completed.
        print(
            f"audit entries written: {after - before:,} for {audited_requests:,} audited reads counted by wrk; chain {'verified' if report.ok else 'BROKEN'}"
        )
        if not report.ok:
            print([vars(c) for c in report.chains], report.checkpoint_problems)
        if baseline["errors"]:
            print(
                "baseline answered:",
                httpx.get(f"http://127.0.0.1:{baseline_port}{path}", headers={"Authorization": f"Bearer {token}"}).text[
                    :300
                ],
            )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
