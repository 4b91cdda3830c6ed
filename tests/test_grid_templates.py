"""Grid templates are data: labelled in both languages, valid, and never edited once published."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from app.accounts.models import Role
from app.cases.policy import seen_answers, unshown_flags
from app.grid.rules import OPERATORS
from app.grid.templates import BUILT_IN, GridTemplates
from app.main import create_app
from tests.conftest import make_settings

# A published version never changes (submissions are validated against it):
# a new grid is a new file, v2.json.  Version 1 gained one annotation, what
# police read of each section (``x-police``, #12), which JSON Schema ignores:
# without it, version 1 is the document first published (V1_PUBLISHED_SHA256,
# of its canonical JSON).
V1_SHA256 = "b23e3095a6228b129a839e92dc8e5a76db35a15ca3528650662b329b0abaef25"
V1_PUBLISHED_SHA256 = "fd948fd349cd130f6c8d95f0dc1eb85515251247da0e014d0c6c5831fcefb897"


def test_version_1_is_unchanged():
    assert hashlib.sha256((BUILT_IN / "v1.json").read_bytes()).hexdigest() == V1_SHA256
    document = json.loads((BUILT_IN / "v1.json").read_text(encoding="utf-8"))
    for section in document["schema"]["properties"].values():
        del section["x-police"]
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == V1_PUBLISHED_SHA256


def _walk(schema: dict, path: str = ""):
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}[]")


def test_every_field_and_answer_has_a_french_and_an_english_label():
    for version in GridTemplates([BUILT_IN]).versions():
        document = GridTemplates([BUILT_IN]).get(version).document
        assert set(document["title"]) == {"fr", "en"}
        for path, schema in _walk(document["schema"]):
            if not path:
                continue
            if "x-labels" in schema or not path.endswith("[]"):
                assert set(schema.get("x-labels", {})) == {"fr", "en"}, path
            if "enum" in schema:
                labels = schema["x-enum-labels"]
                assert set(labels) == set(schema["enum"]), path
                assert all(set(label) == {"fr", "en"} and all(label.values()) for label in labels.values()), path
        for rule in document["flag_rules"]:
            assert set(rule["x-labels"]) == {"fr", "en"}


# --- the template as the OpenAPI document declares it -------------------------------------


@pytest.fixture(scope="module")
def served() -> dict:
    return create_app().openapi()


def _response_schema(document: dict, operation_id: str) -> dict:
    for item in document["paths"].values():
        for operation in item.values():
            if operation.get("operationId") == operation_id:
                return operation["responses"]["200"]["content"]["application/json"]["schema"]
    raise KeyError(operation_id)


def _component(document: dict, node: dict) -> dict:
    return document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]


def _strict(document: dict, schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]})


@pytest.mark.parametrize("operation_id", ["current_template", "template_version"])
def test_the_template_is_typed_in_the_document(served, operation_id):
    schema = _response_schema(served, operation_id)
    assert schema.get("additionalProperties") is not True
    template = _component(served, schema)
    # What a front end needs to render the grid and explain its flags.
    assert {"version", "title", "description", "schema", "flag_rules"} <= set(template["properties"])
    assert set(template["required"]) >= {"version", "title", "schema", "flag_rules"}
    node = _component(served, template["properties"]["schema"])
    keywords = {
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "anyOf",
        "format",
        "pattern",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "additionalProperties",
        "x-labels",
        "x-enum-labels",
        "x-help",
    }
    assert keywords <= set(node["properties"]), keywords - set(node["properties"])
    assert node["additionalProperties"] is False
    assert set(_component(served, node["properties"]["x-labels"])["required"]) == {"fr", "en"}
    assert _component(served, node["properties"]["x-enum-labels"]["additionalProperties"])["title"] == "GridLabels"
    rule_shapes = [_component(served, branch) for branch in template["properties"]["flag_rules"]["items"]["anyOf"]]
    assert {name for shape in rule_shapes for name in shape["properties"]} == {"flag", "all", "any", "x-labels"}
    for shape in rule_shapes:
        flags = _component(served, shape["properties"]["flag"])["enum"]
        assert set(flags) == {
            "csam_suspected",
            "malicious_intent",
            "refusal_to_participate",
            "adult_involved",
            "urgent_wellbeing_concern",
        }
        [conditions] = [
            shape["properties"][mode]["items"]["anyOf"] for mode in ("all", "any") if mode in shape["properties"]
        ]
        operators = {name for condition in conditions for name in _component(served, condition)["properties"]}
        assert operators == {"field", *OPERATORS}


def test_every_built_in_version_follows_the_declaration(served):
    schema = _response_schema(served, "template_version")
    validator = _strict(served, schema)
    for version in GridTemplates([BUILT_IN]).versions():
        document = GridTemplates([BUILT_IN]).get(version).document
        assert [e.message for e in validator.iter_errors(document)] == [], version


def test_the_served_template_follows_the_declaration_and_is_the_file(served, client, login):
    headers = login("demo-staff-a")
    for path, operation_id in (("current", "current_template"), ("1", "template_version")):
        answer = client.get(f"/api/v1/grid-templates/{path}", headers=headers)
        assert answer.status_code == 200
        body = answer.json()
        assert [e.message for e in _strict(served, _response_schema(served, operation_id)).iter_errors(body)] == []
    # Nothing added, nothing lost: the file as written.
    assert client.get("/api/v1/grid-templates/1", headers=headers).json() == json.loads(
        (BUILT_IN / "v1.json").read_text()
    )


def test_a_template_using_what_the_declaration_does_not_name_is_refused_at_start(tmp_path):
    document = json.loads((BUILT_IN / "v1.json").read_text())
    document["version"] = 2
    document["schema"]["properties"]["trigger"]["properties"]["place"]["x-colour"] = "red"
    (tmp_path / "v2.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"v2\.json"):
        GridTemplates([BUILT_IN, tmp_path])


# --- what police read of a grid: declared by each section, default-deny ----------------------


def _v2(tmp_path, change) -> GridTemplates:
    document = json.loads((BUILT_IN / "v1.json").read_text())
    document["version"] = 2
    change(document["schema"])
    (tmp_path / "v2.json").write_text(json.dumps(document))
    return GridTemplates([BUILT_IN, tmp_path])


def _new_section(declared=None) -> dict:
    section = {
        "type": "object",
        "x-labels": {"fr": "Soutien", "en": "Support"},
        "properties": {"counsellor_met": {"type": "boolean", "x-labels": {"fr": "Vu", "en": "Met"}}},
    }
    if declared is not None:
        section["x-police"] = declared
    return section


def test_version_1_says_what_police_read():
    police = GridTemplates([BUILT_IN]).get(1).police_reads
    assert police == {
        "trigger": None,
        "nature": None,
        "intentions": None,
        "extent": None,
        "wellbeing": {"threats_or_extortion", "sexual_assault_alleged", "child_under_12_involved"},
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda schema: schema["properties"].update(support=_new_section()), id="new-section-undeclared"),
        pytest.param(lambda schema: schema["properties"]["wellbeing"].pop("x-police"), id="section-undeclared"),
        pytest.param(
            lambda schema: schema["properties"].update(support=_new_section(["no_such_question"])),
            id="unknown-question",
        ),
        pytest.param(
            lambda schema: schema["properties"]["trigger"]["properties"]["place"].update({"x-police": True}),
            id="said-of-a-question",
        ),
        pytest.param(
            lambda schema: schema["properties"]["trigger"].update({"x-police": "yes"}), id="not-a-declaration"
        ),
    ],
)
def test_a_template_that_does_not_say_what_police_read_is_refused_at_start(tmp_path, change):
    with pytest.raises(ValueError, match=r"v2\.json"):
        _v2(tmp_path, change)


def test_a_new_section_is_shown_to_police_only_when_declared(tmp_path):
    answers = {
        "trigger": {"place": "school"},
        "wellbeing": {"self_harm_risk": "yes"},
        "support": {"counsellor_met": True},
    }
    hidden = _v2(tmp_path, lambda schema: schema["properties"].update(support=_new_section(False))).get(2)
    assert hidden.police_answers(answers) == {"trigger": {"place": "school"}, "wellbeing": {}}
    shown = _v2(tmp_path, lambda schema: schema["properties"].update(support=_new_section(True))).get(2)
    assert shown.police_answers(answers)["support"] == {"counsellor_met": True}
    listed = _v2(tmp_path, lambda schema: schema["properties"].update(support=_new_section([]))).get(2)
    assert listed.police_answers(answers)["support"] == {}


def test_police_read_a_submission_by_the_version_it_follows():
    """No template for the version (a folder removed): police read nothing of it; others read it all."""

    class Caller:
        def __init__(self, role: Role) -> None:
            self.role = role

    answers = {"wellbeing": {"self_harm_risk": "yes", "threats_or_extortion": "no"}}
    v1 = GridTemplates([BUILT_IN]).get(1)
    assert seen_answers(Caller(Role.police_liaison), answers, v1) == {"wellbeing": {"threats_or_extortion": "no"}}
    assert seen_answers(Caller(Role.police_liaison), answers, None) == {}
    assert seen_answers(Caller(Role.school_staff), answers, None) == answers


def test_a_template_raising_a_flag_from_answers_police_do_not_read_stops_the_start(tmp_path):
    """A flag shown to police follows from what they read: a version whose rule
    raises another case flag from a hidden answer is refused at start, unless
    the policy keeps that flag from police (``CASE_FLAGS_HIDDEN``)."""
    document = json.loads((BUILT_IN / "v1.json").read_text())
    document["version"] = 2
    document["flag_rules"].append(
        {
            "flag": "malicious_intent",
            "any": [{"field": "wellbeing.family_safety_concern", "equals": "yes"}],
            "x-labels": {"fr": "Inquiétude pour la famille.", "en": "Family safety concern."},
        }
    )
    (tmp_path / "v2.json").write_text(json.dumps(document))
    templates = GridTemplates([BUILT_IN, tmp_path])
    assert unshown_flags(templates.all()) == ["malicious_intent"]
    assert unshown_flags([templates.get(1)]) == []  # v1: only the well-being flag, which police are not shown
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, grid_templates_dirs=[tmp_path]))
    with pytest.raises(RuntimeError, match="malicious_intent"), TestClient(app):
        pass
