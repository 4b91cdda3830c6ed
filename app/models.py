"""Every table, imported in one place for Alembic and the tests."""

from app.accounts.models import ScopeGrant, ServiceAccount, TrainingAttestation, User
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.auth.mfa.models import RecoveryCode, TotpFactor
from app.auth.models import BrowserSession, LoginThrottle, RevokedToken
from app.auth.oidc.models import ExternalIdentity, IdentityProvider, OidcLogin
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
from app.lease import PeriodicLease
from app.limits import RateLimitCounter
from app.orgs.models import DcppAgreement, PoliceForce, School, SchoolBoard
from app.police.models import PoliceFeedChange
from app.privacy.models import IncidentCounter, LegalHold, PrivacyIncident, PrivacyIncidentVersion, RetentionRule

__all__ = [
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEntry",
    "BrowserSession",
    "Case",
    "CaseCounter",
    "CaseStatusChange",
    "CaseTeamMember",
    "Contact",
    "CustodyEvent",
    "DcppAgreement",
    "Device",
    "ExternalIdentity",
    "GridSubmission",
    "IdempotencyRecord",
    "IdentityProvider",
    "IncidentCounter",
    "LegalHold",
    "LoginThrottle",
    "Note",
    "OidcLogin",
    "Participant",
    "ParticipantFlag",
    "PeriodicLease",
    "PoliceFeedChange",
    "PoliceForce",
    "PrivacyIncident",
    "PrivacyIncidentVersion",
    "RateLimitCounter",
    "RecoveryCode",
    "RetentionRule",
    "RevokedToken",
    "School",
    "SchoolBoard",
    "ScopeGrant",
    "ServiceAccount",
    "TotpFactor",
    "TrainingAttestation",
    "User",
]
