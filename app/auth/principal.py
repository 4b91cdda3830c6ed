"""Who is calling: the principal behind a bearer token, resolved from the
database on every request so that a disable, a role change or a new scope
takes effect at once.  The role and scope inside the token are only hints."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2
from sqlmodel import Session, select

from app.accounts.models import AttestationLevel, Role, ServiceAccount, TrainingAttestation, User
from app.accounts.scopes import Scope, load_grants, resolve_scope
from app.db import get_session
from app.errors import Forbidden, InvalidToken, NotAuthenticated
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
    token_id: str

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

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


bearer_token = _BearerToken()


def highest_attestation(levels: list[str]) -> AttestationLevel | None:
    if AttestationLevel.architect in levels:
        return AttestationLevel.architect
    if AttestationLevel.explorer in levels:
        return AttestationLevel.explorer
    return None


def load_principal(session: Session, claims_subject: str, generation: int, token_id: str) -> Principal:
    kind, _, raw_id = claims_subject.partition(":")
    try:
        account_id = uuid.UUID(raw_id)
    except ValueError:
        raise TokenError("unknown_subject") from None
    if kind == "user":
        user = session.get(User, account_id)
        if user is None or not user.is_active or user.token_generation != generation:
            raise TokenError("account_unusable")
        grants = load_grants(session, user_id=user.id)
        levels = session.exec(
            select(TrainingAttestation.level).where(TrainingAttestation.user_id == user.id)
        ).all()
        return Principal(
            kind="user",
            id=user.id,
            role=Role(user.role),
            scope=resolve_scope(session, grants),
            attestation=highest_attestation(list(levels)),
            token_id=token_id,
        )
    if kind == "service_account":
        account = session.get(ServiceAccount, account_id)
        if account is None or not account.is_active or account.token_generation != generation:
            raise TokenError("account_unusable")
        grants = load_grants(session, service_account_id=account.id)
        return Principal(
            kind="service_account",
            id=account.id,
            role=Role(account.role),
            scope=resolve_scope(session, grants),
            attestation=None,
            token_id=token_id,
        )
    raise TokenError("unknown_subject")


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    if token is None:
        raise NotAuthenticated()
    tokens: TokenService = request.state.tokens
    try:
        claims = tokens.decode(token)
        principal = load_principal(session, claims.subject, claims.generation, claims.token_id)
    except TokenError as exc:
        request.state.token_failure = exc.reason
        raise InvalidToken() from None
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role):
    """A dependency that lets only the given roles through (403 otherwise).

    For routes whose existence is no secret (administration, audit).  Case
    routes answer 404 outside scope instead, through the case visibility rules.
    """
    allowed = frozenset(roles)

    def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden()
        return principal

    return _check


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.admin))]
