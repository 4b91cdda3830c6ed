"""The two service-account flows of docs/integrating.md, as written there."""

from __future__ import annotations

from tests.conftest import approved_service_account
from tests.protocol_helpers import Desk

# Who approves each role's grant in the demo (separation of duties): the
# force's liaison for a police portal, the board's privacy officer for a board system.
APPROVERS = {"police_liaison": "demo-police-a", "school_lead": "demo-privacy-a"}


def service_account(desk: Desk, role: str, scope: dict) -> tuple[str, str]:
    body = {"name": f"Compte {role}", "role": role, "scope": scope}
    created = approved_service_account(desk.client, desk.login, body, APPROVERS[role])
    return created["client_id"], created["client_secret"]


def test_a_police_portal_pulls_its_feed_and_acknowledges(desk, client, settle_feed):
    case = desk.open_case()
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    client_id, secret = service_account(desk, "police_liaison", {"police_forces": [str(desk.demo.force_a)]})
    token = client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    cursor, seen, acknowledged = None, [], 0
    while True:
        settle_feed()
        page = client.get("/api/v1/police/cases", params={"cursor": cursor} if cursor else {}, headers=headers).json()
        for item in page["items"]:
            seen.append((item["change"], item["case"]["reference"]))
            if item["case"]["police_acknowledged_at"] is None:
                acknowledged += 1
                ack = client.post(
                    f"/api/v1/cases/{item['case']['id']}/acknowledgement",
                    json={"police_file_number": "SPVR-26-0042"},
                    headers={**headers, "Idempotency-Key": f"ack-{item['case']['id']}"},
                )
                assert ack.status_code == 201
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    # The hand-off, then the portal's own acknowledgement (a change too), once each.
    assert seen == [("handed_off", case["reference"]), ("acknowledged", case["reference"])]
    assert acknowledged == 1
    settle_feed()
    assert client.get("/api/v1/police/cases", params={"cursor": cursor}, headers=headers).json()["items"] == []


def test_a_board_system_reads_the_status_of_its_schools_cases(desk, client):
    mine = desk.open_case()
    client_id, secret = service_account(desk, "school_lead", {"boards": [str(desk.demo.board_a)]})
    token = client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    params = {"updated_since": "2000-11-01T00:00:00Z", "limit": 100}
    listed = client.get("/api/v1/cases", params=params, headers=headers).json()
    assert [c["reference"] for c in listed["items"]] == [mine["reference"]]
    assert client.post(f"/api/v1/cases/{mine['id']}/notes", json={"text": "x"}, headers=headers).status_code == 403


def test_a_police_portal_records_custody_and_places_a_hold(desk, client):
    """Writes by a service account are recorded under its id (no user row behind it)."""
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    assert (
        desk.custody(device, "transferred_to_police", officer_name="Agente Paquette", badge_number="4521").status_code
        == 201
    )
    desk.go(case, "start_evaluation")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    client_id, secret = service_account(desk, "police_liaison", {"police_forces": [str(desk.demo.force_a)]})
    token = client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/auth/me", headers=headers).json()
    retained = client.post(
        f"/api/v1/devices/{device['id']}/custody-events", json={"kind": "retained_as_evidence"}, headers=headers
    )
    assert retained.status_code == 201, retained.text
    assert retained.json()["recorded_by"] == me["id"]
    hold = client.post(f"/api/v1/cases/{case['id']}/legal-holds", json={"reason": "Preuve conservée."}, headers=headers)
    assert hold.status_code == 201 and hold.json()["placed_by"] == me["id"]


def test_a_board_system_records_the_dpj_report(desk, client):
    case = desk.open_case()
    client_id, secret = service_account(desk, "school_lead", {"schools": [str(desk.demo.school_a)]})
    token = client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    report = {
        "kind": "dpj_report",
        "occurred_at": "2026-11-20T16:00:00Z",
        "region": "Laurentides",
        "reference": "DPJ-9",
    }
    recorded = client.post(
        f"/api/v1/cases/{case['id']}/contacts", json=report, headers={"Authorization": f"Bearer {token}"}
    )
    assert recorded.status_code == 201, recorded.text
