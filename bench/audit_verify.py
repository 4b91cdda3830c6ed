"""Benchmark: verify one million audit entries.

Builds a throwaway PostgreSQL (or SQLite) database, fills one chain with N
genuine entries (hashed exactly as the service does, inserted in bulk), then
times ``app.audit.chain.verify``.  Target on a 2-core machine: 1,000,000
entries in under 4 s.

    .venv/bin/python bench/audit_verify.py [--entries 1000000] [--engine postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import create_engine, insert, make_url, update

from app.audit import chain
from app.audit.models import AuditChainHead, AuditEntry
from app.migrations import upgrade

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fill(url: str, entries: int) -> None:
    engine = create_engine(url)
    prev = chain.GENESIS_HASH
    actor = str(uuid.uuid4())
    orgs = ",".join(str(uuid.uuid4()) for _ in range(2))
    batch = []
    with engine.begin() as connection:
        for seq in range(1, entries + 1):
            values = [
                "platform",
                seq,
                f"2026-11-25T10:00:00.{seq % 1000000:06d}Z",
                secrets.token_hex(16),
                "user",
                actor,
                "school_staff",
                orgs,
                "127.0.0.1",
                "bench/1.0",
                uuid.uuid4().hex,
                "read_case",
                "cases",
                str(uuid.uuid4()),
                str(uuid.uuid4()),
                "allowed",
                200,
                None,
                None,
                None,
            ]
            digest = chain.chain_hash(prev, chain.canonical(values))
            batch.append(
                {
                    **dict(zip(chain.CANONICAL_FIELDS, values, strict=True)),
                    "form": chain.FORM,
                    "prev_hash": prev,
                    "entry_hash": digest,
                }
            )
            prev = digest
            if len(batch) == 20000:
                connection.execute(insert(AuditEntry.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(AuditEntry.__table__), batch)
        heads = AuditChainHead.__table__
        connection.execute(update(heads).where(heads.c.chain == "platform").values(seq=entries, entry_hash=prev))
    if engine.dialect.name == "postgresql":  # as autovacuum would after such a load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE audit_entry")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    if args.engine == "postgresql":
        admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        started = time.perf_counter()
        fill(url, args.entries)
        print(f"filled {args.entries:,} entries in {time.perf_counter() - started:.1f} s")
        engine = create_engine(url)
        with engine.connect() as connection:
            started = time.perf_counter()
            report = chain.verify(connection)
            elapsed = time.perf_counter() - started
        engine.dispose()
        assert report.ok, [vars(c) for c in report.chains]
        print(
            f"verified {report.chains[0].entries:,} entries on {args.engine} in {elapsed:.2f} s "
            f"({report.chains[0].entries / elapsed:,.0f} entries/s)"
        )
    finally:
        if args.engine == "postgresql":
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
