from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.models import ServiceAccount, User
from app.accounts.service import service_account_out, user_out
from app.audit.recorder import AuditedRoute, SignInRoute, SteppedRoute, step_slot
from app.auth import service
from app.auth.mfa import factor
from app.auth.principal import CurrentPrincipal, EnrollingPrincipal, Principal, bearer_token, get_enrolling_principal
from app.auth.schemas import Me, PasswordChange, TokenRequest, TokenResponse
from app.db import get_session
from app.errors import BadRequest, Forbidden, InvalidClient, InvalidGrant, problem_responses
from app.idempotency.service import idempotency

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=AuditedRoute)
# Sign-in takes its own slots, not those of the requests that carry a token.
token_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=SignInRoute)

# The password change waits for hashes: it takes a request slot per step only.
password_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=SteppedRoute)

SessionDep = Annotated[Session, Depends(get_session)]


def _principal_ended(request: Request, session: Session, token: str | None) -> Principal:
    try:
        # A person who must still enrol a second factor may change a password.
        return get_enrolling_principal(request, session, token)
    finally:
        session.rollback()  # the read's transaction ends here


async def principal_in_step(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    """``CurrentPrincipal`` for a ``SteppedRoute``: resolved in one step, in
    its slot, its read's transaction ended."""
    async with step_slot(request):
        return await run_in_threadpool(_principal_ended, request, session, token)


StepPrincipal = Annotated[Principal, Depends(principal_in_step)]


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


@token_router.post(
    "/token",
    summary="Get an access token (password or client-credentials grant)",
    description=(
        "Attempts are limited per client address and over all addresses (429 `signin_rate_limited`), then per "
        "account name (429 `login_throttled`), before any password is checked. When every password-hash slot "
        "and the queue in front of them are taken, 503 `signin_busy`. Each refusal carries `Retry-After`."
    ),
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 415, 422, 429, 503),
)
async def issue_token(
    request: Request,
    form: Annotated[TokenRequest, Form()],
    session: SessionDep,
) -> TokenResponse:
    # Async: its database steps are short thread hops and its hash runs on
    # the hasher's own threads (``service.sign_in``).
    state = request.state
    attempt: service.Attempt
    if form.grant_type == "password":
        if not form.username or form.password is None:
            raise InvalidGrant()
        attempt = service.password_attempt(state.cipher, form.username, form.password, form.otp)
    elif form.grant_type == "client_credentials":
        basic = _basic_credentials(request)
        client_id, secret = basic if basic else (form.client_id, form.client_secret)
        if not client_id or secret is None:
            raise InvalidClient()
        attempt = service.client_credentials_attempt(state.cipher, client_id, secret)
    else:
        raise BadRequest("unsupported_grant_type", code="unsupported_grant_type")
    issued = await service.sign_in(
        session,
        attempt,
        settings=state.settings,
        hasher=state.hasher,
        tokens=state.tokens,
        cipher=state.cipher,
        client_address=request.client.host if request.client else None,
        audit=state.audit,
        step_slot=step_slot(request),
    )
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get(
    "/me",
    summary="Who am I: role, scope and attestations, as resolved now",
    response_model=Me,
    responses=problem_responses(401, 503),
)
def me(principal: EnrollingPrincipal, session: SessionDep) -> Me:
    # The principal was just resolved from its account, and accounts are
    # never deleted (only disabled): the account is there.
    if principal.kind == "user":
        found_user = session.get(User, principal.id)
        assert found_user is not None
        user = user_out(session, found_user)
        enrolled = factor.confirmed_factor(session, found_user.id) is not None
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
            mfa_enrolled=enrolled,
            mfa_recovery_codes_left=factor.recovery_codes_left(session, found_user.id) if enrolled else None,
            mfa_enrolment_required=principal.needs_second_factor,
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


@password_router.post(
    "/password",
    status_code=204,
    summary="Change my password (people only); signs me out everywhere",
    description=(
        "The current password is checked like a sign-in's, on the same count per account name (429 "
        "`login_throttled`). When every password-hash slot and the queue in front of them are taken, 503 "
        "`signin_busy` with `Retry-After`."
    ),
    responses=problem_responses(401, 403, 413, 415, 422, 429, 503),
)
async def change_password(
    body: PasswordChange, principal: StepPrincipal, session: SessionDep, request: Request
) -> Response:
    # Async: its database steps are short thread hops and its hashes run on
    # the hasher's own threads (``service.change_own_password``).
    if principal.kind != "user":
        raise Forbidden("password_people_only")
    state = request.state
    await service.change_own_password(
        session,
        settings=state.settings,
        hasher=state.hasher,
        cipher=state.cipher,
        user_id=principal.id,
        current_password=body.current_password,
        new_password=body.new_password,
        step_slot=step_slot(request),
    )
    return Response(status_code=204)
