"""Users and service accounts: created, changed and disabled by admins."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from typing import Literal

from sqlalchemy import exists, false, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app import passwords
from app.accounts import duties
from app.accounts.models import (
    AttestationLevel,
    GrantApproval,
    Role,
    ScopeGrant,
    ServiceAccount,
    TrainingAttestation,
    User,
)
from app.accounts.schemas import (
    ApprovalOut,
    AttestationIn,
    AttestationOut,
    GrantDecisionOut,
    IssuedCredentialOut,
    PendingGrantOut,
    ServiceAccountCreate,
    ServiceAccountOut,
    ServiceAccountUpdate,
    StaffMemberOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.accounts.scopes import (
    OrganizationRef,
    ScopeIn,
    approved,
    describe_grants,
    load_grants,
    replace_scope,
    validate_scope,
)
from app.audit.note import AuditNote
from app.auth import revocation
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import Conflict, NotFound, UnprocessableContent
from app.field_errors import service_field_error
from app.orgs.models import PoliceForce, School, SchoolBoard
from app.orgs.service import written_unless_duplicate
from app.security import PasswordHasher

SCHOOL_ROLES = frozenset({Role.school_staff, Role.school_lead})


def user_out(session: Session, user: User) -> UserOut:
    attestations = session.exec(
        select(TrainingAttestation)
        .where(TrainingAttestation.user_id == user.id)
        .order_by(col(TrainingAttestation.obtained_on))
    ).all()
    grants = load_grants(session, user_id=user.id)
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        role=Role(user.role),
        is_active=user.is_active,
        scope=describe_grants(session, grants),
        approval=_approval_out(session, user, grants),
        attestations=[AttestationOut.model_validate(a) for a in attestations],
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def service_account_out(session: Session, account: ServiceAccount) -> ServiceAccountOut:
    grants = load_grants(session, service_account_id=account.id)
    return ServiceAccountOut(
        id=account.id,
        client_id=account.client_id,
        name=account.name,
        role=Role(account.role),
        is_active=account.is_active,
        scope=describe_grants(session, grants),
        approval=_approval_out(session, account, grants),
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _approval_out(session: Session, account: User | ServiceAccount, grants: list[ScopeGrant]) -> ApprovalOut:
    must_change = isinstance(account, User) and account.must_change_password
    reach = duties.has_reach(
        Role(account.role), credential_pending=account.credential_pending, must_change_password=must_change
    )
    return ApprovalOut(
        in_force=account.is_active and reach and len(approved(grants)) == len(grants),
        credential_pending=account.credential_pending,
        pending=describe_grants(session, [g for g in grants if g.approval == GrantApproval.pending.value]),
        refused=describe_grants(session, [g for g in grants if g.approval == GrantApproval.refused.value]),
    )


# --- a school's staff (for the case team) ---------------------------------------


def attestation_levels(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, AttestationLevel]:
    """Each person's highest attestation (architect above explorer), as the
    principal's is read: an attestation held is in force."""
    best: dict[uuid.UUID, AttestationLevel] = {}
    if not user_ids:
        return best
    rows = session.exec(
        select(TrainingAttestation.user_id, TrainingAttestation.level).where(
            col(TrainingAttestation.user_id).in_(user_ids)
        )
    )
    for user_id, level in rows:
        if best.get(user_id) is not AttestationLevel.architect:
            best[user_id] = AttestationLevel(level)
    return best


def staff_members(session: Session, users: list[User]) -> list[StaffMemberOut]:
    levels = attestation_levels(session, [user.id for user in users])
    return [
        StaffMemberOut(
            id=user.id,
            full_name=user.full_name,
            role=Role(user.role),
            attestation=levels.get(user.id),
            may_handle_cases=levels.get(user.id) is AttestationLevel.architect,
        )
        for user in users
    ]


def staff_of_schools(principal: Principal, school_id: uuid.UUID | None) -> SelectOfScalar[User]:
    """The active school staff and leads of the caller's schools (or of one
    of them): a grant on the school or on its whole board makes one staff of
    it, as for joining a case team.  A school outside the caller's scope
    reads as one that does not exist (404)."""
    if school_id is not None and school_id not in principal.scope.school_ids:
        raise NotFound()
    schools = [school_id] if school_id is not None else sorted(principal.scope.school_ids)
    granted = exists(
        select(ScopeGrant.id)
        .join(School, or_(col(ScopeGrant.school_id) == School.id, col(ScopeGrant.board_id) == School.board_id))
        .where(
            ScopeGrant.user_id == User.id,
            col(School.id).in_(schools),
            ScopeGrant.approval == GrantApproval.approved.value,  # in force (app.accounts.duties)
        )
    )
    return select(User).where(
        col(User.role).in_([role.value for role in SCHOOL_ROLES]), User.is_active, granted if schools else false()
    )


def refuse_weak_password(password: str, *, username: str, full_name: str, field: str = "body.password") -> None:
    """A 422 naming ``field`` when ``app.passwords`` refuses
    it; the password itself is never part of the answer."""
    kind = passwords.weakness(password, username=username, full_name=full_name)
    if kind is not None:
        limits = {"min_length": passwords.MIN_LENGTH, "max_length": passwords.MAX_LENGTH}
        raise UnprocessableContent("validation_failed", extra={"errors": [service_field_error(field, kind, **limits)]})


def _refuse_taken_email(session: Session, email: str | None, user_id: uuid.UUID | None) -> None:
    """409 ``email_taken`` for an address another account has: single
    sign-on must find one person by it (app.auth.oidc)."""
    if email is None:
        return
    other = session.exec(select(User.id).where(User.email == email)).first()
    if other is not None and other != user_id:
        raise Conflict("email_taken", code="email_taken")


def create_user(session: Session, hasher: PasswordHasher, body: UserCreate) -> User:
    validate_scope(session, body.role, body.scope)
    refuse_weak_password(body.password, username=body.username, full_name=body.full_name)
    _refuse_taken_email(session, body.email, None)
    # The password is the admin's: it gives no case reach (app.accounts.duties).
    user = User(
        username=body.username,
        full_name=body.full_name,
        email=body.email,
        role=body.role.value,
        password_hash=hasher.hash(body.password),
        credential_pending=True,
    )
    with written_unless_duplicate(session, "username_taken"):
        session.add(user)
        replace_scope(session, body.scope, approval=duties.granted_approval(body.role), user_id=user.id)
    return user


def update_user(session: Session, hasher: PasswordHasher, user: User, body: UserUpdate) -> User:
    if body.password is not None:
        refuse_weak_password(body.password, username=user.username, full_name=body.full_name or user.full_name)
    role = body.role or Role(user.role)
    if body.role is not None or body.scope is not None:
        scope = body.scope if body.scope is not None else _current_scope(session, user_id=user.id)
        validate_scope(session, role, scope)
        replace_scope(
            session,
            scope,
            approval=duties.granted_approval(role),
            keep_decisions=role.value == user.role,
            user_id=user.id,
        )
    losing_admin = user.role == Role.admin and (role is not Role.admin or body.is_active is False)
    if losing_admin and user.is_active and _active_admins(session) <= 1:
        raise Conflict("last_admin", code="last_admin")
    if body.full_name is not None:
        user.full_name = body.full_name
    if "email" in body.model_fields_set:
        _refuse_taken_email(session, body.email, user.id)
        user.email = body.email
    if body.is_active is not None:
        _set_active(user, body.is_active)
    if role not in SCHOOL_ROLES:
        # The attestation is a school-staff badge; it does not follow the
        # person into another role.
        for attestation in session.exec(
            select(TrainingAttestation).where(TrainingAttestation.user_id == user.id)
        ).all():
            session.delete(attestation)
    duties.role_changing(user, role)
    user.role = role.value
    if body.password is not None:
        user.password_hash = hasher.hash(body.password)
        revocation.revoke_all(user)
        duties.set_by_admin(session, user)
    user.updated_at = utcnow()
    session.flush()
    return user


def record_attestation(session: Session, user: User, body: AttestationIn) -> TrainingAttestation:
    """Record (or renew) the user's attestation at one level."""
    if Role(user.role) not in SCHOOL_ROLES:
        raise UnprocessableContent("attestation_for_school_staff_only", code="attestation_for_school_staff_only")
    attestation = session.exec(
        select(TrainingAttestation).where(
            TrainingAttestation.user_id == user.id, TrainingAttestation.level == body.level.value
        )
    ).first()
    if attestation is None:
        attestation = TrainingAttestation(
            user_id=user.id, level=body.level.value, obtained_on=body.obtained_on, badge_url=str(body.badge_url)
        )
        session.add(attestation)
    else:
        attestation.obtained_on = body.obtained_on
        attestation.badge_url = str(body.badge_url)
    user.updated_at = utcnow()
    session.flush()
    return attestation


def revoke_attestation(session: Session, user: User, level: str) -> bool:
    attestation = session.exec(
        select(TrainingAttestation).where(TrainingAttestation.user_id == user.id, TrainingAttestation.level == level)
    ).first()
    if attestation is None:
        return False
    session.delete(attestation)
    user.updated_at = utcnow()
    session.flush()
    return True


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def create_service_account(
    session: Session, hasher: PasswordHasher, body: ServiceAccountCreate
) -> tuple[ServiceAccount, str | None]:
    """The account and its secret, or None when its role needs approval: the
    secret is then issued with the approval, to the approver
    (``app.accounts.duties``)."""
    _refuse_admin_service_account(body.role)
    validate_scope(session, body.role, body.scope)
    secret = new_client_secret()
    account = ServiceAccount(
        client_id=f"sx-{secrets.token_hex(8)}",
        name=body.name,
        role=body.role.value,
        secret_hash=hasher.hash(secret),
        credential_pending=True,
    )
    with written_unless_duplicate(session, "name_taken"):
        session.add(account)
        replace_scope(session, body.scope, approval=duties.granted_approval(body.role), service_account_id=account.id)
    return account, _shown_to_admin(account, secret)


def _shown_to_admin(account: ServiceAccount, secret: str) -> str | None:
    return None if Role(account.role) in duties.NEEDS_APPROVAL else secret


def update_service_account(session: Session, account: ServiceAccount, body: ServiceAccountUpdate) -> ServiceAccount:
    role = body.role or Role(account.role)
    _refuse_admin_service_account(role)
    if body.role is not None or body.scope is not None:
        scope = body.scope if body.scope is not None else _current_scope(session, service_account_id=account.id)
        validate_scope(session, role, scope)
        replace_scope(
            session,
            scope,
            approval=duties.granted_approval(role),
            keep_decisions=role.value == account.role,
            service_account_id=account.id,
        )
    if body.name is not None:
        account.name = body.name
    if body.is_active is not None:
        _set_active(account, body.is_active)
    duties.role_changing(account, role)
    account.role = role.value
    account.updated_at = utcnow()
    session.flush()
    return account


def rotate_secret(session: Session, hasher: PasswordHasher, account: ServiceAccount) -> str | None:
    """A new secret; for a role that needs approval it is not shown to the
    admin: the account's grants wait for approval again, which issues the
    secret to the approver (``app.accounts.duties``)."""
    secret = new_client_secret()
    account.secret_hash = hasher.hash(secret)
    revocation.revoke_all(account)
    duties.set_by_admin(session, account)
    account.updated_at = utcnow()
    session.flush()
    return _shown_to_admin(account, secret)


def revoke_tokens(session: Session, account: User | ServiceAccount) -> None:
    """End every token of the account now (a lost device, a leaked token);
    the account signs in again as before."""
    revocation.revoke_all(account)
    session.flush()


def _set_active(account: User | ServiceAccount, active: bool) -> None:
    """Disabling ends the account's tokens for good: the disable refuses them
    while it lasts, and the bumped generation keeps them refused once the
    account is enabled again."""
    if account.is_active and not active:
        revocation.revoke_all(account)
    account.is_active = active


def _refuse_admin_service_account(role: Role) -> None:
    if role is Role.admin:
        raise UnprocessableContent("service_account_admin", code="service_account_admin")


def _active_admins(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(User).where(User.role == Role.admin.value, User.is_active)
    ).one()


def _current_scope(
    session: Session, *, user_id: uuid.UUID | None = None, service_account_id: uuid.UUID | None = None
) -> ScopeIn:
    grants = load_grants(session, user_id=user_id, service_account_id=service_account_id)
    return ScopeIn(
        boards=[g.board_id for g in grants if g.board_id],
        schools=[g.school_id for g in grants if g.school_id],
        police_forces=[g.police_force_id for g in grants if g.police_force_id],
        platform=any(g.platform for g in grants),
    )


def ensure_first_admin(session: Session, hasher: PasswordHasher, username: str, password: str) -> bool:
    """Create the first admin at start-up when there is no admin yet."""
    if session.exec(select(User.id).where(User.role == Role.admin.value)).first() is not None:
        return False
    session.add(
        User(
            username=username.strip().lower(),
            full_name="Administrator",
            role=Role.admin.value,
            password_hash=hasher.hash(password),
            credential_pending=False,  # the operator's, from the settings
        )
    )
    session.commit()
    return True


# --- approvals (separation of duties, app.accounts.duties) ---------------------------


def pending_grants_out(session: Session, grants: list[ScopeGrant]) -> list[PendingGrantOut]:
    out = []
    for grant in grants:
        holder = duties.holder_of(session, grant)
        org: SchoolBoard | School | PoliceForce | None
        kind: Literal["board", "school", "police_force"]
        if grant.board_id:
            kind, org = "board", session.get(SchoolBoard, grant.board_id)
        elif grant.school_id:
            kind, org = "school", session.get(School, grant.school_id)
        else:
            kind, org = "police_force", session.get(PoliceForce, grant.police_force_id)
        assert org is not None  # the grant's foreign keys
        is_user = isinstance(holder, User)
        out.append(
            PendingGrantOut(
                id=grant.id,
                account_kind="user" if is_user else "service_account",
                account_id=holder.id,
                account_name=holder.full_name if isinstance(holder, User) else holder.name,
                username=holder.username if isinstance(holder, User) else None,
                client_id=holder.client_id if isinstance(holder, ServiceAccount) else None,
                role=Role(holder.role),
                organization_kind=kind,
                organization=OrganizationRef(id=org.id, name=org.name),
                requested_at=grant.requested_at,
            )
        )
    return out


def decide_grant(
    session: Session,
    hasher: PasswordHasher,
    principal: Principal,
    grant_id: uuid.UUID,
    note: AuditNote,
    *,
    approve: bool,
) -> GrantDecisionOut:
    """Approve or refuse one pending grant the caller may decide (404 otherwise),
    noted for the audit entry: the grant, its account and its organizations."""
    grant = duties.pending_grant_or_404(session, principal, grant_id)
    note.touched("scope_grants", grant.id)
    note.returned([grant.user_id or grant.service_account_id])
    note.concerns = list(duties.concerned_organizations(session, grant))
    issued = duties.decide(session, hasher, principal.id, grant, approve=approve)
    assert grant.decided_at is not None
    return GrantDecisionOut(
        id=grant.id,
        account_kind="user" if grant.user_id else "service_account",
        account_id=grant.user_id or grant.service_account_id,
        approval=GrantApproval(grant.approval),
        decided_at=grant.decided_at,
        credential=IssuedCredentialOut(**dataclasses.asdict(issued)) if issued else None,
    )
