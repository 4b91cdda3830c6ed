"""Sign-in: the OAuth2 password grant for people and the client-credentials
grant for service accounts, with failures throttled per account name; and
sign-out, which revokes the credential the request came with
(``app.auth.revocation``).

The throttle's rows are keyed by a keyed hash of the name tried
(``DataCipher.keyed_digest``), never the name itself: what someone typed as a
user name is sometimes a password.  Rows whose window and lock have passed
are purged by the periodic maintenance (``purge_expired_throttles``).

Before the account name's throttle, every attempt is counted per client
address and over all addresses (``app.limits``): a flood of made-up names is
refused (429) before any hashing.  ``sign_in`` says what a sign-in holds
while it waits for a hash: nothing that other requests need."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import case, delete, literal, null, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar
from starlette.concurrency import run_in_threadpool

from app import limits
from app.accounts.models import ServiceAccount, User
from app.accounts.scopes import approved, load_grants, resolve_scope
from app.accounts.service import refuse_weak_password
from app.audit.note import AuditNote
from app.auth import revocation, sessions
from app.auth.mfa import factor
from app.auth.models import LoginThrottle
from app.auth.principal import Principal
from app.config import Settings
from app.crypto import DataCipher
from app.db import UTCDateTime, table_of, utcnow
from app.errors import InvalidClient, InvalidGrant, Problem, ServiceUnavailable, TooManyRequests, UnprocessableContent
from app.field_errors import service_field_error
from app.security import HashQueueFull, PasswordHasher, TokenService


class StepSlot(Protocol):
    """The slot a database step takes (the route class's
    ``app.audit.recorder.StepSlot``): ``async with`` for one step, ``hold``
    for the last one, kept until the request's entry is committed with it."""

    async def __aenter__(self) -> None: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def hold(self) -> None: ...


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    subject: str


THROTTLE_PURPOSE = "login_throttle"
T = TypeVar("T")


def normalize_username(username: str) -> str:
    return username.strip().lower()


@dataclass(frozen=True)
class Attempt:
    """What a grant checks: the account it names, its throttle key, and the
    refusal a wrong secret gets; for a person, the one-time code of a second
    factor if one came (``otp``: a TOTP or a recovery code)."""

    kind: str
    secret_field: str
    throttle_key: str
    account_query: SelectOfScalar[User] | SelectOfScalar[ServiceAccount]
    secret: str
    refusal: type[Problem]
    # The one-time code of a second factor, sent with a password (``otp``).
    otp: str | None = None


def password_attempt(cipher: DataCipher, username: str, password: str, otp: str | None = None) -> Attempt:
    name = normalize_username(username)
    return Attempt(
        kind="user",
        secret_field="password_hash",
        throttle_key=cipher.keyed_digest(f"user:{name}", THROTTLE_PURPOSE),
        account_query=select(User).where(User.username == name),
        secret=password,
        refusal=InvalidGrant,
        otp=otp,
    )


def client_credentials_attempt(cipher: DataCipher, client_id: str, client_secret: str) -> Attempt:
    client_id = client_id.strip()
    return Attempt(
        kind="service_account",
        secret_field="secret_hash",
        throttle_key=cipher.keyed_digest(f"client:{client_id}", THROTTLE_PURPOSE),
        account_query=select(ServiceAccount).where(ServiceAccount.client_id == client_id),
        secret=client_secret,
        refusal=InvalidClient,
    )


Finish = Callable[[Session, User | ServiceAccount], T]
"""How a successful sign-in ends, in its last step: a token
(``token_issuer``) or a browser session (``session_opener``)."""


async def sign_in(
    session: Session,
    attempt: Attempt,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    cipher: DataCipher,
    client_address: str | None,
    audit: AuditNote,
    step_slot: StepSlot,
    finish: Finish[T],
) -> T:
    """Every sign-in (both grants, and a browser session's): count the
    attempt per client address and overall, reserve it for its account name
    (or refuse it), check the secret (a dummy hash when there is no usable
    account, so timing says nothing), then ``finish``: issue the token or
    open the session.

    The database steps are short thread hops, each in one of the sign-in
    slots (``step_slot``) and ending its transaction so that the connection
    goes back to the pool; the hash runs on the hasher's own threads, awaited
    here.  While it waits for or computes a hash, a sign-in holds no slot, no
    connection and no thread of the pool that serves requests.  The last
    step's changes (failures cleared, a rehash) are committed by the route
    class with the request's audit entry, in the same slot hold
    (``StepSlot.hold``): its transaction never waits for a slot."""
    async with step_slot:
        await run_in_threadpool(_admit, session, attempt, settings, cipher, client_address, hasher)
    async with step_slot:
        account = await run_in_threadpool(_find_account, session, attempt, audit)
    usable = account is not None and account.is_active
    try:
        valid, new_hash = await hasher.verify_async(
            attempt.secret, getattr(account, attempt.secret_field) if usable else None
        )
    except HashQueueFull:
        async with step_slot:
            await run_in_threadpool(_release_attempt, session, attempt.throttle_key, settings)
        raise _busy() from None
    if not valid or account is None:
        # The reservation stays: it is the failure's count.
        raise attempt.refusal()
    # The last step keeps its slot until the route class has committed the
    # request's entry with it: its transaction never waits for a slot.
    await step_slot.hold()
    return await run_in_threadpool(_complete, session, attempt, account, new_hash, finish, cipher, settings, audit)


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable("signin_busy", code="signin_busy", headers={"Retry-After": "1"}, retry_after=1)


def _admit(
    session: Session,
    attempt: Attempt,
    settings: Settings,
    cipher: DataCipher,
    client_address: str | None,
    hasher: PasswordHasher,
) -> None:
    """The limits per address and overall, then the account name's
    reservation, each committed at once.  An attempt that would find every
    hash slot and the queue taken is refused before its reservation: it
    would not be checked."""
    limits.signin_limits(session, settings, cipher, client_address)
    if hasher.full:
        raise _busy()
    _reserve_attempt(session, attempt.throttle_key, settings)


def _find_account(session: Session, attempt: Attempt, audit: AuditNote) -> User | ServiceAccount | None:
    """The account the attempt names, for the audit entry too; the read's
    transaction ends here, so no connection is held during the hash."""
    account = session.exec(attempt.account_query).first()
    if account is not None:
        audit.actor = (attempt.kind, str(account.id))
        # Its sign-ins, failed ones too, belong to its organizations' auditors.
        owner = {"service_account_id": account.id} if attempt.kind == "service_account" else {"user_id": account.id}
        audit.concerns = [*resolve_scope(session, load_grants(session, **owner)).organization_ids()]
    session.commit()
    return account


def _complete(
    session: Session,
    attempt: Attempt,
    account: User | ServiceAccount,
    new_hash: str | None,
    finish: Finish[T],
    cipher: DataCipher,
    settings: Settings,
    audit: AuditNote,
) -> T:
    if attempt.kind == "user":
        # The second factor, in the transaction that ends the sign-in: a code
        # is used up only with the sign-in it served.  A wrong code keeps the
        # reservation (a failure); no code at all gives it back.
        try:
            factor.check_sign_in(session, cipher, account.id, attempt.otp, audit)
        except factor.SecondFactorRequired:
            _release_attempt(session, attempt.throttle_key, settings)
            raise
    if new_hash:
        setattr(account, attempt.secret_field, new_hash)
    _clear_failures(session, attempt.throttle_key)
    return finish(session, account)


def token_issuer(tokens: TokenService) -> Finish[IssuedToken]:
    """A sign-in that ends with an access token (``POST /auth/token``)."""

    def issue(session: Session, account: User | ServiceAccount) -> IssuedToken:
        kind = "user" if isinstance(account, User) else "service_account"
        holder = {"user_id": account.id} if kind == "user" else {"service_account_id": account.id}
        scope = resolve_scope(session, approved(load_grants(session, **holder)))
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

    return issue


def session_opener(settings: Settings) -> Finish[sessions.OpenedSession]:
    """A person's sign-in that ends with a browser session (``POST /auth/sessions``)."""

    def open_session(session: Session, account: User | ServiceAccount) -> sessions.OpenedSession:
        assert isinstance(account, User)  # a password attempt names a person
        return sessions.create_session(session, account, settings=settings)

    return open_session


def _reserve_attempt(session: Session, key: str, settings: Settings) -> None:
    """Count the attempt as a failure before its secret is checked, or refuse
    it (429) when the name is locked.

    One statement (an upsert that increments and returns the count) in its own
    transaction, committed before any hashing: concurrent attempts, in this
    process or another, each see the ones before, so no more than
    ``login_max_failures`` secrets are ever checked per window.  A successful
    sign-in releases the count (``_clear_failures``).  The count stops one past
    the limit, so a flood on a locked name does not grow it.
    """
    now = utcnow()
    limit = settings.login_max_failures
    lock_until = now + timedelta(seconds=settings.login_lockout_seconds)
    stale_window = now - timedelta(seconds=settings.login_failure_window_seconds)
    table = table_of(LoginThrottle)
    failures, started, locked = table.c.failures, table.c.window_started_at, table.c.locked_until
    moment = literal(now, UTCDateTime)
    # A lock that has passed, or a window gone by without a lock, starts over.
    starts_over = case(
        (locked.is_not(None), locked <= moment),
        else_=started < literal(stale_window, UTCDateTime),
    )
    counted = case((starts_over, 1), (failures > limit, failures), else_=failures + 1)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(
            account_key=key,
            failures=1,
            window_started_at=now,
            locked_until=lock_until if limit <= 1 else None,
        )
        .on_conflict_do_update(
            index_elements=[table.c.account_key],
            set_={
                "failures": counted,
                "window_started_at": case((starts_over, moment), else_=started),
                "locked_until": case(
                    (counted < limit, null()),
                    (starts_over | locked.is_(None), literal(lock_until, UTCDateTime)),
                    else_=locked,
                ),
            },
        )
        .returning(table.c.failures, table.c.locked_until)
    )
    row = session.execute(statement).one()
    session.commit()
    count: int = row[0]
    locked_until: datetime = row[1]
    if count > limit:
        retry_after = max(1, math.ceil((locked_until - now).total_seconds()))
        raise TooManyRequests("login_throttled", headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def _clear_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)


def _release_attempt(session: Session, key: str, settings: Settings) -> None:
    """Give back an attempt's reservation when its secret was never checked
    (the hash queue was full): a flood that fills the queue must not bring a
    person's lock nearer.  The count it took comes off, and a lock it brought
    (the count back under the limit) with it; a window that started over
    since is not touched below zero.  Committed at once."""
    table = table_of(LoginThrottle)
    remaining = table.c.failures - 1
    session.execute(
        update(table)
        .where(table.c.account_key == key, table.c.failures > 0)
        .values(
            failures=remaining,
            locked_until=case((remaining < settings.login_max_failures, null()), else_=table.c.locked_until),
        )
    )
    session.commit()


def reserve_own_check(session: Session, settings: Settings, cipher: DataCipher, username: str) -> str:
    """A person's own secret checked outside a sign-in (a one-time code to
    confirm, remove or renew a second factor): counted on the account name's
    sign-in throttle, as a sign-in is, before the check (429 when locked),
    committed at once.  Returns the key whose failures a success clears
    (``clear_own_failures``)."""
    key = cipher.keyed_digest(f"user:{normalize_username(username)}", THROTTLE_PURPOSE)
    _reserve_attempt(session, key, settings)
    return key


def clear_own_failures(session: Session, key: str) -> None:
    _clear_failures(session, key)


def give_back_own_check(session: Session, settings: Settings, key: str) -> None:
    """Give back a reservation whose check did not fail (a password proved
    for a change that is then refused for another reason), committed at
    once: a refusal that rolls the request back does not count as a failed
    sign-in."""
    _release_attempt(session, key, settings)


def purge_expired_throttles(session: Session, settings: Settings) -> int:
    """Delete the rows whose window and lock have both passed: they would
    start over anyway."""
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    result = session.exec(
        delete(LoginThrottle).where(
            col(LoginThrottle.window_started_at) < window_start,
            or_(col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) <= now),
        )
    )
    return result.rowcount or 0


def sign_out(session: Session, principal: Principal) -> None:
    """End the credential the caller came with, at once (a token is revoked,
    a browser session deleted); the account's other credentials live on."""
    if principal.session_id is not None:
        sessions.end_session(session, principal.id, principal.session_id)
        return
    revocation.revoke(session, credential_id=principal.token_id, accepted_until=principal.token_accepted_until)


@dataclass(frozen=True)
class Reauthenticated:
    """A person who has just proved their current password again: the
    account, and the throttle key whose reservation the last step clears
    (``clear_own_failures``)."""

    user: User
    throttle_key: str


async def reauthenticate(
    session: Session,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    cipher: DataCipher,
    user_id: uuid.UUID,
    password: str,
    step_slot: StepSlot,
    field: str = "body.password",
    vet: Callable[[User], None] | None = None,
) -> Reauthenticated:
    """The current password proved again before a change to how the person
    signs in (a new password, a second factor enrolled, removed or its
    recovery codes renewed: OWASP ASVS 5.0 V7.5.1).  Checked like a
    sign-in's, on the same count per account name (429 ``login_throttled``),
    a wrong one a 422 on ``field`` (``password_current_wrong``).  ``vet``
    runs on the account before the attempt is reserved (a new password's
    rules).

    As a sign-in does (``sign_in``): the database step is a short thread hop
    in a slot (``step_slot``) whose transaction ends there, and the check
    runs on the hasher's own threads behind its bounded queue (503
    ``signin_busy`` when full), with no slot, no transaction and no thread of
    the shared pool held.  ``vet`` may read in that step's transaction.  The reservation stays until the caller's last
    step clears it with the change it guards; a wrong password keeps it:
    it is the failure's count."""
    async with step_slot:
        user, throttle_key = await run_in_threadpool(
            _begin_reauthentication, session, settings, cipher, hasher, user_id, vet
        )
    try:
        valid, _ = await hasher.verify_async(password, user.password_hash)
    except HashQueueFull:
        await release_own_check(session, settings, throttle_key, step_slot)
        raise _busy() from None
    if not valid:
        raise UnprocessableContent(
            "validation_failed", extra={"errors": [service_field_error(field, "password_current_wrong")]}
        )
    return Reauthenticated(user, throttle_key)


async def release_own_check(session: Session, settings: Settings, throttle_key: str, step_slot: StepSlot) -> None:
    """Give back a reservation whose check could not run (the hasher full)."""
    async with step_slot:
        await run_in_threadpool(give_back_own_check, session, settings, throttle_key)


def _begin_reauthentication(
    session: Session,
    settings: Settings,
    cipher: DataCipher,
    hasher: PasswordHasher,
    user_id: uuid.UUID,
    vet: Callable[[User], None] | None,
) -> tuple[User, str]:
    """The account, read in a transaction that ends here; ``vet``; then the
    attempt's reservation, committed (or 429)."""
    user = session.get(User, user_id)
    assert user is not None  # just resolved from its account
    try:
        if vet is not None:
            vet(user)
    finally:
        session.commit()
    if hasher.full:
        raise _busy()
    throttle_key = cipher.keyed_digest(f"user:{user.username}", THROTTLE_PURPOSE)
    _reserve_attempt(session, throttle_key, settings)
    return user, throttle_key


async def change_own_password(
    session: Session,
    *,
    settings: Settings,
    hasher: PasswordHasher,
    cipher: DataCipher,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    step_slot: StepSlot,
    keep_session: uuid.UUID | None = None,
) -> str | None:
    """A person changes their own password: the way out of a temporary one
    issued with an approval (``must_change_password``).  It ends the
    account's tokens and browser sessions but ``keep_session``: the one the
    change was made in, if any, which goes on under a new secret (returned,
    for the answer's cookie; ``sessions.renew``).  The current password
    is proved again (``reauthenticate``).  It never clears
    ``credential_pending``: a password an admin set stays one that gives no
    case reach, whoever changes it (app.accounts.duties).

    The new hash is computed on the hasher's threads, as the check is, before
    the change is written.  The last step keeps its slot until the route
    class has committed the change with the request's audit entry."""
    if new_password == current_password:
        raise UnprocessableContent(
            "validation_failed", extra={"errors": [service_field_error("body.new_password", "password_unchanged")]}
        )

    def vet(user: User) -> None:
        refuse_weak_password(new_password, username=user.username, full_name=user.full_name, field="body.new_password")

    proved = await reauthenticate(
        session,
        settings=settings,
        hasher=hasher,
        cipher=cipher,
        user_id=user_id,
        password=current_password,
        step_slot=step_slot,
        field="body.current_password",
        vet=vet,
    )
    try:
        new_hash = await hasher.hash_async(new_password)
    except HashQueueFull:
        await release_own_check(session, settings, proved.throttle_key, step_slot)
        raise _busy() from None
    await step_slot.hold()
    return await run_in_threadpool(_apply_change, session, proved.user, proved.throttle_key, new_hash, keep_session)


def _apply_change(
    session: Session, user: User, throttle_key: str, new_hash: str, keep_session: uuid.UUID | None
) -> str | None:
    _clear_failures(session, throttle_key)
    user.password_hash = new_hash
    user.must_change_password = False
    renewed = end_other_credentials(session, user, keep_session)
    user.updated_at = utcnow()
    session.flush()
    return renewed


def end_other_credentials(session: Session, user: User, keep_session: uuid.UUID | None) -> str | None:
    """How the account signs in changed (a new password, a second factor
    confirmed, removed or its recovery codes renewed): every token and
    browser session of the account ends but ``keep_session`` (the one the
    change was made in, if any), which goes on under a new secret, returned
    for the answer's cookie (OWASP ASVS 5.0 V7.4.3)."""
    revocation.revoke_all(user)
    sessions.end_sessions(session, user.id, keep=keep_session)
    return sessions.renew(session, keep_session, user.token_generation) if keep_session is not None else None
