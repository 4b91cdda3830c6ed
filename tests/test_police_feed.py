"""The police feed: handed-off cases of the caller's force, changed since a
cursor, oldest first, never skipping or repeating a change."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, insert, literal_column

from app.police.models import PoliceFeedChange
from tests.protocol_helpers import Desk


class FeedDesk(Desk):
    def __init__(self, client, login, demo, settle) -> None:
        super().__init__(client, login, demo)
        self.settle = settle  # conftest's settle_feed


@pytest.fixture
def desk(client, login, demo, settle_feed) -> FeedDesk:
    return FeedDesk(client, login, demo, settle_feed)


def poll(desk: FeedDesk, user: str = "demo-police-a", cursor: str | None = None, *, settle: bool = True) -> dict:
    if settle:
        desk.settle()
    return desk.ok("GET", "/police/cases", user, params={"cursor": cursor} if cursor else {})


def test_the_feed_follows_a_handed_off_case(desk):
    start = poll(desk)
    assert start["items"] == []
    case = desk.open_case()
    person = desk.person(case, "distributor")
    device = desk.confiscate(case, person)
    assert poll(desk, cursor=start["next_cursor"])["items"] == []  # not handed off yet
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    first = poll(desk, cursor=start["next_cursor"])
    assert [(i["case"]["id"], i["change"]) for i in first["items"]] == [(case["id"], "handed_off")]
    assert poll(desk, "demo-police-b")["items"] == []
    again = poll(desk, cursor=first["next_cursor"])
    assert again["items"] == [] and again["next_cursor"] == first["next_cursor"]
    desk.call("POST", f"/cases/{case['id']}/acknowledgement", "demo-police-a", json={})
    desk.custody(device, "transferred_to_police", officer_name="Agente Paquette", badge_number="4521")
    desk.call("POST", f"/cases/{case['id']}/notes", "demo-staff-a", json={"text": "Interne à l'école."})
    later = poll(desk, cursor=first["next_cursor"])
    assert [(i["case"]["id"], i["change"]) for i in later["items"]] == [(case["id"], "custody_event")]
    assert later["items"][0]["case"]["police_acknowledged_at"]


def test_the_police_list_says_which_handed_off_cases_await_acknowledgement(desk):
    """The feed says what changed since a cursor; the force's list says, of
    every case handed off to it, which ones it has not taken yet."""
    waiting, taken = desk.open_case(), desk.open_case()
    for case in (waiting, taken):
        desk.person(case, "author")
        desk.go(case, "hand_off", police_officer="Agente Paquette")
    desk.ok("POST", f"/cases/{taken['id']}/acknowledgement", "demo-police-a", 201, json={})
    listed = {c["id"]: c for c in desk.ok("GET", "/cases", "demo-police-a")["items"]}
    assert listed[waiting["id"]]["police_acknowledged_at"] is None
    assert listed[taken["id"]]["police_acknowledged_at"]
    assert desk.ok("GET", "/cases", "demo-police-b")["items"] == []


def test_the_feed_is_for_police_only(desk):
    for user in ("demo-staff-a", "demo-lead-a", "demo-dpj-a", "demo-auditor", "demo-admin"):
        assert desk.call("GET", "/police/cases", user).status_code == 403, user
    assert desk.call("GET", "/police/cases", "demo-police-a", params={"cursor": "!!"}).status_code == 422


def test_pages_walk_every_change_once(desk):
    cases = [desk.open_case() for _ in range(5)]
    for case in cases:
        desk.go(case, "hand_off", police_officer="Agent Roy")
    seen, cursor = [], None
    desk.settle()
    while True:
        page = desk.ok(
            "GET", "/police/cases", "demo-police-a", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        if not page["items"]:
            break
        seen += [item["case"]["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [case["id"] for case in cases]


@pytest.mark.postgres_only
def test_a_change_that_commits_late_is_not_skipped(desk, database_url):
    """Two changes commit in the other order than they started: the poll
    waits for the earlier one instead of moving its cursor past it."""
    early_case, late_case = desk.open_case(), desk.open_case()
    for case in (early_case, late_case):
        desk.go(case, "hand_off", police_officer="Agent Roy")
    cursor = poll(desk)["next_cursor"]
    engine = create_engine(database_url)
    table = PoliceFeedChange.__table__
    txid = literal_column("pg_current_xact_id()::text::bigint")
    early = engine.connect()
    early_tx = early.begin()
    early.execute(
        insert(table).values(
            police_force_id=desk.demo.force_a, case_id=early_case["id"], kind="custody_event", txid=txid
        )
    )
    with engine.begin() as late:  # starts after, commits first
        late.execute(
            insert(table).values(
                police_force_id=desk.demo.force_a, case_id=late_case["id"], kind="custody_event", txid=txid
            )
        )
    while_open = poll(desk, cursor=cursor, settle=False)  # settling would wait for the open one
    assert while_open["items"] == []  # the late change waits behind the open one
    early_tx.commit()
    early.close()
    engine.dispose()
    after = poll(desk, cursor=while_open["next_cursor"])
    assert [i["case"]["id"] for i in after["items"]] == [early_case["id"], late_case["id"]]


def test_the_feed_carries_every_police_visible_change(desk, settle_feed):
    case = desk.open_case()
    person = desk.person(case, "distributor")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    settle_feed()
    cursor = desk.ok("GET", "/police/cases", "demo-police-a")["next_cursor"]
    desk.confiscate(case, person)
    settle_feed()
    assert [
        i["change"] for i in desk.ok("GET", "/police/cases", "demo-police-a", params={"cursor": cursor})["items"]
    ] == ["device"]
    desk.notify_parents(case, person)
    settle_feed()
    latest = desk.ok("GET", "/police/cases", "demo-police-a", params={"cursor": cursor})["items"]
    assert [i["change"] for i in latest] == ["contact"]
