"""The headers every answer carries (app/headers.py), and the API docs served
by the service itself (app/apidocs)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.config import Environment, Settings
from app.main import create_app
from tests.conftest import MISSING_ID, REVOKES_THE_CALLERS_TOKEN, api_routes, make_settings

ALWAYS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def assert_headers(response, *, stored: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, f"{where}: {name} is {response.headers.get(name)!r}"
    if not stored:
        assert response.headers.get("cache-control") == "no-store", f"{where}: may be stored"


def test_every_route_answers_with_the_headers_and_none_is_stored(client, login):
    walked = 0
    for template, methods, _route in api_routes(client.app):
        path = re.sub(r"\{[^}]+\}", MISSING_ID, template)
        for method in sorted(methods - {"HEAD"}):
            for headers in ({}, login("demo-lead-a")):
                body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
                response = client.request(method, path, headers=headers, **body)
                # The docs' assets are public and say how they may be kept.
                assert_headers(response, stored=template.startswith("/docs/assets"))
                walked += 1
                if headers and (method, template) in REVOKES_THE_CALLERS_TOKEN:
                    login("demo-lead-a", fresh=True)
    assert walked > 150


def test_the_token_answer_is_never_stored(client):
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "demo-lead-a", "password": "demo-password-for-tests"},
    )
    assert response.status_code == 200
    assert_headers(response)
    assert response.headers["pragma"] == "no-cache"  # RFC 6749 §5.1
    refused = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "x", "password": "y"})
    assert refused.status_code == 400
    assert_headers(refused)


def test_a_case_read_and_its_304_are_never_stored(desk):
    case = desk.open_case()
    first = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a")
    assert first.status_code == 200
    assert_headers(first)
    again = desk.call("GET", f"/cases/{case['id']}", "demo-staff-a", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert_headers(again)


def test_the_refusals_before_routing_carry_the_headers(client, login, settings):
    headers = login("demo-admin")
    too_big = client.post(
        "/api/v1/boards",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert_headers(too_big)
    media = client.post("/api/v1/boards", content=b"\xff\xd8\xff", headers={**headers, "Content-Type": "image/jpeg"})
    assert media.status_code == 415
    assert_headers(media)
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404
    assert_headers(unknown)


def test_a_server_error_carries_the_headers(settings):
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert_headers(response)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href", "data-openapi", "action"} and value is not None:
                self.references.append(value)
            if name.startswith("on"):
                self.inline_scripts += 1
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_are_served_from_the_service_under_a_strict_policy(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert_headers(response)
    parser = _References()
    parser.feed(response.text)
    assert parser.inline_scripts == 0
    assert len(parser.references) >= 3
    for reference in parser.references:
        assert reference.startswith("/") and not reference.startswith("//"), f"{page} loads {reference}"
        assert client.get(reference).status_code == 200, reference
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert "frame-ancestors" in policy
    assert not any(re.search(r"https?:|\*", sources) for sources in policy.values())


def test_the_docs_scripts_come_from_the_installed_package(client):
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text[:2000]
    assert bundle.headers["content-type"].startswith("text/javascript")
    again = client.get("/docs/assets/swagger-ui-bundle.js", headers={"If-None-Match": bundle.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 200
    assert client.get("/docs/assets/../__init__.py").status_code == 404


def test_the_docs_can_be_turned_off_and_are_off_in_production(database_url, var_dir):
    assert Settings(var_dir=var_dir).api_docs_enabled
    production = Settings.model_construct(environment=Environment.production, api_docs=None)
    assert not production.api_docs_enabled
    assert Settings.model_construct(environment=Environment.production, api_docs=True).api_docs_enabled
    with TestClient(create_app(make_settings(database_url, var_dir, api_docs=False))) as client:
        for path in ("/docs", "/redoc", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-init.js"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert_headers(response)
        assert client.get("/openapi.json").status_code == 200
