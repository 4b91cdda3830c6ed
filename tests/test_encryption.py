"""Participants' names and student ids are encrypted at rest (AES-GCM)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from app.config import Settings
from app.crypto import DataCipher


def raw_rows(database_url: str, sql: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = [" ".join(str(value) for value in row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


def test_the_database_holds_no_plaintext_name_or_student_id(desk, database_url):
    case = desk.open_case()
    desk.call(
        "POST",
        f"/cases/{case['id']}/participants",
        "demo-staff-a",
        json={"role": "depicted", "is_minor": True, "name": "Rosalie Unique-Nom", "student_id": "8675309"},
        headers={"Idempotency-Key": "enc-1"},
    )
    rows = raw_rows(database_url, "SELECT name, student_id FROM participant")
    assert rows and all("Rosalie" not in row and "8675309" not in row for row in rows)
    assert all(row.startswith("v1:") for row in rows)
    kept = raw_rows(database_url, "SELECT body FROM idempotency_record")
    assert kept and all("Rosalie" not in row for row in kept)
    people = desk.ok("GET", f"/cases/{case['id']}/participants", "demo-lead-a")["items"]
    assert (people[0]["name"], people[0]["student_id"]) == ("Rosalie Unique-Nom", "8675309")


def test_free_text_is_encrypted_too(desk, database_url):
    """Staff may name people in the summary or the chronology despite the guidance."""
    case = desk.open_case(summary="Rosalie aurait reçu la photo.")
    desk.ok(
        "PATCH", f"/cases/{case['id']}", "demo-staff-a", json={"summary": "Rosalie et Éloi auraient reçu la photo."}
    )
    desk.ok("POST", f"/cases/{case['id']}/notes", "demo-staff-a", 201, json={"text": "Rencontre avec Rosalie."})
    rows = raw_rows(database_url, "SELECT summary FROM sexto_case") + raw_rows(
        database_url, "SELECT text FROM case_note"
    )
    assert len(rows) == 2 and all(row.startswith("v1:") and "Rosalie" not in row for row in rows)
    assert desk.ok("GET", f"/cases/{case['id']}", "demo-lead-a")["summary"] == "Rosalie et Éloi auraient reçu la photo."
    assert [n["text"] for n in desk.ok("GET", f"/cases/{case['id']}/notes", "demo-lead-a")["items"]] == [
        "Rencontre avec Rosalie."
    ]


def test_a_value_is_bound_to_its_row_and_field():
    cipher = DataCipher({"k1": secrets.token_bytes(32)}, "k1")
    stored = cipher.encrypt("Rosalie", "participant:1:name")
    assert cipher.decrypt(stored, "participant:1:name") == "Rosalie"
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored, "participant:2:name")


def test_keys_rotate_and_old_values_are_rewritten(desk, database_url, settings, var_dir, tmp_path):
    case = desk.open_case()
    desk.person(case, "witness", name="Éloïse Témoin")
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    dev_keys = json.loads((var_dir / "data-keys.json").read_text())
    keys = {**dev_keys["keys"], "k2027": new_key}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTO_")}
    env.update(
        SEXTO_DATABASE_URL=settings.effective_database_url,
        SEXTO_VAR_DIR=str(var_dir),
        SEXTO_DATA_KEYS=json.dumps(keys),
        SEXTO_DATA_KEY_CURRENT="k2027",
    )
    done = subprocess.run([sys.executable, "-m", "app.cli", "reencrypt-data"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert all(row.startswith("v1:k2027:") for row in raw_rows(database_url, "SELECT name FROM participant"))
    assert all(row.startswith("v1:k2027:") for row in raw_rows(database_url, "SELECT summary FROM sexto_case"))
    only_new = DataCipher({"k2027": base64.b64decode(new_key)}, "k2027")
    person_id, stored = raw_rows(database_url, "SELECT id, name FROM participant")[0].split(" ", 1)
    if len(person_id) == 32:  # SQLite stores UUIDs without dashes
        person_id = f"{person_id[:8]}-{person_id[8:12]}-{person_id[12:16]}-{person_id[16:20]}-{person_id[20:]}"
    assert only_new.decrypt(stored, f"participant:{person_id}:name") == "Éloïse Témoin"


def test_production_needs_data_keys(tmp_path):
    with pytest.raises(ValidationError, match="SEXTO_DATA_KEYS"):
        Settings(
            environment="production",
            database_url="postgresql+psycopg://x@db/sexto",
            token_signing_key_file=tmp_path / "k",
            audit_signing_key_file=tmp_path / "a",
        )


def test_the_lead_exports_everything_held_about_one_person_and_it_is_audited(desk, db):
    from sqlmodel import select

    from app.audit.models import AuditEntry

    case = desk.open_case()
    reporter = desk.person(case, "reporter", name="Léa Demandeuse")
    desk.grid(case, reporter, content="nudity_or_breasts", ages=[15])
    desk.notify_parents(case, reporter)
    desk.confiscate(case, reporter)
    desk.person(case, "witness", name="Autre Personne")
    path = f"/cases/{case['id']}/participants/{reporter['id']}/export"
    export = desk.ok("GET", path, "demo-lead-a")
    assert export["records"][0]["name"] == "Léa Demandeuse"
    assert len(export["grids"]) == 1 and len(export["contacts"]) == 1 and len(export["devices"]) == 1
    assert "Autre Personne" not in str(export)
    db.expire_all()
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.resource_id, entry.case_id) == ("export_participant", reporter["id"], case["id"])
    assert "Léa" not in str(entry.model_dump())
    # Staff on the team, the auditor and the DPJ reporter (suspected CSAM)
    # see the case, not the export (403); police, before hand-off, do not see
    # the case at all (404).
    for user, status in (("demo-staff-a", 403), ("demo-auditor", 403), ("demo-dpj-a", 403), ("demo-police-a", 404)):
        assert desk.call("GET", path, user).status_code == status, user
