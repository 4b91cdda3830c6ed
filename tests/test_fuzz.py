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

import base64
import json
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.schemas import EARLIEST_INSTANT, LATEST_INSTANT
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


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Values at and beyond the bounds of query parameters (#13 item 9): numbers
# beyond 64 bits, instants beyond the calendar once their offset is applied,
# cursors (a feed's "txid:id", a list's [instant, id]) holding such values.
BOUNDARY_VALUES = {
    "25 nines": "9" * 25,
    "19 digits": "9" * 19,
    "20 digits": "9" * 20,
    "2**63": str(2**63),
    "-1": "-1",
    "latest instant at -23:59": "9999-12-31T23:59:59-23:59",
    "earliest instant at +14:00": "0001-01-01T00:00:00+14:00",
    "very long": "9" * 5000,
    "feed cursor, 25 nines": _b64("9" * 25 + ":1"),
    "feed cursor, 19 digits": _b64("9" * 19 + ":" + "9" * 19),
    "feed cursor, 20 digits": _b64("1:" + "9" * 20),
    "list cursor, latest instant": _b64(
        json.dumps(["9999-12-31T23:59:59-23:59", "00000000-0000-4000-8000-000000000000"])
    ),
    "list cursor, earliest instant": _b64(
        json.dumps(["0001-01-01T00:00:00+14:00", "00000000-0000-4000-8000-000000000000"])
    ),
    "empty": "",
}


def _with_boundaries(operation, strategy):
    """Valid requests with one or two query parameters at a boundary, half
    of the time."""
    names = [parameter.name for parameter in operation.query]
    if not names:
        return strategy
    values = st.dictionaries(st.sampled_from(names), st.sampled_from(list(BOUNDARY_VALUES.values())), min_size=1)

    def at_boundary(pair):
        case, chosen = pair
        case.query = {**(case.query or {}), **chosen}
        return case

    return st.one_of(strategy, st.tuples(strategy, values).map(at_boundary))


def _strategy(operation, path_values):
    """Valid and invalid requests, to the real resources (twice as often as
    the rest) and to random ids; valid ones with query parameters at their
    bounds too."""
    names = [p.name for p in operation.path_parameters]
    fixed = {name: st.sampled_from(path_values[name]) for name in names if name in path_values}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # A negative request stays negative: a boundary value might replace what made it so.
        shaped = (lambda strategy: _with_boundaries(operation, strategy)) if mode is GenerationMode.POSITIVE else None
        if fixed:
            real = st.fixed_dictionaries(fixed).flatmap(
                lambda values, mode=mode: operation.as_strategy(generation_mode=mode, path_parameters=values)
            )
            strategies += [shaped(real) if shaped else real] * 2
        anywhere = operation.as_strategy(generation_mode=mode)
        strategies.append(shaped(anywhere) if shaped else anywhere)
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


def _query_schema(parameter) -> dict:
    """A query parameter's schema, its null branch aside and references resolved."""
    schema = parameter.definition.get("schema") or {}
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    option = options[0] if options else {}
    if "$ref" in option:
        option = schema.get("x-bundled", {}).get(option["$ref"].rsplit("/", 1)[-1], option)
    return option


def _must_refuse(parameter, label: str) -> bool:
    """Whether a boundary value is invalid for the parameter, whatever else
    the request says: every one but the empty value for a cursor, an id, an
    instant, a number, a boolean or a choice; one over its length for text."""
    if label == "empty":
        return False
    schema = _query_schema(parameter)
    if parameter.name == "cursor" or "format" in schema or "enum" in schema or schema.get("type") != "string":
        return True
    return label == "very long" and schema.get("maxLength", len(BOUNDARY_VALUES[label])) < len(BOUNDARY_VALUES[label])


NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
QUERIED = [operation for operation in OPERATIONS if list(operation.query)]


@pytest.mark.parametrize("operation", QUERIED, ids=_label)
def test_every_query_parameter_is_bounded(operation, client, login, world):
    """Each query parameter of each operation, at each boundary value, sent to
    real resources by the operation's audience: never a 5xx, and a 422 for
    every value outside the parameter's bounds (when the request without it
    is answered)."""
    path_values, _ = world
    ids = {p.name: path_values.get(p.name, [NO_SUCH_ID])[0] for p in operation.path_parameters}
    path = operation.path.format(**ids)
    # A caller who is answered, when one of the audience is: the request goes all the way.
    for role in dict.fromkeys(reversed(_callers(operation))):
        headers = login(CALLERS[role]) if CALLERS[role] else {}
        answered = client.get(path, headers=headers).status_code == 200
        if answered:
            break
    for parameter in operation.query:
        for label, value in BOUNDARY_VALUES.items():
            response = client.get(path, params={parameter.name: value}, headers=headers)
            assert response.status_code < 500, (parameter.name, label, response.text)
            if answered and _must_refuse(parameter, label):
                assert response.status_code == 422, (parameter.name, label, response.status_code)


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


def test_an_instant_out_of_range_is_named_with_the_range(client, login):
    """The message states the bounds the validator holds (``app.schemas``)."""
    response = client.get(
        "/api/v1/audit/events",
        params={"since": "1969-12-31T23:59:59Z"},
        headers={**login("demo-auditor"), "Accept-Language": "en"},
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "instant_range"
    for bound in (EARLIEST_INSTANT, LATEST_INSTANT):
        assert bound.isoformat().replace("+00:00", "Z") in error["detail"]
