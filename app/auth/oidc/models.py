"""The identity providers an admin registers, the links of people to their
provider's subject, and the sign-ins in progress."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class IdentityProvider(SQLModel, table=True):
    """An OpenID Provider of one organization: a school board or a police
    force, never both.  The client secret is not here: only the name of its
    file in ``SEXTO_OIDC_CLIENT_SECRETS_DIR``, read when a code is exchanged.
    ``required_acr`` / ``required_amr``: what the provider must report of
    the sign-in (one of the acr values; every amr value), its second factor."""

    __tablename__ = "identity_provider"
    __table_args__ = (
        CheckConstraint("(board_id IS NULL) <> (police_force_id IS NULL)", name="one_organization"),
        UniqueConstraint("issuer", "client_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    board_id: uuid.UUID | None = Field(default=None, foreign_key="school_board.id", index=True)
    police_force_id: uuid.UUID | None = Field(default=None, foreign_key="police_force.id", index=True)
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    client_secret_file: str = Field(max_length=255)
    client_auth_method: str = Field(max_length=32)
    allowed_domains: list[str] = Field(default_factory=list, sa_type=JSON)
    required_acr: list[str] = Field(default_factory=list, sa_type=JSON)
    required_amr: list[str] = Field(default_factory=list, sa_type=JSON)
    enabled: bool = True
    # Approved by a person of its organization (app.accounts.duties): until
    # then, and again after the admin changes whom it trusts, nobody signs in
    # through it.  An admin alone must not be able to set up a provider of
    # their own and sign in through it as the organization's people.
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def organization_id(self) -> uuid.UUID:
        organization = self.board_id or self.police_force_id
        assert organization is not None  # the check constraint
        return organization

    @property
    def approved(self) -> bool:
        return self.approved_at is not None

    @property
    def requires_mfa(self) -> bool:
        return bool(self.required_acr or self.required_amr)


class ExternalIdentity(SQLModel, table=True):
    """A person's account at a provider (its ``sub``), recorded at their
    first sign-in through it: later sign-ins find the person by it alone."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("provider_id", "subject"), UniqueConstraint("provider_id", "user_id"))

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="identity_provider.id", ondelete="CASCADE")
    subject: str = Field(max_length=255)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    linked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class OidcLogin(SQLModel, table=True):
    """A sign-in started and not finished: found again by a digest of its
    ``state``, bound to the browser by a digest of the secret in its
    cookie.  The PKCE verifier and the nonce are derived from that secret
    (``app.auth.oidc.service``), so nothing here lets anyone finish it.
    Deleted when the callback takes it (once) or when it expires."""

    __tablename__ = "oidc_login"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    state_digest: str = Field(max_length=64, unique=True)
    binding_digest: str = Field(max_length=64)
    provider_id: uuid.UUID = Field(foreign_key="identity_provider.id", ondelete="CASCADE")
    return_to: str = Field(max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
