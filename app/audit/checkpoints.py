"""Signed checkpoints: an Ed25519 signature over each chain's head.

Signed message (version 1): ``sexto-audit-checkpoint-v1``, chain, seq,
entry_hash and issued_at, joined by U+001F, UTF-8.  With the public key (listed
by ``GET /api/v1/audit/checkpoints``) anyone can check that the chain they
were given still contains, at that seq, the entry the service signed.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select
from sqlmodel import Session

from app.audit.chain import VerifyReport, format_time
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.config import Settings
from app.db import table_of, utcnow
from app.security import configured_private_key, key_id, load_public_keys, public_key_pem

_checkpoints = table_of(AuditCheckpoint)
_heads = table_of(AuditChainHead)
_entries = table_of(AuditEntry)


def signed_message(chain: str, seq: int, entry_hash: str, issued_at: str) -> bytes:
    return "\x1f".join(["sexto-audit-checkpoint-v1", chain, str(seq), entry_hash, issued_at]).encode()


class CheckpointSigner:
    def __init__(self, key: Ed25519PrivateKey, previous: dict[str, Ed25519PublicKey] | None = None) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())
        self.public_keys: dict[str, Ed25519PublicKey] = {self.key_id: key.public_key(), **(previous or {})}

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckpointSigner:
        key = configured_private_key(
            settings.audit_signing_key, settings.audit_signing_key_file, settings, "audit-signing-key"
        )
        return cls(key, load_public_keys(settings.audit_previous_public_keys))

    def public_key_pems(self) -> dict[str, str]:
        return {kid: public_key_pem(key) for kid, key in self.public_keys.items()}

    def issue(self, session: Session) -> list[AuditCheckpoint]:
        """Sign every chain whose head moved since its last checkpoint.

        The caller commits.  Heads are read ``FOR UPDATE`` so the signed
        entry is the one the head names at this moment."""
        issued = []
        heads = session.execute(select(_heads).where(_heads.c.seq > 0).with_for_update()).all()
        for head in heads:
            last = session.execute(
                select(_checkpoints.c.seq)
                .where(_checkpoints.c.chain == head.chain)
                .order_by(_checkpoints.c.seq.desc())
                .limit(1)
            ).scalar()
            if last == head.seq:
                continue
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
            session.add(checkpoint)
            issued.append(checkpoint)
        session.flush()
        return issued

    def verify(self, connection: Connection, report: VerifyReport) -> None:
        """Check each checkpoint's signature and that the chain still holds its entry."""
        lengths = {chain.chain: chain.head_seq if chain.ok else None for chain in report.chains}
        for checkpoint in connection.execute(select(_checkpoints).order_by(_checkpoints.c.id)):
            report.checkpoints_checked += 1
            where = f"checkpoint {checkpoint.id} ({checkpoint.chain} #{checkpoint.seq})"
            public_key = self.public_keys.get(checkpoint.key_id)
            if public_key is None:
                report.checkpoint_problems.append(f"{where}: unknown signing key {checkpoint.key_id}")
                continue
            try:
                public_key.verify(
                    base64.b64decode(checkpoint.signature),
                    signed_message(checkpoint.chain, checkpoint.seq, checkpoint.entry_hash, checkpoint.issued_at),
                )
            except (InvalidSignature, ValueError):
                report.checkpoint_problems.append(f"{where}: bad signature")
                continue
            stored = connection.execute(
                select(_entries.c.entry_hash).where(
                    _entries.c.chain == checkpoint.chain, _entries.c.seq == checkpoint.seq
                )
            ).scalar()
            if stored != checkpoint.entry_hash:
                report.checkpoint_problems.append(f"{where}: the chain no longer holds the signed entry")
            elif lengths.get(checkpoint.chain) is not None and lengths[checkpoint.chain] < checkpoint.seq:
                report.checkpoint_problems.append(f"{where}: the chain is shorter than the checkpoint")
