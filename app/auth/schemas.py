from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.accounts.models import Role
from app.accounts.schemas import AttestationOut, Password
from app.accounts.scopes import ScopeOut
from app.passwords import MAX_LENGTH
from app.schemas import InputModel


class TokenRequest(BaseModel):
    """OAuth2 token request (RFC 6749 §4.3 and §4.4), form-encoded.

    People use `grant_type=password` with `username` and `password`; service
    accounts use `grant_type=client_credentials` with `client_id` and
    `client_secret` (or HTTP Basic authentication)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"grant_type": "password", "username": "demo-staff-a", "password": "sexto-demo-2026"}]
        },
    )

    grant_type: str = Field(description="`password` or `client_credentials`.", max_length=40)
    username: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1024)
    client_id: str | None = Field(default=None, max_length=200)
    client_secret: str | None = Field(default=None, max_length=1024)
    otp: str | None = Field(
        default=None,
        max_length=64,
        description="Password grant, for an account with a second factor: the code of its authenticator app, "
        "or one of its recovery codes (each works once). Without it such an account gets 401 `mfa_required`; "
        "a wrong or used code gets 401 `mfa_code_invalid` and counts as a failed sign-in.",
    )
    scope: str | None = Field(default=None, max_length=200, description="Ignored: the scope comes from the account.")


class TokenResponse(BaseModel):
    """An access token (OAuth2)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"access_token": "eyJhbGciOiJFZERTQSIs...", "token_type": "bearer", "expires_in": 900}]
        }
    )

    access_token: str = Field(description="EdDSA-signed JWT.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Lifetime in seconds.")


class PasswordChange(InputModel):
    """A person's own password change: the current one, and the new one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "the temporary password", "new_password": "a long passphrase of yours"}]
        }
    )

    current_password: Annotated[str, StringConstraints(max_length=MAX_LENGTH, strip_whitespace=False)]
    new_password: Password


class Me(BaseModel):
    """The caller as the service sees it now (resolved from the database)."""

    kind: Literal["user", "service_account"]
    id: uuid.UUID
    username: str | None = Field(default=None, description="People only.")
    full_name: str | None = Field(default=None, description="People only.")
    client_id: str | None = Field(default=None, description="Service accounts only.")
    name: str | None = Field(default=None, description="Service accounts only.")
    role: Role
    scope: ScopeOut
    attestations: list[AttestationOut] = Field(default_factory=list)
    may_handle_cases: bool = Field(description="True when the caller holds the `architect` attestation (school roles).")
    must_change_password: bool = Field(
        default=False,
        description="People only: a temporary password issued with an approval; no reach until it is changed "
        "(`POST /api/v1/auth/password`).",
    )
    mfa_enrolled: bool = Field(default=False, description="People only: a confirmed second factor (TOTP).")
    mfa_recovery_codes_left: int | None = Field(
        default=None,
        description="People with a second factor: recovery codes not used yet (new ones: `POST "
        "/api/v1/auth/mfa/recovery-codes`).",
    )
    mfa_enrolment_required: bool = Field(
        default=False,
        description="People only: the role requires a second factor and there is none yet: no reach, and only "
        "this route, the password change and the enrolment routes (`/api/v1/auth/mfa/...`) answer, until it is "
        "enrolled (403 `mfa_enrolment_required` elsewhere).",
    )


class SessionSignIn(InputModel):
    """A person's sign-in for a browser session (the web app), as JSON."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "demo-staff-a", "password": "sexto-demo-2026"}]}
    )

    username: str = Field(min_length=1, max_length=200)
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH, strip_whitespace=False)]
    otp: str | None = Field(
        default=None, max_length=64, description="The one-time code of a second factor, when the account has one."
    )


class SessionOpened(BaseModel):
    """A browser session just opened: its cookie is set by the same answer
    (`Set-Cookie`, `HttpOnly`: never readable by JavaScript)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b5d3c1e-8a54-4a43-9a61-3f1d8f0c2e10",
                    "created_at": "2026-12-01T13:00:00Z",
                    "expires_at": "2026-12-02T01:00:00Z",
                    "idle_timeout_seconds": 1800,
                    "csrf_token": "6f1c...e2",
                }
            ]
        }
    )

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime = Field(description="The absolute end, however active the session.")
    idle_timeout_seconds: int = Field(description="The session ends after this long without a request.")
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` with every write made with this session.")


class SessionOut(BaseModel):
    """One of my browser sessions."""

    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime = Field(description="The last request, within a minute.")
    expires_at: datetime = Field(description="The absolute end, however active the session.")
    current: bool = Field(description="The session this request came with.")


class CurrentSession(SessionOut):
    """The browser session this request came with, and its CSRF token."""

    idle_expires_at: datetime = Field(description="When it ends without another request.")
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` with every write made with this session.")
