"""Benchmark: an authenticated case read during an anonymous sign-in flood.

For each engine (SQLite, then PostgreSQL on a throwaway database), migrate,
load the demo data with the production argon2 parameters, serve the service
as ``make run`` does (uvicorn, ``--no-proxy-headers``) with 2 worker
processes and the default limits, and open one case as demo-staff-a.  Then
measure the read ``GET /api/v1/cases/{id}`` with wrk (8 connections):

* idle;
* during a flood of 100 connections posting sign-ins with random user names
  from one address (the issue's attack);
* during a distributed flood: the same, each attempt with a random
  ``X-Forwarded-For`` (the service trusts 127.0.0.1 as a proxy for this run,
  so every attempt counts for another address and only the overall limit
  holds).

Rounds alternate idle and flood; the figures are medians of the rounds.  The
target is a flood p99 within 3x of the idle p99.

    .venv/bin/python bench/signin_flood.py [--seconds 10] [--rounds 3] [--engines sqlite,postgresql]

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import create_engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.orgs.service import local_today  # noqa: E402
from app.security import PasswordHasher  # noqa: E402
from bench.common import figures, staff_case  # noqa: E402

SERVER = os.environ.get("SEXTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret"
PORT = 18811

# wrk script of the flood: a sign-in with a random user name per request, from
# a random forwarded address when FORWARDED is set; counts the statuses.
FLOOD_LUA = """
local forwarded = os.getenv("FORWARDED") == "1"
local counter = 0
statuses = {}
function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end
function request()
  counter = counter + 1
  local body = "grant_type=password&password=wrong-password&username=flood-" .. math.random(1, 1e9) .. "-" .. counter
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if forwarded then
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  end
  return wrk.format("POST", "/api/v1/auth/token", headers, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, '"' .. status .. '": ' .. count)
  end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\\n")
end
"""


def serve(env: dict[str, str]) -> subprocess.Popen:
    # As `make run` serves it (no proxy headers believed by uvicorn itself), with 2 workers.
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(PORT), "--no-proxy-headers", "--workers", "2", "--log-level", "warning"]
    command += ["--no-access-log"]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the service did not start")


def wrk_read(url: str, token: str, seconds: int) -> subprocess.Popen:
    command = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}", url]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def read_result(process: subprocess.Popen) -> dict[str, float]:
    output, _ = process.communicate()

    return figures(output)


def flood(script: Path, seconds: int, forwarded: bool) -> subprocess.Popen:
    command = ["wrk", "-t2", "-c100", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    command.append(f"http://127.0.0.1:{PORT}")
    env = {**os.environ, "FORWARDED": "1" if forwarded else "0"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def flood_result(process: subprocess.Popen) -> dict[str, object]:
    output, _ = process.communicate()
    statuses = json.loads(re.search(r"STATUSES (\{.*\})", output).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "statuses": statuses}


def database(engine_name: str, var_dir: Path) -> tuple[str, str | None]:
    """The URL of a fresh database, and the PostgreSQL one's name to drop."""
    if engine_name == "sqlite":
        return f"sqlite:///{var_dir / 'bench.db'}", None
    name = f"sexto_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER).set(drivername="postgresql+psycopg")
    with psycopg.connect(server.set(drivername="postgresql").render_as_string(hide_password=False)) as connection:
        connection.autocommit = True
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False), name


def drop(name: str) -> None:
    server = make_url(SERVER).set(drivername="postgresql")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_engine(engine_name: str, seconds: int, rounds: int, script: Path, hashes: int | None = None) -> None:
    var_dir = Path(tempfile.mkdtemp())
    url, pg_name = database(engine_name, var_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS="0",
        SEXTO_TRUSTED_PROXIES='["127.0.0.1"]',
    )
    if hashes is not None:  # the trade-off of docs/security.md: sign-in capacity for the reads' CPU
        env["SEXTO_MAX_CONCURRENT_PASSWORD_HASHES"] = str(hashes)
    process = None
    try:
        upgrade(url)
        settings = Settings(database_url=url, var_dir=var_dir)
        engine = create_engine(url)
        with Session(engine) as session:
            load_demo(session, PasswordHasher(settings), PASSWORD, local_today(settings.local_timezone))
        engine.dispose()
        process = serve(env)
        base = f"http://127.0.0.1:{PORT}"
        token, case_id = staff_case(base, PASSWORD)
        read_url = f"{base}/api/v1/cases/{case_id}"
        read_result(wrk_read(read_url, token, 2))  # warm up
        results: dict[str, list[dict[str, float]]] = {"idle": [], "flood": [], "distributed": []}
        floods: dict[str, list[dict[str, object]]] = {"flood": [], "distributed": []}
        for _ in range(rounds):
            results["idle"].append(read_result(wrk_read(read_url, token, seconds)))
            for label, forwarded in (("flood", False), ("distributed", True)):
                attack = flood(script, seconds + 2, forwarded)
                time.sleep(1)  # the flood is on before the read starts
                results[label].append(read_result(wrk_read(read_url, token, seconds)))
                floods[label].append(flood_result(attack))
                time.sleep(1)

        def median(label: str, key: str) -> float:
            return statistics.median(row[key] for row in results[label])

        idle_p99 = median("idle", "p99")
        hashing = f", {hashes} hash(es) at once per process" if hashes is not None else ""
        print(f"== {engine_name}: 2 workers, {rounds} rounds of {seconds} s, default limits{hashing}")
        print(
            f"idle read:     {median('idle', 'rps'):,.0f} req/s, p50 {median('idle', 'p50'):.1f} ms, "
            f"p99 {idle_p99:.1f} ms, errors {sum(r['errors'] for r in results['idle'])}"
        )
        for label, title in (("flood", "one address"), ("distributed", "many addresses")):
            statuses: dict[str, int] = {}
            for row in floods[label]:
                for status, count in row["statuses"].items():  # type: ignore[union-attr]
                    statuses[status] = statuses.get(status, 0) + count
            print(
                f"flood, {title}: read {median(label, 'rps'):,.0f} req/s, p50 {median(label, 'p50'):.1f} ms, "
                f"p99 {median(label, 'p99'):.1f} ms, errors {sum(r['errors'] for r in results[label])}; "
                f"p99 ratio {median(label, 'p99') / idle_p99:.2f}x (target <= 3x)"
            )
            rate = statistics.median(float(row["rps"]) for row in floods[label])  # type: ignore[arg-type]
            print(f"  sign-ins: {rate:,.0f} req/s, statuses {dict(sorted(statuses.items()))}")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if pg_name:
            drop(pg_name)
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--hashes", type=int, help="SEXTO_MAX_CONCURRENT_PASSWORD_HASHES per process (default: its default)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "flood.lua"
        script.write_text(FLOOD_LUA)
        for engine_name in args.engines.split(","):
            run_engine(engine_name, args.seconds, args.rounds, script, args.hashes)


if __name__ == "__main__":
    main()
