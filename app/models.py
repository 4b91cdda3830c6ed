"""Every table, imported in one place for Alembic and the tests."""

from app.accounts.models import ScopeGrant, ServiceAccount, TrainingAttestation, User
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.auth.models import LoginThrottle
from app.cases.models import (
    Case,
    CaseCounter,
    CaseStatusChange,
    CaseTeamMember,
    Contact,
    CustodyEvent,
    Device,
    GridSubmission,
    Note,
    Participant,
    ParticipantFlag,
)
from app.idempotency.models import IdempotencyRecord
from app.police.models import PoliceFeedChange
from app.privacy.models import IncidentCounter, LegalHold, PrivacyIncident, PrivacyIncidentVersion, RetentionRule
from app.orgs.models import DcppAgreement, PoliceForce, School, SchoolBoard

__all__ = [
    "Case",
    "CaseCounter",
    "CaseStatusChange",
    "CaseTeamMember",
    "Contact",
    "CustodyEvent",
    "Device",
    "GridSubmission",
    "Note",
    "Participant",
    "ParticipantFlag",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEntry",
    "DcppAgreement",
    "IdempotencyRecord",
    "IncidentCounter",
    "LegalHold",
    "LoginThrottle",
    "PoliceFeedChange",
    "PoliceForce",
    "PrivacyIncident",
    "PrivacyIncidentVersion",
    "RetentionRule",
    "School",
    "SchoolBoard",
    "ScopeGrant",
    "ServiceAccount",
    "TrainingAttestation",
    "User",
]
