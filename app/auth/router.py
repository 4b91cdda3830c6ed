from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.models import ServiceAccount, User
from app.accounts.service import service_account_out, user_out
from app.audit.recorder import AuditedRoute, SignInRoute, SteppedRoute, step_slot
from app.auth import service, sessions
from app.auth.mfa import factor
from app.auth.models import BrowserSession
from app.auth.principal import (
    EnrollingPrincipal,
    Principal,
    bearer_token,
    get_enrolling_principal,
    session_cookie,
)
from app.auth.schemas import (
    CurrentSession,
    Me,
    PasswordChange,
    SessionOpened,
    SessionOut,
    SessionSignIn,
    TokenRequest,
    TokenResponse,
)
from app.config import Settings
from app.db import get_session
from app.errors import BadRequest, Forbidden, InvalidClient, InvalidGrant, NotFound, problem_responses
from app.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=AuditedRoute)
# Sign-in takes its own slots, not those of the requests that carry a token.
token_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=SignInRoute)

# The password change waits for hashes: it takes a request slot per step only.
password_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=SteppedRoute)

SessionDep = Annotated[Session, Depends(get_session)]
T = TypeVar("T")
CookieDep = Annotated[str | None, Depends(session_cookie)]


def _principal_ended(request: Request, session: Session, token: str | None, cookie: str | None) -> Principal:
    try:
        # A person who must still enrol a second factor may change a password.
        return get_enrolling_principal(request, session, token, cookie)
    finally:
        session.rollback()  # the read's transaction ends here


async def principal_in_step(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer_token)],
    cookie: CookieDep,
) -> Principal:
    """``CurrentPrincipal`` for a ``SteppedRoute``: resolved in one step, in
    its slot, its read's transaction ended."""
    async with step_slot(request):
        return await run_in_threadpool(_principal_ended, request, session, token, cookie)


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


async def _sign_in(request: Request, session: Session, attempt: service.Attempt, finish: service.Finish[T]) -> T:
    """``service.sign_in`` with what the request gives it; ``finish`` says
    whether it ends with a token or a browser session."""
    state = request.state
    return await service.sign_in(
        session,
        attempt,
        settings=state.settings,
        hasher=state.hasher,
        cipher=state.cipher,
        client_address=request.client.host if request.client else None,
        audit=state.audit,
        step_slot=step_slot(request),
        finish=finish,
    )


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
    issued = await _sign_in(request, session, attempt, service.token_issuer(state.tokens))
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


def set_session_cookie(response: Response, settings: Settings, secret: str) -> None:
    # No Max-Age: the browser forgets the cookie when it closes (a shared
    # school computer); the service ends the session at its idle or absolute end.
    response.set_cookie(
        settings.session_cookie_name,
        secret,
        path="/",
        secure=settings.session_cookie_is_secure,
        httponly=True,
        samesite="strict",
    )


def _clear_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.session_cookie_is_secure,
        httponly=True,
        samesite="strict",
    )


@token_router.post(
    "/sessions",
    status_code=201,
    summary="Sign in for a browser session (people; the web app)",
    description=(
        "JSON, not a form, so that no other site's page can post it. The answer sets the session's cookie "
        "(`HttpOnly`, `Secure`, `SameSite=Strict`, `Path=/`; `__Host-sexto_session`, or `sexto_session` in "
        "development) and gives the CSRF token to send as `X-CSRF-Token` with every write. A wrong name or "
        "password is 400 `invalid_grant`, as at `POST /api/v1/auth/token`, with the same limits: per client "
        "address and over all addresses (429 `signin_rate_limited`), per account name (429 `login_throttled`), "
        "503 `signin_busy`. A request whose `Origin` is another site's is 403 `csrf_refused`."
    ),
    response_model=SessionOpened,
    responses=problem_responses(400, 403, 413, 415, 422, 429, 503),
)
async def open_session(request: Request, body: SessionSignIn, session: SessionDep, response: Response) -> SessionOpened:
    # Async, as the token endpoint is (``service.sign_in``).
    state = request.state
    if sessions.foreign_origin(request.headers.get("origin"), request.headers.get("host")):
        state.token_failure = "csrf_origin"
        raise Forbidden("csrf_refused", code="csrf_refused")
    attempt = service.password_attempt(state.cipher, body.username, body.password, body.otp)
    opened = await _sign_in(request, session, attempt, service.session_opener(state.settings))
    state.audit.touched("sessions", opened.id)
    set_session_cookie(response, state.settings, opened.secret)
    return SessionOpened(
        id=opened.id,
        created_at=opened.created_at,
        expires_at=opened.expires_at,
        idle_timeout_seconds=state.settings.session_idle_timeout_seconds,
        csrf_token=sessions.csrf_token(state.cipher, opened.secret),
    )


# The routes of a person's own credentials (list, end, sign out) take a
# person who must still enrol a second factor too: they reach no case, and
# the web app needs them (its CSRF token again after a reload, a way out).


@router.get(
    "/sessions",
    summary="My browser sessions in force",
    description="Oldest first. A service account has none.",
    response_model=Page[SessionOut],
    responses=problem_responses(401, 422, 503),
)
def list_sessions(
    principal: EnrollingPrincipal, session: SessionDep, page: PageDep, request: Request
) -> Page[SessionOut]:
    statement = sessions.live_sessions(principal.id, request.state.settings)
    rows, next_cursor = paginate(session, statement, BrowserSession, page)
    items = [_session_out(row, principal) for row in rows]
    return Page(items=items, next_cursor=next_cursor)


def _session_out(row: BrowserSession, principal: Principal) -> SessionOut:
    return SessionOut(
        id=row.id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        current=row.id == principal.session_id,
    )


@router.get(
    "/sessions/current",
    summary="The browser session this request came with, and its CSRF token",
    description="404 `no_current_session` for a request made with a bearer token.",
    response_model=CurrentSession,
    responses=problem_responses(401, 404, 503),
)
def current_session(
    principal: EnrollingPrincipal, cookie: CookieDep, session: SessionDep, request: Request
) -> CurrentSession:
    row = session.get(BrowserSession, principal.session_id) if principal.session_id else None
    if row is None or cookie is None:
        raise NotFound("no_current_session", code="no_current_session")
    settings: Settings = request.state.settings
    return CurrentSession(
        **_session_out(row, principal).model_dump(),
        idle_expires_at=sessions.idle_end(row.last_seen_at, settings),
        csrf_token=sessions.csrf_token(request.state.cipher, cookie),
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    summary="End one of my browser sessions, at once",
    description="Ending the current one also clears its cookie. Another person's session is 404, as a missing one.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def end_session(
    session_id: uuid.UUID, principal: EnrollingPrincipal, session: SessionDep, request: Request
) -> Response:
    if not sessions.end_session(session, principal.id, session_id):
        raise NotFound()
    response = Response(status_code=204)
    if session_id == principal.session_id:
        _clear_cookie(response, request.state.settings)
    return response


@router.delete(
    "/sessions",
    status_code=204,
    summary="End all my browser sessions but the current one, at once",
    description=(
        "Every browser session of mine ends, except the one this request came with (sign out of it with "
        "`POST /api/v1/auth/sign-out`). Made with a bearer token, every session ends and the token lives on."
    ),
    responses=problem_responses(401, 403, 503),
)
def end_other_sessions(principal: EnrollingPrincipal, session: SessionDep, request: Request) -> Response:
    ended = sessions.end_sessions(session, principal.id, keep=principal.session_id)
    request.state.audit.returned(list(ended))
    return Response(status_code=204)


@router.get(
    "/me",
    summary="Who am I: role, scope and attestations, as resolved now",
    description=(
        "The caller as the service resolves it on this request: a user (name, role, scope, "
        "attestations, whether it may handle cases, and its password and second-factor duties) or "
        "a service account (client id, name, role, scope). Answers also while a second factor "
        "still has to be enrolled, so that a front end can say so."
    ),
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
    summary="Sign out: end the token or browser session this request carries, at once",
    description=(
        "The token or session is refused from the next request on (401 `invalid_token`); the account's other "
        "tokens and sessions still work. A browser session's cookie is cleared. A retry after the credential "
        "was ended gets that 401: it is ended either way. No `Idempotency-Key`: a sign-out is one already, and "
        "another credential's retry with the same key must end that credential, not replay the first answer."
    ),
    responses=problem_responses(401, 403, 503),
)
def sign_out(principal: EnrollingPrincipal, session: SessionDep, request: Request) -> Response:
    service.sign_out(session, principal)
    response = Response(status_code=204)
    if principal.session_id is not None:
        _clear_cookie(response, request.state.settings)
    return response


@password_router.post(
    "/password",
    status_code=204,
    summary="Change my password (people only); signs me out everywhere else",
    description=(
        "Every token and browser session of the account ends, but the browser session the change is made in, "
        "which goes on under a new cookie (set by this answer; read its new CSRF token from `GET "
        "/api/v1/auth/sessions/current`); a change made with a bearer token ends that token too. "
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
    renewed = await service.change_own_password(
        session,
        settings=state.settings,
        hasher=state.hasher,
        cipher=state.cipher,
        user_id=principal.id,
        current_password=body.current_password,
        new_password=body.new_password,
        step_slot=step_slot(request),
        keep_session=principal.session_id,
    )
    response = Response(status_code=204)
    if renewed is not None:
        set_session_cookie(response, state.settings, renewed)
    return response
