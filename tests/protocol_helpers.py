"""Small helpers that let protocol tests read like the protocol."""

from __future__ import annotations

from typing import Any

WELLBEING = [
    "self_harm_risk",
    "threats_or_extortion",
    "sexual_assault_alleged",
    "child_under_12_involved",
    "repeat_incident",
    "family_safety_concern",
]


def answers(
    *,
    content: str = "semi_nude_or_suggestive",
    ages: list[int] | str = "unknown",
    intentions: list[str] | None = None,
    disclosed_by: str = "recipient_or_witness",
    place: str = "school",
    wellbeing: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "trigger": {"disclosed_by": disclosed_by, "disclosed_at": "2026-11-20T10:15:00Z", "place": place},
        "nature": {
            "media_kind": "photo",
            "content_described": content,
            "production": "self_produced",
            "depicted_ages": ages,
        },
        "intentions": {"intentions": intentions or ["impulsive_forwarding"]},
        "extent": {
            "recipients": "six_to_twenty",
            "platforms": ["snapchat", "group_chat"],
            "still_circulating": "unknown",
        },
        "wellbeing": {name: (wellbeing or {}).get(name, "no") for name in WELLBEING},
    }


class Desk:
    """The API as a school, police or DPJ user drives it."""

    def __init__(self, client, login, demo) -> None:
        self.client, self.login, self.demo = client, login, demo

    def call(self, method: str, path: str, user: str, headers: dict[str, str] | None = None, **kwargs):
        return self.client.request(method, f"/api/v1{path}", headers={**self.login(user), **(headers or {})}, **kwargs)

    def ok(self, method: str, path: str, user: str, status: int = 200, **kwargs) -> dict:
        response = self.call(method, path, user, **kwargs)
        assert response.status_code == status, f"{method} {path} as {user}: {response.status_code} {response.text}"
        return response.json()

    def open_case(self, user: str = "demo-staff-a", **overrides) -> dict:
        body = {
            "school_id": str(self.demo.school_a),
            "reporter_type": "student",
            "channel": "in_person",
            "place": "school",
            "summary": "Une photo circulerait dans une conversation de groupe.",
        }
        body.update(overrides)
        return self.ok("POST", "/cases", user, 201, json=body)

    def person(
        self, case: dict, role: str, user: str = "demo-staff-a", *, minor: bool = True, name: str = "Élève Test"
    ) -> dict:
        body = {"role": role, "is_minor": minor, "grade": "Sec. 3", "student_id": "7654321", "name": name}
        return self.ok("POST", f"/cases/{case['id']}/participants", user, 201, json=body)

    def grid(self, case: dict, person: dict, user: str = "demo-staff-a", **answer_kwargs):
        body = {"participant_id": person["id"], "template_version": 1, "answers": answers(**answer_kwargs)}
        return self.call("POST", f"/cases/{case['id']}/grids", user, json=body)

    def transition(self, case: dict, action: str, user: str = "demo-staff-a", **body):
        return self.call("POST", f"/cases/{case['id']}/transitions", user, json={"action": action, **body})

    def go(self, case: dict, action: str, user: str = "demo-staff-a", **body) -> dict:
        response = self.transition(case, action, user, **body)
        assert response.status_code == 200, f"{action}: {response.status_code} {response.text}"
        return response.json()

    def notify_parents(self, case: dict, person: dict, user: str = "demo-staff-a") -> dict:
        body = {
            "kind": "parent_notification",
            "participant_id": person["id"],
            "guardian_relationship": "mother",
            "method": "phone",
            "occurred_at": "2026-11-20T16:00:00Z",
        }
        return self.ok("POST", f"/cases/{case['id']}/contacts", user, 201, json=body)

    def confiscate(self, case: dict, owner: dict, user: str = "demo-staff-a") -> dict:
        body = {
            "kind": "phone",
            "description": "Téléphone noir",
            "owner_participant_id": owner["id"],
            "switched_off_confirmed": True,
            "content_not_viewed": True,
            "seal_number": "SC-0001",
            "storage_location": "Coffre de la direction",
        }
        return self.ok("POST", f"/cases/{case['id']}/devices", user, 201, json=body)

    def custody(self, device: dict, kind: str, user: str = "demo-staff-a", **body):
        return self.call("POST", f"/devices/{device['id']}/custody-events", user, json={"kind": kind, **body})

    def steps(self, case: dict, user: str = "demo-staff-a") -> dict:
        return self.ok("GET", f"/cases/{case['id']}/next-steps", user)


def reachable_world(desk: Desk, db) -> dict[str, str]:
    """Real resources for a campaign to reach beyond the 404s: a case at
    school with a person and a device, a case handed off to police A, a
    board system's service account, and the demo organizations."""
    from sqlmodel import select

    from app.orgs.models import DcppAgreement

    demo = desk.demo
    case = desk.open_case()
    person = desk.person(case, "depicted")
    device = desk.confiscate(case, person)
    handed_off = desk.open_case()
    desk.person(handed_off, "author")
    desk.go(handed_off, "hand_off", police_officer="Agente Paquette")
    account = desk.ok(
        "POST",
        "/service-accounts",
        "demo-admin",
        201,
        json={"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}},
    )
    agreement = db.exec(select(DcppAgreement.id).where(DcppAgreement.police_force_id == demo.force_a)).one()
    return {
        "case_id": case["id"],
        "handed_off_id": handed_off["id"],
        "participant_id": person["id"],
        "device_id": device["id"],
        "board_id": str(demo.board_a),
        "school_id": str(demo.school_a),
        "force_id": str(demo.force_a),
        "force_b": str(demo.force_b),
        "agreement_id": str(agreement),
        "user_id": str(demo.users["demo-staff-a2"]),
        "account_id": account["id"],
    }
