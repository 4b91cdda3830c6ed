"""A client written from the committed OpenAPI document alone drives a full
protocol scenario: every request is built from the document (operation ids,
paths, parameters, body schemas) and checked against it before it is sent,
and every answer is checked against the response the document declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import DEMO_PASSWORD
from tests.protocol_helpers import answers

SPEC = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())


class SpecClient:
    def __init__(self, http) -> None:
        self.http = http
        self.operations = {
            operation["operationId"]: (method.upper(), path, operation)
            for path, item in SPEC["paths"].items()
            for method, operation in item.items()
        }
        self.token: str | None = None

    def _validator(self, schema: dict) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": SPEC["components"]})

    def call(
        self,
        operation_id: str,
        *,
        path: dict | None = None,
        query: dict | None = None,
        body: Any = None,
        form: dict | None = None,
        headers: dict | None = None,
    ):
        method, template, operation = self.operations[operation_id]
        declared = {p["name"]: p for p in operation.get("parameters", [])}
        url = template
        for name, value in (path or {}).items():
            assert declared[name]["in"] == "path", name
            url = url.replace("{" + name + "}", str(value))
        for name in query or {}:
            assert declared[name]["in"] == "query", name
        for name in headers or {}:
            assert declared.get(name, {}).get("in") == "header", name
        if body is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            errors = [e.message for e in self._validator(schema).iter_errors(body)]
            assert errors == [], f"{operation_id}: request does not follow the document: {errors}"
        if form is not None:
            assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.request(
            method, url, params=query, json=body, data=form, headers={**auth, **(headers or {})}
        )
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{operation_id} answered {response.status_code}, not in the document"
        content_type = response.headers.get("content-type", "").split(";")[0]
        if response.content and content_type in documented.get("content", {}):
            schema = documented["content"][content_type]["schema"]
            errors = [e.message for e in self._validator(schema).iter_errors(response.json())]
            assert errors == [], f"{operation_id}: answer does not follow the document: {errors}"
        return response


def sign_in(api: SpecClient, username: str) -> None:
    api.token = None
    response = api.call("issue_token", form={"grant_type": "password", "username": username, "password": DEMO_PASSWORD})
    api.token = response.json()["access_token"]


def test_a_client_from_the_document_alone_runs_the_csam_scenario(client, demo, settle_feed):
    api = SpecClient(client)
    sign_in(api, "demo-staff-a")
    school = api.call("me").json()["scope"]["schools"][0]["id"]
    template = api.call("current_template").json()
    assert template["version"] == 1
    case = api.call(
        "open_case",
        body={
            "school_id": school,
            "reporter_type": "student",
            "channel": "in_person",
            "place": "school",
            "summary": "Photo partagée dans un groupe.",
        },
        headers={"Idempotency-Key": "scenario-open-1"},
    ).json()
    cid = case["id"]
    people = {
        role: api.call(
            "add_participant", path={"case_id": cid}, body={"role": role, "is_minor": True, "name": f"Élève {role}"}
        ).json()
        for role in ("reporter", "depicted", "distributor")
    }
    api.call("take_transition", path={"case_id": cid}, body={"action": "start_evaluation"})
    grid = api.call(
        "submit_grid",
        path={"case_id": cid},
        body={
            "participant_id": people["reporter"]["id"],
            "template_version": 1,
            "answers": answers(content="nudity_or_breasts", ages=[15]),
        },
    ).json()
    assert grid["flags_raised"] == ["csam_suspected"]
    device = api.call(
        "confiscate_device",
        path={"case_id": cid},
        body={
            "kind": "phone",
            "description": "Téléphone",
            "owner_participant_id": people["distributor"]["id"],
            "switched_off_confirmed": True,
            "content_not_viewed": True,
        },
    ).json()
    etag = api.call("read_case", path={"case_id": cid}).headers["etag"]
    blocked = api.call("list_transitions", path={"case_id": cid}).json()
    assert {t["action"]: t["allowed"] for t in blocked["transitions"]}["resolve"] is False
    api.call(
        "take_transition",
        path={"case_id": cid},
        body={"action": "hand_off", "police_officer": "Agente Paquette"},
        headers={"If-Match": etag},
    )

    sign_in(api, "demo-police-a")
    settle_feed()
    feed = api.call("police_feed").json()
    assert [item["case"]["id"] for item in feed["items"]] == [cid]
    api.call("acknowledge", path={"case_id": cid}, body={"police_file_number": "SPVR-1"})

    sign_in(api, "demo-dpj-a")
    api.call(
        "record_contact",
        path={"case_id": cid},
        body={
            "kind": "dpj_report",
            "occurred_at": "2026-11-21T09:00:00Z",
            "region": "Laurentides",
            "reference": "DPJ-1",
            "retained": True,
        },
    )

    sign_in(api, "demo-staff-a")
    api.call(
        "record_custody_event",
        path={"device_id": device["id"]},
        body={"kind": "transferred_to_police", "officer_name": "Agente Paquette", "badge_number": "4521"},
    )
    for person in people.values():
        api.call(
            "record_contact",
            path={"case_id": cid},
            body={
                "kind": "parent_notification",
                "participant_id": person["id"],
                "guardian_relationship": "mother",
                "method": "phone",
                "occurred_at": "2026-11-20T16:00:00Z",
            },
        )

    sign_in(api, "demo-lead-a")
    refused = api.call("take_transition", path={"case_id": cid}, body={"action": "reopen", "reason": "x"})
    assert refused.status_code == 409
    closed = api.call("take_transition", path={"case_id": cid}, body={"action": "close"}).json()
    assert closed["status"] == "closed"
    steps = api.call("next_steps", path={"case_id": cid}).json()
    assert all(step["done"] for step in steps["steps"] if step["code"] != "step_takedown")
    log = api.call("case_access_log", path={"case_id": cid}).json()
    assert log["items"]


@pytest.mark.parametrize("operation_id", ["read_case", "list_participants", "next_steps"])
def test_conditional_reads_are_documented(operation_id):
    _, _, operation = SpecClient(None).operations[operation_id]
    assert "304" in operation["responses"]
