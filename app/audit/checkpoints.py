"""Signed checkpoints: an Ed25519 signature over each chain's head.

Signed message (version 1): ``sexto-audit-checkpoint-v1``, chain, seq,
entry_hash and issued_at, joined by U+001F, UTF-8.  With the public key (listed
by ``GET /api/v1/audit/checkpoints``) anyone can check that the chain they
were given still contains, at that seq, the entry the service signed.

Each checkpoint is stored in the database and published to the witness
(``app.audit.witness``), outside it.  Verification holds each chain to every
checkpoint the witness holds whose signature verifies, not only the latest: a
chain that ends before one of them, or holds another entry at its seq, lost
its tail (or had it rewritten), even when whoever cut it moved the head back,
deleted the checkpoints stored with the log and let the service append (and
sign) past the cut.  For the same reason the signer refuses to sign a chain
whose head is behind, or whose entry at that seq is not, what it signed last
(stored or witnessed): a rewritten tail never gets a fresh signature.

Each (chain, seq) is signed once: several instances may find the same head
due at the same moment (at start-up, or one at an interval round and another
at a multiple of N entries); the one whose insert stores the row publishes
it, the others' inserts do nothing and they publish nothing.

``CheckpointCadence`` says when: at start-up, then whenever a chain reaches a
multiple of N entries (the seq is shared by every process, so exactly one of
them sees each multiple) or T seconds have passed, whichever comes first.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.audit.chain import Appended, ChainReport, Start, VerifyReport, format_time
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.audit.witness import NoWitness, Witness, WitnessRecord, witness_from
from app.config import Settings
from app.db import table_of, utcnow
from app.errors import Conflict
from app.security import configured_private_key, key_id, load_public_keys, public_key_pem

_checkpoints = table_of(AuditCheckpoint)
_heads = table_of(AuditChainHead)
_entries = table_of(AuditEntry)

logger = logging.getLogger("sexto.audit")

# Seqs looked up per statement (well under SQLite's bound parameters).
_LOOKUP_BATCH = 900


class ChainRewritten(Conflict):
    """A chain no longer holds what was signed before: its head is behind the
    last checkpoint, or its entry at that seq is another one."""

    code = "audit_chain_rewritten"

    def __init__(self, chain: str, seq: int) -> None:
        super().__init__("audit_chain_rewritten", chain=chain, seq=seq)
        self.chain, self.seq = chain, seq


def signed_message(chain: str, seq: int, entry_hash: str, issued_at: str) -> bytes:
    return "\x1f".join(["sexto-audit-checkpoint-v1", chain, str(seq), entry_hash, issued_at]).encode()


def _record(checkpoint: AuditCheckpoint) -> WitnessRecord:
    return WitnessRecord(
        chain=checkpoint.chain,
        seq=checkpoint.seq,
        entry_hash=checkpoint.entry_hash,
        issued_at=checkpoint.issued_at,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
    )


class CheckpointSigner:
    def __init__(
        self,
        key: Ed25519PrivateKey,
        previous: dict[str, Ed25519PublicKey] | None = None,
        witness: Witness | None = None,
    ) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())
        self.public_keys: dict[str, Ed25519PublicKey] = {self.key_id: key.public_key(), **(previous or {})}
        self.witness: Witness = witness or NoWitness()

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckpointSigner:
        key = configured_private_key(
            settings.audit_signing_key, settings.audit_signing_key_file, settings, "audit-signing-key"
        )
        return cls(
            key, load_public_keys(settings.audit_previous_public_keys), witness_from(settings.effective_audit_witness)
        )

    def public_key_pems(self) -> dict[str, str]:
        return {kid: public_key_pem(key) for kid, key in self.public_keys.items()}

    def issue(self, session: Session) -> list[AuditCheckpoint]:
        """Sign every chain whose head moved since its last checkpoint.

        The caller commits.  Heads are read ``FOR UPDATE`` so the signed
        entry is the one the head names at this moment.  Raises
        ``ChainRewritten`` (and signs nothing) when a chain no longer holds
        what was signed last, stored with the log or held by the witness."""
        # Locked in one order (by name), whoever signs: two instances signing
        # at once queue rather than deadlock, however many chains there are.
        heads = session.execute(select(_heads).where(_heads.c.seq > 0).order_by(_heads.c.chain).with_for_update()).all()
        witnessed = self._latest_witnessed()
        due = []
        for head in heads:
            stored = session.execute(
                select(_checkpoints.c.seq, _checkpoints.c.entry_hash)
                .where(_checkpoints.c.chain == head.chain)
                .order_by(_checkpoints.c.seq.desc())
                .limit(1)
            ).first()
            signed_before = [
                (row.seq, row.entry_hash) for row in (stored, witnessed.get(head.chain)) if row is not None
            ]
            for seq, entry_hash in signed_before:
                if _held(session.connection(), head.chain, head.seq, head.entry_hash, seq) != entry_hash:
                    # Chain names and seqs only: never an entry's contents.
                    logger.error(
                        "audit checkpoint refused: chain %s no longer holds the entry signed at %s (head at %s)",
                        head.chain,
                        seq,
                        head.seq,
                    )
                    raise ChainRewritten(head.chain, seq)
            if stored is None or stored.seq != head.seq:
                due.append(head)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        issued = []
        for head in due:
            issued_at = format_time(utcnow())
            signature = self._key.sign(signed_message(head.chain, head.seq, head.entry_hash, issued_at))
            checkpoint = AuditCheckpoint(
                chain=head.chain,
                seq=head.seq,
                entry_hash=head.entry_hash,
                issued_at=issued_at,
                key_id=self.key_id,
                signature=base64.b64encode(signature).decode(),
            )
            # One checkpoint per chain and seq: when another instance stored
            # this one first (the head lock normally makes this one wait and
            # find it; the constraint holds whatever the isolation), this
            # insert does nothing and this checkpoint is neither kept nor
            # published.
            checkpoint.id = session.execute(
                insert(_checkpoints)
                .values(checkpoint.model_dump(exclude={"id"}))
                .on_conflict_do_nothing(index_elements=["chain", "seq"])
                .returning(_checkpoints.c.id)
            ).scalar()
            if checkpoint.id is not None:
                issued.append(checkpoint)
        # Published before the caller commits: what a record names is an entry
        # already committed (the head names only those), whether or not this
        # checkpoint's own row is.  A witness that cannot be written fails the
        # issuing (the route answers 500, the periodic round logs it).
        self.witness.publish([_record(checkpoint) for checkpoint in issued])
        return issued

    def _latest_witnessed(self) -> dict[str, WitnessRecord]:
        """Per chain, the highest-seq witnessed record whose signature verifies
        (a forged record must not stop the signing)."""
        latest: dict[str, WitnessRecord] = {}
        for record in sorted(self.witness.read().records, key=lambda record: record.seq, reverse=True):
            if record.chain not in latest and self._valid(record):
                latest[record.chain] = record
        return latest

    def _valid(self, record: WitnessRecord) -> bool:
        message = signed_message(record.chain, record.seq, record.entry_hash, record.issued_at)
        return self._signature_problem(record.key_id, message, record.signature) is None

    def starts(self, connection: Connection) -> dict[str, Start]:
        """Where incremental verification starts each chain: at the latest
        checkpoint the witness holds, whose signature verifies with the audit
        keys and whose entry the chain still holds with the signed hash.  A
        chain with no such checkpoint is absent (verified from its first
        entry).  Why trusting the entries before it is sound, and what only a
        full verification catches: docs/audit.md#incremental-verification."""
        believed: dict[str, list[WitnessRecord]] = {}
        for record in self.witness.read().records:
            if self._valid(record):
                believed.setdefault(record.chain, []).append(record)
        found: dict[str, Start] = {}
        for name, records in believed.items():
            stored = _stored_hashes(connection, name, (record.seq for record in records))
            for record in sorted(records, key=lambda record: record.seq, reverse=True):
                if stored.get(record.seq) == record.entry_hash:
                    found[name] = Start(record.seq, record.entry_hash)
                    break
        return found

    def verify(self, connection: Connection, report: VerifyReport) -> None:
        """The checkpoints stored with the log, then those the witness holds."""
        self._verify_stored(connection, report)
        self._verify_witnessed(connection, report)

    def _signature_problem(self, key: str, message: bytes, signature: str) -> str | None:
        public_key = self.public_keys.get(key)
        if public_key is None:
            return f"unknown signing key {key}"
        try:
            public_key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return "bad signature"
        return None

    def _verify_witnessed(self, connection: Connection, report: VerifyReport) -> None:
        """Hold each chain to every witnessed checkpoint whose signature
        verifies (a record that does not verify is reported and not believed)."""
        reading = self.witness.read()
        report.witness = self.witness.kind
        report.witness_problems.extend(reading.problems)
        believed: dict[str, list[WitnessRecord]] = {}
        for record in reading.records:
            report.witness_records_checked += 1
            message = signed_message(record.chain, record.seq, record.entry_hash, record.issued_at)
            problem = self._signature_problem(record.key_id, message, record.signature)
            if problem is not None:
                report.witness_problems.append(f"witnessed checkpoint {record.chain} #{record.seq}: {problem}")
                continue
            believed.setdefault(record.chain, []).append(record)
        statuses = {status.chain: status for status in report.chains}
        for name, records in sorted(believed.items()):
            status = statuses.get(name)
            if status is None:  # the whole chain is gone, head and all
                status = ChainReport(name)
                report.chains.append(status)
            _hold_to(connection, status, records)

    def _verify_stored(self, connection: Connection, report: VerifyReport) -> None:
        """Check each checkpoint's signature and that the chain still holds its entry."""
        lengths = {chain.chain: chain.head_seq if chain.ok else None for chain in report.chains}
        checkpoints = list(connection.execute(select(_checkpoints).order_by(_checkpoints.c.id)))
        # The entries they name, a batch of seqs per statement.
        held: dict[str, dict[int, str]] = {}
        for name in {checkpoint.chain for checkpoint in checkpoints}:
            seqs = (checkpoint.seq for checkpoint in checkpoints if checkpoint.chain == name)
            held[name] = _stored_hashes(connection, name, seqs)
        for checkpoint in checkpoints:
            report.checkpoints_checked += 1
            where = f"checkpoint {checkpoint.id} ({checkpoint.chain} #{checkpoint.seq})"
            message = signed_message(checkpoint.chain, checkpoint.seq, checkpoint.entry_hash, checkpoint.issued_at)
            problem = self._signature_problem(checkpoint.key_id, message, checkpoint.signature)
            if problem is not None:
                report.checkpoint_problems.append(f"{where}: {problem}")
                continue
            if held[checkpoint.chain].get(checkpoint.seq) != checkpoint.entry_hash:
                report.checkpoint_problems.append(f"{where}: the chain no longer holds the signed entry")
            elif lengths.get(checkpoint.chain) is not None and lengths[checkpoint.chain] < checkpoint.seq:
                report.checkpoint_problems.append(f"{where}: the chain is shorter than the checkpoint")


def _held(connection: Connection, chain: str, head_seq: int, head_hash: str, seq: int) -> str | None:
    """The hash of the entry a chain holds at ``seq`` within its head (None
    beyond the head or where the entry is gone)."""
    if seq > head_seq:
        return None
    if seq == head_seq:
        return head_hash
    return _stored_hashes(connection, chain, [seq]).get(seq)


def _stored_hashes(connection: Connection, chain: str, seqs: Iterable[int]) -> dict[int, str]:
    """The entry hash the chain holds at each of ``seqs`` (absent: no entry)."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        batch = wanted[start : start + _LOOKUP_BATCH]
        rows = connection.execute(
            select(_entries.c.seq, _entries.c.entry_hash).where(_entries.c.chain == chain, _entries.c.seq.in_(batch))
        )
        found.update({row.seq: row.entry_hash for row in rows})
    return found


def _hold_to(connection: Connection, status: ChainReport, records: list[WitnessRecord]) -> None:
    """Report a chain truncated when it does not hold, intact, every entry a
    witnessed checkpoint names: it ends before one (the tail was deleted, the
    head moved back or not), or holds another entry there (rewritten, perhaps
    appended and signed again past the cut).  The first such record, by seq,
    is the one reported; ``witnessed_seq`` is the latest record."""
    latest = max(records, key=lambda record: record.seq)
    status.witnessed_seq, status.witnessed_at = latest.seq, latest.issued_at
    stored = _stored_hashes(connection, status.chain, (record.seq for record in records))
    for record in sorted(records, key=lambda record: record.seq):
        beyond_head = status.ok and status.head_seq < record.seq
        if stored.get(record.seq) == record.entry_hash and not beyond_head:
            continue
        status.truncated = True
        if not status.ok:  # the chain's own problem stays the one reported
            return
        if beyond_head or record.seq not in stored:
            status.first_bad_seq = status.head_seq + 1
            status.problem = (
                f"truncated: the chain ends at {status.head_seq} but a witnessed checkpoint "
                f"({record.issued_at}) holds entry {record.seq}"
            )
        else:
            status.first_bad_seq = record.seq
            status.problem = (
                f"truncated: entry {record.seq} is not the one a witnessed checkpoint ({record.issued_at}) "
                "holds (rewritten)"
            )
        return


class CheckpointCadence:
    """When the checkpoint loop wakes: whenever a chain reaches a multiple of
    ``every_entries`` (``appended``, called from any thread), or after
    ``interval_seconds``, whichever comes first (0: never by that rule)."""

    def __init__(self, every_entries: int, interval_seconds: int) -> None:
        self.every_entries = every_entries
        self.interval_seconds = interval_seconds
        self._due = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.every_entries or self.interval_seconds)

    def appended(self, appended: Appended) -> None:
        if self.every_entries and appended.seq % self.every_entries == 0 and self._loop is not None:
            self._loop.call_soon_threadsafe(self._due.set)

    async def wait(self) -> bool:
        """Until the next checkpoint is due: True when a chain of this
        process reached a multiple of ``every_entries`` (one process only
        sees each multiple), False when the interval ran out."""
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._due.wait(), self.interval_seconds or None)
        by_entries = self._due.is_set()
        self._due.clear()
        return by_entries


@dataclass
class SigningState:
    """How far the checkpoints are behind the log (``sexto_audit_*`` metrics)."""

    newest_checkpoint_at: datetime | None
    unsigned_entries: int


def signing_state(connection: Connection) -> SigningState:
    """When the newest checkpoint was issued (None: none yet), and how many
    entries, over all chains, lie past the newest checkpoint of their chain.
    Both read the checkpoints newest first by their key: a few rows, however
    long the log."""
    newest = connection.execute(select(_checkpoints.c.issued_at).order_by(_checkpoints.c.id.desc()).limit(1)).scalar()
    latest_signed = (
        select(_checkpoints.c.seq)
        .where(_checkpoints.c.chain == _heads.c.chain)
        .order_by(_checkpoints.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    unsigned = sum(
        int(row.seq) - int(row.signed or 0)
        for row in connection.execute(select(_heads.c.seq, latest_signed.label("signed")).where(_heads.c.seq > 0))
    )
    at = datetime.strptime(newest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if newest else None
    return SigningState(newest_checkpoint_at=at, unsigned_entries=max(unsigned, 0))
