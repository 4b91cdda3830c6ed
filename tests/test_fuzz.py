"""Schemathesis against the committed OpenAPI document, through the ASGI app.

For every operation of ``openapi/openapi.json``, Hypothesis draws requests
from the document (valid ones and, where the operation takes input, invalid
ones), sends each as one of several signed-in callers (or none) through the
test client, and checks the answer against the document: never a 5xx, a
documented status code and content type, a body that matches the documented
schema, and invalid input refused.  Two thirds of the requests to an
operation on one resource reach a real one (a case of the callers' school,
at school or handed off, its participant and device, the demo
organizations) instead of a random id, so that they get past the 404s; half
come from the operation's audience, so that they get past the 403s.  After
each operation's campaign the audit chain must still verify, with exactly
one entry for each request to the API.

``SEXTO_FUZZ_EXAMPLES`` sets how many examples each operation gets (default
below); ``make fuzz`` runs the longer campaign with fresh randomness.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.integrity import table_counts, verify_chain
from tests.protocol_helpers import Desk, reachable_world

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(DOCUMENT)
OPERATIONS = sorted(
    (result.ok() for result in SCHEMA.get_all_operations()), key=lambda operation: (operation.path, operation.method)
)

DEFAULT_EXAMPLES = 6
EXAMPLES = int(os.environ.get("SEXTO_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
# The normal suite replays the same examples on every run; the longer
# campaign (an explicit example count) draws fresh ones each time.
LONG_CAMPAIGN = "SEXTO_FUZZ_EXAMPLES" in os.environ

# Callers, by role; None is a caller without a token.
CALLERS = {
    "school_staff": "demo-staff-a",
    "school_lead": "demo-lead-a",
    "police_liaison": "demo-police-a",
    "dpj_reporter": "demo-dpj-a",
    "privacy_officer": "demo-privacy-a",
    "auditor": "demo-auditor",
    "admin": "demo-admin",
    "anonymous": None,
}

# Who each tag of the document is for.
AUDIENCES = {
    "school": ["school_staff", "school_lead"],
    "police": ["police_liaison"],
    "dpj": ["dpj_reporter"],
    "audit": ["auditor"],
    "privacy": ["privacy_officer"],
    "admin": ["admin"],
}

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
]


def _label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.fixture
def world(client, login, demo, db):
    """Real resources for the fuzzer to reach (``reachable_world``), as the
    values of path parameters and of body fields."""
    reached = reachable_world(Desk(client, login, demo), db)
    path_values = {
        "case_id": [reached["case_id"], reached["handed_off_id"]],
        **{
            name: [reached[name]]
            for name in (
                "participant_id",
                "device_id",
                "board_id",
                "school_id",
                "force_id",
                "agreement_id",
                "user_id",
                "account_id",
            )
        },
        "version": [1],
        "level": ["explorer"],
    }
    body_values = {
        "school_id": str(demo.school_a),
        "board_id": str(demo.board_a),
        "police_force_id": str(demo.force_a),
        "participant_id": reached["participant_id"],
        "owner_participant_id": reached["participant_id"],
        "user_id": str(demo.users["demo-staff-a2"]),
    }
    return path_values, body_values


def _strategy(operation, path_values):
    """Valid and invalid requests, to the real resources (twice as often as
    the rest) and to random ids."""
    names = [p.name for p in operation.path_parameters]
    fixed = {name: st.sampled_from(path_values[name]) for name in names if name in path_values}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if fixed:
            real = st.fixed_dictionaries(fixed).flatmap(
                lambda values, mode=mode: operation.as_strategy(generation_mode=mode, path_parameters=values)
            )
            strategies += [real, real]
        strategies.append(operation.as_strategy(generation_mode=mode))
    return st.one_of(strategies)


def _callers(operation) -> list[str]:
    """Every caller once, and the operation's audience as often again."""
    tags = operation.definition.raw.get("tags", [])
    audience = [role for tag in tags for role in AUDIENCES.get(tag, [])]
    return list(CALLERS) + audience * (len(CALLERS) // len(audience) if audience else 0)


def _octets(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _send(client, kwargs):
    """The request schemathesis prepared (``requests`` arguments), sent with
    the test client."""
    kwargs = dict(kwargs)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    # Header values go out as the octets a client would send (latin-1), which
    # the test client takes only as bytes beyond ASCII.
    kwargs["headers"] = {name: _octets(value) for name, value in kwargs.get("headers", {}).items()}
    data = kwargs.pop("data", None)
    if isinstance(data, (bytes, str)):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return client.request(**kwargs)


@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_the_service_answers_as_documented(operation, client, login, world, database_url):
    path_values, body_values = world
    tokens = {role: (login(user) if user else {}) for role, user in CALLERS.items()}
    audited_before = table_counts(database_url)["audit_entry"]
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not LONG_CAMPAIGN,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=_strategy(operation, path_values), role=st.sampled_from(_callers(operation)), real_body=st.booleans())
    def campaign(case, role, real_body):
        nonlocal sent
        if (
            real_body
            and case.meta is not None
            and case.meta.generation.mode.is_positive
            and isinstance(case.body, dict)
        ):
            case.body = {k: body_values.get(k, v) for k, v in case.body.items()}
        note(f"as {role} ({CALLERS[role] or 'no token'})")
        kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=tokens[role])
        response = _send(client, kwargs)
        sent += operation.path.startswith("/api/")  # the health probes are not audited
        case.validate_response(response, checks=CHECKS, headers=kwargs["headers"])

    campaign()
    verify_chain(database_url)
    audited = table_counts(database_url)["audit_entry"] - audited_before
    assert audited == sent, f"{sent} requests, {audited} audit entries"


# --- what fuzzing found (fixed) ---------------------------------------------------------------


def test_a_cursor_beyond_64_bits_on_the_case_access_log_is_refused(client, login, demo):
    case = Desk(client, login, demo).open_case()
    response = client.get(
        f"/api/v1/cases/{case['id']}/access-log", params={"cursor": "9" * 20}, headers=login("demo-lead-a")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("invalid_cursor", "validation_failed")


def test_the_audit_log_filters_take_only_rfc3339_times(client, login):
    response = client.get("/api/v1/audit/events", params={"until": "477491338"}, headers=login("demo-auditor"))
    assert response.status_code == 422, response.text


def test_a_text_over_its_documented_length_is_refused_even_when_it_ends_in_whitespace(client, login, demo):
    case = Desk(client, login, demo).open_case()
    response = client.post(
        f"/api/v1/cases/{case['id']}/notes", json={"text": "Note" + "\n" * 4000}, headers=login("demo-staff-a")
    )
    assert response.status_code == 422, response.text


def test_a_nul_in_an_audit_filter_is_refused(client, login):
    for path in ("/api/v1/audit/events", "/api/v1/audit/export"):
        for name in ("case_id", "actor_id", "action"):
            response = client.get(path, params={name: "a\x00b"}, headers=login("demo-auditor"))
            assert response.status_code == 422, (path, name, response.text)


def test_an_audit_entry_id_beyond_64_bits_is_refused(client, login):
    body = {
        "information_involved": "x",
        "circumstances": "x",
        "occurred_from": "2026-11-18",
        "discovered_on": "2026-11-19",
        "audit_entry_ids": [2**127],
    }
    response = client.post("/api/v1/privacy/incidents", json=body, headers=login("demo-privacy-a"))
    assert response.status_code == 422, response.text
