"""The ``sexto`` command line (docs/operations.md#the-command-line).

``sexto --version``; ``migrate``, ``db create-app-role``, ``demo``, ``accounts approve``, ``openapi``, ``docs-config``,
``keys generate``, ``audit verify|checkpoint|export``, ``retention run``,
``purge-idempotency``, ``reencrypt-data``, ``backup``, ``restore``; ``sexto <command> --help`` gives
each one's description and examples.

argparse gives the structure (subcommands, their help and examples), Rich
the progress bars.  What a script reads goes to standard output: text by
default, one JSON document with ``--json`` (JSON Lines for ``audit export``).
Progress goes to standard error, and only when it is a terminal.  A known
failure (settings refused, a key file missing, a database that cannot be
reached, a bad URL) is one line on standard error and exit status 1, never a
traceback; a reader that stops early (``sexto audit export | head``) ends the
command quietly with status 141, as a Unix tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import re
import secrets
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlmodel import Session

from app.config import DatabaseSettings, Settings
from app.db import create_db_engine, table_of

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe closed on

# A handler takes the settings (None for a command that needs none) and the arguments.
Handler = Callable[[Any, argparse.Namespace], int]


class CommandError(Exception):
    """A known failure, told in one line."""


# --- output -----------------------------------------------------------------------


def _json_out(document: object) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error when it is a terminal; otherwise
    nothing at all.  Yields ``advance(n)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()


# --- commands -----------------------------------------------------------------------


def _migrate(settings: DatabaseSettings, _args: argparse.Namespace) -> int:
    from app.migrations import head_revision, upgrade

    url = settings.effective_migration_database_url
    if settings.migration_database_url is None and settings.database_url is None:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url, app_role=settings.database_app_role)
    print(f"database schema at migration {head_revision()}")
    if settings.database_app_role:
        print(f"role {settings.database_app_role} granted what the service needs (audit tables: SELECT, INSERT)")
    elif url.startswith("postgresql"):
        print("sexto: no SEXTO_DATABASE_APP_ROLE: no grants made for the service's role", file=sys.stderr)
    return 0


def _db_create_app_role(settings: DatabaseSettings, args: argparse.Namespace) -> int:
    """``db create-app-role NAME``: the role the service connects as, made
    or brought back by the owner (the migration URL)."""
    from sqlalchemy import make_url

    from app.migrations import ensure_app_role

    url = settings.effective_migration_database_url
    if not url.startswith("postgresql"):
        raise CommandError("the application role is a PostgreSQL role: set SEXTO_MIGRATION_DATABASE_URL")
    password, generated = _app_role_password(args.password_file)
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            role = ensure_app_role(connection, args.name, password)
    finally:
        engine.dispose()
    if args.url_file is not None:
        base = make_url(args.url or url)
        if args.url and base.username not in (None, args.name):
            raise CommandError(f"--url names the user {base.username}, not {args.name}")
        service_url = base.set(username=args.name, password=password).render_as_string(hide_password=False)
        _write_replacing(args.url_file, (service_url + "\n").encode(), 0o600)
    document = {
        "role": role.name,
        "created": role.created,
        "tables_granted": role.tables_granted,
        "password_file": str(args.password_file.resolve()) if args.password_file else None,
        "password_generated": generated,
        "url_file": str(args.url_file.resolve()) if args.url_file else None,
    }
    if args.json:
        _json_out(document)
        return 0
    print(f"role {role.name} {'created' if role.created else 'already there: brought up to date'}")
    if generated:
        print(f"password generated into {document['password_file']} (0600)")
    elif args.password_file:
        print(f"password read from {document['password_file']}")
    else:
        print("no password: for trust, peer or certificate authentication")
    if args.url_file:
        print(f"SEXTO_DATABASE_URL_FILE={document['url_file']}    (0600: the service's URL, with its password)")
    if role.tables_granted:
        print("granted: full DML on the tables, SELECT and INSERT only on the audit tables")
    else:
        print(f"schema not migrated yet: migrate with SEXTO_DATABASE_APP_ROLE={role.name} to grant the tables")
    return 0


def _app_role_password(path: Path | None) -> tuple[str | None, bool]:
    """The password in ``path``, or one generated into it (0600) when the
    file does not exist; None without a file (``--no-password``)."""
    if path is None:
        return None, False
    if path.exists():
        password = path.read_text(encoding="utf-8").rstrip("\r\n")
        if not password:
            raise CommandError(f"{path} is empty")
        return password, False
    password = secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_new(path, (password + "\n").encode(), 0o600)
    return password, True


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import is_empty, load_demo
    from app.orgs.service import local_today
    from app.security import PasswordHasher

    if settings.is_production:
        print("sexto: refusing to load demo data in production", file=sys.stderr)
        return EXIT_USAGE
    with _engine(settings) as engine, Session(engine) as session:
        if not is_empty(session):
            if args.if_empty:
                print("database not empty: demo data not loaded")
                return 0
            print("sexto: database not empty: refusing to load demo data", file=sys.stderr)
            return EXIT_USAGE
        load_demo(
            session,
            PasswordHasher(settings),
            settings.demo_password.get_secret_value(),
            local_today(settings.local_timezone),
        )
        print("demo data loaded")
    return 0


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    """``accounts approve KIND:ID``: the operator approves every pending grant
    of one account (the first approver of an organization has nobody to
    approve it), and the credential issued is printed once."""
    import uuid

    from app.accounts.duties import operator_approval
    from app.security import PasswordHasher

    kind, _, raw_id = args.account.partition(":")
    try:
        account_id = uuid.UUID(raw_id)
    except ValueError:
        account_id = None
    if kind not in ("user", "service_account") or account_id is None:
        raise CommandError("name the account as user:<id> or service_account:<id>")
    with _engine(settings) as engine, Session(engine) as session:
        count, issued = operator_approval(session, PasswordHasher(settings), kind, account_id)
    if not count:
        raise CommandError("nothing of this account waits for approval")
    shown = {name: value for name, value in (dataclasses.asdict(issued) if issued else {}).items() if value}
    if args.json:
        _json_out({"approved_grants": count, "credential": shown or None})
        return 0
    print(f"{count} grant(s) approved")
    for name, value in shown.items():
        print(f"{name}: {value}    (shown once: hand it over, it is not kept)")
    return 0


def _openapi(settings: Settings, _args: argparse.Namespace) -> int:
    from app.main import create_app

    _json_out(create_app(settings).openapi())
    return 0


def _docs_config(_settings: Settings, _args: argparse.Namespace) -> int:
    from app.config import configuration_page

    sys.stdout.write(configuration_page())
    return 0


def _write_new(path: Path, content: bytes, mode: int) -> None:
    """Create ``path`` with ``mode``; never overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(path, mode)  # whatever the umask


def _write_replacing(path: Path, content: bytes, mode: int) -> None:
    """Write ``path`` whole, with ``mode`` from its first byte: a new file
    beside it, then renamed over it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    _write_new(partial, content, mode)
    os.replace(partial, path)


def _keys_generate(_settings: Settings | None, args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.security import key_id, public_key_pem

    directory: Path = args.directory
    if ":" in args.data_key_id or not args.data_key_id:
        raise CommandError("--data-key-id must not be empty nor hold ':'")
    kinds = args.only or ["token", "audit", "data"]
    planned: list[tuple[str, Path, bytes, str, str | None]] = []  # setting, path, content, key id, public
    for kind in ("token", "audit"):
        if kind in kinds:
            private = Ed25519PrivateKey.generate()
            pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            setting = f"SEXTO_{kind.upper()}_SIGNING_KEY_FILE"
            public_pem = public_key_pem(private.public_key())
            path = directory / f"{kind}-signing-key.pem"
            planned.append((setting, path, pem, key_id(private.public_key()), public_pem))
    if "data" in kinds:
        document = {args.data_key_id: base64.b64encode(secrets.token_bytes(32)).decode()}
        content = (json.dumps(document) + "\n").encode()
        planned.append(("SEXTO_DATA_KEYS_FILE", directory / "data-keys.json", content, args.data_key_id, None))
    if existing := [str(path) for _, path, *_ in planned if path.exists()]:
        raise CommandError(f"refusing to overwrite {', '.join(existing)}")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for setting, path, content, kid, public in planned:
        _write_new(path, content, 0o600)
        entry: dict[str, Any] = {"setting": setting, "path": str(path.resolve()), "key_id": kid}
        if public is not None:  # the public half, for verifiers and for rotation
            public_path = path.with_name(path.stem + ".pub.pem")
            if not public_path.exists():
                _write_new(public_path, public.encode(), 0o644)
            entry["public_key_path"] = str(public_path.resolve())
        written.append(entry)
    if args.json:
        _json_out({"files": written, "data_key_current": args.data_key_id if "data" in kinds else None})
        return 0
    for entry in written:
        print(f"{entry['setting']}={entry['path']}    (key id {entry['key_id']})")
    if "data" in kinds:
        print(f"SEXTO_DATA_KEY_CURRENT={args.data_key_id}")
    print("Each file is readable by its owner only (0600). Keep a copy with the backups: without the data keys")
    print("the encrypted personal information cannot be read. Rotation: docs/operations.md#keys")
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return _audit_verify(settings, args)
    if args.audit_command == "checkpoint":
        return _audit_checkpoint(settings, args)
    return _audit_export(settings, args)


def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.audit import chain
    from app.audit.checkpoints import CheckpointSigner
    from app.audit.models import AuditChainHead

    signer = CheckpointSigner.from_settings(settings)
    mode = "since_checkpoint" if args.since_checkpoint else "full"
    with _engine(settings) as engine, engine.connect() as connection:
        starts = signer.starts(connection) if args.since_checkpoint else {}
        heads = connection.execute(select(table_of(AuditChainHead))).all()
        total = sum(
            max(int(head.seq) - (starts[head.chain].seq if head.chain in starts else 1) + 1, 0) for head in heads
        )
        with _progress("verifying the audit log", total) as advance:
            report = chain.verify(connection, signer.verify, progress=advance, starts=starts)
    if args.json:
        _json_out(
            {
                "ok": report.ok,
                "mode": mode,
                "chains": [
                    {
                        "chain": status.chain,
                        "entries": status.entries,
                        "verified_from": status.verified_from,
                        "ok": status.ok,
                        "first_bad_seq": status.first_bad_seq,
                        "first_bad_id": status.first_bad_id,
                        "problem": status.problem,
                        "witnessed_seq": status.witnessed_seq,
                        "witnessed_at": status.witnessed_at,
                        "truncated": status.truncated,
                    }
                    for status in report.chains
                ],
                "checkpoints_checked": report.checkpoints_checked,
                "checkpoint_problems": report.checkpoint_problems,
                "witness": report.witness,
                "witness_records_checked": report.witness_records_checked,
                "witness_problems": report.witness_problems,
            }
        )
        return 0 if report.ok else EXIT_FAILED
    for status in report.chains:
        state = (
            "ok"
            if status.ok
            else f"BROKEN at entry {status.first_bad_seq} (id {status.first_bad_id}): {status.problem}"
        )
        where = (
            f" (from entry {status.verified_from}, its latest witnessed checkpoint)" if status.verified_from > 1 else ""
        )
        print(f"chain {status.chain}: {status.entries} entries recomputed{where}, {state}")
        if status.witnessed_seq is not None:
            print(f"chain {status.chain}: witnessed up to {status.witnessed_seq} ({status.witnessed_at})")
    for problem in report.checkpoint_problems:
        print(f"checkpoint problem: {problem}")
    for problem in report.witness_problems:
        print(f"witness problem: {problem}")
    print(f"witness: {report.witness}, {report.witness_records_checked} records read")
    print(f"{report.checkpoints_checked} checkpoints checked; {'verified' if report.ok else 'NOT VERIFIED'}")
    return 0 if report.ok else EXIT_FAILED


def _audit_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from app.audit.checkpoints import ChainRewritten, CheckpointSigner

    signer = CheckpointSigner.from_settings(settings)
    with _engine(settings) as engine, Session(engine) as session:
        try:
            issued = signer.issue(session)
        except ChainRewritten as refused:
            print(
                f"sexto: refusing to sign: chain {refused.chain} no longer holds the entry signed at "
                f"{refused.seq} (run `sexto audit verify`)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        session.commit()
        rows = [
            {"chain": c.chain, "seq": c.seq, "entry_hash": c.entry_hash, "key_id": c.key_id, "issued_at": c.issued_at}
            for c in issued
        ]
    if args.json:
        _json_out({"issued": rows})
        return 0
    for row in rows:
        print(f"checkpoint {row['chain']} #{row['seq']} {row['entry_hash']}")
    if not rows:
        print("no chain moved since its last checkpoint: none issued")
    return 0


def _audit_export(settings: Settings, args: argparse.Namespace) -> int:
    """JSON Lines on standard output, oldest first, streamed in batches."""
    from sqlalchemy import func, select

    from app.audit.models import AuditEntry
    from app.audit.router import event_out
    from app.schemas import json_line

    table = table_of(AuditEntry)
    with _engine(settings) as engine, engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(table).where(table.c.id > args.after)).scalar()
        statement = select(table).where(table.c.id > args.after).order_by(table.c.id)
        rows = connection.execute(statement, execution_options={"stream_results": True, "yield_per": 5000})
        with _progress("exporting the audit log", total) as advance:
            for count, row in enumerate(rows, 1):
                sys.stdout.write(json_line(event_out(row)) + "\n")
                if count % 1000 == 0:
                    advance(1000)
            advance((total or 0) % 1000)
        sys.stdout.flush()  # a closed pipe is found here, not at exit
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from app import backup

    try:
        manifest = backup.backup(settings, args.archive, _progress)
    except backup.BackupRefused as refused:
        raise CommandError(str(refused)) from None
    manifest_file = backup.manifest_path(args.archive)
    if args.json:
        _json_out({"archive": str(args.archive), "manifest": str(manifest_file), **manifest})
        return 0
    entries = sum(chain["seq"] for chain in manifest["audit_chains"])
    print(f"archive: {args.archive} ({manifest['archive_bytes']} bytes, pg_dump {manifest['pg_dump_version']})")
    print(f"manifest: {manifest_file}")
    print(
        f"schema revision {manifest['schema_revision']}; {len(manifest['audit_chains'])} audit chains, {entries} entries"
    )
    print(f"data keys needed to read it: {', '.join(manifest['data_key_ids']) or 'none'}")
    print("The keys are not in the archive: back them up apart (docs/deploying.md#backups-and-restore).")
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from app import backup

    try:
        report = backup.restore(
            settings,
            args.archive,
            _progress,
            into=args.into,
            create=args.create,
            overwrite=args.overwrite,
            allow_behind_witness=args.allow_behind_witness,
            drill=args.drill,
        )
    except backup.BackupRefused as refused:
        raise CommandError(str(refused)) from None
    if args.json:
        checks = [dataclasses.asdict(check) for check in report.checks]
        document = {"ok": report.ok, "database": report.database, "archive": report.archive, "drill": report.drill}
        _json_out({**document, "checks": checks})
        return 0 if report.ok else EXIT_FAILED
    print(f"restored {report.archive} into database {report.database}")
    for check in report.checks:
        state = "ok" if check.ok and not check.warning else "WARNING" if check.ok else "FAILED"
        print(f"{check.name}: {state}: {check.detail}")
    if report.drill:
        print(f"drill database {report.database} dropped")
    print("restore verified" if report.ok else "restore NOT VERIFIED")
    return 0 if report.ok else EXIT_FAILED


def _purge_idempotency(settings: Settings, args: argparse.Namespace) -> int:
    from app.idempotency.service import purge_expired

    with _engine(settings) as engine, Session(engine) as session:
        purged = purge_expired(session)
        session.commit()
    if args.json:
        _json_out({"purged": purged})
    else:
        print(f"{purged} expired idempotency keys purged")
    return 0


def _reencrypt(settings: Settings, args: argparse.Namespace) -> int:
    """Rewrite every encrypted value under the current data key, a batch at a
    time, each batch committed: an interrupted run is resumed by running it
    again (values already under the current key are skipped)."""
    from app import datakeys
    from app.crypto import DataCipher

    cipher = DataCipher.from_settings(settings)
    with _engine(settings) as engine:
        with engine.connect() as connection:
            if problems := datakeys.check_keys(connection, cipher):
                raise CommandError("; ".join(str(problem) for problem in problems) + ": nothing rewritten")
            total = datakeys.count_to_rewrap(connection, cipher)
        rewritten = 0
        with _progress(f"re-encrypting under data key {cipher.current}", total) as advance:
            for done in datakeys.rewrap_batches(engine, cipher, args.batch_size):
                rewritten += done
                advance(done)
    if args.json:
        _json_out({"rewritten": rewritten, "data_key_current": cipher.current})
    else:
        print(f"{rewritten} values rewritten under data key {cipher.current}")
    return 0


def _retention(settings: Settings, args: argparse.Namespace) -> int:
    """Destroy the personal information of closed cases past their board's
    retention rule (``--dry-run``: list what would go and what is kept, with
    counts, and change nothing)."""
    from app.privacy import retention

    with _engine(settings) as engine, _progress("destroying what is due", None) as advance:
        last = [0]

        def told(done: int, _due: int) -> None:
            advance(done - last[0])
            last[0] = done

        report = retention.run(engine, settings.retention_default_years, dry_run=args.dry_run, progress=told)
    document = report.as_dict()
    if args.json:
        _json_out(document)
        return 0
    verb = "would be destroyed" if args.dry_run else "destroyed"
    for decision in report.destroyed:
        counts = ", ".join(f"{number} {kind}" for kind, number in sorted(decision.counts.items()) if number)
        print(f"case {decision.reference}: {verb} ({decision.rule}){': ' + counts if counts else ''}")
    for decision in report.kept:
        if decision.why != "not_due":  # held: the reason is worth a line
            print(f"case {decision.reference}: kept ({decision.why}), due {decision.destroy_after}")
    not_due = sum(1 for decision in report.kept if decision.why == "not_due")
    print(f"{len(report.destroyed)} cases {verb}; {len(report.kept) - not_due} kept past their date, {not_due} not due")
    return 0


# --- the parser -----------------------------------------------------------------------

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _command(
    commands: Any, name: str, help_text: str, description: str, examples: list[str], handler: Handler | None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_text,
        description=textwrap.fill(description, 79),
        epilog=_examples(*examples),
        formatter_class=_FORMATTER,
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="write one JSON document on standard output")


def _role_name(text: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", text):
        raise argparse.ArgumentTypeError("a PostgreSQL role name: lower-case letters, digits and _, 63 at most")
    return text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _package_version() -> str:
    try:
        return version("sexto-service")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sexto",
        description="The Sexto case service's command line: the database, the keys, the audit log, retention. "
        "Settings come from the SEXTO_ environment variables (docs/configuration.md).",
        epilog=_examples("sexto migrate", "sexto keys generate /etc/sexto/keys", "sexto audit verify --json"),
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"sexto {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    migrate = _command(
        commands,
        "migrate",
        "bring the database schema to the latest migration",
        "Apply every Alembic migration not yet applied, as the database's owner: SEXTO_MIGRATION_DATABASE_URL, "
        "else SEXTO_DATABASE_URL (the SQLite file under SEXTO_VAR_DIR when both are unset), then grant "
        "SEXTO_DATABASE_APP_ROLE what the service needs. Reads no key. Safe to run again, and from several "
        "instances at once (PostgreSQL: one migrates, the others wait).",
        [
            "sexto migrate",
            "SEXTO_MIGRATION_DATABASE_URL=postgresql+psycopg://sexto_owner@db/sexto SEXTO_DATABASE_APP_ROLE=sexto_app "
            "sexto migrate",
        ],
        _migrate,
    )
    migrate.set_defaults(settings_class=DatabaseSettings)
    database = _command(
        commands,
        "db",
        "create the role the service connects as",
        "The PostgreSQL database, as its owner (SEXTO_MIGRATION_DATABASE_URL, else SEXTO_DATABASE_URL).",
        ["sexto db create-app-role sexto_app --password-file /etc/sexto/secrets/app-role-password"],
        None,
    )
    database_commands = database.add_subparsers(dest="db_command", required=True, metavar="<db command>")
    create_role = _command(
        database_commands,
        "create-app-role",
        "create the service's role and grant it what it needs (safe to run again)",
        "Create the PostgreSQL role the service connects as (LOGIN, nothing more), or bring it back to that, "
        "and grant it full DML on the tables but only SELECT and INSERT on the audit tables, so that the log is "
        "append-only for the service. Its password is read from --password-file, or generated into it (0600) "
        "when the file does not exist; --no-password for trust, peer or certificate authentication. The "
        "password is hashed before it leaves (SCRAM): the server never sees it. --url-file writes the URL the "
        "service connects with, password included (0600), for SEXTO_DATABASE_URL_FILE. Migrate afterwards with "
        "SEXTO_DATABASE_APP_ROLE set to the same name, so that every migration grants its new tables.",
        [
            "sexto db create-app-role sexto_app --password-file /run/secrets/app-role-password",
            "sexto db create-app-role sexto_app --password-file secrets/app-role-password "
            "--url postgresql+psycopg://db.internal:5432/sexto --url-file secrets/database-url",
            "sexto db create-app-role sexto_app --no-password --json",
        ],
        _db_create_app_role,
    )
    create_role.set_defaults(settings_class=DatabaseSettings)
    create_role.add_argument("name", type=_role_name, help="the role's name (SEXTO_DATABASE_APP_ROLE)")
    how = create_role.add_mutually_exclusive_group(required=True)
    how.add_argument("--password-file", type=Path, help="the password's file: read, or generated into it (0600)")
    how.add_argument("--no-password", action="store_true", help="no password (trust, peer or certificate auth)")
    create_role.add_argument(
        "--url-file", type=Path, help="write the service's database URL, with the password, into this file (0600)"
    )
    create_role.add_argument(
        "--url",
        help="the database as the service reaches it, for --url-file (default: the migration URL's host and database)",
    )
    _json_flag(create_role)
    demo = _command(
        commands,
        "demo",
        "load the demo dataset into an empty database",
        "Load the demo boards, schools, forces and users (password SEXTO_DEMO_PASSWORD). Never in production.",
        ["sexto demo --if-empty"],
        _demo,
    )
    demo.add_argument("--if-empty", action="store_true", help="do nothing (exit 0) when the database has data")
    accounts = _command(
        commands,
        "accounts",
        "approve the first approver of an organization",
        "Accounts, from the server: what the admin's API may not do alone (docs/security.md, separation of duties).",
        ["sexto accounts approve user:6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21"],
        None,
    )
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True, metavar="<accounts command>")
    approve = _command(
        account_commands,
        "approve",
        "approve every pending grant of one account; print the credential issued, once",
        "The first approver of an organization (its privacy officer or a lead, a police force's liaison) has "
        "nobody to approve it through the API: the operator approves it here. Every pending grant of the "
        "account is approved, audited as the operator's, and the credential issued with the first approval "
        "(a temporary password, or a client secret) is printed once.",
        [
            "sexto accounts approve user:6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21",
            "sexto accounts approve --json service_account:0b7e4c1d-9a2f-4e8b-8c1a-5d6f7e8a9b0c",
        ],
        _accounts,
    )
    approve.add_argument("account", help="user:<id> or service_account:<id>")
    _json_flag(approve)
    _command(
        commands,
        "openapi",
        "print the OpenAPI document",
        "Print the service's OpenAPI document (`make openapi` writes openapi/openapi.json).",
        ["sexto openapi > openapi/openapi.json"],
        _openapi,
    )
    _command(
        commands,
        "docs-config",
        "print docs/configuration.md, generated from the settings' descriptions",
        "Print the settings reference (`make docs` writes docs/configuration.md).",
        ["sexto docs-config > docs/configuration.md"],
        _docs_config,
    )

    keys = _command(
        commands,
        "keys",
        "generate the signing keys and the data keys",
        "Key management. See docs/operations.md#keys for rotation.",
        ["sexto keys generate /etc/sexto/keys"],
        None,
    )
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="<keys command>")
    generate = _command(
        key_commands,
        "generate",
        "write new keys into a directory, each file 0600, never overwriting",
        "Write a new token signing key (token-signing-key.pem), audit checkpoint signing key "
        "(audit-signing-key.pem), each with its public half (.pub.pem), and data key (data-keys.json, "
        "the JSON of SEXTO_DATA_KEYS), in the formats the settings expect, then print which setting "
        "points at which file. An existing file is never overwritten. Needs no database.",
        [
            "sexto keys generate /etc/sexto/keys",
            "sexto keys generate --only data --data-key-id k2027 /etc/sexto/new",
            "sexto keys generate --json /etc/sexto/keys | jq -r '.files[].path'",
        ],
        _keys_generate,
    )
    generate.set_defaults(needs_settings=False)  # keys are made before any setting can point at them
    generate.add_argument("directory", type=Path, help="where to write the files (created 0700 if missing)")
    generate.add_argument(
        "--only",
        action="append",
        choices=["token", "audit", "data"],
        help="only this key (repeatable): to rotate one key",
    )
    generate.add_argument(
        "--data-key-id",
        default=f"k{datetime.now(UTC):%Y%m%d}",
        help="the new data key's id (default: k and today's date, so that later keys sort after it)",
    )
    _json_flag(generate)

    audit = _command(
        commands,
        "audit",
        "verify, checkpoint or export the audit log",
        "The append-only audit log (docs/audit.md).",
        ["sexto audit verify", "sexto audit export --after 1200 > audit.jsonl"],
        _audit,
    )
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="<audit command>")
    verify = _command(
        audit_commands,
        "verify",
        "recompute the chains and check the checkpoints (exit 1 if broken)",
        "Recompute every chain from its first entry (--full, the default) or from its latest checkpoint held by "
        "the witness (--since-checkpoint: what was appended since, for a daily check; what only --full catches: "
        "docs/audit.md), and check each signed checkpoint against it. "
        "Exit status 0: verified; 1: broken (the first bad entry is named).",
        ["sexto audit verify", "sexto audit verify --since-checkpoint", "sexto audit verify --json | jq .ok"],
        None,
    )
    how = verify.add_mutually_exclusive_group()
    how.add_argument("--full", action="store_true", help="recompute every entry (the default)")
    how.add_argument(
        "--since-checkpoint",
        action="store_true",
        help="start each chain at its latest witnessed checkpoint (from its first entry when it has none)",
    )
    _json_flag(verify)
    checkpoint = _command(
        audit_commands,
        "checkpoint",
        "sign a checkpoint of every chain now",
        "Sign the head of every chain that moved since its last checkpoint (the service also does it every "
        "SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS).",
        ["sexto audit checkpoint"],
        None,
    )
    _json_flag(checkpoint)
    export = _command(
        audit_commands,
        "export",
        "write the entries as JSON Lines",
        "Write the audit entries on standard output, one JSON object a line, oldest first.",
        ["sexto audit export > audit.jsonl", "sexto audit export --after 1200 | head -1"],
        None,
    )
    export.add_argument("--after", type=int, default=0, help="only entries with a greater id")

    retention = _command(
        commands,
        "retention",
        "destroy personal information past the retention rules",
        "Retention and destruction (docs/privacy.md#retention-and-destruction).",
        ["sexto retention run --dry-run"],
        _retention,
    )
    retention_commands = retention.add_subparsers(dest="retention_command", required=True, metavar="<command>")
    run = _command(
        retention_commands,
        "run",
        "destroy what is due (safe to schedule), or list it with --dry-run",
        "Destroy the personal information of closed cases past their board's retention rule, unless a legal "
        "hold keeps them; each destruction is audited. Safe to schedule and to run twice at once.",
        ["sexto retention run --dry-run", "sexto retention run --json > retention-report.json"],
        None,
    )
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be destroyed and what is kept; change nothing"
    )
    _json_flag(run)

    backup = _command(
        commands,
        "backup",
        "back up the PostgreSQL database: an archive and its manifest",
        "Dump the database (pg_dump --format=custom, which must be on PATH, of the server's major version or "
        "later) into ARCHIVE, and write ARCHIVE.manifest.json beside it: the schema revision, each audit "
        "chain's head and the ids of the data keys the data is encrypted under. Both files are 0600; neither "
        "is ever overwritten. The keys are NOT in the archive: back them up apart.",
        [
            'sexto backup "/var/backups/sexto/sexto-$(date -u +%Y%m%dT%H%M%SZ).dump"',
            "sexto backup --json /var/backups/sexto/nightly.dump",
        ],
        _backup,
    )
    backup.add_argument("archive", type=Path, help="the archive to write (ARCHIVE.manifest.json beside it)")
    _json_flag(backup)
    restore = _command(
        commands,
        "restore",
        "restore a backup into a new database, then verify it (exit 1 if a check fails)",
        "Restore ARCHIVE (with ARCHIVE.manifest.json beside it) into a new, empty database on the server of "
        "SEXTO_MIGRATION_DATABASE_URL (else SEXTO_DATABASE_URL; pg_restore --no-owner --single-transaction: all or nothing), apply the "
        "application role's grants, bring the schema to the head, then check: the audit log verifies (and "
        "against SEXTO_AUDIT_WITNESS), its chain heads are the manifest's, and the configured data keys "
        "decrypt what is stored. Refuses a database that holds tables unless --overwrite. --drill restores "
        "into a database of its own, verifies it and drops it: the restore drill, to schedule.",
        [
            "sexto restore --into sexto_restored --create /var/backups/sexto/nightly.dump",
            "sexto restore --drill --json /var/backups/sexto/nightly.dump",
        ],
        _restore,
    )
    restore.add_argument("archive", type=Path, help="the archive written by `sexto backup`")
    restore.add_argument("--into", metavar="NAME", help="the database to restore into (default: the owner's URL's)")
    restore.add_argument("--create", action="store_true", help="create the database named by --into first")
    restore.add_argument(
        "--overwrite",
        action="store_true",
        help="restore into a database that holds tables, replacing the archive's (pg_restore --clean)",
    )
    restore.add_argument(
        "--allow-behind-witness",
        action="store_true",
        help="a witness holding checkpoints past the backup is a warning, not a failure (a drill while the "
        "service runs, or a loss already recorded)",
    )
    restore.add_argument(
        "--drill",
        action="store_true",
        help="restore into a new database made for it, verify, then drop it (implies --allow-behind-witness)",
    )
    _json_flag(restore)

    purge = _command(
        commands,
        "purge-idempotency",
        "delete expired idempotency keys (also done hourly by the service)",
        "Delete the kept answers of expired Idempotency-Keys.",
        ["sexto purge-idempotency"],
        _purge_idempotency,
    )
    _json_flag(purge)
    reencrypt = _command(
        commands,
        "reencrypt-data",
        "rewrite encrypted personal information under the current data key",
        "After adding a data key and making it current (SEXTO_DATA_KEY_CURRENT), rewrite every value stored "
        "under another key, a batch at a time, each batch committed. Interrupted, run it again: values already "
        "under the current key are skipped. Refuses to start when a configured key does not decrypt what is "
        "stored under it, or data is stored under a key that is not configured.",
        ["sexto reencrypt-data", "sexto reencrypt-data --batch-size 200 --json"],
        _reencrypt,
    )
    reencrypt.add_argument("--batch-size", type=_positive, default=500, help="values per committed batch")
    _json_flag(reencrypt)
    return parser


# --- errors ------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def _settings_problem(error: ValidationError) -> str:
    """Pydantic's errors as ``SEXTO_`` names and reasons (never the values:
    the settings hide their input in errors)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        names = [str(part) for part in item["loc"] if isinstance(part, str)]
        problems.append(f"SEXTO_{names[0].upper()}: {message}" if names else message)
    return "settings refused: " + "; ".join(problems)


def describe(exc: BaseException, url_setting: str = "SEXTO_DATABASE_URL") -> str:
    """One line for a failure; never a value from the database nor a secret.
    ``url_setting`` names the URL the command connected with."""
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return _settings_problem(exc)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        # SQLAlchemy's message may quote the URL, and with it a password.
        return (
            f"{url_setting} is not a database URL the service can use "
            "(postgresql+psycopg://user@host/database or sqlite:///path)"
        )
    if isinstance(exc, DBAPIError):
        # The driver's first line: the server's reason, without the statement or its parameters.
        reason = _first_line(str(exc.orig))
        if isinstance(exc, OperationalError) and any(word in reason for word in ("connect", "unable to open")):
            return f"the database cannot be reached: {reason} (check {url_setting})"
        return f"database error: {reason} (is the schema migrated? `sexto migrate`)"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {type(exc).__name__}"
    if isinstance(exc, OSError):
        return _first_line(str(exc))
    if isinstance(exc, ValueError):  # keys that are not keys, URLs that are not URLs
        return _first_line(str(exc))
    return f"unexpected error: {type(exc).__name__}: {_first_line(str(exc))}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings_class = getattr(args, "settings_class", Settings)
        settings = settings_class() if getattr(args, "needs_settings", True) else None
        code: int = args.handler(settings, args)
        return code
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing, and point standard
        # output at nothing so that the flush at exit does not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        print("sexto: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        # The migration commands connect with the owner's URL when it is given.
        migrating = settings_class is DatabaseSettings and any(
            os.environ.get(f"SEXTO_MIGRATION_DATABASE_URL{suffix}") for suffix in ("", "_FILE")
        )
        url_setting = "SEXTO_MIGRATION_DATABASE_URL" if migrating else "SEXTO_DATABASE_URL"
        print(f"sexto: {describe(exc, url_setting)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
