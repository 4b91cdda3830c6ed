"""Migrate as the owner, serve as the application role (PostgreSQL): ``sexto
db create-app-role`` makes the role, ``sexto migrate`` reads the migration URL
and no key, and the real server, connected as that role, serves while the
role itself cannot rewrite the audit log: PostgreSQL refuses it the
privilege, before any trigger is reached."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from app import cli
from app.migrations import upgrade
from tests.conftest import make_settings, running_service, service_env

pytestmark = pytest.mark.postgres_only


class Scratch:
    """A blank database and the roles a test makes, both dropped at the end
    (roles belong to the server: the database, which holds their grants, goes
    first)."""

    def __init__(self, server) -> None:
        self.server = server
        self.name = server.new_name()
        self.owner_url = server.create(self.name)
        self.roles: list[str] = []

    def role(self) -> str:
        name = f"sexto_role_{uuid.uuid4().hex[:12]}"
        self.roles.append(name)
        return name

    def url_as(self, role: str) -> str:
        return make_url(self.owner_url).set(username=role, password=None).render_as_string(hide_password=False)

    def connect(self, url: str) -> psycopg.Connection:
        return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))

    def admin(self, statement: sql.Composable) -> None:
        with self.connect(self.owner_url) as connection:
            connection.execute(statement)

    def close(self) -> None:
        self.server.drop(self.name)
        with self.connect(self.server.url.render_as_string(hide_password=False)) as connection:
            connection.autocommit = True
            for role in self.roles:
                connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def scratch(engine_name, postgres_server) -> Iterator[Scratch]:
    made = Scratch(postgres_server)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def owner_env(scratch, monkeypatch, tmp_path) -> None:
    """``sexto`` as the migration job runs it: production, the owner's URL,
    and not one key."""
    import os

    for name in [name for name in os.environ if name.startswith("SEXTO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SEXTO_ENVIRONMENT", "production")
    monkeypatch.setenv("SEXTO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SEXTO_MIGRATION_DATABASE_URL", scratch.owner_url)


def test_the_server_serves_as_the_app_role_which_cannot_rewrite_the_audit_log(
    scratch, owner_env, monkeypatch, tmp_path, var_dir
):
    role = scratch.role()
    secrets = tmp_path / "secrets"
    # The role first (its grants wait for the schema), then the migration,
    # which grants it every table: the order of docs/deploying.md.
    assert (
        cli.main(
            ["db", "create-app-role", role, "--password-file", str(secrets / "pw"), "--url-file", str(secrets / "url")]
        )
        == 0
    )
    monkeypatch.setenv("SEXTO_DATABASE_APP_ROLE", role)
    assert cli.main(["migrate"]) == 0
    for name in ("pw", "url"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600
    service_url = (secrets / "url").read_text().strip()
    assert make_url(service_url).username == role
    assert make_url(service_url).password == (secrets / "pw").read_text().strip()

    monkeypatch.delenv("SEXTO_ENVIRONMENT")  # the service under test: development keys, fast hashing
    env = service_env(make_settings(service_url, var_dir), var_dir)
    del env["SEXTO_DATABASE_URL"]  # the service reads its URL from the file, and never the owner's
    env.update(SEXTO_DATABASE_URL_FILE=str(secrets / "url"), SEXTO_FIRST_ADMIN_USERNAME="root")
    env["SEXTO_FIRST_ADMIN_PASSWORD"] = "trois chevaux bleus dansent sous la pluie"
    with running_service(env) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "root", "password": env["SEXTO_FIRST_ADMIN_PASSWORD"]},
            timeout=30,
        )
        assert token.status_code == 200, token.text  # a write, audited, as the role
    # The role itself, connected directly: privilege refused, not a trigger's error.
    with scratch.connect(service_url) as connection:
        connection.autocommit = True
        assert connection.execute("SELECT count(*) FROM audit_entry").fetchone()[0] >= 1
        for table in ("audit_entry", "audit_checkpoint"):
            for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                    connection.execute(statement)


def test_create_app_role_is_idempotent_and_never_sends_the_password(scratch, owner_env, tmp_path, capsys):
    role = scratch.role()
    password_file = tmp_path / "pw"
    password_file.write_text("a password chosen by the operator\n")
    upgrade(scratch.owner_url)
    for expected in ("created", "already there"):
        assert cli.main(["db", "create-app-role", role, "--password-file", str(password_file)]) == 0
        assert expected in capsys.readouterr().out
    assert password_file.read_text() == "a password chosen by the operator\n"  # read, never rewritten
    with scratch.connect(scratch.owner_url) as owner:
        stored, superuser, may_update, may_insert = owner.execute(
            "SELECT rolpassword, rolsuper, has_table_privilege(rolname, 'audit_entry', 'UPDATE'), "
            "has_table_privilege(rolname, 'audit_entry', 'INSERT') FROM pg_authid WHERE rolname = %s",
            (role,),
        ).fetchone()
    assert stored.startswith("SCRAM-SHA-256$") and "chosen" not in stored
    assert (superuser, may_update, may_insert) == (False, False, True)
    # --no-password takes the password away (trust, peer or certificate auth).
    assert cli.main(["db", "create-app-role", role, "--no-password"]) == 0
    with scratch.connect(scratch.owner_url) as owner:
        assert owner.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0] is None


def test_create_app_role_refuses_a_role_that_could_still_rewrite_the_log(scratch, owner_env, capsys):
    upgrade(scratch.owner_url)
    owner = make_url(scratch.owner_url).username
    assert cli.main(["db", "create-app-role", owner, "--no-password"]) == 1
    assert "must not be the owner" in capsys.readouterr().err
    # A member of the owner inherits the owner's rights, whatever it is granted.
    member = scratch.role()
    scratch.admin(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(sql.Identifier(member), sql.Identifier(owner)))
    assert cli.main(["db", "create-app-role", member, "--no-password"]) == 1
    assert "may still change audit_entry" in capsys.readouterr().err


def test_migrate_reads_the_migration_url_and_no_key(scratch, owner_env, monkeypatch, tmp_path):
    role = scratch.role()
    assert cli.main(["db", "create-app-role", role, "--no-password"]) == 0
    # The service's own URL is the app role's, which may not create tables:
    # migrating works only because the migration URL is used.
    monkeypatch.setenv("SEXTO_DATABASE_URL", scratch.url_as(role))
    monkeypatch.delenv("SEXTO_MIGRATION_DATABASE_URL")
    assert cli.main(["migrate"]) == 1
    monkeypatch.setenv("SEXTO_MIGRATION_DATABASE_URL", scratch.owner_url)
    monkeypatch.setenv("SEXTO_DATABASE_APP_ROLE", role)
    assert cli.main(["migrate"]) == 0


def test_a_table_added_by_a_later_migration_is_granted_by_that_migration(scratch, owner_env):
    role = scratch.role()
    upgrade(scratch.owner_url, revision="0017")
    assert cli.main(["db", "create-app-role", role, "--no-password"]) == 0
    with scratch.connect(scratch.url_as(role)) as connection:
        connection.execute("SELECT count(*) FROM audit_entry")
    upgrade(scratch.owner_url, app_role=role)  # 0018 adds periodic_lease
    with scratch.connect(scratch.url_as(role)) as connection:
        connection.execute("INSERT INTO periodic_lease (name, holder, expires_at) VALUES ('t', 'h', now())")


def test_a_later_migration_without_the_role_leaves_its_table_closed(scratch, owner_env):
    role = scratch.role()
    upgrade(scratch.owner_url, revision="0017")
    assert cli.main(["db", "create-app-role", role, "--no-password"]) == 0
    upgrade(scratch.owner_url)  # no SEXTO_DATABASE_APP_ROLE: fails closed, not open
    with (
        scratch.connect(scratch.url_as(role)) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute("SELECT count(*) FROM periodic_lease")


def test_the_password_file_is_generated_once(tmp_path):
    path: Path = tmp_path / "deep" / "pw"
    first, generated = cli._app_role_password(path)
    assert generated and first and len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cli._app_role_password(path) == (first, False)


def test_the_role_may_connect_where_public_may_not(scratch, owner_env):
    scratch.admin(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(scratch.name)))
    role = scratch.role()
    scratch.admin(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        scratch.connect(scratch.url_as(role)).close()
    assert cli.main(["db", "create-app-role", role, "--no-password"]) == 0
    with scratch.connect(scratch.url_as(role)) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == role


def test_the_service_warns_when_it_serves_as_a_role_that_may_change_the_log(
    database_url, app_database_url, var_dir, caplog
):
    from fastapi.testclient import TestClient

    from app.main import create_app

    warning = "may change the audit log"
    with TestClient(create_app(make_settings(app_database_url, var_dir))) as client:
        assert client.get("/readyz").status_code == 200
    assert warning not in caplog.text
    with TestClient(create_app(make_settings(database_url, var_dir))) as client:  # the owner
        assert client.get("/readyz").status_code == 200
    assert warning in caplog.text
