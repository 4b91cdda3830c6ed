"""The image's steps, without containers (there is no container engine to
build it here): build the wheel from what the Dockerfile copies, install it
(not editable) into a fresh venv with the pinned constraints, then, from that
venv only, create the application role and migrate as the owner with no key
(the one-shot job), and serve with the Dockerfile's command, in production,
as the application role, until ``/readyz`` answers 200.

pip reaches the package index for the dependencies (its cache makes a second
run quicker); the test takes about a minute on a quiet machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from app.config import PROJECT_ROOT
from tests.test_app_role import Scratch
from tests.test_container_files import dockerfile_cmd

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def _run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command[:4])}… ended {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_wheel_installed_with_the_constraints_migrates_and_serves(engine_name, postgres_server, tmp_path):
    base_env = {name: value for name, value in os.environ.items() if not name.startswith("SEXTO_")}
    base_env.pop("PYTHONPATH", None)
    # What the build stage copies, and nothing else.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)], base_env, tmp_path)
    (wheel,) = dist.glob("sexto_service-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("app/migrations/versions/0001_foundation.py", "app/migrations/env.py", "app/grid/templates/v1.json"):
        assert needed in names, f"the wheel lacks {needed}"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base_env, tmp_path)
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(source / "constraints.txt"),
            str(wheel),
        ],
        base_env,
        tmp_path,
    )
    work = tmp_path / "run"  # not the checkout: nothing may be imported from it
    work.mkdir()
    where = _run([str(venv / "bin" / "python"), "-c", "import app; print(app.__file__)"], base_env, work)
    assert Path(where.strip()).is_relative_to(venv), where

    scratch = Scratch(postgres_server)
    role = scratch.role()
    sexto = str(venv / "bin" / "sexto")
    try:
        job = {
            **base_env,
            "SEXTO_ENVIRONMENT": "production",
            "SEXTO_MIGRATION_DATABASE_URL": scratch.owner_url,
            "SEXTO_DATABASE_APP_ROLE": role,
        }
        _run([sexto, "db", "create-app-role", role, "--no-password"], job, work)
        assert "database schema at migration" in _run([sexto, "migrate"], job, work)

        keys = work / "keys"
        _run([sexto, "keys", "generate", str(keys)], base_env, work)
        (work / "witness").mkdir()
        port = _free_port()
        command = dockerfile_cmd()
        assert command[0] == "uvicorn"
        command = [str(venv / "bin" / "uvicorn"), *command[1:]]
        command[command.index("--host") + 1] = "127.0.0.1"
        command[command.index("--port") + 1] = str(port)
        serve = {
            **base_env,
            "SEXTO_ENVIRONMENT": "production",
            "SEXTO_DATABASE_URL": make_url(scratch.owner_url).set(username=role).render_as_string(hide_password=False),
            "SEXTO_TOKEN_SIGNING_KEY_FILE": str(keys / "token-signing-key.pem"),
            "SEXTO_AUDIT_SIGNING_KEY_FILE": str(keys / "audit-signing-key.pem"),
            "SEXTO_DATA_KEYS_FILE": str(keys / "data-keys.json"),
            "SEXTO_AUDIT_WITNESS": f"directory:{work / 'witness'}",
        }
        server = subprocess.Popen(
            command, env=serve, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 90
            status = None
            while status != 200:
                assert server.poll() is None, f"the service exited: {server.stderr.read().decode()[-2000:]}"
                assert time.monotonic() < deadline, f"/readyz never answered 200 (last: {status})"
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                except httpx.TransportError:
                    status = None
                time.sleep(0.3)
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
            server.stderr.close()
    finally:
        scratch.close()
