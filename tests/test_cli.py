"""The ``sexto`` command line as an operator meets it: --version, help with
examples, one line (never a traceback) on a known error, a closed pipe, the
keys it generates (loaded by the service), and ``reencrypt-data`` in batches
that resume after an interruption."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import stat
import subprocess
import sys

import httpx
import jwt
import pytest
from sqlmodel import Session

from app import cli, datakeys
from app.audit import chain
from app.db import create_db_engine
from tests.conftest import DEMO_PASSWORD, running_service, service_env, sexto_on_terminal
from tests.test_encryption import raw_rows


def sexto(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture
def bare_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env["SEXTO_VAR_DIR"] = str(tmp_path / "var")
    return env


def test_version(bare_env):
    from importlib.metadata import version

    done = sexto(bare_env, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"sexto {version('sexto-service')}"


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield path, parser
    for action in subcommands:
        for name, child in action.choices.items():
            yield from _leaf_parsers(child, (*path, name))


def test_every_command_has_a_description_and_examples():
    leaves = dict(_leaf_parsers(cli.build_parser()))
    assert ("keys", "generate") in leaves and ("audit", "export") in leaves and ("reencrypt-data",) in leaves
    for path, parser in leaves.items():
        assert parser.description and len(parser.description) > 30, path
        assert parser.epilog and parser.epilog.startswith("examples:\n  sexto " + path[0]), path
        assert "examples:" in parser.format_help(), path


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"SEXTO_DATABASE_URL": "not a url"}, "SEXTO_DATABASE_URL is not a database URL"),
        ({"SEXTO_DATABASE_URL": "nosuchdb://sexto:s3cr3t-pw@db/sexto"}, "SEXTO_DATABASE_URL is not a database URL"),
        (
            {"SEXTO_DATABASE_URL": "postgresql+psycopg://sexto:s3cr3t-pw@127.0.0.1:1/sexto"},
            "the database cannot be reached",
        ),
        ({"SEXTO_DATA_KEYS_FILE": "/nonexistent/data-keys.json"}, "SEXTO_DATA_KEYS_FILE: cannot read"),
        ({"SEXTO_TOKEN_LIFETIME_SECONDS": "soon"}, "SEXTO_TOKEN_LIFETIME_SECONDS"),
    ],
)
def test_a_known_error_is_one_line_and_no_traceback(bare_env, environment, expected):
    done = sexto({**bare_env, **environment}, "audit", "verify")
    assert done.returncode == cli.EXIT_FAILED
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sexto: ") and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "s3cr3t" not in done.stderr


CREATE_ROLE = ("db", "create-app-role", "sexto_app", "--no-password")


@pytest.mark.parametrize(
    ("url", "commands", "expected"),
    [
        ("nosuchdb://owner:s3cr3t-pw@db/sexto", [("migrate",)], "SEXTO_MIGRATION_DATABASE_URL is not a database URL"),
        (
            "nosuchdb://owner:s3cr3t-pw@db/sexto",
            [CREATE_ROLE],
            "is a PostgreSQL role: set SEXTO_MIGRATION_DATABASE_URL",
        ),
        (
            "postgresql+psycopg://owner:s3cr3t-pw@127.0.0.1:1/sexto",
            [("migrate",), CREATE_ROLE],
            "(check SEXTO_MIGRATION_DATABASE_URL)",
        ),
    ],
)
def test_a_bad_migration_url_is_named_in_one_line(bare_env, url, commands, expected):
    environment = {**bare_env, "SEXTO_MIGRATION_DATABASE_URL": url, "SEXTO_DATABASE_URL": "sqlite:///unused.db"}
    for command in commands:
        done = sexto(environment, *command)
        assert done.returncode == cli.EXIT_FAILED, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and expected in lines[0], done.stderr
        assert "Traceback" not in done.stderr and "s3cr3t" not in done.stderr


def test_an_unknown_schema_is_one_line(bare_env, tmp_path):
    done = sexto({**bare_env, "SEXTO_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}, "audit", "export")
    assert done.returncode == cli.EXIT_FAILED
    assert done.stderr.startswith("sexto: database error: no such table") and done.stderr.count("\n") == 1


def test_the_export_stops_quietly_when_its_reader_does(settings, database_url, var_dir):
    """``sexto audit export | head -1``: more than a pipe's buffer of entries,
    the reader gone after one line."""
    engine = create_db_engine(database_url, pool_size=1)
    with Session(engine) as session:
        for number in range(600):
            chain.append(session, chain.EntryDraft(actor_kind="system", action="pipe_test", reason=str(number)))
        session.commit()
    engine.dispose()
    env = service_env(settings, var_dir)
    shell = f"set -o pipefail; {sys.executable} -m app.cli audit export | head -1"
    done = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["action"]  # the first entry, whole
    assert done.stderr == ""
    assert done.returncode == cli.EXIT_CLOSED_PIPE
    # The same through a pipe closed from here.
    export = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "audit", "export"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert export.stdout.readline()
    export.stdout.close()
    assert export.wait(timeout=120) == cli.EXIT_CLOSED_PIPE
    assert export.stderr.read() == b""


def test_keys_generate_writes_private_files_the_service_loads(settings, database_url, var_dir, tmp_path, demo):
    keys = tmp_path / "keys"
    done = sexto(service_env(settings, var_dir), "keys", "generate", str(keys), "--data-key-id", "k2026", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    files = {entry["setting"]: entry for entry in report["files"]}
    assert set(files) == {"SEXTO_TOKEN_SIGNING_KEY_FILE", "SEXTO_AUDIT_SIGNING_KEY_FILE", "SEXTO_DATA_KEYS_FILE"}
    for entry in files.values():
        assert stat.S_IMODE(os.stat(entry["path"]).st_mode) == 0o600, entry["path"]
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert report["data_key_current"] == "k2026"

    # Never overwritten: a second run refuses, in one line, and changes nothing.
    before = {path.name: path.read_bytes() for path in keys.iterdir()}
    again = sexto(service_env(settings, var_dir), "keys", "generate", str(keys))
    assert again.returncode == cli.EXIT_FAILED and again.stderr.startswith("sexto: refusing to overwrite")
    assert {path.name: path.read_bytes() for path in keys.iterdir()} == before

    # The service started with them signs with them and encrypts with them.
    env = service_env(
        settings,
        var_dir,
        SEXTO_DEMO_PASSWORD=DEMO_PASSWORD,
        **{setting: entry["path"] for setting, entry in files.items()},
        SEXTO_DATA_KEY_CURRENT=report["data_key_current"],
    )
    with running_service(env) as base:
        assert httpx.get(f"{base}/readyz").status_code == 200
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "demo-auditor", "password": DEMO_PASSWORD},
        ).json()["access_token"]
        assert jwt.get_unverified_header(token)["kid"] == files["SEXTO_TOKEN_SIGNING_KEY_FILE"]["key_id"]
        headers = {"Authorization": f"Bearer {token}"}
        issued = httpx.post(f"{base}/api/v1/audit/checkpoints", headers=headers)
        assert issued.status_code == 201, issued.text
        listed = httpx.get(f"{base}/api/v1/audit/checkpoints", headers=headers).json()
        assert listed["items"][0]["key_id"] == files["SEXTO_AUDIT_SIGNING_KEY_FILE"]["key_id"]
        staff = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "demo-staff-a", "password": DEMO_PASSWORD},
        ).json()["access_token"]
        body = {"school_id": str(demo.school_a), "reporter_type": "student", "channel": "in_person"}
        case = httpx.post(
            f"{base}/api/v1/cases",
            headers={"Authorization": f"Bearer {staff}"},
            json={**body, "place": "school", "summary": "Une photo circulerait."},
        )
        assert case.status_code == 201, case.text
    summaries = raw_rows(database_url, "SELECT summary FROM sexto_case")
    assert summaries and all(row.startswith("v1:k2026:") for row in summaries)


# --- reencrypt-data -------------------------------------------------------------------


@pytest.fixture
def rotation(desk, settings, var_dir, monkeypatch):
    """Five people on a case under the development key, then a new current
    key added: the environment ``sexto reencrypt-data`` runs in."""
    case = desk.open_case()
    for number in range(5):
        desk.person(case, "witness", name=f"Personne {number}")
    dev_keys = json.loads((var_dir / "data-keys.json").read_text())["keys"]
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    for name, value in service_env(
        settings, var_dir, SEXTO_DATA_KEYS=json.dumps({**dev_keys, "k2099": new_key}), SEXTO_DATA_KEY_CURRENT="k2099"
    ).items():
        monkeypatch.setenv(name, value)
    return case


def _under_new_key(database_url: str, column: str, table: str) -> list[bool]:
    return [row.startswith("v1:k2099:") for row in raw_rows(database_url, f"SELECT {column} FROM {table}") if row]


def test_reencrypt_commits_batch_by_batch_and_resumes_after_an_interruption(
    rotation, database_url, monkeypatch, capsys
):
    original = datakeys.rewrap_batches

    def interrupted(*args, **kwargs):
        batches = original(*args, **kwargs)
        yield next(batches)
        raise RuntimeError("the machine went down")

    monkeypatch.setattr(datakeys, "rewrap_batches", interrupted)
    assert cli.main(["reencrypt-data", "--batch-size", "2"]) == cli.EXIT_FAILED
    assert "the machine went down" in capsys.readouterr().err
    assert sorted(_under_new_key(database_url, "name", "participant")) == [False, False, False, True, True]

    monkeypatch.setattr(datakeys, "rewrap_batches", original)
    assert cli.main(["reencrypt-data", "--batch-size", "2", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    # Five names, five student ids, the summary: two were done before.
    assert done == {"rewritten": 5 + 5 + 1 - 2, "data_key_current": "k2099"}
    for column, table in (("name", "participant"), ("student_id", "participant"), ("summary", "sexto_case")):
        assert all(_under_new_key(database_url, column, table)), column
    assert cli.main(["reencrypt-data", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rewritten"] == 0


def test_reencrypt_refuses_data_under_a_key_it_is_not_given(rotation, monkeypatch, capsys):
    monkeypatch.setenv("SEXTO_DATA_KEYS", json.dumps({"k2099": base64.b64encode(secrets.token_bytes(32)).decode()}))
    assert cli.main(["reencrypt-data"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "not among the configured data keys" in err and "nothing rewritten" in err and err.count("\n") == 1


def test_progress_goes_to_a_terminal_never_into_the_json(rotation):
    """With standard error on a terminal the bar is drawn there; standard
    output stays one JSON document."""
    done = sexto_on_terminal(["reencrypt-data", "--batch-size", "1", "--json"], dict(os.environ), timeout=120)
    assert done.returncode == 0, done.drawn
    assert json.loads(done.stdout)["rewritten"] == 11
    assert b"re-encrypting under data key k2099" in done.drawn
