"""Single sign-on with OpenID Connect: the Authorization Code flow with PKCE
(S256), ``state`` and ``nonce``, ending in a browser session
(``app.auth.sessions.create_session``).

**Start.**  A random ``state`` and a random browser secret; the secret goes
to the browser in a short-lived ``HttpOnly`` cookie (``SameSite=Lax``: the
provider's redirect back is a cross-site navigation), and the row of the
sign-in (``OidcLogin``) keeps only SHA-256 digests of both.  The PKCE
verifier and the nonce are HMACs of the state under the browser secret: the
database alone cannot finish a sign-in, and a state carried to another
browser (login CSRF) finds no secret there.

**Callback.**  The row is deleted as it is read, before anything is checked:
a state is used once, refused or not.  Then the code is exchanged (the
client's secret read from its file), the ID token checked
(``client.verify_id_token``), and the person found:

* by the provider's ``sub`` once linked (``ExternalIdentity``);
* at the first sign-in, by a verified email (``email_verified``) of one of
  the provider's domains, equal to a provisioned account's ``email``; the
  ``sub`` is then recorded.

The provider never grants a role or a scope: the account's, set by the
admin, are the session's.  The account must belong to the provider's
organization (a grant of the board, of one of its schools, or of the police
force), and be active.  A second factor: where the registration asks for
``acr`` / ``amr`` values, the ID token must report them, and the session then
stands for one (``provider_mfa``: no local TOTP is asked); where it asks for
none, a person whose role requires a second factor, or who has a local one,
is refused: a local code cannot be asked on the way back from the provider.

Every refusal is an ``SsoRefused`` with the reason for the audit entry; the
person is told only ``sso_refused`` (``sso_unavailable`` when the provider
cannot be reached or the service is not set up for it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.duties import Caller, approvable
from app.accounts.models import User
from app.accounts.scopes import load_grants, resolve_scope
from app.audit.note import AuditNote
from app.auth import sessions
from app.auth.mfa import factor
from app.auth.oidc import client
from app.auth.oidc.models import ExternalIdentity, IdentityProvider, OidcLogin
from app.auth.oidc.schemas import IdentityProviderCreate, IdentityProviderUpdate
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, NotFound, Problem, UnprocessableContent
from app.field_errors import service_field_error
from app.orgs.models import PoliceForce, School, SchoolBoard

SCOPE = "openid email"
RETURN_TO_MAX = 500
_RETURN_TO = re.compile(r"^/(?![/\\])[\x21-\x7e]*$")


class SsoRefused(Problem):
    """A single sign-on refused; ``reason`` is for the audit entry only."""

    status, code = 403, "sso_refused"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SsoUnavailable(SsoRefused):
    """The provider cannot be reached, or the service is not set up for it."""

    status, code = 503, "sso_unavailable"


# Reasons that are the provider's or the set-up's, not the person's.
_UNAVAILABLE = frozenset(
    {
        "discovery_failed",
        "discovery_issuer_mismatch",
        "discovery_incomplete",
        "keys_fetch_failed",
        "code_exchange_failed",
        "sso_not_configured",
        "client_secret_unreadable",
    }
)


def refusal(reason: str) -> SsoRefused:
    return SsoUnavailable(reason) if reason in _UNAVAILABLE else SsoRefused(reason)


# --- the admin's registry -------------------------------------------------------


def _check_organization(session: Session, body: IdentityProviderCreate) -> None:
    model, found = (SchoolBoard, body.board_id) if body.board_id is not None else (PoliceForce, body.police_force_id)
    if found is None or session.get(model, found) is None:
        location = "body.board_id" if body.board_id is not None else "body.police_force_id"
        raise UnprocessableContent(
            "validation_failed", extra={"errors": [service_field_error(location, "organization_unknown")]}
        )


def _refuse_duplicate(session: Session, issuer: str, client_id: str, provider_id: uuid.UUID | None) -> None:
    other = session.exec(
        select(IdentityProvider.id).where(IdentityProvider.issuer == issuer, IdentityProvider.client_id == client_id)
    ).first()
    if other is not None and other != provider_id:
        raise Conflict("provider_taken", code="provider_taken")


# What a provider's approval vouches for: a change to any of them asks for it again.
TRUST = frozenset(
    {
        "issuer",
        "client_id",
        "client_secret_file",
        "client_auth_method",
        "allowed_domains",
        "required_acr",
        "required_amr",
    }
)


def pending_providers(session: Session, principal: Caller) -> SelectOfScalar[IdentityProvider]:
    """The providers waiting for the caller's approval: of the organizations
    whose grants it approves (``app.accounts.duties``), not approved yet."""
    reach = approvable(session, principal)
    clauses: list[ColumnElement[bool]] = []
    if reach.board_ids:
        clauses.append(col(IdentityProvider.board_id).in_(sorted(reach.board_ids)))
    if reach.police_force_ids:
        clauses.append(col(IdentityProvider.police_force_id).in_(sorted(reach.police_force_ids)))
    return select(IdentityProvider).where(
        col(IdentityProvider.approved_at).is_(None), or_(*clauses) if clauses else false()
    )


def approve_provider(session: Session, principal: Caller, provider_id: uuid.UUID) -> IdentityProvider:
    """A person who approves grants for the provider's organization
    (``app.accounts.duties``: the board's privacy officer or a school lead of
    one of its schools; a police liaison of the force) approves it.  Outside
    their organizations it is a 404, as one that does not exist."""
    provider = session.get(IdentityProvider, provider_id)
    reach = approvable(session, principal)
    if provider is None or not (
        provider.board_id in reach.board_ids or provider.police_force_id in reach.police_force_ids
    ):
        raise NotFound()
    if provider.approved_at is None:
        provider.approved_by, provider.approved_at = principal.id, utcnow()
        session.flush()
    return provider


def create_provider(session: Session, body: IdentityProviderCreate) -> IdentityProvider:
    _check_organization(session, body)
    _refuse_duplicate(session, body.issuer, body.client_id, None)
    provider = IdentityProvider(**body.model_dump())
    session.add(provider)
    session.flush()
    return provider


def update_provider(session: Session, provider: IdentityProvider, body: IdentityProviderUpdate) -> IdentityProvider:
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "issuer", "client_id", "client_secret_file", "client_auth_method", "enabled"):
        if name in changes and changes[name] is None:
            raise UnprocessableContent(
                "validation_failed", extra={"errors": [service_field_error(f"body.{name}", "field_empty")]}
            )
    _refuse_duplicate(
        session, changes.get("issuer", provider.issuer), changes.get("client_id", provider.client_id), provider.id
    )
    if any(getattr(provider, name) != value for name, value in changes.items() if name in TRUST):
        # Whom it trusts changed: a person of the organization approves it again.
        provider.approved_by, provider.approved_at = None, None
    for name, value in changes.items():
        setattr(provider, name, value)
    provider.updated_at = utcnow()
    session.flush()
    return provider


# --- start ------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """A sign-in started: where to send the browser, and its cookie's secret."""

    authorization_url: str
    browser_secret: str


def safe_return_to(value: str | None) -> str:
    """A path of the service itself to come back to (``/`` otherwise): never
    another site (``//host``, ``/\\host``, a scheme), never a control character."""
    if value and len(value) <= RETURN_TO_MAX and _RETURN_TO.fullmatch(value):
        return value
    return "/"


def _derived(browser_secret: str, purpose: str, state: str) -> str:
    mac = hmac.new(browser_secret.encode(), f"{purpose}:{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def pkce_verifier(browser_secret: str, state: str) -> str:
    """43 characters of the unreserved set (RFC 7636 §4.1)."""
    return _derived(browser_secret, "pkce", state)


def nonce_of(browser_secret: str, state: str) -> str:
    return _derived(browser_secret, "nonce", state)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def enabled_provider(session: Session, provider_id: uuid.UUID) -> IdentityProvider:
    provider = session.get(IdentityProvider, provider_id)
    if provider is None:
        raise SsoRefused("provider_unknown")
    if not provider.enabled:
        raise SsoRefused("provider_disabled")
    if not provider.approved:
        raise SsoRefused("provider_pending")
    return provider


def record_start(session: Session, provider: IdentityProvider, settings: Settings, return_to: str) -> tuple[str, str]:
    """The sign-in's row; its ``state`` and the browser's secret."""
    state, browser_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        OidcLogin(
            state_digest=_digest(state),
            binding_digest=_digest(browser_secret),
            provider_id=provider.id,
            return_to=return_to,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.oidc_sign_in_seconds),
        )
    )
    session.flush()
    return state, browser_secret


def authorization_url(
    metadata: client.Metadata, provider: IdentityProvider, *, redirect_uri: str, state: str, browser_secret: str
) -> str:
    parameters = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "nonce": nonce_of(browser_secret, state),
        "code_challenge": client.pkce_challenge(pkce_verifier(browser_secret, state)),
        "code_challenge_method": "S256",
    }
    if provider.required_acr:
        parameters["acr_values"] = " ".join(provider.required_acr)
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return f"{metadata.authorization_endpoint}{separator}{urlencode(parameters)}"


# --- callback -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A sign-in taken back from its row: what the rest of the callback needs."""

    provider_id: uuid.UUID
    organization_id: uuid.UUID
    issuer: str
    client_id: str
    client_secret_file: str
    client_auth_method: str
    return_to: str
    verifier: str
    nonce: str


def take_login(session: Session, state: str | None, browser_secret: str | None, audit: AuditNote) -> Pending:
    """The sign-in ``state`` names, deleted as it is read and committed at
    once: used once, whatever follows.  Refused when unknown (never started,
    used already, or purged), expired, started in another browser, or its
    provider disabled since."""
    if not state:
        raise SsoRefused("state_missing")
    login = session.exec(select(OidcLogin).where(OidcLogin.state_digest == _digest(state))).first()
    if login is None:
        session.commit()
        raise SsoRefused("state_unknown")
    taken = session.exec(delete(OidcLogin).where(col(OidcLogin.id) == login.id)).rowcount
    provider = session.get(IdentityProvider, login.provider_id)
    session.commit()
    if not taken:
        raise SsoRefused("state_unknown")  # another request with the same state took it first
    if provider is not None:
        audit.concerns = [provider.organization_id]
        audit.touched("identity-providers", provider.id)
    if login.expires_at <= utcnow():
        raise SsoRefused("state_expired")
    if not browser_secret or not hmac.compare_digest(_digest(browser_secret), login.binding_digest):
        raise SsoRefused("state_other_browser")
    if provider is None or not provider.enabled:
        raise SsoRefused("provider_disabled")
    if not provider.approved:
        raise SsoRefused("provider_pending")
    return Pending(
        provider_id=provider.id,
        organization_id=provider.organization_id,
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret_file=provider.client_secret_file,
        client_auth_method=provider.client_auth_method,
        return_to=login.return_to,
        verifier=pkce_verifier(browser_secret, state),
        nonce=nonce_of(browser_secret, state),
    )


def _verified(claims: dict[str, Any]) -> bool:
    """``email_verified`` as providers send it: true (or "true", as some do);
    or Microsoft Entra ID's ``xms_edov`` (the address's domain is verified by
    its owner, the tenant), as Entra ID sends no ``email_verified``."""
    return any(claims.get(name) in (True, "true", 1, "1") for name in ("email_verified", "xms_edov"))


def _belongs(session: Session, user_id: uuid.UUID, provider: IdentityProvider) -> bool:
    """The account has a grant (in force or not) of the provider's
    organization: the board or one of its schools, or the police force."""
    grants = load_grants(session, user_id=user_id)
    if provider.police_force_id is not None:
        return any(grant.police_force_id == provider.police_force_id for grant in grants)
    scope = resolve_scope(session, grants)
    if provider.board_id in scope.board_ids:
        return True
    schools = [grant.school_id for grant in grants if grant.school_id]
    return bool(schools) and (
        session.exec(select(School.id).where(col(School.id).in_(schools), School.board_id == provider.board_id)).first()
        is not None
    )


def _folded(email: str) -> str:
    """The address in lower case, except a character that lower case would
    turn into an ASCII one (the KELVIN SIGN into ``k``): that is another
    mailbox than the ASCII address, and matches none."""
    return "".join(c if not c.isascii() and c.lower().isascii() else c.lower() for c in email)


def _find_person(session: Session, provider: IdentityProvider, claims: dict[str, Any]) -> tuple[User, bool]:
    """The account the ID token is of, and whether its ``sub`` must be
    recorded (a first sign-in)."""
    linked = session.exec(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == claims["sub"]
        )
    ).first()
    if linked is not None:
        user = session.get(User, linked.user_id)
        assert user is not None  # the link goes with its account
        return user, False
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoRefused("email_missing")
    if not _verified(claims):
        raise SsoRefused("email_unverified")
    email = _folded(email.strip())
    if email.rpartition("@")[2] not in provider.allowed_domains:
        raise SsoRefused("email_domain_refused")
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        raise SsoRefused("account_unknown")
    other = session.exec(
        select(ExternalIdentity.id).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.user_id == user.id
        )
    ).first()
    if other is not None:
        # The account is linked to another subject of this provider already.
        raise SsoRefused("account_linked_elsewhere")
    return user, True


def _reported_mfa(provider: IdentityProvider, claims: dict[str, Any]) -> None:
    if provider.required_acr and claims.get("acr") not in provider.required_acr:
        raise SsoRefused("mfa_acr_missing")
    amr = claims.get("amr")
    reported = {value for value in amr if isinstance(value, str)} if isinstance(amr, list) else set()
    if not set(provider.required_amr) <= reported:
        raise SsoRefused("mfa_amr_missing")


def complete(
    session: Session,
    pending: Pending,
    claims: dict[str, Any],
    *,
    settings: Settings,
    audit: AuditNote,
) -> sessions.OpenedSession:
    """Find the person, check the account and the second factor, record the
    link at a first sign-in, and open the browser session; flushed, committed
    by the route class with the request's audit entry."""
    provider = session.get(IdentityProvider, pending.provider_id)
    if provider is None or not provider.enabled or not provider.approved:
        raise SsoRefused("provider_disabled")
    user, first = _find_person(session, provider, claims)
    audit.actor = ("user", str(user.id))
    audit.concerns = [*_organizations(session, user.id), provider.organization_id]
    if not user.is_active:
        raise SsoRefused("account_disabled")
    if not _belongs(session, user.id, provider):
        raise SsoRefused("account_other_organization")
    if provider.requires_mfa:
        _reported_mfa(provider, claims)
    elif _role_requires_mfa(settings, user) or factor.confirmed_factor(session, user.id) is not None:
        raise SsoRefused("mfa_not_required_by_provider")
    if first:
        session.add(ExternalIdentity(provider_id=provider.id, subject=claims["sub"], user_id=user.id))
    opened = sessions.create_session(session, user, settings=settings, provider_mfa=provider.requires_mfa)
    audit.reason = "sso_linked" if first else "sso"
    return opened


def _role_requires_mfa(settings: Settings, user: User) -> bool:
    return any(role.value == user.role for role in factor.required_roles(settings))


def _organizations(session: Session, user_id: uuid.UUID) -> Iterable[uuid.UUID]:
    return resolve_scope(session, load_grants(session, user_id=user_id)).organization_ids()


def purge_expired_logins(session: Session) -> int:
    """Delete the sign-ins started and never finished, once expired."""
    result = session.exec(delete(OidcLogin).where(col(OidcLogin.expires_at) <= utcnow()))
    return result.rowcount or 0
