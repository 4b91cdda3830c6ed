"""Benchmark: an audited case read against two reads with no audit entry.

On a throwaway PostgreSQL database (migrated, demo data, one case opened by
demo-staff-a), serve the service and the two bench-only baselines
(``bench/baseline_app.py``: the same authorization work without the audit
entry, and the plainest template read: token, user, case) each with uvicorn,
2 worker processes, and load each with wrk (16 connections) in alternating
rounds, in the same run.  Then check that the audit log holds one entry per
audited read and verifies.

    .venv/bin/python bench/case_read.py [--seconds 10] [--rounds 3] [--metrics] [--way bearer|session]

``--metrics`` also serves the service with its metrics on
(SEXTO_METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR), loaded in the same rounds,
to measure what they cost, and checks that a scrape counts every read.

``--way session``: the service's reads (audited and metered) are made with a
browser session's cookie (``POST /api/v1/auth/sessions``); the baseline,
which has no sessions, keeps its bearer token.

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import secrets
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
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
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


def free_port() -> int:
    """A port no one listens on now: several people may run benchmarks on one machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(target: str, port: int, env: dict[str, str], *, wait_seconds: float = 60) -> subprocess.Popen:
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
    deadline = time.monotonic() + wait_seconds
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
    parser.add_argument("--metrics", action="store_true", help="the audited service with its metrics on")
    parser.add_argument("--way", choices=("bearer", "session"), default="bearer")
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
        ports = {"audited": free_port(), "baseline": free_port(), "plain": free_port()}
        processes.append(serve("app.main:create_app", ports["audited"], env))
        processes.append(serve("bench.baseline_app:create_baseline_app", ports["baseline"], env))
        processes.append(serve("bench.baseline_app:create_plain_app", ports["plain"], env))
        metrics_token = secrets.token_hex(32)
        if args.metrics:
            # The same service with its metrics on, loaded in the same rounds.
            ports["metered"] = free_port()
            metered_env = env | {
                "SEXTO_METRICS_TOKEN": metrics_token,
                "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
            }
            processes.append(serve("app.main:create_app", ports["metered"], metered_env))
        service = f"http://127.0.0.1:{ports['audited']}"
        token, case_id = staff_case(service, PASSWORD)
        path = f"/api/v1/cases/{case_id}"
        bearer = f"Authorization: Bearer {token}"
        headers = dict.fromkeys(ports, bearer)
        if args.way == "session":
            opened = httpx.post(
                f"{service}/api/v1/auth/sessions",
                json={"username": "demo-staff-a", "password": PASSWORD},
                timeout=60,
            )
            cookie = f"Cookie: sexto_session={opened.cookies['sexto_session']}"
            headers.update({label: cookie for label in ports if label not in ("baseline", "plain")})
        for label, port in ports.items():  # warm up
            wrk(f"http://127.0.0.1:{port}{path}", headers[label], 2)
        with engine.connect() as connection:
            before = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
        results: dict[str, list[dict[str, float]]] = {label: [] for label in ports}
        audited_requests = 0
        metered_requests = 0
        for _ in range(args.rounds):
            for label in ("plain", "baseline", "audited", "metered"):
                if label not in ports:
                    continue
                result = wrk(f"http://127.0.0.1:{ports[label]}{path}", headers[label], args.seconds)
                results[label].append(result)
                if label not in ("baseline", "plain"):
                    audited_requests += result["requests"]
                if label == "metered":
                    metered_requests += result["requests"]
        with engine.connect() as connection:
            after = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
            report = chain.verify(connection)
        engine.dispose()

        def summary(label: str) -> dict[str, float]:
            rows = results[label]
            return {key: statistics.median(row[key] for row in rows) for key in ("rps", "p50", "p99")} | {
                "errors": sum(r["errors"] for r in rows)
            }

        audited, baseline, plain = summary("audited"), summary("baseline"), summary("plain")
        print(
            f"plain template read: {plain['rps']:,.0f} req/s, p50 {plain['p50']:.1f} ms, p99 {plain['p99']:.1f} ms, errors {plain['errors']}"
        )
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
        print(
            f"ratio audited/plain: {audited['rps'] / plain['rps']:.2f}, p99 audited/plain: {audited['p99'] / plain['p99']:.2f} "
            "(issue #17's target: throughput >= 1.0, p99 no higher)"
        )
        if args.metrics:
            metered = summary("metered")
            print(
                f"audited, metrics on: {metered['rps']:,.0f} req/s, p50 {metered['p50']:.1f} ms, p99 {metered['p99']:.1f} ms, errors {metered['errors']}"
            )
            print(
                f"ratio metered/baseline: {metered['rps'] / baseline['rps']:.2f}, metered/audited: {metered['rps'] / audited['rps']:.2f}"
            )
        # wrk may count a request cut at the end of a round that the server still completed.
        print(
            f"audit entries written: {after - before:,} for {audited_requests:,} audited reads counted by wrk; chain {'verified' if report.ok else 'BROKEN'}"
        )
        if not report.ok:
            print([vars(c) for c in report.chains], report.checkpoint_problems)
        if args.metrics:
            scraped = httpx.get(
                f"http://127.0.0.1:{ports['metered']}/metrics", headers={"Authorization": f"Bearer {metrics_token}"}
            ).text
            counted = sum(
                sample.value
                for family in text_string_to_metric_families(scraped)
                for sample in family.samples
                if sample.name == "sexto_http_requests_total"
                and sample.labels == {"method": "GET", "route": "/api/v1/cases/{case_id}", "status": "200"}
            )
            print(
                f"case reads the metrics counted: {counted:,.0f} for {metered_requests:,} counted by wrk (and the warm-up)"
            )
        if baseline["errors"]:
            print(
                "baseline answered:",
                httpx.get(
                    f"http://127.0.0.1:{ports['baseline']}{path}", headers={"Authorization": f"Bearer {token}"}
                ).text[:300],
            )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
