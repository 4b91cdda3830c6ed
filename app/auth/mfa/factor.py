"""Checking a second factor: a TOTP code (RFC 6238) or a recovery code.

TOTP as authenticator apps know it: HMAC-SHA-1, 6 digits, 30-second steps
(pyotp).  A code of the step before or after the current one is accepted
too (clocks drift), and a code whose step is not later than the last one
accepted is refused: a code works once (RFC 6238 §5.2).  The step is moved
forward by one conditional ``UPDATE``, so of two requests with the same code
exactly one passes.

Recovery codes are 120 random bits (24 base32 characters, read in groups of
four).  They are kept as SHA-256 digests, salted with the account's id: at
112 bits or more a look-up secret may be kept under an approved one-way
function rather than a password hash (NIST SP 800-63B §5.1.1.2), and a
guess costs an attacker holding the table 2^119 digests on average.  A
keyed digest (``DataCipher.keyed_digest``) would add nothing that entropy
does not give, and would forget every code when the data key changes.  A
code used is deleted (one ``DELETE``: of two requests with it, one passes).

Nothing here writes a code, a secret or a digest to the logs or the audit
log: callers record what was used (``totp``, ``recovery_code``), never the
value.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from enum import StrEnum

import pyotp
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from app.accounts.duties import CASE_READING
from app.accounts.models import Role
from app.audit.note import AuditNote
from app.auth.mfa.models import RecoveryCode, TotpFactor, secret_context
from app.config import Settings
from app.crypto import DataCipher
from app.errors import Problem

DIGITS = 6
PERIOD_SECONDS = 30
ALGORITHM = "SHA1"
# Steps accepted either side of the current one.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_BYTES = 15  # 120 bits: 24 base32 characters
_TOTP_PATTERN = re.compile(rf"\d{{{DIGITS}}}")
_RECOVERY_PATTERN = re.compile(r"[A-Z2-7]{24}")

# The time TOTP codes are checked at (seconds since the epoch): the tests
# move it rather than wait.
clock: Callable[[], float] = time.time


class Used(StrEnum):
    """How a code was taken, or why not (for the audit entry)."""

    totp = "totp"
    recovery_code = "recovery_code"
    invalid = "mfa_code_invalid"
    replayed = "mfa_code_replayed"

    @property
    def passed(self) -> bool:
        return self in (Used.totp, Used.recovery_code)


class SecondFactorRequired(Problem):
    """The password was right, the account has a second factor, and no code came."""

    status, code = 401, "mfa_required"


class SecondFactorRefused(Problem):
    """The one-time code is wrong, or was used already."""

    status, code = 401, "mfa_code_invalid"


def required_roles(settings: Settings) -> frozenset[Role]:
    """The roles whose people must have a second factor: the setting, or by
    default the case-reading roles in production and none in development."""
    if settings.mfa_required_roles is not None:
        return frozenset(Role(name) for name in settings.mfa_required_roles)
    return CASE_READING if settings.is_production else frozenset()


def new_secret() -> str:
    """A TOTP secret: 160 random bits in base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32()


def totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (from a QR code the
    client draws)."""
    return totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, at: float) -> int | None:
    """The time step whose code ``code`` is, within the drift allowed; None
    when it is none of them."""
    if not _TOTP_PATTERN.fullmatch(code):
        return None
    try:
        return totp(secret).verify_and_get_timecode(code, for_time=at, valid_window=DRIFT_STEPS)
    except pyotp.OTPVerificationError:
        return None


def take_step(session: Session, user_id: uuid.UUID, step: int) -> bool:
    """Record ``step`` as the last one used, unless it (or a later one) was
    already: False for a replayed code."""
    last = col(TotpFactor.last_used_step)
    result = session.exec(
        update(TotpFactor)
        .where(col(TotpFactor.user_id) == user_id, or_(last.is_(None), last < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def new_recovery_codes() -> list[str]:
    """Codes as shown once to their owner: lower case, in groups of four."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def _normalized_recovery_code(code: str) -> str | None:
    normalized = re.sub(r"[\s-]", "", code).upper()
    return normalized if _RECOVERY_PATTERN.fullmatch(normalized) else None


def recovery_digest(user_id: uuid.UUID, code: str) -> str | None:
    normalized = _normalized_recovery_code(code)
    if normalized is None:
        return None
    return hashlib.sha256(f"{user_id}:{normalized}".encode()).hexdigest()


def store_recovery_codes(session: Session, user_id: uuid.UUID, codes: Iterable[str]) -> None:
    """Replace the account's recovery codes by these (kept as digests)."""
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    for code in codes:
        digest = recovery_digest(user_id, code)
        assert digest is not None  # made by new_recovery_codes
        session.add(RecoveryCode(user_id=user_id, digest=digest))
    session.flush()


def recovery_codes_left(session: Session, user_id: uuid.UUID) -> int:
    return session.exec(select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id)).one()


def confirmed_factor(session: Session, user_id: uuid.UUID) -> TotpFactor | None:
    factor = session.get(TotpFactor, user_id)
    return factor if factor is not None and factor.confirmed_at is not None else None


def use_code(session: Session, cipher: DataCipher, factor: TotpFactor, code: str) -> Used:
    """Take ``code`` (a TOTP code, or a recovery code once it is confirmed)
    for ``factor``'s account, in the session's transaction: the step moves
    forward, or the recovery code is deleted."""
    code = code.strip()
    secret = cipher.decrypt(factor.secret, secret_context(factor.user_id))
    assert secret is not None
    if _TOTP_PATTERN.fullmatch(code):
        step = matching_step(secret, code, clock())
        if step is None:
            return Used.invalid
        return Used.totp if take_step(session, factor.user_id, step) else Used.replayed
    digest = recovery_digest(factor.user_id, code)
    if digest is None or factor.confirmed_at is None:
        return Used.invalid
    deleted = session.exec(
        delete(RecoveryCode).where(col(RecoveryCode.user_id) == factor.user_id, col(RecoveryCode.digest) == digest)
    )
    return Used.recovery_code if deleted.rowcount else Used.invalid


def check_sign_in(session: Session, cipher: DataCipher, user_id: uuid.UUID, otp: str | None, audit: AuditNote) -> None:
    """A password sign-in's second step, once the password is right: nothing
    to do for an account without a confirmed factor; otherwise the code
    (``otp``) is taken, or the sign-in refused.  The entry's reason says how
    (``totp``, ``recovery_code:<n>_left``) or why not, never the code."""
    factor = confirmed_factor(session, user_id)
    if factor is None:
        return
    if otp is None or not otp.strip():
        audit.reason = SecondFactorRequired.code
        raise SecondFactorRequired()
    used = use_code(session, cipher, factor, otp)
    if not used.passed:
        audit.reason = used.value
        raise SecondFactorRefused()
    if used is Used.recovery_code:
        audit.reason = f"recovery_code:{recovery_codes_left(session, user_id)}_left"
    else:
        audit.reason = used.value
