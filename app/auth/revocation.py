"""Revocation: ending credentials before they expire.

Two levers, written for bearer tokens and meant for browser sessions alike
(a session is one more credential with an id, an expiry, an account and the
generation it was issued under):

* **one credential** (sign-out): a digest of its id is kept until the
  credential's own expiry (``revoke``), then purged by the periodic
  maintenance (``purge_expired_revocations``);
* **every credential of an account** (an admin's revoke-all, a password
  change, a rotated secret, a disabled account): the account's
  ``token_generation`` is bumped (``revoke_all``); every credential carries
  the generation it was issued under, and one issued before no longer matches.

The principal of a request (``app.auth.principal``) checks both in the one
statement that reads the account: ``revoked_clause`` is the ``EXISTS`` it
selects, so a revocation costs no extra round trip on the read path.

The digest is a plain SHA-256 of the id, not a keyed one: the id is random
(128 bits) and is no secret worth a key, and a keyed digest would forget every
revocation when the key is changed.  The id itself is not kept, so the table
does not list the ids of credentials still in use.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.accounts.models import ServiceAccount, User
from app.auth.models import RevokedToken
from app.db import table_of, utcnow

# The bound parameter the principal query takes the digest in.
DIGEST_PARAMETER = "credential_digest"


def credential_digest(credential_id: str) -> str:
    return hashlib.sha256(credential_id.encode()).hexdigest()


def revoked_clause() -> ColumnElement[bool]:
    """Whether the credential whose digest is bound as ``DIGEST_PARAMETER``
    was revoked: an ``EXISTS`` to select in the statement that reads its
    account.  A row is purged only once its credential is refused anyway
    (expired, before any query), so no expiry test is needed here."""
    return exists(select(RevokedToken.digest).where(col(RevokedToken.digest) == bindparam(DIGEST_PARAMETER))).label(
        "revoked"
    )


def revoke(session: Session, *, credential_id: str, accepted_until: datetime) -> None:
    """End one credential now; the revocation is kept until the credential
    would have been refused anyway.  Revoking it again changes nothing."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(RevokedToken)
    session.execute(
        insert(table)
        .values(digest=credential_digest(credential_id), expires_at=accepted_until)
        .on_conflict_do_nothing(index_elements=[table.c.digest])
    )


def revoke_all(account: User | ServiceAccount) -> None:
    """End every credential of an account issued until now; the account
    signs in again as before."""
    account.token_generation += 1
    account.updated_at = utcnow()


def purge_expired_revocations(session: Session) -> int:
    """Forget the revocations of credentials that have expired anyway."""
    result = session.exec(delete(RevokedToken).where(col(RevokedToken.expires_at) <= utcnow()))
    return result.rowcount or 0
