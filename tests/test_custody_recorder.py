"""A device's chain of custody says which side recorded each step: the role
of the person or system that recorded it, as it was then, for everyone who
reads the chain (school users, police)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from app.accounts.models import User
from app.cases.models import Case, CustodyEvent, Device, Participant
from app.db import create_db_engine, utcnow
from app.migrations import downgrade, upgrade
from app.orgs.models import School


def test_each_step_names_the_role_that_recorded_it(desk):
    case = desk.open_case()
    owner = desk.person(case, "distributor")
    device = desk.confiscate(case, owner)
    assert [(e["kind"], e["recorded_by_role"]) for e in device["events"]] == [("confiscated", "school_staff")]
    stored = desk.custody(device, "stored", "demo-lead-a", storage_location="Coffre de la direction")
    assert stored.status_code == 201, stored.text
    assert stored.json()["recorded_by_role"] == "school_lead"
    desk.go(case, "start_evaluation")
    desk.go(case, "hand_off", police_officer="Agente Paquette")
    taken = desk.custody(
        device, "transferred_to_police", "demo-police-a", officer_name="Agente Paquette", badge_number="4521"
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["recorded_by_role"] == "police_liaison"
    chain = [("confiscated", "school_staff"), ("stored", "school_lead"), ("transferred_to_police", "police_liaison")]
    # The same chain for the school and for police, in the device list and in its own list.
    devices = desk.ok("GET", f"/cases/{case['id']}/devices", "demo-staff-a")["items"]
    assert [(e["kind"], e["recorded_by_role"]) for e in devices[0]["events"]] == chain
    events = desk.ok("GET", f"/devices/{device['id']}/custody-events", "demo-police-a")["items"]
    assert [(e["kind"], e["recorded_by_role"]) for e in events] == chain


def test_the_migration_fills_in_the_role_of_steps_recorded_before(databases):
    """0024: a step recorded before takes its account's role; a step whose
    account is gone stays without one; the downgrade drops the column."""
    url = databases.clone("demo")
    downgrade(url, "0023")
    engine = create_db_engine(url, pool_size=1)
    events = CustodyEvent.__table__
    kept, gone = uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as connection:
            school_id = connection.execute(select(School.id)).scalars().first()
            user_id = connection.execute(select(User.id).where(User.username == "demo-lead-a")).scalar_one()
            case_id, person_id, device_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            connection.execute(
                insert(Case.__table__).values(
                    id=case_id,
                    school_id=school_id,
                    year=2026,
                    number=999,
                    reference="SX-2026-00999",
                    status="reported",
                    reporter_type="student",
                    channel="in_person",
                    place="school",
                    summary="x",
                    csam_suspected=False,
                    malicious_intent=False,
                    refusal_to_participate=False,
                    adult_involved=False,
                    urgent_wellbeing_concern=False,
                    reporter_grid_skipped=False,
                    opened_by=user_id,
                    version=1,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            connection.execute(
                insert(Participant.__table__).values(
                    id=person_id,
                    case_id=case_id,
                    label="P1",
                    role="distributor",
                    is_minor=True,
                    name="x",
                    created_by=user_id,
                    created_at=utcnow(),
                )
            )
            connection.execute(
                insert(Device.__table__).values(
                    id=device_id,
                    case_id=case_id,
                    label="D1",
                    kind="phone",
                    description="x",
                    owner_participant_id=person_id,
                    switched_off_confirmed=True,
                    content_not_viewed=True,
                    confiscated_by=user_id,
                    created_at=utcnow(),
                )
            )
            # The table as it was at 0023: the insert names no recorder's role.
            for sequence, (event_id, recorder) in enumerate([(kept, user_id), (gone, uuid.uuid4())], start=1):
                connection.execute(
                    insert(events).values(
                        id=event_id,
                        device_id=device_id,
                        sequence=sequence,
                        kind="confiscated" if sequence == 1 else "stored",
                        occurred_at=utcnow(),
                        recorded_by=recorder,
                        created_at=utcnow(),
                    )
                )
        upgrade(url)
        with engine.connect() as connection:
            roles = dict(connection.execute(select(events.c.id, events.c.recorded_by_role)).all())
        assert roles[kept] == "school_lead"
        assert roles[gone] is None
        downgrade(url, "0023")
        upgrade(url)
    finally:
        engine.dispose()
