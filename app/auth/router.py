from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlmodel import Session

from app.accounts.models import ServiceAccount, User
from app.accounts.service import service_account_out, user_out
from app.audit.recorder import AuditedRoute
from app.auth import service
from app.auth.principal import CurrentPrincipal
from app.auth.schemas import Me, PasswordChange, TokenRequest, TokenResponse
from app.db import get_session
from app.errors import BadRequest, Forbidden, InvalidClient, InvalidGrant, problem_responses
from app.idempotency.service import idempotency

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=AuditedRoute)

SessionDep = Annotated[Session, Depends(get_session)]


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    return client_id, secret


@router.post(
    "/token",
    summary="Get an access token (password or client-credentials grant)",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 415, 422, 429, 503),
)
def issue_token(
    request: Request,
    form: Annotated[TokenRequest, Form()],
    session: SessionDep,
) -> TokenResponse:
    state = request.state
    if form.grant_type == "password":
        if not form.username or form.password is None:
            raise InvalidGrant()
        issued = service.password_grant(
            session,
            settings=state.settings,
            hasher=state.hasher,
            tokens=state.tokens,
            cipher=state.cipher,
            username=form.username,
            password=form.password,
            audit=request.state.audit,
        )
    elif form.grant_type == "client_credentials":
        basic = _basic_credentials(request)
        client_id, secret = basic if basic else (form.client_id, form.client_secret)
        if not client_id or secret is None:
            raise InvalidClient()
        issued = service.client_credentials_grant(
            session,
            settings=state.settings,
            hasher=state.hasher,
            tokens=state.tokens,
            cipher=state.cipher,
            client_id=client_id,
            client_secret=secret,
            audit=request.state.audit,
        )
    else:
        raise BadRequest("unsupported_grant_type", code="unsupported_grant_type")
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get(
    "/me",
    summary="Who am I: role, scope and attestations, as resolved now",
    response_model=Me,
    responses=problem_responses(401, 503),
)
def me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    # The principal was just resolved from its account, and accounts are
    # never deleted (only disabled): the account is there.
    if principal.kind == "user":
        found_user = session.get(User, principal.id)
        assert found_user is not None
        user = user_out(session, found_user)
        return Me(
            kind="user",
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=principal.role,
            scope=user.scope,
            attestations=user.attestations,
            may_handle_cases=principal.is_architect,
            must_change_password=found_user.must_change_password,
        )
    found_account = session.get(ServiceAccount, principal.id)
    assert found_account is not None
    account = service_account_out(session, found_account)
    return Me(
        kind="service_account",
        id=account.id,
        client_id=account.client_id,
        name=account.name,
        role=principal.role,
        scope=account.scope,
        may_handle_cases=False,
    )


@router.post(
    "/sign-out",
    status_code=204,
    summary="Sign out: revoke the token this request carries, at once",
    description=(
        "The token is refused from the next request on (401 `invalid_token`); the account's other tokens "
        "still work. A retry after the token was revoked gets that 401: the token is ended either way."
    ),
    responses=problem_responses(401, 422, 503),
    dependencies=[Depends(idempotency)],
)
def sign_out(principal: CurrentPrincipal, session: SessionDep) -> Response:
    service.sign_out(session, principal)
    return Response(status_code=204)


@router.post(
    "/password",
    status_code=204,
    summary="Change my password (people only); signs me out everywhere",
    responses=problem_responses(401, 403, 413, 415, 422, 429, 503),
)
def change_password(
    body: PasswordChange, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> Response:
    if principal.kind != "user":
        raise Forbidden("password_people_only")
    user = session.get(User, principal.id)
    assert user is not None  # just resolved from its account
    state = request.state
    service.change_own_password(
        session,
        settings=state.settings,
        hasher=state.hasher,
        cipher=state.cipher,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)
