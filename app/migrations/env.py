"""Alembic environment.  The URL comes from the caller (``app.migrations``) or
from the settings (the migration URL, else the database URL: never a key is
read); SQLite uses batch mode so that ALTERs work there too."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import DatabaseSettings
from app.db import create_db_engine, metadata
from app.migrations import grant_app_role

config = context.config


def _url() -> str:
    return config.attributes.get("database_url") or DatabaseSettings().effective_migration_database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite changes a table by rebuilding it (batch mode), and
                # dropping a table other rows point to fails while foreign
                # keys are enforced.  SQLite's own procedure: enforcement off
                # for the migration (set outside any transaction, where the
                # pragma counts), then every reference checked before commit.
                connection.connection.cursor().execute("PRAGMA foreign_keys = OFF")
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows pointing to rows that do not exist")
                role = config.attributes.get("app_role") or DatabaseSettings().database_app_role
                if role and connection.dialect.name == "postgresql":
                    grant_app_role(connection, role)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
