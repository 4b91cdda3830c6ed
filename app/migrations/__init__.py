"""Alembic, driven from code: the only way the schema is made or changed.

The revisions (``versions/``) and Alembic's ``env.py`` live in this package,
so that an installed wheel migrates as a checkout does."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Connection, inspect

from app.db import create_db_engine


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent))
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


@dataclass(frozen=True)
class AppRole:
    """What ``ensure_app_role`` did."""

    name: str
    created: bool
    tables_granted: bool  # False when the schema is not migrated yet


def ensure_app_role(connection: Connection, role: str, password: str | None) -> AppRole:
    """Create the service's role, or bring it back to what it should be: it
    logs in, with ``password`` (None: none, for trust, peer or certificate
    authentication), and is nothing else (no superuser, no role creation, no
    membership of the owner), then the grants of ``grant_app_role`` when the
    schema is there.  Run again, it changes nothing but the password's salt.

    The password is hashed here (SCRAM, by libpq, as ``psql``'s
    ``\\password`` does): the server, its logs and its statistics never see it.

    No ``ALTER DEFAULT PRIVILEGES``: a table added by a later migration is
    granted by that migration's end (``grant_app_role``, in its transaction),
    given ``SEXTO_DATABASE_APP_ROLE``.  A default privilege would instead give
    full DML on every new table, a new append-only one included, whenever a
    migration ran without it; without it such a table stays closed to the
    service until granted (it fails, it does not leak).
    """
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise ValueError("the application role is a PostgreSQL role: the migration URL must be postgresql+psycopg://")
    owner: str = connection.exec_driver_sql("SELECT current_user").scalar_one()
    if role == owner:
        raise ValueError(f"the application role must not be the owner that migrates ({role})")
    quoted = connection.dialect.identifier_preparer.quote(role)
    # One at a time, and never during a migration (the same key).
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    existing = connection.exec_driver_sql(
        "SELECT rolsuper FROM pg_roles WHERE rolname = %(role)s", {"role": role}
    ).first()
    if existing is not None and existing.rolsuper:
        raise ValueError(f"role {role} is a superuser, which no grant restricts: choose another name")
    if password is None:
        secret = "NULL"
    else:
        hashed = driver.pgconn.encrypt_password(password.encode(), role.encode(), None)
        secret = sql.Literal(hashed.decode()).as_string(driver)
    attributes = f"LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {secret}"
    verb = "CREATE" if existing is None else "ALTER"
    connection.exec_driver_sql(f"{verb} ROLE {quoted} {attributes}")
    # PUBLIC may connect unless the organisation revoked it; grant it then
    # only (which needs the database's owner).
    may_connect: bool = connection.exec_driver_sql(
        "SELECT has_database_privilege(%(role)s, current_database(), 'CONNECT')", {"role": role}
    ).scalar_one()
    if not may_connect:
        name: str = connection.exec_driver_sql("SELECT current_database()").scalar_one()
        database = connection.dialect.identifier_preparer.quote(name)
        connection.exec_driver_sql(f"GRANT CONNECT ON DATABASE {database} TO {quoted}")
    migrated = inspect(connection).has_table("alembic_version")
    if migrated:
        grant_app_role(connection, role)
        # The outcome, checked: a role that inherits the owner's rights (a
        # member of it) would still rewrite the log whatever it is granted.
        for table in APPEND_ONLY_TABLES:
            if connection.exec_driver_sql(
                "SELECT has_table_privilege(%(role)s, %(table)s, 'UPDATE, DELETE, TRUNCATE')",
                {"role": role, "table": table},
            ).scalar_one():
                raise ValueError(f"role {role} may still change {table}: it inherits from a role that may (the owner?)")
    else:
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    return AppRole(name=role, created=existing is None, tables_granted=migrated)


def may_change_audit_log(connection: Connection) -> bool:
    """Whether the connected role may UPDATE, DELETE or TRUNCATE an audit
    table (PostgreSQL): the owner, a superuser, or a role granted too much.
    Only the triggers would then stand between it and the log."""
    for table in APPEND_ONLY_TABLES:
        allowed: bool = connection.exec_driver_sql(
            "SELECT has_table_privilege(current_user, %(table)s, 'UPDATE, DELETE, TRUNCATE')", {"table": table}
        ).scalar_one()
        if allowed:
            return True
    return False


# The PostgreSQL advisory lock held while migrating (an arbitrary fixed key,
# the same in every instance).
MIGRATION_LOCK_KEY = 0x5E7_0001
MIGRATION_LOCK_POLL_SECONDS = 0.2


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
            # Waited for by polling, outside any transaction: a process blocked
            # in pg_advisory_lock holds a snapshot, which an index built
            # CONCURRENTLY by the one migrating waits for (a deadlock).
            connection.execution_options(isolation_level="AUTOCOMMIT")
            while not connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY})").scalar():
                time.sleep(MIGRATION_LOCK_POLL_SECONDS)
            try:
                command.upgrade(config, revision)
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {heads}")
    return heads[0]
