"""The second factor's routes: a person's own enrolment (``/auth/mfa``),
open to a person who must still enrol one, and the admin's reset.

Starting an enrolment, removing the factor and renewing its recovery codes
each prove the current password again (and, once a factor is in use, a
code): a stolen session or token alone cannot change how the account signs
in (OWASP ASVS 5.0 V7.5.1).  Those routes wait for a password hash, so they
take a request slot per database step only (``SteppedRoute``), as the
password change does.

A person's own routes take no ``Idempotency-Key``: their answers hold
secrets shown once, which are never kept, and a retry of a check would be a
second use of its code anyway (``app.openapi.NO_IDEMPOTENCY``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.models import User
from app.audit.recorder import AuditedRoute, SteppedRoute, step_slot
from app.auth import service as signin
from app.auth.mfa import service
from app.auth.mfa.schemas import CodeIn, PasswordIn, ReauthenticationIn, RecoveryCodes, TotpEnrolment
from app.auth.principal import AdminPrincipal, EnrollingPrincipal, Principal
from app.auth.router import StepPrincipal, set_session_cookie
from app.db import get_session
from app.errors import Forbidden, problem_responses
from app.idempotency.service import idempotency
from app.orgs.service import get_or_404

router = APIRouter(prefix="/api/v1/auth/mfa", tags=["auth"], route_class=AuditedRoute)
# The routes that prove the password again wait for its hash.
reauthenticated_router = APIRouter(prefix="/api/v1/auth/mfa", tags=["auth"], route_class=SteppedRoute)
admin_router = APIRouter(
    prefix="/api/v1", tags=["admin"], route_class=AuditedRoute, dependencies=[Depends(idempotency)]
)

SessionDep = Annotated[Session, Depends(get_session)]
T = TypeVar("T")
CHECK_ERRORS = problem_responses(401, 403, 409, 413, 415, 422, 429, 503)
REAUTHENTICATION = (
    "The current password is proved again first (`password`), checked like a sign-in's on the same count per "
    "account name: a wrong one is a 422 (`body.password`: `password_current_wrong`), 429 `login_throttled` once "
    "locked, 503 `signin_busy` when every password-hash slot is taken."
)
# What a factor changed does to the account's other credentials
# (app.auth.service.end_other_credentials).
OTHER_CREDENTIALS_END = (
    "Every other token and browser session of the account ends; the browser session this request came with goes "
    "on under a new cookie set by this answer (read its new CSRF token from `GET /api/v1/auth/sessions/current`); "
    "a bearer token ends too."
)


def _renew_cookie(response: Response, request: Request, renewed: str | None) -> None:
    """The session the change was made in goes on under ``renewed``, if any."""
    if renewed is not None:
        set_session_cookie(response, request.state.settings, renewed)


async def _reauthenticated(
    principal: Principal, session: Session, request: Request, password: str
) -> signin.Reauthenticated:
    """The caller's own account, its password proved again; the audit entry
    concerns its organizations whatever the outcome."""
    if principal.kind != "user":
        raise Forbidden("mfa_people_only", code="mfa_people_only")
    state = request.state
    return await signin.reauthenticate(
        session,
        settings=state.settings,
        hasher=state.hasher,
        cipher=state.cipher,
        user_id=principal.id,
        password=password,
        step_slot=step_slot(request),
        vet=lambda user: service.concern_account(session, state.audit, user),
    )


async def _last_step(request: Request, change: Callable[[], T]) -> T:
    """The change, in the step that keeps its slot until the route class has
    committed it with the request's entry."""
    await step_slot(request).hold()
    return await run_in_threadpool(change)


def _own_account(principal: Principal, session: Session, request: Request) -> User:
    if principal.kind != "user":
        raise Forbidden("mfa_people_only", code="mfa_people_only")
    user = session.get(User, principal.id)
    assert user is not None  # just resolved from its account
    service.concern_account(session, request.state.audit, user)
    return user


@reauthenticated_router.post(
    "/totp",
    summary="Start enrolling an authenticator app, with my password: a new TOTP secret, shown once",
    description=(
        f"{REAUTHENTICATION} "
        "The secret is not asked for at sign-in until a first code confirms it (`POST "
        "/api/v1/auth/mfa/totp/confirm`); starting again replaces one not confirmed yet. 409 "
        "`mfa_already_enrolled` while a factor is in use. People only (403 `mfa_people_only`)."
    ),
    response_model=TotpEnrolment,
    responses=CHECK_ERRORS,
)
async def start_totp_enrolment(
    body: PasswordIn, principal: StepPrincipal, session: SessionDep, request: Request
) -> TotpEnrolment:
    proved = await _reauthenticated(principal, session, request, body.password)
    state = request.state
    secret, uri = await _last_step(
        request, lambda: service.start_enrolment(session, state.cipher, state.settings, proved)
    )
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post(
    "/totp/confirm",
    summary="Confirm the authenticator app with its first code: the factor is in use; ten recovery codes, shown once",
    description=(
        "Every token and browser session of the account, opened with the password alone, ends: all but the "
        "browser session this request came with, which goes on under a new cookie set by this answer (read its "
        "new CSRF token from `GET /api/v1/auth/sessions/current`); a bearer token ends too: sign in again with "
        "a code. "
        "A wrong or used code is a 422 (`body.code`: `mfa_code_invalid`) and counts as a failed sign-in of the "
        "account (429 `login_throttled` once locked). 409 `mfa_no_enrolment` before `POST "
        "/api/v1/auth/mfa/totp`, `mfa_already_enrolled` after a confirmation."
    ),
    response_model=RecoveryCodes,
    responses=CHECK_ERRORS,
)
def confirm_totp_enrolment(
    body: CodeIn, principal: EnrollingPrincipal, session: SessionDep, request: Request, response: Response
) -> RecoveryCodes:
    user = _own_account(principal, session, request)
    state = request.state
    codes, renewed = service.confirm_enrolment(
        session, state.cipher, state.settings, user, body.code, state.audit, keep_session=principal.session_id
    )
    _renew_cookie(response, request, renewed)
    return RecoveryCodes(recovery_codes=codes)


@reauthenticated_router.delete(
    "/totp",
    status_code=204,
    summary="Remove my authenticator app, with my password and a current code or a recovery code",
    description=(
        f"{REAUTHENTICATION} "
        "Its recovery codes go with it. "
        f"{OTHER_CREDENTIALS_END} "
        "Where the role requires a second factor, the account has no reach "
        "until a new one is enrolled. A wrong or used code is a 422 and counts as a failed sign-in; 409 "
        "`mfa_not_enrolled` without a factor in use."
    ),
    responses=CHECK_ERRORS,
)
async def remove_totp(
    body: ReauthenticationIn, principal: StepPrincipal, session: SessionDep, request: Request
) -> Response:
    proved = await _reauthenticated(principal, session, request, body.password)
    state = request.state
    renewed = await _last_step(
        request,
        lambda: service.remove_factor(
            session, state.cipher, state.settings, proved, body.code, state.audit, keep_session=principal.session_id
        ),
    )
    response = Response(status_code=204)
    _renew_cookie(response, request, renewed)
    return response


@reauthenticated_router.post(
    "/recovery-codes",
    summary="New recovery codes, with my password and a current code (the earlier ones stop working); shown once",
    description=(
        f"{REAUTHENTICATION} "
        f"{OTHER_CREDENTIALS_END} "
        "A wrong or used code is a 422 and counts as a failed sign-in; 409 `mfa_not_enrolled` without a factor "
        "in use."
    ),
    response_model=RecoveryCodes,
    responses=CHECK_ERRORS,
)
async def renew_recovery_codes(
    body: ReauthenticationIn, principal: StepPrincipal, session: SessionDep, request: Request, response: Response
) -> RecoveryCodes:
    proved = await _reauthenticated(principal, session, request, body.password)
    state = request.state
    codes, renewed = await _last_step(
        request,
        lambda: service.renew_recovery_codes(
            session, state.cipher, state.settings, proved, body.code, state.audit, keep_session=principal.session_id
        ),
    )
    _renew_cookie(response, request, renewed)
    return RecoveryCodes(recovery_codes=codes)


@admin_router.post(
    "/users/{user_id}/mfa/reset",
    status_code=204,
    summary="Take a person's second factor away (a lost phone): every token of the account ends",
    description=(
        "The person signs in again with the password and enrols a new factor; where the role requires one, "
        "the account has no reach until then. The password stays the person's own, so the reset gives the "
        "admin nothing of the account's reach."
    ),
    responses=problem_responses(401, 403, 404, 422, 503),
)
def reset_user_mfa(user_id: uuid.UUID, _: AdminPrincipal, session: SessionDep, request: Request) -> Response:
    user = get_or_404(session, User, user_id)
    service.concern_account(session, request.state.audit, user)
    had = service.reset_by_admin(session, user)
    request.state.audit.reason = "factor_removed" if had else "no_factor"
    return Response(status_code=204)
