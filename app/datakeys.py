"""The values encrypted with the data keys (``app.crypto``), where they are,
and the two things done across all of them: checking at start-up that the
keys configured read what is stored, and rewriting everything under the
current key (``sexto reencrypt-data``).

The check reads a handful of rows, never the data as a whole: for each
encrypted column, one query (a scan that stops at the first match) for a
value under a key id that is not configured, repeated once per such id, and,
for each configured key id, one stored value decrypted.  A key whose bytes
are wrong fails that decryption (AES-GCM authenticates), so the service can
say "not ready" naming the key id before a request meets an opaque error.

The rewrite goes column by column in batches, in primary-key order, each
batch committed: an interrupted run keeps what it did, and the next run
skips every value already under the current key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, func, not_, select, update

from app.auth.mfa.models import TotpFactor, secret_context
from app.cases.models import Case, Note, Participant
from app.cases.service import note_context, summary_context
from app.crypto import PREFIX, DataCipher
from app.db import table_of
from app.idempotency.answers import answer_context
from app.idempotency.models import IdempotencyRecord
from app.pagination import after


@dataclass(frozen=True)
class EncryptedColumn:
    """A column whose values are encrypted, and the associated data each
    value is bound to (computed from its row)."""

    table: Table
    column: str
    context: Callable[[Any], str]

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def key(self) -> list[Any]:
        return list(self.table.primary_key.columns)


ENCRYPTED_COLUMNS = (
    EncryptedColumn(table_of(Participant), "name", lambda row: f"participant:{row.id}:name"),
    EncryptedColumn(table_of(Participant), "student_id", lambda row: f"participant:{row.id}:student_id"),
    EncryptedColumn(table_of(Case), "summary", summary_context),
    EncryptedColumn(table_of(Note), "text", note_context),
    EncryptedColumn(table_of(IdempotencyRecord), "body", lambda row: answer_context(row.subject, row.key)),
    EncryptedColumn(table_of(TotpFactor), "secret", lambda row: secret_context(row.user_id)),
)


def _under(key_id: str) -> str:
    return f"{PREFIX}:{key_id}:"


def _stored_under(encrypted: EncryptedColumn, key_id: str) -> ColumnElement[bool]:
    # autoescape: a key id may hold the LIKE wildcards _ and %.
    return encrypted.table.c[encrypted.column].startswith(_under(key_id), autoescape=True)


# --- the check at start-up ------------------------------------------------------


@dataclass(frozen=True)
class KeyProblem:
    key_id: str
    problem: str  # "wrong_key": the configured key does not decrypt; "missing_key": not configured

    def __str__(self) -> str:
        if self.problem == "wrong_key":
            return f"data key {self.key_id!r} does not decrypt the data stored under it"
        return f"data is stored under key {self.key_id!r}, which is not among the configured data keys"


def _key_ids_besides(connection: Connection, encrypted: EncryptedColumn, known: list[str]) -> list[str]:
    """The key ids a column holds values under, other than ``known``: one
    query per id found (a scan that stops at its first value), and a last
    one that finds none."""
    column = encrypted.table.c[encrypted.column]
    known, found = list(known), list[str]()
    while True:
        value = connection.execute(
            select(column)
            .where(column.startswith(f"{PREFIX}:", autoescape=True))
            .where(and_(*(not_(_stored_under(encrypted, key_id)) for key_id in known)))
            .limit(1)
        ).scalar()
        if value is None:
            return found
        key_id = value.split(":", 2)[1]
        found.append(key_id)
        known.append(key_id)


def stored_key_ids(connection: Connection) -> list[str]:
    """Every key id some stored value is encrypted under (a backup's
    manifest lists them: the keys that backup needs)."""
    found: list[str] = []
    for encrypted in ENCRYPTED_COLUMNS:
        found += _key_ids_besides(connection, encrypted, found)
    return sorted(found)


def check_keys(connection: Connection, cipher: DataCipher) -> list[KeyProblem]:
    """What keeps the configured keys from reading the stored data (empty
    when nothing does).  Names key ids, never keys nor values."""
    missing: list[str] = []
    unchecked = set(cipher.key_ids)
    wrong: set[str] = set()
    for encrypted in ENCRYPTED_COLUMNS:
        column = encrypted.table.c[encrypted.column]
        missing += _key_ids_besides(connection, encrypted, [*cipher.key_ids, *missing])
        for key_id in sorted(unchecked):
            row = connection.execute(
                select(*encrypted.key, column).where(_stored_under(encrypted, key_id)).limit(1)
            ).first()
            if row is None:
                continue
            unchecked.discard(key_id)
            try:
                cipher.decrypt(row[-1], encrypted.context(row))
            except (InvalidTag, ValueError):
                wrong.add(key_id)
    return [KeyProblem(key_id, "wrong_key") for key_id in sorted(wrong)] + [
        KeyProblem(key_id, "missing_key") for key_id in missing
    ]


class KeyCheck:
    """The start-up check, kept for /readyz: run once, when the schema is
    there to be read (a service started before its migration checks on the
    first readiness probe that finds the schema current)."""

    def __init__(self, cipher: DataCipher) -> None:
        self._cipher = cipher
        self._lock = threading.Lock()
        self.problems: list[KeyProblem] | None = None  # None: not checked yet

    def run(self, engine: Engine) -> list[KeyProblem]:
        with self._lock:
            if self.problems is None:
                with engine.connect() as connection:
                    self.problems = check_keys(connection, self._cipher)
            return self.problems


# --- reencrypt-data -------------------------------------------------------------


def _needs_rewrap(encrypted: EncryptedColumn, current: str) -> ColumnElement[bool]:
    column = encrypted.table.c[encrypted.column]
    # Destroyed summaries stay empty; values written before encryption are plain text.
    return and_(column.is_not(None), column != "", not_(_stored_under(encrypted, current)))


def count_to_rewrap(connection: Connection, cipher: DataCipher) -> int:
    return sum(
        connection.execute(
            select(func.count()).select_from(encrypted.table).where(_needs_rewrap(encrypted, cipher.current))
        ).scalar_one()
        for encrypted in ENCRYPTED_COLUMNS
    )


def rewrap_batches(engine: Engine, cipher: DataCipher, batch_size: int) -> Iterator[int]:
    """Rewrite, under the current key, every value that is not under it, a
    batch at a time; yields the number rewritten by each committed batch.

    A row changed since it was read (the service writing at the same time,
    under the current key) is left as it is now."""
    for encrypted in ENCRYPTED_COLUMNS:
        column = encrypted.table.c[encrypted.column]
        key = encrypted.key
        last_key: tuple[Any, ...] | None = None
        while True:
            with engine.begin() as connection:
                statement = select(*key, column).where(_needs_rewrap(encrypted, cipher.current))
                if last_key is not None:
                    statement = statement.where(after(key, last_key))
                rows = connection.execute(statement.order_by(*key).limit(batch_size)).all()
                if not rows:
                    break
                rewritten = 0
                for row in rows:
                    context = encrypted.context(row)
                    value = cipher.encrypt(cipher.decrypt(row[-1], context), context)
                    matches = [pk == value_ for pk, value_ in zip(key, row[:-1], strict=True)]
                    done = connection.execute(
                        update(encrypted.table).where(*matches, column == row[-1]).values({encrypted.column: value})
                    )
                    rewritten += done.rowcount
                last_key = tuple(rows[-1][:-1])
            yield rewritten
            if len(rows) < batch_size:
                break
