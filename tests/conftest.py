"""Test fixtures: every test runs on SQLite and on PostgreSQL, each against a
fresh database cloned from a template built with ``alembic upgrade head`` (so
every run checks the migrations too) and loaded with the demo dataset.

PostgreSQL comes from ``SEXTO_TEST_POSTGRES_URL`` (default: the local server).
Where it does not answer, the PostgreSQL half skips with one line, except
under ``CI=true``, where that is a failure.

``make test`` runs the suite in parallel (pytest-xdist, one process per
core): each worker builds its own templates, under names of its own, and
every database it makes starts with them, so that neither two workers nor two
runs on one server meet.  Tests that share one database across a module run
on one worker (``xdist_group``, see ``pytest_collection_modifyitems``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pty
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url
from sqlmodel import Session, select

from app.accounts.models import User
from app.config import Settings
from app.db import create_db_engine
from app.demo import SCHOOL_A, SCHOOL_B, is_empty, load_demo
from app.main import create_app
from app.migrations import upgrade
from app.orgs.models import School
from app.orgs.service import local_today
from app.security import PasswordHasher
from tests.protocol_helpers import Desk

DEMO_PASSWORD = "demo-password-for-tests"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The service under test connects as this role, which the migrations grant
# only SELECT and INSERT on the audit tables (the owner runs migrations).
APP_ROLE = "sexto_app_test"
ENGINES = ["sqlite", "postgresql"]
IN_CI = os.environ.get("CI", "").lower() == "true"


TEST_LIMITS = dict(
    signin_limit_per_address=100_000,
    signin_limit_global=100_000,
    password_hash_queue=1000,
    audit_verify_limit=100_000,
    audit_export_limit=100_000,
    access_review_limit=100_000,
)


def make_settings(database_url: str, var_dir: Path, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        var_dir=var_dir,
        demo_password=DEMO_PASSWORD,
        # A fast hasher: the recommended parameters cost ~50 ms per hash.
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
        first_admin_username=None,
        first_admin_password=None,
        audit_checkpoint_interval_seconds=0,
        audit_checkpoint_every_entries=0,
        audit_witness="none",
        maintenance_interval_seconds=0,
        # The suite signs in and calls the expensive reads far more often than
        # anyone would: limits that fit it (TEST_LIMITS).  The tests of the
        # limits give their own, and test the production defaults.
        **TEST_LIMITS,
    )
    values.update(overrides)
    return Settings(**values)


class PostgresServer:
    """Creates and drops throwaway databases on the test server.

    Test databases are copies of a template, made one ahead and dropped in
    the background: on a busy server, copying takes most of a second and
    dropping (which waits for every other session to let go of the files)
    longer, while the test itself waits for neither."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url).set(drivername="postgresql+psycopg")
        self.url = parsed
        # Unique per worker and per run: concurrent runs share the server.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"sexto_test_{worker}_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self._lock = threading.Lock()
        # Copies and drops each have a thread: a drop (which waits for the
        # server's other sessions, seconds on a busy one) never delays the
        # copy the next test is waiting for.
        self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database-copies")
        self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database-drops")
        self._spares: dict[str, Future[str]] = {}

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            self.url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
            connect_timeout=3,
        )

    def check(self) -> None:
        with self._admin() as connection:
            connection.execute("SELECT 1")
            exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
            if not exists:
                # another test run may create it at the same moment
                with contextlib.suppress(psycopg.errors.DuplicateObject):
                    connection.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN')

    def app_url(self, owner_url: str) -> str:
        return make_url(owner_url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def new_name(self) -> str:
        return f"{self.prefix}_{uuid.uuid4().hex[:10]}"

    def create(self, name: str, template: str | None = None) -> str:
        with self._admin() as connection:
            if template:
                connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                connection.execute(f'CREATE DATABASE "{name}"')
        with self._lock:
            self.created.append(name)
        return self.database_url(name)

    def clone(self, template: str) -> str:
        """The URL of a fresh copy of ``template``, never handed out before;
        the next copy is started at once."""
        spare = self._spares.pop(template, None)
        url = spare.result() if spare else self.create(self.new_name(), template)
        self._spares[template] = self._copier.submit(self.create, self.new_name(), template)
        return url

    def drop(self, name: str) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with self._lock:
            if name in self.created:
                self.created.remove(name)

    def drop_later(self, name: str) -> None:
        self._dropper.submit(self.drop, name)

    def close(self) -> None:
        """Wait for the background work, then drop whatever is left."""
        for spare in self._spares.values():
            spare.exception()  # finished, whether it worked or not
        self._copier.shutdown(wait=True)
        self._dropper.shutdown(wait=True)
        for name in list(self.created):
            self.drop(name)

    def settle(self, timeout: float = 60) -> None:
        """Wait until every transaction begun on the server before this call
        has ended.

        The police feed hands out a change only once every transaction that
        could still write an earlier one has ended (``pg_snapshot_xmin``), and
        transaction ids belong to the server, not to a database: another test
        writing at that moment (another worker, another run) holds the feed
        back.  A test reads the feed after this, so that what it reads depends
        on its own writes only."""
        with self._admin() as connection:
            (mark,) = connection.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
            deadline = time.monotonic() + timeout
            while (
                connection.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetchone()[0] <= mark
            ):
                assert time.monotonic() < deadline, f"a transaction begun before {mark} stayed open {timeout} s"
                time.sleep(0.01)


@dataclass
class EngineTemplates:
    """Per engine: a migrated database, and a migrated one with the demo data."""

    engine: str
    empty: str = ""
    demo: str = ""
    clones: list[str] = field(default_factory=list)


@pytest.fixture(scope="session", autouse=True)
def _no_gc_freeze() -> Iterator[None]:
    """The service's lifespan freezes what it has loaded out of the garbage
    collector's reach (``gc.freeze``): right for a process serving one app.
    A test process starts an app per test, and each freeze kept every earlier
    test's garbage (apps, engines, responses) for good: the memory of a run
    grew past 2 GB.  Here it is a no-op."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gc, "freeze", lambda: None)
        yield


# Tests that share one database across their module (a module-scoped fixture
# built on it, named here) run on one worker, one group per engine: the
# database is then built once, and a test that checks what the others left
# (the matrix's refusals, audited) sees all of them.
SHARED_DATABASE_FIXTURES = ("world",)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        for name in SHARED_DATABASE_FIXTURES:
            if callspec is not None and name in callspec.params and name in item.fixturenames:
                group = f"{item.module.__name__}-{name}-{callspec.params[name]}"
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory) -> Path:
    # One signing key for the whole run, generated like in development.
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    url = os.environ.get("SEXTO_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    server = PostgresServer(url)
    try:
        server.check()
    except psycopg.Error as exc:
        reason = f"PostgreSQL at {server.url.render_as_string()} does not answer: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required)", pytrace=False)
        yield None
        return
    yield server
    server.close()


def _seed(url: str, var_dir: Path, with_demo: bool) -> None:
    upgrade(url, app_role=APP_ROLE if url.startswith("postgresql") else None)
    if with_demo:
        settings = make_settings(url, var_dir)
        engine = create_db_engine(url, pool_size=1)
        with Session(engine) as session:
            assert is_empty(session)
            load_demo(session, PasswordHasher(settings), DEMO_PASSWORD, local_today(settings.local_timezone))
        engine.dispose()


@pytest.fixture(scope="session")
def templates(request, tmp_path_factory, var_dir, postgres_server) -> dict[str, EngineTemplates]:
    """Built lazily, once per engine."""
    built: dict[str, EngineTemplates] = {}
    return built


def _templates_for(engine: str, built, tmp_path_factory, var_dir, postgres_server) -> EngineTemplates:
    if engine in built:
        return built[engine]
    result = EngineTemplates(engine)
    if engine == "sqlite":
        folder = tmp_path_factory.mktemp("sqlite-templates")
        for kind in ("empty", "demo"):
            path = folder / f"{kind}.db"
            _seed(f"sqlite:///{path}", var_dir, with_demo=kind == "demo")
            setattr(result, kind, str(path))
    else:
        for kind in ("empty", "demo"):
            name = f"{postgres_server.prefix}_{kind}"
            url = postgres_server.create(name)
            _seed(url, var_dir, with_demo=kind == "demo")
            setattr(result, kind, name)
    built[engine] = result
    return result


class DatabaseFactory:
    def __init__(self, engine, templates, tmp_path, postgres_server) -> None:
        self.engine = engine
        self.templates = templates
        self.tmp_path = tmp_path
        self.postgres = postgres_server
        self.count = 0
        self.made: list[str] = []  # PostgreSQL databases, dropped by ``discard``

    def clone(self, kind: str = "demo") -> str:
        self.count += 1
        source = getattr(self.templates, kind)
        if self.engine == "sqlite":
            target = self.tmp_path / f"db{self.count}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        return self._made(self.postgres.clone(source))

    def blank(self) -> str:
        """An empty database with no schema at all."""
        self.count += 1
        if self.engine == "sqlite":
            return f"sqlite:///{self.tmp_path / f'blank{self.count}.db'}"
        return self._made(self.postgres.create(self.postgres.new_name()))

    def _made(self, url: str) -> str:
        self.made.append(make_url(url).database)
        return url

    def discard(self) -> None:
        for name in self.made:
            self.postgres.drop_later(name)
        self.made.clear()


@pytest.fixture(params=ENGINES)
def engine_name(request, postgres_server) -> str:
    if request.param == "postgresql" and postgres_server is None:
        pytest.skip("PostgreSQL does not answer (set SEXTO_TEST_POSTGRES_URL)")
    marker = request.node.get_closest_marker("postgres_only")
    if marker and request.param != "postgresql":
        pytest.skip("PostgreSQL only")
    return request.param


@pytest.fixture
def databases(
    engine_name, templates, tmp_path_factory, tmp_path, var_dir, postgres_server
) -> Iterator[DatabaseFactory]:
    built = _templates_for(engine_name, templates, tmp_path_factory, var_dir, postgres_server)
    factory = DatabaseFactory(engine_name, built, tmp_path, postgres_server)
    yield factory
    factory.discard()


@pytest.fixture
def database_url(databases) -> str:
    """The owner's URL of a fresh demo database (for arranging and checking)."""
    return databases.clone("demo")


@pytest.fixture
def settle_feed(engine_name, postgres_server) -> Callable[[], None]:
    """Call before reading the police feed (see ``PostgresServer.settle``)."""
    if engine_name == "postgresql":
        return postgres_server.settle
    return lambda: None


@pytest.fixture
def app_database_url(database_url, postgres_server) -> str:
    """The URL the service uses: on PostgreSQL, the restricted application role."""
    if database_url.startswith("postgresql"):
        return postgres_server.app_url(database_url)
    return database_url


@pytest.fixture
def settings(app_database_url, var_dir) -> Settings:
    return make_settings(app_database_url, var_dir)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def db(database_url) -> Iterator[Session]:
    """A direct session on the test database, for arranging and checking.

    On SQLite it uses the driver's default (deferred) transactions rather than
    the service's BEGIN IMMEDIATE, so that a test reading rows never holds the
    write lock the service under test needs."""
    url = database_url
    engine = create_engine(url) if url.startswith("sqlite") else create_db_engine(url, pool_size=1)
    with Session(engine) as session:
        yield session
    engine.dispose()


def token_for(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


# Routes that end the caller's own token when they go through: a walk over
# every route signs in again after them (``login(name, fresh=True)``).
REVOKES_THE_CALLERS_TOKEN = frozenset({("POST", "/api/v1/auth/sign-out")})


@pytest.fixture
def login(client):
    """``login("demo-staff-a")`` → headers with a bearer token, the same each
    time; ``fresh=True`` signs in again (after a sign-out)."""
    cache: dict[str, dict[str, str]] = {}

    def _login(username: str, *, fresh: bool = False) -> dict[str, str]:
        if fresh or username not in cache:
            cache[username] = {"Authorization": f"Bearer {token_for(client, username)}"}
        return cache[username]

    return _login


def run_maintenance_purge(settings: Settings) -> None:
    """One round of the service's periodic purge of expired rows
    (``app.main._maintenance``), on an engine of its own."""
    from app.audit.checkpoints import CheckpointSigner
    from app.main import _maintenance

    engine = create_db_engine(settings.effective_database_url, pool_size=1)
    try:
        _sign_checkpoints, purge_expired_rows = _maintenance(engine, CheckpointSigner.from_settings(settings), settings)
        purge_expired_rows()
    finally:
        engine.dispose()


def approve_account(client: TestClient, approver_headers: dict[str, str], account_id: object) -> dict | None:
    """The approver approves every grant of the account waiting for it
    (separation of duties, app.accounts.duties); the credential issued with
    the first approval of an account whose password or secret an admin set
    (None when there was none)."""
    listed = client.get("/api/v1/approvals", params={"limit": 100}, headers=approver_headers)
    assert listed.status_code == 200, listed.text
    credential = None
    mine = [item for item in listed.json()["items"] if item["account_id"] == str(account_id)]
    assert mine, "nothing of the account waits for this approver"
    for item in mine:
        decided = client.post(f"/api/v1/approvals/{item['id']}/approve", headers=approver_headers)
        assert decided.status_code == 200, decided.text
        credential = decided.json()["credential"] or credential
    return credential


def approved_service_account(client: TestClient, login, body: dict, approver: str) -> dict:
    """A service account made by the admin and approved by ``approver``:
    its representation, with the secret the approval issued."""
    created = client.post("/api/v1/service-accounts", json=body, headers=login("demo-admin"))
    assert created.status_code == 201, created.text
    credential = approve_account(client, login(approver), created.json()["id"])
    assert credential is not None
    return {**created.json(), "client_secret": credential["client_secret"]}


@dataclass(frozen=True)
class Demo:
    users: dict[str, uuid.UUID]
    school_a: uuid.UUID
    school_b: uuid.UUID
    force_a: uuid.UUID
    force_b: uuid.UUID
    board_a: uuid.UUID
    board_b: uuid.UUID


@pytest.fixture
def demo(db) -> Demo:
    users = {u.username: u.id for u in db.exec(select(User)).all()}
    school_a = db.exec(select(School).where(School.name == SCHOOL_A)).one()
    school_b = db.exec(select(School).where(School.name == SCHOOL_B)).one()
    return Demo(
        users=users,
        school_a=school_a.id,
        school_b=school_b.id,
        force_a=school_a.police_force_id,
        force_b=school_b.police_force_id,
        board_a=school_a.board_id,
        board_b=school_b.board_id,
    )


def api_routes(app):
    """Every route of the app as (path, methods, route), included routers
    flattened (FastAPI keeps them as included-router entries)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies routes into the app
        for route in app.routes:
            yield route.path, getattr(route, "methods", set()), route
        return
    for context in iter_route_contexts(app.routes):
        yield context.path, context.methods or set(), context.original_route


def service_env(settings: Settings, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a service started as its own process on the test
    database (fast password hashing, no periodic checkpoints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=settings.effective_database_url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_ARGON2_TIME_COST="1",
        SEXTO_ARGON2_MEMORY_COST="1024",
        SEXTO_ARGON2_PARALLELISM="1",
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0",
        SEXTO_AUDIT_CHECKPOINT_EVERY_ENTRIES="0",
        SEXTO_AUDIT_WITNESS="none",
        **{f"SEXTO_{name.upper()}": str(value) for name, value in TEST_LIMITS.items()},
    )
    env.update(extra)  # may replace any of the above
    return env


MISSING_ID = "00000000-0000-4000-8000-000000000000"


def write_routes(app):
    """Every route that takes a JSON body (the token endpoint's is a form),
    as (method, path with ids that exist nowhere, template)."""
    from fastapi.routing import APIRoute

    for template, methods, route in api_routes(app):
        if not isinstance(route, APIRoute) or route.body_field is None or template == "/api/v1/auth/token":
            continue
        path = template
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", MISSING_ID)
        for method in sorted(methods & {"POST", "PUT", "PATCH"}):
            yield method, path, template


@contextmanager
def running_service(env: dict[str, str], workers: int = 1, *, with_process: bool = False) -> Iterator:
    """uvicorn serving the app in a child process; yields its base URL once
    /healthz answers (with the process too, to kill it, if ``with_process``)."""
    with running_services([env], workers) as [(base, server)]:
        yield (base, server) if with_process else base


@contextmanager
def running_services(
    envs: list[dict[str, str]], workers: int = 1, *, logs: list[Path] | None = None
) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """One uvicorn process per environment, all started before any is waited
    for (as replicas starting together); yields each one's base URL and
    process once every /healthz answers.  Each process's standard error goes
    to its file in ``logs`` when given (nowhere otherwise).

    Each serves on a socket bound here to a port the system picks and handed
    over already listening, so no other test or run can take the port, and
    /healthz can only be answered by that service."""
    import httpx

    servers: list[tuple[str, subprocess.Popen]] = []
    try:
        for number, env in enumerate(envs):
            listener = socket.create_server(("127.0.0.1", 0), backlog=128)
            with listener, contextlib.ExitStack() as files:
                port = listener.getsockname()[1]
                # Served as the Dockerfile serves it: uvicorn itself believes no proxy header.
                command = [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.main:create_app",
                    "--factory",
                    "--no-proxy-headers",
                    "--no-access-log",
                ]
                command += ["--fd", str(listener.fileno())]
                if workers > 1:
                    command += ["--workers", str(workers)]
                stderr = files.enter_context(logs[number].open("ab")) if logs else subprocess.DEVNULL
                server = subprocess.Popen(
                    command, env=env, pass_fds=[listener.fileno()], stdout=subprocess.DEVNULL, stderr=stderr
                )
            servers.append((f"http://127.0.0.1:{port}", server))
        deadline = time.monotonic() + 60 * len(servers)  # they start on the same cores
        for base, server in servers:
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, f"the service exited with {server.returncode}"
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
        yield servers
    finally:
        for _base, server in servers:
            if server.poll() is None:
                server.terminate()
        for _base, server in servers:
            server.wait(timeout=20)


@pytest.fixture
def desk(client, login, demo) -> Desk:
    """The demo people working cases through the API (``tests.protocol_helpers``)."""
    return Desk(client, login, demo)


@dataclass(frozen=True)
class OnTerminal:
    returncode: int
    stdout: bytes
    drawn: bytes  # what the command wrote to its standard error, a terminal


def sexto_on_terminal(arguments: list[str], env: dict[str, str], timeout: float) -> OnTerminal:
    """Run ``sexto`` with its standard error on a pseudo-terminal (where
    progress is drawn) and its standard output on a pipe."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *arguments],
        env={**env, "TERM": "xterm", "COLUMNS": "100"},
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = b""
    try:
        while True:  # read as it is drawn: a full terminal would block the command
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the command ended: its side of the terminal is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert process.stdout is not None
    out = process.stdout.read()
    return OnTerminal(process.wait(timeout=timeout), out, drawn)
