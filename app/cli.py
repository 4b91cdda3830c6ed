"""Command line: ``sexto migrate | demo | openapi``."""

from __future__ import annotations

import argparse
import json
import sys

from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine


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


def _openapi(settings: Settings, _args: argparse.Namespace) -> int:
    from app.main import create_app

    json.dump(create_app(settings).openapi(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sexto", description="Sexto case service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema to the latest migration")
    demo = commands.add_parser("demo", help="load the demo dataset into an empty database")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the database has data")
    commands.add_parser("openapi", help="print the OpenAPI document")
    args = parser.parse_args(argv)
    handlers = {"migrate": _migrate, "demo": _demo, "openapi": _openapi}
    return handlers[args.command](Settings(), args)


if __name__ == "__main__":
    raise SystemExit(main())
