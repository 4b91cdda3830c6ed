"""The hash chain: canonical form, append under the chain's head lock, verify.

Canonical form, for anyone re-implementing the verification.  Each entry
stores the version of the form it was hashed with (``form``): version 1 for
the entries written before the service kept the caller's request id apart,
version 2 since; both verify, entry by entry.

* version ``n``: the fields of ``FIELDS[n]`` in that order, each as the UTF-8
  text stored in its column (an absent value is the empty string; integers in
  decimal; ``recorded_at`` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), preceded by
  the literal ``PREFIXES[n]`` (``sexto-audit-v1``, ``sexto-audit-v2``) and
  joined by the unit separator U+001F.  Version 2 is version 1 with
  ``caller_request_id`` (the ``X-Request-ID`` the caller sent, cleaned and
  bounded) after ``reason``; ``request_id`` is the service's own id for the
  request in both (in version 1 entries it could be the caller's).
  Stored values never contain control or format characters, nor line or
  paragraph separators (Unicode categories Cc, Cf, Zl, Zp: ``clean`` removes
  them on the way in), so the separator is unambiguous and an entry is one
  line wherever it is written;
* ``entry_hash = hex(SHA-256(UTF-8(prev_hash + U+001F + canonical)))``;
* ``prev_hash`` of the first entry of a chain is 64 zeros; ``seq`` starts at 1
  and has no gaps.

Appending reads the chain's head row ``FOR UPDATE`` (READ COMMITTED on
PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers), computes the
hash, inserts the entry and moves the head, in the caller's transaction.
``UNIQUE(chain, seq)`` and ``UNIQUE(chain, prev_hash)`` make any fork fail
loudly instead of silently.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import psycopg
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.audit.models import AuditChainHead, AuditEntry
from app.db import table_of, utcnow

SEPARATOR = "\x1f"
GENESIS_HASH = "0" * 64
_FIELDS_V1: tuple[str, ...] = (
    "chain",
    "seq",
    "recorded_at",
    "salt",
    "actor_kind",
    "actor_id",
    "actor_role",
    "org_ids",
    "client_address",
    "user_agent",
    "request_id",
    "action",
    "resource_type",
    "resource_id",
    "case_id",
    "outcome",
    "status_code",
    "returned_ids",
    "reason",
)
# The canonical forms by version (stored per entry in ``form``): each later
# version only adds fields at the end, so the columns of version n are a
# prefix of those of version n + 1.
FIELDS: dict[int, tuple[str, ...]] = {1: _FIELDS_V1, 2: (*_FIELDS_V1, "caller_request_id")}
PREFIXES: dict[int, str] = {1: "sexto-audit-v1", 2: "sexto-audit-v2"}
# The form new entries are hashed with.
FORM = 2
PREFIX = PREFIXES[FORM]
CANONICAL_FIELDS = FIELDS[FORM]
# Which fields a caller provides (the rest are the chain's own).
DRAFT_FIELDS = CANONICAL_FIELDS[4:]
PLATFORM_CHAIN = "platform"

_entries = table_of(AuditEntry)
_heads = table_of(AuditChainHead)
# Control and format characters, line and paragraph separators: what could
# break an entry over several lines (NEL, U+2028) or show it otherwise than
# it reads (a right-to-left override) in an export, a terminal or a viewer.
_UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def clean(value: object, limit: int | None) -> str | None:
    """Text as it will be stored and hashed: none of the characters of
    ``_UNSEEN``, at most ``limit`` characters (None: no bound)."""
    if value is None:
        return None
    text = str(value)
    # Every character of those categories is unprintable: most text is
    # printable and needs no look at each character.
    if not text.isprintable():
        text = "".join(char for char in text if unicodedata.category(char) not in _UNSEEN)
    return text[:limit] or None


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: Iterable[object], form: int = FORM) -> str:
    """The canonical text of an entry of canonical form ``form`` from its
    values (those of ``FIELDS[form]``, in that order)."""
    return SEPARATOR.join([PREFIXES[form], *("" if value is None else str(value) for value in values)])


def chain_hash(prev_hash: str, canonical_text: str) -> str:
    return hashlib.sha256((prev_hash + SEPARATOR + canonical_text).encode()).hexdigest()


@dataclass
class EntryDraft:
    """What one request says about itself; ``DRAFT_FIELDS`` in that order."""

    actor_kind: str = "anonymous"
    actor_id: str | None = None
    actor_role: str | None = None
    org_ids: str | None = None
    client_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    action: str = ""
    resource_type: str | None = None
    resource_id: str | None = None
    case_id: str | None = None
    outcome: str = "allowed"
    status_code: int = 200
    returned_ids: str | None = None
    reason: str | None = None
    caller_request_id: str | None = None

    def values(self) -> list[object]:
        """The fields as they are stored and hashed: every text through
        ``clean``, bounded by its column."""
        values = []
        for name, limit in _LIMITS:
            value = getattr(self, name)
            values.append(clean(value, limit) if isinstance(value, str) else value)
        return values


_LIMITS = [(name, getattr(_entries.c[name].type, "length", None)) for name in DRAFT_FIELDS]


def _lock_head(session: Session, chain: str) -> tuple[int, str]:
    statement = select(_heads.c.seq, _heads.c.entry_hash).where(_heads.c.chain == chain).with_for_update()
    row = session.execute(statement).first()
    if row is not None:
        return row.seq, row.entry_hash
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(dialect_insert(_heads).values(chain=chain, seq=0, entry_hash=GENESIS_HASH).on_conflict_do_nothing())
    row = session.execute(statement).one()
    return row.seq, row.entry_hash


def _pg_append_sql() -> str:
    """One statement that locks the head, inserts the entry and moves the head.

    PostgreSQL computes the SHA-256 here (its built-in ``sha256``) over the
    canonical form above, so that the head row stays locked only while the
    database works: no round trip to the application, no wait for a Python
    thread to be scheduled, between the lock and the commit (sent in the same
    pipeline).  The application still verifies every hash itself.  A missing
    head row is a division by zero: the transaction fails instead of
    committing a change without its entry.
    """

    def param(name: str) -> str:
        return f"CAST(%({name})s AS TEXT)"

    canonical_parts = []
    for name in CANONICAL_FIELDS:
        value = "CAST(head.seq + 1 AS TEXT)" if name == "seq" else param(name)
        canonical_parts.append(f"coalesce({value}, '')")
    canonical_sql = f"'{PREFIX}' || " + " || ".join(f"chr(31) || {part}" for part in canonical_parts)
    digest = f"encode(sha256(convert_to(head.entry_hash || chr(31) || {canonical_sql}, 'UTF8')), 'hex')"
    values = []
    for name in CANONICAL_FIELDS:
        if name == "seq":
            values.append("head.seq + 1")
        elif name == "status_code":
            values.append("CAST(%(status_code)s AS INTEGER)")
        else:
            values.append(param(name))
    return (
        "WITH head AS (SELECT seq, entry_hash FROM audit_chain_head WHERE chain = %(chain)s FOR UPDATE), "
        "guard AS (SELECT 1 / (SELECT count(*) FROM head)::int AS present), "
        f"entry AS (INSERT INTO audit_entry ({', '.join(CANONICAL_FIELDS)}, form, prev_hash, entry_hash) "
        f"SELECT {', '.join(values)}, {FORM}, head.entry_hash, {digest} FROM head RETURNING seq, entry_hash) "
        "UPDATE audit_chain_head SET seq = entry.seq, entry_hash = entry.entry_hash FROM entry, guard "
        "WHERE audit_chain_head.chain = %(chain)s AND guard.present = 1 RETURNING entry.seq, entry.entry_hash"
    )


_PG_APPEND = _pg_append_sql()
_known_heads: set[tuple[str, str]] = set()


class Appended(NamedTuple):
    """Where an entry went: its seq in its chain, and its hash."""

    seq: int
    entry_hash: str


def append(session: Session, draft: EntryDraft, chain: str = PLATFORM_CHAIN) -> Appended:
    """Append one entry in the session's transaction (the caller commits).

    SQLite: ``BEGIN IMMEDIATE`` already serializes writers; the application
    reads the head, hashes and inserts."""
    seq, values, digest, prev_hash = _next(_lock_head(session, chain), chain, draft)
    row = dict(zip(CANONICAL_FIELDS, values, strict=True))
    session.execute(insert(_entries).values(**row, form=FORM, prev_hash=prev_hash, entry_hash=digest))
    session.execute(update(_heads).where(_heads.c.chain == chain).values(seq=seq, entry_hash=digest))
    return Appended(seq, digest)


def append_and_commit(session: Session, draft: EntryDraft, chain: str = PLATFORM_CHAIN) -> Appended:
    """Append one entry and commit it with everything the session changed.

    On PostgreSQL the append statement and the COMMIT leave in one pipeline,
    so the chain's head is locked for the database's own work and the
    commit's flush to disk, nothing else."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        appended = append(session, draft, chain)
        session.commit()
        return appended
    session.flush()
    known = (connection.engine.url.render_as_string(), chain)
    if known not in _known_heads:
        _lock_head(session, chain)  # creates the head row the first time, then locks it
        _known_heads.add(known)
    raw = _psycopg(connection)
    params: dict[str, object] = {"chain": chain, "recorded_at": format_time(utcnow()), "salt": secrets.token_hex(16)}
    params.update(zip(DRAFT_FIELDS, draft.values(), strict=True))
    with raw.cursor() as cursor:
        with raw.pipeline():
            cursor.execute(_PG_APPEND, params, prepare=True)
            raw.commit()
        returned = cursor.fetchone()
        # The statement's guard fails it rather than let it return no row.
        assert returned is not None
        seq, entry_hash = returned
    session.commit()  # bookkeeping only: the database transaction is committed
    return Appended(int(seq), str(entry_hash))


def _next(head: tuple[int, str], chain: str, draft: EntryDraft) -> tuple[int, list[object], str, str]:
    prev_seq, prev_hash = head
    seq = prev_seq + 1
    values = [chain, seq, format_time(utcnow()), secrets.token_hex(16), *draft.values()]
    return seq, values, chain_hash(prev_hash, canonical(values)), prev_hash


# --- verification ------------------------------------------------------------


@dataclass
class ChainReport:
    chain: str
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str | None = None
    # The latest checkpoint of the chain that the witness holds (if any) and
    # whether the chain lost entries it named (``app.audit.checkpoints``).
    witnessed_seq: int | None = None
    witnessed_at: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)
    checkpoints_checked: int = 0
    checkpoint_problems: list[str] = field(default_factory=list)
    witness: str = "none"
    witness_records_checked: int = 0
    witness_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains) and not self.checkpoint_problems and not self.witness_problems


_VERIFY_COLUMNS = [_entries.c.id, _entries.c.prev_hash, _entries.c.entry_hash, _entries.c.form] + [
    _entries.c[name] for name in CANONICAL_FIELDS
]


def _canonical_sql() -> str:
    """The canonical text in the entry's own form, concatenated by the
    database from the stored text (integers cast to decimal text), so that
    only it crosses the wire.  An unknown form gives NULL, which matches no
    hash."""
    cases = []
    for form, names in FIELDS.items():
        parts = [f"coalesce(CAST({name} AS TEXT), '')" for name in names]
        text = f"'{PREFIXES[form]}' || " + " || ".join(f"chr(31) || {part}" for part in parts)
        cases.append(f"WHEN form = {form} THEN {text}")
    return f"CASE {' '.join(cases)} END"


def _psycopg(connection: Connection) -> psycopg.Connection:
    """The driver's own connection, for what SQLAlchemy does not offer
    (pipelines, COPY)."""
    raw = connection.connection.driver_connection
    # The only PostgreSQL driver the service installs and configures is psycopg 3.
    assert isinstance(raw, psycopg.Connection)
    return raw


_Row = tuple[int, int, str, str, bytes]


def _rows_postgresql(connection: Connection, chain_name: str) -> Generator[_Row, None, None]:
    """(id, seq, prev_hash, entry_hash, canonical bytes), streamed with COPY:
    the fastest way out of PostgreSQL, and pipelined with the hashing."""
    query = (
        f"COPY (SELECT id, seq, prev_hash, entry_hash, {_canonical_sql()} FROM audit_entry "
        f"WHERE chain = {_quote(chain_name)} ORDER BY seq) TO STDOUT"
    )
    cursor = _psycopg(connection).cursor()
    pending = b""
    with cursor.copy(query) as copy:
        for block in copy:
            lines = (pending + bytes(block)).split(b"\n")
            pending = lines.pop()
            for line in lines:
                entry_id, seq, prev_hash, entry_hash, text = line.split(b"\t", 4)
                if b"\\" in text:
                    text = _copy_unescaped(text)
                yield int(entry_id), int(seq), prev_hash.decode(), entry_hash.decode(), text


# COPY's text format writes a backslash, and the controls backspace, tab,
# newline, vertical tab, form feed and carriage return, as backslash escapes
# (other characters as they are).  Fields are cleaned of controls on the way
# in now, but entries stored before then may hold them, and their hashes are
# over the text as stored.
_COPY_ESCAPES = {b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f", b"r": b"\r"}
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_unescaped(text: bytes) -> bytes:
    """A field of COPY's text format, as it is stored."""
    return _COPY_ESCAPE.sub(lambda match: _COPY_ESCAPES.get(match.group(1), match.group(1)), text)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _rows_generic(connection: Connection, chain_name: str, batch: int) -> Generator[_Row, None, None]:
    statement = select(*_VERIFY_COLUMNS).where(_entries.c.chain == chain_name).order_by(_entries.c.seq)
    result = connection.execute(statement, execution_options={"stream_results": True, "yield_per": batch})
    for row in result:
        form = row[3]
        text = canonical(row[4 : 4 + len(FIELDS[form])], form).encode() if form in FIELDS else b""
        yield row[0], row[5], row[1], row[2], text


def verify_chain(
    connection: Connection, chain: str, batch: int = 20000, progress: Callable[[int], None] | None = None
) -> ChainReport:
    """Recompute one chain from its first entry; stop at the first mismatch.
    ``progress`` is told of the entries checked, ``batch`` at a time."""
    report = ChainReport(chain)
    expected_seq, prev_hash = 1, GENESIS_HASH
    # The head first: entries appended while we read are fine, but every entry
    # the head already counted must be there.
    head = connection.execute(select(_heads.c.seq).where(_heads.c.chain == chain)).scalar()
    if connection.dialect.name == "postgresql":
        rows = _rows_postgresql(connection, chain)
    else:
        rows = _rows_generic(connection, chain, batch)
    sha256, separator = hashlib.sha256, SEPARATOR.encode()
    for entry_id, seq, stored_prev, stored_hash, text in rows:
        if seq != expected_seq:
            report.first_bad_seq, report.first_bad_id = expected_seq, entry_id
            report.problem = f"entry {expected_seq} is missing (next present: {seq})"
            break
        if stored_prev != prev_hash:
            report.first_bad_seq, report.first_bad_id = seq, entry_id
            report.problem = "previous hash does not match"
            break
        if sha256(prev_hash.encode() + separator + text).hexdigest() != stored_hash:
            report.first_bad_seq, report.first_bad_id = seq, entry_id
            report.problem = "entry content does not match its hash"
            break
        prev_hash = stored_hash
        expected_seq += 1
        if progress is not None and expected_seq % batch == 1:
            progress(batch)
    if progress is not None:
        progress((expected_seq - 1) % batch)
    if report.problem is not None:
        # Read the stream to its end: stopping a COPY midway cancels it, which
        # would abort the transaction the rest of the request still needs.
        for _ in rows:
            pass
    else:
        report.entries = expected_seq - 1
        report.head_seq, report.head_hash = expected_seq - 1, prev_hash
        if head is not None and head > report.head_seq:
            report.first_bad_seq = report.head_seq + 1
            report.problem = f"the chain ends at {report.head_seq} but its head says {head}"
    rows.close()
    return report


def chains(connection: Connection) -> Sequence[str]:
    names: set[str] = set(connection.execute(select(_heads.c.chain)).scalars())
    names.update(connection.execute(select(_entries.c.chain).distinct()).scalars())
    return sorted(names)


def verify(
    connection: Connection,
    checkpoint_verifier: Callable[[Connection, VerifyReport], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    report = VerifyReport(chains=[verify_chain(connection, name, progress=progress) for name in chains(connection)])
    if checkpoint_verifier is not None:
        checkpoint_verifier(connection, report)
    return report
