"""The application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.accounts.router import approvals_router, staff_router
from app.accounts.router import router as accounts_router
from app.accounts.service import ensure_first_admin
from app.apidocs import install_docs
from app.audit.checkpoints import CheckpointCadence, CheckpointSigner
from app.audit.router import router as audit_router
from app.auth.mfa.router import admin_router as mfa_admin_router
from app.auth.mfa.router import reauthenticated_router as mfa_reauthenticated_router
from app.auth.mfa.router import router as mfa_router
from app.auth.oidc.client import ProviderDirectory
from app.auth.oidc.router import admin_router as sso_admin_router
from app.auth.oidc.router import approvals_router as sso_approvals_router
from app.auth.oidc.router import install_sso_refusals, sso_router
from app.auth.oidc.service import purge_expired_logins
from app.auth.revocation import purge_expired_revocations
from app.auth.router import password_router, token_router
from app.auth.router import router as auth_router
from app.auth.service import purge_expired_throttles
from app.auth.sessions import purge_expired_sessions
from app.cases.policy import unshown_flags
from app.cases.router import router as cases_router
from app.cases.service import case_named
from app.config import Settings
from app.crypto import DataCipher
from app.datakeys import KeyCheck
from app.db import REQUEST_SLOTS, SIGNIN_SLOTS, create_db_engine
from app.errors import install_problem_handlers
from app.grid.router import router as grid_router
from app.grid.templates import BUILT_IN, GridTemplates
from app.headers import install as install_headers
from app.health.router import router as health_router
from app.idempotency.service import purge_expired
from app.lease import lease_seconds, new_holder
from app.lease import take as take_lease
from app.limits import purge_expired as purge_expired_counters
from app.logs import configure_logging
from app.metrics import Metrics, metrics_from_environment, metrics_router
from app.middleware import RequestGuard
from app.migrations import head_revision, may_change_audit_log
from app.openapi import install_openapi
from app.orgs.router import router as orgs_router
from app.police.router import router as police_router
from app.privacy.router import holds_router
from app.privacy.router import router as privacy_router
from app.security import PasswordHasher, TokenService
from app.tracing import Tracing, tracing_from_environment
from app.web import WebApp

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger("sexto")

DESCRIPTION = """
Case service for the **Sexto kit** (trousse Sexto): the protocol Quebec schools
follow when teenagers share sexual images.  Schools open cases and complete the
incident evaluation grid, police liaisons take handed-off cases, DPJ reporters
record reports, auditors verify the access log.

* Sign in at `POST /api/v1/auth/token` (OAuth2 password or client-credentials grant).
* Errors are RFC 9457 problem documents (`application/problem+json`), in French
  by default or English (`Accept-Language: en`).
* This service never accepts images, video or audio: nobody looks at the content.
"""


async def _every(seconds: int, work: Callable[[], None]) -> None:
    """Run ``work`` (blocking, in a thread) every ``seconds``; a failure is
    logged and the next round tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(work)
        except Exception:
            logger.error("periodic %s failed", getattr(work, "__name__", "task"))


async def _checkpointing(cadence: CheckpointCadence, sign_checkpoints: Callable[[bool], None]) -> None:
    """Sign and publish checkpoints whenever the cadence says they are due; a
    failure is logged and the next round tries again.  A round due to the
    interval runs on the lease holder only; one due to N entries runs where
    they were counted (only one process sees each multiple of N)."""
    while True:
        by_entries = await cadence.wait()
        try:
            await run_in_threadpool(sign_checkpoints, not by_entries)
        except Exception:
            logger.error("periodic sign_checkpoints failed")


def _maintenance(
    engine: Engine, signer: CheckpointSigner, settings: Settings, holder: str | None = None
) -> tuple[Callable[[bool], None], Callable[[], None]]:
    """The periodic tasks, each run only by the instance that holds its lease
    (``app.lease``): an instance without it skips the round.  ``holder`` is
    the instance's lease holder id (a new one when not given)."""
    holder = holder or new_holder()
    checkpoint_lease = lease_seconds(settings.audit_checkpoint_interval_seconds)
    maintenance_lease = lease_seconds(settings.maintenance_interval_seconds)

    def sign_checkpoints(leased: bool = True) -> None:
        """``leased``: only on the instance holding the lease (the interval's
        rounds); otherwise here and now (start-up, N entries).  Either way
        each head is stored and published once (``CheckpointSigner.issue``)."""
        if leased and not take_lease(engine, "sign_checkpoints", holder, checkpoint_lease):
            return
        with Session(engine) as session:
            signer.issue(session)
            session.commit()

    def purge_expired_rows() -> None:
        if not take_lease(engine, "purge_expired_rows", holder, maintenance_lease):
            return
        with Session(engine) as session:
            purge_expired(session)
            purge_expired_throttles(session, settings)
            purge_expired_revocations(session)
            purge_expired_sessions(session, settings)
            purge_expired_logins(session)
            purge_expired_counters(session)
            session.commit()
        # Which instance did the round (its lease holder id is random, never a host name).
        logger.debug("periodic purge_expired_rows ran (holder %s)", holder)

    return sign_checkpoints, purge_expired_rows


def _check_data_keys(engine: Engine, cipher: DataCipher) -> KeyCheck:
    """Whether the data keys read the stored data, found at start-up and
    kept for /readyz (which says which key id is wrong or missing)."""
    key_check = KeyCheck(cipher)
    try:
        for problem in key_check.run(engine):
            logger.error("not ready: %s", problem)  # key ids only, never a key
    except SQLAlchemyError:
        pass  # no schema yet: /readyz checks once there is one
    return key_check


def _warn_when_serving_as_owner(engine: Engine) -> None:
    """Serving as the role that owns the audit tables undoes the grants that
    make the log append-only for the service: say so at start-up."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as connection:
            too_much = may_change_audit_log(connection)
    except SQLAlchemyError:
        return  # no schema yet
    if too_much:
        logger.warning(
            "the service's database role may change the audit log (its owner, a superuser, or granted too much): "
            "serve as the application role (sexto db create-app-role, docs/deploying.md)"
        )


def create_app(settings: Settings | None = None, *, span_exporter: SpanExporter | None = None) -> FastAPI:
    """The service.  ``span_exporter``: traces go to it alone (the tests'
    in-memory exporter); otherwise the ``OTEL_`` variables say (``app.tracing``)."""
    settings = settings or Settings()
    configure_logging(settings.log_level.value)
    # Before any request: the multiprocess folder is made ready here.
    metrics = metrics_from_environment(settings.metrics_token is not None)
    tracing = tracing_from_environment(span_exporter)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        if settings.database_url is None:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(settings.effective_database_url)
        hasher = PasswordHasher(settings)
        tokens = TokenService.from_settings(settings)
        checkpoints = CheckpointSigner.from_settings(settings)
        grid_templates = GridTemplates([BUILT_IN, *settings.grid_templates_dirs])
        if leaks := unshown_flags(grid_templates.all()):
            raise RuntimeError(
                f"a grid template raises {', '.join(leaks)} from answers police do not read: "
                "declare them in app.cases.policy.CASE_FLAGS_HIDDEN or let police read those answers"
            )
        cipher = DataCipher.from_settings(settings)
        key_check = _check_data_keys(engine, cipher)
        _warn_when_serving_as_owner(engine)
        if settings.first_admin_username and settings.first_admin_password:
            with Session(engine) as session:
                try:
                    if ensure_first_admin(
                        session,
                        hasher,
                        settings.first_admin_username,
                        settings.first_admin_password.get_secret_value(),
                    ):
                        logger.info("first admin account created")
                except IntegrityError:
                    pass  # another worker created it at the same moment
        # Everything loaded so far lives as long as the process: keep it out of
        # the garbage collector's generations (fewer, shorter collections).
        gc.freeze()
        sign_checkpoints, purge_expired_rows = _maintenance(engine, checkpoints, settings, new_holder())
        cadence = CheckpointCadence(settings.audit_checkpoint_every_entries, settings.audit_checkpoint_interval_seconds)
        periodic: list[asyncio.Task[None]] = []
        if cadence.enabled:
            # A checkpoint at start-up, published to the witness: the log is
            # anchored outside the database from the first moment.  A witness
            # that cannot be written stops the start, loudly.
            await run_in_threadpool(sign_checkpoints, False)
            periodic.append(asyncio.create_task(_checkpointing(cadence, sign_checkpoints)))
        if settings.maintenance_interval_seconds:
            periodic.append(asyncio.create_task(_every(settings.maintenance_interval_seconds, purge_expired_rows)))
        periodic += _observe_engine(engine, metrics, tracing)
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "hasher": hasher,
                "tokens": tokens,
                "checkpoints": checkpoints,
                # Told of every request's entry, to wake the checkpoint loop
                # every SEXTO_AUDIT_CHECKPOINT_EVERY_ENTRIES entries.
                "audit_appended": cadence.appended,
                "grid_templates": grid_templates,
                "cipher": cipher,
                "key_check": key_check,
                "migration_head": head_revision(),
                "db_slots": asyncio.Semaphore(REQUEST_SLOTS),
                "signin_slots": asyncio.Semaphore(SIGNIN_SLOTS),
                # The route class ties a refused request's audit entry to the
                # case its path leads to; what leads to a case is the cases' to say.
                "case_of_path": case_named,
                # Told of each audit append's latency and failures (None: metrics off).
                "metrics": metrics,
                # The identity providers' discovery documents and keys (app.auth.oidc).
                "oidc": ProviderDirectory(settings),
            }
        finally:
            for task in periodic:
                task.cancel()
            hasher.close()
            engine.dispose()
            _stop_observing(metrics, tracing)

    app = FastAPI(
        title="Sexto case service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Operation ids are the route names (open_case, take_transition, ...):
        # what a generated client's methods are called.
        generate_unique_id_function=lambda route: route.name,
        # Served by app.apidocs (no CDN, a strict CSP), when the settings say so.
        docs_url=None,
        redoc_url=None,
    )
    # First: the tracing middleware goes outside the server error handler,
    # and the security headers (``install_headers``) outside it.
    _observe_app(app, settings, metrics, tracing)
    install_problem_handlers(app)
    install_sso_refusals(app)
    install_openapi(app)
    install_headers(app)
    if settings.api_docs_enabled:
        install_docs(app)
    # The web app's pages and assets at / (app.web), inside the guard.
    app.add_middleware(WebApp, dist=settings.web_dist)
    # The guard times every request for its log line, and for the metrics.
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    if settings.trusted_proxies:
        # Outside the guard, whose refusals are audited with the client address
        # too.  Only the proxies named are believed, however the app is served.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.include_router(health_router)
    app.include_router(token_router)
    app.include_router(auth_router)
    app.include_router(password_router)
    app.include_router(mfa_router)
    app.include_router(mfa_reauthenticated_router)
    app.include_router(mfa_admin_router)
    app.include_router(sso_router)
    app.include_router(sso_admin_router)
    app.include_router(sso_approvals_router)
    app.include_router(orgs_router)
    app.include_router(accounts_router)
    app.include_router(staff_router)
    app.include_router(approvals_router)
    app.include_router(cases_router)
    app.include_router(grid_router)
    app.include_router(police_router)
    app.include_router(holds_router)
    app.include_router(privacy_router)
    app.include_router(audit_router)
    return app


def _observe_engine(engine: Engine, metrics: Metrics | None, tracing: Tracing | None) -> list[asyncio.Task[None]]:
    """The pool gauges' sampling, and a span per statement, when each is on."""
    if tracing is not None:
        tracing.instrument_engine(engine)
    return [asyncio.create_task(metrics.watch_pool(engine))] if metrics is not None else []


def _stop_observing(metrics: Metrics | None, tracing: Tracing | None) -> None:
    """At shutdown: this process's gauges leave the sums, pending spans leave."""
    if metrics is not None:
        metrics.forget_this_process()
    if tracing is not None:
        tracing.shutdown()


def _observe_app(app: FastAPI, settings: Settings, metrics: Metrics | None, tracing: Tracing | None) -> None:
    """``GET /metrics`` when the metrics are on; a span per request when traces are."""
    if metrics is not None and settings.metrics_token is not None:
        app.include_router(metrics_router(settings.metrics_token.get_secret_value(), metrics))
    if tracing is not None:
        tracing.instrument_app(app)
