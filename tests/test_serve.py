"""The path `make run` takes: migrate, load the demo data, serve with uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD, running_service


@pytest.fixture
def var_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_VAR_DIR=str(tmp_path),
        SEXTO_DEMO_PASSWORD=DEMO_PASSWORD,
        SEXTO_ARGON2_TIME_COST="1",
        SEXTO_ARGON2_MEMORY_COST="1024",
        SEXTO_ARGON2_PARALLELISM="1",
    )
    return env


def _sexto(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_migrate_and_demo_are_idempotent(var_env, tmp_path):
    assert _sexto(var_env, "migrate").returncode == 0
    first = _sexto(var_env, "demo", "--if-empty")
    assert first.returncode == 0 and "loaded" in first.stdout
    second = _sexto(var_env, "demo", "--if-empty")
    assert second.returncode == 0 and "not loaded" in second.stdout
    assert _sexto(var_env, "demo").returncode == 2
    assert (tmp_path / "sexto.db").exists()


def test_the_service_starts_and_answers(var_env):
    assert _sexto(var_env, "migrate").returncode == 0
    assert _sexto(var_env, "demo", "--if-empty").returncode == 0
    with running_service(var_env) as base:
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        assert httpx.get(f"{base}/docs").status_code == 200
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "demo-lead-a", "password": DEMO_PASSWORD},
        ).json()["access_token"]
        me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["role"] == "school_lead"
