"""Command line: ``sexto migrate | demo | accounts approve | openapi | docs-config | audit verify|checkpoint|export |
retention run [--dry-run] | purge-idempotency | reencrypt-data``."""

from __future__ import annotations

import argparse
import json
import sys

from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine, table_of


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from app.migrations import upgrade

    if settings.database_url is None:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import is_empty, load_demo
    from app.orgs.service import local_today
    from app.security import PasswordHasher

    if settings.is_production:
        print("refusing to load demo data in production", file=sys.stderr)
        return 2
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        with Session(engine) as session:
            if not is_empty(session):
                if args.if_empty:
                    print("database not empty: demo data not loaded")
                    return 0
                print("database not empty: refusing to load demo data", file=sys.stderr)
                return 2
            load_demo(
                session,
                PasswordHasher(settings),
                settings.demo_password.get_secret_value(),
                local_today(settings.local_timezone),
            )
            print("demo data loaded")
    finally:
        engine.dispose()
    return 0


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    """``accounts approve KIND:ID``: the operator approves every pending grant
    of one account (the first approver of an organization has nobody to
    approve it), and the credential issued is printed once."""
    import dataclasses
    import uuid

    from app.accounts.duties import operator_approval
    from app.security import PasswordHasher

    kind, _, raw_id = args.account.partition(":")
    try:
        account_id = uuid.UUID(raw_id)
    except ValueError:
        account_id = None
    if kind not in ("user", "service_account") or account_id is None:
        print("name the account as user:<id> or service_account:<id>", file=sys.stderr)
        return 2
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        with Session(engine) as session:
            count, issued = operator_approval(session, PasswordHasher(settings), kind, account_id)
    finally:
        engine.dispose()
    if not count:
        print("nothing of this account waits for approval", file=sys.stderr)
        return 1
    shown = {name: value for name, value in (dataclasses.asdict(issued) if issued else {}).items() if value}
    json.dump({"approved_grants": count, "credential": shown or None}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _openapi(settings: Settings, _args: argparse.Namespace) -> int:
    from app.main import create_app

    json.dump(create_app(settings).openapi(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _docs_config(_settings: Settings, _args: argparse.Namespace) -> int:
    from app.config import configuration_page

    sys.stdout.write(configuration_page())
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.audit import chain
    from app.audit.checkpoints import CheckpointSigner
    from app.audit.models import AuditEntry
    from app.audit.router import event_out

    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    signer = CheckpointSigner.from_settings(settings)
    try:
        if args.audit_command == "verify":
            with engine.connect() as connection:
                report = chain.verify(connection, signer.verify)
            for status in report.chains:
                state = (
                    "ok"
                    if status.ok
                    else f"BROKEN at entry {status.first_bad_seq} (id {status.first_bad_id}): {status.problem}"
                )
                print(f"chain {status.chain}: {status.entries} entries, {state}")
            for problem in report.checkpoint_problems:
                print(f"checkpoint problem: {problem}")
            print(f"{report.checkpoints_checked} checkpoints checked; {'verified' if report.ok else 'NOT VERIFIED'}")
            return 0 if report.ok else 1
        if args.audit_command == "checkpoint":
            with Session(engine) as session:
                issued = signer.issue(session)
                session.commit()
                for checkpoint in issued:
                    print(f"checkpoint {checkpoint.chain} #{checkpoint.seq} {checkpoint.entry_hash}")
            return 0
        # export: JSON Lines on standard output, oldest first, in batches
        table = table_of(AuditEntry)
        with engine.connect() as connection:
            statement = select(table).where(table.c.id > args.after).order_by(table.c.id)
            rows = connection.execute(statement, execution_options={"stream_results": True, "yield_per": 5000})
            for row in rows:
                sys.stdout.write(event_out(row).model_dump_json() + "\n")
        return 0
    finally:
        engine.dispose()


def _purge_idempotency(settings: Settings, _args: argparse.Namespace) -> int:
    from app.idempotency.service import purge_expired

    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        with Session(engine) as session:
            purged = purge_expired(session)
            session.commit()
        print(f"{purged} expired idempotency keys purged")
    finally:
        engine.dispose()
    return 0


def _reencrypt(settings: Settings, _args: argparse.Namespace) -> int:
    """Rewrite every encrypted value under the current data key (after adding
    a key, before retiring the old one), and encrypt values written before."""
    from sqlmodel import SQLModel, select

    from app.cases.models import Case, Note, Participant
    from app.cases.service import note_context, summary_context
    from app.crypto import DataCipher
    from app.idempotency.answers import answer_context
    from app.idempotency.models import IdempotencyRecord

    cipher = DataCipher.from_settings(settings)
    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    rewritten = 0
    try:
        with Session(engine) as session:
            encrypted: list[tuple[SQLModel, str, str]] = [
                (person, field, f"participant:{person.id}:{field}")
                for person in session.exec(select(Participant)).all()
                for field in ("name", "student_id")
            ]
            encrypted += [(case, "summary", summary_context(case)) for case in session.exec(select(Case)).all()]
            encrypted += [(note, "text", note_context(note)) for note in session.exec(select(Note)).all()]
            for row, field, context in encrypted:
                stored = getattr(row, field)
                if stored and cipher.needs_rewrap(stored):  # destroyed summaries stay empty
                    setattr(row, field, cipher.encrypt(cipher.decrypt(stored, context), context))
                    rewritten += 1
            for record in session.exec(select(IdempotencyRecord)).all():
                if cipher.needs_rewrap(record.body):
                    context = answer_context(record.subject, record.key)
                    record.body = cipher.encrypt(cipher.decrypt(record.body, context), context)
                    rewritten += 1
            session.commit()
    finally:
        engine.dispose()
    print(f"{rewritten} values rewritten under data key {cipher.current}")
    return 0


def _retention(settings: Settings, args: argparse.Namespace) -> int:
    """Destroy the personal information of closed cases past their board's
    retention rule (``--dry-run``: list what would go and what is kept, with
    counts, and change nothing).  Prints a JSON report."""
    from app.privacy import retention

    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        report = retention.run(engine, settings.retention_default_years, dry_run=args.dry_run)
    finally:
        engine.dispose()
    json.dump(report.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sexto", description="Sexto case service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema to the latest migration")
    demo = commands.add_parser("demo", help="load the demo dataset into an empty database")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the database has data")
    accounts = commands.add_parser("accounts", help="approve the first approver of an organization")
    accounts_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    approve = accounts_commands.add_parser(
        "approve", help="approve every pending grant of one account; print the credential issued, once"
    )
    approve.add_argument("account", help="user:<id> or service_account:<id>")
    commands.add_parser("openapi", help="print the OpenAPI document")
    commands.add_parser("docs-config", help="print docs/configuration.md, generated from the settings' descriptions")
    commands.add_parser("reencrypt-data", help="rewrite encrypted personal information under the current data key")
    commands.add_parser("purge-idempotency", help="delete expired idempotency keys (also done hourly by the service)")
    audit = commands.add_parser("audit", help="verify, checkpoint or export the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="recompute the chains and check the checkpoints (exit 1 if broken)")
    audit_commands.add_parser("checkpoint", help="sign a checkpoint of every chain now")
    export = audit_commands.add_parser("export", help="write the entries as JSON Lines")
    export.add_argument("--after", type=int, default=0, help="only entries with a greater id")
    retention = commands.add_parser("retention", help="destroy personal information past the retention rules")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    run = retention_commands.add_parser("run", help="destroy what is due (safe to schedule), or list it with --dry-run")
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be destroyed and what is kept; change nothing"
    )
    args = parser.parse_args(argv)
    handlers = {
        "migrate": _migrate,
        "demo": _demo,
        "accounts": _accounts,
        "openapi": _openapi,
        "docs-config": _docs_config,
        "audit": _audit,
        "purge-idempotency": _purge_idempotency,
        "reencrypt-data": _reencrypt,
        "retention": _retention,
    }
    return handlers[args.command](Settings(), args)


if __name__ == "__main__":
    raise SystemExit(main())
