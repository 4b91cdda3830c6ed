"""Enrolling, removing and renewing one's own second factor, and the
admin's reset.

Every check of a code here counts on the account name's sign-in throttle,
as a sign-in does (``app.auth.service.reserve_own_check``): a stolen token
does not buy unlimited guesses at the codes.  A success clears the count.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlmodel import Session, col

from app.accounts.models import User
from app.accounts.scopes import load_grants, resolve_scope
from app.audit.note import AuditNote
from app.auth import revocation
from app.auth import service as signin
from app.auth.mfa import factor
from app.auth.mfa.models import RecoveryCode, TotpFactor, secret_context
from app.config import Settings
from app.crypto import DataCipher
from app.db import utcnow
from app.errors import Conflict, UnprocessableContent
from app.field_errors import service_field_error


def concern_account(session: Session, audit: AuditNote, user: User) -> None:
    """The entry belongs to the account's organizations, as its sign-ins do
    (a person still without reach has no scope of its own to lend it)."""
    audit.concerns = [*resolve_scope(session, load_grants(session, user_id=user.id)).organization_ids()]


def start_enrolment(
    session: Session, cipher: DataCipher, settings: Settings, proved: signin.Reauthenticated
) -> tuple[str, str]:
    """A new secret, kept unconfirmed (replacing one not confirmed yet), for
    a person who has just proved the password again (``proved``, whose
    reservation this clears): the secret and its ``otpauth://`` URI.  409
    when a factor is in use: remove it first."""
    user = proved.user
    if factor.confirmed_factor(session, user.id) is not None:
        signin.give_back_own_check(session, settings, proved.throttle_key)
        raise Conflict("mfa_already_enrolled", code="mfa_already_enrolled")
    signin.clear_own_failures(session, proved.throttle_key)
    secret = factor.new_secret()
    stored = cipher.encrypt(secret, secret_context(user.id))
    pending = session.get(TotpFactor, user.id)
    if pending is None:
        session.add(TotpFactor(user_id=user.id, secret=stored))
    else:
        pending.secret, pending.last_used_step, pending.created_at = stored, None, utcnow()
    session.flush()
    return secret, factor.provisioning_uri(secret, account=user.username, issuer=settings.mfa_totp_issuer)


def _wrong_code() -> UnprocessableContent:
    return UnprocessableContent(
        "validation_failed", extra={"errors": [service_field_error("body.code", "mfa_code_invalid")]}
    )


def _check(
    session: Session,
    cipher: DataCipher,
    settings: Settings,
    user: User,
    code: str,
    audit: AuditNote,
    *,
    confirmed: bool,
    reserved: str | None = None,
) -> TotpFactor:
    """The factor (confirmed or not, as asked: 409 otherwise), then the
    attempt reserved (unless the password's check of the same request has
    reserved it already: ``reserved``) and the code taken: 422 when wrong or
    used already."""
    found = session.get(TotpFactor, user.id)
    if found is None or (found.confirmed_at is not None) != confirmed:
        if reserved is not None:
            signin.give_back_own_check(session, settings, reserved)
        if confirmed:
            raise Conflict("mfa_not_enrolled", code="mfa_not_enrolled")
        problem = "mfa_no_enrolment" if found is None else "mfa_already_enrolled"
        raise Conflict(problem, code=problem)
    key = reserved or signin.reserve_own_check(session, settings, cipher, user.username)
    used = factor.use_code(session, cipher, found, code)
    audit.reason = used.value
    if not used.passed or (not confirmed and used is not factor.Used.totp):
        raise _wrong_code()
    if used is factor.Used.recovery_code:
        audit.reason = f"recovery_code:{factor.recovery_codes_left(session, user.id)}_left"
    signin.clear_own_failures(session, key)
    return found


def confirm_enrolment(
    session: Session,
    cipher: DataCipher,
    settings: Settings,
    user: User,
    code: str,
    audit: AuditNote,
    *,
    keep_session: uuid.UUID | None = None,
) -> tuple[list[str], str | None]:
    """The first code from the app proves the secret was copied: the factor
    is in use from now on, and ten recovery codes are issued (returned once,
    kept as digests), with the new secret of ``keep_session`` if any.

    Every token and browser session of the account ends but ``keep_session``
    (the one the code was proved in, if any, which goes on under a new
    secret: ``sessions.renew``): they were opened with the password alone,
    and where the role requires a factor they would otherwise gain the
    account's reach now that it has one.  A confirmation made with a bearer
    token ends that token too; the next sign-in takes the code."""
    pending = _check(session, cipher, settings, user, code, audit, confirmed=False)
    pending.confirmed_at = utcnow()
    renewed = signin.end_other_credentials(session, user, keep_session)
    codes = factor.new_recovery_codes()
    factor.store_recovery_codes(session, user.id, codes)
    return codes, renewed


def remove_factor(
    session: Session,
    cipher: DataCipher,
    settings: Settings,
    proved: signin.Reauthenticated,
    code: str,
    audit: AuditNote,
    *,
    keep_session: uuid.UUID | None = None,
) -> str | None:
    """One's own factor removed, with the password proved again (``proved``)
    and a current code or a recovery code: its recovery codes go with it.
    Where the role requires a factor, the person's reach ends with it until
    a new one is enrolled.  The account's
    other tokens and sessions end (``app.auth.service.end_other_credentials``): the new
    secret of ``keep_session``, if any."""
    user = proved.user
    _check(session, cipher, settings, user, code, audit, confirmed=True, reserved=proved.throttle_key)
    _delete_factor(session, user)
    return signin.end_other_credentials(session, user, keep_session)


def renew_recovery_codes(
    session: Session,
    cipher: DataCipher,
    settings: Settings,
    proved: signin.Reauthenticated,
    code: str,
    audit: AuditNote,
    *,
    keep_session: uuid.UUID | None = None,
) -> tuple[list[str], str | None]:
    """New recovery codes, with the password proved again (``proved``) and a
    current code (or a recovery code): the
    earlier ones stop working, and so do the account's other tokens and
    sessions; with the new secret of ``keep_session``, if any."""
    user = proved.user
    _check(session, cipher, settings, user, code, audit, confirmed=True, reserved=proved.throttle_key)
    codes = factor.new_recovery_codes()
    factor.store_recovery_codes(session, user.id, codes)
    return codes, signin.end_other_credentials(session, user, keep_session)


def reset_by_admin(session: Session, user: User) -> bool:
    """The admin takes a person's factor away (a lost phone and no recovery
    code): factor and recovery codes deleted, and every token of the account
    ended.  The person signs in again with the password and enrols a new
    factor.  Whether there was one."""
    had = session.get(TotpFactor, user.id) is not None
    _delete_factor(session, user)
    revocation.revoke_all(user)
    session.flush()
    return had


def _delete_factor(session: Session, user: User) -> None:
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.exec(delete(TotpFactor).where(col(TotpFactor.user_id) == user.id))
    user.updated_at = utcnow()
    session.flush()
