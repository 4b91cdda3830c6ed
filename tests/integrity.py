"""Checks that a refusal lost nothing and stored nothing: row counts of every
table, the audit chain, and the problem document's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import create_engine, func, select, text
from sqlmodel import SQLModel
from sqlmodel import select as select_models

import app.models  # noqa: F401  (every table on the metadata)
from app.audit import chain
from app.audit.models import AuditEntry
from app.db import create_db_engine

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
PROBLEM_CONTENT_TYPE = "application/problem+json"
# Refusals are audited: these grow, by exactly one entry per request.
AUDIT_TABLES = frozenset({"audit_entry", "audit_chain_head", "audit_checkpoint"})


def _engine(database_url: str):
    if database_url.startswith("sqlite"):
        return create_engine(database_url)
    return create_db_engine(database_url, pool_size=1)


def tamper(database_url: str, statement: str, **params: Any) -> None:
    """Run ``statement`` on the audit log as someone with the database's
    keys would, past its append-only guards (PostgreSQL: triggers off for
    the transaction; SQLite: the update and delete triggers dropped)."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        connection.execute(text(statement), params)
    engine.dispose()


def table_counts(database_url: str) -> dict[str, int]:
    """Rows in every table, read in a fresh transaction."""
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def verify_chain(database_url: str) -> None:
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            report = chain.verify(connection)
    finally:
        engine.dispose()
    assert report.ok, [vars(c) for c in report.chains]


def assert_unchanged(before: dict[str, int], after: dict[str, int], audited: int) -> None:
    """Nothing stored but one audit entry for each refused request."""
    changed = {
        name: (before[name], after.get(name))
        for name in before
        if name not in AUDIT_TABLES and before[name] != after.get(name)
    }
    assert not changed, f"rows changed: {changed}"
    assert after["audit_entry"] == before["audit_entry"] + audited, (
        f"{audited} refusals, {after['audit_entry'] - before['audit_entry']} audit entries"
    )


_document: dict[str, Any] | None = None


def committed_document() -> dict[str, Any]:
    global _document
    if _document is None:
        _document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return _document


def assert_problem(response, status: int, code: str | tuple[str, ...], context: object = "") -> dict[str, Any]:
    """An RFC 9457 problem document, with the stable type and code, that
    matches the committed document's ProblemDocument schema."""
    codes = (code,) if isinstance(code, str) else code
    assert response.status_code == status, f"{context} {response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM_CONTENT_TYPE, response.headers
    body = response.json()
    assert body["code"] in codes, body
    assert body["type"] == f"urn:sexto:problem:{body['code']}", body
    assert body["status"] == status, body
    assert body["title"] and body["detail"], body
    document = committed_document()
    jsonschema.validate(body, {"$ref": "#/components/schemas/ProblemDocument", "components": document["components"]})
    return body


def last_entry(db) -> AuditEntry:
    """The audit log's newest entry, as committed (the session's cache dropped)."""
    db.expire_all()
    return db.exec(select_models(AuditEntry).order_by(AuditEntry.id.desc())).first()
