import base64
import json
import logging
import secrets

from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.main import create_app
from app.migrations import downgrade


def test_healthz_answers_without_a_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_migration_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_503_when_the_schema_is_behind(client, database_url):
    downgrade(database_url, "base")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"


def _other_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_readyz_names_a_data_key_that_does_not_decrypt_the_stored_data(desk, settings, var_dir, caplog):
    """A wrong data key is found at start-up: not ready, naming the key id
    (never the key), rather than an opaque 500 on the first read."""
    desk.open_case(summary="Résumé à chiffrer.")
    dev_key_id = json.loads((var_dir / "data-keys.json").read_text())["current"]
    wrong = _other_key()
    wrong_settings = settings.model_copy(update={"data_keys": SecretStr(json.dumps({dev_key_id: wrong}))})
    with caplog.at_level(logging.ERROR, logger="sexto"), TestClient(create_app(wrong_settings)) as client:
        response = client.get("/readyz", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "service_unavailable"
    assert problem["data_key_ids"] == [dev_key_id]
    assert dev_key_id in problem["detail"] and wrong not in response.text
    assert any(dev_key_id in record.getMessage() and wrong not in record.getMessage() for record in caplog.records)


def test_readyz_names_a_key_id_the_data_is_stored_under_that_is_not_configured(desk, settings, var_dir):
    desk.open_case(summary="Résumé à chiffrer.")
    dev_key_id = json.loads((var_dir / "data-keys.json").read_text())["current"]
    other = settings.model_copy(update={"data_keys": SecretStr(json.dumps({"k2099": _other_key()}))})
    with TestClient(create_app(other)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["data_key_ids"] == [dev_key_id]


def test_readyz_is_ready_with_a_new_current_key_beside_the_one_in_use(desk, settings, var_dir):
    desk.open_case(summary="Résumé à chiffrer.")
    dev_keys = json.loads((var_dir / "data-keys.json").read_text())["keys"]
    rotated = settings.model_copy(
        update={"data_keys": SecretStr(json.dumps({**dev_keys, "k2099": _other_key()})), "data_key_current": "k2099"}
    )
    with TestClient(create_app(rotated)) as client:
        assert client.get("/readyz").status_code == 200
