"""The bad-input campaign: nothing lost, nothing stored.

Every bad request below gets an RFC 9457 problem document with a stable
``type`` and ``code`` (checked against the committed document's schema),
and leaves every table as it was, but for exactly one audit entry per
refusal; the audit chain still verifies afterwards.  Text that merely looks
like SQL or HTML is valid text: stored and returned verbatim, never run.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from app.schemas import PROTOCOL_CONFIRMATIONS
from tests import media_corpus
from tests.conftest import write_routes
from tests.integrity import assert_problem, assert_unchanged, table_counts, verify_chain
from tests.protocol_helpers import answers, reachable_world

STAFF, LEAD, POLICE, ADMIN, AUDITOR = "demo-staff-a", "demo-lead-a", "demo-police-a", "demo-admin", "demo-auditor"
JSON = {"Content-Type": "application/json"}


class Campaign:
    """Sends bad requests, counts them, and checks afterwards that nothing but
    their audit entries was stored."""

    def __init__(self, client, login, database_url, world) -> None:
        self.client, self.login, self.database_url, self.world = client, login, database_url, world
        for user in (STAFF, LEAD, POLICE, ADMIN, AUDITOR):
            login(user)  # signed in before the snapshot: sign-ins are audited too
        self.sent = 0
        self.before = table_counts(database_url)

    def send(self, method: str, path: str, user: str | None = STAFF, *, headers=None, **kwargs):
        all_headers = {**(self.login(user) if user else {}), **(headers or {})}
        if method == "POST" and path != "/api/v1/auth/token":
            # A refused request keeps no idempotent answer either.
            all_headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        self.sent += 1
        return self.client.request(method, path, headers=all_headers, **kwargs)

    def raw(
        self, method: str, path: str, body: bytes, user: str | None = STAFF, content_type: str = "application/json"
    ):
        return self.send(method, path, user, headers={"Content-Type": content_type}, content=body)

    def nothing_stored(self) -> None:
        assert_unchanged(self.before, table_counts(self.database_url), audited=self.sent)
        verify_chain(self.database_url)


@pytest.fixture
def world(desk, db):
    return reachable_world(desk, db)


@pytest.fixture
def campaign(client, login, database_url, world):
    return Campaign(client, login, database_url, world)


def _case_body(world, **overrides):
    body = {
        "school_id": world["school_id"],
        "reporter_type": "student",
        "channel": "in_person",
        "place": "school",
        "summary": "Une photo circulerait dans une conversation de groupe.",
    }
    body.update(overrides)
    return body


# Every POST and PATCH route that takes a JSON body: who may call it, and a
# body it accepts.  Extra fields are added to that body.
WRITE_ROUTES = {
    "create_board": ("POST", "/boards", ADMIN, lambda w: {"name": "CSS des Cascades"}),
    "update_board": ("PATCH", "/boards/{board_id}", ADMIN, lambda w: {"name": "CSS renommé"}),
    "create_police_force": ("POST", "/police-forces", ADMIN, lambda w: {"name": "Police des Cascades"}),
    "update_police_force": ("PATCH", "/police-forces/{force_id}", ADMIN, lambda w: {"name": "Police renommée"}),
    "create_school": (
        "POST",
        "/schools",
        ADMIN,
        lambda w: {"name": "École des Cascades", "board_id": w["board_id"], "police_force_id": w["force_id"]},
    ),
    "update_school": ("PATCH", "/schools/{school_id}", ADMIN, lambda w: {"name": "École renommée"}),
    "create_agreement": (
        "POST",
        "/agreements",
        ADMIN,
        lambda w: {
            "police_force_id": w["force_b"],
            "reference": "DPCP-B-1",
            "starts_on": "2026-01-01",
            "ends_on": "2028-01-01",
        },
    ),
    "update_agreement": ("PATCH", "/agreements/{agreement_id}", ADMIN, lambda w: {"reference": "DPCP-A-2"}),
    "create_user": (
        "POST",
        "/users",
        ADMIN,
        lambda w: {
            "username": "nouvelle-intervenante",
            "full_name": "Nouvelle Intervenante",
            "role": "school_staff",
            "password": "une longue phrase de passe 2026",
            "scope": {"schools": [w["school_id"]]},
        },
    ),
    "update_user": ("PATCH", "/users/{user_id}", ADMIN, lambda w: {"full_name": "Sophie Corrigée"}),
    "record_attestation": (
        "POST",
        "/users/{user_id}/attestations",
        ADMIN,
        lambda w: {
            "level": "architect",
            "obtained_on": "2026-01-10",
            "badge_url": "https://badges.example.org/sexto/architecte/9",
        },
    ),
    "create_service_account": (
        "POST",
        "/service-accounts",
        ADMIN,
        lambda w: {
            "name": "Portail de police A",
            "role": "police_liaison",
            "scope": {"police_forces": [w["force_id"]]},
        },
    ),
    "update_service_account": ("PATCH", "/service-accounts/{account_id}", ADMIN, lambda w: {"name": "SI renommé"}),
    "open_case": ("POST", "/cases", STAFF, _case_body),
    "update_case": ("PATCH", "/cases/{case_id}", STAFF, lambda w: {"summary": "Précision : envoyée vendredi soir."}),
    "take_transition": ("POST", "/cases/{case_id}/transitions", STAFF, lambda w: {"action": "start_evaluation"}),
    "acknowledge": (
        "POST",
        "/cases/{handed_off_id}/acknowledgement",
        POLICE,
        lambda w: {"police_file_number": "PF-2026-1"},
    ),
    "record_police_outcome": (
        "POST",
        "/cases/{handed_off_id}/police-outcome",
        POLICE,
        lambda w: {"dcpp_decision": "impulsive", "dcpp_decided_on": "2026-11-24"},
    ),
    "add_team_member": ("POST", "/cases/{case_id}/team", LEAD, lambda w: {"user_id": w["user_id"]}),
    "add_participant": (
        "POST",
        "/cases/{case_id}/participants",
        STAFF,
        lambda w: {"role": "witness", "is_minor": True, "name": "Élève Témoin"},
    ),
    "flag_participant": (
        "POST",
        "/cases/{case_id}/participants/{participant_id}/flags",
        STAFF,
        lambda w: {"kind": "refused", "reason": "Refuse de rencontrer l'intervenant."},
    ),
    "submit_grid": (
        "POST",
        "/cases/{case_id}/grids",
        STAFF,
        lambda w: {"participant_id": w["participant_id"], "template_version": 1, "answers": answers()},
    ),
    "confiscate_device": (
        "POST",
        "/cases/{case_id}/devices",
        STAFF,
        lambda w: {
            "kind": "tablet",
            "description": "Tablette grise",
            "owner_participant_id": w["participant_id"],
            "switched_off_confirmed": True,
            "content_not_viewed": True,
        },
    ),
    "record_custody_event": (
        "POST",
        "/devices/{device_id}/custody-events",
        STAFF,
        lambda w: {"kind": "stored", "seal_number": "SC-0002", "storage_location": "Coffre de la direction"},
    ),
    "record_contact": (
        "POST",
        "/cases/{case_id}/contacts",
        STAFF,
        lambda w: {
            "kind": "parent_notification",
            "participant_id": w["participant_id"],
            "guardian_relationship": "mother",
            "method": "phone",
            "occurred_at": "2026-11-20T16:00:00Z",
        },
    ),
    "add_note": ("POST", "/cases/{case_id}/notes", STAFF, lambda w: {"text": "Rencontre de soutien avec l'élève."}),
}

# Fields the server owns, on one resource or another: never settable by a client.
SERVER_OWNED = {
    "id": "00000000-0000-4000-8000-000000000001",
    "status": "closed",
    "flags": ["csam_suspected"],
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "closed_at": "2020-01-01T00:00:00Z",
    "version": 99,
    "reference": "SX-1999-00001",
    "audit": {"outcome": "allowed"},
    "author_id": "00000000-0000-4000-8000-000000000002",
    "created_by": "00000000-0000-4000-8000-000000000002",
    "handed_off_at": "2020-01-01T00:00:00Z",
    "police_acknowledged_at": "2020-01-01T00:00:00Z",
    "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
    "secret_hash": "x",
    "is_superuser": True,
    "events": [],
}


def _path(template: str, world: dict[str, str]) -> str:
    return "/api/v1" + template.format(**world)


def _documented_properties(method: str, template: str) -> set[str]:
    from tests.integrity import committed_document

    document = committed_document()
    operation = document["paths"]["/api/v1" + template.replace("{handed_off_id}", "{case_id}")][method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    names: set[str] = set()
    pending = [schema]
    while pending:
        current = pending.pop()
        if "$ref" in current:
            current = document["components"]["schemas"][current["$ref"].rsplit("/", 1)[1]]
        names.update(current.get("properties", {}))
        pending.extend(current.get("anyOf", []) + current.get("oneOf", []))
    return names


# --- mass assignment and unknown fields ----------------------------------------------------


@pytest.mark.parametrize("route", sorted(WRITE_ROUTES))
def test_server_owned_and_unknown_fields_are_refused_on_every_write_route(route, campaign, world):
    method, template, user, make_body = WRITE_ROUTES[route]
    path = _path(template, world)
    allowed = _documented_properties(method, template)
    smuggled = {name: value for name, value in SERVER_OWNED.items() if name not in allowed}
    smuggled["unknown_field"] = "x"
    smuggled["Status"] = "closed"
    assert len(smuggled) > 10
    for name, value in smuggled.items():
        response = campaign.send(method, path, user, json={**make_body(world), name: value})
        body = assert_problem(response, 422, "validation_failed")
        # (a body that is one of several kinds names the kind: body.<kind>.<name>)
        named = [e for e in body["errors"] if e["field"] == f"body.{name}" or e["field"].endswith(f".{name}")]
        assert named and all(e["code"] == "extra_forbidden" for e in named), body
    # All of them at once, and nested one level down where the body nests.
    response = campaign.send(method, path, user, json={**make_body(world), **smuggled})
    assert_problem(response, 422, "validation_failed")
    campaign.nothing_stored()
    # The same body without them is accepted: the extra fields were the only fault.
    accepted = campaign.send(method, path, user, json=make_body(world))
    assert accepted.status_code in (200, 201), (route, accepted.status_code, accepted.text)


NESTED_UNKNOWN = {
    "user_scope": (
        "create_user",
        lambda w: {**WRITE_ROUTES["create_user"][3](w), "scope": {"schools": [w["school_id"]], "everywhere": True}},
    ),
    "service_account_scope": (
        "create_service_account",
        lambda w: {"name": "SI", "role": "school_lead", "scope": {"boards": [w["board_id"]], "admin": True}},
    ),
    "contact_kind": (
        "record_contact",
        lambda w: {
            "kind": "dpj_report",
            "occurred_at": "2026-11-20T16:00:00Z",
            "region": "Laurentides",
            "reference": "DPJ-1",
            "case_status": "closed",
        },
    ),
    "grid_answers": (
        "submit_grid",
        lambda w: {**WRITE_ROUTES["submit_grid"][3](w), "answers": {**answers(), "flags": ["csam_suspected"]}},
    ),
}


def test_unknown_fields_nested_in_a_body_are_refused(campaign, world):
    for name, (route, body) in NESTED_UNKNOWN.items():
        method, template, user, _ = WRITE_ROUTES[route]
        response = campaign.send(method, _path(template, world), user, json=body(world))
        assert_problem(response, 422, ("validation_failed", "grid_invalid"), context=name)
    campaign.nothing_stored()


def test_every_write_route_refuses_server_owned_fields_whoever_calls(client, login, database_url):
    """A sweep of every POST, PUT and PATCH route the app serves (new ones too),
    with random ids: never a success, always a problem document."""
    callers = [login(user) for user in (ADMIN, STAFF, LEAD, POLICE, "demo-dpj-a", "demo-privacy-a", AUDITOR)]
    before = table_counts(database_url)
    sent = 0
    for method, path, template in write_routes(client.app):
        reached = 0
        for headers in callers:
            response = client.request(method, path, json={**SERVER_OWNED, "unknown_field": 1}, headers=headers)
            sent += 1
            if response.status_code == 403:  # a role the route never serves: refused before its body is read
                assert_problem(response, 403, "forbidden", context=template)
                continue
            assert_problem(response, 422, ("validation_failed", "device_not_switched_off"), context=template)
            reached += 1
        assert reached, f"no caller reached the body of {method} {template}"
    assert sent > 60
    assert_unchanged(before, table_counts(database_url), audited=sent)
    verify_chain(database_url)


def test_server_owned_fields_in_the_query_string_are_ignored(campaign, world, client, login):
    created = client.post(
        "/api/v1/cases?status=closed&flags=csam_suspected&id=00000000-0000-4000-8000-000000000001&reference=SX-1999-00001",
        json=_case_body(world),
        headers=login(STAFF),
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["status"] == "reported" and case["flags"] == []
    assert case["id"] != "00000000-0000-4000-8000-000000000001" and case["reference"] != "SX-1999-00001"


# --- sizes ---------------------------------------------------------------------------------


def test_oversized_bodies_are_refused_declared_or_streamed(campaign, settings):
    limit = settings.max_body_bytes
    path = _path("/cases/{case_id}/notes", campaign.world)
    big = json.dumps({"text": "x" * (limit + 1)}).encode()
    assert_problem(campaign.raw("POST", path, big), 413, "payload_too_large")

    def chunks():
        for start in range(0, len(big), 16384):
            yield big[start : start + 16384]

    assert_problem(campaign.send("POST", path, STAFF, headers=JSON, content=chunks()), 413, "payload_too_large")
    # Far over the limit, on a route without a body, without a token, on an unknown route.
    huge = b"[" + b"0," * (2 * limit) + b"0]"
    assert_problem(campaign.raw("POST", "/api/v1/cases", huge, user=None), 413, "payload_too_large")
    assert_problem(campaign.raw("POST", "/api/v1/nowhere", huge), 413, "payload_too_large")
    assert_problem(campaign.raw("PATCH", _path("/cases/{case_id}", campaign.world), huge), 413, "payload_too_large")
    campaign.nothing_stored()


def test_a_body_just_under_the_limit_is_read_and_judged_on_its_content(campaign, settings):
    path = _path("/cases/{case_id}/notes", campaign.world)
    body = json.dumps({"text": "x" * (settings.max_body_bytes - 20)}).encode()
    assert len(body) <= settings.max_body_bytes
    assert_problem(campaign.raw("POST", path, body), 422, "validation_failed")
    campaign.nothing_stored()


def test_very_long_strings_are_refused(campaign, world):
    for route, field in (
        ("add_note", "text"),
        ("open_case", "summary"),
        ("add_participant", "name"),
        ("create_board", "name"),
        ("record_custody_event", "note"),
    ):
        method, template, user, make_body = WRITE_ROUTES[route]
        for length in (4_001, 100_000):
            response = campaign.send(
                method, _path(template, world), user, json={**make_body(world), field: "é" * length}
            )
            body = assert_problem(response, 422, "validation_failed", context=route)
            assert any(e["field"] == f"body.{field}" and e["code"] == "string_too_long" for e in body["errors"]), body
    campaign.nothing_stored()


def test_very_long_credentials_are_refused_at_sign_in(campaign):
    for username, password in (("x" * 100_000, "y"), ("demo-staff-a", "p" * 100_000), ("é" * 20_000, "é" * 20_000)):
        response = campaign.send(
            "POST",
            "/api/v1/auth/token",
            None,
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert_problem(response, 422, "validation_failed", context=len(username))
    campaign.nothing_stored()


# --- malformed JSON --------------------------------------------------------------------------


def _nested(depth: int, opener: str, closer: str, inner: str = "0") -> bytes:
    return (opener * depth + inner + closer * depth).encode()


def test_deeply_nested_json_is_refused(campaign, settings):
    path = _path("/cases/{case_id}/notes", campaign.world)
    for depth in (33, 100, 900, 10_000, 100_000):
        for body in (
            _nested(depth, "[", "]"),
            _nested(depth, '{"a":', "}"),
            b'{"text": "ok", "extra": ' + _nested(depth, "[", "]") + b"}",
            b'{"text": ' + _nested(depth, '{"a":', "}", '"x"') + b"}",
        ):
            body = body[: settings.max_body_bytes]  # cut short, it is refused all the same
            assert_problem(campaign.raw("POST", path, body), 422, "invalid_json", context=(depth, body[:20]))
    campaign.nothing_stored()


MALFORMED = {
    "truncated": (b'{"text": ', "invalid_json"),
    "trailing_comma": (b'{"text": "a",}', "invalid_json"),
    "single_quotes": (b"{'text': 'a'}", "invalid_json"),
    "trailing_garbage": (b'{"text": "a"} trailing', "invalid_json"),
    "raw_control_character": (b'{"text": "\x01"}', "invalid_json"),
    "raw_tab": (b'{"text": "tab\there"}', "invalid_json"),
    "bad_escape": (b'{"text": "\\x41"}', "invalid_json"),
    "comment": (b'{"text": "a" /* note */}', "invalid_json"),
    "empty": (b"", "validation_failed"),
    "null": (b"null", "validation_failed"),
    "array": (b"[]", "validation_failed"),
    "string": (b'"text"', "validation_failed"),
    "number": (b"42", "validation_failed"),
    "boolean": (b"true", "validation_failed"),
}


def test_malformed_json_is_refused(campaign):
    for name, (body, code) in MALFORMED.items():
        response = campaign.raw("POST", _path("/cases/{case_id}/notes", campaign.world), body)
        assert_problem(response, 422, code, context=name)
    campaign.nothing_stored()


# --- numbers -------------------------------------------------------------------------------

HUGE_NUMBERS = {
    "float_overflow": b"1e400",
    "negative_float_overflow": b"-1e400",
    "integer_400_digits": str(10**400).encode(),
    "integer_5000_digits": b"9" * 5000,
    "nan": b"NaN",
    "infinity": b"Infinity",
    "negative_infinity": b"-Infinity",
    "beyond_int64": str(2**63).encode(),
}


def test_huge_and_non_finite_numbers_are_refused(campaign, world):
    grid = json.dumps({"participant_id": world["participant_id"], "template_version": 1, "answers": answers()})
    bodies = {
        "template_version": (
            "/cases/{case_id}/grids",
            grid.replace('"template_version": 1', '"template_version": __N__'),
        ),
        "depicted_ages": (
            "/cases/{case_id}/grids",
            grid.replace('"depicted_ages": "unknown"', '"depicted_ages": [__N__]'),
        ),
        "text": ("/cases/{case_id}/notes", '{"text": __N__}'),
        "unknown_field": ("/cases/{case_id}/notes", '{"text": "ok", "n": __N__}'),
    }
    assert all("__N__" in text for _, text in bodies.values())
    for name, token in HUGE_NUMBERS.items():
        for field, (template, text) in bodies.items():
            response = campaign.raw("POST", _path(template, world), text.replace("__N__", token.decode()).encode())
            # NaN, Infinity and numbers beyond the double range are not I-JSON;
            # 2**63 and 10**400 are JSON, refused by the field that gets them.
            expected = (
                ("validation_failed", "grid_invalid", "unknown_grid_version")
                if name in ("beyond_int64", "integer_400_digits")
                else "invalid_json"
            )
            assert_problem(response, 422, expected, context=(name, field))
        response = campaign.send("GET", f"/api/v1/cases?limit={token.decode()}")
        assert_problem(response, 422, "validation_failed", context=(name, "limit"))
    campaign.nothing_stored()


def test_look_alike_json_types_are_refused(campaign, world):
    """``true`` is no integer, ``"yes"`` or 1 no boolean, a number no date or
    id: pydantic's lax mode would convert them (found by fuzzing)."""
    attempts = [
        ("submit_grid", "template_version", True, "int_type"),
        ("submit_grid", "template_version", "1", "int_type"),
        ("submit_grid", "template_version", 1.5, "int_type"),
        ("add_participant", "is_minor", "yes", "bool_type"),
        ("add_participant", "is_minor", 1, "bool_type"),
        ("add_participant", "supersedes", 123, "uuid_type"),
        ("confiscate_device", "switched_off_confirmed", 1, "bool_type"),  # Literal[True]
        ("confiscate_device", "content_not_viewed", 1.0, "bool_type"),
        ("record_contact_media_inquiry", "referred_to_communications", 1, "bool_type"),
        ("record_police_outcome", "close_police_part", "on", "bool_type"),
        ("record_police_outcome", "dcpp_decided_on", 20000, "date_type"),
        ("record_contact", "occurred_at", 1700000000, "datetime_type"),
        ("record_attestation", "obtained_on", 20000, "date_type"),
        ("create_agreement", "starts_on", 1700000000.0, "date_type"),
    ]
    media_inquiry = {"kind": "media_inquiry", "occurred_at": "2026-11-21T09:00:00Z", "referred_to_communications": True}
    routes = {
        **WRITE_ROUTES,
        "record_contact_media_inquiry": (*WRITE_ROUTES["record_contact"][:3], lambda w: media_inquiry),
    }
    for route, field, value, error in attempts:
        method, template, user, make_body = routes[route]
        response = campaign.send(method, _path(template, world), user, json={**make_body(world), field: value})
        # A protocol confirmation that is not `true` is the protocol rule's problem.
        expected = PROTOCOL_CONFIRMATIONS.get(field, "validation_failed")
        body = assert_problem(response, 422, expected, context=(route, field, value))
        assert [e["code"] for e in body["errors"]] == [error], body
        assert body["errors"][0]["field"].rsplit(".", 1)[-1] == field, body
    campaign.nothing_stored()
    # A whole number written as 1.0 is still an integer (JSON Schema).
    grid = {**WRITE_ROUTES["submit_grid"][3](world), "template_version": 1.0}
    assert campaign.send("POST", _path("/cases/{case_id}/grids", world), STAFF, json=grid).status_code == 201


# --- text encodings --------------------------------------------------------------------------

INVALID_UTF8 = {
    "lone_continuation": b'{"text": "abc\x80def"}',
    "truncated_sequence": b'{"text": "caf\xc3"}',
    "overlong_slash": b'{"text": "\xc0\xaf"}',
    "encoded_surrogate": b'{"text": "\xed\xa0\x80"}',
    "beyond_unicode": b'{"text": "\xf4\x90\x80\x80"}',
    "latin1_accent": '{"text": "élève"}'.encode("latin-1"),
    "ff_fe": b'{"text": "\xff\xfe"}',
    "utf16_body": '{"text": "bonjour"}'.encode("utf-16"),
    "utf32_body": '{"text": "bonjour"}'.encode("utf-32"),
    "jpeg_bytes_labelled_json": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01",
}


def test_bodies_that_are_not_utf8_are_refused(campaign):
    for name, body in INVALID_UTF8.items():
        response = campaign.raw("POST", _path("/cases/{case_id}/notes", campaign.world), body)
        assert_problem(response, 422, "invalid_json", context=name)
    campaign.nothing_stored()


def test_unpaired_surrogates_are_refused(campaign, world):
    """Valid JSON escapes, but no Unicode text: nothing could store them."""
    for text in ('"\\ud800"', '"abc\\udfff"', '"\\udc00\\ud800"', '"\\ud83d"', '"\\uDBFF!"'):
        for route, field in (
            ("add_note", "text"),
            ("open_case", "summary"),
            ("add_participant", "name"),
            ("submit_grid", "answers"),
        ):
            method, template, user, make_body = WRITE_ROUTES[route]
            base = make_body(world)
            if field == "answers":
                base["answers"]["nature"]["content_described"] = "__T__"
            else:
                base[field] = "__T__"
            body = json.dumps(base).replace('"__T__"', text)
            response = campaign.raw(method, _path(template, world), body.encode(), user=user)
            assert_problem(response, 422, "invalid_json", context=(route, text))
    campaign.nothing_stored()


def test_duplicate_keys_are_refused(campaign, world):
    path = _path("/cases/{case_id}/notes", world)
    for body in (
        b'{"text": "premier", "text": "second"}',
        b'{"text": "ok", "text": "data:image/png;base64,iVBORw0KGgo"}',
        b'{"text": "data:image/png;base64,iVBORw0KGgo", "text": "ok"}',
    ):
        assert_problem(campaign.raw("POST", path, body), 422, "invalid_json")
    campaign.nothing_stored()


NUL_BODIES = {
    "raw_nul": (b'{"text": "avant\x00apres"}', "invalid_json"),  # a raw control character is not JSON
    "escaped_nul": (b'{"text": "avant\\u0000apres"}', "nul_character"),
    "only_nul": (b'{"text": "\\u0000"}', "nul_character"),
    "nul_in_key": (b'{"text\\u0000": "x"}', "nul_character"),
    "nul_in_unknown_key": (b'{"text": "ok", "n\\u0000": 1}', "nul_character"),
    # Bytes that open with a NUL would be read as UTF-16 or UTF-32 (found by fuzzing).
    "leading_nul_bytes": (b"\x00\x00\x00\x0cjP  ", "invalid_json"),
    "nul_second_byte": (b'{\x00"text": "x"}', "invalid_json"),
    "nul_after_the_object": (b'{"text": "x"}\x00', "invalid_json"),
}


def test_nul_characters_are_refused(campaign):
    for name, (body, code) in NUL_BODIES.items():
        for method, template in (("POST", "/cases/{case_id}/notes"), ("PATCH", "/cases/{case_id}")):
            response = campaign.raw(method, _path(template, campaign.world), body)
            assert_problem(response, 422, code, context=(name, method))
    campaign.nothing_stored()


def test_nul_characters_are_refused_in_every_text_field_kind(campaign, world):
    attempts = [
        ("open_case", "summary"),
        ("add_participant", "name"),
        ("update_case", "summary"),
        ("create_board", "name"),
        ("record_custody_event", "note"),
        ("flag_participant", "reason"),
    ]
    for route, field in attempts:
        method, template, user, make_body = WRITE_ROUTES[route]
        response = campaign.send(method, _path(template, world), user, json={**make_body(world), field: "a\u0000b"})
        assert_problem(response, 422, "nul_character")
    grid = WRITE_ROUTES["submit_grid"][3](world)
    grid["answers"]["nature"]["content_described"] = "x\u0000"
    assert_problem(
        campaign.send("POST", _path("/cases/{case_id}/grids", world), STAFF, json=grid), 422, "nul_character"
    )
    campaign.nothing_stored()


# --- content types ---------------------------------------------------------------------------

CONTENT_TYPES = [
    "image/jpeg",
    "image/png",
    "image/svg+xml",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "multipart/form-data; boundary=x",
    "multipart/mixed; boundary=x",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "application/pdf",
    "application/zip",
    "application/xml",
    "text/plain",
    "text/html",
    "text/csv",
    "garbage",
    "",
    "application/jsonx",
    "json",
]


def test_wrong_content_types_are_refused(campaign):
    json_body = json.dumps({"text": "Une note ordinaire."}).encode()
    for content_type in CONTENT_TYPES:
        for path, body in (
            (_path("/cases/{case_id}/notes", campaign.world), json_body),
            ("/api/v1/cases", json.dumps(_case_body(campaign.world)).encode()),
            (_path("/cases/{case_id}", campaign.world), json.dumps({"summary": "Précision."}).encode()),
            (_path("/cases/{case_id}/notes", campaign.world), b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ):
            method = "PATCH" if path.endswith(campaign.world["case_id"]) else "POST"
            response = campaign.raw(method, path, body, content_type=content_type)
            assert_problem(response, 415, "unsupported_media_type", context=(content_type, path))
    campaign.nothing_stored()


def test_a_body_without_a_content_type_is_refused(campaign):
    response = campaign.send(
        "POST",
        _path("/cases/{case_id}/notes", campaign.world),
        STAFF,
        content=json.dumps({"text": "Une note."}).encode(),
    )
    assert_problem(response, 415, "unsupported_media_type")
    campaign.nothing_stored()


def test_a_file_part_is_refused_on_every_route_that_takes_a_body(campaign, world):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
    for method, template, user, _ in WRITE_ROUTES.values():
        response = campaign.send(
            method, _path(template, world), user, files={"file": ("photo.jpg", jpeg, "image/jpeg")}, data={"text": "x"}
        )
        assert_problem(response, 415, "unsupported_media_type")
    response = campaign.send(
        "POST",
        "/api/v1/auth/token",
        None,
        files={"photo": ("a.jpg", jpeg, "image/jpeg")},
        data={"grant_type": "password", "username": STAFF, "password": "x"},
    )
    assert_problem(response, 415, "unsupported_media_type")
    campaign.nothing_stored()


# --- media smuggled in JSON text -------------------------------------------------------------

# One of each signature app.media knows (and where it sits), with bytes after it.
SIGNATURES = {
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "gif87": b"GIF87a\x01\x00\x01\x00",
    "gif89": b"GIF89a\x01\x00\x01\x00",
    "bmp": b"BM6\x00\x0c\x00\x00\x00\x00\x006\x00",
    "tiff_le": b"II*\x00\x08\x00\x00\x00",
    "tiff_be": b"MM\x00*\x00\x00\x00\x08",
    "ico": b"\x00\x00\x01\x00\x01\x00\x10\x10",
    "webm": b"\x1aE\xdf\xa3\x9fB\x86\x81",
    "ogg": b"OggS\x00\x02\x00\x00",
    "mp3_id3": b"ID3\x04\x00\x00\x00\x00",
    "mp3_frame_fb": b"\xff\xfb\x90\x64\x00\x00",
    "mp3_frame_f3": b"\xff\xf3\x90\x64\x00\x00",
    "mp3_frame_f2": b"\xff\xf2\x90\x64\x00\x00",
    "flac": b"fLaC\x00\x00\x00\x22",
    "flv": b"FLV\x01\x05\x00\x00\x00",
    "mpeg_ps": b"\x00\x00\x01\xba\x44\x00",
    "mpeg_video": b"\x00\x00\x01\xb3\x14\x00",
    "asf_wmv": b"0&\xb2u\x8ef\xcf\x11",
    "amr": b"#!AMR\n\x3c\x00",
    "mp4": b"\x00\x00\x00\x18ftypmp42",
    "mov": b"\x00\x00\x00\x14ftypqt  ",
    "heic": b"\x00\x00\x00\x18ftypheic",
    "avif": b"\x00\x00\x00\x1cftypavif",
    "3gp": b"\x00\x00\x00\x14ftyp3gp4",
    "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n",
    "photoshop": b"8BPS\x00\x01\x00\x00",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "avi": b"RIFF\x24\x00\x00\x00AVI LIST",
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "jpeg_xl": b"\x00\x00\x00\x0cJXL \r\n\x87\n\x00\x00",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">',
}
TAIL = bytes(range(256)) * 2


def _encodings(raw: bytes) -> dict[str, str]:
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    return {
        "base64": standard,
        "base64_unpadded": standard.rstrip("="),
        "base64_urlsafe": urlsafe,
        "base64_in_a_sentence": f"Voici la photo : {standard} (envoyée hier)",
        "base64_mime_lines": "\r\n".join(standard[i : i + 76] for i in range(0, len(standard), 76)),
        "base64_pem_lines": "\n".join(standard[i : i + 64] for i in range(0, len(standard), 64)),
    }


def test_the_samples_cover_every_signature_the_service_knows():
    from app import media

    for offset, magic in media._SIGNATURES:
        assert any(raw[offset : offset + len(magic)] == magic for raw in SIGNATURES.values()), magic
    for kind in media._RIFF_KINDS:
        assert any(raw[:4] == b"RIFF" and raw[8:12] == kind for raw in SIGNATURES.values()), kind


def test_base64_of_every_media_signature_is_refused(campaign):
    path = _path("/cases/{case_id}/notes", campaign.world)
    for signature, raw in SIGNATURES.items():
        for encoding, text in _encodings(raw + TAIL).items():
            response = campaign.send("POST", path, STAFF, json={"text": text})
            assert_problem(response, 422, "media_refused", context=(signature, encoding))
    campaign.nothing_stored()


DATA_URIS = {
    "png": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "upper_case": "DATA:IMAGE/JPEG;BASE64,/9j/4AAQSkZJRgABAQ",
    "spaces": "data: image/gif ;base64,R0lGODlhAQABAAAAACw=",
    "no_base64": "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    "video": "data:video/mp4;base64,AAAAGGZ0eXBtcDQy",
    "audio": "data:audio/mpeg;base64,SUQzBAAAAAAA",
    "octet_stream": "data:application/octet-stream;base64,AAAA",
    "charset_param": "data:image/png;charset=utf-8;base64,iVBORw0KGgo",
    "in_a_sentence": "Lien reçu : data:image/webp;base64,UklGRiQAAABXRUJQVlA4IA== à signaler",
    "in_markdown": "![photo](data:image/png;base64,iVBORw0KGgo)",
    "in_html": '<img src="data:image/png;base64,iVBORw0KGgo">',
    "percent_encoded": "https://example.org/voir?img=data%3Aimage%2Fpng%3Bbase64%2CiVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
    "percent_encoded_base64_only": "lien%3A%20iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ",
}


def test_data_uris_are_refused(campaign, world):
    for name, uri in DATA_URIS.items():
        # A JSON escape is still the same text once decoded.
        escaped = json.dumps({"text": uri}).replace("data", "\\u0064ata").replace("DATA", "\\u0044ATA")
        response = campaign.raw("POST", _path("/cases/{case_id}/notes", world), escaped.encode())
        assert_problem(response, 422, "media_refused", context=name)
        response = campaign.send("POST", "/api/v1/cases", STAFF, json=_case_body(world, summary=uri))
        assert_problem(response, 422, "media_refused", context=name)
    campaign.nothing_stored()


PNG_BASE64 = base64.b64encode(SIGNATURES["png"] + TAIL).decode()


def test_media_is_refused_wherever_it_sits_in_a_body(campaign, world):
    grid = WRITE_ROUTES["submit_grid"][3](world)
    nested = json.loads(json.dumps(grid))
    nested["answers"]["extent"]["platforms"] = ["snapchat", PNG_BASE64]
    as_key = json.loads(json.dumps(grid))
    as_key["answers"]["nature"][PNG_BASE64] = "x"
    attempts = [
        ("submit_grid", nested),
        ("submit_grid", as_key),
        ("add_note", {PNG_BASE64: "x"}),  # as an unknown key: media wins over the unknown field
        ("create_user", {**WRITE_ROUTES["create_user"][3](world), "full_name": "data:image/png;base64,iVBORw0KGgo"}),
        (
            "record_custody_event",
            {"kind": "stored", "seal_number": "SC-3", "storage_location": "Coffre", "note": PNG_BASE64},
        ),
        (
            "record_contact",
            {
                "kind": "media_inquiry",
                "occurred_at": "2026-11-21T09:00:00Z",
                "outlet": PNG_BASE64,
                "referred_to_communications": True,
            },
        ),
        ("take_transition", {"action": "hand_off", "police_officer": "data:image/jpeg;base64,/9j/4AAQ"}),
        ("update_case", {"summary": PNG_BASE64}),
    ]
    for route, body in attempts:
        method, template, user, _ = WRITE_ROUTES[route]
        assert_problem(campaign.send(method, _path(template, world), user, json=body), 422, "media_refused")
    campaign.nothing_stored()


LOOKS_ENCODED = [
    "Anticonstitutionnellement" * 3,
    "La photo a été partagée 25 fois ; le groupe Snapchat « 3e-sec-B » a 40 membres.",
    "QWxvcnMgw6dhIGZhaXQgcXVvaQ==",  # base64 of a French sentence, not of an image
    "https://example.org/aGVsbG8td29ybGQtdGhpcy1pcy1ub3QtYW4taW1hZ2U",
    "Le numéro de scellé est SC-2026-000123-ABCDEFGHIJKLMNOP.",
    "100 % des élèves du groupe l'ont reçue ; taux de 50%2C selon la direction.",
    "<svg> et <img> sont des balises : le texte les garde telles quelles.",
]


def test_text_that_merely_looks_encoded_is_accepted(desk, world):
    for text in LOOKS_ENCODED:
        created = desk.ok("POST", f"/cases/{world['case_id']}/notes", STAFF, 201, json={"text": text})
        assert created["text"] == text


# --- free text must be text: a corpus of real files, every encoding --------------------------


def _smuggled(world, route: int, text: str) -> tuple[str, dict]:
    """The text in a note, in a contact's note, or in a grid's answers (the
    template has no free-text answer; an extra one is refused for its media
    before it is refused as unknown)."""
    if route == 0:
        return _path("/cases/{case_id}/notes", world), {"text": text}
    if route == 1:
        contact = {
            "kind": "police_contact",
            "officer_name": "Agente Paquette",
            "method": "phone",
            "occurred_at": "2026-11-20T11:00:00Z",
            "note": text,
        }
        return _path("/cases/{case_id}/contacts", world), contact
    grid = WRITE_ROUTES["submit_grid"][3](world)
    grid["answers"]["nature"]["description"] = text
    return _path("/cases/{case_id}/grids", world), grid


def test_every_encoding_of_every_corpus_file_is_refused(campaign, world):
    """Each file of the corpus, in every alphabet, wrapping and shift, by
    turns in a note, a contact's note and a grid answer: 422, nothing stored."""
    sent = 0
    for name, raw in media_corpus.FILES.items():
        for encoding, text in media_corpus.encodings(raw).items():
            path, body = _smuggled(world, sent % 3, text)
            response = campaign.send("POST", path, STAFF, json=body)
            assert_problem(response, 422, "media_refused", context=(name, encoding, path))
            sent += 1
    assert sent > 16 * 25
    campaign.nothing_stored()


NO_MEDIA_TYPE = {
    "jpeg_base64": "data:;base64," + base64.b64encode(media_corpus.FILES["jpeg"]).decode(),
    "jpeg_percent": "data:," + "".join(f"%{byte:02X}" for byte in media_corpus.FILES["jpeg"][:40]),
    "empty": "data:,",
    "text": "data:text/plain,bonjour",
    "upper_case": "DATA:;BASE64,AAAA",
    "percent_encoded": "https://example.org/?u=data%3A%3Bbase64%2C%2F9j%2F4AAQ",
}


def test_data_uris_without_a_media_type_are_refused(campaign, world):
    for name, uri in NO_MEDIA_TYPE.items():
        path, body = _smuggled(world, 0, f"Lien reçu : {uri}")
        assert_problem(campaign.send("POST", path, STAFF, json=body), 422, "media_refused", context=name)
    campaign.nothing_stored()


def test_the_legitimate_corpus_is_accepted_verbatim(desk, world):
    case_id = world["case_id"]
    for text in media_corpus.LEGITIMATE:
        note = desk.ok("POST", f"/cases/{case_id}/notes", STAFF, 201, json={"text": text})
        assert note["text"] == text.strip()
        contact = {
            "kind": "police_contact",
            "officer_name": "Agente Paquette",
            "method": "phone",
            "occurred_at": "2026-11-20T11:00:00Z",
            "note": text,
        }
        stored = desk.ok("POST", f"/cases/{case_id}/contacts", STAFF, 201, json=contact)
        assert stored["details"]["note"] == text.strip()


# --- SQL- and HTML-looking text: valid, verbatim, never run -----------------------------------

LOOKALIKES = [
    "Robert'); DROP TABLE case_note;--",
    "' OR '1'='1' --",
    "1; DELETE FROM audit_entry WHERE 1=1; --",
    "x' UNION SELECT password_hash FROM app_user --",
    '" OR ""="',
    "%' AND 1=0 UNION ALL SELECT NULL--",
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">clic</a>',
    "{{7*7}} ${7*7} #{7*7} <%= 7*7 %>",
    "\\'; \\\"; \\\\; `rm -rf /`; $(reboot)",
    "Élève « à part » — 😀 עברית \u202eRTL\u202c zéro\u200blargeur e\u0301",
    "ligne 1\nligne 2\r\nligne 3\ttabulée",
]


def test_sql_and_html_looking_text_is_stored_and_returned_verbatim(desk, world, client, login, database_url):
    case_id = world["case_id"]
    other_case = desk.open_case()
    for text in LOOKALIKES:
        note = desk.ok("POST", f"/cases/{case_id}/notes", STAFF, 201, json={"text": text})
        assert note["text"] == text
        opened = desk.open_case(summary=text)
        assert opened["summary"] == text
        assert desk.ok("GET", f"/cases/{opened['id']}", STAFF)["summary"] == text
        patched = desk.ok("PATCH", f"/cases/{opened['id']}", STAFF, json={"summary": text + " (bis)"})
        assert patched["summary"] == text + " (bis)"
        person = desk.person(other_case, "witness", name=text[:200])
        assert person["name"] == text[:200]
    notes = desk.ok("GET", f"/cases/{case_id}/notes", STAFF, params={"limit": 100})["items"]
    assert [n["text"] for n in notes if n["text"] in LOOKALIKES] == LOOKALIKES
    people = desk.ok("GET", f"/cases/{other_case['id']}/participants", STAFF, params={"limit": 100})["items"]
    assert [p["name"] for p in people] == [text[:200] for text in LOOKALIKES]
    # Answers are JSON: never HTML-escaped, never a script.
    response = client.get(f"/api/v1/cases/{case_id}/notes", headers=login(STAFF))
    assert response.headers["content-type"].startswith("application/json")
    assert "&lt;" not in response.text and "&#" not in response.text
    # Nothing ran: every table is still there to count, the log still verifies.
    table_counts(database_url)
    verify_chain(database_url)


def test_sql_looking_text_in_queries_and_paths_is_just_a_miss(campaign):
    for path in (
        "/api/v1/cases/' OR '1'='1",
        "/api/v1/cases/1;DROP TABLE case",
        "/api/v1/cases/00000000-0000-4000-8000-000000000000' OR 1=1--",
        "/api/v1/cases?cursor=' OR 1=1--",
        "/api/v1/cases?limit=1 OR 1=1",
    ):
        response = campaign.send("GET", path, STAFF)
        assert_problem(
            response, response.status_code, ("not_found", "validation_failed", "invalid_cursor"), context=path
        )
    # A filter that looks like SQL is a value to compare with: it matches nothing.
    response = campaign.send("GET", "/api/v1/audit/events?action=' OR 1=1--", AUDITOR)
    assert response.status_code == 200 and response.json()["items"] == [], response.text
    campaign.nothing_stored()


def test_times_without_an_offset_are_refused_not_crashed(desk):
    case = desk.open_case()
    contact = {
        "kind": "police_contact",
        "officer_name": "Agente P",
        "method": "phone",
        "occurred_at": "2026-11-20T16:00:00",
        "note": "Nommé Julie Tremblay",
    }
    response = desk.call("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", json=contact)
    assert response.status_code == 422
    assert "Julie" not in response.text
    assert (
        desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00"}).status_code == 422
    )
    assert (
        desk.call("GET", "/cases", "demo-staff-a", params={"updated_since": "2020-01-01T00:00:00Z"}).status_code == 200
    )


def test_a_nul_character_is_refused(desk):
    case = desk.open_case()
    response = desk.call(
        "POST",
        f"/cases/{case['id']}/participants",
        "demo-staff-a",
        json={"role": "witness", "is_minor": True, "name": "Ana\x00is"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"
