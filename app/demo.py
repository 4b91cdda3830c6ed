"""The demo dataset: what ``make run`` shows a new user, and the tests' fixture.

Two school boards with one school each; two police forces, one serving each
school; a DCPP agreement in force for the first force and none for the
second.  Every demo user has the password in ``SEXTO_DEMO_PASSWORD``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from app.accounts.models import AttestationLevel, GrantApproval, Role, ScopeGrant, TrainingAttestation, User
from app.orgs.models import DcppAgreement, PoliceForce, School, SchoolBoard
from app.security import PasswordHasher

BOARD_A = "Centre de services scolaire des Laurentides-Nord (démo A)"
BOARD_B = "Centre de services scolaire de l'Estuaire-Sud (démo B)"
SCHOOL_A = "École secondaire du Ruisseau (démo A)"
SCHOOL_B = "École secondaire des Battures (démo B)"
FORCE_A = "Service de police de Ville-Ruisseau (démo A)"
FORCE_B = "Régie de police des Battures (démo B)"
BADGE_URL = "https://badges.example.org/sexto/{level}/{username}"

# username: (full name, role, scope kind, "a"/"b"/"ab", attestation levels)
DEMO_USERS: dict[str, tuple[str, Role, str, str, tuple[AttestationLevel, ...]]] = {
    "demo-admin": ("Alex Admin", Role.admin, "", "", ()),
    "demo-auditor": ("Andrée Auditrice", Role.auditor, "boards", "ab", ()),
    "demo-lead-a": (
        "Louise Direction",
        Role.school_lead,
        "schools",
        "a",
        (AttestationLevel.explorer, AttestationLevel.architect),
    ),
    "demo-staff-a": (
        "Sam Intervenant",
        Role.school_staff,
        "schools",
        "a",
        (AttestationLevel.explorer, AttestationLevel.architect),
    ),
    "demo-staff-a2": ("Sophie Nouvelle", Role.school_staff, "schools", "a", (AttestationLevel.explorer,)),
    "demo-staff-b": (
        "Benoît Intervenant",
        Role.school_staff,
        "schools",
        "b",
        (AttestationLevel.explorer, AttestationLevel.architect),
    ),
    "demo-police-a": ("Agente Paquette", Role.police_liaison, "police_forces", "a", ()),
    "demo-police-b": ("Agent Bélanger", Role.police_liaison, "police_forces", "b", ()),
    "demo-dpj-a": ("Diane Signalement", Role.dpj_reporter, "schools", "a", ()),
    "demo-privacy-a": ("Paule Confidentialité", Role.privacy_officer, "boards", "a", ()),
    "demo-privacy-b": ("Pierre Confidentialité", Role.privacy_officer, "boards", "b", ()),
}
# The demo auditor audits the platform too (the entries that concern no
# organization), so that the demo shows the whole log.
DEMO_PLATFORM_AUDITORS = frozenset({"demo-auditor"})


def is_empty(session: Session) -> bool:
    return session.exec(select(SchoolBoard.id)).first() is None


def load_demo(session: Session, hasher: PasswordHasher, password: str, today: date) -> None:
    board_a, board_b = SchoolBoard(name=BOARD_A), SchoolBoard(name=BOARD_B)
    force_a, force_b = PoliceForce(name=FORCE_A), PoliceForce(name=FORCE_B)
    session.add_all([board_a, board_b, force_a, force_b])
    session.flush()
    school_a = School(name=SCHOOL_A, board_id=board_a.id, police_force_id=force_a.id)
    school_b = School(name=SCHOOL_B, board_id=board_b.id, police_force_id=force_b.id)
    session.add_all([school_a, school_b])
    # Only the first force has signed with the DCPP: the kit may not be used at school B.
    session.add(
        DcppAgreement(
            police_force_id=force_a.id,
            reference="DEMO-DPCP-A",
            starts_on=today - timedelta(days=365),
            ends_on=today + timedelta(days=3 * 365),
        )
    )
    session.flush()
    organizations = {
        "boards": {"a": [board_a.id], "b": [board_b.id]},
        "schools": {"a": [school_a.id], "b": [school_b.id]},
        "police_forces": {"a": [force_a.id], "b": [force_b.id]},
    }
    column = {"boards": "board_id", "schools": "school_id", "police_forces": "police_force_id"}
    password_hash = hasher.hash(password)
    for username, (full_name, role, kind, sides, levels) in DEMO_USERS.items():
        # Loaded by the operator (``sexto demo``), not granted by the admin:
        # the grants and the password are in force (app.accounts.duties).
        user = User(
            username=username,
            full_name=full_name,
            role=role.value,
            password_hash=password_hash,
            credential_pending=False,
        )
        session.add(user)
        session.flush()
        for side in sides:
            for org_id in organizations[kind][side]:
                grant = ScopeGrant(user_id=user.id, approval=GrantApproval.approved.value)
                setattr(grant, column[kind], org_id)
                session.add(grant)
        if username in DEMO_PLATFORM_AUDITORS:
            session.add(ScopeGrant(user_id=user.id, platform=True, approval=GrantApproval.approved.value))
        for level in levels:
            session.add(
                TrainingAttestation(
                    user_id=user.id,
                    level=level.value,
                    obtained_on=today - timedelta(days=200),
                    badge_url=BADGE_URL.format(level=level.value, username=username),
                )
            )
    session.commit()
