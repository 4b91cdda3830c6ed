"""Single sign-on's routes: the admin's registry of identity providers, and
the three a browser follows (the providers to offer, the start, the
callback).  The two that talk to a provider are async: their database steps
are short thread hops in the sign-in slots, and no slot, connection or
thread of the pool is held while the provider answers (as ``POST
/auth/token`` holds none while it hashes)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app import limits
from app.accounts.router import ApproverPrincipal
from app.audit.recorder import AuditedRoute, SignInRoute, step_slot
from app.auth.oidc import client, service
from app.auth.oidc.models import IdentityProvider
from app.auth.oidc.schemas import (
    IdentityProviderCreate,
    IdentityProviderOut,
    IdentityProviderUpdate,
    SignInProviderOut,
)
from app.auth.oidc.service import SsoRefused
from app.auth.principal import AdminPrincipal
from app.auth.router import set_session_cookie
from app.config import Settings
from app.db import get_session
from app.errors import problem_response, problem_responses, request_language
from app.idempotency.service import idempotency
from app.orgs.service import get_or_404
from app.pagination import Page, PageDep, paginate

admin_router = APIRouter(
    prefix="/api/v1", tags=["admin"], route_class=AuditedRoute, dependencies=[Depends(idempotency)]
)
approvals_router = APIRouter(
    prefix="/api/v1",
    tags=["privacy", "school", "police"],
    route_class=AuditedRoute,
    dependencies=[Depends(idempotency)],
)
sso_router = APIRouter(prefix="/api/v1/auth/sso", tags=["auth"], route_class=SignInRoute)

SessionDep = Annotated[Session, Depends(get_session)]
CALLBACK = "sso_callback"
REDIRECTS: dict[int | str, dict[str, Any]] = {
    303: {"description": "To the provider (start), or back to the web app (callback): see `Location`."}
}
BROWSER_REFUSALS = (
    "A refusal is audited with its reason. A browser (a request that accepts `text/html`) is sent back to the "
    "web app, `/?sso_error=sso_refused` (or `sso_unavailable` when the provider cannot be reached or the service "
    "is not set up for it), and is told nothing more; any other client gets the problem document (403 "
    "`sso_refused`, 503 `sso_unavailable`)."
)


def _redirect_uri(request: Request) -> str:
    return str(request.url_for(CALLBACK))


def _provider_out(request: Request, provider: IdentityProvider) -> IdentityProviderOut:
    return IdentityProviderOut.model_validate({**provider.model_dump(), "redirect_uri": _redirect_uri(request)})


# --- the admin's registry -----------------------------------------------------------


@admin_router.post(
    "/identity-providers",
    status_code=201,
    summary="Register a board's or a police force's OpenID Provider for single sign-on",
    description=(
        "Its client secret stays in a file of `SEXTO_OIDC_CLIENT_SECRETS_DIR`, named here; it never goes through "
        "the API. Register the answer's `redirect_uri` at the provider (docs/single-sign-on.md). 409 "
        "`provider_taken` for an issuer and client id registered already. Administrators only; other roles get 403."
    ),
    response_model=IdentityProviderOut,
    responses=problem_responses(401, 403, 409, 413, 415, 422, 503),
)
def create_identity_provider(
    body: IdentityProviderCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> IdentityProviderOut:
    provider = service.create_provider(session, body)
    request.state.audit.concerns = [provider.organization_id]
    response.headers["Location"] = f"{request.url.path}/{provider.id}"
    return _provider_out(request, provider)


@admin_router.get(
    "/identity-providers",
    summary="List the identity providers",
    description="Oldest first, a page at a time; disabled ones too. Administrators only; other roles get 403.",
    response_model=Page[IdentityProviderOut],
    responses=problem_responses(401, 403, 422, 503),
)
def list_identity_providers(
    _: AdminPrincipal, session: SessionDep, page: PageDep, request: Request
) -> Page[IdentityProviderOut]:
    rows, cursor = paginate(session, select(IdentityProvider), IdentityProvider, page)
    return Page(items=[_provider_out(request, row) for row in rows], next_cursor=cursor)


@admin_router.get(
    "/identity-providers/{provider_id}",
    summary="Read an identity provider",
    description="404 for one that does not exist. Administrators only; other roles get 403.",
    response_model=IdentityProviderOut,
    responses=problem_responses(401, 403, 404, 422, 503),
)
def read_identity_provider(
    provider_id: uuid.UUID, _: AdminPrincipal, session: SessionDep, request: Request
) -> IdentityProviderOut:
    provider = get_or_404(session, IdentityProvider, provider_id)
    request.state.audit.concerns = [provider.organization_id]
    return _provider_out(request, provider)


@admin_router.patch(
    "/identity-providers/{provider_id}",
    summary="Change or disable an identity provider",
    description=(
        "Only the fields given change; its organization stays. `enabled: false` disables it at once: it is "
        "offered nowhere and no sign-in through it goes on, those started included; the sessions opened through "
        "it run to their end (end them with `POST /api/v1/users/{user_id}/revoke-tokens`). 409 `provider_taken`. "
        "Administrators only; other roles get 403."
    ),
    response_model=IdentityProviderOut,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 503),
)
def update_identity_provider(
    provider_id: uuid.UUID, body: IdentityProviderUpdate, _: AdminPrincipal, session: SessionDep, request: Request
) -> IdentityProviderOut:
    provider = get_or_404(session, IdentityProvider, provider_id)
    request.state.audit.concerns = [provider.organization_id]
    return _provider_out(request, service.update_provider(session, provider, body))


@approvals_router.get(
    "/approvals/identity-providers",
    summary="Identity providers waiting for my approval: of my board or police force",
    description=(
        "For the people who approve an identity provider (`POST /api/v1/identity-providers/{provider_id}/approve`): "
        "the board's privacy officer or a school lead of one of its schools for a board's, a police liaison of the "
        "force for a force's. The providers of the caller's organizations not approved yet (never its secret, which "
        "never goes through the API), oldest first, a page at a time. Other roles get 403."
    ),
    response_model=Page[IdentityProviderOut],
    responses=problem_responses(401, 403, 422, 503),
)
def list_pending_identity_providers(
    principal: ApproverPrincipal, session: SessionDep, page: PageDep, request: Request
) -> Page[IdentityProviderOut]:
    rows, cursor = paginate(session, service.pending_providers(session, principal), IdentityProvider, page)
    request.state.audit.touched("identity-providers")
    request.state.audit.returned([row.id for row in rows])
    return Page(items=[_provider_out(request, row) for row in rows], next_cursor=cursor)


@approvals_router.post(
    "/identity-providers/{provider_id}/approve",
    summary="Approve an identity provider of my organization: people may sign in through it",
    description=(
        "For the board's privacy officer or a school lead of one of its schools (a board's provider), a police "
        "liaison of the force (a force's): the same people who approve grants, never an admin (403), so that an "
        "admin alone cannot set up a provider of their own and sign in through it as the organization's people. "
        "A provider outside the caller's organizations is a 404, as one that does not exist. Approving one "
        "approved already changes nothing. An admin's change to its issuer, client, secret file, domains or "
        "second-factor requirement asks for approval again."
    ),
    response_model=IdentityProviderOut,
    responses=problem_responses(401, 403, 404, 422, 503),
)
def approve_identity_provider(
    provider_id: uuid.UUID, principal: ApproverPrincipal, session: SessionDep, request: Request
) -> IdentityProviderOut:
    provider = service.approve_provider(session, principal, provider_id)
    request.state.audit.concerns = [provider.organization_id]
    return _provider_out(request, provider)


# --- a browser's way through ----------------------------------------------------------


@sso_router.get(
    "/providers",
    summary="The identity providers a person may sign in through (the sign-in page's buttons)",
    description="Enabled and approved ones only, oldest first, a page at a time: their id, name and start URL. No token needed.",
    response_model=Page[SignInProviderOut],
    responses=problem_responses(422, 503),
)
async def list_sign_in_providers(session: SessionDep, page: PageDep, request: Request) -> Page[SignInProviderOut]:
    async with step_slot(request):
        rows, cursor = await run_in_threadpool(
            paginate,
            session,
            select(IdentityProvider).where(
                col(IdentityProvider.enabled), col(IdentityProvider.approved_at).is_not(None)
            ),
            IdentityProvider,
            page,
        )
    items = [
        SignInProviderOut(
            id=row.id, name=row.name, start_url=str(request.url_for("start_sso", provider_id=str(row.id)).path)
        )
        for row in rows
    ]
    return Page(items=items, next_cursor=cursor)


def _noted(request: Request, exc: SsoRefused) -> SsoRefused:
    """The refusal, its reason put in the request's audit entry."""
    request.state.audit.reason = exc.reason
    return exc


def _begin(session: Session, request: Request, provider_id: uuid.UUID, client_address: str | None) -> IdentityProvider:
    """Count the attempt on the sign-in limits (per address, overall), then
    the provider, enabled; the read's transaction ends here."""
    state = request.state
    limits.signin_limits(session, state.settings, state.cipher, client_address)
    try:
        provider = service.enabled_provider(session, provider_id)
    finally:
        session.commit()
    state.audit.concerns = [provider.organization_id]
    state.audit.touched("identity-providers", provider.id)
    return provider


@sso_router.get(
    "/{provider_id}/start",
    status_code=303,
    response_class=RedirectResponse,
    summary="Start a single sign-on: to the provider (Authorization Code flow, PKCE S256, state, nonce)",
    description=(
        "A top-level navigation of the browser (the sign-in page's button). The answer sends it to the provider "
        "and sets a short-lived `HttpOnly` cookie (`__Host-sexto_sso`, `SameSite=Lax`) that binds the sign-in to "
        "this browser. `return_to`: a path of the service to come back to (`/` when absent or not one). Counted "
        "on the sign-in limits (429 `signin_rate_limited`). " + BROWSER_REFUSALS
    ),
    responses={**REDIRECTS, **problem_responses(403, 422, 429, 503)},
)
async def start_sso(
    provider_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    return_to: Annotated[str | None, Query(max_length=service.RETURN_TO_MAX)] = None,
) -> RedirectResponse:
    state = request.state
    settings: Settings = state.settings
    slot = step_slot(request)
    client_address = request.client.host if request.client else None
    try:
        async with slot:
            provider = await run_in_threadpool(_begin, session, request, provider_id, client_address)
        try:
            metadata = await state.oidc.metadata(provider.issuer)
        except client.ProviderRefusal as exc:
            raise service.refusal(exc.reason) from None
        await slot.hold()
        sign_in_state, secret = await run_in_threadpool(
            service.record_start, session, provider, settings, service.safe_return_to(return_to)
        )
    except SsoRefused as exc:
        raise _noted(request, exc) from None
    url = service.authorization_url(
        metadata, provider, redirect_uri=_redirect_uri(request), state=sign_in_state, browser_secret=secret
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        settings.oidc_cookie_name,
        secret,
        max_age=settings.oidc_sign_in_seconds,
        path="/",
        secure=settings.session_cookie_is_secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def _claims(request: Request, pending: service.Pending, code: str, iss: str | None) -> dict[str, Any]:
    """The code exchanged and the ID token checked: no slot held meanwhile."""
    settings: Settings = request.state.settings
    directory: client.ProviderDirectory = request.state.oidc
    try:
        metadata = await directory.metadata(pending.issuer)
        if iss is None and metadata.iss_parameter_supported:
            # RFC 9207 §2.4: a provider that says it sends ``iss`` always does.
            raise client.ProviderRefusal("issuer_missing")
        secret = client.read_secret(settings, pending.client_secret_file)
        id_token = await client.exchange_code(
            settings,
            metadata,
            client_id=pending.client_id,
            client_secret=secret,
            auth_method=pending.client_auth_method,
            code=code,
            redirect_uri=_redirect_uri(request),
            verifier=pending.verifier,
        )
        return await client.verify_id_token(
            directory, id_token, issuer=pending.issuer, client_id=pending.client_id, nonce=pending.nonce
        )
    except client.ProviderRefusal as exc:
        raise service.refusal(exc.reason) from None


@sso_router.get(
    "/callback",
    name=CALLBACK,
    status_code=303,
    response_class=RedirectResponse,
    summary="Where the provider sends the browser back: the code exchanged, the person found, a session opened",
    description=(
        "Register this URL at the provider as the redirect URI. The sign-in `state` names is used once, whatever "
        "follows, and only in the browser that started it. The ID token is checked (signature by the provider's "
        "keys with an asymmetric algorithm, issuer, audience, `azp`, expiry, issue time, nonce); the person is "
        "found by the provider's `sub`, or at a first sign-in by a verified email of one of the provider's "
        "domains equal to the `email` of an account the admin provisioned in the provider's organization; the "
        "account's role and scope are the admin's, never the provider's. The answer sets the browser session's "
        "cookie, as `POST /api/v1/auth/sessions` does, and sends the browser to the `return_to` of the start "
        "(read the CSRF token from `GET /api/v1/auth/sessions/current`). " + BROWSER_REFUSALS
    ),
    responses={**REDIRECTS, **problem_responses(403, 422, 503)},
)
async def sso_callback(
    request: Request,
    session: SessionDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    iss: Annotated[str | None, Query(max_length=500, description="The issuer (RFC 9207), when it says.")] = None,
) -> RedirectResponse:
    settings: Settings = request.state.settings
    slot = step_slot(request)
    try:
        client_address = request.client.host if request.client else None
        async with slot:
            pending = await run_in_threadpool(
                _take_login, session, request, state, request.cookies.get(settings.oidc_cookie_name), client_address
            )
        if iss is not None and iss != pending.issuer:
            raise SsoRefused("issuer_mismatch")  # a mix-up (RFC 9207)
        if error is not None or not code:
            raise SsoRefused("provider_error" if error is not None else "code_missing")
        claims = await _claims(request, pending, code, iss)
        await slot.hold()
        opened = await run_in_threadpool(
            service.complete, session, pending, claims, settings=settings, audit=request.state.audit
        )
    except SsoRefused as exc:
        raise _noted(request, exc) from None
    request.state.audit.touched("sessions", opened.id)
    response = RedirectResponse(pending.return_to, status_code=303)
    set_session_cookie(response, settings, opened.secret)
    _clear_binding(response, settings)
    return response


def _take_login(
    session: Session, request: Request, state: str | None, binding: str | None, client_address: str | None
) -> service.Pending:
    """Count the callback on the sign-in limits (per address, overall), as
    its start was: each made-up ``state`` is refused and audited, so a flood
    of them is refused (429) before it becomes a flood of entries; then the
    sign-in ``state`` names, taken once."""
    limits.signin_limits(session, request.state.settings, request.state.cipher, client_address)
    return service.take_login(session, state, binding, request.state.audit)


def _clear_binding(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.oidc_cookie_name, path="/", secure=settings.session_cookie_is_secure, httponly=True, samesite="lax"
    )


def install_sso_refusals(app: FastAPI) -> None:
    """A refused single sign-on: a browser goes back to the web app with the
    code alone; any other client gets the problem document."""

    @app.exception_handler(SsoRefused)
    async def _refused(request: Request, exc: SsoRefused) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            response: Response = RedirectResponse("/?" + urlencode({"sso_error": exc.code}), status_code=303)
            _clear_binding(response, request.state.settings)
            return response
        language = request_language(request)
        return problem_response(status=exc.status, code=exc.code, detail=exc.detail(language), language=language)
