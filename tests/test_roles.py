"""Every role has its row in each table that decides what it may do, so that
a role added to ``Role`` without them fails here instead of silently getting
whatever a missing key happens to give."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.sql.elements import False_

from app.accounts.models import AttestationLevel, Role
from app.accounts.scopes import SCOPE_RULES, Scope
from app.auth.principal import Principal
from app.cases.policy import CAPABILITIES, visible_cases


def principal_with_a_full_scope(role: Role) -> Principal:
    """The role holding one organization of every kind its scope rule
    allows (a board stands for its schools), trained to handle cases."""
    kinds = SCOPE_RULES[role].kinds
    schools = bool(kinds & {"boards", "schools"})
    scope = Scope(
        board_ids=frozenset({uuid.uuid4()} if "boards" in kinds else ()),
        school_ids=frozenset({uuid.uuid4()} if schools else ()),
        police_force_ids=frozenset({uuid.uuid4()} if "police_forces" in kinds else ()),
    )
    return Principal("user", uuid.uuid4(), role, scope, AttestationLevel.architect, "token-id", datetime.now(UTC))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_its_capabilities_scope_rule_and_visibility(role):
    assert role in CAPABILITIES, f"{role}: no row in policy.CAPABILITIES (frozenset() if it does nothing with cases)"
    assert role in SCOPE_RULES, f"{role}: no row in scopes.SCOPE_RULES"
    # A role that may do anything with a case must see some cases through its
    # own branch of the visibility clause; a role that may do nothing sees
    # none (``false()``, explicitly or by the clause's default).
    sees_none = isinstance(visible_cases(principal_with_a_full_scope(role)), False_)
    if CAPABILITIES[role]:
        assert not sees_none, f"{role}: capabilities on cases, but no branch in policy.visible_cases (it sees none)"
    else:
        assert sees_none, f"{role}: no capability on cases, yet policy.visible_cases shows it some"
