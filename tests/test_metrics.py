"""Prometheus metrics at ``GET /metrics``, behind SEXTO_METRICS_TOKEN: what
they count, what their labels may hold, how several worker processes add up
(``PROMETHEUS_MULTIPROC_DIR``), and the database's gauges (readiness,
checkpoint age, police feed lag)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url

from app.main import create_app
from app.metrics import metrics_from_environment, prepare_multiprocess_dir
from tests.conftest import DEMO_PASSWORD, make_settings, running_service, service_env
from tests.protocol_helpers import Desk

ROOT = Path(__file__).resolve().parent.parent
TOKEN = secrets.token_hex(32)
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float | None:
    """The one sample of ``name`` whose labels include ``labels`` (None: absent)."""
    found = [v for n, got, v in samples(text) if n == name and labels.items() <= got.items()]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


@pytest.fixture
def metered(app_database_url, var_dir) -> TestClient:
    settings = make_settings(app_database_url, var_dir, metrics_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def metered_desk(metered, demo) -> Desk:
    cache: dict[str, dict[str, str]] = {}

    def login(username: str, *, fresh: bool = False) -> dict[str, str]:
        if fresh or username not in cache:
            answer = metered.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD}
            )
            cache[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return cache[username]

    return Desk(metered, login, demo)


def scrape(client) -> str:
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


# --- the endpoint -------------------------------------------------------------------


def test_no_token_no_metrics(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=SCRAPE).status_code == 404


def test_a_scrape_without_the_token_is_refused(metered):
    for headers in (
        {},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        response = metered.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
        assert "sexto_" not in response.text
    assert metered.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_the_token_must_be_long_and_has_a_file_twin(tmp_path):
    from pydantic import ValidationError

    from app.config import Settings

    with pytest.raises(ValidationError, match="SEXTO_METRICS_TOKEN is too short"):
        Settings(var_dir=tmp_path, metrics_token="short")
    (tmp_path / "token").write_text("abc\n")
    with pytest.raises(ValidationError, match="SEXTO_METRICS_TOKEN is too short") as error:
        Settings(var_dir=tmp_path, metrics_token_file=tmp_path / "token")
    assert "abc" not in str(error.value)
    (tmp_path / "token").write_text(TOKEN + "\n")
    assert Settings(var_dir=tmp_path, metrics_token_file=tmp_path / "token").metrics_token.get_secret_value() == TOKEN


# --- what is counted, and what labels hold ------------------------------------------------


def test_requests_are_counted_by_route_template_never_by_path(metered_desk, metered):
    desk = metered_desk
    case = desk.open_case()
    person = desk.person(case, "distributor", name="Zoé Tremblay-Secret")
    for _ in range(3):
        desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert desk.call("GET", f"/cases/{case['id']}/nowhere", "demo-staff-a").status_code == 404
    assert metered.request("PROPFIND", f"/api/v1/cases/{case['id']}").status_code == 405
    text = scrape(metered)
    route = "/api/v1/cases/{case_id}"
    assert value(text, "sexto_http_requests_total", method="GET", route=route, status="200") == 3
    assert value(text, "sexto_http_requests_total", method="POST", route="/api/v1/cases", status="201") == 1
    assert value(text, "sexto_http_requests_total", method="GET", route="(unmatched)", status="404") == 1
    assert value(text, "sexto_http_requests_total", method="OTHER", route=route, status="405") == 1
    assert value(text, "sexto_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert value(text, "sexto_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 3
    # Nothing of the request beyond its method, template and status.
    for secret in (case["id"], case["id"].replace("-", ""), person["id"], "Zoé", "Tremblay", "PROPFIND", "nowhere"):
        assert secret not in text, secret
    for token in (desk.login("demo-staff-a")["Authorization"].split()[1], TOKEN):
        assert token not in text
    labels = {name for _, got, _ in samples(text) for name in got}
    assert labels <= {"method", "route", "status", "le"}, labels


def test_audit_appends_pool_and_readiness(metered_desk, metered):
    metered_desk.open_case()
    text = scrape(metered)
    # One entry per audited request: the sign-in and the case opened.
    assert value(text, "sexto_audit_append_duration_seconds_count") == 2
    assert value(text, "sexto_audit_append_failures_total") == 0
    assert value(text, "sexto_db_pool_connections_max") == 20
    # The scrape itself holds one connection while it reads the database.
    assert value(text, "sexto_db_pool_connections_in_use") in (0, 1)
    assert value(text, "sexto_ready") == 1


def test_a_failed_audit_append_is_counted(metered_desk, metered, database_url, engine_name):
    """The audit log cannot be written: the request is refused (503) and
    the failure shows in ``sexto_audit_append_failures_total``, whether the
    route class or the guard (a refusal before routing) wrote the entry."""
    desk = metered_desk
    desk.login("demo-staff-a")
    if engine_name == "postgresql":
        with psycopg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False)) as owner:
            owner.execute("ALTER TABLE audit_entry ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
    else:
        import sqlite3

        with sqlite3.connect(make_url(database_url).database) as owner:
            owner.execute("CREATE TRIGGER refuse_all BEFORE INSERT ON audit_entry BEGIN SELECT RAISE(ABORT, 'no'); END")
    assert desk.call("GET", "/cases", "demo-staff-a").status_code == 503
    assert value(scrape(metered), "sexto_audit_append_failures_total") == 1
    # A request refused before routing (not JSON) is audited by the guard: counted too.
    refused = metered.post("/api/v1/cases", content=b"plain", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 503
    assert value(scrape(metered), "sexto_audit_append_failures_total") == 2


# --- the database's gauges ---------------------------------------------------------------


def test_checkpoint_age_and_unsigned_entries(metered_desk, metered):
    desk = metered_desk
    text = scrape(metered)
    assert value(text, "sexto_audit_checkpoint_age_seconds") is None  # none signed yet in this database
    unsigned_before = value(text, "sexto_audit_unsigned_entries")
    desk.login("demo-staff-a")  # signed in (an entry) before the checkpoint
    desk.ok("POST", "/audit/checkpoints", "demo-auditor", 201)
    text = scrape(metered)
    age = value(text, "sexto_audit_checkpoint_age_seconds")
    assert age is not None and 0 <= age < 30
    # The checkpoint signs the head before its own request's entry is appended.
    assert value(text, "sexto_audit_unsigned_entries") == 1
    assert unsigned_before is not None
    for _ in range(4):
        desk.ok("GET", "/auth/me", "demo-staff-a")
    assert value(scrape(metered), "sexto_audit_unsigned_entries") == 1 + 4


def test_police_feed_lag(metered_desk, metered, engine_name, settle_feed, database_url):
    """A change is held back, and the lag grows, while a transaction that
    began before it is still open (PostgreSQL); SQLite holds nothing back."""
    desk = metered_desk
    case = desk.open_case()
    desk.confiscate(case, desk.person(case, "distributor"))
    text = scrape(metered)  # no change for the feed yet
    assert value(text, "sexto_police_feed_lag_seconds") == 0
    assert value(text, "sexto_police_feed_held_back_changes") == 0
    if engine_name != "postgresql":
        desk.go(case, "hand_off", police_officer="Agente Paquette")
        assert value(scrape(metered), "sexto_police_feed_held_back_changes") == 0
        return
    owner = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(owner) as open_writer:
        open_writer.execute("SELECT pg_current_xact_id()")  # a writing transaction, left open
        desk.go(case, "hand_off", police_officer="Agente Paquette")
        text = scrape(metered)
        assert value(text, "sexto_police_feed_held_back_changes") == 1
        lag = value(text, "sexto_police_feed_lag_seconds")
        assert lag is not None and 0 < lag < 60
        feed = desk.ok("GET", "/police/cases", "demo-police-a")
        assert feed["items"] == []  # what the gauge says: the feed cannot hand it out yet
        open_writer.rollback()
    settle_feed()
    text = scrape(metered)
    assert value(text, "sexto_police_feed_held_back_changes") == 0
    assert value(text, "sexto_police_feed_lag_seconds") == 0
    assert [item["case"]["id"] for item in desk.ok("GET", "/police/cases", "demo-police-a")["items"]] == [case["id"]]


# --- several worker processes ---------------------------------------------------------------


def _healthz_count(base: str) -> float:
    with httpx.Client(base_url=base) as http:
        text = http.get("/metrics", headers=SCRAPE).text
    return value(text, "sexto_http_requests_total", method="GET", route="/healthz", status="200") or 0


def _healthz_in(path: Path) -> float:
    """The /healthz count one worker's file holds."""
    for family in MultiProcessCollector.merge([str(path)]):
        for sample in family.samples:
            if sample.name == "sexto_http_requests_total" and sample.labels.get("route") == "/healthz":
                return sample.value
    return 0


def test_two_workers_add_up_in_one_scrape(settings, var_dir, tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, whichever worker a scrape reaches
    answers for both; a new run of the service starts the counts over."""
    folder = tmp_path / "metrics"
    env = service_env(settings, var_dir, SEXTO_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder))
    with running_service(env, workers=2) as base:
        with httpx.Client(base_url=base) as http:
            assert http.get("/metrics").status_code == 401
            # Until both workers have started (their pools' capacities add up).
            deadline = time.monotonic() + 60
            while value(http.get("/metrics", headers=SCRAPE).text, "sexto_db_pool_connections_max") != 2 * 20:
                assert time.monotonic() < deadline, "the second worker did not start"
                time.sleep(0.2)
        before = _healthz_count(base)

        def burst(_: int) -> list[int]:
            # A connection per request: the kernel hands them to both workers.
            return [httpx.get(f"{base}/healthz").status_code for _ in range(25)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert [s for result in pool.map(burst, range(8)) for s in result] == [200] * 200
        # Each scrape reaches one worker or the other: all say the same.
        counts = {_healthz_count(base) for _ in range(10)}
        assert counts == {before + 200}
        # Both workers counted some of them, each in its own file.
        per_worker = [_healthz_in(path) for path in sorted(folder.glob("counter_*.db"))]
        assert len(per_worker) == 2 and all(per_worker) and sum(per_worker) == before + 200, per_worker
    with running_service(env, workers=2) as base:
        # A new run: the last one's counts are gone (its files were removed).
        assert _healthz_count(base) < before + 200


def test_a_worker_of_several_without_the_folder_refuses_to_start(monkeypatch):
    """Without the folder each scrape would see one worker's counts."""
    import multiprocessing

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert metrics_from_environment(True) is not None  # serving alone: its own counts are all of them
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())  # a uvicorn worker
    with pytest.raises(RuntimeError, match="set PROMETHEUS_MULTIPROC_DIR"):
        metrics_from_environment(True)
    assert metrics_from_environment(False) is None


def test_the_folder_is_emptied_for_a_new_run_and_kept_within_one(tmp_path):
    folder = tmp_path / "metrics"
    prepare_multiprocess_dir(folder, identity="run-1")
    (folder / "counter_111.db").write_bytes(b"x")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (folder / f"gauge_livesum_{gone.pid}.db").write_bytes(b"x")
    (folder / f"gauge_livesum_{os.getpid()}.db").write_bytes(b"x")
    # Another worker of the same run: counters kept, a dead worker's gauges removed.
    prepare_multiprocess_dir(folder, identity="run-1")
    assert sorted(f.name for f in folder.glob("*.db")) == sorted(["counter_111.db", f"gauge_livesum_{os.getpid()}.db"])
    # A new run: nothing of the last one is kept.
    prepare_multiprocess_dir(folder, identity="run-2")
    assert list(folder.glob("*.db")) == []


# --- the alerting rules the deployment guide gives ----------------------------------------------

RULES = ROOT / "docs" / "prometheus-alerts.yml"
DURATION = re.compile(r"[0-9]+[smhd]")


def test_the_alerting_rules_are_valid_and_name_real_metrics(metered_desk, metered):
    """The rules file is what Prometheus loads (groups of rules, each an
    alert with an expression, a duration, a severity and a summary); every
    ``sexto_`` metric it names is served; deploying.md shows the same rules."""
    document = yaml.safe_load(RULES.read_text())
    assert set(document) == {"groups"}
    metered_desk.ok("GET", "/auth/me", "demo-staff-a")
    metered_desk.ok("POST", "/audit/checkpoints", "demo-auditor", 201)
    served = {name for name, _, _ in samples(scrape(metered))}
    alerts = []
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert DURATION.fullmatch(rule.get("for", "0s")), rule
            assert rule["labels"]["severity"] in {"page", "ticket"}, rule
            assert rule["annotations"]["summary"], rule
            for name in re.findall(r"\bsexto_[a-z_]+", rule["expr"]):
                assert name in served, (rule["alert"], name)
            alerts.append(rule["alert"])
    assert len(alerts) == len(set(alerts))
    for wanted in ("SextoCheckpointTooOld", "SextoAuditAppendFailing", "SextoNotReady", "SextoServerErrors"):
        assert wanted in alerts
    assert any("pool" in alert.lower() for alert in alerts)
    guide = (ROOT / "docs" / "deploying.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    assert any(yaml.safe_load(block) == document for block in blocks), "deploying.md shows other rules"
