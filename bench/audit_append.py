"""Benchmark: durable audit appends per second, several processes, on one
chain and then spread over the chains of several school boards, in the same
run.

Each process appends entries in their own transactions
(``chain.append_and_commit``, synchronous_commit on), as the service does for
each request: first all on one chain (every append of the deployment waits
for the one before, as when every entry went to the platform's chain), then
each append on the chain of one of ``--boards`` boards picked at random (as
the requests of a deployment's boards spread over its instances).  Then every
chain is verified.  Prints both figures and their ratio; the target is at
least 2 (docs/benchmarks.md).

    .venv/bin/python bench/audit_append.py [--processes 8] [--appends 300] [--boards 16]
        [--flush-ms 0] [--engine postgresql|sqlite]

``--flush-ms``: every commit of the throwaway database waits that long before
its WAL flush (PostgreSQL's ``commit_delay``, with ``commit_siblings`` 0:
commits that arrive meanwhile share the flush), as on a server whose disk
flush or synchronous standby takes that long.  A chain's head stays locked
through its commit, so one chain then passes at most one append per flush,
while chains of different boards commit together; on a loaded 2-core
machine whose local flush is fast, both figures are bound by the CPU instead.
"""

from __future__ import annotations

import argparse
import os
import random
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


def worker(args: tuple[str, int, list[str]]) -> list[float]:
    """``appends`` entries, each on one of ``chains`` picked at random; the
    latency of each."""
    url, appends, chains = args
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
    pick = random.Random().choice
    with Session(engine) as session:
        for _ in range(appends):
            started = time.perf_counter()
            chain.append_and_commit(session, draft, pick(chains))
            latencies.append(time.perf_counter() - started)
    engine.dispose()
    return latencies


def run(url: str, processes: int, appends: int, chains: list[str]) -> tuple[float, list[float]]:
    """Every process's appends at once: appends per second, and the latencies."""
    for name in chains:
        worker((url, 1, [name]))  # each chain's head row exists before the race starts
    started = time.perf_counter()
    with Pool(processes) as pool:
        results = pool.map(worker, [(url, appends, chains)] * processes)
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for result in results for latency in result)
    return len(latencies) / elapsed, latencies


def describe(label: str, rate: float, latencies: list[float]) -> str:
    total = len(latencies)
    return (
        f"{label}: {total} appends, {rate:,.0f} appends/s, p50 {latencies[total // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(total * 0.99)] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--boards", type=int, default=16)
    parser.add_argument("--flush-ms", type=float, default=0.0)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    if args.engine == "postgresql":
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
            if args.flush_ms:
                delay = int(args.flush_ms * 1000)
                connection.execute(f'ALTER DATABASE "{name}" SET commit_delay = {delay}')
                connection.execute(f'ALTER DATABASE "{name}" SET commit_siblings = 0')
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        one_rate, one = run(url, args.processes, args.appends, [chain.PLATFORM_CHAIN])
        boards = [chain.board_chain(uuid.uuid4()) for _ in range(args.boards)]
        spread_rate, spread = run(url, args.processes, args.appends, boards)
        engine = create_db_engine(url, pool_size=1)
        with engine.connect() as connection:
            report = chain.verify(connection)
        engine.dispose()
        broken = [c.problem for c in report.chains if not c.ok]
        flush = f", commits flushed after {args.flush_ms:g} ms" if args.flush_ms else ""
        print(f"{args.engine}, {args.processes} processes x {args.appends} appends{flush}:")
        print("  " + describe("one chain", one_rate, one))
        print("  " + describe(f"spread over {args.boards} boards' chains", spread_rate, spread))
        print(
            f"  ratio {spread_rate / one_rate:.2f}; {len(report.chains)} chains "
            f"{broken or 'verified'} ({sum(c.entries for c in report.chains)} entries)"
        )
    finally:
        if args.engine == "postgresql":
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
