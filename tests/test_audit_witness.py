"""The audit log anchored outside the database (#13 item 17): signed
checkpoints published to a witness at start-up and every N entries or T
seconds, verification that holds each chain to every witnessed checkpoint
and a signer that refuses to sign a rewritten tail, so that a database
superuser who deletes the newest entries, with or without moving the chain's
head back, is caught."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from app.audit.checkpoints import CheckpointSigner, signed_message
from app.audit.models import AuditChainHead, AuditEntry
from app.audit.witness import DirectoryWitness, FileWitness, WitnessRecord
from app.config import Settings
from app.main import create_app
from tests.conftest import make_settings, service_env
from tests.integrity import tamper as tamper_with


@pytest.fixture(params=["file", "directory"])
def witness_setting(request, tmp_path) -> str:
    place = tmp_path / ("witness.jsonl" if request.param == "file" else "witness")
    return f"{request.param}:{place}"


@pytest.fixture
def settings(app_database_url, var_dir, witness_setting) -> Settings:
    """The service of these tests publishes its checkpoints to a witness."""
    return make_settings(app_database_url, var_dir, audit_witness=witness_setting)


def _witness(setting: str) -> FileWitness | DirectoryWitness:
    kind, _, place = setting.partition(":")
    return FileWitness(Path(place)) if kind == "file" else DirectoryWitness(Path(place))


def _verify(client, login) -> dict:
    response = client.get("/api/v1/audit/verify", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def _head_seq(db) -> int:
    db.expire_all()
    return db.exec(select(AuditChainHead.seq).where(AuditChainHead.chain == "platform")).one()


def _as_superuser(database_url: str, *statements: str) -> None:
    """What a database superuser can do: bypass the append-only triggers."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in ("audit_entry_no_delete", "audit_checkpoint_no_delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _witnessed_checkpoint(client, login, witness_setting) -> int:
    """Some traffic, then a checkpoint signed on demand (and so published)."""
    headers = login("demo-admin")
    for _ in range(4):
        client.get("/api/v1/boards", headers=headers)
    issued = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert issued.status_code == 201, issued.text
    seq = issued.json()[0]["seq"]
    assert [record.seq for record in _witness(witness_setting).read().records] == [seq]
    assert _verify(client, login)["ok"] is True
    return seq


def test_deleting_the_newest_entries_is_reported_as_a_truncated_tail(client, login, db, database_url, witness_setting):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    # The newest entries go, the witnessed one among them, and so do the
    # checkpoints stored with the log; the head is left as it was.
    _as_superuser(
        database_url,
        f"DELETE FROM audit_entry WHERE chain = 'platform' AND seq >= {witnessed - 2}",
        "DELETE FROM audit_checkpoint",
    )
    result = _verify(client, login)
    platform = result["chains"][0]
    assert result["ok"] is False
    assert platform["truncated"] is True
    assert platform["witnessed_seq"] == witnessed
    assert platform["first_bad_seq"] == witnessed - 2


def test_deleting_the_newest_entries_and_moving_the_head_back_is_still_reported(
    client, login, db, database_url, witness_setting, settings, var_dir
):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    kept = db.exec(select(AuditEntry).where(AuditEntry.seq == witnessed - 3)).one()
    _as_superuser(
        database_url,
        f"DELETE FROM audit_entry WHERE chain = 'platform' AND seq > {kept.seq}",
        "DELETE FROM audit_checkpoint",
        f"UPDATE audit_chain_head SET seq = {kept.seq}, entry_hash = '{kept.entry_hash}' WHERE chain = 'platform'",
    )
    result = _verify(client, login)
    platform = result["chains"][0]
    assert result["ok"] is False, result  # the chain left is self-consistent: only the witness tells
    assert platform["truncated"] is True
    assert platform["witnessed_seq"] == witnessed
    assert "truncated" in platform["problem"]
    cli = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env={**service_env(settings, var_dir), "SEXTO_AUDIT_WITNESS": witness_setting},
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "truncated" in cli.stdout and f"witnessed up to {witnessed}" in cli.stdout
    # The service carries on appending over the cut: the entry the witness
    # names is now another one, and still the chain is not the one witnessed.
    for _ in range(5):
        client.get("/api/v1/boards", headers=login("demo-admin"))
    assert _head_seq(db) > witnessed
    again = _verify(client, login)["chains"][0]
    assert again["truncated"] is True and again["first_bad_seq"] == witnessed


def _cut_and_move_the_head_back(db, database_url: str, keep: int) -> None:
    """The superuser's rewrite: entries after ``keep`` deleted, the head moved
    back to it, the checkpoints stored with the log deleted."""
    kept = db.exec(select(AuditEntry).where(AuditEntry.chain == "platform", AuditEntry.seq == keep)).one()
    _as_superuser(
        database_url,
        f"DELETE FROM audit_entry WHERE chain = 'platform' AND seq > {kept.seq}",
        "DELETE FROM audit_checkpoint",
        f"UPDATE audit_chain_head SET seq = {kept.seq}, entry_hash = '{kept.entry_hash}' WHERE chain = 'platform'",
    )


def _append_past(client, login, db, seq: int) -> None:
    while _head_seq(db) <= seq + 2:
        client.get("/api/v1/boards", headers=login("demo-admin"))


def _witnessed_over_the_rewritten_tail(settings, database_url: str, witness_setting: str) -> int:
    """A checkpoint over the rewritten tail, signed with the service's key by
    a signer that does not read the witness (as before the signer checked),
    then handed to the witness: the latest witnessed record is now one the
    rewritten chain holds."""
    signer = CheckpointSigner.from_settings(settings.model_copy(update={"audit_witness": "none"}))
    engine = create_engine(database_url)
    with Session(engine) as session:
        issued = signer.issue(session)
        records = [
            WitnessRecord(c.chain, c.seq, c.entry_hash, c.issued_at, c.key_id, c.signature)
            for c in issued
            if c.chain == "platform"
        ]
        session.commit()
    engine.dispose()
    _witness(witness_setting).publish(records)
    return records[0].seq


def test_a_rewritten_tail_signed_again_is_still_reported(client, login, db, database_url, witness_setting, settings):
    """The reviewer's repro: cut, head moved back, checkpoints deleted, the
    service appends over the cut and its tail gets a witnessed checkpoint;
    verify still holds the chain to the older witnessed record."""
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    _cut_and_move_the_head_back(db, database_url, witnessed - 3)
    _append_past(client, login, db, witnessed)
    # The service itself refuses to sign the rewritten tail (see below) ...
    refused = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert refused.status_code == 409, refused.text
    # ... but a checkpoint over it may still reach the witness another way.
    latest = _witnessed_over_the_rewritten_tail(settings, database_url, witness_setting)
    assert latest > witnessed
    result = _verify(client, login)
    platform = result["chains"][0]
    assert result["ok"] is False, result
    assert platform["truncated"] is True
    assert platform["witnessed_seq"] == latest
    assert platform["first_bad_seq"] == witnessed
    assert f"entry {witnessed} is not the one" in platform["problem"]


def test_a_middle_witnessed_record_whose_entry_was_rewritten_is_reported(
    client, login, db, database_url, witness_setting, settings
):
    first = _witnessed_checkpoint(client, login, witness_setting)
    for _ in range(6):
        client.get("/api/v1/boards", headers=login("demo-admin"))
    second = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor")).json()[0]["seq"]
    assert second > first + 3
    _cut_and_move_the_head_back(db, database_url, first + 2)
    _append_past(client, login, db, second)
    latest = _witnessed_over_the_rewritten_tail(settings, database_url, witness_setting)
    assert [record.seq for record in _witness(witness_setting).read().records] == [first, second, latest]
    result = _verify(client, login)
    platform = result["chains"][0]
    # The first record still holds, the latest holds (it was signed over the
    # rewritten chain): the middle one does not, and it is the one reported.
    assert result["ok"] is False, result
    assert platform["truncated"] is True
    assert platform["witnessed_seq"] == latest
    assert platform["first_bad_seq"] == second
    assert f"entry {second} is not the one" in platform["problem"]


@pytest.mark.parametrize("checkpoints", ["kept", "deleted"])
def test_no_checkpoint_is_signed_over_a_rewritten_tail(
    client, login, db, database_url, witness_setting, settings, var_dir, checkpoints
):
    """The head behind the last checkpoint, then past it with another entry
    there: refused either way, and nothing reaches the witness, whether the
    checkpoints stored with the log are still there or were deleted too."""
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    kept = db.exec(select(AuditEntry).where(AuditEntry.chain == "platform", AuditEntry.seq == witnessed - 3)).one()
    _as_superuser(
        database_url,
        f"DELETE FROM audit_entry WHERE chain = 'platform' AND seq > {kept.seq}",
        f"UPDATE audit_chain_head SET seq = {kept.seq}, entry_hash = '{kept.entry_hash}' WHERE chain = 'platform'",
        *(["DELETE FROM audit_checkpoint"] if checkpoints == "deleted" else []),
    )
    behind = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert behind.status_code == 409, behind.text
    assert behind.json()["code"] == "audit_chain_rewritten"
    _append_past(client, login, db, witnessed)
    rewritten = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert rewritten.status_code == 409, rewritten.text
    assert rewritten.json()["code"] == "audit_chain_rewritten"
    assert str(witnessed) in rewritten.json()["detail"]
    cli = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "checkpoint"],
        env={**service_env(settings, var_dir), "SEXTO_AUDIT_WITNESS": witness_setting},
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "refusing to sign" in cli.stderr
    assert [record.seq for record in _witness(witness_setting).read().records] == [witnessed]
    stored = client.get("/api/v1/audit/checkpoints", headers=login("demo-auditor")).json()["items"]
    assert [row["seq"] for row in stored] == ([witnessed] if checkpoints == "kept" else [])


def test_a_chain_intact_since_its_last_checkpoint_is_signed_again(client, login, witness_setting):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    client.get("/api/v1/boards", headers=login("demo-admin"))
    again = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    assert again.status_code == 201, again.text
    assert [record.seq for record in _witness(witness_setting).read().records] == [witnessed, again.json()[0]["seq"]]


def test_a_witnessed_checkpoint_with_a_bad_signature_is_refused(client, login, witness_setting):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    genuine = _witness(witness_setting).read().records[0]
    forger = Ed25519PrivateKey.generate()
    issued_at = genuine.issued_at
    forged = [
        # Signed by another key under the service's key id; tampered after signing; an unknown key.
        WitnessRecord(
            "platform",
            witnessed + 50,
            "f" * 64,
            issued_at,
            genuine.key_id,
            base64.b64encode(forger.sign(signed_message("platform", witnessed + 50, "f" * 64, issued_at))).decode(),
        ),
        WitnessRecord("platform", witnessed + 60, "e" * 64, issued_at, genuine.key_id, genuine.signature),
        WitnessRecord("platform", witnessed + 70, "d" * 64, issued_at, "someone-else", genuine.signature),
    ]
    _witness(witness_setting).publish(forged)
    result = _verify(client, login)
    assert result["ok"] is False
    assert result["witness_records_checked"] == 4
    problems = result["witness_problems"]
    assert sum("bad signature" in problem for problem in problems) == 2, problems
    assert sum("unknown signing key" in problem for problem in problems) == 1, problems
    # Nothing forged is believed: the chain is held to the genuine checkpoint.
    platform = result["chains"][0]
    assert platform["witnessed_seq"] == witnessed and platform["truncated"] is False and platform["ok"] is True


def test_without_a_witness_nothing_is_witnessed(client, login, settings, app_database_url, var_dir):
    with TestClient(create_app(make_settings(app_database_url, var_dir, audit_witness="none"))) as plain:
        plain.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
        result = plain.get("/api/v1/audit/verify", headers=login("demo-auditor")).json()
    assert result["witness"] == "none" and result["witness_records_checked"] == 0
    assert result["chains"][0]["witnessed_seq"] is None and result["ok"] is True


# --- cadence ------------------------------------------------------------------------


def _records_when(witness, predicate, timeout: float = 10) -> list[WitnessRecord]:
    deadline = time.monotonic() + timeout
    while True:
        records = witness.read().records
        if predicate(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def _some_entries(app_database_url, var_dir) -> None:
    """A few entries written by a service without a witness."""
    with TestClient(create_app(make_settings(app_database_url, var_dir))) as plain:
        for _ in range(3):
            plain.get("/api/v1/auth/me")


def test_a_checkpoint_is_witnessed_at_start_up_and_every_n_entries(app_database_url, var_dir, witness_setting, db):
    witness = _witness(witness_setting)
    cadence = make_settings(app_database_url, var_dir, audit_witness=witness_setting, audit_checkpoint_every_entries=5)
    _some_entries(app_database_url, var_dir)
    head = _head_seq(db)
    with TestClient(create_app(cadence)) as client:
        # At start-up: the head as it is, before any request.
        assert [record.seq for record in witness.read().records] == [head]
        for _ in range(4):
            client.get("/healthz")  # not audited: no entry, no checkpoint
        assert len(witness.read().records) == 1
        # An admin's requests: the platform's chain (a lead's go to its board's).
        headers = {"Authorization": f"Bearer {_token(client, 'demo-admin')}"}
        multiple = (head // 5 + 1) * 5
        while _head_seq(db) < multiple:
            client.get("/api/v1/auth/me", headers=headers)
        records = _records_when(witness, lambda records: len(records) >= 2)
    assert len(records) == 2, records
    assert records[1].seq >= multiple
    assert all(record.chain == "platform" for record in records)


def test_a_checkpoint_is_witnessed_every_t_seconds_when_the_head_moved(app_database_url, var_dir, witness_setting, db):
    witness = _witness(witness_setting)
    cadence = make_settings(
        app_database_url, var_dir, audit_witness=witness_setting, audit_checkpoint_interval_seconds=1
    )
    _some_entries(app_database_url, var_dir)
    with TestClient(create_app(cadence)) as client:
        assert [record.seq for record in witness.read().records] == [_head_seq(db)]  # at start-up
        client.get("/api/v1/auth/me")  # refused (no token), audited: the head moves
        moved = _head_seq(db)
        records = _records_when(witness, lambda records: len(records) >= 2, timeout=5)
        assert [record.seq for record in records][-1] == moved
        time.sleep(1.5)  # a round with no new entry signs nothing
        assert len(witness.read().records) == 2


def _token(client, username: str = "demo-lead-a") -> str:
    from tests.conftest import token_for

    return token_for(client, username)


# --- the witnesses themselves ------------------------------------------------------------


def _record(seq: int) -> WitnessRecord:
    return WitnessRecord("platform", seq, f"{seq:064x}", "2026-11-30T00:00:00.000000Z", "k", "c2ln")


def test_the_file_witness_appends_whole_lines_from_many_writers(tmp_path):
    witness = FileWitness(tmp_path / "w.jsonl")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda seq: witness.publish([_record(seq), _record(seq)]), range(1, 201)))
    reading = witness.read()
    assert reading.problems == []
    assert sorted({record.seq for record in reading.records}) == list(range(1, 201))
    assert len(reading.records) == 400  # a checkpoint published twice is read twice: harmless
    lines = (tmp_path / "w.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])


def test_the_file_witness_never_rewrites_and_reports_what_is_not_a_record(tmp_path):
    path = tmp_path / "w.jsonl"
    witness = FileWitness(path)
    witness.publish([_record(1)])
    first = path.read_bytes()
    with path.open("ab") as file:
        file.write(b"not a record\n")
    witness.publish([_record(2)])
    assert path.read_bytes().startswith(first)
    with path.open("ab") as file:
        file.write(b'{"chain": "platform", "se')  # a line still being written
    reading = witness.read()
    assert [record.seq for record in reading.records] == [1, 2]
    assert reading.problems == ["witness line 2: not a checkpoint record"]


def test_the_directory_witness_keeps_one_file_per_checkpoint_and_never_replaces_it(tmp_path):
    witness = DirectoryWitness(tmp_path / "w")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: witness.publish([_record(7)]), range(16)))
    files = sorted((tmp_path / "w" / "platform").iterdir())
    assert [file.name for file in files] == [f"{7:020d}-{7:064x}.json"]
    original = files[0].read_bytes()
    witness.publish([WitnessRecord("platform", 7, f"{7:064x}", "2026-12-01T00:00:00.000000Z", "k", "c2ln")])
    assert files[0].read_bytes() == original
    assert [record.seq for record in witness.read().records] == [7]
    with pytest.raises(ValueError):
        witness.publish([WitnessRecord("../elsewhere", 1, "0" * 64, "t", "k", "c2ln")])


def test_production_refuses_to_start_without_a_witness(tmp_path):
    from app.cli import main

    assert main(["keys", "generate", str(tmp_path / "keys")]) == 0
    required = dict(
        environment="production",
        database_url="postgresql+psycopg://app@db/sexto",
        token_signing_key_file=tmp_path / "keys" / "token-signing-key.pem",
        audit_signing_key_file=tmp_path / "keys" / "audit-signing-key.pem",
        data_keys_file=tmp_path / "keys" / "data-keys.json",
    )
    for witness in (None, "none"):
        with pytest.raises(ValidationError, match="SEXTO_AUDIT_WITNESS"):
            Settings(**required, audit_witness=witness)
    assert Settings(**required, audit_witness="file:/srv/witness/audit.jsonl").audit_witness


# --- incremental verification (#17 item 4) ----------------------------------------


def _verify_since_checkpoint(client, login) -> dict:
    response = client.get("/api/v1/audit/verify", params={"mode": "since_checkpoint"}, headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_incremental_verification_starts_at_the_latest_witnessed_checkpoint(client, login, witness_setting):
    first = _witnessed_checkpoint(client, login, witness_setting)
    client.get("/api/v1/boards", headers=login("demo-admin"))
    issued = client.post("/api/v1/audit/checkpoints", headers=login("demo-auditor"))
    witnessed = issued.json()[0]["seq"]
    assert [record.seq for record in _witness(witness_setting).read().records] == [first, witnessed]
    for _ in range(3):
        client.get("/api/v1/boards", headers=login("demo-admin"))
    result = _verify_since_checkpoint(client, login)
    platform = result["chains"][0]
    assert result["ok"] is True and result["mode"] == "since_checkpoint", result
    assert platform["verified_from"] == witnessed == platform["witnessed_seq"]
    assert platform["entries"] == platform["head_seq"] - witnessed + 1 < platform["head_seq"]
    full = _verify(client, login)
    assert full["mode"] == "full" and full["chains"][0]["verified_from"] == 1
    assert full["chains"][0]["entries"] == full["chains"][0]["head_seq"]


def test_incremental_verification_names_an_entry_tampered_after_the_checkpoint(
    client, login, database_url, witness_setting
):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    for _ in range(3):
        client.get("/api/v1/boards", headers=login("demo-admin"))
    tamper_with(
        database_url, f"UPDATE audit_entry SET outcome = 'denied' WHERE chain = 'platform' AND seq = {witnessed + 2}"
    )
    result = _verify_since_checkpoint(client, login)
    platform = result["chains"][0]
    assert result["ok"] is False
    assert (platform["verified_from"], platform["first_bad_seq"]) == (witnessed, witnessed + 2)
    assert "hash" in platform["problem"]


def test_an_entry_tampered_before_the_checkpoint_is_left_to_full_verification(
    client, login, database_url, witness_setting
):
    """What incremental verification does not read (docs/audit.md): an entry
    edited before the checkpoint, its hash left as it was."""
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    tamper_with(
        database_url, f"UPDATE audit_entry SET outcome = 'denied' WHERE chain = 'platform' AND seq = {witnessed - 2}"
    )
    assert _verify_since_checkpoint(client, login)["ok"] is True
    full = _verify(client, login)
    assert full["ok"] is False and full["chains"][0]["first_bad_seq"] == witnessed - 2


def test_the_cli_verifies_since_the_checkpoint(client, login, database_url, settings, var_dir, witness_setting):
    witnessed = _witnessed_checkpoint(client, login, witness_setting)
    env = {**service_env(settings, var_dir), "SEXTO_AUDIT_WITNESS": witness_setting}
    since = [sys.executable, "-m", "app.cli", "audit", "verify", "--since-checkpoint", "--json"]
    ok = subprocess.run(since, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads(ok.stdout)
    assert report["mode"] == "since_checkpoint" and report["chains"][0]["verified_from"] == witnessed
    tamper_with(
        database_url, f"UPDATE audit_entry SET action = 'nothing' WHERE chain = 'platform' AND seq = {witnessed + 1}"
    )
    broken = subprocess.run(since[:-1], env=env, capture_output=True, text=True)
    assert broken.returncode == 1
    assert f"from entry {witnessed}" in broken.stdout and f"BROKEN at entry {witnessed + 1}" in broken.stdout
    full = subprocess.run([*since[:-2], "--full", "--json"], env=env, capture_output=True, text=True)
    assert full.returncode == 1 and json.loads(full.stdout)["chains"][0]["verified_from"] == 1
