from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, HttpUrl, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from app.accounts.models import AttestationLevel, GrantApproval, Role
from app.accounts.scopes import OrganizationRef, ScopeIn, ScopeOut
from app.passwords import MAX_LENGTH, MIN_LENGTH
from app.schemas import InputModel, Name, OutputModel

Username = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$"),
]
# The length is checked here too, so the contract shows it; the rest of the
# rules need the user's names and are checked by the service.
Password = Annotated[
    str,
    StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH, strip_whitespace=False),
    Field(
        description=f"{MIN_LENGTH} to {MAX_LENGTH} characters, no composition rules: a passphrase of a few words "
        "is best. Refused when it is a common or breached password (`password_common`) or contains the "
        "username, a part of the person's name or the service's name (`password_personal`)."
    ),
]


class AttestationIn(InputModel):
    """The Sexto training attestation badge (CADRE21)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "level": "architect",
                    "obtained_on": "2025-10-14",
                    "badge_url": "https://badges.example.org/sexto/architecte/1234",
                }
            ]
        }
    )
    level: AttestationLevel
    obtained_on: date
    badge_url: HttpUrl = Field(description="Where the badge can be checked (https).")

    @field_validator("badge_url")
    @classmethod
    def _https_only(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            raise PydanticCustomError(
                "url_scheme", "URL scheme should be {expected_schemes}", {"expected_schemes": "'https'"}
            )
        if len(str(value)) > 500:
            raise PydanticCustomError("string_too_long", "the badge URL is too long", {"max_length": 500})
        return value


class AttestationOut(OutputModel):
    """A recorded Sexto training attestation."""

    id: uuid.UUID
    level: AttestationLevel
    obtained_on: date
    badge_url: str


EMAIL_DESCRIPTION = (
    "The person's address at their organization, kept in lower case: single sign-on recognizes them by it at their "
    "first sign-in through the organization's identity provider (docs/single-sign-on.md). Unique: 409 `email_taken`."
)
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class UserCreate(InputModel):
    """A new user with a role and a scope (SPEC §3)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "m.tremblay",
                    "full_name": "Marie Tremblay",
                    "role": "school_staff",
                    "password": "a long passphrase of yours",
                    "scope": {"schools": ["6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21"]},
                }
            ]
        }
    )
    username: Username
    full_name: Name
    email: Email | None = Field(default=None, description=EMAIL_DESCRIPTION)
    role: Role
    password: Password
    scope: ScopeIn = Field(default_factory=ScopeIn)


class UserUpdate(InputModel):
    """Change a user; only the fields given change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"scope": {"schools": ["6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21"]}, "is_active": True}]
        }
    )

    full_name: Name | None = None
    email: Email | None = Field(default=None, description=EMAIL_DESCRIPTION)
    role: Role | None = None
    password: Password | None = Field(default=None, description="Signs the user out everywhere.")
    scope: ScopeIn | None = Field(default=None, description="Replaces the whole scope.")
    is_active: bool | None = Field(default=None, description="False disables the account at once.")


class ApprovalOut(OutputModel):
    """Where the account's grants stand: a grant of a role that reads case
    contents or approves grants, made by an admin, waits for a person of the
    organization concerned to approve it (docs/security.md, separation of duties)."""

    in_force: bool = Field(
        description="The account has reach now: approved grants, and a credential not set by an admin."
    )
    credential_pending: bool = Field(
        description="The password or secret was set by an admin: no case reach until an approval issues a new one."
    )
    pending: ScopeOut = Field(description="Grants waiting for approval.")
    refused: ScopeOut = Field(description="Grants refused; granting them again asks again.")


class UserOut(OutputModel):
    """A user: role, scope and attestations (never the password)."""

    id: uuid.UUID
    username: str
    full_name: str
    email: str | None = Field(description=EMAIL_DESCRIPTION)
    role: Role
    is_active: bool
    scope: ScopeOut
    approval: ApprovalOut
    attestations: list[AttestationOut]
    created_at: datetime
    updated_at: datetime


SERVICE_ACCOUNT_ROLES = [role for role in Role if role is not Role.admin]


class ServiceAccountCreate(InputModel):
    """A new service account: a board information system or a police portal."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Portail du Service de police de Saint-Jérôme",
                    "role": "police_liaison",
                    "scope": {"police_forces": ["8d7e6f5a-4b3c-4d2e-9f1a-0b1c2d3e4f50"]},
                }
            ]
        }
    )
    name: Name
    role: Role = Field(description="Any role but `admin`.")
    scope: ScopeIn = Field(default_factory=ScopeIn)


class ServiceAccountUpdate(InputModel):
    """Change a service account; only the fields given change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    name: Name | None = None
    role: Role | None = None
    scope: ScopeIn | None = Field(default=None, description="Replaces the whole scope.")
    is_active: bool | None = Field(default=None, description="False disables the account at once.")


class StaffMemberOut(OutputModel):
    """A member of a school's staff, for building a case team: who they are
    and whether they may handle cases (never their username or scope)."""

    id: uuid.UUID
    full_name: str
    role: Role = Field(description="`school_staff` or `school_lead`.")
    attestation: AttestationLevel | None = Field(description="The highest Sexto attestation held (none: not trained).")
    may_handle_cases: bool = Field(
        description="Holds the `architect` attestation. Others may be on a case team, but only read the case."
    )


class ServiceAccountOut(OutputModel):
    """A service account (never its secret)."""

    id: uuid.UUID
    client_id: str
    name: str
    role: Role
    is_active: bool
    scope: ScopeOut
    approval: ApprovalOut
    created_at: datetime
    updated_at: datetime


SECRET_SHOWN = (
    "Shown only in this response; store it safely.  None for a role that needs approval: the secret is "
    "issued with the approval, to the approver."
)


class ServiceAccountCredentials(OutputModel):
    """Shown once: the service keeps only a hash of the secret."""

    id: uuid.UUID
    client_id: str
    client_secret: str | None = Field(description=SECRET_SHOWN)


class ServiceAccountCreated(ServiceAccountOut):
    """A new service account and its secret, shown this once."""

    client_secret: str | None = Field(description=SECRET_SHOWN)


class PendingGrantOut(OutputModel):
    """A grant waiting for the caller's approval: who, which role, which organization."""

    id: uuid.UUID
    account_kind: Literal["user", "service_account"]
    account_id: uuid.UUID
    account_name: str = Field(description="The person's full name, or the service account's name.")
    username: str | None = Field(description="People only.")
    client_id: str | None = Field(description="Service accounts only.")
    role: Role
    organization_kind: Literal["board", "school", "police_force"]
    organization: OrganizationRef
    requested_at: datetime


class IssuedCredentialOut(OutputModel):
    """A credential issued with an approval, shown this once to the approver, who
    hands it to the person (a temporary password, to change at first sign-in)
    or to the integrator (a client secret)."""

    username: str | None = None
    temporary_password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class GrantDecisionOut(OutputModel):
    """A grant approved or refused."""

    id: uuid.UUID
    account_kind: Literal["user", "service_account"]
    account_id: uuid.UUID
    approval: GrantApproval
    decided_at: datetime
    credential: IssuedCredentialOut | None = Field(
        description="Issued with the first approval of an account whose password or secret an admin set; "
        "shown only in this response."
    )
