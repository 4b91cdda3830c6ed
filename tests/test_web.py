"""The web app served at / (app/web.py): its pages under a strict CSP, its
hashed assets kept, the API's paths never shadowed, and a page that says how
to build the app when it is not built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web import CONTENT_SECURITY_POLICY


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    built = tmp_path / "dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>')
    (built / "assets" / "app-1a2b.js").write_text("console.log('app')")
    (built / "app-paths.json").write_text(json.dumps(["sign-in", "cases"]))
    (tmp_path / "secret.txt").write_text("outside the build")
    return built


@pytest.fixture
def web(settings, dist):
    with TestClient(create_app(settings.model_copy(update={"web_dist": dist}))) as client:
        yield client


def test_the_app_pages_are_index_html_under_a_strict_csp(web):
    for path in ("/", "/sign-in", "/cases", "/cases/0b5d3c1e-8a54-4a43-9a61-3f1d8f0c2e10"):
        page = web.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "/assets/app-1a2b.js" in page.text
        assert page.headers["cache-control"] == "no-cache"
        csp = page.headers["content-security-policy"]
        assert csp == CONTENT_SECURITY_POLICY
        directives = dict(d.split(" ", 1) for d in csp.split("; "))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert "unsafe" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert page.headers["x-content-type-options"] == "nosniff"
    assert web.head("/cases").status_code == 200


def test_hashed_assets_are_kept_a_year_and_nothing_outside_them_is_served(web):
    asset = web.get("/assets/app-1a2b.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert web.get("/assets/missing.js").status_code == 404
    assert web.get("/assets/..%2F..%2Fsecret.txt").status_code == 404
    assert web.get("/assets/../../secret.txt").status_code == 404
    assert web.get("/app-paths.json").status_code == 404


def test_the_api_paths_are_never_shadowed(web):
    assert web.get("/api/v1/cases").status_code == 401
    assert web.get("/api/v1/nowhere").headers["content-type"] == "application/problem+json"
    assert web.get("/openapi.json").json()["openapi"].startswith("3.")
    assert web.get("/healthz").status_code == 200
    unknown = web.get("/nowhere")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.headers["cache-control"] == "no-store"
    # A write to an app path is the API's to answer (no page).
    assert web.post("/cases", json={}).status_code in {404, 405}


def test_without_a_build_the_api_serves_and_slash_says_how_to_get_the_app(settings, tmp_path):
    with TestClient(create_app(settings.model_copy(update={"web_dist": tmp_path / "none"}))) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "make web" in page.text and "Node.js" in page.text
        assert "<script" not in page.text
        assert page.headers["content-security-policy"] == "default-src 'none'"
        assert client.get("/cases").status_code == 404
        assert client.get("/api/v1/cases").status_code == 401


def test_an_app_path_named_like_an_api_path_never_shadows_it(settings, dist):
    """The API's paths stay the API's whatever the build's ``app-paths.json``
    lists: a router segment that happens to be one of the API's first
    segments (``api``, ``healthz``, ``openapi.json``) is not served as a page."""
    (dist / "app-paths.json").write_text(json.dumps(["sign-in", "cases", "api", "healthz", "openapi.json"]))
    with TestClient(create_app(settings.model_copy(update={"web_dist": dist}))) as client:
        cases = client.get("/api/v1/cases")
        assert cases.status_code == 401
        assert cases.headers["content-type"] == "application/problem+json"
        assert client.get("/healthz").headers["content-type"].startswith("application/json")
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert client.get("/cases").headers["content-type"].startswith("text/html")


def test_an_asset_path_the_file_system_cannot_take_is_a_404_not_a_server_error(settings, dist):
    """A NUL byte or a name too long for the file system, sent by anyone
    without a token, is the API's 404 like any other missing asset (the
    lookup raised, which answered 500)."""
    with TestClient(
        create_app(settings.model_copy(update={"web_dist": dist})), raise_server_exceptions=False
    ) as client:
        for path in ("/assets/app%00.js", "/assets/%00", "/assets/" + "a" * 5000 + ".js"):
            answer = client.get(path)
            assert answer.status_code == 404, path[:40]
            assert answer.headers["content-type"] == "application/problem+json"
        assert client.get("/assets/app-1a2b.js").status_code == 200
