"""The identity providers' bodies and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.schemas import InputModel, Name, OutputModel

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
Issuer = Annotated[str, StringConstraints(min_length=8, max_length=500)]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# A plain file name: no folder, so no other file than the secrets' can be named.
SecretFile = Annotated[str, StringConstraints(max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
ClaimValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]

ISSUER_DESCRIPTION = (
    "The provider's issuer, exactly as its discovery document (`<issuer>/.well-known/openid-configuration`) and its "
    "ID tokens say it: `https://`."
)
SECRET_FILE_DESCRIPTION = (
    "The name of the file that holds the client secret in the folder `SEXTO_OIDC_CLIENT_SECRETS_DIR` (letters, "
    "digits, `.`, `_`, `-`; no folder). The secret itself never goes through the API and is never stored."
)
DOMAINS_DESCRIPTION = (
    "The email domains the provider speaks for, in lower case: at a person's first sign-in, a verified address of "
    "another domain is refused. At least one."
)
ACR_DESCRIPTION = (
    "The second factor the provider must report: its ID token's `acr` must be one of these (asked for with "
    "`acr_values`). Empty: not asked."
)
AMR_DESCRIPTION = "The second factor the provider must report: its ID token's `amr` must hold every one of these."


def _issuer_is_https(value: str) -> str:
    # http is taken only on the machine itself (a development or test provider).
    local = value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    if not (value.startswith("https://") or local) or any(c in value for c in "?# \t"):
        raise PydanticCustomError("issuer_not_https", "The issuer must be an https URL without query or fragment")
    return value


class IdentityProviderCreate(InputModel):
    """A board's or a police force's OpenID Provider."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Centre de services scolaire des Mille-Îles (Microsoft)",
                    "board_id": "6f1c2a8e-2f4b-4c55-9a55-0c3d7c1b9e21",
                    "issuer": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
                    "client_id": "0f6e3c1a-7d2b-4b8e-9a1f-2c4d5e6f7a8b",
                    "client_secret_file": "cssmi-entra",
                    "client_auth_method": "client_secret_post",
                    "allowed_domains": ["cssmi.qc.ca"],
                    "required_amr": ["mfa"],
                }
            ]
        }
    )

    name: Name = Field(description="Shown on the sign-in page's button.")
    board_id: uuid.UUID | None = Field(default=None, description="The school board it serves; or `police_force_id`.")
    police_force_id: uuid.UUID | None = Field(default=None, description="The police force it serves; or `board_id`.")
    issuer: Issuer = Field(description=ISSUER_DESCRIPTION)
    client_id: ClientId = Field(description="The service's client id at the provider.")
    client_secret_file: SecretFile = Field(description=SECRET_FILE_DESCRIPTION)
    client_auth_method: AuthMethod = Field(
        default="client_secret_basic", description="How the service gives the secret at the token endpoint."
    )
    allowed_domains: list[Domain] = Field(min_length=1, max_length=20, description=DOMAINS_DESCRIPTION)
    required_acr: list[ClaimValue] = Field(default_factory=list, max_length=10, description=ACR_DESCRIPTION)
    required_amr: list[ClaimValue] = Field(default_factory=list, max_length=10, description=AMR_DESCRIPTION)
    enabled: bool = Field(default=True, description="False: listed nowhere, and no one signs in through it.")

    @field_validator("issuer")
    @classmethod
    def _issuer_https(cls, value: str) -> str:
        return _issuer_is_https(value)

    @model_validator(mode="after")
    def _one_organization(self) -> IdentityProviderCreate:
        if (self.board_id is None) == (self.police_force_id is None):
            raise PydanticCustomError("one_organization", "Give exactly one of board_id and police_force_id")
        return self


class IdentityProviderUpdate(InputModel):
    """Change a provider; only the fields given change. Its organization stays."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    name: Name | None = None
    issuer: Issuer | None = Field(default=None, description=ISSUER_DESCRIPTION)
    client_id: ClientId | None = None
    client_secret_file: SecretFile | None = Field(default=None, description=SECRET_FILE_DESCRIPTION)
    client_auth_method: AuthMethod | None = None
    allowed_domains: list[Domain] | None = Field(
        default=None, min_length=1, max_length=20, description=DOMAINS_DESCRIPTION
    )
    required_acr: list[ClaimValue] | None = Field(default=None, max_length=10, description=ACR_DESCRIPTION)
    required_amr: list[ClaimValue] | None = Field(default=None, max_length=10, description=AMR_DESCRIPTION)
    enabled: bool | None = Field(default=None, description="False disables it: no one signs in through it.")

    @field_validator("issuer")
    @classmethod
    def _issuer_https(cls, value: str | None) -> str | None:
        return None if value is None else _issuer_is_https(value)


class IdentityProviderOut(OutputModel):
    """A provider as registered (never its secret), and the redirect URI to
    register at the provider."""

    id: uuid.UUID
    name: str
    board_id: uuid.UUID | None
    police_force_id: uuid.UUID | None
    issuer: str
    client_id: str
    client_secret_file: str
    client_auth_method: AuthMethod
    allowed_domains: list[str]
    required_acr: list[str]
    required_amr: list[str]
    enabled: bool
    approved_at: datetime | None = Field(
        description="When a person of its organization approved it (its board's privacy officer or a school lead "
        "of one of its schools; a police liaison of the force). Until then, and again after a change to its "
        "issuer, client, secret file, domains or second-factor requirement, nobody signs in through it."
    )
    approved_by: uuid.UUID | None = Field(description="Who approved it.")
    redirect_uri: str = Field(description="What to register at the provider as the client's redirect URI.")
    created_at: datetime
    updated_at: datetime


class SignInProviderOut(OutputModel):
    """A provider a person may sign in through, for the sign-in page."""

    id: uuid.UUID
    name: str
    start_url: str = Field(description="Where the sign-in page's button leads (`GET`, a top-level navigation).")
