"""Who is calling: the principal behind a bearer token or a browser session's
cookie (``app.auth.sessions``), resolved from the database on every request,
in one statement, so that a disable, a role change, a new scope or a
revocation takes effect at once.  The role and scope inside the token are
only hints.  A request that carries both is taken by its bearer token."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.requests import HTTPConnection
from fastapi.security import APIKeyCookie, OAuth2
from sqlalchemy import Row, Select, SQLColumnExpression, and_, bindparam, case, exists, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.accounts.duties import has_reach
from app.accounts.models import (
    AttestationLevel,
    GrantApproval,
    Role,
    ScopeGrant,
    ServiceAccount,
    TrainingAttestation,
    User,
)
from app.accounts.scopes import Scope
from app.auth import revocation, sessions
from app.auth.mfa.factor import required_roles
from app.auth.mfa.models import TotpFactor
from app.auth.models import BrowserSession
from app.config import Settings
from app.db import get_session, utcnow
from app.errors import Forbidden, InvalidToken, NotAuthenticated
from app.orgs.models import School
from app.security import TokenError, TokenService

TOKEN_URL = "/api/v1/auth/token"

PrincipalKind = Literal["user", "service_account"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: uuid.UUID
    role: Role
    scope: Scope
    attestation: AttestationLevel | None
    # The credential the request came with (a token's ``jti``), and the last
    # moment it is accepted: what a sign-out revokes, and for how long.
    token_id: str
    token_accepted_until: datetime
    # A person whose role requires a second factor and who has none yet: no
    # reach, and only the routes that enrol one (``EnrollingPrincipal``).
    needs_second_factor: bool = False
    # The browser session the request came with (None: a bearer token).
    session_id: uuid.UUID | None = None
    # A temporary password, not yet changed: no reach, and no role's routes.
    must_change_password: bool = False

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_architect(self) -> bool:
        return self.attestation is AttestationLevel.architect


class _BearerToken(OAuth2):
    """The bearer token, declared in OpenAPI with both grants of the token endpoint."""

    def __init__(self) -> None:
        super().__init__(
            flows=OAuthFlows(
                password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
                clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
            ),
            scheme_name="OAuth2",
            description="Short-lived EdDSA JWT from `POST /api/v1/auth/token`.",
            auto_error=False,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


bearer_token = _BearerToken()


class _SessionCookie(APIKeyCookie):
    """The browser session's cookie, declared in OpenAPI under its production
    name; read under the name the settings give (``sexto_session`` over plain
    http in development)."""

    def __init__(self) -> None:
        super().__init__(
            name="__Host-sexto_session",
            scheme_name="SessionCookie",
            description=(
                "Browser session from `POST /api/v1/auth/sessions` (the web app; `HttpOnly`, `Secure`, "
                "`SameSite=Strict`; named `sexto_session` in development over plain http). Writes (`POST`, "
                "`PUT`, `PATCH`, `DELETE`) also need the `X-CSRF-Token` header: the `csrf_token` of the "
                "sign-in's answer or of `GET /api/v1/auth/sessions/current`."
            ),
            auto_error=False,
        )

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        settings: Settings = request.state.settings
        return request.cookies.get(settings.session_cookie_name) or None


session_cookie = _SessionCookie()


_LEVEL_RANK = case((col(TrainingAttestation.level) == AttestationLevel.architect.value, 2), else_=1)
_RANKED_LEVELS = {2: AttestationLevel.architect, 1: AttestationLevel.explorer}


def _second_factor(by_session: bool) -> SQLColumnExpression[bool]:
    local = exists().where(col(TotpFactor.user_id) == col(User.id), col(TotpFactor.confirmed_at).is_not(None))
    if by_session:
        return or_(col(BrowserSession.provider_mfa), local).label("has_second_factor")
    return local.label("has_second_factor")


_GRANTED_SCHOOL = aliased(School, name="granted_school")


def _principal_query(
    account: type[User] | type[ServiceAccount],
    holder_column: SQLColumnExpression[uuid.UUID | None],
    *,
    by_session: bool = False,
) -> Select[Any]:
    """The account, whether the credential was revoked, its approved scope
    grants (with the schools of the boards granted) and (people) its best
    attestation: one statement, one round trip, whatever the scope.

    ``by_session``: the account is the one of the browser session whose
    digest is bound as ``session_digest``, joined in the same statement with
    what ends it (its generation, its two ends); a session that was ended
    has no row, so there is no revocation to look up."""
    columns: list[SQLColumnExpression[Any]] = [
        col(account.role),
        col(account.is_active),
        col(account.token_generation),
        literal(False).label("revoked") if by_session else revocation.revoked_clause(),
        col(account.credential_pending),
        col(User.must_change_password) if account is User else literal(False).label("must_change_password"),
        # A confirmed second factor: a primary-key probe, read only for people;
        # or a session whose single sign-on reported the provider's (app.auth.oidc).
        _second_factor(by_session) if account is User else literal(True).label("has_second_factor"),
        col(ScopeGrant.board_id),
        col(ScopeGrant.school_id),
        col(ScopeGrant.police_force_id),
        col(ScopeGrant.platform),
        col(School.id).label("board_school_id"),
        # The board of a school granted on its own: the chain of the
        # principal's audit entries (``app.audit.recorder.home_chain``).
        col(_GRANTED_SCHOOL.board_id).label("school_board_id"),
    ]
    if account is User:
        columns.append(
            select(func.max(_LEVEL_RANK))
            .where(TrainingAttestation.user_id == User.id)
            .scalar_subquery()
            .label("attestation_rank")
        )
    if by_session:
        columns += [
            col(User.id).label("account_id"),
            col(BrowserSession.id).label("session_id"),
            col(BrowserSession.generation).label("session_generation"),
            col(BrowserSession.last_seen_at),
            col(BrowserSession.expires_at),
        ]
    # SQLAlchemy's own select: SQLModel's takes at most four columns.
    statement = (
        sa_select(*columns)
        .select_from(account)
        # Only approved grants give reach (app.accounts.duties).
        .outerjoin(
            ScopeGrant,
            and_(holder_column == col(account.id), col(ScopeGrant.approval) == GrantApproval.approved.value),
        )
        .outerjoin(School, col(School.board_id) == col(ScopeGrant.board_id))
        .outerjoin(_GRANTED_SCHOOL, col(_GRANTED_SCHOOL.id) == col(ScopeGrant.school_id))
    )
    if by_session:
        return statement.join(BrowserSession, col(BrowserSession.user_id) == col(User.id)).where(
            col(BrowserSession.digest) == bindparam("session_digest")
        )
    return statement.where(col(account.id) == bindparam("account_id"))


_QUERIES = {
    "user": _principal_query(User, col(ScopeGrant.user_id)),
    "service_account": _principal_query(ServiceAccount, col(ScopeGrant.service_account_id)),
}
_SESSION_QUERY = _principal_query(User, col(ScopeGrant.user_id), by_session=True)


def load_principal(
    session: Session,
    *,
    subject: str,
    generation: int,
    credential_id: str,
    accepted_until: datetime,
    second_factor_roles: frozenset[Role] = frozenset(),
) -> Principal:
    """Who a credential's subject is now, in one statement.  Refused when the
    credential was revoked (signed out), or the account is gone, disabled,
    or its tokens revoked since the credential was issued (a bumped
    generation: revoke-all, a new password or secret, a disable).  A person
    of one of ``second_factor_roles`` without a confirmed second factor has
    no reach (``needs_second_factor``)."""
    kind, _, raw_id = subject.partition(":")
    if kind not in _QUERIES:
        raise TokenError("unknown_subject")
    try:
        account_id = uuid.UUID(raw_id)
    except ValueError:
        raise TokenError("unknown_subject") from None
    parameters = {"account_id": account_id, revocation.DIGEST_PARAMETER: revocation.credential_digest(credential_id)}
    rows = session.execute(_QUERIES[kind], parameters).all()
    if rows and rows[0].revoked:
        raise TokenError("token_revoked")
    if not rows or not rows[0].is_active or rows[0].token_generation != generation:
        raise TokenError("account_unusable")
    principal_kind: PrincipalKind = "user" if kind == "user" else "service_account"
    return _principal_of(
        rows, principal_kind, account_id, credential_id, accepted_until, second_factor_roles=second_factor_roles
    )


def _principal_of(
    rows: Sequence[Row[Any]],
    kind: PrincipalKind,
    account_id: uuid.UUID,
    credential_id: str,
    accepted_until: datetime,
    *,
    session_id: uuid.UUID | None = None,
    second_factor_roles: frozenset[Role] = frozenset(),
) -> Principal:
    first = rows[0]
    role = Role(first.role)
    attestation = _RANKED_LEVELS.get(first.attestation_rank) if kind == "user" else None
    needs_second_factor = role in second_factor_roles and not first.has_second_factor
    if needs_second_factor or not has_reach(
        role, credential_pending=first.credential_pending, must_change_password=first.must_change_password
    ):
        rows = []  # signed in, but its grants are not in force: no reach
    scope = Scope(
        board_ids=frozenset(row.board_id for row in rows if row.board_id),
        school_ids=frozenset(school for row in rows for school in (row.school_id, row.board_school_id) if school),
        police_force_ids=frozenset(row.police_force_id for row in rows if row.police_force_id),
        platform=any(row.platform for row in rows),
        school_board_ids=frozenset(row.school_board_id for row in rows if row.school_board_id),
    )
    return Principal(
        kind,
        account_id,
        role,
        scope,
        attestation,
        credential_id,
        accepted_until,
        needs_second_factor=needs_second_factor,
        session_id=session_id,
        must_change_password=bool(first.must_change_password),
    )


@dataclass(frozen=True)
class SessionPrincipal:
    """A browser session's person, and what the request needs of the session."""

    principal: Principal
    last_seen_at: datetime


def load_session_principal(session: Session, *, secret: str, settings: Settings, now: datetime) -> SessionPrincipal:
    """Who a browser session's person is now, in one statement (the session
    joined with the account).  Refused when the session is unknown or ended,
    past its idle or absolute end, or the account disabled or its
    credentials revoked since the session was opened (a bumped generation)."""
    rows = session.execute(_SESSION_QUERY, {"session_digest": sessions.session_digest(secret)}).all()
    if not rows:
        raise TokenError("session_unknown")
    first = rows[0]
    if not first.is_active or first.token_generation != first.session_generation:
        raise TokenError("account_unusable")
    ended = sessions.expiry(first.last_seen_at, first.expires_at, settings, now)
    if ended:
        raise TokenError(ended)
    accepted_until = min(first.expires_at, sessions.idle_end(first.last_seen_at, settings))
    principal = _principal_of(
        rows,
        "user",
        first.account_id,
        f"session:{first.session_id}",
        accepted_until,
        session_id=first.session_id,
        second_factor_roles=required_roles(settings),
    )
    return SessionPrincipal(principal, first.last_seen_at)


def get_enrolling_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str | None, Depends(bearer_token)],
    cookie: Annotated[str | None, Depends(session_cookie)] = None,
) -> Principal:
    """The caller, even one who must first enrol a second factor (for
    ``/auth/me``, the enrolment routes, and the routes of the person's own
    sessions and sign-out only)."""
    if token is None:
        if cookie is None:
            raise NotAuthenticated()
        return _session_principal(request, session, cookie)
    tokens: TokenService = request.state.tokens
    try:
        claims = tokens.decode(token)
        principal = load_principal(
            session,
            subject=claims.subject,
            generation=claims.generation,
            credential_id=claims.token_id,
            accepted_until=claims.accepted_until,
            second_factor_roles=required_roles(request.state.settings),
        )
    except TokenError as exc:
        request.state.token_failure = exc.reason
        raise InvalidToken() from None
    request.state.principal = principal
    return principal


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str | None, Depends(bearer_token)],
    cookie: Annotated[str | None, Depends(session_cookie)] = None,
) -> Principal:
    """The caller, refused (403 ``mfa_enrolment_required``) while it must
    first enrol a second factor."""
    principal = get_enrolling_principal(request, session, token, cookie)
    if principal.needs_second_factor:
        raise Forbidden("mfa_enrolment_required", code="mfa_enrolment_required")
    return principal


def _session_principal(request: Request, session: Session, secret: str) -> Principal:
    """The principal of a browser session, its unsafe requests checked
    against CSRF (403 ``csrf_refused``, audited with the reason), its
    activity recorded at most once a minute."""
    settings: Settings = request.state.settings
    now = utcnow()
    try:
        found = load_session_principal(session, secret=secret, settings=settings, now=now)
    except TokenError as exc:
        request.state.token_failure = exc.reason
        raise InvalidToken() from None
    principal = found.principal
    request.state.principal = principal
    refusal = request.method in sessions.UNSAFE_METHODS and sessions.csrf_refusal(
        origin=request.headers.get("origin"),
        host=request.headers.get("host"),
        sent=request.headers.get(sessions.CSRF_HEADER),
        expected=sessions.accepted_csrf_tokens(request.state.cipher, secret),
    )
    if refusal:
        request.state.token_failure = refusal
        raise Forbidden("csrf_refused", code="csrf_refused")
    assert principal.session_id is not None
    sessions.touch(session, principal.session_id, found.last_seen_at, now, settings)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
EnrollingPrincipal = Annotated[Principal, Depends(get_enrolling_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only the given roles through (403 otherwise).

    For routes whose existence is no secret (administration, audit).  Case
    routes answer 404 outside scope instead, through the case visibility rules.
    A temporary password not yet changed opens none of them (403
    ``password_change_required``): the person changes it first.
    """
    allowed = frozenset(roles)

    def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden()
        if principal.must_change_password:
            raise Forbidden("password_change_required", code="password_change_required")
        return principal

    return _check


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.admin))]
