"""Benchmark: verify one million audit entries, in full and incrementally.

Builds a throwaway PostgreSQL (or SQLite) database, fills one chain with N
genuine entries (hashed exactly as the service does, inserted in bulk), signs
a checkpoint every ``--checkpoint-every`` entries up to ``--tail`` entries
before the head (published to a file witness, as the service's cadence
would), then times ``app.audit.chain.verify`` with the checkpoints checked:
in full, and from the latest witnessed checkpoint (``--since-checkpoint``).
Beside the wall time: the CPU time of this process and, on PostgreSQL, of
the database backend that serves it (both run at once).  Target (#17): at
least 250,000 entries/s in full.

    .venv/bin/python bench/audit_verify.py [--entries 1000000] [--engine postgresql|sqlite]
        [--checkpoint-every 1000] [--tail 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, create_engine, insert, make_url, text, update

from app.audit import chain
from app.audit.checkpoints import CheckpointSigner, signed_message
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.audit.witness import FileWitness, WitnessRecord
from app.migrations import upgrade

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fill(url: str, entries: int, signer: CheckpointSigner | None = None, every: int = 0, tail: int = 0) -> None:
    """N entries in one chain; with a signer, a checkpoint every ``every``
    entries up to ``tail`` entries before the head, stored and witnessed."""
    engine = create_engine(url)
    checkpoints: list[dict[str, object]] = []
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
            if signer is not None and every and seq % every == 0 and seq <= entries - tail:
                checkpoints.append(_signed(signer, seq, digest))
            if len(batch) == 20000:
                connection.execute(insert(AuditEntry.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(AuditEntry.__table__), batch)
        heads = AuditChainHead.__table__
        connection.execute(update(heads).where(heads.c.chain == "platform").values(seq=entries, entry_hash=prev))
        if checkpoints:
            connection.execute(insert(AuditCheckpoint.__table__), checkpoints)
    if signer is not None:
        signer.witness.publish([WitnessRecord(**record) for record in checkpoints])  # type: ignore[arg-type]
    if engine.dialect.name == "postgresql":  # as autovacuum would after such a load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE audit_entry")
    engine.dispose()


def _signed(signer: CheckpointSigner, seq: int, digest: str) -> dict[str, object]:
    issued_at = f"2026-11-25T11:00:00.{seq % 1000000:06d}Z"
    signature = signer._key.sign(signed_message("platform", seq, digest, issued_at))
    return {
        "chain": "platform",
        "seq": seq,
        "entry_hash": digest,
        "issued_at": issued_at,
        "key_id": signer.key_id,
        "signature": base64.b64encode(signature).decode(),
    }


def _backend_cpu(connection: Connection) -> float | None:
    """CPU seconds of the PostgreSQL backend serving ``connection`` (a local
    server: its /proc entry), None elsewhere."""
    if connection.dialect.name != "postgresql":
        return None
    pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    url: str, signer: CheckpointSigner, since_checkpoint: bool
) -> tuple[chain.VerifyReport, float, float, float | None]:
    """One verification: the report, wall and CPU seconds of this process,
    CPU seconds of the database backend (PostgreSQL only)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        backend = _backend_cpu(connection)
        started, cpu = time.perf_counter(), time.process_time()
        starts = signer.starts(connection) if since_checkpoint else None
        report = chain.verify(connection, signer.verify, starts=starts)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = _backend_cpu(connection)
    engine.dispose()
    assert report.ok, [vars(c) for c in report.chains]
    return report, elapsed, cpu, (after - backend) if after is not None and backend is not None else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--checkpoint-every", type=int, default=1000, help="the service's default cadence")
    parser.add_argument("--tail", type=int, default=10000, help="entries after the latest checkpoint")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    signer = CheckpointSigner(Ed25519PrivateKey.generate(), witness=FileWitness(folder / "witness.jsonl"))
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
        fill(url, args.entries, signer, args.checkpoint_every, args.tail)
        print(f"filled {args.entries:,} entries in {time.perf_counter() - started:.1f} s")
        for _ in range(args.rounds):
            for since_checkpoint in (False, True):
                report, elapsed, cpu, backend = measure(url, signer, since_checkpoint)
                status = report.chains[0]
                on_backend = f", backend {backend:.2f} s CPU" if backend is not None else ""
                print(
                    f"{'since checkpoint' if since_checkpoint else 'full':>16}: {status.entries:,} entries "
                    f"recomputed from {status.verified_from:,} on {args.engine} in {elapsed:.2f} s "
                    f"({status.entries / elapsed:,.0f} entries/s; this process {cpu:.2f} s CPU{on_backend}), "
                    f"{report.checkpoints_checked:,} checkpoints and {report.witness_records_checked:,} witness "
                    f"records checked; load average {os.getloadavg()[0]:.1f}"
                )
    finally:
        if args.engine == "postgresql":
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
