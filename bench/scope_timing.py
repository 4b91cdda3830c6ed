"""Benchmark: does the time of a 404 tell whether a case exists?

A caller outside a case's scope must not learn that it exists, not even from
how long the answer takes.  This asks, in-process (no network noise), for a
case the caller may not see and for an id that does not exist, interleaved,
many times each, as several outside callers, and prints the median and
the 10th/90th percentiles of both, and their difference.  Timing is never
checked by a test (machines are noisy); read the figures.

    .venv/bin/python bench/scope_timing.py [--rounds 2000] [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlmodel import Session, select

from app.config import Settings
from app.db import create_db_engine
from app.demo import SCHOOL_A, load_demo
from app.main import create_app
from app.migrations import upgrade
from app.orgs.models import School
from app.orgs.service import local_today
from app.security import PasswordHasher

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password"
OUTSIDERS = ("demo-staff-b", "demo-staff-a2", "demo-police-a", "demo-dpj-a")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="requests of each kind per caller")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        database = f"sexto_bench_{uuid.uuid4().hex[:8]}"
        if args.engine == "sqlite":
            url = f"sqlite:///{var_dir / 'bench.db'}"
        else:
            admin = make_url(SERVER)
            with psycopg.connect(
                admin.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
            ) as c:
                c.execute(f'CREATE DATABASE "{database}"')
            url = admin.set(database=database).render_as_string(hide_password=False)
        try:
            settings = Settings(
                database_url=url,
                var_dir=var_dir,
                demo_password=PASSWORD,
                argon2_time_cost=1,
                argon2_memory_cost=1024,
                argon2_parallelism=1,
                audit_checkpoint_interval_seconds=0,
                maintenance_interval_seconds=0,
            )
            upgrade(url)
            engine = create_db_engine(url, pool_size=1)
            with Session(engine) as session:
                load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
                school_a = session.exec(select(School.id).where(School.name == SCHOOL_A)).one()
            engine.dispose()
            with TestClient(create_app(settings)) as client:

                def token(username: str) -> dict[str, str]:
                    answer = client.post(
                        "/api/v1/auth/token",
                        data={"grant_type": "password", "username": username, "password": PASSWORD},
                    )
                    return {"Authorization": f"Bearer {answer.json()['access_token']}"}

                body = {
                    "school_id": str(school_a),
                    "reporter_type": "student",
                    "channel": "in_person",
                    "place": "school",
                    "summary": "x",
                }
                staff = token("demo-staff-a")
                case = client.post("/api/v1/cases", json=body, headers=staff).json()
                person = {"role": "distributor", "is_minor": True, "grade": "Sec. 3", "student_id": "1", "name": "x"}
                person = client.post(f"/api/v1/cases/{case['id']}/participants", json=person, headers=staff).json()
                device = {
                    "kind": "phone",
                    "description": "x",
                    "owner_participant_id": person["id"],
                    "switched_off_confirmed": True,
                    "content_not_viewed": True,
                    "seal_number": "x",
                    "storage_location": "x",
                }
                device = client.post(f"/api/v1/cases/{case['id']}/devices", json=device, headers=staff).json()
                # A case read, and a device's custody read: the device's refusal is tied to its case in the log.
                pairs = {
                    "case": (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{uuid.uuid4()}"),
                    "device": (
                        f"/api/v1/devices/{device['id']}/custody-events",
                        f"/api/v1/devices/{uuid.uuid4()}/custody-events",
                    ),
                }
                print(f"{args.rounds} requests of each kind per caller, interleaved, in-process, {args.engine}")
                print(
                    f"{'caller, path':<24}{'hidden p10/p50/p90 µs':>26}{'missing p10/p50/p90 µs':>27}{'p50 difference':>17}"
                )
                for user in OUTSIDERS:
                    headers = token(user)
                    for kind, (hidden, missing) in pairs.items():
                        times: dict[str, list[float]] = {hidden: [], missing: []}
                        for _ in range(50):  # warm up
                            client.get(hidden, headers=headers)
                            client.get(missing, headers=headers)
                        for round_ in range(args.rounds):
                            for path in (hidden, missing) if round_ % 2 else (missing, hidden):
                                start = time.perf_counter()
                                answer = client.get(path, headers=headers)
                                times[path].append((time.perf_counter() - start) * 1e6)
                                assert answer.status_code == 404, (user, path, answer.status_code)
                        h, m = times[hidden], times[missing]
                        difference = statistics.median(h) - statistics.median(m)
                        print(
                            f"{user + ', ' + kind:<24}{percentile(h, 0.1):>8.0f}/{statistics.median(h):.0f}/{percentile(h, 0.9):.0f}"
                            f"{percentile(m, 0.1):>13.0f}/{statistics.median(m):.0f}/{percentile(m, 0.9):.0f}"
                            f"{difference:>+12.0f} µs ({difference / statistics.median(m):+.1%})"
                        )
        finally:
            if args.engine == "postgresql":
                with psycopg.connect(
                    make_url(SERVER).set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
                ) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
