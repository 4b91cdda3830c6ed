"""Alembic, driven from code: the only way the schema is made or changed."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from app.config import PROJECT_ROOT
from app.db import create_db_engine


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


# Tables the application may only read and append to.
APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")


def grant_app_role(connection: Connection, role: str) -> None:
    """Grant the service's PostgreSQL role what it needs and no more.

    Run after every migration, so a new table is covered at once: full DML on
    the ordinary tables, but only SELECT and INSERT on the audit tables (no
    UPDATE, DELETE or TRUNCATE: the triggers refuse them too).
    """
    quoted = connection.dialect.identifier_preparer.quote(role)
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    connection.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    for table in APPEND_ONLY_TABLES:
        connection.exec_driver_sql(f"REVOKE ALL ON {table} FROM {quoted}")
        connection.exec_driver_sql(f"GRANT SELECT, INSERT ON {table} TO {quoted}")
    connection.exec_driver_sql(f"REVOKE ALL ON alembic_version FROM {quoted}")
    connection.exec_driver_sql(f"GRANT SELECT ON alembic_version TO {quoted}")


# The PostgreSQL advisory lock held while migrating (an arbitrary fixed key,
# the same in every instance).
MIGRATION_LOCK_KEY = 0x5E7_0001


def upgrade(database_url: str, revision: str = "head", app_role: str | None = None) -> None:
    """Bring the schema to ``revision``.

    On PostgreSQL, under a session-level advisory lock on a connection of
    its own: of N instances that start together, one migrates and the others
    wait, then find the schema current and do nothing.  SQLite is one file
    that one process migrates under its own lock.
    """
    config = alembic_config(database_url)
    config.attributes["app_role"] = app_role
    if not database_url.startswith("postgresql"):
        command.upgrade(config, revision)
        return
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            connection.commit()
            try:
                command.upgrade(config, revision)
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                connection.commit()
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {heads}")
    return heads[0]
