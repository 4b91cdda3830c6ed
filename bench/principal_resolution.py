"""Benchmark: what resolving the caller costs, revocation check included.

Every request resolves its caller from the database (``app.auth.principal``):
one statement that reads the account, whether the token was revoked (an
``EXISTS`` on ``revoked_token``), the scope grants with the schools of the
boards granted, and the attestation.  This times that resolution in-process
(no HTTP), for a school-scoped and a board-scoped user, first with no
revoked token, then with ``--revoked`` live revocations in the table, and
counts the statements each resolution sends.  Timing is never checked by a
test (machines are noisy); read the figures.

    .venv/bin/python bench/principal_resolution.py [--rounds 3000] [--revoked 100000] [--engine postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import Engine, event, insert, make_url
from sqlmodel import Session, select

from app.accounts.models import User
from app.auth.models import RevokedToken
from app.auth.principal import load_principal
from app.auth.revocation import credential_digest
from app.config import Settings
from app.db import create_db_engine, table_of
from app.demo import load_demo
from app.migrations import upgrade
from app.orgs.service import local_today
from app.security import PasswordHasher

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password"
CALLERS = {"school (demo-staff-a)": "demo-staff-a", "board (demo-privacy-a)": "demo-privacy-a"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(engine: Engine, subject: str, rounds: int) -> tuple[list[float], int]:
    """Microseconds per resolution (each in its own session, as a request's),
    and the statements one resolution sends."""
    until = datetime.now(UTC) + timedelta(minutes=15)
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    def resolve() -> None:
        with Session(engine) as session:
            load_principal(session, subject=subject, generation=0, credential_id=uuid.uuid4().hex, accepted_until=until)

    for _ in range(100):  # warm up
        resolve()
    event.listen(Engine, "before_cursor_execute", count)
    resolve()
    event.remove(Engine, "before_cursor_execute", count)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        resolve()
        times.append((time.perf_counter() - start) * 1e6)
    return times, len(sent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000, help="resolutions per caller and table size")
    parser.add_argument("--revoked", type=int, default=100_000, help="live revocations for the second pass")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        database = f"sexto_bench_{uuid.uuid4().hex[:8]}"
        admin = make_url(SERVER).set(drivername="postgresql").render_as_string(hide_password=False)
        if args.engine == "sqlite":
            url = f"sqlite:///{var_dir / 'bench.db'}"
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{database}"')
            url = make_url(SERVER).set(database=database).render_as_string(hide_password=False)
        try:
            settings = Settings(database_url=url, var_dir=var_dir, argon2_time_cost=1, argon2_memory_cost=1024)
            upgrade(url)
            engine = create_db_engine(url, pool_size=1)
            with Session(engine) as session:
                load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
                ids = {
                    name: session.exec(select(User.id).where(User.username == name)).one() for name in CALLERS.values()
                }
            print(f"{args.rounds} resolutions per line, in-process, {args.engine}")
            print(f"{'caller':<24}{'revoked rows':>14}{'statements':>12}{'p10/p50/p90 µs':>24}")
            for revoked in (0, args.revoked):
                if revoked:
                    expires = datetime.now(UTC) + timedelta(hours=1)
                    rows = [
                        {"digest": credential_digest(uuid.uuid4().hex), "expires_at": expires} for _ in range(revoked)
                    ]
                    with Session(engine) as session:
                        session.execute(insert(table_of(RevokedToken)), rows)
                        session.commit()
                for label, name in CALLERS.items():
                    times, statements = measure(engine, f"user:{ids[name]}", args.rounds)
                    spread = "/".join(
                        f"{value:.0f}"
                        for value in (percentile(times, 0.1), statistics.median(times), percentile(times, 0.9))
                    )
                    print(f"{label:<24}{revoked:>14,}{statements:>12}{spread:>24}")
            engine.dispose()
        finally:
            if args.engine == "postgresql":
                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
