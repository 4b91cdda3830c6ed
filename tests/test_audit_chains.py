"""A hash chain per organization (#17 item 5): a case's entries go to the
chain of its school's board, whoever made them; a caller's other entries to
its own board's or police force's chain; the rest to the platform's.  Every
chain's head is signed, verification covers every chain and finds tampering
in any of them, a new chain's first appends at once neither fork nor fail,
and the readers (events, access log) read across chains in id order."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.audit import chain
from app.audit.models import AuditChainHead, AuditEntry
from app.audit.witness import DirectoryWitness, WitnessRecord
from app.db import create_db_engine
from tests.conftest import make_settings
from tests.integrity import tamper


@pytest.fixture
def settings(app_database_url, var_dir, tmp_path):
    """The service of these tests publishes its checkpoints to a witness."""
    return make_settings(app_database_url, var_dir, audit_witness=f"file:{tmp_path / 'witness.jsonl'}")


def _entry(db, response) -> AuditEntry:
    db.expire_all()
    return db.exec(select(AuditEntry).where(AuditEntry.request_id == response.headers["x-request-id"])).one()


def _verify(client, login, mode: str = "full") -> dict:
    response = client.get(f"/api/v1/audit/verify?mode={mode}", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def traffic(desk, client, login, demo) -> dict[str, str]:
    """Requests of every kind of caller, a case handed off to police A among
    them; the chain each entry must be in, by what it was."""
    board_a, board_b = chain.board_chain(demo.board_a), chain.board_chain(demo.board_b)
    force_a = chain.force_chain(demo.force_a)
    case = desk.open_case()
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    path = f"/api/v1/cases/{case['id']}"
    sent = {
        "staff reads its case": (client.get(path, headers=login("demo-staff-a")), board_a),
        "staff lists its cases": (client.get("/api/v1/cases", headers=login("demo-staff-a")), board_a),
        "police reads the handed-off case": (client.get(path, headers=login("demo-police-a")), board_a),
        "police reads its feed": (client.get("/api/v1/police/cases", headers=login("demo-police-a")), force_a),
        "another board's staff refused on the case": (client.get(path, headers=login("demo-staff-b")), board_b),
        "another force refused on the case": (
            client.get(path, headers=login("demo-police-b")),
            chain.force_chain(demo.force_b),
        ),
        "privacy officer": (client.get("/api/v1/audit/events", headers=login("demo-privacy-a")), board_a),
        "admin": (client.get("/api/v1/boards", headers=login("demo-admin")), chain.PLATFORM_CHAIN),
        "auditor of several organizations": (
            client.get("/api/v1/audit/events", headers=login("demo-auditor")),
            chain.PLATFORM_CHAIN,
        ),
        "no token on the case": (client.get(path), chain.PLATFORM_CHAIN),
        "sign-in refused": (
            client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "nobody", "password": "x"}),
            chain.PLATFORM_CHAIN,
        ),
    }
    return {"case": case["id"], **{what: (response, expected) for what, (response, expected) in sent.items()}}


def test_each_entry_goes_to_the_chain_of_its_organization(db, traffic):
    case_id = traffic.pop("case")
    for what, (response, expected) in traffic.items():
        entry = _entry(db, response)
        assert entry.chain == expected, what
        if what.endswith(("the case", "its case", "handed-off case")):
            assert entry.case_id == case_id, what  # tied to the case, whatever the chain
    # The case's whole history, as it reached the case, is one chain.
    db.expire_all()
    reached = db.exec(
        select(AuditEntry.chain).where(AuditEntry.case_id == case_id, AuditEntry.outcome == "allowed")
    ).all()
    assert set(reached) == {traffic["staff reads its case"][1]}


def test_every_chain_verifies_and_every_head_is_signed(client, login, db, traffic):
    db.expire_all()
    heads = {head.chain: head.seq for head in db.exec(select(AuditChainHead)).all() if head.seq > 0}
    assert len(heads) >= 5  # both boards, both forces, the platform
    issued = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert issued.status_code == 201, issued.text
    signed = {checkpoint["chain"] for checkpoint in issued.json()}
    assert set(heads) <= signed  # the heads as they were, and what the sign-in added
    full = _verify(client, login)
    assert full["ok"] is True, full
    assert set(heads) <= {status["chain"] for status in full["chains"]}
    # Incremental verification starts each chain at its own witnessed checkpoint.
    incremental = _verify(client, login, "since_checkpoint")
    assert incremental["ok"] is True, incremental
    starts = {status["chain"]: status["verified_from"] for status in incremental["chains"]}
    for name in heads:
        assert starts[name] > 1 or heads[name] == 1, (name, starts[name])


@pytest.mark.parametrize("which", ["board A", "board B", "force A", "platform"])
def test_tampering_in_any_chain_is_found(client, login, database_url, demo, traffic, which):
    name = {
        "board A": chain.board_chain(demo.board_a),
        "board B": chain.board_chain(demo.board_b),
        "force A": chain.force_chain(demo.force_a),
        "platform": chain.PLATFORM_CHAIN,
    }[which]
    assert _verify(client, login)["ok"] is True
    tamper(database_url, "UPDATE audit_entry SET status_code = 299 WHERE chain = :chain AND seq = 1", chain=name)
    result = _verify(client, login)
    assert result["ok"] is False
    statuses = {status["chain"]: status for status in result["chains"]}
    assert statuses[name]["ok"] is False
    assert statuses[name]["first_bad_seq"] == 1
    assert all(status["ok"] for chain_name, status in statuses.items() if chain_name != name)


def test_a_cut_tail_of_a_board_chain_is_found_by_its_witnessed_checkpoint(
    client, login, db, database_url, engine_name, demo, traffic
):
    """The newest entries of a board's chain deleted, its head moved back to
    the last one left and the checkpoints stored with the log deleted: the
    chain left is self-consistent, only its witnessed checkpoint tells."""
    name = chain.board_chain(demo.board_a)
    issued = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    signed = {checkpoint["chain"]: checkpoint["seq"] for checkpoint in issued.json()}
    assert signed[name] > 2
    kept = db.exec(select(AuditEntry).where(AuditEntry.chain == name, AuditEntry.seq == signed[name] - 2)).one()
    tamper(database_url, "DELETE FROM audit_entry WHERE chain = :chain AND seq > :seq", chain=name, seq=kept.seq)
    tamper(
        database_url,
        "UPDATE audit_chain_head SET seq = :seq, entry_hash = :hash WHERE chain = :chain",
        chain=name,
        seq=kept.seq,
        hash=kept.entry_hash,
    )
    if engine_name == "sqlite":
        tamper(database_url, "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete")
    tamper(database_url, "DELETE FROM audit_checkpoint")
    result = _verify(client, login)
    statuses = {status["chain"]: status for status in result["chains"]}
    assert result["ok"] is False
    assert statuses[name]["ok"] is False
    assert statuses[name]["truncated"] is True
    assert statuses[name]["witnessed_seq"] == signed[name]
    assert all(status["ok"] for chain_name, status in statuses.items() if chain_name != name)


def test_a_case_access_log_reads_across_chains_in_id_order(client, login, db, traffic):
    case_id = traffic["case"]
    response = client.get(f"/api/v1/cases/{case_id}/access-log?limit=100", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    ids = [item["id"] for item in items]
    assert ids == sorted(ids)
    chains = {item["chain"] for item in items}
    # The case's board's entries and the refusals kept in the refused callers' chains.
    assert {traffic["staff reads its case"][1], traffic["another board's staff refused on the case"][1]} <= chains


def _append_from_threads(url: str, name: str, count: int) -> list[BaseException]:
    failures: list[BaseException] = []
    ready = threading.Barrier(count)

    def one() -> None:
        engine = create_db_engine(url, pool_size=1)
        try:
            with Session(engine) as session:
                ready.wait()
                chain.append_and_commit(session, chain.EntryDraft(action="read_case", status_code=200), name)
        except BaseException as failure:
            failures.append(failure)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_first_appends_to_a_new_chain_at_once_neither_fork_nor_fail(database_url):
    name = chain.board_chain(uuid.uuid4())
    assert _append_from_threads(database_url, name, 6) == []
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            seqs = connection.execute(
                sa_select(AuditEntry.seq).where(AuditEntry.chain == name).order_by(AuditEntry.seq)
            ).scalars()
            assert list(seqs) == [1, 2, 3, 4, 5, 6]
            report = chain.verify(connection)
    finally:
        engine.dispose()
    assert report.ok, [vars(status) for status in report.chains]


def test_a_head_row_that_went_missing_fails_one_append_and_is_made_again(database_url, engine_name):
    if engine_name != "postgresql":
        pytest.skip("SQLite looks for the head row on every append")
    name = chain.board_chain(uuid.uuid4())
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with Session(engine) as session:
            # As if this process had appended to it before the database was
            # restored without it.
            chain._known_heads.add((session.connection().engine.url.render_as_string(), name))
            session.rollback()
            with pytest.raises(psycopg.errors.DivisionByZero):  # the append statement's guard
                chain.append_and_commit(session, chain.EntryDraft(action="read_case", status_code=200), name)
            session.rollback()
            appended = chain.append_and_commit(session, chain.EntryDraft(action="read_case", status_code=200), name)
        assert appended.seq == 1
    finally:
        engine.dispose()


def test_chain_names_are_folder_names_of_the_directory_witness(tmp_path):
    names = [chain.board_chain(uuid.uuid4()), chain.force_chain(uuid.uuid4()), chain.PLATFORM_CHAIN]
    records = [WitnessRecord(name, 1, "a" * 64, "2026-01-01T00:00:00.000000Z", "key", "c2lnbg==") for name in names]
    witness = DirectoryWitness(tmp_path / "witness")
    witness.publish(records)
    reading = witness.read()
    assert reading.problems == []
    assert sorted(reading.records, key=lambda record: record.chain) == sorted(records, key=lambda r: r.chain)
