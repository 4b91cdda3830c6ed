"""A 422 follows the language rules of every other problem: each field error
keeps its location and its stable code (the validator's type) and says what is
wrong in French by default or in English; where a protocol rule is at stake
(a device switched off, its content never viewed, a media inquiry referred),
the problem's code names the rule."""

from __future__ import annotations

from app.main import create_app
from tests.protocol_helpers import Desk, answers

ENGLISH = {"Accept-Language": "en"}


def by_field(body: dict) -> dict[str, dict]:
    return {error["field"]: error for error in body["errors"]}


CASE = {"reporter_type": "student", "channel": "in_person", "place": "school", "summary": "Photo."}


def bad_case(desk: Desk, headers: dict | None = None):
    body = {
        **CASE,
        "school_id": str(desk.demo.school_a),
        "channel": "carrier_pigeon",
        "summary": "  ",
        "status": "closed",
    }
    return desk.call("POST", "/cases", "demo-staff-a", json=body, headers=headers)


def test_field_errors_are_in_french_by_default(desk):
    response = bad_case(desk)
    assert response.status_code == 422 and response.headers["content-language"] == "fr"
    body = response.json()
    assert body["code"] == "validation_failed"
    errors = by_field(body)
    assert errors["body.channel"]["code"] == "enum"
    assert errors["body.channel"]["detail"].startswith("Valeur non permise. Valeurs permises : ")
    assert "in_person" in errors["body.channel"]["detail"]
    assert errors["body.summary"]["code"] == "string_too_short"
    assert errors["body.summary"]["detail"] == "Ne peut pas être vide."
    assert errors["body.status"]["code"] == "extra_forbidden"
    assert errors["body.status"]["detail"] == "Champ inconnu : il n'est pas accepté ici."
    assert not any("should" in error["detail"] or "Input" in error["detail"] for error in body["errors"])
    too_long = desk.call(
        "POST", "/cases", "demo-staff-a", json={**CASE, "school_id": str(desk.demo.school_a), "summary": "x" * 501}
    )
    assert by_field(too_long.json())["body.summary"] == {
        "field": "body.summary",
        "code": "string_too_long",
        "detail": "Au plus 500 caractères.",
    }


def test_field_errors_are_in_english_on_request(desk):
    body = bad_case(desk, ENGLISH).json()
    errors = by_field(body)
    assert errors["body.channel"]["detail"].startswith("Value not allowed. Allowed values: ")
    assert errors["body.summary"]["detail"] == "Cannot be empty."
    assert errors["body.status"]["detail"] == "Unknown field: it is not accepted here."
    assert body["title"] == "Invalid request content."


def test_missing_fields_limits_and_kinds_are_translated(desk):
    case = desk.open_case()
    missing = desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={}).json()
    assert by_field(missing)["body.text"] == {"field": "body.text", "code": "missing", "detail": "Champ requis."}
    limit = desk.call("GET", "/cases?limit=0", "demo-staff-a", headers=ENGLISH).json()
    assert by_field(limit)["query.limit"]["code"] == "greater_than_equal"
    assert by_field(limit)["query.limit"]["detail"] == "Must be at least 1."
    kind = desk.call("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", json={"kind": "fax"}).json()
    [error] = kind["errors"]
    assert error["code"] == "union_tag_invalid"
    assert error["detail"].startswith("Valeur non permise pour kind. Valeurs permises : ")
    assert "dpj_report" in error["detail"] and "'" not in error["detail"]
    wrong_type = desk.call(
        "POST",
        f"/cases/{case['id']}/participants",
        "demo-staff-a",
        json={"role": "author", "is_minor": "yes", "name": "X"},
    ).json()
    assert by_field(wrong_type)["body.is_minor"] == {
        "field": "body.is_minor",
        "code": "bool_type",
        "detail": "Booléen attendu : true ou false.",
    }


def test_a_check_across_fields_is_translated_too(desk, client, login):
    agreement = {"police_force_id": str(desk.demo.force_a), "starts_on": "2026-09-01", "ends_on": "2026-01-01"}
    body = client.post("/api/v1/agreements", json=agreement, headers={**login("demo-admin"), **ENGLISH}).json()
    assert body["status"] == 422
    assert [(e["code"], e["detail"]) for e in body["errors"]] == [
        ("agreement_dates", "The agreement's end date is before its start date.")
    ]


def confiscation(reporter: dict, **confirmations) -> dict:
    body = {
        "kind": "phone",
        "description": "Téléphone",
        "owner_participant_id": reporter["id"],
        "switched_off_confirmed": True,
        "content_not_viewed": True,
    }
    body.update(confirmations)
    return {name: value for name, value in body.items() if value is not None}


def test_confiscating_a_device_that_is_not_switched_off_names_the_rule(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    path = f"/cases/{case['id']}/devices"
    for sent in (False, None, 1):  # false, missing, not a boolean
        response = desk.call("POST", path, "demo-staff-a", json=confiscation(reporter, switched_off_confirmed=sent))
        body = response.json()
        assert response.status_code == 422, sent
        assert body["code"] == "device_not_switched_off", sent
        assert body["type"] == "urn:sexto:problem:device_not_switched_off"
        assert body["rules"] == ["device_not_switched_off"]
        assert body["detail"].startswith("L'appareil doit d'abord être éteint")
        [error] = body["errors"]
        assert error["field"] == "body.switched_off_confirmed"
    english = desk.call(
        "POST", path, "demo-staff-a", json=confiscation(reporter, switched_off_confirmed=False), headers=ENGLISH
    ).json()
    assert english["detail"].startswith("The device must be switched off first")
    assert desk.ok("GET", path, "demo-staff-a")["items"] == []


def test_confiscating_a_device_whose_content_was_viewed_names_the_rule(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    path = f"/cases/{case['id']}/devices"
    viewed = desk.call("POST", path, "demo-staff-a", json=confiscation(reporter, content_not_viewed=False)).json()
    assert viewed["code"] == "content_must_not_be_viewed" and viewed["rules"] == ["content_must_not_be_viewed"]
    both = desk.call(
        "POST", path, "demo-staff-a", json=confiscation(reporter, switched_off_confirmed=False, content_not_viewed=None)
    ).json()
    assert both["code"] == "device_not_switched_off"
    assert both["rules"] == ["device_not_switched_off", "content_must_not_be_viewed"]
    assert {e["field"] for e in both["errors"]} == {"body.switched_off_confirmed", "body.content_not_viewed"}


def test_a_media_inquiry_not_referred_to_communications_names_the_rule(desk):
    case = desk.open_case()
    inquiry = {"kind": "media_inquiry", "occurred_at": "2026-11-21T09:00:00Z", "referred_to_communications": False}
    body = desk.call("POST", f"/cases/{case['id']}/contacts", "demo-staff-a", json=inquiry, headers=ENGLISH).json()
    assert body["code"] == "media_inquiry_not_referred" and body["rules"] == ["media_inquiry_not_referred"]
    assert by_field(body)["body.media_inquiry.referred_to_communications"]["code"] == "literal_error"


def test_grid_answer_errors_follow_the_language_too(desk):
    case = desk.open_case()
    reporter = desk.person(case, "reporter")
    bad = answers()
    bad["nature"]["content_described"] = "looked_at_it"
    del bad["wellbeing"]["self_harm_risk"]
    body = {"participant_id": reporter["id"], "template_version": 1, "answers": bad}
    french = desk.call("POST", f"/cases/{case['id']}/grids", "demo-staff-a", json=body).json()
    english = desk.call("POST", f"/cases/{case['id']}/grids", "demo-staff-a", json=body, headers=ENGLISH).json()
    assert french["code"] == english["code"] == "grid_invalid"
    fr, en = by_field(french), by_field(english)
    assert fr["answers.nature.content_described"]["code"] == "enum"
    assert fr["answers.nature.content_described"]["detail"].startswith("Valeur non permise. Valeurs permises : ")
    assert en["answers.nature.content_described"]["detail"].startswith("Value not allowed. Allowed values: ")
    assert fr["answers.wellbeing"]["code"] == "required"
    assert fr["answers.wellbeing"]["detail"] == "Réponse requise : self_harm_risk."
    assert en["answers.wellbeing"]["detail"] == "Answer required: self_harm_risk."


def test_every_protocol_confirmation_in_the_document_names_its_rule():
    from app.i18n import MESSAGES
    from app.schemas import PROTOCOL_CONFIRMATIONS

    schemas = create_app().openapi()["components"]["schemas"]
    confirmations = {
        name: prop.get("x-protocol-rule")
        for schema in schemas.values()
        for name, prop in schema.get("properties", {}).items()
        if prop.get("const") is True
    }
    assert confirmations == PROTOCOL_CONFIRMATIONS
    assert set(PROTOCOL_CONFIRMATIONS.values()) <= set(MESSAGES)
    codes = schemas["ProblemDocument"]["properties"]["code"]["enum"]
    assert set(PROTOCOL_CONFIRMATIONS.values()) <= set(codes)
