"""What the service asks of an identity provider, over HTTP (httpx): its
discovery document, its keys, and the exchange of a code for tokens; and the
checks of the ID token it gives (PyJWT).

Discovery (``/.well-known/openid-configuration``) and the keys (JWKS) are
kept per issuer for ``SEXTO_OIDC_METADATA_SECONDS``.  An ID token signed by
a key id not among those kept fetches the keys again at once (the provider
rotated them), but at most once per ``SEXTO_OIDC_KEYS_REFRESH_SECONDS`` per
issuer, so that tokens with made-up key ids cannot make the service hammer
the provider.

Every failure is a ``ProviderRefusal`` with a reason for the audit entry
(never a claim's value, a name or an address).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import quote

import httpx
import jwt

from app.config import Settings

# Asymmetric algorithms only: never ``none``, never a shared-secret HMAC
# (whose key would be the client secret), whatever the token's header says.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Clocks differ: a token's times are taken with this much leeway.
LEEWAY_SECONDS = 60
# An ID token issued longer ago than this is not one of this sign-in.
MAX_ID_TOKEN_AGE_SECONDS = 600
DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_SUBJECT_LENGTH = 255

# The time ID tokens are checked at (seconds since the epoch): the tests move
# it rather than wait.
clock: Callable[[], float] = time.time
# How the service reaches providers: None is the network; the tests may put
# a transport in front of the real provider.
transport: httpx.AsyncBaseTransport | None = None


class ProviderRefusal(Exception):
    """A sign-in refused because of what the provider said or did; ``reason``
    is the audit entry's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # RFC 9207: the provider puts ``iss`` in every authorization response.
    iss_parameter_supported: bool = False


@dataclass
class _Entry:
    metadata: Metadata
    fetched_at: float
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys_fetched_at: float | None = None


def _http(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=settings.oidc_timeout_seconds, transport=transport, follow_redirects=False)


async def _get_json(settings: Settings, url: str, reason: str) -> dict[str, Any]:
    try:
        async with _http(settings) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise ProviderRefusal(reason) from None
    if not isinstance(body, dict):
        raise ProviderRefusal(reason)
    return body


def _https_or_local(url: object) -> bool:
    """A provider's endpoint: https, or http on the machine itself (a test, a
    development provider)."""
    if not isinstance(url, str):
        return False
    parsed = httpx.URL(url)
    return parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in ("127.0.0.1", "localhost", "::1"))


class ProviderDirectory:
    """The providers' discovery documents and keys, kept per issuer (one per
    process: ``app.main`` puts it in the application's state)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._entries: dict[str, _Entry] = {}
        self._lock = asyncio.Lock()

    async def metadata(self, issuer: str) -> Metadata:
        return (await self._entry(issuer)).metadata

    async def _entry(self, issuer: str) -> _Entry:
        now = time.monotonic()
        entry = self._entries.get(issuer)
        if entry is not None and now - entry.fetched_at < self._settings.oidc_metadata_seconds:
            return entry
        async with self._lock:
            entry = self._entries.get(issuer)
            if entry is not None and now - entry.fetched_at < self._settings.oidc_metadata_seconds:
                return entry
            document = await _get_json(self._settings, issuer.rstrip("/") + DISCOVERY_PATH, "discovery_failed")
            # OpenID Connect Discovery §4.3: the document is the issuer's own.
            if document.get("issuer") != issuer:
                raise ProviderRefusal("discovery_issuer_mismatch")
            endpoints = [document.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
            if not all(_https_or_local(url) for url in endpoints):
                raise ProviderRefusal("discovery_incomplete")
            authorize, token, keys = (str(url) for url in endpoints)
            metadata = Metadata(
                issuer,
                authorize,
                token,
                keys,
                iss_parameter_supported=document.get("authorization_response_iss_parameter_supported") is True,
            )
            entry = _Entry(metadata, now)
            self._entries[issuer] = entry
            return entry

    async def signing_key(self, issuer: str, kid: str | None) -> dict[str, Any]:
        """The provider's key ``kid``: from the keys kept, or fetched again
        when it is unknown (at most once per ``oidc_keys_refresh_seconds``)."""
        entry = await self._entry(issuer)
        key = self._pick(entry, kid)
        if key is not None:
            return key
        async with self._lock:
            now = time.monotonic()
            fetched = entry.keys_fetched_at
            if fetched is None or now - fetched >= self._settings.oidc_keys_refresh_seconds:
                entry.keys_fetched_at = now
                entry.keys = await self._fetch_keys(entry.metadata.jwks_uri)
        key = self._pick(entry, kid)
        if key is None:
            raise ProviderRefusal("id_token_key_unknown")
        return key

    @staticmethod
    def _pick(entry: _Entry, kid: str | None) -> dict[str, Any] | None:
        if kid is not None:
            return entry.keys.get(kid)
        # No key id: only a provider with a single signing key may omit it.
        return next(iter(entry.keys.values())) if len(entry.keys) == 1 else None

    async def _fetch_keys(self, jwks_uri: str) -> dict[str, dict[str, Any]]:
        """The provider's signing keys (JWK), by key id."""
        document = await _get_json(self._settings, jwks_uri, "keys_fetch_failed")
        raw_keys = document.get("keys")
        if not isinstance(raw_keys, list):
            raise ProviderRefusal("keys_fetch_failed")
        return {
            str(raw.get("kid", "")): raw for raw in raw_keys if isinstance(raw, dict) and raw.get("use", "sig") == "sig"
        }


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2, S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def exchange_code(
    settings: Settings,
    metadata: Metadata,
    *,
    client_id: str,
    client_secret: str,
    auth_method: str,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> str:
    """The ID token the provider gives for ``code`` (RFC 6749 §4.1.3, with
    the PKCE verifier); the client authenticates with its secret, in the
    Authorization header (``client_secret_basic``, each part form-encoded as
    RFC 6749 §2.3.1 says) or in the body (``client_secret_post``)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {"Accept": "application/json"}
    if auth_method == "client_secret_post":
        form |= {"client_id": client_id, "client_secret": client_secret}
    else:
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    try:
        async with _http(settings) as http:
            response = await http.post(metadata.token_endpoint, data=form, headers=headers)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise ProviderRefusal("code_exchange_failed") from None
    if response.status_code != 200 or not isinstance(body, dict):
        raise ProviderRefusal("code_exchange_refused")
    id_token = body.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderRefusal("id_token_missing")
    return id_token


async def verify_id_token(
    directory: ProviderDirectory, id_token: str, *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims once it is proved (OpenID Connect Core
    §3.1.3.7): signed by one of the provider's keys with an allowed
    algorithm, by this issuer, for this client (``aud``, ``azp``), not
    expired, issued lately and not in the future, carrying this sign-in's
    nonce.  ``ProviderRefusal`` with the first check that fails."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise ProviderRefusal("id_token_malformed") from None
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise ProviderRefusal("id_token_algorithm_refused")
    kid = header.get("kid")
    jwk = await directory.signing_key(issuer, kid if isinstance(kid, str) else None)
    # A key bound to an algorithm signs with that one only (RFC 7517 §4.4).
    if jwk.get("alg", algorithm) != algorithm:
        raise ProviderRefusal("id_token_algorithm_refused")
    try:
        key = jwt.PyJWK(jwk, algorithm)
    except jwt.PyJWTError:
        raise ProviderRefusal("id_token_algorithm_refused") from None
    try:
        # The times are checked below, against ``clock``.
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key,
            algorithms=[algorithm],
            audience=client_id,
            issuer=issuer,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise ProviderRefusal("id_token_signature") from None
    except jwt.InvalidIssuerError:
        raise ProviderRefusal("id_token_issuer") from None
    except jwt.InvalidAudienceError:
        raise ProviderRefusal("id_token_audience") from None
    except jwt.PyJWTError:
        raise ProviderRefusal("id_token_invalid") from None
    _check_times(claims)
    _check_audience(claims, client_id)
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise ProviderRefusal("id_token_nonce")
    # OpenID Connect Core §2: at most 255 ASCII characters (the link's column holds 255).
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUBJECT_LENGTH or not sub.isascii():
        raise ProviderRefusal("id_token_invalid")
    return claims


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    """For this client alone (OpenID Connect Core §3.1.3.7 (3)-(5)): an
    audience besides it is one the client does not trust, and this client
    trusts none but itself; ``azp``, when present (or with several
    audiences), is this client."""
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if any(audience != client_id for audience in audiences):
        raise ProviderRefusal("id_token_audience")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise ProviderRefusal("id_token_azp")


def _finite(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_times(claims: dict[str, Any]) -> None:
    now = clock()
    expires, issued = claims.get("exp"), claims.get("iat")
    # A number, and a finite one: JSON as Python reads it takes NaN, which no comparison refuses.
    if not _finite(expires) or not _finite(issued):
        raise ProviderRefusal("id_token_invalid")
    if now > expires + LEEWAY_SECONDS:
        raise ProviderRefusal("id_token_expired")
    if issued > now + LEEWAY_SECONDS:
        raise ProviderRefusal("id_token_issued_in_future")
    if issued < now - MAX_ID_TOKEN_AGE_SECONDS - LEEWAY_SECONDS:
        raise ProviderRefusal("id_token_too_old")
    not_before = claims.get("nbf")
    if not_before is not None and not _finite(not_before):
        raise ProviderRefusal("id_token_invalid")
    if not_before is not None and not_before > now + LEEWAY_SECONDS:
        raise ProviderRefusal("id_token_not_yet_valid")


def read_secret(settings: Settings, file_name: str) -> str:
    """The client secret, read from its file in ``SEXTO_OIDC_CLIENT_SECRETS_DIR``
    at each use (a rotated secret is taken without a restart).  The name is
    a plain file name (the registration refuses anything else), so no other
    file can be read through it."""
    folder = settings.oidc_client_secrets_dir
    if folder is None:
        raise ProviderRefusal("sso_not_configured")
    try:
        secret = (folder / file_name).read_text(encoding="utf-8").strip()
    except OSError:
        raise ProviderRefusal("client_secret_unreadable") from None
    if not secret:
        raise ProviderRefusal("client_secret_unreadable")
    return secret
