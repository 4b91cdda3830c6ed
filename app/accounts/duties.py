"""Separation of duties: an admin acting alone never reaches case contents.

An admin grants roles and scopes, but a grant of a role that reads case
contents, or that approves such grants, takes effect only once a person of
the organization concerned approves it:

    grant's organization            approved by (an active person, never an admin)
    a school board, or one of       the board's privacy officer, or a school lead
    its schools                     of one of the board's schools
    a police force                  a police liaison of that force

The approver's own reach must itself be approved and in force, so an account
the admin made cannot approve anything.  Nobody approves their own grants.  A
grant reaching two organizations needs each one's approval.

Credentials follow the same rule: a password or secret set by an admin
(``credential_pending``) gives no case reach.  The first approval of such an
account issues a new one, to the approver, once: a temporary password the
person must change at first sign-in (``must_change_password``; until then the
account has no reach), or a new client secret for the integrator.  An admin's
password reset or secret rotation puts the account back there, its grants
pending.

Pending and refused grants are left out where grants become a principal's
scope (``app.auth.principal``), so every route, the police feed and exports
are covered at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import GrantApproval, Role, ScopeGrant, ServiceAccount, User
from app.accounts.scopes import Scope
from app.auth import revocation
from app.db import utcnow
from app.errors import NotFound
from app.orgs.models import School
from app.security import PasswordHasher

# The roles that read case contents (app.cases.policy: their capabilities
# include read_case; a test holds the two tables together).
CASE_READING = frozenset({Role.school_staff, Role.school_lead, Role.police_liaison, Role.dpj_reporter})
# The roles whose holders approve grants.
APPROVING = frozenset({Role.privacy_officer, Role.school_lead, Role.police_liaison})
# A grant of one of these roles by an admin waits for approval.
NEEDS_APPROVAL = CASE_READING | APPROVING


class Caller(Protocol):
    """The caller as this module reads it (``app.auth.principal.Principal``,
    which imports this module for ``has_reach``)."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def role(self) -> Role: ...
    @property
    def scope(self) -> Scope: ...


def granted_approval(role: Role) -> GrantApproval:
    """Where a grant made by an admin starts."""
    return GrantApproval.pending if role in NEEDS_APPROVAL else GrantApproval.approved


def has_reach(role: Role, *, credential_pending: bool, must_change_password: bool = False) -> bool:
    """Whether the account's approved grants are in force: not while its
    credential is one an admin set, nor before a temporary password is changed."""
    if must_change_password:
        return False
    return not (credential_pending and role in NEEDS_APPROVAL)


@dataclass(frozen=True)
class Approvable:
    """The organizations whose grants a principal approves."""

    board_ids: frozenset[uuid.UUID]
    police_force_ids: frozenset[uuid.UUID]

    def clause(self) -> ColumnElement[bool]:
        """The grants concerning them, as one SQL clause."""
        clauses: list[ColumnElement[bool]] = []
        if self.board_ids:
            boards = sorted(self.board_ids)
            schools = select(School.id).where(col(School.board_id).in_(boards))
            clauses += [col(ScopeGrant.board_id).in_(boards), col(ScopeGrant.school_id).in_(schools)]
        if self.police_force_ids:
            clauses.append(col(ScopeGrant.police_force_id).in_(sorted(self.police_force_ids)))
        return or_(*clauses) if clauses else false()


def approvable(session: Session, principal: Caller) -> Approvable:
    """What the caller approves: nothing unless it is a person holding an
    approving role, and then only within its own reach, which is in force
    only once approved (its scope is empty otherwise)."""
    if principal.kind != "user" or principal.role not in APPROVING:
        return Approvable(frozenset(), frozenset())
    scope = principal.scope
    if principal.role is Role.police_liaison:
        return Approvable(frozenset(), scope.police_force_ids)
    boards = set(scope.board_ids)
    if scope.school_ids:
        boards.update(session.exec(select(School.board_id).where(col(School.id).in_(sorted(scope.school_ids)))).all())
    return Approvable(frozenset(boards), frozenset())


def pending_grants(session: Session, principal: Caller) -> SelectOfScalar[ScopeGrant]:
    """The pending grants the caller may decide: of its organizations, never its own."""
    return select(ScopeGrant).where(
        ScopeGrant.approval == GrantApproval.pending.value,
        approvable(session, principal).clause(),
        or_(col(ScopeGrant.user_id).is_(None), col(ScopeGrant.user_id) != principal.id),
    )


def pending_grant_or_404(session: Session, principal: Caller, grant_id: uuid.UUID) -> ScopeGrant:
    grant = session.exec(pending_grants(session, principal).where(ScopeGrant.id == grant_id)).first()
    if grant is None:
        raise NotFound()
    return grant


@dataclass(frozen=True)
class IssuedCredential:
    """A credential issued with an approval, shown once to the approver."""

    username: str | None = None
    temporary_password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


def holder_of(session: Session, grant: ScopeGrant) -> User | ServiceAccount:
    holder = (
        session.get(User, grant.user_id) if grant.user_id else session.get(ServiceAccount, grant.service_account_id)
    )
    assert holder is not None  # the grant's foreign key
    return holder


def decide(
    session: Session, hasher: PasswordHasher, decided_by: uuid.UUID | None, grant: ScopeGrant, *, approve: bool
) -> IssuedCredential | None:
    """Approve or refuse a pending grant (``decided_by`` None: the operator,
    ``operator_approval``).  The first approval of an account whose credential
    an admin set issues a new one (returned, never kept)."""
    grant.approval = (GrantApproval.approved if approve else GrantApproval.refused).value
    grant.decided_by = decided_by
    grant.decided_at = utcnow()
    holder = holder_of(session, grant)
    issued = None
    if approve and holder.credential_pending:
        issued = _issue_credential(hasher, holder)
    session.flush()
    return issued


def _issue_credential(hasher: PasswordHasher, holder: User | ServiceAccount) -> IssuedCredential:
    secret = secrets.token_urlsafe(18 if isinstance(holder, User) else 32)
    holder.credential_pending = False
    revocation.revoke_all(holder)
    holder.updated_at = utcnow()
    if isinstance(holder, User):
        holder.password_hash = hasher.hash(secret)
        holder.must_change_password = True
        return IssuedCredential(username=holder.username, temporary_password=secret)
    holder.secret_hash = hasher.hash(secret)
    return IssuedCredential(client_id=holder.client_id, client_secret=secret)


def set_by_admin(session: Session, holder: User | ServiceAccount) -> None:
    """An admin set the account's password or secret: it gives no case reach,
    and the account's grants wait for approval again.  A person's is a
    temporary password, to change at the next sign-in: until then the
    account has no reach, and an admin's or auditor's routes refuse it
    (``app.auth.principal.require_roles``)."""
    holder.credential_pending = True
    if isinstance(holder, User):
        holder.must_change_password = True
        grants = select(ScopeGrant).where(ScopeGrant.user_id == holder.id)
    else:
        grants = select(ScopeGrant).where(ScopeGrant.service_account_id == holder.id)
    if Role(holder.role) not in NEEDS_APPROVAL:
        return
    for grant in session.exec(grants).all():
        grant.approval, grant.requested_at = GrantApproval.pending.value, utcnow()
        grant.decided_by = grant.decided_at = None


def role_changing(holder: User | ServiceAccount, role: Role) -> None:
    """The account moves into a role that needs approval from one that did
    not (an auditor's, an admin's): its password or secret was never vouched
    for by an approver, so it gives no case reach either, and the approval
    issues a new one (to the approver), as for an account an admin made."""
    if role in NEEDS_APPROVAL and Role(holder.role) not in NEEDS_APPROVAL:
        holder.credential_pending = True


def concerned_organizations(session: Session, grant: ScopeGrant) -> list[uuid.UUID]:
    """The grant's organization and, for a school, its board: whose audit entries its decision is."""
    if grant.school_id:
        board_id = session.exec(select(School.board_id).where(School.id == grant.school_id)).one()
        return [grant.school_id, board_id]
    return [org for org in (grant.board_id, grant.police_force_id) if org]


OPERATOR = "operator"


def operator_approval(
    session: Session, hasher: PasswordHasher, kind: str, account_id: uuid.UUID
) -> tuple[int, IssuedCredential | None]:
    """``sexto accounts approve``: the first approver of an organization has
    nobody above it to approve it, so the operator, who runs the service and
    holds its keys (and so is outside this separation anyway), approves every
    pending grant of one account from the command line.  Audited like an
    approval, as the ``operator``; committed.  Returns how many grants, and
    the credential issued."""
    from app.audit import chain

    holder_column = ScopeGrant.user_id if kind == "user" else ScopeGrant.service_account_id
    grants = session.exec(
        select(ScopeGrant).where(holder_column == account_id, ScopeGrant.approval == GrantApproval.pending.value)
    ).all()
    issued = None
    organizations: set[str] = set()
    for grant in grants:
        issued = decide(session, hasher, None, grant, approve=True) or issued
        organizations.update(str(org) for org in concerned_organizations(session, grant))
    if grants:
        draft = chain.EntryDraft(
            actor_kind="system",
            actor_id=OPERATOR,
            org_ids=",".join(sorted(organizations)),
            action="approve_grant",
            resource_type="accounts",
            resource_id=str(account_id),
            status_code=200,
            returned_ids=",".join(sorted(str(grant.id) for grant in grants)),
        )
        chain.append_and_commit(session, draft)
    return len(grants), issued
