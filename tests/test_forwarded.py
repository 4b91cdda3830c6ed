"""The client address the audit log records: the peer's, unless the peer is a
proxy named in SEXTO_TRUSTED_PROXIES (then X-Forwarded-For's)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.main import create_app
from tests.conftest import make_settings, running_service, service_env
from tests.integrity import last_entry

FORGED = {"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}


def _me_then_refused(client: TestClient, db) -> tuple[str | None, str | None]:
    """The addresses recorded for a denied route and a refusal before routing."""
    assert client.get("/api/v1/auth/me", headers=FORGED).status_code == 401
    routed = last_entry(db).client_address
    refused = client.post("/api/v1/boards", content=b"x", headers={**FORGED, "Content-Type": "image/jpeg"})
    assert refused.status_code == 415
    return routed, last_entry(db).client_address


def test_no_proxy_is_trusted_by_default(app_database_url, var_dir, db):
    settings = make_settings(app_database_url, var_dir)
    assert settings.trusted_proxies == []
    with TestClient(create_app(settings), client=("192.0.2.10", 4000)) as client:
        assert _me_then_refused(client, db) == ("192.0.2.10", "192.0.2.10")


def test_a_named_proxy_names_the_client_and_no_other_peer_does(app_database_url, var_dir, db):
    settings = make_settings(app_database_url, var_dir, trusted_proxies=["192.0.2.0/28", "2001:db8::1"])
    app = create_app(settings)
    with TestClient(app, client=("192.0.2.10", 4000)) as client:
        assert _me_then_refused(client, db) == ("198.51.100.9", "198.51.100.9")
    with TestClient(app, client=("192.0.2.20", 4000)) as client:
        assert _me_then_refused(client, db) == ("192.0.2.20", "192.0.2.20")


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.5/24", "*", "10.0.0.300"])
def test_a_trusted_proxy_is_an_address_or_a_network(value):
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=[value])


def test_served_a_local_peer_is_no_proxy_unless_named(settings, var_dir, db):
    """uvicorn alone believes X-Forwarded-For from any local peer; served as
    the Dockerfile serves it, only the setting decides."""
    for trusted, recorded in (([], "127.0.0.1"), (["127.0.0.1"], "198.51.100.9")):
        env = service_env(settings, var_dir, SEXTO_TRUSTED_PROXIES=json.dumps(trusted))
        with running_service(env) as base:
            assert httpx.get(f"{base}/api/v1/auth/me", headers=FORGED).status_code == 401
        assert last_entry(db).client_address == recorded
