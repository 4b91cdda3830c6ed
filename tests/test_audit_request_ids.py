"""The audited request id is the service's own (#13 item 16): a caller's
``X-Request-ID`` is kept apart, in ``caller_request_id``, which canonical
form 2 hashes too; the entries of form 1 still verify next to those of form 2,
and the canonical text the database builds for verification is the one
Python builds."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import create_engine, insert, select, text, update

from app.audit import chain
from app.audit.models import AuditChainHead, AuditEntry
from tests.integrity import last_entry


def _entry_of(db, response) -> AuditEntry:
    db.expire_all()
    return db.exec(select(AuditEntry).where(AuditEntry.request_id == response.headers["x-request-id"])).scalars().one()


def test_the_service_records_its_own_request_id_and_the_callers_apart(client, login, db):
    headers = login("demo-lead-a")
    first = client.get("/api/v1/auth/me", headers={**headers, "X-Request-ID": "board-system-42-abc"})
    second = client.get("/api/v1/auth/me", headers={**headers, "X-Request-ID": "board-system-42-abc"})
    assert first.status_code == second.status_code == 200
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2 and "board-system-42-abc" not in ids  # the caller chose neither
    for response in (first, second):
        entry = _entry_of(db, response)
        assert entry.request_id == response.headers["x-request-id"]
        assert entry.caller_request_id == "board-system-42-abc"
        assert entry.form == chain.FORM == 2
    plain = client.get("/api/v1/auth/me", headers=headers)
    assert _entry_of(db, plain).caller_request_id is None


def test_the_callers_request_id_is_cleaned_and_bounded(client, login, db):
    sent = "caller\x1fid\x7f" + "x" * 100  # a unit separator, a DEL
    response = client.get("/api/v1/auth/me", headers={**login("demo-lead-a"), "X-Request-ID": sent.encode("latin-1")})
    entry = _entry_of(db, response)
    assert entry.caller_request_id == ("callerid" + "x" * 100)[:64]


def test_a_refusal_before_routing_has_the_same_ids(client, login, db):
    response = client.post(
        "/api/v1/boards",
        content=b"\xff\xd8\xff",
        headers={**login("demo-admin"), "Content-Type": "image/jpeg", "X-Request-ID": "board-system-refused"},
    )
    assert response.status_code == 415
    entry = last_entry(db)
    assert entry.action == "refused_before_routing"
    assert entry.request_id == response.headers["x-request-id"] != "board-system-refused"
    assert entry.caller_request_id == "board-system-refused"


def _append_form_1_entries(database_url: str, count: int) -> None:
    """Entries as a version before form 2 wrote them (no form given: the
    column's default, 1), the chain's head moved over them."""
    engine = create_engine(database_url)
    heads, entries = AuditChainHead.__table__, AuditEntry.__table__
    with engine.begin() as connection:
        seq, prev = connection.execute(select(heads.c.seq, heads.c.entry_hash).where(heads.c.chain == "platform")).one()
        for _ in range(count):
            seq += 1
            values = ["platform", seq, chain.format_time(chain.utcnow()), secrets.token_hex(16), "anonymous"]
            values += [None, None, None, "127.0.0.1", "old", "caller-chosen", "read_case", "cases", None, None]
            values += ["allowed", 200, None, None]
            digest = chain.chain_hash(prev, chain.canonical(values, 1))
            connection.execute(
                insert(entries).values(
                    **dict(zip(chain.FIELDS[1], values, strict=True)), prev_hash=prev, entry_hash=digest
                )
            )
            prev = digest
        connection.execute(update(heads).where(heads.c.chain == "platform").values(seq=seq, entry_hash=prev))
    engine.dispose()


def _verify(client, login) -> dict:
    response = client.get("/api/v1/audit/verify", headers=login("demo-auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_form_1_entries_still_verify_after_form_2_entries_are_appended(client, login, db, database_url):
    _append_form_1_entries(database_url, 5)
    client.get("/api/v1/auth/me", headers={**login("demo-lead-a"), "X-Request-ID": "after-the-switch"})
    result = _verify(client, login)
    assert result["ok"] is True, result
    db.expire_all()
    forms = [entry.form for entry in db.exec(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    assert forms[-1] == 2 and 1 in forms and forms.index(1) < len(forms) - 1


def test_an_entry_relabelled_to_another_form_does_not_verify(client, login, db, database_url):
    client.get("/api/v1/auth/me", headers={**login("demo-lead-a"), "X-Request-ID": "relabelled"})
    target = last_entry(db)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
        connection.execute(text(f"UPDATE audit_entry SET form = 1 WHERE id = {target.id}"))
    engine.dispose()
    result = _verify(client, login)
    assert result["ok"] is False
    assert result["chains"][0]["first_bad_id"] == target.id


def test_python_and_the_database_build_the_same_canonical_text(client, login, db, database_url, engine_name):
    """Verification reads rows the database renders (PostgreSQL: COPY's text
    format; SQLite: the text it concatenates); for entries of both forms,
    the hashed text read from them is the text Python builds from the stored
    columns, byte for byte, escapes included."""
    _append_form_1_entries(database_url, 3)
    client.get(
        "/api/v1/auth/me",
        headers={
            **login("demo-lead-a"),
            "X-Request-ID": f"caller-{uuid.uuid4()}",
            "User-Agent": "a \\ b é 漢".encode(),
        },
    )
    engine = create_engine(database_url)
    rendered = []
    with engine.connect() as connection:
        # Every chain (the platform's, the lead's board's), each in its order.
        names = chain.chains(connection)
        for name in names:
            if engine_name == "postgresql":
                query = chain._COPY_ROW.format(
                    prefix=chain._PREFIX_SQL, fields=", ".join(chain._STREAM_FIELDS), chain=chain._quote(name), start=1
                )
                for line in list(chain._copy_lines(connection, query)):
                    fields = chain._copy_fields(line)
                    form = chain._FORM_OF_PREFIX[fields[1]]
                    text_read = chain._SEP.join([fields[0], fields[1], *fields[2 : 2 + len(chain.FIELDS[form])]])
                    if form == chain.FORM and b"\\" not in line:
                        assert line[:-66] == text_read  # what the fast path hashes
                    rendered.append((form, text_read.decode()))
            else:
                rows = connection.execute(
                    text(
                        f"SELECT form, {chain._canonical_sqlite()} FROM audit_entry WHERE chain = :chain ORDER BY seq"
                    ),
                    {"chain": name},
                ).all()
                rendered += [(row[0], row[1]) for row in rows]
    engine.dispose()
    db.expire_all()
    stored = [
        entry
        for name in names
        for entry in db.exec(select(AuditEntry).where(AuditEntry.chain == name).order_by(AuditEntry.seq)).scalars()
    ]
    assert {form for form, _ in rendered} == {1, 2}
    assert len(rendered) == len(stored)
    assert any("\\" in (entry.user_agent or "") for entry in stored)
    for (form, text_read), entry in zip(rendered, stored, strict=True):
        values = [getattr(entry, name) for name in chain.FIELDS[entry.form]]
        assert form == entry.form
        assert text_read == entry.prev_hash + chain.SEPARATOR + chain.canonical(values, entry.form)
