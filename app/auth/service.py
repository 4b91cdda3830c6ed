"""Sign-in: the OAuth2 password grant for people and the client-credentials
grant for service accounts, with failures throttled per account name."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import ServiceAccount, User
from app.accounts.scopes import load_grants, resolve_scope
from app.audit.note import AuditNote
from app.auth.models import LoginThrottle
from app.config import Settings
from app.db import utcnow
from app.errors import InvalidClient, InvalidGrant, Problem, TooManyRequests
from app.security import PasswordHasher, TokenService


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    subject: str


def normalize_username(username: str) -> str:
    return username.strip().lower()


def password_grant(
    session: Session,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    tokens: TokenService,
    username: str,
    password: str,
    audit: AuditNote,
) -> IssuedToken:
    name = normalize_username(username)
    return _grant(
        session,
        settings=settings,
        hasher=hasher,
        tokens=tokens,
        kind="user",
        secret_field="password_hash",
        throttle_key=f"user:{name}",
        account_query=select(User).where(User.username == name),
        secret=password,
        refusal=InvalidGrant,
        audit=audit,
    )


def client_credentials_grant(
    session: Session,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    tokens: TokenService,
    client_id: str,
    client_secret: str,
    audit: AuditNote,
) -> IssuedToken:
    client_id = client_id.strip()
    return _grant(
        session,
        settings=settings,
        hasher=hasher,
        tokens=tokens,
        kind="service_account",
        secret_field="secret_hash",
        throttle_key=f"client:{client_id}",
        account_query=select(ServiceAccount).where(ServiceAccount.client_id == client_id),
        secret=client_secret,
        refusal=InvalidClient,
        audit=audit,
    )


def _grant(
    session: Session,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    tokens: TokenService,
    kind: str,
    secret_field: str,
    throttle_key: str,
    account_query: SelectOfScalar[User] | SelectOfScalar[ServiceAccount],
    secret: str,
    refusal: type[Problem],
    audit: AuditNote,
) -> IssuedToken:
    """Both grants: throttle, check the secret (a dummy hash when there is no
    usable account, so timing says nothing), then issue the token."""
    throttle_key = throttle_key[:200]
    _refuse_if_locked(session, throttle_key)
    account = session.exec(account_query).first()
    if account is not None:
        audit.actor = (kind, str(account.id))
        # Its sign-ins, failed ones too, belong to its organizations' auditors.
        owner = {"service_account_id": account.id} if kind == "service_account" else {"user_id": account.id}
        audit.concerns = [*resolve_scope(session, load_grants(session, **owner)).organization_ids()]
    usable = account is not None and account.is_active
    valid, new_hash = hasher.verify(secret, getattr(account, secret_field) if usable else None)
    if not valid or account is None:
        _record_failure(session, throttle_key, settings)
        raise refusal()
    if new_hash:
        setattr(account, secret_field, new_hash)
    _clear_failures(session, throttle_key)
    holder = {"service_account_id": account.id} if kind == "service_account" else {"user_id": account.id}
    scope = resolve_scope(session, load_grants(session, **holder))
    subject = f"{kind}:{account.id}"
    token, lifetime = tokens.issue(
        subject=subject,
        role=account.role,
        scope=scope.as_claim(),
        generation=account.token_generation,
        now=utcnow(),
    )
    session.flush()
    return IssuedToken(token, lifetime, subject)


def _refuse_if_locked(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    now = utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        retry_after = math.ceil((row.locked_until - now).total_seconds())
        session.rollback()
        raise TooManyRequests("login_throttled", headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def _record_failure(session: Session, key: str, settings: Settings) -> None:
    """Count one failure in its own committed transaction.

    The row is read ``FOR UPDATE`` so that concurrent failures on several
    server processes each count; a first failure that races another insert
    retries as an update.
    """
    session.rollback()
    for _attempt in range(3):
        now = utcnow()
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        if row is None:
            session.add(LoginThrottle(account_key=key, failures=1, window_started_at=now))
        else:
            _count(row, now, settings)
        try:
            session.commit()
            return
        except IntegrityError:
            session.rollback()


def _count(row: LoginThrottle, now: datetime, settings: Settings) -> None:
    window = timedelta(seconds=settings.login_failure_window_seconds)
    if row.window_started_at + window < now:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= settings.login_max_failures:
        row.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)


def _clear_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
