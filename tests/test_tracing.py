"""OpenTelemetry traces: off unless the OTEL_ variables ask; on, a span per
request named by its route template and a span per statement, none carrying
an id, a name, a token, a raw path or a statement's parameters."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.main import create_app
from app.tracing import traces_wanted, tracing_from_environment
from tests.conftest import DEMO_PASSWORD
from tests.protocol_helpers import Desk


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "sexto"}, False),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_traces_only_when_the_environment_asks(environ, wanted):
    assert traces_wanted(environ) is wanted
    assert (tracing_from_environment(environ=environ) is not None) is wanted


def test_an_exporter_the_service_cannot_use_stops_the_start():
    with pytest.raises(RuntimeError, match="otlp, console and none"):
        tracing_from_environment(environ={"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(RuntimeError, match="http/protobuf only"):
        tracing_from_environment(environ={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_without_the_environment_no_instrumentation(client):
    stack = [middleware.cls.__name__ for middleware in client.app.user_middleware]
    assert not any("OpenTelemetry" in name for name in stack), stack


@pytest.fixture
def traced(settings):
    exporter = InMemorySpanExporter()
    with TestClient(create_app(settings, span_exporter=exporter)) as client:
        yield client, exporter


def _text(span) -> str:
    """Everything a span carries to an exporter, as text."""
    return json.dumps(
        {
            "name": span.name,
            "attributes": dict(span.attributes or {}),
            "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
            "status": span.status.description,
        },
        ensure_ascii=False,
        default=str,
    )


def test_a_request_is_a_span_named_by_its_route_template_with_no_ids(traced, demo):
    client, exporter = traced
    cache: dict[str, dict[str, str]] = {}

    def login(username: str, *, fresh: bool = False) -> dict[str, str]:
        if fresh or username not in cache:
            answer = client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
            )
            cache[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return cache[username]

    desk = Desk(client, login, demo)
    case = desk.open_case()
    person = desk.person(case, "distributor", name="Zoé Tremblay-Secret")
    exporter.clear()
    desk.ok("GET", f"/cases/{case['id']}", "demo-staff-a", params={"q": "Tremblay"})
    desk.call("PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "Zoé Tremblay-Secret", "x": 1})
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert "GET /api/v1/cases/{case_id}" in names, names
    assert "PATCH /api/v1/cases/{case_id}" in names, names
    read = next(span for span in spans if span.name == "GET /api/v1/cases/{case_id}")
    assert read.attributes["http.route"] == "/api/v1/cases/{case_id}"
    assert read.attributes.get("http.response.status_code", read.attributes.get("http.status_code")) == 200
    statements = [span for span in spans if "db.statement" in (span.attributes or {})]
    assert statements, names  # the statements are traced, each its own span
    assert all(s.parent is not None for s in statements)
    token = login("demo-staff-a")["Authorization"].split()[1]
    secrets_ = (case["id"], case["id"].replace("-", ""), person["id"], "Zoé", "Tremblay", token, "testclient")
    for span in spans:
        text = _text(span)
        for secret in secrets_:
            assert secret not in text, (secret, text)
        assert not {"http.target", "url.path", "url.query", "http.url", "url.full"} & set(span.attributes or {})
