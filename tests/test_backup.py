"""Backups that are proven: ``sexto backup`` and ``sexto restore`` on
PostgreSQL (the drill: data in, backed up, restored into a new database,
verified, read back by a service started on it), and what they refuse."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from app import cli
from app.audit import chain
from app.audit.witness import FileWitness
from tests.conftest import APP_ROLE, DEMO_PASSWORD, make_settings, running_service, service_env, sexto_on_terminal
from tests.test_encryption import raw_rows

pytestmark = pytest.mark.postgres_only

NAME = "Rosalie Sauvegarde"


def sexto(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def witness(tmp_path) -> str:
    return f"file:{tmp_path / 'witness.jsonl'}"


@pytest.fixture
def settings(app_database_url, var_dir, witness):
    """The service of these tests publishes its checkpoints to a witness."""
    return make_settings(app_database_url, var_dir, audit_witness=witness)


@pytest.fixture
def owner_env(settings, var_dir, database_url, witness) -> dict[str, str]:
    """The operator's environment: the owner's URL, the witness, the role to grant."""
    return {
        **service_env(settings, var_dir),
        "SEXTO_DATABASE_URL": database_url,
        "SEXTO_AUDIT_WITNESS": witness,
        "SEXTO_DATABASE_APP_ROLE": APP_ROLE,
    }


@pytest.fixture
def new_database(databases, postgres_server):
    """``new_database()``: a name no database has, dropped after the test."""

    def name() -> str:
        chosen = postgres_server.new_name()
        databases.made.append(chosen)
        return chosen

    return name


@pytest.fixture
def case(desk) -> dict:
    """A case with a participant named, then a checkpoint the witness holds."""
    opened = desk.open_case()
    desk.person(opened, "depicted", name=NAME)
    desk.ok("POST", "/audit/checkpoints", "demo-auditor", 201)
    return opened


def _checks(done: subprocess.CompletedProcess) -> dict[str, dict]:
    return {check["name"]: check for check in json.loads(done.stdout)["checks"]}


def _one_line(done: subprocess.CompletedProcess, expected: str) -> None:
    assert done.returncode == cli.EXIT_FAILED, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sexto: ") and expected in lines[0], done.stderr


def test_the_drill_backs_up_restores_verifies_and_serves_the_restored_database(
    case, owner_env, database_url, tmp_path, new_database, postgres_server, var_dir, witness
):
    archive = tmp_path / "backups" / "drill.dump"
    archive.parent.mkdir()
    done = sexto(owner_env, "backup", str(archive), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    manifest_file = Path(report["manifest"])
    assert manifest_file == archive.with_name("drill.dump.manifest.json")
    for path in (archive, manifest_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    manifest = json.loads(manifest_file.read_text())
    assert manifest["schema_revision"] == raw_rows(database_url, "SELECT version_num FROM alembic_version")[0]
    heads = raw_rows(database_url, "SELECT chain, seq, entry_hash FROM audit_chain_head WHERE seq > 0 ORDER BY chain")
    assert [f"{c['chain']} {c['seq']} {c['entry_hash']}" for c in manifest["audit_chains"] if c["seq"]] == heads
    dev_keys = json.loads((var_dir / "data-keys.json").read_text())["keys"]
    assert manifest["data_key_ids"] == sorted(dev_keys)
    # Never a name, nor key material.
    text = manifest_file.read_text()
    assert NAME not in text and not any(key in text for key in dev_keys.values())

    restored = new_database()
    done = sexto(owner_env, "restore", "--into", restored, "--create", str(archive), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = _checks(done)
    assert list(checks) == ["archive", "schema", "grants", "audit log", "witness", "chain heads", "data keys"]
    assert all(check["ok"] and not check["warning"] for check in checks.values()), checks
    assert "file" in checks["audit log"]["detail"]  # held to the witness

    restored_owner = postgres_server.database_url(restored)
    restored_app = postgres_server.app_url(restored_owner)
    verified = sexto({**owner_env, "SEXTO_DATABASE_URL": restored_app}, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["witness_records_checked"] >= 1
    # The grants came back: the service's role reads, and may not rewrite the log.
    assert raw_rows(restored_app, "SELECT count(*) FROM participant") == ["1"]
    with pytest.raises(Exception, match=r"permission denied|audit"):
        raw_rows(restored_app, "DELETE FROM audit_entry")

    # A service started on the restored database serves the name, decrypted.
    env = service_env(make_settings(restored_app, var_dir), var_dir, SEXTO_DEMO_PASSWORD=DEMO_PASSWORD)
    with running_service(env) as base:
        assert httpx.get(f"{base}/readyz").status_code == 200
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        seen = httpx.get(f"{base}/api/v1/cases/{case['id']}", headers=headers)
        assert seen.status_code == 200, seen.text
        people = httpx.get(f"{base}/api/v1/cases/{case['id']}/participants", headers=headers).json()["items"]
        assert [person["name"] for person in people] == [NAME]


def test_a_restore_behind_the_witness_says_what_it_lost(
    case, desk, owner_env, tmp_path, new_database, witness, database_url
):
    archive = tmp_path / "earlier.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    # The case's entries are in its board's chain.
    board_chain = chain.board_chain(desk.demo.board_a)

    def witnessed() -> int:
        records = FileWitness(Path(witness.removeprefix("file:"))).read().records
        return max(record.seq for record in records if record.chain == board_chain)

    backed_up = witnessed()
    # The service goes on, and signs a checkpoint past the backup.
    desk.person(case, "witness", name="Éloi Après")
    desk.ok("POST", "/audit/checkpoints", "demo-auditor", 201)
    later = witnessed()
    assert later > backed_up

    done = sexto(owner_env, "restore", "--into", new_database(), "--create", str(archive))
    assert done.returncode == cli.EXIT_FAILED, done.stdout
    assert f"witness: FAILED: restored to an earlier point: chain {board_chain}: the backup ends at" in done.stdout
    assert f"the witness holds a checkpoint of entry {later}" in done.stdout
    # Everything up to the backup still holds against that witness.
    assert "audit log: ok" in done.stdout and "chain heads: ok" in done.stdout
    assert done.stdout.rstrip().endswith("restore NOT VERIFIED")

    # The drill, while the service goes on: a database of its own, dropped
    # afterwards; what the witness holds past the backup is a warning.
    drill = sexto(owner_env, "restore", "--drill", str(archive), "--json")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    report = json.loads(drill.stdout)
    assert report["drill"] is True and report["database"].startswith("sexto_drill_")
    assert _checks(drill)["witness"]["warning"] is True
    assert all(check["ok"] for check in report["checks"])
    assert raw_rows(database_url, f"SELECT 1 FROM pg_database WHERE datname = '{report['database']}'") == []


def test_a_restore_with_other_data_keys_fails_naming_the_key_id(case, owner_env, tmp_path, new_database, var_dir):
    archive = tmp_path / "keys.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    current = json.loads((var_dir / "data-keys.json").read_text())["current"]
    wrong = json.dumps({current: base64.b64encode(secrets.token_bytes(32)).decode()})
    done = sexto({**owner_env, "SEXTO_DATA_KEYS": wrong}, "restore", "--into", new_database(), "--create", str(archive))
    assert done.returncode == cli.EXIT_FAILED
    assert f"data keys: FAILED: data key {current!r} does not decrypt the data stored under it" in done.stdout
    other = json.dumps({"k2099": base64.b64encode(secrets.token_bytes(32)).decode()})
    done = sexto({**owner_env, "SEXTO_DATA_KEYS": other}, "restore", "--into", new_database(), "--create", str(archive))
    assert done.returncode == cli.EXIT_FAILED
    assert f"data is stored under key {current!r}, which is not among the configured data keys" in done.stdout


def test_a_restore_refuses_a_database_that_holds_tables(case, owner_env, tmp_path, database_url, new_database):
    archive = tmp_path / "full.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    # Without --into: the database of SEXTO_DATABASE_URL, the live one.
    _one_line(sexto(owner_env, "restore", str(archive)), "already holds")
    into = make_url(database_url).database
    _one_line(sexto(owner_env, "restore", "--into", into, str(archive)), f"database {into} already holds")
    _one_line(sexto(owner_env, "restore", "--into", into, "--create", str(archive)), f"cannot create database {into}")
    # A database restored once is refused too; --overwrite replaces what it holds, knowingly.
    restored = new_database()
    assert sexto(owner_env, "restore", "--into", restored, "--create", str(archive)).returncode == 0
    _one_line(sexto(owner_env, "restore", "--into", restored, str(archive)), f"database {restored} already holds")
    again = sexto(owner_env, "restore", "--into", restored, "--overwrite", str(archive))
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.rstrip().endswith("restore verified")


def test_a_backup_of_an_older_schema_is_migrated_on_restore(case, owner_env, tmp_path, database_url, new_database, db):
    from app.migrations import downgrade, head_revision

    # The test's own session ends its read first: dropping a table that
    # points at another (a downgrade) waits for every reader of that one.
    db.rollback()
    previous = str(int(head_revision()) - 1).zfill(4)
    downgrade(database_url, previous)
    archive = tmp_path / "older.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    assert json.loads(archive.with_name("older.dump.manifest.json").read_text())["schema_revision"] == previous
    done = sexto(owner_env, "restore", "--into", new_database(), "--create", str(archive))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"schema: ok: revision {previous}, migrated to the head ({head_revision()})" in done.stdout


def test_an_archive_that_does_not_match_its_manifest_is_refused(case, owner_env, tmp_path, new_database):
    archive = tmp_path / "damaged.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    content = bytearray(archive.read_bytes())
    content[len(content) // 2] ^= 0xFF
    archive.write_bytes(bytes(content))
    _one_line(sexto(owner_env, "restore", "--into", new_database(), str(archive)), "does not match its manifest")
    manifest_file = archive.with_name("damaged.dump.manifest.json")
    newer = {**json.loads(manifest_file.read_text()), "schema_revision": "9999"}
    manifest_file.write_text(json.dumps(newer))
    _one_line(sexto(owner_env, "restore", "--into", new_database(), str(archive)), "schema revision 9999 is unknown")
    manifest_file.unlink()
    _one_line(sexto(owner_env, "restore", "--into", new_database(), str(archive)), "no manifest beside the archive")


def test_a_backup_never_overwrites(case, owner_env, tmp_path):
    archive = tmp_path / "once.dump"
    assert sexto(owner_env, "backup", str(archive)).returncode == 0
    before = archive.read_bytes()
    _one_line(sexto(owner_env, "backup", str(archive)), "refusing to overwrite")
    assert archive.read_bytes() == before
    _one_line(sexto(owner_env, "backup", str(tmp_path / "nowhere" / "x.dump")), "no such directory")


def _fake_program(folder: Path, name: str, version: str, record: Path | None = None) -> None:
    """A stand-in PostgreSQL client program: says its version, and records
    its arguments and its password file when it runs."""
    script = folder / name
    body = f'#!/bin/sh\nif [ "$1" = --version ]; then echo "{name} (PostgreSQL) {version}"; exit 0; fi\n'
    if record is not None:
        body += f'printf "%s\\n" "$@" > {record}\ncat "$PGPASSFILE" >> {record}\n'
        body += f'stat -c %a "$PGPASSFILE" >> {record}\necho "{name}: error: stopped by the test" >&2\nexit 1\n'
    script.write_text(body)
    script.chmod(0o755)


def test_pg_dump_missing_or_too_old_is_one_line(case, owner_env, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    archive = str(tmp_path / "x.dump")
    _one_line(sexto({**owner_env, "PATH": str(empty)}, "backup", archive), "pg_dump is not on PATH")
    _fake_program(empty, "pg_dump", "9.6.24")
    _one_line(sexto({**owner_env, "PATH": str(empty)}, "backup", archive), "is version 9.6, older than")
    assert not any(tmp_path.glob("*.dump*")) and not any(tmp_path.glob(".x.dump*"))


def test_the_password_goes_in_a_password_file_never_on_the_command_line(case, owner_env, tmp_path, database_url):
    """The test server trusts its clients, so a password in the URL is not
    checked; what pg_dump is given is."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "pg_dump.seen"
    _fake_program(folder, "pg_dump", "99.0", record)
    with_password = make_url(database_url).set(password="s3cr:et\\pw").render_as_string(hide_password=False)
    env = {**owner_env, "SEXTO_DATABASE_URL": with_password, "PATH": f"{folder}:{os.environ['PATH']}"}
    done = sexto({**env, "PGPASSWORD": "not-this-one"}, "backup", str(tmp_path / "p.dump"))
    _one_line(done, "pg_dump failed: stopped by the test")
    assert "s3cr" not in done.stderr
    *arguments, passfile, mode = record.read_text().splitlines()
    assert not any("s3cr" in argument for argument in arguments)
    assert "--format=custom" in arguments and any(argument.startswith("--snapshot=") for argument in arguments)
    assert passfile == "*:*:*:*:s3cr\\:et\\\\pw" and mode == "600"
    assert not any(tmp_path.glob("*.dump*")) and not any(tmp_path.glob(".p.dump*"))


@pytest.mark.parametrize("command", [["backup", "x.dump"], ["restore", "x.dump"]])
def test_sqlite_is_refused_in_one_line(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(SEXTO_VAR_DIR=str(tmp_path / "var"), SEXTO_DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}")
    if command[0] == "restore":
        (tmp_path / "x.dump").write_bytes(b"")
        manifest = {"format": "sexto-backup-v1", "schema_revision": "0018", "archive_sha256": ""}
        (tmp_path / "x.dump.manifest.json").write_text(json.dumps(manifest))
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *command], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    _one_line(done, "is for PostgreSQL")


def test_progress_is_drawn_on_a_terminal_never_into_the_json(case, owner_env, tmp_path):
    done = sexto_on_terminal(["backup", str(tmp_path / "seen.dump"), "--json"], owner_env, timeout=300)
    assert done.returncode == 0, done.drawn
    assert json.loads(done.stdout)["archive_sha256"]
    assert b"backing up the database" in done.drawn
