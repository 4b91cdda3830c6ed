"""Benchmark: durable audit appends per second on one chain, several processes.

Each process appends entries in their own transactions (``chain.append`` then
COMMIT, synchronous_commit on), as the service does for each request; then the
chain is verified.  Target on a 2-core machine: at least 1,500 appends/s.

    .venv/bin/python bench/audit_append.py [--processes 8] [--appends 300] [--engine postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import make_url
from sqlmodel import Session

from app.audit import chain
from app.db import create_db_engine
from app.migrations import upgrade

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def worker(args: tuple[str, int]) -> list[float]:
    url, appends = args
    engine = create_db_engine(url, pool_size=1)
    latencies = []
    draft = chain.EntryDraft(
        actor_kind="user",
        actor_id=str(uuid.uuid4()),
        actor_role="school_staff",
        action="read_case",
        resource_type="cases",
        resource_id=str(uuid.uuid4()),
        case_id=str(uuid.uuid4()),
        status_code=200,
    )
    with Session(engine) as session:
        for _ in range(appends):
            started = time.perf_counter()
            chain.append_and_commit(session, draft)
            latencies.append(time.perf_counter() - started)
    engine.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    if args.engine == "postgresql":
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        worker((url, 1))  # the chain's head row exists before the race starts
        started = time.perf_counter()
        with Pool(args.processes) as pool:
            results = pool.map(worker, [(url, args.appends)] * args.processes)
        elapsed = time.perf_counter() - started
        latencies = sorted(latency for result in results for latency in result)
        total = len(latencies)
        engine = create_db_engine(url, pool_size=1)
        with engine.connect() as connection:
            report = chain.verify(connection)
        engine.dispose()
        broken = [c.problem for c in report.chains if not c.ok]
        print(
            f"{args.engine}: {args.processes} processes x {args.appends} appends = {total} in {elapsed:.2f} s: "
            f"{total / elapsed:,.0f} appends/s, p50 {latencies[total // 2] * 1000:.1f} ms, "
            f"p99 {latencies[int(total * 0.99)] * 1000:.1f} ms; chain {broken or 'verified'}"
        )
    finally:
        if args.engine == "postgresql":
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
