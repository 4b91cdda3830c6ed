"""Prometheus metrics, served at ``GET /metrics`` to whoever holds
``SEXTO_METRICS_TOKEN`` (unset: no such route, and nothing is recorded).

What each process records as it works (``Metrics``): requests by method,
route template and status, their latency, the audit appends' latency and
failures, and its database pool's connections in use (sampled each second).  What the database
holds is read when a scrape asks (``DatabaseGauges``): readiness, the age of
the newest signed checkpoint and the entries no checkpoint covers yet, the
police feed's lag.

Labels are bounded: a route *template* (``/api/v1/cases/{case_id}``, or
``(unmatched)``), one of the HTTP methods (``OTHER`` for anything else a
caller sends), a status code.  Never an id, a name, a token or a raw path.

Several worker processes (``uvicorn --workers N``) answer on one port, so a
scrape reaches one of them at random: with ``PROMETHEUS_MULTIPROC_DIR`` set
(prometheus_client's multiprocess mode) every process writes its values to
files there, and the one scraped adds them all up.  ``prepare_multiprocess_dir``
empties the folder when a new run of the service starts (a new uvicorn
supervisor, or a new single process) and keeps it across the workers of one
run; a worker that stops takes its gauges with it
(``forget_this_process``)."""

from __future__ import annotations

import asyncio
import fcntl
import hmac
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from app.audit.checkpoints import signing_state
from app.datakeys import KeyCheck
from app.db import pool_capacity
from app.errors import problem_response, request_language
from app.health.service import readiness
from app.i18n import translate
from app.police.service import held_back

logger = logging.getLogger("sexto.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds.  Most answers take a few milliseconds; the upper buckets catch
# pool waits and slow sign-ins (argon2).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
POOL_SAMPLE_SECONDS = 1.0
APPEND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """What one process records (see the module docstring)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        # The process's own values, exposed as they are when it is the only
        # one; in multiprocess mode the files are read instead.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "sexto_http_requests",
            "Requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "sexto_http_request_duration_seconds",
            "Time from the request's arrival to its answer's last byte (or its failure), by method and route template.",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.append_seconds = Histogram(
            "sexto_audit_append_duration_seconds",
            "Time to append a request's audit entry and commit it with the request's changes.",
            buckets=APPEND_BUCKETS,
            registry=self.registry,
        )
        self.append_failures = Counter(
            "sexto_audit_append_failures",
            "Audit entries that could not be written (each such request was answered 503).",
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "sexto_db_pool_connections_in_use",
            "Database connections checked out of the pools of the live processes.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.pool_capacity = Gauge(
            "sexto_db_pool_connections_max",
            "The most connections the pools of the live processes may open (size and overflow).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._counted: dict[tuple[tuple[str, str], int | None], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def observe_request(self, method: str | None, route: str, status: int | None, seconds: float) -> None:
        # The children of each label set, kept: ``labels()`` costs more
        # than the increment itself.  As bounded as the labels are.
        key = (method if method in METHODS else "OTHER", route)
        counted = self._counted.get((key, status))
        if counted is None:
            counted = self._counted[(key, status)] = self.requests.labels(*key, str(status or 0))
        timed = self._timed.get(key)
        if timed is None:
            timed = self._timed[key] = self.request_seconds.labels(*key)
        counted.inc()
        timed.observe(seconds)

    def observe_append(self, seconds: float) -> None:
        self.append_seconds.observe(seconds)

    def append_failed(self) -> None:
        self.append_failures.inc()

    async def watch_pool(self, engine: Engine) -> None:
        """Keep the pool gauges current: the pool's count, sampled every
        ``POOL_SAMPLE_SECONDS`` (a scrape comes every 15 s or so; a write
        at every checkout would cost each request instead)."""
        pool = engine.pool
        if not isinstance(pool, QueuePool):
            return
        self.pool_capacity.set(pool_capacity(pool))
        while True:
            self.pool_in_use.set(pool.checkedout())
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    def exposition(self, database: Collector) -> bytes:
        """The text a scrape reads: every process's values (or this one's),
        and the database's."""
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess_dir is not None:
            MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        else:
            registry.register(_Collected(self.registry.collect))
        registry.register(database)
        return generate_latest(registry)

    def forget_this_process(self) -> None:
        """At a worker's shutdown: its gauges leave the sums (its counters stay)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


class _Collected(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


class DatabaseGauges(Collector):
    """What the database says at the moment of the scrape.  A database that
    does not answer leaves ``sexto_ready`` at 0 and the other gauges out."""

    def __init__(self, engine: Engine, migration_head: str, key_check: KeyCheck) -> None:
        self._engine = engine
        self._migration_head = migration_head
        self._key_check = key_check

    def collect(self) -> Iterator[Metric]:
        ready = readiness(self._engine, self._migration_head, self._key_check).ready
        yield GaugeMetricFamily(
            "sexto_ready", "1 when /readyz would answer ready (database, schema at head, data keys), else 0.", ready
        )
        try:
            with self._engine.connect() as connection:
                signing = signing_state(connection)
                feed = held_back(connection)
        except SQLAlchemyError:
            return
        now = datetime.now(UTC)
        if signing.newest_checkpoint_at is not None:
            yield GaugeMetricFamily(
                "sexto_audit_checkpoint_age_seconds",
                "Seconds since the newest signed audit checkpoint was issued.",
                (now - signing.newest_checkpoint_at).total_seconds(),
            )
        yield GaugeMetricFamily(
            "sexto_audit_unsigned_entries",
            "Audit entries past the newest checkpoint of their chain (not yet signed), over all chains.",
            signing.unsigned_entries,
        )
        yield GaugeMetricFamily(
            "sexto_police_feed_lag_seconds",
            "Age of the oldest committed police-feed change that the feed cannot hand out yet "
            "(0: it can hand out every committed change).",
            (now - feed.oldest_at).total_seconds() if feed.oldest_at is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "sexto_police_feed_held_back_changes",
            "Committed police-feed changes that the feed cannot hand out yet.",
            feed.count,
        )


def metrics_router(token: str, metrics: Metrics) -> APIRouter:
    """``GET /metrics``, for a caller that sends ``Authorization: Bearer
    <SEXTO_METRICS_TOKEN>`` (compared in constant time); anyone else gets 401.
    Not an API route: not audited (it reads no case data), not in the OpenAPI
    document (it exists only where the setting is given)."""
    expected = token.encode()
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            language = request_language(request)
            return problem_response(
                status=401,
                code="not_authenticated",
                detail=translate("not_authenticated", language),
                language=language,
                headers={"WWW-Authenticate": "Bearer"},
            )
        state = request.state
        database = DatabaseGauges(state.engine, state.migration_head, state.key_check)
        return Response(metrics.exposition(database), media_type=CONTENT_TYPE_LATEST)

    return router


# --- the multiprocess folder ---------------------------------------------------

_LOCK = ".sexto-metrics.lock"
_RUN = ".sexto-metrics.run"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]*_(\d+)\.db")


def _start_time(pid: int) -> str:
    """When the process started (Linux: clock ticks since boot, from /proc),
    so that a reused process id is not taken for the same process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def run_identity() -> str:
    """The run of the service this process belongs to: its uvicorn
    supervisor (the parent that started it through ``multiprocessing``), or
    itself when it serves alone."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent is not None and parent.pid is not None else os.getpid()
    return f"{_boot_id()}:{pid}:{_start_time(pid)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_multiprocess_dir(folder: Path, identity: str | None = None) -> None:
    """Before this process records anything: a folder left by an earlier run
    is emptied (its counters would add to this run's); within a run, the
    gauges of workers that died are removed (uvicorn starts new ones)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    identity = identity or run_identity()
    with (folder / _LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = folder / _RUN
        previous = marker.read_text() if marker.exists() else None
        if previous != identity:
            for stale in folder.glob("*.db"):
                stale.unlink()
            marker.write_text(identity)
            return
        for live in folder.glob("gauge_live*_*.db"):
            match = _LIVE_GAUGE_FILE.fullmatch(live.name)
            if match and not _alive(int(match[1])):
                mark_process_dead(int(match[1]), str(folder))  # type: ignore[no-untyped-call]


def metrics_from_environment(enabled: bool) -> Metrics | None:
    """The process's ``Metrics`` when the metrics are on; with the
    multiprocess folder when ``PROMETHEUS_MULTIPROC_DIR`` names one.  A
    worker of several without that folder would show a scrape its own
    counts only: it refuses to start."""
    if not enabled:
        return None
    folder = os.environ.get(MULTIPROCESS_DIR)
    if not folder:
        if multiprocessing.parent_process() is not None:
            raise RuntimeError(
                f"SEXTO_METRICS_TOKEN is set and the service runs several worker processes: set {MULTIPROCESS_DIR} "
                "to a folder of its own, or each scrape sees one worker's counts"
            )
        return Metrics()
    path = Path(folder)
    prepare_multiprocess_dir(path)
    return Metrics(path)
