"""Request limits (``app.limits``): sign-in floods per client address and
overall, the password-hash queue, and the expensive reads per caller."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.auth.models import LoginThrottle
from app.config import Settings
from app.db import create_db_engine
from app.limits import Limit, RateLimitCounter, hit
from app.main import create_app
from app.security import PasswordHasher
from tests.conftest import DEMO_PASSWORD, TEST_LIMITS, make_settings, run_maintenance_purge, token_for

TOKEN = "/api/v1/auth/token"


def wrong(username: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": "not-the-password"}


@contextmanager
def service(settings: Settings, address: str = "198.51.100.7", **overrides) -> Iterator[TestClient]:
    """The service on the test database with limits of the test's own."""
    app = create_app(make_settings(settings.database_url, settings.var_dir, **overrides))
    with TestClient(app, client=(address, 50000)) as client:
        yield client


def as_address(client: TestClient, address: str) -> TestClient:
    """Another client of the same running service, from another address."""
    other = TestClient(client.app, client=(address, 50000))
    other.portal = client.portal  # the same running app, its lifespan state included
    other.app_state.update(client.app_state)
    return other


def refusals(db, reason: str) -> list[AuditEntry]:
    db.rollback()
    return list(db.exec(select(AuditEntry).where(AuditEntry.reason == reason)).all())


def assert_limited(response, code: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == code
    assert int(response.headers["retry-after"]) >= 1


class HashSpy:
    """Counts the secrets checked; with ``gate``, holds every check until it is set."""

    def __init__(self, monkeypatch, gate: threading.Event | None = None) -> None:
        self.checked = 0
        self.lock = threading.Lock()
        original = PasswordHasher.verify

        def verify(hasher, password, hashed):
            with self.lock:
                self.checked += 1
            if gate is not None:
                assert gate.wait(60)
            return original(hasher, password, hashed)

        monkeypatch.setattr(PasswordHasher, "verify", verify)

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.checked < count:
            assert time.monotonic() < deadline, f"{self.checked} checks started, {count} expected"
            time.sleep(0.01)


# --- sign-in -------------------------------------------------------------------


def test_sign_ins_are_limited_per_client_address_before_any_hash(settings, db, monkeypatch):
    spy = HashSpy(monkeypatch)
    with service(settings, signin_limit_per_address=3) as client:
        for i in range(3):
            assert client.post(TOKEN, data=wrong(f"made-up-{i}")).status_code == 400
        assert spy.checked == 3
        refused = client.post(TOKEN, data=wrong("made-up-3"))
        assert_limited(refused, "signin_rate_limited")
        # The client-credentials grant is counted the same way.
        assert_limited(
            client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}),
            "signin_rate_limited",
        )
        assert spy.checked == 3, "a refused attempt was hashed"
        # Another address is not affected.
        assert as_address(client, "198.51.100.8").post(TOKEN, data=wrong("made-up-4")).status_code == 400
    entries = refusals(db, "signin_rate_limited")
    assert len(entries) == 2
    assert {(e.action, e.status_code, e.outcome, e.client_address) for e in entries} == {
        ("issue_token", 429, "denied", "198.51.100.7")
    }


def test_sign_ins_are_limited_over_all_addresses(settings, db, monkeypatch):
    spy = HashSpy(monkeypatch)
    with service(settings, signin_limit_per_address=100, signin_limit_global=4) as client:
        for i in range(4):
            assert as_address(client, f"203.0.113.{i}").post(TOKEN, data=wrong(f"u{i}")).status_code == 400
        assert_limited(as_address(client, "203.0.113.99").post(TOKEN, data=wrong("u99")), "signin_rate_limited")
        assert spy.checked == 4
    assert len(refusals(db, "signin_rate_limited")) == 1


def test_an_attempt_refused_for_its_address_does_not_count_against_everyone(settings, monkeypatch):
    HashSpy(monkeypatch)
    with service(settings, signin_limit_per_address=2, signin_limit_global=4) as client:
        for _ in range(6):
            client.post(TOKEN, data=wrong("someone"))
        other = as_address(client, "198.51.100.9")
        assert other.post(TOKEN, data=wrong("a")).status_code == 400
        assert other.post(TOKEN, data=wrong("b")).status_code == 400


def test_the_production_defaults_limit_sign_ins(settings, monkeypatch):
    """The defaults, not the suite's: 60 attempts a minute per address, 1,200
    over all, 8 waiting for a hash; 6, 60 and 20 calls a minute of the
    expensive reads."""
    fields = Settings.model_fields
    defaults = {name: fields[name].default for name in TEST_LIMITS}
    assert defaults == {
        "signin_limit_per_address": 60,
        "signin_limit_global": 1200,
        "password_hash_queue": 8,
        "audit_verify_limit": 6,
        "audit_export_limit": 60,
        "access_review_limit": 20,
    }
    assert fields["signin_limit_window_seconds"].default == 60
    assert fields["expensive_limit_window_seconds"].default == 60
    HashSpy(monkeypatch)
    with service(settings, **defaults) as client:
        for i in range(60):
            assert client.post(TOKEN, data=wrong(f"name-{i}")).status_code == 400
        refused = client.post(TOKEN, data=wrong("name-60"))
        assert_limited(refused, "signin_rate_limited")
        assert int(refused.headers["retry-after"]) <= 60


# --- the limiter -----------------------------------------------------------------


def test_the_count_holds_across_sessions_and_concurrent_callers(database_url):
    """Two sessions (as two processes) share one count, and concurrent hits
    let exactly the limit through."""
    engine = create_db_engine(database_url, pool_size=8)
    limit = Limit(3, 60)
    try:
        with Session(engine) as first, Session(engine) as second:
            assert hit(first, "k" * 64, limit) is None
            assert hit(second, "k" * 64, limit) is None
            assert hit(first, "k" * 64, limit) is None
            wait = hit(second, "k" * 64, limit)
            assert wait is not None and 1 <= wait <= 60
            assert hit(first, "k" * 64, limit) is not None

        def one_hit(_: int) -> bool:
            with Session(engine) as session:
                return hit(session, "c" * 64, Limit(5, 60)) is None

        with ThreadPoolExecutor(max_workers=8) as pool:
            allowed = list(pool.map(one_hit, range(40)))
        assert allowed.count(True) == 5
        with Session(engine) as session:
            # The count stops one past the limit.
            assert session.get(RateLimitCounter, "c" * 64).hits == 6
    finally:
        engine.dispose()


def test_a_window_gone_by_starts_over(database_url, db):
    db.add(RateLimitCounter(counter_key="w" * 64, hits=9, window_started_at=datetime.now(UTC) - timedelta(seconds=61)))
    db.commit()
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with Session(engine) as session:
            assert hit(session, "w" * 64, Limit(3, 60)) is None
            assert session.get(RateLimitCounter, "w" * 64).hits == 1
    finally:
        engine.dispose()


def test_the_maintenance_purges_expired_counters(db, settings):
    now = datetime.now(UTC)
    db.add(RateLimitCounter(counter_key="o" * 64, hits=3, window_started_at=now - timedelta(hours=2)))
    db.add(RateLimitCounter(counter_key="n" * 64, hits=3, window_started_at=now))
    db.commit()
    run_maintenance_purge(settings)
    db.rollback()
    assert {row.counter_key for row in db.exec(select(RateLimitCounter)).all()} == {"n" * 64}


def test_counter_keys_are_keyed_digests(settings, db, monkeypatch):
    HashSpy(monkeypatch)
    with service(settings, address="192.0.2.44") as client:
        client.post(TOKEN, data=wrong("someone"))
    keys = [row.counter_key for row in db.exec(select(RateLimitCounter)).all()]
    assert len(keys) == 2  # the address and everyone
    for key in keys:
        assert "192.0.2.44" not in key and len(key) == 64 and int(key, 16) >= 0


# --- hashing holds nothing that other requests need ---------------------------------


def test_an_authenticated_read_completes_while_every_hash_slot_is_held(client, login, desk, monkeypatch):
    """Sign-ins stuck behind the password hashes (every slot held, many more
    waiting) leave the requests that carry a token their slots, connections
    and threads."""
    case = desk.open_case()
    headers = login("demo-staff-a")
    gate = threading.Event()
    spy = HashSpy(monkeypatch, gate)
    flood = ThreadPoolExecutor(max_workers=40)
    try:
        stuck = [flood.submit(client.post, TOKEN, data=wrong(f"flood-{i}")) for i in range(40)]
        spy.wait_for(2)  # both hash slots held
        time.sleep(0.5)  # and the rest of the flood queued behind them
        reader = ThreadPoolExecutor(max_workers=1)
        read = reader.submit(client.get, f"/api/v1/cases/{case['id']}", headers=headers)
        try:
            answer = read.result(timeout=15)
        except TimeoutError:
            answer = None
        assert answer is not None, "the read waited for the sign-ins' hashes"
        assert answer.status_code == 200
        assert not any(f.done() for f in stuck), "the flood went through: the hashes were not held"
    finally:
        gate.set()
        flood.shutdown(wait=True)
    assert {f.result().status_code for f in stuck} == {400}
    reader.shutdown()


def test_a_full_hash_queue_answers_at_once(settings, db, monkeypatch):
    gate = threading.Event()
    spy = HashSpy(monkeypatch, gate)
    with service(settings, max_concurrent_password_hashes=1, password_hash_queue=1) as client:
        pool = ThreadPoolExecutor(max_workers=2)
        try:
            held = [pool.submit(client.post, TOKEN, data=wrong(f"held-{i}")) for i in range(2)]
            spy.wait_for(1)
            time.sleep(0.5)  # and the other waiting for it
            answers = ThreadPoolExecutor(max_workers=1)
            third = answers.submit(client.post, TOKEN, data=wrong("third"))
            try:
                busy = third.result(timeout=10)
            except TimeoutError:
                busy = None
            assert busy is not None, "the sign-in waited for a full queue"
            assert busy.status_code == 503
            assert busy.json()["code"] == "signin_busy"
            assert int(busy.headers["retry-after"]) >= 1
        finally:
            gate.set()
            pool.shutdown(wait=True)
        answers.shutdown()
        assert [f.result().status_code for f in held] == [400, 400]
        assert spy.checked == 2
        # Once the queue has room, sign-ins are checked again.
        assert client.post(TOKEN, data=wrong("fourth")).status_code == 400
    entries = refusals(db, "signin_busy")
    assert [(e.action, e.status_code) for e in entries] == [("issue_token", 503)]


def test_sign_in_slots_are_few_and_apart_from_the_request_slots():
    from app.db import POOL_SIZE, REQUEST_SLOTS, SIGNIN_SLOTS

    # The pool covers the requests, the sign-ins, and two for periodic work and /readyz.
    assert REQUEST_SLOTS + SIGNIN_SLOTS + 2 == 2 * POOL_SIZE
    assert 1 <= SIGNIN_SLOTS < REQUEST_SLOTS


def test_a_sign_in_holds_no_transaction_while_it_waits_for_a_slot(client, db, monkeypatch):
    """A successful sign-in's last step (failures cleared, token issued) and
    its audit entry are committed in one slot hold: its transaction is never
    open while every sign-in slot is taken by others (on SQLite it would hold
    the write lock, on PostgreSQL a connection outside the slots' count)."""
    from app.auth import service as auth_service
    from app.db import SIGNIN_SLOTS

    engine = client.app_state["engine"]
    issued, gate = threading.Event(), threading.Event()
    blocked = {"count": 0}
    lock = threading.Lock()
    original_complete, original_admit = auth_service._complete, auth_service._admit

    def admit(*args, **kwargs):
        if issued.is_set():  # the flood's first steps hold every other slot
            with lock:
                blocked["count"] += 1
            assert gate.wait(60)
        return original_admit(*args, **kwargs)

    def complete(*args, **kwargs):
        token = original_complete(*args, **kwargs)
        issued.set()
        deadline = time.monotonic() + 20
        while blocked["count"] < SIGNIN_SLOTS - 1:  # the other slots taken
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)  # and one more step waiting for this one's slot
        return token

    monkeypatch.setattr(auth_service, "_admit", admit)
    monkeypatch.setattr(auth_service, "_complete", complete)
    pool = ThreadPoolExecutor(max_workers=SIGNIN_SLOTS + 1)
    try:
        signing_in = pool.submit(
            client.post, TOKEN, data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD}
        )
        assert issued.wait(20)
        flood = [pool.submit(client.post, TOKEN, data=wrong(f"flood-{i}")) for i in range(SIGNIN_SLOTS)]
        try:
            answer = signing_in.result(timeout=5)
        except TimeoutError:
            answer = None
        # Whatever it waits for, it holds no connection (nor SQLite's write lock).
        assert engine.pool.checkedout() == 0, "a sign-in held its transaction while it waited for a slot"
        assert answer is not None and answer.status_code == 200, answer
    finally:
        gate.set()
        pool.shutdown(wait=True)
    assert {f.result().status_code for f in flood} == {400}
    db.rollback()
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "issue_token", AuditEntry.status_code == 200)).all()
    assert len(entries) == 1


PASSWORD = "/api/v1/auth/password"


def bearer(client: TestClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, username)}"}


def test_password_changes_waiting_for_hashes_do_not_block_an_authenticated_read(settings, monkeypatch):
    """More password changes than there are request slots, all stuck behind
    the held hash slots, leave the requests that carry a token their slots,
    connections and threads: they wait on the hasher's bounded queue, and
    past it are refused at once."""
    from app.db import REQUEST_SLOTS

    with service(settings, login_max_failures=1000, password_hash_queue=8) as client:
        changer, reader = bearer(client, "demo-staff-a"), bearer(client, "demo-lead-a")
        gate = threading.Event()
        spy = HashSpy(monkeypatch, gate)
        body = {"current_password": "not-the-password", "new_password": "une phrase de passe toute neuve"}
        flood = ThreadPoolExecutor(max_workers=REQUEST_SLOTS + 4)
        try:
            stuck = [flood.submit(client.post, PASSWORD, json=body, headers=changer) for _ in range(REQUEST_SLOTS + 4)]
            spy.wait_for(2)  # both hash slots held
            time.sleep(1)  # and the other changes waiting behind them
            answers = ThreadPoolExecutor(max_workers=1)
            read = answers.submit(client.get, "/api/v1/auth/me", headers=reader)
            try:
                answer = read.result(timeout=15)
            except TimeoutError:
                answer = None
            assert answer is not None, "the read waited for the password changes' hashes"
            assert answer.status_code == 200
        finally:
            gate.set()
            flood.shutdown(wait=True)
        answers.shutdown()
        codes = sorted(f.result().json()["code"] for f in stuck)
        # 2 hashing and 8 queued were checked; the rest refused at once.
        assert codes.count("validation_failed") == 10 and codes.count("signin_busy") == REQUEST_SLOTS - 6


def test_a_password_change_holds_no_transaction_while_hashing(client, login, db, monkeypatch):
    headers = login("demo-staff-a")
    engine = client.app_state["engine"]
    gate, hashing = threading.Event(), threading.Event()
    original = PasswordHasher.hash

    def hash_(hasher, password):
        hashing.set()
        assert gate.wait(60)
        return original(hasher, password)

    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    body = {"current_password": DEMO_PASSWORD, "new_password": "une phrase de passe toute neuve"}
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        changing = pool.submit(client.post, PASSWORD, json=body, headers=headers)
        assert hashing.wait(20)
        time.sleep(0.2)
        # No connection held (on SQLite, no write lock) while the hash runs.
        assert engine.pool.checkedout() == 0, "the password change held a transaction during its hash"
    finally:
        gate.set()
        pool.shutdown(wait=True)
    assert changing.result().status_code == 204
    # It still works: the old token is refused, the new password signs in.
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert (
        client.post(
            TOKEN, data={"grant_type": "password", "username": "demo-staff-a", "password": body["new_password"]}
        ).status_code
        == 200
    )
    db.rollback()
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "change_password")).all()
    assert [(e.status_code, e.outcome) for e in entries] == [(204, "allowed")]


def test_a_password_change_is_throttled_on_the_sign_in_count(settings, db):
    with service(settings, login_max_failures=2) as client:
        headers = bearer(client, "demo-staff-a")
        body = {"current_password": "not-the-password", "new_password": "une phrase de passe toute neuve"}
        for _ in range(2):
            wrong_current = client.post(PASSWORD, json=body, headers=headers)
            assert wrong_current.status_code == 422, wrong_current.text
        assert_limited(client.post(PASSWORD, json=body, headers=headers), "login_throttled")
        # The same count as the sign-in's: the right password waits too.
        assert_limited(
            client.post(TOKEN, data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD}),
            "login_throttled",
        )
    db.rollback()
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "change_password")).all()
    assert [e.status_code for e in entries] == [422, 422, 429]


def test_an_attempt_refused_for_a_full_queue_gives_its_reservation_back(settings, db, monkeypatch):
    """The queue filled between the check before the reservation and the
    hash: the attempt was never checked, so it does not count."""
    monkeypatch.setattr(PasswordHasher, "full", property(lambda hasher: False))
    with service(settings, max_concurrent_password_hashes=1, password_hash_queue=0) as client:
        gate = threading.Event()
        spy = HashSpy(monkeypatch, gate)
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            held = pool.submit(client.post, TOKEN, data=wrong("someone-else"))
            spy.wait_for(1)
            busy = client.post(TOKEN, data=wrong("demo-staff-a"))
            assert busy.status_code == 503 and busy.json()["code"] == "signin_busy"
        finally:
            gate.set()
            pool.shutdown(wait=True)
        assert held.result().status_code == 400
        headers = bearer(client, "demo-staff-a")  # the second check
        gate.clear()
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            held = pool.submit(client.post, TOKEN, data=wrong("someone-else"))
            spy.wait_for(3)
            body = {"current_password": "not-the-password", "new_password": "une phrase de passe toute neuve"}
            busy = client.post(PASSWORD, json=body, headers=headers)
            assert busy.status_code == 503 and busy.json()["code"] == "signin_busy"
        finally:
            gate.set()
            pool.shutdown(wait=True)
    db.rollback()
    counts = [row.failures for row in db.exec(select(LoginThrottle)).all()]
    # Only the two attempts checked for "someone-else" count.
    assert sorted(counts) == [0, 2], counts


# --- the expensive reads ---------------------------------------------------------------

EXPENSIVE = [
    ("/api/v1/audit/verify", "demo-auditor", "audit_verify_limit"),
    ("/api/v1/audit/export", "demo-auditor", "audit_export_limit"),
    ("/api/v1/privacy/access-review", "demo-privacy-a", "access_review_limit"),
]


@pytest.mark.parametrize("path,user,setting", EXPENSIVE, ids=[p.rsplit("/", 1)[1] for p, _, _ in EXPENSIVE])
def test_expensive_reads_are_limited_per_caller(settings, db, path, user, setting):
    with service(settings, **{setting: 2}) as client:

        def headers_of(username: str) -> dict[str, str]:
            form = {"grant_type": "password", "username": username, "password": DEMO_PASSWORD}
            response = client.post(TOKEN, data=form)
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        caller = headers_of(user)
        for _ in range(2):
            assert client.get(path, headers=caller).status_code == 200
        refused = client.get(path, headers=caller)
        assert_limited(refused, "rate_limited")
        # The limit is the caller's, and this route's.
        if user == "demo-privacy-a":
            assert client.get(path, headers=headers_of("demo-privacy-b")).status_code == 200
        else:
            other = "/api/v1/audit/export" if path.endswith("verify") else "/api/v1/audit/verify"
            assert client.get(other, headers=caller).status_code == 200
    entries = refusals(db, "rate_limited")
    assert [(e.status_code, e.outcome, e.actor_id is not None) for e in entries] == [(429, "denied", True)]


def test_the_export_is_streamed_and_its_entry_names_every_line(client, login, db):
    headers = login("demo-auditor")
    for _ in range(3):
        client.get("/api/v1/auth/me", headers=headers)
    with client.stream("GET", "/api/v1/audit/export", headers=headers) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # sent as it is written
        lines = [line for line in response.iter_lines() if line]
    db.rollback()
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "export_events")).one()
    assert entry.returned_ids.split(",") == [str(json.loads(line)["id"]) for line in lines]
