"""What each role's scope is made of, read as a table, and how a scope is
stored and resolved.

A scope is a set of organizations: school boards, schools, police forces.  A
board in the scope of a school role stands for every school of that board,
including schools added later.

An auditor's scope may also hold **the platform**: what concerns no
organization (the audit entries with none: sign-ins of names that match no
account, requests refused without a valid token, the admins' actions).  It is
granted explicitly, like an organization, by an admin; an auditor of boards
alone never reads those entries.  The admin's own role covers the platform
and takes no scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app.accounts.models import GrantApproval, Role, ScopeGrant
from app.db import utcnow
from app.errors import UnprocessableContent
from app.i18n import MessageRef
from app.orgs.models import PoliceForce, School, SchoolBoard


@dataclass(frozen=True)
class ScopeRule:
    kinds: frozenset[str]  # which of "boards", "schools", "police_forces", "platform"
    message: str  # what is required, as a message key
    exactly: int | None = None
    at_least: int = 0


_SCHOOLS = ScopeRule(frozenset({"boards", "schools"}), "scope_schools_required", at_least=1)

SCOPE_RULES: dict[Role, ScopeRule] = {
    Role.school_staff: _SCHOOLS,
    Role.school_lead: _SCHOOLS,
    Role.dpj_reporter: _SCHOOLS,
    Role.police_liaison: ScopeRule(frozenset({"police_forces"}), "scope_one_police_force", exactly=1),
    Role.auditor: ScopeRule(frozenset({"boards", "police_forces", "platform"}), "scope_boards_required", at_least=1),
    Role.privacy_officer: ScopeRule(frozenset({"boards"}), "scope_one_board", exactly=1),
    Role.admin: ScopeRule(frozenset(), "scope_platform", exactly=0),
}


class ScopeIn(BaseModel):
    """The organizations a user or service account acts for."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"schools": ["6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21"]}]},
    )

    boards: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    schools: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    police_forces: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    platform: bool = Field(
        default=False,
        description="Auditors only: also audit the platform, the entries that concern no organization "
        "(sign-ins of unknown names, requests without a valid token, the admins' actions).",
    )


class OrganizationRef(BaseModel):
    """An organization by id and name."""

    id: uuid.UUID
    name: str


class ScopeOut(BaseModel):
    """The organizations granted to a user or service account."""

    boards: list[OrganizationRef]
    schools: list[OrganizationRef]
    police_forces: list[OrganizationRef]
    platform: bool = Field(description="An auditor of the platform: reads the entries that concern no organization.")


@dataclass(frozen=True)
class Scope:
    board_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    school_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    police_force_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    platform: bool = False  # an auditor of the platform (see the module's docstring)
    # The boards of the schools granted one by one (not a reach: the schools
    # are); read with the request's principal (``app.auth.principal``), for
    # the audit chain of its requests (``app.audit.recorder.home_chain``).
    # Not part of what a scope is (two scopes of the same reach are equal):
    # ``resolve_scope``, which gives the reach at sign-in, does not read it,
    # rather than spend a statement on it there.
    school_board_ids: frozenset[uuid.UUID] = field(default_factory=frozenset, compare=False)

    def organization_ids(self) -> frozenset[uuid.UUID]:
        """Every organization of the scope: whose audit entries these are."""
        return self.board_ids | self.school_ids | self.police_force_ids

    def home_boards(self) -> frozenset[uuid.UUID]:
        """The boards the scope's schools belong to, granted whole or not."""
        return self.board_ids | self.school_board_ids

    def as_claim(self) -> dict[str, list[str]]:
        """The scope as a token claim: a hint for clients, never trusted."""
        return {
            "boards": sorted(str(i) for i in self.board_ids),
            "schools": sorted(str(i) for i in self.school_ids),
            "police_forces": sorted(str(i) for i in self.police_force_ids),
        }


def validate_scope(session: Session, role: Role, scope: ScopeIn) -> None:
    rule = SCOPE_RULES[role]
    given = {"boards": scope.boards, "schools": scope.schools, "police_forces": scope.police_forces}
    for kind, ids in given.items():
        if ids and kind not in rule.kinds:
            _refuse(role, "scope_kind_not_allowed", kind=kind)
    if scope.platform and "platform" not in rule.kinds:
        _refuse(role, "scope_kind_not_allowed", kind="platform")
    total = sum(len(set(ids)) for ids in given.values()) + scope.platform
    if (rule.exactly is not None and total != rule.exactly) or total < rule.at_least:
        _refuse(role, rule.message)
    for kind, model in (("boards", SchoolBoard), ("schools", School), ("police_forces", PoliceForce)):
        wanted = set(given[kind])
        if wanted:
            found = set(session.exec(select(model.id).where(col(model.id).in_(wanted))).all())
            if found != wanted:
                raise UnprocessableContent("unknown_reference", code="unknown_reference", field=f"scope.{kind}")


def _refuse(role: Role, reason_key: str, **params: object) -> None:
    raise UnprocessableContent(
        "scope_invalid_for_role",
        code="scope_invalid_for_role",
        role=role.value,
        reason=MessageRef(reason_key, **params),
    )


def replace_scope(
    session: Session,
    scope: ScopeIn,
    *,
    approval: GrantApproval,
    keep_decisions: bool = False,
    user_id: uuid.UUID | None = None,
    service_account_id: uuid.UUID | None = None,
) -> None:
    """Make the holder's grants the organizations of ``scope``; new ones are
    ``approval`` (pending when an admin grants a role that needs approval,
    ``app.accounts.duties``).  With ``keep_decisions`` (the role did not
    change), a grant kept in the scope keeps its approval, except that a
    refused one asked again waits for approval again."""
    wanted: set[tuple[str, uuid.UUID | bool]] = {("board_id", i) for i in scope.boards}
    wanted |= {("school_id", i) for i in scope.schools}
    wanted |= {("police_force_id", i) for i in scope.police_forces}
    if scope.platform:
        wanted.add(("platform", True))
    for grant in load_grants(session, user_id=user_id, service_account_id=service_account_id):
        key = _organization_of(grant)
        if keep_decisions and key in wanted:
            wanted.discard(key)
            if grant.approval == GrantApproval.refused.value:
                grant.approval, grant.requested_at = approval.value, utcnow()
                grant.decided_by = grant.decided_at = None
            continue
        session.delete(grant)
    for column, organization in sorted(wanted, key=str):
        grant = ScopeGrant(user_id=user_id, service_account_id=service_account_id, approval=approval.value)
        setattr(grant, column, organization)
        session.add(grant)


def _organization_of(grant: ScopeGrant) -> tuple[str, uuid.UUID | bool]:
    if grant.platform:
        return ("platform", True)
    if grant.board_id:
        return ("board_id", grant.board_id)
    if grant.school_id:
        return ("school_id", grant.school_id)
    assert grant.police_force_id is not None  # one_organization
    return ("police_force_id", grant.police_force_id)


def load_grants(
    session: Session, *, user_id: uuid.UUID | None = None, service_account_id: uuid.UUID | None = None
) -> list[ScopeGrant]:
    holder = ScopeGrant.user_id == user_id if user_id else ScopeGrant.service_account_id == service_account_id
    return list(session.exec(select(ScopeGrant).where(holder)).all())


def approved(grants: list[ScopeGrant]) -> list[ScopeGrant]:
    """The grants that give reach: the approved ones (``app.accounts.duties``)."""
    return [g for g in grants if g.approval == GrantApproval.approved.value]


def resolve_scope(session: Session, grants: list[ScopeGrant]) -> Scope:
    """The effective scope: explicit schools plus every school of a granted board."""
    board_ids = frozenset(g.board_id for g in grants if g.board_id)
    school_ids = {g.school_id for g in grants if g.school_id}
    if board_ids:
        school_ids.update(session.exec(select(School.id).where(col(School.board_id).in_(board_ids))).all())
    return Scope(
        board_ids=board_ids,
        school_ids=frozenset(school_ids),
        police_force_ids=frozenset(g.police_force_id for g in grants if g.police_force_id),
        platform=any(g.platform for g in grants),
    )


_Organization = TypeVar("_Organization", SchoolBoard, School, PoliceForce)


def describe_grants(session: Session, grants: list[ScopeGrant]) -> ScopeOut:
    """The scope as granted (not expanded), with organization names."""

    def refs(model: type[_Organization], ids: Iterable[uuid.UUID | None]) -> list[OrganizationRef]:
        wanted = {i for i in ids if i}
        if not wanted:
            return []
        rows = session.exec(select(model).where(col(model.id).in_(wanted)).order_by(col(model.name))).all()
        return [OrganizationRef(id=row.id, name=row.name) for row in rows]

    return ScopeOut(
        boards=refs(SchoolBoard, (g.board_id for g in grants)),
        schools=refs(School, (g.school_id for g in grants)),
        police_forces=refs(PoliceForce, (g.police_force_id for g in grants)),
        platform=any(g.platform for g in grants),
    )
