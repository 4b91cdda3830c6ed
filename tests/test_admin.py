"""The admin API: organizations, agreements, users, attestations, service accounts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

ADMIN_COLLECTIONS = ["boards", "schools", "police-forces", "agreements", "users", "service-accounts"]


@pytest.fixture
def admin(login):
    return login("demo-admin")


def test_a_board_school_force_and_agreement_are_created_and_read(client, admin):
    board = client.post("/api/v1/boards", json={"name": "CSS des Mille-Îles"}, headers=admin)
    assert board.status_code == 201, board.text
    assert board.headers["location"] == f"/api/v1/boards/{board.json()['id']}"
    force = client.post("/api/v1/police-forces", json={"name": "Police de Laval"}, headers=admin)
    assert force.status_code == 201
    assert force.json()["kit_in_force"] is False
    school = client.post(
        "/api/v1/schools",
        json={"name": "École Horizon", "board_id": board.json()["id"], "police_force_id": force.json()["id"]},
        headers=admin,
    )
    assert school.status_code == 201, school.text
    today = date.today()
    agreement = client.post(
        "/api/v1/agreements",
        json={
            "police_force_id": force.json()["id"],
            "reference": "DPCP-1",
            "starts_on": str(today - timedelta(days=3)),
            "ends_on": str(today + timedelta(days=30)),
        },
        headers=admin,
    )
    assert agreement.status_code == 201, agreement.text
    assert agreement.json()["in_force_today"] is True
    assert client.get(f"/api/v1/police-forces/{force.json()['id']}", headers=admin).json()["kit_in_force"] is True
    assert client.get(f"/api/v1/schools/{school.json()['id']}", headers=admin).json()["name"] == "École Horizon"


def test_an_agreement_that_ended_is_not_in_force(client, admin, demo):
    past = client.post(
        "/api/v1/agreements",
        json={"police_force_id": str(demo.force_b), "starts_on": "2020-01-01", "ends_on": "2021-01-01"},
        headers=admin,
    )
    assert past.json()["in_force_today"] is False
    assert client.get(f"/api/v1/police-forces/{demo.force_b}", headers=admin).json()["kit_in_force"] is False
    future = client.patch(f"/api/v1/agreements/{past.json()['id']}", json={"ends_on": "2019-01-01"}, headers=admin)
    assert future.status_code == 422
    assert future.json()["code"] == "agreement_dates"


def test_an_agreement_with_dates_out_of_order_is_refused(client, admin, demo):
    response = client.post(
        "/api/v1/agreements",
        json={"police_force_id": str(demo.force_b), "starts_on": "2026-01-01", "ends_on": "2025-01-01"},
        headers=admin,
    )
    assert response.status_code == 422


def test_a_duplicate_name_is_a_conflict(client, admin):
    client.post("/api/v1/boards", json={"name": "CSS Unique"}, headers=admin)
    response = client.post("/api/v1/boards", json={"name": "CSS Unique"}, headers=admin)
    assert response.status_code == 409
    assert response.json()["code"] == "name_taken"


def test_a_school_needs_an_existing_board_and_force(client, admin, demo):
    response = client.post(
        "/api/v1/schools",
        json={"name": "École fantôme", "board_id": str(demo.force_a), "police_force_id": str(demo.force_a)},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_reference"


@pytest.mark.parametrize(
    "field", [{"id": "5f0c8c1e-0000-4000-8000-000000000000"}, {"created_at": "2020-01-01T00:00:00Z"}, {"color": "red"}]
)
def test_unknown_and_server_owned_fields_are_refused(client, admin, db, field):
    from sqlmodel import func, select

    from app.orgs.models import SchoolBoard

    before = db.exec(select(func.count()).select_from(SchoolBoard)).one()
    response = client.post("/api/v1/boards", json={"name": "CSS Nouveau", **field}, headers=admin)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["code"] == "extra_forbidden"
    assert db.exec(select(func.count()).select_from(SchoolBoard)).one() == before


def valid_body(collection: str, demo) -> dict:
    """A body the admin's POST to the collection accepts (201)."""
    return {
        "boards": {"name": "CSS des Affluents"},
        "police-forces": {"name": "Police de Terrebonne"},
        "schools": {"name": "École du Boisé", "board_id": str(demo.board_a), "police_force_id": str(demo.force_a)},
        "agreements": {"police_force_id": str(demo.force_b), "starts_on": "2025-09-01"},
        "users": new_user(demo),
        "service-accounts": {"name": "SI du CSS A", "role": "school_lead", "scope": {"boards": [str(demo.board_a)]}},
    }[collection]


@pytest.mark.parametrize("username", ["demo-staff-b", "demo-auditor", "demo-police-a", "demo-lead-a", "demo-dpj-a"])
@pytest.mark.parametrize("collection", ADMIN_COLLECTIONS)
def test_only_admins_use_the_admin_api(client, login, admin, demo, username, collection):
    headers = login(username)
    listed = client.get(f"/api/v1/{collection}", headers=headers)
    assert listed.status_code == 403
    assert listed.json()["code"] == "forbidden"
    # The role is checked before the body is read: an empty body is a 403 too,
    # which tells nothing of what the body should be.
    empty = client.post(f"/api/v1/{collection}", json={}, headers=headers)
    assert empty.status_code == 403
    assert empty.json()["code"] == "forbidden"
    # A body the admin may send is refused for the role alone, and makes nothing.
    body = valid_body(collection, demo)
    before = client.get(f"/api/v1/{collection}", params={"limit": 100}, headers=admin).json()
    refused = client.post(f"/api/v1/{collection}", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert client.get(f"/api/v1/{collection}", params={"limit": 100}, headers=admin).json() == before
    accepted = client.post(f"/api/v1/{collection}", json=body, headers=admin)
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize("collection", ADMIN_COLLECTIONS)
def test_the_admin_api_needs_a_token(client, collection):
    assert client.get(f"/api/v1/{collection}").status_code == 401


def test_pagination_walks_every_row_once(client, admin):
    names = {f"CSS Pagination {i:02d}" for i in range(7)}
    for name in names:
        client.post("/api/v1/boards", json={"name": name}, headers=admin)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/boards", params=params, headers=admin).json()
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9  # 7 new + the 2 demo boards
    assert names <= set(seen)
    assert pages == 3


def test_page_size_is_bounded_and_cursors_are_checked(client, admin):
    assert client.get("/api/v1/boards", params={"limit": 101}, headers=admin).status_code == 422
    assert client.get("/api/v1/boards", params={"limit": 0}, headers=admin).status_code == 422
    bad = client.get("/api/v1/boards", params={"cursor": "not-a-cursor"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"


# --- users ---------------------------------------------------------------------


def new_user(demo, **overrides):
    body = {
        "username": "m.tremblay",
        "full_name": "Marie Tremblay",
        "role": "school_staff",
        "password": "une phrase de passe assez longue",
        "scope": {"schools": [str(demo.school_a)]},
    }
    body.update(overrides)
    return body


def test_a_user_is_created_with_role_scope_and_attestation(client, admin, demo):
    created = client.post("/api/v1/users", json=new_user(demo), headers=admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert "password" not in user and "password_hash" not in user
    assert user["scope"]["schools"][0]["id"] == str(demo.school_a)
    attested = client.post(
        f"/api/v1/users/{user['id']}/attestations",
        json={"level": "architect", "obtained_on": "2026-01-15", "badge_url": "https://badges.example.org/b/1"},
        headers=admin,
    )
    assert attested.status_code == 200, attested.text
    assert [a["level"] for a in attested.json()["attestations"]] == ["architect"]
    token = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "M.Tremblay", "password": "une phrase de passe assez longue"},
    ).json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["may_handle_cases"] is True
    revoked = client.delete(f"/api/v1/users/{user['id']}/attestations/architect", headers=admin)
    assert revoked.status_code == 204
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["may_handle_cases"] is False


def test_a_badge_url_must_be_https(client, admin, demo):
    response = client.post(
        f"/api/v1/users/{demo.users['demo-staff-a2']}/attestations",
        json={"level": "architect", "obtained_on": "2026-01-15", "badge_url": "http://badges.example.org/b/1"},
        headers=admin,
    )
    assert response.status_code == 422


def test_attestations_are_for_school_staff(client, admin, demo):
    response = client.post(
        f"/api/v1/users/{demo.users['demo-police-a']}/attestations",
        json={"level": "architect", "obtained_on": "2026-01-15", "badge_url": "https://badges.example.org/b/1"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "attestation_for_school_staff_only"


@pytest.mark.parametrize(
    "role,scope,reason",
    [
        ("school_staff", {}, "needs schools"),
        ("school_staff", {"police_forces": ["FORCE_A"]}, "wrong kind"),
        ("police_liaison", {"police_forces": ["FORCE_A", "FORCE_B"]}, "one force only"),
        ("police_liaison", {"schools": ["SCHOOL_A"]}, "wrong kind"),
        ("privacy_officer", {"boards": ["BOARD_A", "BOARD_B"]}, "one board only"),
        ("admin", {"boards": ["BOARD_A"]}, "platform role"),
        ("auditor", {}, "needs organizations"),
        ("school_lead", {"schools": ["00000000-0000-4000-8000-000000000000"]}, "unknown school"),
    ],
)
def test_the_scope_must_fit_the_role(client, admin, demo, role, scope, reason):
    names = {
        "FORCE_A": demo.force_a,
        "FORCE_B": demo.force_b,
        "SCHOOL_A": demo.school_a,
        "BOARD_A": demo.board_a,
        "BOARD_B": demo.board_b,
    }
    scope = {kind: [str(names.get(i, i)) for i in ids] for kind, ids in scope.items()}
    response = client.post("/api/v1/users", json=new_user(demo, role=role, scope=scope), headers=admin)
    assert response.status_code == 422, reason
    assert response.json()["code"] in ("scope_invalid_for_role", "unknown_reference")


def test_a_short_password_or_bad_username_is_refused(client, admin, demo):
    assert client.post("/api/v1/users", json=new_user(demo, password="short"), headers=admin).status_code == 422
    assert client.post("/api/v1/users", json=new_user(demo, username="a b"), headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("password1234", "password_common"),
        ("QwErTy123456", "password_common"),  # a list entry in another case
        ("password.1234", "password_common"),  # and with punctuation between its words
        ("m.tremblay est ici 2026", "password_personal"),  # the username
        ("MTremblay-forever-2026", "password_personal"),  # the username without its dot
        ("tremblay tremblay tremblay", "password_personal"),  # a part of the name
        ("Marie aime les longues phrases", "password_personal"),
        ("mon mot de passe sexto !", "password_personal"),  # the service's name
    ],
)
def test_a_common_or_personal_password_is_refused_without_echoing_it(client, admin, demo, password, code):
    for language, fragment in (("fr", "mot de passe"), ("en", "password")):
        response = client.post(
            "/api/v1/users",
            json=new_user(demo, password=password),
            headers={**admin, "Accept-Language": language},
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "validation_failed"
        [error] = problem["errors"]
        assert (error["field"], error["code"]) == ("body.password", code)
        assert fragment in error["detail"].lower()
        assert password.lower() not in response.text.lower()
    assert all(u["username"] != "m.tremblay" for u in client.get("/api/v1/users", headers=admin).json()["items"])


def test_a_name_with_accents_is_recognized_in_a_password(client, admin, demo):
    body = new_user(demo, full_name="Hélène Bélanger", password="helene aime le soleil du matin")
    response = client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "password_personal"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "une phrase de passe assez longue",
        "Les érables rougissent en octobre",
        "tout en minuscules sans chiffres ni symboles " * 5,
    ],
)
def test_long_passphrases_need_no_digits_capitals_or_symbols(client, admin, demo, password):
    response = client.post("/api/v1/users", json=new_user(demo, password=password), headers=admin)
    assert response.status_code == 201, response.text


def test_a_changed_password_is_checked_against_the_users_own_names(client, admin, demo, login):
    staff = login("demo-staff-a")
    user = f"/api/v1/users/{demo.users['demo-staff-a']}"
    for password, code in (("password1234", "password_common"), ("demo-staff-a, deuxième essai", "password_personal")):
        response = client.patch(user, json={"password": password}, headers=admin)
        assert response.status_code == 422, response.text
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("body.password", code)]
    # Nothing changed: the user's token still works.
    assert client.get("/api/v1/auth/me", headers=staff).status_code == 200
    response = client.patch(user, json={"password": "une toute nouvelle phrase de passe"}, headers=admin)
    assert response.status_code == 200, response.text


def test_a_username_is_unique_whatever_its_case(client, admin, demo):
    response = client.post("/api/v1/users", json=new_user(demo, username="Demo-Staff-A"), headers=admin)
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"


def test_the_last_admin_cannot_be_disabled_or_demoted(client, admin, demo):
    admin_id = demo.users["demo-admin"]
    response = client.patch(f"/api/v1/users/{admin_id}", json={"is_active": False}, headers=admin)
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"


def test_changing_role_drops_the_attestation(client, admin, demo):
    response = client.patch(
        f"/api/v1/users/{demo.users['demo-staff-a']}",
        json={"role": "dpj_reporter"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["attestations"] == []


def test_a_service_account_cannot_be_admin(client, admin):
    response = client.post("/api/v1/service-accounts", json={"name": "Root", "role": "admin"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "service_account_admin"


def test_service_account_secrets_are_shown_once(client, admin, demo):
    # An auditing system: a role that reads no case contents has its secret at
    # creation (a case-reading one has it with its approval, tests/test_duties.py).
    created = client.post(
        "/api/v1/service-accounts",
        json={"name": "SI d'audit du CSS A", "role": "auditor", "scope": {"boards": [str(demo.board_a)]}},
        headers=admin,
    ).json()
    assert created["client_secret"]
    read = client.get(f"/api/v1/service-accounts/{created['id']}", headers=admin).json()
    assert "client_secret" not in read and "secret_hash" not in read
    listed = client.get("/api/v1/service-accounts", headers=admin).json()
    assert all("client_secret" not in item for item in listed["items"])


def test_users_list_filters_by_role_and_shows_no_password_hash(client, admin):
    page = client.get("/api/v1/users", params={"role": "police_liaison"}, headers=admin).json()
    assert sorted(u["username"] for u in page["items"]) == ["demo-police-a", "demo-police-b"]
    assert all("password_hash" not in u for u in page["items"])


def test_unknown_ids_are_404(client, admin):
    for collection in ADMIN_COLLECTIONS:
        response = client.get(f"/api/v1/{collection}/00000000-0000-4000-8000-000000000000", headers=admin)
        assert response.status_code == 404, collection
        assert response.json()["code"] == "not_found"
