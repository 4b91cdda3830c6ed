"""The container files, checked as far as this machine can: there is no
container engine here, so the Dockerfile is read for what it promises
(multi-stage, a wheel installed with the constraints and never editable,
non-root, a health check on /readyz, a command that serves only), and
compose.yaml is validated against the Compose Specification's JSON schema
(vendored: tests/compose_spec/README.md) and read for the deployment's
invariants.  Where ``docker compose`` works, ``docker compose config`` must
accept the file too."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from app.config import PROJECT_ROOT, Settings

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
COMPOSE_SCHEMA = Path(__file__).parent / "compose_spec" / "compose-spec.json"
SERVING = ("app-1", "app-2")


def dockerfile_stages(text: str | None = None) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, continuation lines joined and comments
    dropped, one list per stage (each starts with its FROM)."""
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        assert stages, "a Dockerfile starts with FROM"
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def dockerfile_cmd() -> list[str]:
    """The final stage's CMD, which must be in exec form (a JSON list)."""
    (cmd,) = [arguments for instruction, arguments in dockerfile_stages()[-1] if instruction == "CMD"]
    command = json.loads(cmd)
    assert isinstance(command, list), "CMD in exec form: no shell between the container and uvicorn"
    return command


def test_the_image_is_built_in_two_stages_and_installs_the_wheel_not_editable():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: the wheel is built in a stage of its own"
    build_name = stages[0][0][1].split()[-1]
    final = stages[-1]
    assert any(i == "RUN" and "pip wheel" in a for i, a in stages[0]), "the first stage builds the wheel"
    assert any(i == "COPY" and f"--from={build_name}" in a for i, a in final), "the final stage takes the wheel"
    installs = [a for i, a in final if i == "RUN" and "pip install" in a]
    assert installs, "the final stage installs"
    for command in installs:
        words = shlex.split(command)
        assert "-e" not in words and "--editable" not in words, "never an editable install"
        assert "-c" in words or any(w.startswith("--constraint") for w in words), "with the pinned constraints"
        assert any(w.endswith(".whl") for w in words), "the wheel, not the sources"
    assert not any(i == "COPY" and re.search(r"(^|\s)app\b", a) for i, a in final), "no sources in the image"


def test_the_image_runs_as_a_user_that_is_not_root():
    final = dockerfile_stages()[-1]
    users = [a for i, a in final if i == "USER"]
    assert users, "USER in the final stage"
    assert users[-1].split(":")[0] not in ("root", "0")
    order = [i for i, _ in final]
    assert order.index("USER") < order.index("CMD")


def test_the_image_checks_readiness_and_serves_only():
    final = dockerfile_stages()[-1]
    (check,) = [a for i, a in final if i == "HEALTHCHECK"]
    assert "/readyz" in check
    command = dockerfile_cmd()
    assert command[0] == "uvicorn" and "app.main:create_app" in command
    assert "--no-proxy-headers" in command and "--no-access-log" in command
    assert command[command.index("--workers") + 1] == "2"
    assert not {"sh", "migrate", "sexto"} & set(command), "migrating is a one-shot job of its own"


def test_the_image_serves_the_web_app_built_in_a_stage_of_its_own():
    stages = dockerfile_stages()
    (web,) = [stage for stage in stages if stage[0][1].split()[-1] == "web"]
    assert web[0][1].startswith("node:20"), "Node.js 20 builds the app (web/package.json's engines)"
    runs = [a for i, a in web if i == "RUN"]
    assert any("npm ci" in a and "--ignore-scripts" in a for a in runs), "the locked packages, no install scripts"
    assert any("npm run build" in a for a in runs)
    final = stages[-1]
    (copied,) = [a for i, a in final if i == "COPY" and "--from=web" in a]
    target = copied.split()[-1]
    env = " ".join(a for i, a in final if i == "ENV")
    assert f"SEXTO_WEB_DIST={target}" in env, "the service serves the app it was given"
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "web/dist" in ignored and "node_modules" in ignored, "the app is built in the image, never copied"


def test_the_dockerfile_parser_sees_what_it_checks():
    """The checks above fail on the image this Dockerfile used to be."""
    old = 'FROM python:3.11-slim\nRUN pip install -c constraints.txt -e . \\\n && true\nCMD ["sh", "-c", "sexto migrate && exec uvicorn x"]\n'
    (stage,) = dockerfile_stages(old)
    assert ("RUN", "pip install -c constraints.txt -e .   && true") in stage
    assert not [a for i, a in stage if i == "USER"]


# --- compose.yaml ---------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_yaml_follows_the_compose_specification():
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(compose())
    # The schema does refuse what is wrong (a misspelt key).
    broken = compose()
    broken["services"]["app-1"]["secret"] = broken["services"]["app-1"].pop("secrets")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def _file_settings(environment: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in environment.items() if name.endswith("_FILE")}


def test_compose_passes_every_secret_as_a_file_and_serves_as_the_app_role():
    document = compose()
    services = document["services"]
    declared = set(document["secrets"])
    setting_names = {f"SEXTO_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        environment = service.get("environment", {})
        for variable in environment:
            if variable.startswith("SEXTO_"):
                assert variable in setting_names, f"{name}: {variable} is not a setting"
                # A secret is never in the environment itself.
                assert not re.search(r"(URL|KEY|KEYS|PASSWORD)$", variable), f"{name}: {variable}: give its _FILE"
        for variable, path in _file_settings(environment).items():
            secret = path.removeprefix("/run/secrets/")
            assert secret in service.get("secrets", []) and secret in declared, f"{name}: {variable} -> {path}"
    for name in SERVING:
        service = services[name]
        assert "command" not in service, "the instances run the image's default command: serve only"
        environment = service["environment"]
        assert "SEXTO_MIGRATION_DATABASE_URL_FILE" not in environment, "the instances never see the owner's URL"
        assert "migration_database_url" not in service["secrets"]
        assert environment["SEXTO_DATABASE_URL_FILE"] == "/run/secrets/database_url"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        # The proxy named is the proxy that is there.
        proxy_address = services["proxy"]["networks"]["backend"]["ipv4_address"]
        assert json.loads(environment["SEXTO_TRUSTED_PROXIES"]) == [proxy_address]
    assert services["migrate"]["depends_on"]["app-role"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["sexto", "migrate"]
    assert services["app-role"]["command"][:3] == ["sexto", "db", "create-app-role"]
    assert services["app-role"]["command"][3] == services["migrate"]["environment"]["SEXTO_DATABASE_APP_ROLE"]
    for job in ("app-role", "migrate"):
        assert set(services[job]["secrets"]) <= {"migration_database_url", "app_role_password"}, "no key for a job"
    caddyfile = (PROJECT_ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    for name in SERVING:
        assert f"{name}:8000" in caddyfile
    assert "health_uri /readyz" in caddyfile


def _docker_compose_works() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    return done.returncode == 0


def test_docker_compose_config_accepts_the_file(tmp_path):
    if not _docker_compose_works():
        pytest.skip("`docker compose` is not available here (the Compose schema test checks the file instead)")
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    (tmp_path / "deploy").mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "Caddyfile", tmp_path / "deploy" / "Caddyfile")
    (tmp_path / "secrets").mkdir()
    for secret in compose()["secrets"].values():
        (tmp_path / secret["file"]).write_text("placeholder\n")
    done = subprocess.run(
        ["docker", "compose", "--file", "compose.yaml", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
