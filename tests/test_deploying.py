"""docs/deploying.md is run, not just read: every fenced block whose info
string is exactly ``sh`` is run, in the page's order, in one bash under
``set -euo pipefail``, in a temporary directory, on a fresh PostgreSQL
database.  Blocks with another info string (``yaml``, ``console``, ``text``,
``caddyfile``) are shown, not run.

For whoever writes a section of that page: a block may use only what the
first block ("Before you start") sets, which this test overrides:

- ``SECRETS``: the directory of the keys and passwords (one file each);
- ``MIGRATION_URL``: the database owner's URL (it migrates; the instances never see it);
- ``APP_ROLE`` and ``DATABASE_URL``: the role the instances connect as, and
  its URL without a password (``$SECRETS/database-url`` holds the one with it);
- ``WITNESS``: the audit witness's directory;
- ``INSTANCE_1``, ``INSTANCE_2``: the two instances' base URLs (``http://127.0.0.1:<port>``),
  serving from the block of "Two instances behind a proxy" on;
- ``BACKUP_DIR``: where backups go;
- ``sexto`` (and ``uvicorn``) on ``PATH``; ``curl``, ``jq`` and ``psql``.

The instances run in the background; whatever happens, the test ends the
script's whole process group.  A failure names the block that failed and
shows it with the script's output.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url

from app.config import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "deploying.md"
FENCE = re.compile(r"^```(\S*)\s*$")


def sh_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks whose info string is exactly ``sh``, in order."""
    blocks: list[str] = []
    current: list[str] | None = None
    info = ""
    for line in text.splitlines():
        fence = FENCE.match(line)
        if current is None and fence:
            current, info = [], fence.group(1)
        elif current is not None and line.strip() == "```":
            if info == "sh":
                blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, "docs/deploying.md: a fenced block is not closed"
    return blocks


def test_only_sh_blocks_are_run():
    page = "text\n```sh\necho run\n```\n```yaml\nkey: shown\n```\n```console\n$ shown\n```\n```sh\necho too\n```\n"
    assert sh_blocks(page) == ["echo run", "echo too"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _script(blocks: list[str], marker: Path) -> str:
    """One bash script: before each block, its number goes to ``marker``, so
    that a failure can name the block."""
    parts = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        parts.append(f"echo {number} > {marker}")
        parts.append(block)
    parts.append(f"echo done > {marker}")
    return "\n".join(parts) + "\n"


def test_every_sh_block_of_deploying_md_runs(postgres_server, tmp_path):
    if postgres_server is None:  # under CI=true the fixture has already failed
        pytest.skip("PostgreSQL does not answer (set SEXTO_TEST_POSTGRES_URL)")
    blocks = sh_blocks(PAGE.read_text(encoding="utf-8"))
    assert blocks[0].lstrip().startswith(": "), "the first sh block sets the variables the others use"

    database = postgres_server.new_name()
    owner_url = postgres_server.create(database)
    role = f"{postgres_server.prefix}_app"
    work = tmp_path / "work"
    work.mkdir()
    marker = tmp_path / "block"
    output = tmp_path / "output"
    bin_dir = str(Path(sys.executable).parent)
    env = {name: value for name, value in os.environ.items() if not name.startswith("SEXTO_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp_path),
        NO_PROXY="127.0.0.1,localhost",  # curl reaches the instances directly, whatever proxy the machine has
        no_proxy="127.0.0.1,localhost",
        SECRETS=str(tmp_path / "etc" / "secrets"),  # not ./secrets: compose.yaml's, made by the page
        MIGRATION_URL=owner_url,
        APP_ROLE=role,
        DATABASE_URL=make_url(owner_url).set(username=role, password=None).render_as_string(hide_password=False),
        WITNESS=str(work / "witness"),
        INSTANCE_1=f"http://127.0.0.1:{_free_port()}",
        INSTANCE_2=f"http://127.0.0.1:{_free_port()}",
        BACKUP_DIR=str(work / "backups"),
    )
    with output.open("wb") as sink:
        run = subprocess.Popen(
            ["bash", "-c", _script(blocks, marker)],
            cwd=work,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the instances it starts end with it
        )
        try:
            returncode: int | str = run.wait(timeout=600)
        except subprocess.TimeoutExpired:
            returncode = "timed out after 600 s"
        finally:
            _end_group(run.pid)
            run.wait()
            postgres_server.drop(database)
            _drop_role(postgres_server, role)
    reached = marker.read_text().strip() if marker.exists() else "0"
    printed = output.read_text(errors="replace")
    if returncode == 0 and reached == "done":
        # The drill checked signed checkpoints with the service's own keys:
        # run without them it took none, or refused them as unknown.
        (checked,) = re.findall(r"^audit log: ok: .*?; (\d+) checkpoints", printed, re.MULTILINE)
        assert int(checked) >= 1, printed[-4000:]
    if returncode != 0 or reached != "done":
        outcome = returncode if isinstance(returncode, str) else f"ended {returncode}"
        failed = blocks[int(reached) - 1] if reached.isdigit() and int(reached) > 0 else "(before the first block)"
        pytest.fail(
            f"docs/deploying.md: sh block {reached} of {len(blocks)}: {outcome}:\n"
            f"```sh\n{failed}\n```\n--- output (last 80 lines) ---\n"
            + "\n".join(output.read_text(errors="replace").splitlines()[-80:]),
            pytrace=False,
        )


def _end_group(pgid: int) -> None:
    """SIGTERM to the script's process group, then SIGKILL to what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def _drop_role(postgres_server, role: str) -> None:
    """Roles belong to the server, not to the database: drop the one the page made."""
    import psycopg

    with postgres_server._admin() as connection:
        connection.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role)))
