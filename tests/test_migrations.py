"""Alembic is the only way the schema is made: the models and the migrations
must agree, and every migration must go down and up again, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import app.models  # noqa: F401
from app.db import create_db_engine, metadata
from app.migrations import downgrade, head_revision, upgrade


def _diff(url: str) -> list:
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_agree(databases):
    url = databases.clone("empty")
    assert _diff(url) == []


def test_upgrade_downgrade_upgrade(databases):
    url = databases.blank()
    upgrade(url)
    downgrade(url, "base")
    engine = create_db_engine(url, pool_size=1)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _diff(url) == []
    engine = create_db_engine(url, pool_size=1)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    engine.dispose()


def test_constraints_are_named_by_the_convention(databases):
    url = databases.clone("empty")
    engine = create_db_engine(url, pool_size=1)
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        for fk in inspector.get_foreign_keys(table):
            assert fk["name"].startswith(f"fk_{table}_"), fk
        for unique in inspector.get_unique_constraints(table):
            assert unique["name"].startswith(f"uq_{table}_"), unique
        if engine.dialect.name == "postgresql":
            assert inspector.get_pk_constraint(table)["name"] == f"pk_{table}"
    engine.dispose()
