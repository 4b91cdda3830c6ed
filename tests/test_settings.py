"""Settings, the development key, production's refusals, the first admin."""

from __future__ import annotations

import base64
import json
import secrets
import stat
from typing import get_args

import pytest
from pydantic import SecretStr, ValidationError
from sqlmodel import select

from app.accounts.models import Role, User
from app.config import DEFAULT_DEMO_PASSWORD, SECRET_FILE_SETTINGS, Settings
from app.security import TokenService
from tests.conftest import make_settings


def test_development_defaults_to_sqlite_under_var(tmp_path, monkeypatch):
    monkeypatch.delenv("SEXTO_DATABASE_URL", raising=False)
    settings = Settings(var_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'sexto.db'}"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEXTO_TOKEN_LIFETIME_SECONDS", "600")
    monkeypatch.setenv("SEXTO_MAX_BODY_BYTES", "4096")
    settings = Settings(var_dir=tmp_path)
    assert settings.token_lifetime_seconds == 600
    assert settings.max_body_bytes == 4096


def test_the_development_key_is_generated_once_and_kept(tmp_path):
    settings = Settings(var_dir=tmp_path)
    first = TokenService.from_settings(settings)
    second = TokenService.from_settings(settings)
    key_file = tmp_path / "token-signing-key.pem"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.signing_key_id == second.signing_key_id


def test_production_refuses_to_start_without_a_key_or_database(monkeypatch):
    monkeypatch.delenv("SEXTO_DATABASE_URL", raising=False)
    with pytest.raises(ValidationError) as error:
        Settings(environment="production")
    assert "SEXTO_TOKEN_SIGNING_KEY" in str(error.value)
    assert "SEXTO_DATABASE_URL" in str(error.value)


def test_production_refuses_weak_hashing_and_the_demo_password_for_admin(tmp_path):
    with pytest.raises(ValidationError, match="argon2 parameters below"):
        Settings(
            environment="production",
            database_url="postgresql+psycopg://app@db/sexto",
            token_signing_key_file=tmp_path / "key.pem",
            argon2_time_cost=1,
        )
    with pytest.raises(ValidationError, match="SEXTO_FIRST_ADMIN_PASSWORD is refused"):
        Settings(
            environment="production",
            database_url="postgresql+psycopg://app@db/sexto",
            token_signing_key_file=tmp_path / "key.pem",
            first_admin_username="root",
            first_admin_password=DEFAULT_DEMO_PASSWORD,
        )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1234", "common or breached"),
        ("root, the first of us", "username"),
        ("sexto administration", "service's name"),
        ("too short", "At least 12"),
    ],
)
def test_a_weak_first_admin_password_is_refused_in_every_environment(tmp_path, password, reason):
    for environment in ("development", "production"):
        with pytest.raises(ValidationError) as error:
            Settings(
                environment=environment,
                database_url="postgresql+psycopg://app@db/sexto",
                token_signing_key_file=tmp_path / "key.pem",
                first_admin_username="Root",
                first_admin_password=password,
            )
        assert "SEXTO_FIRST_ADMIN_PASSWORD" in str(error.value) and reason in str(error.value)
        assert password not in str(error.value)


def test_the_first_admin_is_created_at_start_up_when_none_exists(databases, var_dir):
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from app.main import create_app

    url = databases.clone("empty")
    settings = make_settings(url, var_dir, first_admin_username="Root", first_admin_password="a strong first password")
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "root", "password": "a strong first password"},
        )
        assert token.status_code == 200
    # A second start does not create another one.
    with TestClient(create_app(settings)):
        pass
    engine = create_engine(url)
    with Session(engine) as session:
        admins = session.exec(select(User).where(User.role == Role.admin.value)).all()
    engine.dispose()
    assert [a.username for a in admins] == ["root"]


# --- secrets in files (SEXTO_<NAME>_FILE) -------------------------------------------


def test_every_secret_setting_has_a_file_twin():
    secrets_ = {
        name
        for name, info in Settings.model_fields.items()
        if SecretStr in (info.annotation, *get_args(info.annotation))
        or name in ("database_url", "migration_database_url")
    }
    assert secrets_ == set(SECRET_FILE_SETTINGS)
    for name in SECRET_FILE_SETTINGS:
        assert f"{name}_file" in Settings.model_fields, name


def test_secrets_are_read_from_their_files(monkeypatch, tmp_path):
    keys = {"k1": base64.b64encode(secrets.token_bytes(32)).decode()}
    files = {
        "DATA_KEYS": json.dumps(keys),
        "FIRST_ADMIN_PASSWORD": "une phrase de passe vraiment longue\n",
        "DEMO_PASSWORD": "autre-démo-2026\n",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'from-file.db'}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        monkeypatch.setenv(f"SEXTO_{name}_FILE", str(tmp_path / name))
    monkeypatch.delenv("SEXTO_DATABASE_URL", raising=False)
    settings = Settings(var_dir=tmp_path, first_admin_username="root")
    assert settings.configured_data_keys() == {"k1": base64.b64decode(keys["k1"])}
    assert settings.first_admin_password.get_secret_value() == "une phrase de passe vraiment longue"
    assert settings.demo_password.get_secret_value() == "autre-démo-2026"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'from-file.db'}"


def test_a_missing_or_doubled_secret_file_stops_the_start_naming_the_setting(tmp_path):
    with pytest.raises(ValidationError) as error:
        Settings(var_dir=tmp_path, data_keys_file=tmp_path / "absent.json")
    assert "SEXTO_DATA_KEYS_FILE: cannot read" in str(error.value)
    (tmp_path / "keys.json").write_text('{"k1": "c2VjcmV0"}')
    with pytest.raises(ValidationError) as error:
        Settings(var_dir=tmp_path, data_keys_file=tmp_path / "keys.json")
    assert "key 'k1' must be the base64 of 32 bytes" in str(error.value)
    assert "c2VjcmV0" not in str(error.value)
    with pytest.raises(ValidationError, match="are both set"):
        Settings(var_dir=tmp_path, data_keys="{}", data_keys_file=tmp_path / "keys.json")


def test_production_accepts_every_secret_from_a_file(tmp_path):
    from app.cli import main

    assert main(["keys", "generate", str(tmp_path / "keys")]) == 0
    (tmp_path / "url").write_text("postgresql+psycopg://sexto@db/sexto")
    settings = Settings(
        environment="production",
        database_url_file=tmp_path / "url",
        token_signing_key_file=tmp_path / "keys" / "token-signing-key.pem",
        audit_signing_key_file=tmp_path / "keys" / "audit-signing-key.pem",
        data_keys_file=tmp_path / "keys" / "data-keys.json",
        audit_witness=f"file:{tmp_path / 'witness.jsonl'}",
    )
    assert settings.database_url == "postgresql+psycopg://sexto@db/sexto"
    assert len(settings.configured_data_keys()) == 1
    assert settings.token_signing_key is not None and settings.audit_signing_key is not None
