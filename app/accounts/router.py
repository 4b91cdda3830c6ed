"""Administration of users, attestations and service accounts (admin only),
and the staff of a school as its lead reads it to build case teams."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, select

from app.accounts import duties, service
from app.accounts.models import AttestationLevel, Role, ScopeGrant, ServiceAccount, User
from app.accounts.schemas import (
    AttestationIn,
    GrantDecisionOut,
    PendingGrantOut,
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountCredentials,
    ServiceAccountOut,
    ServiceAccountUpdate,
    StaffMemberOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.audit.recorder import AuditedRoute
from app.auth.principal import AdminPrincipal, Principal, require_roles
from app.db import get_session
from app.errors import NotFound, problem_responses
from app.idempotency.service import idempotency
from app.orgs.service import get_or_404
from app.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1", tags=["admin"], route_class=AuditedRoute, dependencies=[Depends(idempotency)])
# No secret that the route exists: other roles get 403.  A school outside the
# lead's scope is a 404, like one that does not exist.
staff_router = APIRouter(prefix="/api/v1", tags=["cases"], route_class=AuditedRoute)
LeadPrincipal = Annotated[Principal, Depends(require_roles(Role.school_lead))]

# Who approves grants (app.accounts.duties): other roles get 403, a grant
# outside the approver's organizations is a 404.
approvals_router = APIRouter(
    prefix="/api/v1",
    tags=["privacy", "school", "police"],
    route_class=AuditedRoute,
    dependencies=[Depends(idempotency)],
)
ApproverPrincipal = Annotated[Principal, Depends(require_roles(*sorted(duties.APPROVING)))]

SessionDep = Annotated[Session, Depends(get_session)]
READ_ERRORS = problem_responses(401, 403, 404, 422, 503)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 415, 422, 503)


@router.post(
    "/users",
    status_code=201,
    summary="Create a user with a role and scope",
    description=(
        "Usernames are unique (409 `username_taken`); the password must pass the password rules "
        "(422). A password set by an admin gives no case reach: a grant of a role that reads case "
        "contents, or approves such grants, waits for a person of the organization concerned to "
        "approve it (`GET /api/v1/approvals`), and that first approval issues the person a "
        "temporary password. Administrators only; other roles get 403."
    ),
    response_model=UserOut,
    responses=WRITE_ERRORS,
)
def create_user(
    body: UserCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> UserOut:
    user = service.create_user(session, request.state.hasher, body)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return service.user_out(session, user)


@router.get(
    "/users",
    summary="List users",
    description="Oldest first, a page at a time; filter by role. Administrators only; other roles get 403.",
    response_model=Page[UserOut],
    responses=READ_ERRORS,
)
def list_users(
    _: AdminPrincipal,
    session: SessionDep,
    page: PageDep,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
) -> Page[UserOut]:
    statement = select(User)
    if role:
        statement = statement.where(User.role == role.value)
    rows, cursor = paginate(session, statement, User, page)
    return Page[UserOut](items=[service.user_out(session, u) for u in rows], next_cursor=cursor)


@router.get(
    "/users/{user_id}",
    summary="Read a user",
    description=(
        "With its scope, the approval state of its grants and its attestations. Administrators "
        "only; other roles get 403."
    ),
    response_model=UserOut,
    responses=READ_ERRORS,
)
def read_user(user_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> UserOut:
    return service.user_out(session, get_or_404(session, User, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Change a user's name, role, scope or password, or disable the account",
    description=(
        "A new role or scope waits for approval again where the role needs it; a new password "
        "ends the user's tokens and puts the account back to waiting for approval. Disabling ends "
        "the account's tokens for good. The last active admin cannot be demoted or disabled (409 "
        "`last_admin`). Attestations go when the role is no longer a school role. Administrators "
        "only; other roles get 403."
    ),
    response_model=UserOut,
    responses=WRITE_ERRORS,
)
def update_user(
    user_id: uuid.UUID, body: UserUpdate, _: AdminPrincipal, session: SessionDep, request: Request
) -> UserOut:
    user = service.update_user(session, request.state.hasher, get_or_404(session, User, user_id), body)
    return service.user_out(session, user)


@router.post(
    "/users/{user_id}/attestations",
    summary="Record or renew a user's Sexto training attestation",
    description=(
        "School staff and leads only (422 `attestation_for_school_staff_only`): the architect "
        "attestation is what lets them handle cases. Recording a level already held renews it. "
        "Administrators only; other roles get 403."
    ),
    response_model=UserOut,
    responses=WRITE_ERRORS,
)
def record_attestation(user_id: uuid.UUID, body: AttestationIn, _: AdminPrincipal, session: SessionDep) -> UserOut:
    user = get_or_404(session, User, user_id)
    service.record_attestation(session, user, body)
    return service.user_out(session, user)


@router.delete(
    "/users/{user_id}/attestations/{level}",
    status_code=204,
    summary="Withdraw a user's attestation at one level",
    description="404 when the user holds no attestation at that level. Administrators only; other roles get 403.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def revoke_attestation(user_id: uuid.UUID, level: AttestationLevel, _: AdminPrincipal, session: SessionDep) -> Response:
    if not service.revoke_attestation(session, get_or_404(session, User, user_id), level.value):
        raise NotFound()
    return Response(status_code=204)


@router.post(
    "/service-accounts",
    status_code=201,
    summary="Create a service account (board system or police portal)",
    description=(
        "For a board's information system or a police portal (never an admin: 422 "
        "`service_account_admin`). The client secret is in the answer, once, unless the role "
        "needs approval: then the first approval issues a new secret to the approver. "
        "Administrators only; other roles get 403."
    ),
    response_model=ServiceAccountCreated,
    responses=WRITE_ERRORS,
)
def create_service_account(
    body: ServiceAccountCreate, _: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> ServiceAccountCreated:
    account, secret = service.create_service_account(session, request.state.hasher, body)
    response.headers["Location"] = f"/api/v1/service-accounts/{account.id}"
    out = service.service_account_out(session, account)
    return ServiceAccountCreated(**out.model_dump(), client_secret=secret)


@router.get(
    "/service-accounts",
    summary="List service accounts",
    description="Oldest first, a page at a time. Administrators only; other roles get 403.",
    response_model=Page[ServiceAccountOut],
    responses=READ_ERRORS,
)
def list_service_accounts(_: AdminPrincipal, session: SessionDep, page: PageDep) -> Page[ServiceAccountOut]:
    rows, cursor = paginate(session, select(ServiceAccount), ServiceAccount, page)
    return Page[ServiceAccountOut](items=[service.service_account_out(session, a) for a in rows], next_cursor=cursor)


@router.get(
    "/service-accounts/{account_id}",
    summary="Read a service account",
    description=(
        "With its scope and the approval state of its grants; never its secret. Administrators "
        "only; other roles get 403."
    ),
    response_model=ServiceAccountOut,
    responses=READ_ERRORS,
)
def read_service_account(account_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> ServiceAccountOut:
    return service.service_account_out(session, get_or_404(session, ServiceAccount, account_id))


@router.patch(
    "/service-accounts/{account_id}",
    summary="Change a service account's name, role or scope, or disable it",
    description=(
        "A new role or scope waits for approval again where the role needs it (never admin: 422 "
        "`service_account_admin`). Disabling ends the account's tokens for good. Administrators "
        "only; other roles get 403."
    ),
    response_model=ServiceAccountOut,
    responses=WRITE_ERRORS,
)
def update_service_account(
    account_id: uuid.UUID, body: ServiceAccountUpdate, _: AdminPrincipal, session: SessionDep
) -> ServiceAccountOut:
    account = service.update_service_account(session, get_or_404(session, ServiceAccount, account_id), body)
    return service.service_account_out(session, account)


@router.post(
    "/service-accounts/{account_id}/secret",
    summary="Rotate a service account's secret (older tokens stop working)",
    description=(
        "Every token issued with the old secret stops working. Where the role needs approval the "
        "new secret is not shown here: the account's grants wait for approval again, and the "
        "approval issues a secret to the approver. Administrators only; other roles get 403."
    ),
    response_model=ServiceAccountCredentials,
    responses=problem_responses(401, 403, 404, 503),
)
def rotate_secret(
    account_id: uuid.UUID, _: AdminPrincipal, session: SessionDep, request: Request
) -> ServiceAccountCredentials:
    account = get_or_404(session, ServiceAccount, account_id)
    secret = service.rotate_secret(session, request.state.hasher, account)
    return ServiceAccountCredentials(id=account.id, client_id=account.client_id, client_secret=secret)


@router.post(
    "/users/{user_id}/revoke-tokens",
    status_code=204,
    summary="Revoke every token of a user, at once (the user signs in again)",
    description=(
        "For a lost device or a leaked token: every token and browser session of the user is "
        "refused from now on; the password stays. Administrators only; other roles get 403."
    ),
    responses=problem_responses(401, 403, 404, 422, 503),
)
def revoke_user_tokens(user_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> Response:
    service.revoke_tokens(session, get_or_404(session, User, user_id))
    return Response(status_code=204)


@router.post(
    "/service-accounts/{account_id}/revoke-tokens",
    status_code=204,
    summary="Revoke every token of a service account, at once (its secret stays)",
    description=(
        "For a leaked token: every token of the account is refused from now on; it gets new ones "
        "with the same secret. Administrators only; other roles get 403."
    ),
    responses=problem_responses(401, 403, 404, 422, 503),
)
def revoke_service_account_tokens(account_id: uuid.UUID, _: AdminPrincipal, session: SessionDep) -> Response:
    service.revoke_tokens(session, get_or_404(session, ServiceAccount, account_id))
    return Response(status_code=204)


# --- approvals: separation of duties (app.accounts.duties) -----------------------


@approvals_router.get(
    "/approvals",
    summary="Grants waiting for my approval: of my board or police force, never my own",
    description=(
        "For the people who approve grants (a board's privacy officer or a school lead for the "
        "board and its schools, a police liaison for its force), whose own reach is approved. A "
        "page at a time, oldest request first."
    ),
    response_model=Page[PendingGrantOut],
    responses=READ_ERRORS,
)
def list_pending_approvals(
    principal: ApproverPrincipal, session: SessionDep, request: Request, page: PageDep
) -> Page[PendingGrantOut]:
    rows, cursor = paginate(
        session, duties.pending_grants(session, principal), ScopeGrant, page, created="requested_at"
    )
    request.state.audit.touched("scope_grants")
    request.state.audit.returned([row.id for row in rows])
    return Page[PendingGrantOut](items=service.pending_grants_out(session, rows), next_cursor=cursor)


@approvals_router.post(
    "/approvals/{grant_id}/approve",
    summary="Approve a grant: it takes effect; the first approval of an account issues its credential, once",
    description=(
        "The grant takes effect. The first approval of an account whose credential an admin set "
        "issues it a new one, shown here once: a temporary password the person changes at first "
        "sign-in, or a client secret. A grant the caller may not decide, or its own, is a 404."
    ),
    response_model=GrantDecisionOut,
    responses=problem_responses(401, 403, 404, 503),
)
def approve_grant(
    grant_id: uuid.UUID, principal: ApproverPrincipal, session: SessionDep, request: Request
) -> GrantDecisionOut:
    return service.decide_grant(session, request.state.hasher, principal, grant_id, request.state.audit, approve=True)


@approvals_router.post(
    "/approvals/{grant_id}/refuse",
    summary="Refuse a grant: it gives no reach; the admin sees it refused",
    description=(
        "The grant gives no reach, and the admin sees it refused. A grant the caller may not "
        "decide, or its own, is a 404."
    ),
    response_model=GrantDecisionOut,
    responses=problem_responses(401, 403, 404, 503),
)
def refuse_grant(
    grant_id: uuid.UUID, principal: ApproverPrincipal, session: SessionDep, request: Request
) -> GrantDecisionOut:
    return service.decide_grant(session, request.state.hasher, principal, grant_id, request.state.audit, approve=False)


# --- the staff of a school, for the case team ---------------------------------------


@staff_router.get(
    "/staff",
    summary="School lead: the staff of its schools, to put on a case team (name, role, attestation)",
    description=(
        "The active school staff and leads of the lead's schools (or of one of them), with their "
        "highest attestation, to add to a case team. A school outside the lead's scope is a 404; "
        "other roles get 403."
    ),
    response_model=Page[StaffMemberOut],
    responses=READ_ERRORS,
)
def list_staff(
    principal: LeadPrincipal,
    session: SessionDep,
    request: Request,
    page: PageDep,
    school_id: Annotated[
        uuid.UUID | None, Query(description="Only this school's staff (default: every school of the caller's).")
    ] = None,
) -> Page[StaffMemberOut]:
    rows, cursor = paginate(session, service.staff_of_schools(principal, school_id), User, page)
    request.state.audit.touched("staff", school_id)
    return Page[StaffMemberOut](items=service.staff_members(session, rows), next_cursor=cursor)
