"""Readiness, as /readyz and the metrics (``sexto_ready``) both read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.datakeys import KeyCheck, KeyProblem


@dataclass
class Readiness:
    """The schema's current migration (None: the database did not answer),
    whether it is the one the code expects, and the data keys that do not
    read the stored data."""

    migration: str | None
    current: bool
    key_problems: list[KeyProblem] = field(default_factory=list)
    keys_checked: bool = False

    @property
    def ready(self) -> bool:
        return self.current and self.keys_checked and not self.key_problems


def readiness(engine: Engine, expected_migration: str, key_check: KeyCheck) -> Readiness:
    """The database answers, its schema is at ``expected_migration``, and the
    data keys read the data stored under them (checked once, then kept)."""
    try:
        with engine.connect() as connection:
            migration = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return Readiness(migration=None, current=False)
    state = Readiness(migration=migration, current=migration == expected_migration)
    if not state.current:
        return state
    try:
        state.key_problems = key_check.run(engine)
    except SQLAlchemyError:
        return state
    state.keys_checked = True
    return state
