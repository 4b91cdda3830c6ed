"""Backups of the PostgreSQL database and their restore, verified
(``sexto backup``, ``sexto restore``; docs/deploying.md#backups-and-restore).

A backup is two files: the archive of ``pg_dump --format=custom`` and, beside
it, a manifest (``<archive>.manifest.json``, 0600 like the archive) that says
what the archive holds: its SHA-256, the schema revision, each audit chain's
head (seq and hash of its last entry) and the ids of the data keys its
encrypted values are under.  Never a key, a name or a value: the keys are
backed up apart, and without the data keys the names cannot be read.

The manifest is read in the very snapshot pg_dump dumps: a REPEATABLE READ
transaction exports its snapshot (``pg_export_snapshot``), reads the heads
and the key ids, and stays open while ``pg_dump --snapshot`` dumps it.  So
the heads in the manifest are exactly those of the archive, however busy the
service is meanwhile.

A restore goes into a new, empty database (one that holds tables is refused
unless told to replace them), with ``pg_restore --no-owner --no-acl
--single-transaction --exit-on-error``: all of it or nothing, owned by the
restoring role.  The application role's grants are then applied again
(``grant_app_role``), the schema brought to the head, and the result
verified: the audit chains verify (against the witness too), their heads are
the manifest's, and the data keys configured decrypt what is stored.

The PostgreSQL client programs are run with the connection's password in a
password file of their own (0600, removed afterwards), never on their
command line, which ``ps`` shows to everyone on the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, make_url, select, text

from app import datakeys
from app.audit import chain
from app.audit.checkpoints import CheckpointSigner
from app.audit.models import AuditChainHead
from app.audit.witness import Witness, WitnessReading, WitnessRecord
from app.config import Settings
from app.crypto import DataCipher
from app.db import create_db_engine, table_of
from app.migrations import grant_app_role, head_revision, upgrade

MANIFEST_FORMAT = "sexto-backup-v1"
MANIFEST_SUFFIX = ".manifest.json"

# ``progress(description, total)``: a context whose value is ``advance(n)``.
Progress = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]

_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_CLIENT_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class BackupRefused(Exception):
    """A backup or a restore that cannot go on, told in one line."""


def owner_database_url(settings: Settings) -> str:
    """The database backed up, and the server and role a restore connects
    with: the owner's, who migrates (the application role may not read
    everything a dump needs, nor create tables).  The one place that says
    which setting names it."""
    return settings.effective_migration_database_url


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + MANIFEST_SUFFIX)


# --- the PostgreSQL client programs ---------------------------------------------------


@dataclass(frozen=True)
class ClientProgram:
    path: str
    version: str  # "15.20"
    major: int


def client_program(name: str, at_least: int) -> ClientProgram:
    """``pg_dump`` or ``pg_restore`` from PATH, of major version ``at_least`` or later."""
    advice = f"install the PostgreSQL client programs, major version {at_least} or later, and put them on PATH"
    path = shutil.which(name)
    if path is None:
        raise BackupRefused(f"{name} is not on PATH: {advice}")
    try:
        answer = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupRefused(f"{name} ({path}) does not run: {type(exc).__name__}") from None
    found = _CLIENT_VERSION.search(answer.stdout)
    if answer.returncode != 0 or found is None:
        raise BackupRefused(f"{name} ({path}) does not say its version: {advice}")
    major = int(found.group(1))
    version = found.group(1) + (f".{found.group(2)}" if found.group(2) else "")
    if major < at_least:
        raise BackupRefused(f"{name} ({path}) is version {version}, older than {at_least}: {advice}")
    return ClientProgram(path, version, major)


@contextmanager
def _libpq(url: URL) -> Iterator[tuple[str, dict[str, str]]]:
    """The connection for a client program: a libpq URI without the password
    (for ``--dbname``) and an environment whose password file holds it."""
    # ``URL.set`` ignores None: ``_replace`` is how the password goes.
    conninfo = url.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    password = url.password
    if not password:  # trust, peer, or the operator's own ~/.pgpass
        yield conninfo, env
        return
    if any(char in str(password) for char in "\r\n"):
        raise BackupRefused("the database password holds a line break, which a PostgreSQL password file cannot")
    env.pop("PGPASSWORD", None)  # it would win over the file
    escaped = str(password).replace("\\", "\\\\").replace(":", "\\:")
    with tempfile.TemporaryDirectory(prefix="sexto-pg-") as folder:  # 0700
        passfile = Path(folder) / "pgpass"
        descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = str(passfile)
        yield conninfo, env


def _run_client(command: list[str], env: dict[str, str], marker: str, advance: Callable[[int], None]) -> None:
    """Run a client program in verbose mode, advancing the progress at each
    line that holds ``marker``; one line (its first error) when it fails."""
    name = Path(command[0]).name
    errors: list[str] = []
    with subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if marker in line:
                advance(1)
            elif "error:" in line or "FATAL:" in line:
                errors.append(line.strip())
    if process.returncode != 0:
        reason = errors[0] if errors else f"exit status {process.returncode}"
        raise BackupRefused(f"{name} failed: {reason.removeprefix(name + ': ').removeprefix('error: ')[:300]}")


def _postgresql(url_text: str, doing: str) -> URL:
    url = make_url(url_text)
    if url.get_backend_name() != "postgresql":
        raise BackupRefused(
            f"sexto {doing} is for PostgreSQL; the SQLite database of development is one file: "
            "copy it with `sqlite3 var/sexto.db '.backup copy.db'`"
        )
    return url


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sexto-service")
    except PackageNotFoundError:
        return "unknown"


def _write_private(path: Path, content: bytes) -> None:
    """Create ``path`` 0600, never overwriting."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


# --- backup ---------------------------------------------------------------------------


def _chain_heads(connection: Connection) -> list[dict[str, Any]]:
    heads = table_of(AuditChainHead)
    rows = connection.execute(select(heads.c.chain, heads.c.seq, heads.c.entry_hash).order_by(heads.c.chain))
    return [{"chain": row.chain, "seq": row.seq, "entry_hash": row.entry_hash} for row in rows]


def _revision(connection: Connection) -> str:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise BackupRefused("the database has no schema revision: is it migrated? (`sexto migrate`)")
    return str(revision)


def backup(settings: Settings, archive: Path, progress: Progress) -> dict[str, Any]:
    """Write ``archive`` and its manifest; return the manifest."""
    url = _postgresql(owner_database_url(settings), "backup")
    manifest_file = manifest_path(archive)
    if existing := [str(path) for path in (archive, manifest_file) if path.exists()]:
        raise BackupRefused(f"refusing to overwrite {', '.join(existing)}")
    if not archive.parent.is_dir():
        raise BackupRefused(f"no such directory: {archive.parent}")
    # A name of its own: a backup killed midway leaves its file, never in this one's way.
    partial = archive.with_name(f".{archive.name}.{os.urandom(4).hex()}.partial")
    engine = create_db_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(text("SET TRANSACTION READ ONLY"))
                server_major = _server_major(connection)
                pg_dump = client_program("pg_dump", server_major)
                # Exported first: everything read below, and all pg_dump dumps, is this snapshot.
                snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
                manifest: dict[str, Any] = {
                    "format": MANIFEST_FORMAT,
                    "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "service_version": _package_version(),
                    "archive": archive.name,
                    "schema_revision": _revision(connection),
                    "audit_chains": _chain_heads(connection),
                    "data_key_ids": datakeys.stored_key_ids(connection),
                    "postgresql_version": str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0],
                    "pg_dump_version": pg_dump.version,
                }
                tables: int = connection.execute(
                    text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
                ).scalar_one()
                with _libpq(url) as (conninfo, env), progress("backing up the database", int(tables)) as advance:
                    _write_private(partial, b"")  # pg_dump writes into it, keeping 0600
                    command = [pg_dump.path, "--format=custom", "--verbose", "--no-password"]
                    command += [f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={conninfo}"]
                    _run_client(command, env, "dumping contents of table", advance)
        manifest["archive_bytes"] = partial.stat().st_size
        manifest["archive_sha256"] = _sha256(partial)
        os.link(partial, archive)  # fails rather than replace a file made meanwhile
        _write_private(manifest_file, (json.dumps(manifest, indent=2) + "\n").encode())
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    return manifest


# --- restore --------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but worth an operator's look


@dataclass
class RestoreReport:
    archive: str
    database: str
    manifest: dict[str, Any]
    drill: bool = False  # the database was made for the drill, and dropped
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def read_manifest(archive: Path) -> dict[str, Any]:
    path = manifest_path(archive)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"no manifest beside the archive ({path})") from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"the manifest {path} cannot be read: {type(exc).__name__}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupRefused(f"{path} is not a manifest of sexto backup ({MANIFEST_FORMAT})")
    return manifest


class _WitnessUpTo:
    """A witness's records at or before given heads (the others are read,
    and named, apart): what a backup taken at those heads can be held to."""

    def __init__(self, witness: Witness, heads: dict[str, int]) -> None:
        self.kind = witness.kind
        self._witness = witness
        self._heads = heads

    def publish(self, records: Sequence[WitnessRecord]) -> None:  # noqa: ARG002 (the interface's)
        raise RuntimeError("a restore never publishes to the witness")

    def read(self) -> WitnessReading:
        reading = self._witness.read()
        kept = [record for record in reading.records if record.seq <= self._heads.get(record.chain, 0)]
        return WitnessReading(records=kept, problems=reading.problems)


def _table_count(connection: Connection) -> int:
    return int(
        connection.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
            )
        ).scalar_one()
    )


def _drop_database(engine: Engine, name: str) -> None:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        quoted = connection.dialect.identifier_preparer.quote(name)
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


def _create_database(engine: Engine, name: str) -> None:
    from sqlalchemy.exc import ProgrammingError

    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        quoted = connection.dialect.identifier_preparer.quote(name)
        try:
            connection.execute(text(f"CREATE DATABASE {quoted}"))
        except ProgrammingError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            raise BackupRefused(f"cannot create database {name}: {reason}") from None


def restore(
    settings: Settings,
    archive: Path,
    progress: Progress,
    *,
    into: str | None = None,
    create: bool = False,
    overwrite: bool = False,
    allow_behind_witness: bool = False,
    drill: bool = False,
) -> RestoreReport:
    """Restore ``archive`` into a new database and verify it: each check
    reported, none stopping the others once the data is in.  ``drill``:
    into a database made for it and dropped afterwards, the witness's
    checkpoints past the backup a warning (the service went on meanwhile)."""
    manifest = read_manifest(archive)
    if not archive.is_file():
        raise BackupRefused(f"no such archive: {archive}")
    if drill:
        if into is not None or create or overwrite:
            raise BackupRefused("--drill makes its own database: give none of --into, --create, --overwrite")
        into, create, allow_behind_witness = (
            f"sexto_drill_{datetime.now(UTC):%Y%m%d%H%M%S}_{os.urandom(3).hex()}",
            True,
            True,
        )
    if into is not None and not _DATABASE_NAME.match(into):
        raise BackupRefused("--into takes a database name: letters, digits and _, not starting with a digit")
    if create and into is None:
        raise BackupRefused("--create needs --into, the name of the database to create")
    owner = _postgresql(owner_database_url(settings), "restore")
    target = owner.set(database=into) if into is not None else owner
    _known_revision(str(manifest.get("schema_revision")))
    with progress("checking the archive", None):
        if _sha256(archive) != manifest.get("archive_sha256"):
            raise BackupRefused("the archive does not match its manifest's SHA-256: damaged, or not this backup's")
    dumped_by = int(str(manifest.get("pg_dump_version", "0")).split(".")[0])
    pg_restore = client_program("pg_restore", dumped_by)
    owner_engine = create_db_engine(owner.render_as_string(hide_password=False), pool_size=1)
    try:
        if create:
            _create_database(owner_engine, str(into))
        report = RestoreReport(archive=archive.name, database=str(target.database), manifest=manifest, drill=drill)
        report.checks.append(Check("archive", True, "its SHA-256 is the manifest's"))
        engine = create_db_engine(target.render_as_string(hide_password=False), pool_size=1)
        try:
            with engine.connect() as connection:
                held = _table_count(connection)
            if held and not overwrite:
                raise BackupRefused(
                    f"database {target.database} already holds {held} tables: restore into a new, empty database "
                    "(--into NAME --create), or give --overwrite to replace what it holds"
                )
            _pg_restore(pg_restore, archive, target, overwrite, progress)
            _after_restore(settings, engine, target, manifest, report, progress, allow_behind_witness)
        finally:
            engine.dispose()
            if drill:
                _drop_database(owner_engine, str(into))
    finally:
        owner_engine.dispose()
    return report


def _known_revision(revision: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from app.migrations import alembic_config

    try:
        found = ScriptDirectory.from_config(alembic_config("")).get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupRefused(
            f"the backup's schema revision {revision} is unknown to this version of the service: "
            "restore it with the version that made it"
        )


def _pg_restore(program: ClientProgram, archive: Path, target: URL, overwrite: bool, progress: Progress) -> None:
    listing = subprocess.run(
        [program.path, "--list", str(archive)], capture_output=True, text=True, timeout=300, check=False
    )
    if listing.returncode != 0:
        reason = (listing.stderr.strip().splitlines() or ["cannot read the archive"])[0]
        raise BackupRefused(f"pg_restore cannot read the archive: {reason.removeprefix('pg_restore: ')}")
    tables = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
    with _libpq(target) as (conninfo, env), progress("restoring the database", tables) as advance:
        command = [program.path, "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error"]
        command += ["--verbose", "--no-password", f"--dbname={conninfo}"]
        if overwrite:
            command += ["--clean", "--if-exists"]
        _run_client([*command, str(archive)], env, "processing data for table", advance)


def _after_restore(
    settings: Settings,
    engine: Engine,
    target: URL,
    manifest: dict[str, Any],
    report: RestoreReport,
    progress: Progress,
    allow_behind_witness: bool,
) -> None:
    checks = report.checks
    with engine.connect() as connection:
        restored = _revision(connection)
    head = head_revision()
    if restored != manifest.get("schema_revision"):
        checks.append(Check("schema", False, f"revision {restored}, not the manifest's {manifest['schema_revision']}"))
    elif restored == head:
        checks.append(Check("schema", True, f"revision {restored}, the head"))
    else:
        upgrade(target.render_as_string(hide_password=False), app_role=settings.database_app_role)
        checks.append(Check("schema", True, f"revision {restored}, migrated to the head ({head})"))

    role = settings.database_app_role
    if role is None:
        checks.append(Check("grants", True, "SEXTO_DATABASE_APP_ROLE is not set: no grants applied", warning=True))
    else:
        from sqlalchemy.exc import DBAPIError

        try:
            with engine.begin() as connection:
                grant_app_role(connection, role)
            checks.append(Check("grants", True, f"granted to {role} (read and append only on the audit tables)"))
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            checks.append(Check("grants", False, f"granting to {role} failed: {reason}"))

    heads = {entry["chain"]: int(entry["seq"]) for entry in manifest.get("audit_chains", [])}
    signer = CheckpointSigner.from_settings(settings)
    with engine.connect() as connection:
        with progress("verifying the audit log", sum(heads.values())) as advance:
            full = chain.verify(connection, signer.verify, progress=advance)
        strict = full
        if not full.ok:  # again, held only to what the witness holds up to the backup
            held = CheckpointSigner.from_settings(settings)
            held.witness = _WitnessUpTo(signer.witness, heads)
            strict = chain.verify(connection, held.verify)
        checks.append(_audit_check(strict))
        checks.append(_witness_check(full, strict, heads, allow_behind_witness))
        checks.append(_heads_check(connection, strict, manifest))
        checks.append(_keys_check(connection, settings, manifest))


def _audit_check(report: chain.VerifyReport) -> Check:
    entries = sum(status.entries for status in report.chains)
    if report.ok:
        return Check(
            "audit log",
            True,
            f"{len(report.chains)} chains, {entries} entries verify; {report.checkpoints_checked} checkpoints, "
            f"{report.witness_records_checked} witness records ({report.witness}) up to the backup hold",
        )
    problems = [f"chain {s.chain}: {s.problem}" for s in report.chains if not s.ok]
    problems += report.checkpoint_problems + report.witness_problems
    return Check("audit log", False, "; ".join(problems))


def _witness_check(full: chain.VerifyReport, strict: chain.VerifyReport, heads: dict[str, int], allowed: bool) -> Check:
    """What the witness holds past the backup: the entries a restore to an
    earlier point loses."""
    if full.witness == "none":
        return Check("witness", True, "SEXTO_AUDIT_WITNESS is none: nothing to hold the restore to", warning=True)
    if full.ok:
        return Check("witness", True, f"the witness ({full.witness}) holds nothing past the backup")
    if not strict.ok:
        return Check("witness", False, "see the audit log check")
    beyond = [
        f"chain {status.chain}: the backup ends at {heads.get(status.chain, 0)}, the witness holds a checkpoint "
        f"of entry {status.witnessed_seq} ({status.witnessed_at})"
        for status in full.chains
        if status.truncated
    ]
    detail = "; ".join(beyond + full.witness_problems)
    if allowed:
        return Check("witness", True, f"restored to an earlier point: {detail}", warning=True)
    return Check("witness", False, f"restored to an earlier point: {detail} (see docs/deploying.md)")


def _heads_check(connection: Connection, report: chain.VerifyReport, manifest: dict[str, Any]) -> Check:
    def heads(entries: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:  # chains with entries
        return {entry["chain"]: (int(entry["seq"]), entry["entry_hash"]) for entry in entries if entry["seq"]}

    expected = heads(manifest.get("audit_chains", []))
    verified = {status.chain: (status.head_seq, status.head_hash) for status in report.chains if status.head_seq}
    stored = heads(_chain_heads(connection))
    names = set(expected) | set(verified) | set(stored)
    differ = sorted(name for name in names if not expected.get(name) == verified.get(name) == stored.get(name))
    if differ:
        return Check("chain heads", False, f"not the manifest's for chain {', '.join(differ)}")
    return Check("chain heads", True, f"the manifest's, for {len(expected)} chains")


def _keys_check(connection: Connection, settings: Settings, manifest: dict[str, Any]) -> Check:
    cipher = DataCipher.from_settings(settings)
    problems = datakeys.check_keys(connection, cipher)
    needed = sorted(set(manifest.get("data_key_ids", [])) - set(cipher.key_ids))
    reasons = [str(problem) for problem in problems]
    reasons += [
        f"the backup holds data under key {key_id!r}, which is not configured"
        for key_id in needed
        if not any(problem.key_id == key_id for problem in problems)
    ]
    if reasons:
        return Check("data keys", False, "; ".join(reasons))
    used = datakeys.stored_key_ids(connection)
    if not used:
        return Check("data keys", True, "no encrypted value is stored", warning=True)
    return Check("data keys", True, f"a stored value decrypts under each key in use ({', '.join(used)})")
