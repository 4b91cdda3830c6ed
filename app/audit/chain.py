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

Chains: one per organization whose requests are audited, so that appends for
different organizations never wait on each other's head.  ``board-<uuid>``
holds every entry of a request that reached a case of that school board's
schools (whoever made it: its staff, a police liaison of the force it was
handed off to, an auditor), and the other requests of people whose schools
or boards are that board's; ``force-<uuid>`` those of a police force's
people that reached no case (the feed of handed-off cases, their own
sign-out); ``platform`` everything else (the admins, an account of several
organizations, sign-ins, requests without a valid token).  The rule itself
is ``app.audit.recorder.chain_of``; docs/audit.md#chains says why an entry
about two organizations is still provable.  A chain's head row is created
by its first append (``_lock_head``: an insert that does nothing when
another transaction created it, then the lock), so two first appends at
once queue like any other two.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import selectors
import unicodedata
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import psycopg
from sqlalchemy import Connection, insert, select, text, update
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
# Chain names are also folder names of the directory witness
# (``app.audit.witness``): letters, digits, ``-``, ``_`` and ``.``.
BOARD_PREFIX = "board-"
FORCE_PREFIX = "force-"


def board_chain(board_id: object) -> str:
    """The chain of a school board's entries."""
    return f"{BOARD_PREFIX}{board_id}"


def force_chain(force_id: object) -> str:
    """The chain of a police force's own entries (those about no case)."""
    return f"{FORCE_PREFIX}{force_id}"


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
        # Creates the head row the first time, then locks it; remembered
        # only once committed below (a rolled back transaction takes its
        # head row with it).
        _lock_head(session, chain)
    raw = _psycopg(connection)
    params: dict[str, object] = {"chain": chain, "recorded_at": format_time(utcnow()), "salt": secrets.token_hex(16)}
    params.update(zip(DRAFT_FIELDS, draft.values(), strict=True))
    with raw.cursor() as cursor:
        try:
            with raw.pipeline():
                cursor.execute(_PG_APPEND, params, prepare=True)
                raw.commit()
        except Exception:
            # The head row may be gone (a database restored under a running
            # process): the next append looks again.
            _known_heads.discard(known)
            raise
        returned = cursor.fetchone()
        # The statement's guard fails it rather than let it return no row.
        assert returned is not None
        seq, entry_hash = returned
    _known_heads.add(known)
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
    # The first entry recomputed: 1, or the seq of the witnessed checkpoint
    # an incremental verification started from.
    verified_from: int = 1

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


# What the verifier reads of each entry, in this order: the previous hash,
# the prefix of its canonical form (``'sexto-audit-v' || form``, so that the
# prefix names the form stored), the fields of the newest form (those of an
# older form are a prefix of them) and the stored hash.  The hashed text of an
# entry of the newest form is then the row itself up to its last separator.
_STREAM_FIELDS = CANONICAL_FIELDS
_PREFIX_SQL = "'sexto-audit-v' || CAST(form AS TEXT)"
_FORM_OF_PREFIX = {prefix.encode(): form for form, prefix in PREFIXES.items()}
_SEP = SEPARATOR.encode()
_COPY_ROW = (
    "COPY (SELECT prev_hash, {prefix}, {fields}, entry_hash FROM audit_entry "
    "WHERE chain = {chain} AND seq >= {start} ORDER BY seq) TO STDOUT "
    "WITH (FORMAT text, DELIMITER E'\\x1f', NULL '', ENCODING 'UTF8')"
)


@dataclass(frozen=True)
class Start:
    """Where a chain's verification begins: the entry at ``seq`` (recomputed
    too) with the hash a witnessed checkpoint signed.  ``seq`` 1 with the
    genesis hash is the whole chain."""

    seq: int
    entry_hash: str


def _psycopg(connection: Connection) -> psycopg.Connection:
    """The driver's own connection, for what SQLAlchemy does not offer
    (pipelines, COPY)."""
    raw = connection.connection.driver_connection
    # The only PostgreSQL driver the service installs and configures is psycopg 3.
    assert isinstance(raw, psycopg.Connection)
    return raw


def _copy_lines(connection: Connection, query: str) -> Generator[bytes, None, None]:
    """The rows of a ``COPY … TO STDOUT``, one line each (with its newline).

    Read from libpq itself (``psycopg.Connection.pgconn``, documented for
    what psycopg does not wrap): psycopg's ``Copy`` costs a Python
    generator and a wait per row, more than hashing the row.  Waiting for
    data goes through a selector, so other threads run meanwhile.  The
    stream is always read to its end (the caller drains it after a bad
    entry): stopping a COPY midway cancels it, which would abort the
    transaction the rest of the request still needs."""
    raw = _psycopg(connection)
    if raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        raw.execute("SELECT 1")  # opens the transaction psycopg would open for any statement
    pgconn = raw.pgconn
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_READ)
        pgconn.send_query(query.encode())
        while pgconn.flush():
            selector.modify(pgconn.socket, selectors.EVENT_READ | selectors.EVENT_WRITE)
            selector.select()
        selector.modify(pgconn.socket, selectors.EVENT_READ)
        pgconn.consume_input()
        while pgconn.is_busy():
            selector.select()
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None or result.status != psycopg.pq.ExecStatus.COPY_OUT:
            while pgconn.get_result() is not None:
                pass
            raise psycopg.DatabaseError(_failure(result))
        read = pgconn.get_copy_data
        while True:
            size, data = read(1)
            if size > 0:
                yield bytes(data)
            elif size == 0:
                selector.select()
                pgconn.consume_input()
            else:
                break
        ending = pgconn.get_result()
        while pgconn.get_result() is not None:
            pass
        if ending is None or ending.status != psycopg.pq.ExecStatus.COMMAND_OK:
            raise psycopg.DatabaseError(_failure(ending))


def _failure(result: psycopg.pq.abc.PGresult | None) -> str:
    message = result.error_message.decode(errors="replace").strip() if result is not None else "no result"
    return f"audit verification could not read the log: {message}"


# COPY's text format writes a backslash, the delimiter (here U+001F), and the
# controls backspace, tab, newline, vertical tab, form feed and carriage
# return, as backslash escapes (other characters as they are).  Fields are
# cleaned of controls on the way in now, but entries stored before then may
# hold them, and their hashes are over the text as stored.
_COPY_ESCAPES = {b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f", b"r": b"\r"}
_COPY_FIELD = re.compile(rb"((?:[^\x1f\\]|\\.)*)(\x1f|$)", re.DOTALL)
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_fields(line: bytes) -> list[bytes]:
    """The fields of one row of COPY's text format (delimiter U+001F, NULL
    as the empty string), unescaped: the text as stored."""
    body = line[:-1] if line.endswith(b"\n") else line
    fields = []
    for match in _COPY_FIELD.finditer(body):
        fields.append(_COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), match.group(1)))
        if not match.group(2):
            break
    return fields


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Bad(NamedTuple):
    seq: int  # the first entry that does not verify
    at_seq: int  # the seq of the row where it showed (a missing entry: the next present)
    problem: str


def _slow_check(fields: Sequence[bytes], expected_seq: int, prev_hash: bytes) -> tuple[int, bytes] | _Bad:
    """One row judged field by field, as the documented form says: its seq,
    its link to the previous hash, its hash recomputed.  The seq and hash of
    a good row, or what is wrong with it."""
    seq_index = 2 + _STREAM_FIELDS.index("seq")
    try:
        seq = int(fields[seq_index])
    except (IndexError, ValueError):
        return _Bad(expected_seq, expected_seq, "entry content does not match its hash")
    if seq != expected_seq:
        return _Bad(expected_seq, seq, f"entry {expected_seq} is missing (next present: {seq})")
    if fields[0] != prev_hash:
        return _Bad(seq, seq, "previous hash does not match")
    form = _FORM_OF_PREFIX.get(fields[1])
    stored = fields[-1]
    if form is None or len(fields) != 3 + len(_STREAM_FIELDS):
        return _Bad(seq, seq, "entry content does not match its hash")
    hashed = _SEP.join([fields[0], fields[1], *fields[2 : 2 + len(FIELDS[form])]])
    if hashlib.sha256(hashed).hexdigest().encode() != stored:
        return _Bad(seq, seq, "entry content does not match its hash")
    return seq, stored


def _check_lines(
    lines: Iterable[bytes], chain_name: str, start: int, prev: bytes, progress: _Progress
) -> tuple[int, bytes] | _Bad:
    """Check rows of ``_COPY_ROW`` in order from ``start``: the seq and hash
    of the last good one, or the first bad one.

    The fast path accepts a row of the newest form with no escape in it by
    comparing bytes and hashing a slice of the line; any other row (an older
    form, an escape, anything that does not match) is judged by
    ``_slow_check``, which alone reports.  The fast path accepts only rows
    that the slow one accepts too (tests/test_audit_verify.py holds them to
    the reference computation)."""
    sha256 = hashlib.sha256
    head = _SEP + PREFIX.encode() + _SEP + chain_name.encode() + _SEP
    seq_at = 64 + len(head)
    expected = start
    for line in lines:
        if (
            line.startswith(prev)
            and line.startswith(head, 64)
            and line.startswith(b"%d\x1f" % expected, seq_at)
            and b"\\" not in line
        ):
            digest = sha256(line[:-66]).hexdigest().encode()
            if line.endswith(digest, 0, -1) and line[-66] == 0x1F:
                prev = digest
                expected += 1
                if expected % progress.batch == 0:
                    progress.tick(expected - start)
                continue
        checked = _slow_check(_copy_fields(line), expected, prev)
        if isinstance(checked, _Bad):
            return checked
        expected, prev = checked[0] + 1, checked[1]
    return expected - 1, prev


class _Progress:
    def __init__(self, callback: Callable[[int], None] | None, batch: int) -> None:
        self.callback, self.batch, self.told = callback, batch, 0

    def tick(self, checked: int) -> None:
        if self.callback is not None and checked > self.told:
            self.callback(checked - self.told)
            self.told = checked


def _canonical_sqlite() -> str:
    """SQLite concatenates the hashed text of each row in its own form (the
    previous hash, the form's prefix and fields), from the stored text and
    integers in decimal, an absent value as the empty string.  An unknown
    form gives NULL, which matches no hash."""
    cases = []
    for form, names in FIELDS.items():
        parts = " || ".join(f"char(31) || coalesce(CAST({name} AS TEXT), '')" for name in names)
        cases.append(f"WHEN {form} THEN '{PREFIXES[form]}' || {parts}")
    return f"prev_hash || char(31) || CASE form {' '.join(cases)} END"


def _check_sqlite(
    connection: Connection, chain_name: str, start: int, prev: str, progress: _Progress, batch: int
) -> tuple[int, bytes] | _Bad:
    """The same checks on SQLite: the database concatenates, Python hashes;
    a row that does not pass is judged again from its columns, as
    ``canonical`` renders them."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        f"SELECT seq, prev_hash, entry_hash, {_canonical_sqlite()} FROM audit_entry "
        "WHERE chain = ? AND seq >= ? ORDER BY seq",
        (chain_name, start),
    )
    sha256 = hashlib.sha256
    expected = start
    try:
        while rows := cursor.fetchmany(batch):
            for seq, stored_prev, stored, hashed in rows:
                if (
                    seq == expected
                    and stored_prev == prev
                    and hashed is not None
                    and hashed.startswith(prev)
                    and sha256(hashed.encode()).hexdigest() == stored
                ):
                    prev = stored
                    expected += 1
                    if expected % progress.batch == 0:
                        progress.tick(expected - start)
                    continue
                checked = _slow_check(_sqlite_fields(connection, chain_name, seq), expected, prev.encode())
                if isinstance(checked, _Bad):
                    return checked
                expected, prev = checked[0] + 1, checked[1].decode()
    finally:
        cursor.close()
    return expected - 1, prev.encode()


def _sqlite_fields(connection: Connection, chain_name: str, seq: int) -> list[bytes]:
    """One row as ``_slow_check`` reads it, rendered by ``canonical``'s rule
    (an absent value is empty, anything else its text)."""
    columns = [_entries.c.prev_hash, _entries.c.form, *(_entries.c[name] for name in _STREAM_FIELDS)]
    row = connection.execute(
        select(*columns, _entries.c.entry_hash).where(_entries.c.chain == chain_name, _entries.c.seq == seq)
    ).one()
    prefix = PREFIXES.get(row[1], f"sexto-audit-v{row[1]}")
    return [("" if value is None else str(value)).encode() for value in (row[0], prefix, *row[2:])]


def verify_chain(
    connection: Connection,
    chain: str,
    batch: int = 20000,
    progress: Callable[[int], None] | None = None,
    start: Start | None = None,
) -> ChainReport:
    """Recompute one chain from ``start`` (its first entry by default); stop
    at the first mismatch.  ``progress`` is told of the entries checked,
    ``batch`` at a time."""
    start = start or Start(1, GENESIS_HASH)
    report = ChainReport(chain, verified_from=start.seq)
    # The head first: entries appended while we read are fine, but every entry
    # the head already counted must be there.
    head = connection.execute(select(_heads.c.seq).where(_heads.c.chain == chain)).scalar()
    prev = GENESIS_HASH
    if start.seq > 1:
        # The entry the start names is recomputed from its own previous hash,
        # and must be the one signed: its hash then vouches for that hash.
        first = connection.execute(
            select(_entries.c.id, _entries.c.prev_hash, _entries.c.entry_hash).where(
                _entries.c.chain == chain, _entries.c.seq == start.seq
            )
        ).first()
        if first is None or first.entry_hash != start.entry_hash:
            report.first_bad_seq, report.first_bad_id = start.seq, first.id if first else None
            report.problem = f"entry {start.seq} is not the one the checkpoint verification starts from signed"
            return report
        prev = first.prev_hash
    counter = _Progress(progress, batch)
    outcome: tuple[int, bytes] | _Bad
    if connection.dialect.name == "postgresql":
        query = _COPY_ROW.format(
            prefix=_PREFIX_SQL, fields=", ".join(_STREAM_FIELDS), chain=_quote(chain), start=int(start.seq)
        )
        lines = _copy_lines(connection, query)
        try:
            outcome = _check_lines(lines, chain, start.seq, prev.encode(), counter)
        finally:
            for _ in lines:  # read to the end (see _copy_lines)
                pass
    else:
        outcome = _check_sqlite(connection, chain, start.seq, prev, counter, batch)
    if isinstance(outcome, _Bad):
        counter.tick(outcome.seq - start.seq)
        report.first_bad_seq, report.problem = outcome.seq, outcome.problem
        report.first_bad_id = connection.execute(
            select(_entries.c.id).where(_entries.c.chain == chain, _entries.c.seq == outcome.at_seq)
        ).scalar()
        return report
    last_seq, last_hash = outcome
    counter.tick(last_seq - start.seq + 1)
    report.entries = last_seq - start.seq + 1
    report.head_seq, report.head_hash = last_seq, last_hash.decode()
    if head is not None and head > report.head_seq:
        report.first_bad_seq = report.head_seq + 1
        report.problem = f"the chain ends at {report.head_seq} but its head says {head}"
    return report


# Each chain name found in the log, one index probe per chain rather than a
# scan of every entry (a skip scan, spelled out for both engines).
_ENTRY_CHAINS = text(
    "WITH RECURSIVE found(chain) AS ("
    "SELECT min(chain) FROM audit_entry "
    "UNION ALL SELECT (SELECT min(chain) FROM audit_entry WHERE chain > found.chain) FROM found "
    "WHERE found.chain IS NOT NULL) "
    "SELECT chain FROM found WHERE chain IS NOT NULL"
)


def chains(connection: Connection) -> Sequence[str]:
    names: set[str] = set(connection.execute(select(_heads.c.chain)).scalars())
    names.update(connection.execute(_ENTRY_CHAINS).scalars())
    return sorted(names)


def verify(
    connection: Connection,
    checkpoint_verifier: Callable[[Connection, VerifyReport], None] | None = None,
    progress: Callable[[int], None] | None = None,
    starts: Mapping[str, Start] | None = None,
) -> VerifyReport:
    """Every chain, from its first entry or, for a chain named in ``starts``,
    from there (``CheckpointSigner.starts``: incremental verification); then
    the checkpoints."""
    starts = starts or {}
    report = VerifyReport(
        chains=[
            verify_chain(connection, name, progress=progress, start=starts.get(name)) for name in chains(connection)
        ]
    )
    if checkpoint_verifier is not None:
        checkpoint_verifier(connection, report)
    return report
